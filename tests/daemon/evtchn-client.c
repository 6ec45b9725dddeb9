/* SPDX-License-Identifier: MIT */
/*
 * evtchn-client — event channels through altviewd (Manager.OpenEventChannel,
 * org.altview1.EventChannel, and libaltview's av_evtchn_* over altviewd:).
 *
 *   evtchn-client ADDRESS DOMID hold
 *     Opens a handle on its own connection, binds an unbound port for
 *     DOMID, prints the handle's path and the port, and waits to be killed.
 *
 *   evtchn-client ADDRESS DOMID fill
 *     Opens handles until the daemon refuses one, and prints how many it got.
 *
 *   evtchn-client ADDRESS DOMID check
 *     Through libaltview: a port bound and unbound; another's port cannot
 *     be notified; a domain that does not exist is -ESRCH; a handle holds
 *     at most 64 ports and a uid 16 handles (-ENOSPC), and closing one
 *     makes room.  Prints "event channel checks passed".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <altview/altview.h>
#include <systemd/sd-bus.h>

#include "bus-connect.h"
#include "org-altview1.h"

static int fail(const char *what, int r)
{
	fprintf(stderr, "evtchn-client: %s: %s\n", what, r < 0 ? strerror(-r) : "wrong");
	return 1;
}

static int hold(const char *address, uint32_t domid)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	uint32_t port;
	int fds[3], r;
	sd_bus *bus;

	if ((r = av_bus_connect(address, false, &bus)) < 0)
		return fail("connecting", r);
	r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "OpenEventChannel",
			       &error, &reply, "");
	if (r >= 0)
		r = sd_bus_message_read(reply, "ohhh", &path, &fds[0], &fds[1], &fds[2]);
	if (r < 0)
		return fail(error.message ? error.message : "OpenEventChannel", r);
	path = strdup(path);
	sd_bus_message_unref(reply);
	reply = NULL;
	r = sd_bus_call_method(bus, BUS_NAME, path, EVTCHN_IFACE, "BindUnbound", &error, &reply,
			       "u", domid);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &port);
	if (r < 0)
		return fail(error.message ? error.message : "BindUnbound", r);
	printf("%s %u\n", path, port);
	fflush(stdout);
	for (;;)
		pause();
}

static int check(const char *address, uint32_t domid)
{
	char uri[512];
	av_evtchn *xce, *more[16];
	int ports[64], port, r;
	av_hv *hv;

	snprintf(uri, sizeof(uri), "altviewd:%s", address);
	if ((r = av_open(uri, NULL, &hv)) < 0)
		return fail("av_open", r);
	if ((r = av_evtchn_open(hv, NULL, &xce)) < 0)
		return fail("a handle", r);
	if ((port = av_evtchn_bind_unbound_port(xce, domid)) <= 0)
		return fail("an unbound port", port);
	if ((r = av_evtchn_notify(xce, (uint32_t)port)) < 0)
		return fail("notifying a port of this handle", r);
	if ((r = av_evtchn_unbind(xce, (uint32_t)port)) < 0)
		return fail("unbinding it", r);
	if ((r = av_evtchn_notify(xce, (uint32_t)port)) != -ENOENT)
		return fail("notifying a port no longer bound is -ENOENT", r < 0 ? r : 0);
	if ((r = av_evtchn_unbind(xce, (uint32_t)port)) >= 0)
		return fail("unbinding it twice fails", 0);
	if ((r = av_evtchn_bind_unbound_port(xce, 999)) != -ESRCH)
		return fail("a domain that does not exist is -ESRCH", r < 0 ? r : 0);
	for (int i = 0; i < 64; i++)
		if ((ports[i] = av_evtchn_bind_unbound_port(xce, domid)) <= 0)
			return fail("64 ports on one handle", ports[i]);
	if ((r = av_evtchn_bind_unbound_port(xce, domid)) != -ENOSPC)
		return fail("the 65th is -ENOSPC", r < 0 ? r : 0);
	if ((r = av_evtchn_unbind(xce, (uint32_t)ports[0])) < 0 ||
	    (r = av_evtchn_bind_unbound_port(xce, domid)) <= 0)
		return fail("an unbind makes room", r);
	for (int i = 0; i < 15; i++)
		if ((r = av_evtchn_open(hv, NULL, &more[i])) < 0)
			return fail("16 handles", r);
	if ((r = av_evtchn_open(hv, NULL, &more[15])) != -ENOSPC)
		return fail("the 17th is -ENOSPC", r < 0 ? r : 0);
	av_evtchn_close(more[0]);
	if ((r = av_evtchn_open(hv, NULL, &more[0])) < 0)
		return fail("closing one makes room", r);
	for (int i = 0; i < 15; i++)
		av_evtchn_close(more[i]);
	av_evtchn_close(xce);
	av_close(hv);
	printf("event channel checks passed\n");
	return 0;
}

static int fill(const char *address)
{
	char uri[512];
	av_evtchn *xce;
	unsigned int n = 0;
	av_hv *hv;
	int r;

	snprintf(uri, sizeof(uri), "altviewd:%s", address);
	if ((r = av_open(uri, NULL, &hv)) < 0)
		return fail("av_open", r);
	while ((r = av_evtchn_open(hv, NULL, &xce)) == 0 && n < 64)
		n++;
	if (r != -ENOSPC)
		return fail("the handle past the limit is -ENOSPC", r < 0 ? r : 0);
	printf("%u handles\n", n);
	av_close(hv);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: evtchn-client ADDRESS DOMID hold|fill|check\n");
		return 2;
	}
	if (!strcmp(argv[3], "fill"))
		return fill(argv[1]);
	if (!strcmp(argv[3], "hold"))
		return hold(argv[1], (uint32_t)strtoul(argv[2], NULL, 0));
	return check(argv[1], (uint32_t)strtoul(argv[2], NULL, 0));
}
