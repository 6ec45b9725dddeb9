/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c — event channels for clients (org.altview1.EventChannel): the
 * daemon opens a dom0 handle per OpenEventChannel and binds ports on it
 * at the client's request; the client gets the handle's shared state and
 * eventfds and waits, takes pending ports, unmasks and notifies in its own
 * process.  The core sends a client's notifications only on ports bound to
 * its handle, so whatever the client writes into that memory reaches no
 * other port.  A handle and its ports go with the connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "daemon.h"
#include "log.h"

/*
 * Per uid (a uid may open any number of connections), and ports per
 * handle: dom0's 4096 ports are shared by every client, and one uid must
 * not take them all.
 */
#define MAX_HANDLES 16
#define MAX_PORTS 64

struct evtchn_handle {
	struct daemon *daemon;
	struct evtchn_handle *next;
	uint64_t id;
	char path[OBJECT_PATH_MAX];
	char *sender;
	uid_t uid;
	sd_bus_track *track;
	sd_bus_slot *slot;
	av_evtchn *xce;
	unsigned int nr_ports;
};

static void handle_free(struct evtchn_handle *h)
{
	struct evtchn_handle **p;

	for (p = &h->daemon->evtchns; *p && *p != h; p = &(*p)->next)
		;
	if (*p)
		*p = h->next;
	av_evtchn_close(h->xce);
	sd_bus_slot_unref(h->slot);
	sd_bus_track_unref(h->track);
	free(h->sender);
	free(h);
}

void evtchns_drop(struct daemon *daemon)
{
	while (daemon->evtchns)
		handle_free(daemon->evtchns);
}

static int on_conn_gone(sd_bus_track *track, void *userdata)
{
	handle_free(userdata);
	return 0;
}

/* Only the connection that opened the handle may use it. */
static int handle_check(struct evtchn_handle *h, sd_bus_message *m, sd_bus_error *error)
{
	const char *sender = sd_bus_message_get_sender(m);

	if (!sender || strcmp(sender, h->sender))
		return av_bus_error_set(error, -EACCES, "event channel %" PRIu64 " is another "
					"connection's", h->id);
	return caller_check(h->daemon, m, NULL, error);
}

static int bind_check(struct evtchn_handle *h, sd_bus_message *m, uint32_t domid,
		      sd_bus_error *error)
{
	int r = handle_check(h, m, error);

	if (r < 0)
		return r;
	if (!dom_find(h->daemon, domid))
		return av_bus_error_set(error, -ESRCH, "no domain %" PRIu32, domid);
	if (h->nr_ports >= MAX_PORTS)
		return av_bus_error_set(error, -ENOSPC, "%u ports bound on this handle already",
					h->nr_ports);
	return 0;
}

static int bound(struct evtchn_handle *h, sd_bus_message *m, int port, sd_bus_error *error)
{
	if (port < 0)
		return daemon_reply_error(error, port, "");
	h->nr_ports++;
	return sd_bus_reply_method_return(m, "u", (uint32_t)port);
}

static int method_bind_interdomain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct evtchn_handle *h = userdata;
	uint32_t domid, remote;
	int r;

	r = sd_bus_message_read(m, "uu", &domid, &remote);
	if (r >= 0)
		r = bind_check(h, m, domid, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	return bound(h, m, av_evtchn_bind_interdomain(h->xce, domid, remote), error);
}

static int method_bind_unbound(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct evtchn_handle *h = userdata;
	uint32_t domid;
	int r;

	r = sd_bus_message_read(m, "u", &domid);
	if (r >= 0)
		r = bind_check(h, m, domid, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	return bound(h, m, av_evtchn_bind_unbound_port(h->xce, domid), error);
}

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct evtchn_handle *h = userdata;
	uint32_t port;
	int r;

	r = sd_bus_message_read(m, "u", &port);
	if (r >= 0)
		r = handle_check(h, m, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_evtchn_unbind(h->xce, port);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	h->nr_ports--;
	return sd_bus_reply_method_return(m, NULL);
}

static int method_close(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct evtchn_handle *h = userdata;
	int r = handle_check(h, m, error);

	if (r < 0)
		return r;
	handle_free(h);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable evtchn_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("BindInterdomain", SD_BUS_ARGS("u", domid, "u", remote_port),
				SD_BUS_RESULT("u", port), method_bind_interdomain,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("BindUnbound", SD_BUS_ARGS("u", domid), SD_BUS_RESULT("u", port),
				method_bind_unbound, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Unbind", SD_BUS_ARGS("u", port), SD_BUS_NO_RESULT, method_unbind,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Close", "", "", method_close, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static unsigned int handles_of(struct daemon *daemon, uid_t uid)
{
	unsigned int n = 0;

	for (struct evtchn_handle *h = daemon->evtchns; h; h = h->next)
		n += h->uid == uid;
	return n;
}

static int handle_new(struct daemon *daemon, const char *sender, uid_t uid,
		      struct evtchn_handle **out)
{
	struct evtchn_handle *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->daemon = daemon;
	h->uid = uid;
	h->id = ++daemon->next_serial;
	snprintf(h->path, sizeof(h->path), EVTCHN_PATH_FMT, h->id);
	h->sender = strdup(sender);
	r = h->sender ? 0 : -ENOMEM;
	if (r == 0)
		r = sd_bus_track_new(daemon->bus, &h->track, on_conn_gone, h);
	if (r >= 0)
		r = sd_bus_track_add_name(h->track, sender);
	if (r >= 0)
		r = av_evtchn_open(daemon->hv, NULL, &h->xce);
	if (r >= 0)
		r = sd_bus_add_object_vtable(daemon->bus, &h->slot, h->path, EVTCHN_IFACE,
					     evtchn_vtable, h);
	if (r < 0) {
		handle_free(h);
		return r;
	}
	h->next = daemon->evtchns;
	daemon->evtchns = h;
	*out = h;
	return 0;
}

static int method_open_event_channel(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *daemon = userdata;
	const char *sender = sd_bus_message_get_sender(m);
	struct evtchn_handle *h;
	int shared, up, down, r;
	uid_t uid;

	r = caller_check(daemon, m, &uid, error);
	if (r < 0)
		return r;
	if (!sender)
		return -EINVAL;
	if (handles_of(daemon, uid) >= MAX_HANDLES)
		return av_bus_error_set(error, -ENOSPC, "uid %u has %u event channel handles open "
					"already: close one first", (unsigned int)uid, MAX_HANDLES);
	daemon_clear_error();
	r = handle_new(daemon, sender, uid, &h);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	r = av_evtchn_export(h->xce, &shared, &up, &down);
	if (r < 0) {
		handle_free(h);
		return daemon_reply_error(error, r, "");
	}
	r = sd_bus_reply_method_return(m, "ohhh", h->path, shared, up, down);
	if (r < 0)
		handle_free(h);
	return r;
}

const sd_bus_vtable evtchn_manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("OpenEventChannel", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("o", handle, "h", shared, "h", fired, "h", notify),
				method_open_event_channel, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
