/* SPDX-License-Identifier: MIT */
/*
 * client.c — monitoring clients on the bus: Domain.Subscribe/Observe/Hold/
 * Release/SetSingleStep, the subscription objects
 * /org/altview1/domain/<id>/client/<n> (org.altview1.Client), and what
 * happens when a client's connection goes away.
 *
 * A connection monitors a domain (struct conn) when it subscribes or holds
 * it paused.  Its subscriptions, holds and the views it creates while it
 * is one belong to its connection: sd_bus_track tells when that closes (or
 * the process dies), and then its pending events get the default answer,
 * its views are destroyed with their vCPUs moved to view 0, and its holds
 * are released.  Only the connection itself or root may change what it owns.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-error.h"
#include "daemon.h"
#include "log.h"

/* ---- connections ---------------------------------------------------------------- */

struct conn *conn_find(struct dom *dom, const char *sender)
{
	for (struct conn *p = dom->conns; p; p = p->next)
		if (sender && !strcmp(p->sender, sender))
			return p;
	return NULL;
}

static bool conn_has_views(struct conn *p)
{
	for (uint32_t i = 0; i < p->dom->max_views; i++)
		if (p->dom->views[i].exists && p->dom->views[i].conn == p)
			return true;
	return false;
}

static void conn_free(struct conn *p)
{
	struct conn **pos;

	for (pos = &p->dom->conns; *pos != p; pos = &(*pos)->next)
		;
	*pos = p->next;
	sd_bus_track_unref(p->track);
	free(p->sender);
	free(p);
}

/* A connection that owns nothing any more is forgotten: its next view is nobody's client view. */
static void conn_maybe_free(struct conn *p)
{
	if (!p->holds && !p->nr_vcpu_holds && !p->nr_subscriptions && !p->requires_access &&
	    !conn_has_views(p))
		conn_free(p);
}

static int on_conn_gone(sd_bus_track *track, void *userdata);

static int conn_ensure(struct dom *dom, sd_bus_message *m, uid_t uid, struct conn **out)
{
	const char *sender = sd_bus_message_get_sender(m);
	struct conn *p = conn_find(dom, sender);
	int r;

	if (p) {
		*out = p;
		return 0;
	}
	if (!sender)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dom = dom;
	p->key = ++dom->daemon->next_serial;
	p->uid = uid;
	p->sender = strdup(sender);
	r = p->sender ? sd_bus_track_new(dom->daemon->bus, &p->track, on_conn_gone, p) : -ENOMEM;
	if (r >= 0)
		r = sd_bus_track_add_name(p->track, sender);
	if (r < 0) {
		sd_bus_track_unref(p->track);
		free(p->sender);
		free(p);
		return r;
	}
	p->next = dom->conns;
	dom->conns = p;
	*out = p;
	return 0;
}

static void subscription_free(struct subscription *c);

/*
 * The view goes, its vCPUs to view 0 first.  Xen moves one vCPU only in an
 * answer: there the whole domain goes back to view 0, the one way to free
 * the view (other clients' vCPUs included; they are steered again at
 * their next event).  An answer collected meanwhile may steer a vCPU back
 * in before the destroy: then it is moved out again, a few rounds at most.
 */
#define EVICT_ROUNDS 8

static void view_evict(struct view *v)
{
	struct dom *dom = v->dom;
	int r = -EBUSY;

	for (int round = 0; r == -EBUSY && round < EVICT_ROUNDS; round++) {
		bool whole = false;

		for (uint32_t vcpu = 0; vcpu < dom->nr_vcpus && !whole; vcpu++) {
			uint32_t in;

			if (av_vcpu_get_view(dom->handle, vcpu, &in) == 0 && in == v->index)
				whole = av_vcpu_switch_view(dom->handle, vcpu, 0) == -EOPNOTSUPP;
		}
		if (whole)
			av_view_switch(dom->handle, 0);
		r = av_view_destroy(dom->handle, v->index);
	}
	if (r < 0 && r != -ESRCH)
		log_warning("domain %" PRIu32 ": failed to destroy view %" PRIu32 ": %s", dom->id,
			    v->index, av_strerror(r));
	view_forget(v);
}

/* The core's setting follows the spec and the clients that require access. */
static int access_requirement_apply(struct dom *dom)
{
	bool required = dom->spec_access_required || dom->access_requirers;
	int r;

	r = av_domain_set_access_required(dom->handle, required);
	if (r >= 0)
		sd_bus_emit_properties_changed(dom->daemon->bus, dom->path, DOMAIN_IFACE,
					       "AccessRequired", NULL);
	return r;
}

static void access_requirement_drop(struct conn *p)
{
	p->requires_access = false;
	p->dom->access_requirers--;
	access_requirement_apply(p->dom);
}

/* Subscriptions first: their pending events are answered before views go from under them. */
static void conn_drop(struct conn *p)
{
	struct dom *dom = p->dom;
	struct subscription *c, *next;
	unsigned int views = 0;

	for (c = dom->subscriptions; c; c = next) {
		next = c->next;
		if (c->conn == p)
			subscription_free(c);
	}
	for (uint32_t i = 0; i < dom->max_views; i++) {
		if (dom->views[i].exists && dom->views[i].conn == p) {
			view_evict(&dom->views[i]);
			views++;
		}
	}
	if (p->holds) {
		av_domain_unpause(dom->handle);
		p->holds = false;
		dom->holds--;
		sd_bus_emit_properties_changed(dom->daemon->bus, dom->path, DOMAIN_IFACE, "Paused", NULL);
	}
	for (uint32_t v = 0; p->nr_vcpu_holds && v < dom->nr_vcpus; v++) {
		if (p->vcpu_held[v / 64] & (UINT64_C(1) << (v % 64))) {
			av_vcpu_unpause(dom->handle, v);
			dom->vcpu_holds[v]--;
			p->nr_vcpu_holds--;
		}
	}
	if (p->requires_access)
		access_requirement_drop(p);
	log_info("domain %" PRIu32 ": client %s gone: %u views destroyed", dom->id, p->sender, views);
	conn_free(p);
	dom_refresh(dom);
}

static int on_conn_gone(sd_bus_track *track, void *userdata)
{
	conn_drop(userdata);
	return 0;
}

bool conn_awaits(struct dom *dom, const char *sender, uint32_t vcpu)
{
	for (struct subscription *c = dom->subscriptions; c; c = c->next)
		if (sender && !strcmp(c->conn->sender, sender) && !c->sink->signals &&
		    sink_awaits(c->sink, vcpu))
			return true;
	return false;
}

void conns_drop(struct dom *dom)
{
	while (dom->conns)
		conn_drop(dom->conns);
}

/*
 * Access is checked per call, but a subscription made before a reload
 * would go on receiving events and steering vCPUs with its answers: a
 * client whose uid lost access loses its subscriptions, views and holds.
 */
void conns_revoke(struct daemon *daemon)
{
	for (struct dom *dom = daemon->domains; dom; dom = dom->next) {
		struct conn *p = dom->conns, *next;

		for (; p; p = next) {
			next = p->next;
			if (uid_allowed(daemon, p->uid))
				continue;
			log_info("domain %" PRIu32 ": client %s (uid %u) may no longer call altviewd",
				 dom->id, p->sender, (unsigned int)p->uid);
			conn_drop(p);
		}
	}
}

/* ---- filters ------------------------------------------------------------------- */

static void bit_set(uint64_t *bits, uint32_t i)
{
	bits[i / 64] |= UINT64_C(1) << (i % 64);
}

static int read_kinds(sd_bus_message *m, struct filter *f, sd_bus_error *error)
{
	const char *name;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "s");
	while (r >= 0 && (r = sd_bus_message_read(m, "s", &name)) > 0) {
		enum av_event_kind k;

		if (event_kind_from_name(name, &k) < 0)
			return av_bus_error_set(error, -EINVAL, "filter \"kinds\": unknown kind \"%s\": "
						"mem_access, breakpoint, singlestep, cpuid or "
						"guest_request", name);
		f->kinds |= AV_EVENT_BIT(k);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* "vcpus" or "views": indices below @limit; an empty list would select nothing. */
static int read_indices(sd_bus_message *m, const char *key, uint32_t limit, uint64_t *bits,
			sd_bus_error *error)
{
	const uint32_t *v;
	size_t size;
	int r;

	r = sd_bus_message_read_array(m, 'u', (const void **)&v, &size);
	if (r < 0)
		return r;
	if (!size)
		return av_bus_error_set(error, -EINVAL, "filter \"%s\": an empty list selects nothing "
					"(leave the key out for all)", key);
	for (size_t i = 0; i < size / sizeof(*v); i++) {
		if (v[i] >= limit)
			return av_bus_error_set(error, -EINVAL, "filter \"%s\": %" PRIu32
						" is out of range (below %" PRIu32 ")", key, v[i],
						limit);
		bit_set(bits, v[i]);
	}
	return 0;
}

static int read_gfns(sd_bus_message *m, struct dom *dom, struct filter *f, sd_bus_error *error)
{
	uint64_t pages = dom->memory_bytes / AV_PAGE_SIZE, first, last;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "(tt)");
	while (r >= 0 && (r = sd_bus_message_read(m, "(tt)", &first, &last)) > 0) {
		if (first > last || last >= pages)
			return av_bus_error_set(error, -EINVAL, "filter \"gfns\": [0x%" PRIx64 ", 0x%"
						PRIx64 "] is not a range of the domain's gfns "
						"(0..0x%" PRIx64 ")", first, last, pages - 1);
		if (f->nr_gfn_ranges == FILTER_MAX_GFN_RANGES)
			return av_bus_error_set(error, -E2BIG, "filter \"gfns\": more than %d ranges",
						FILTER_MAX_GFN_RANGES);
		f->gfns[f->nr_gfn_ranges].first = first;
		f->gfns[f->nr_gfn_ranges++].last = last;
	}
	if (r >= 0 && !f->nr_gfn_ranges)
		return av_bus_error_set(error, -EINVAL, "filter \"gfns\": an empty list selects "
					"nothing (leave the key out for all)");
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/*
 * Reads an a{sv} filter.  @ring_entries is NULL where no channel is made
 * (Observe, SetFilter), and the key is refused there.
 */
static int filter_read(sd_bus_message *m, struct dom *dom, struct filter *f,
		       uint32_t *ring_entries, sd_bus_error *error)
{
	static const struct {
		const char *key, *type;
	} keys[] = {
		{ "kinds", "as" }, { "vcpus", "au" }, { "views", "au" }, { "gfns", "a(tt)" },
		{ "priority", "i" }, { "ring_entries", "u" },
	};
	const char *key;
	int r;

	*f = (struct filter){ .any_vcpu = true, .any_view = true };
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		size_t i;

		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i].key))
				break;
		if (i == sizeof(keys) / sizeof(keys[0]) || (!ring_entries && i == 5))
			return av_bus_error_set(error, -EINVAL, "unknown filter key \"%s\": kinds, "
						"vcpus, views, gfns, priority%s", key,
						ring_entries ? ", ring_entries" : "");
		r = sd_bus_message_enter_container(m, 'v', keys[i].type);
		if (r < 0)
			return av_bus_error_set(error, -EINVAL, "filter \"%s\": expected a value "
						"of type %s", key, keys[i].type);
		switch (i) {
		case 0: r = read_kinds(m, f, error); break;
		case 1:
			f->any_vcpu = false;
			r = read_indices(m, key, dom->nr_vcpus, f->vcpus, error);
			break;
		case 2:
			f->any_view = false;
			r = read_indices(m, key, ALTVIEW_MAX_VIEWS, f->views, error);
			break;
		case 3: r = read_gfns(m, dom, f, error); break;
		case 4: r = sd_bus_message_read(m, "i", &f->priority); break;
		default:
			r = sd_bus_message_read(m, "u", ring_entries);
			if (r >= 0 && (*ring_entries < 1 || *ring_entries > CHANNEL_RING_MAX ||
				       (*ring_entries & (*ring_entries - 1))))
				r = av_bus_error_set(error, -EINVAL, "filter \"ring_entries\": %" PRIu32
						     " is not a power of two from 1 to %d",
						     *ring_entries, CHANNEL_RING_MAX);
			break;
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* ---- subscriptions --------------------------------------------------------------- */

struct subscription *subscription_find(struct dom *dom, uint32_t id)
{
	for (struct subscription *c = dom->subscriptions; c; c = c->next)
		if (c->sink->id == id)
			return c;
	return NULL;
}

static void subscription_free(struct subscription *c)
{
	struct dom *dom = c->dom;
	struct subscription **pos;

	monitor_remove(dom->monitor, c->sink);
	sd_bus_emit_object_removed(dom->daemon->bus, c->sink->path);
	sd_bus_emit_properties_changed(dom->daemon->bus, dom->path, DOMAIN_IFACE, "Clients", NULL);
	for (pos = &dom->subscriptions; *pos != c; pos = &(*pos)->next)
		;
	*pos = c->next;
	c->conn->nr_subscriptions--;
	log_debug("domain %" PRIu32 ": %s closed", dom->id, c->sink->path);
	sink_unref(c->sink);
	free(c);
}

/*
 * Unicast, to the subscriber alone: guest state (gfns, rip) is for the
 * client that asked, not for whoever matches on the interface.
 */
static void emit_event(void *ctx, const struct sink *sink, const struct event_note *n)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	struct daemon *daemon = ctx;
	char access[4] = "";
	int r;

	if (n->kind == AV_EVENT_MEM_ACCESS)
		snprintf(access, sizeof(access), "%s%s%s", n->access & AV_MEM_R ? "r" : "",
			 n->access & AV_MEM_W ? "w" : "", n->access & AV_MEM_X ? "x" : "");
	r = sd_bus_message_new_signal(daemon->bus, &m, sink->path, CLIENT_IFACE, "Event");
	if (r >= 0)
		r = sd_bus_message_set_destination(m, sink->destination);
	if (r >= 0)
		r = sd_bus_message_append(m, "suutstb", event_kind_name(n->kind), n->vcpu, n->view,
					  n->gfn, access, n->rip, (int)n->sync);
	if (r >= 0)
		r = sd_bus_send(daemon->bus, m, NULL);
	if (r < 0)
		log_debug("%s: Event signal not sent: %s", sink->path, strerror(-r));
}

static int monitor_ensure(struct dom *dom, struct monitor **out)
{
	struct daemon *daemon = dom->daemon;
	int r;

	if (dom->monitor && monitor_broken(dom->monitor)) {
		/* Nothing comes through it any more: its subscriptions end, as if closed. */
		while (dom->subscriptions) {
			struct conn *p = dom->subscriptions->conn;

			subscription_free(dom->subscriptions);
			conn_maybe_free(p);
		}
		monitor_free(dom->monitor);
		dom->monitor = NULL;
	}
	if (!dom->monitor) {
		if (!daemon->signals) {
			r = signal_queue_new(daemon->base, emit_event, daemon, &daemon->signals);
			if (r < 0)
				return r;
		}
		r = monitor_new(dom->handle, dom->id, dom->nr_vcpus, daemon->signals,
				CONFIG_MAX_SUBSCRIPTIONS, &dom->monitor);
		if (r < 0)
			return r;
		monitor_set_answers(dom->monitor, (int)daemon->config.monitor.response_timeout_ms,
				    daemon->config.monitor.default_answer);
		dom_views_publish(dom);
	}
	*out = dom->monitor;
	return 0;
}

void monitors_configure(struct daemon *daemon)
{
	for (struct dom *dom = daemon->domains; dom; dom = dom->next)
		if (dom->monitor)
			monitor_set_answers(dom->monitor, (int)daemon->config.monitor.response_timeout_ms,
					    daemon->config.monitor.default_answer);
}

/* Subscribe (a channel) and Observe (Event signals). */
static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct daemon *daemon = dom->daemon;
	bool signals = !strcmp(sd_bus_message_get_member(m), "Observe");
	uint32_t ring_entries = CHANNEL_RING_DEFAULT, nr = 0;
	struct monitor *mon;
	struct filter f;
	struct subscription *c;
	struct conn *p;
	struct sink *sink;
	int memfd = -1;
	uid_t uid;
	int r;

	r = filter_read(m, dom, &f, signals ? NULL : &ring_entries, error);
	if (r < 0)
		return r;
	r = caller_check(daemon, m, &uid, error);
	if (r < 0)
		return r;
	if (!dom->nr_vcpus)
		return av_bus_error_set(error, -EINVAL, "domain %" PRIu32 " has no vCPUs to monitor",
					dom->id);
	for (c = dom->subscriptions; c; c = c->next)
		nr++;
	if (nr >= daemon->config.limits.max_subscriptions)
		return av_bus_error_set(error, -ENOSPC, "domain %" PRIu32 " has %" PRIu32
					" subscriptions: the limit (limits.max_subscriptions)",
					dom->id, nr);
	daemon_clear_error();
	r = monitor_ensure(dom, &mon);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	r = conn_ensure(dom, m, uid, &p);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	r = c ? sink_new(mon, signals, ring_entries, p->sender, &memfd, &sink) : -ENOMEM;
	if (r < 0) {
		free(c);
		conn_maybe_free(p);
		return r;
	}
	sink->filter = f;
	sink->serial = ++daemon->next_serial;
	sink->conn_key = p->key;
	sink->uid = uid;
	sink->id = dom->next_subscription_id++;
	snprintf(sink->path, sizeof(sink->path), CLIENT_PATH_FMT, dom->id, sink->id);
	*c = (struct subscription){ .dom = dom, .conn = p, .sink = sink };
	r = monitor_add(mon, sink);
	if (r < 0) {
		if (memfd >= 0)
			close(memfd);
		sink_unref(sink);
		free(c);
		conn_maybe_free(p);
		return daemon_reply_error(error, r, "");
	}
	c->next = dom->subscriptions;
	dom->subscriptions = c;
	p->nr_subscriptions++;
	sd_bus_emit_object_added(daemon->bus, c->sink->path);
	sd_bus_emit_properties_changed(daemon->bus, dom->path, DOMAIN_IFACE, "Clients", NULL);
	log_debug("domain %" PRIu32 ": %s for %s", dom->id, c->sink->path, p->sender);
	if (signals)
		return sd_bus_reply_method_return(m, "o", c->sink->path);
	/* The reply carries copies of the descriptors: the memfd is the client's alone now. */
	r = sd_bus_reply_method_return(m, "ohh", c->sink->path, memfd, sink->notify_fd);
	close(memfd);
	return r;
}

static int method_hold(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	bool hold = !strcmp(sd_bus_message_get_member(m), "Hold");
	struct conn *p;
	uid_t uid;
	int r;

	r = caller_check(dom->daemon, m, &uid, error);
	if (r < 0)
		return r;
	p = conn_find(dom, sd_bus_message_get_sender(m));
	if (hold && !p) {
		r = conn_ensure(dom, m, uid, &p);
		if (r < 0)
			return r;
	}
	if (!p || p->holds == hold) {
		if (p)
			conn_maybe_free(p);
		return av_bus_error_set(error, -EALREADY, "domain %" PRIu32 " is %s held by this client",
					dom->id, hold ? "already" : "not");
	}
	daemon_clear_error();
	r = hold ? av_domain_pause(dom->handle) : av_domain_unpause(dom->handle);
	if (r < 0) {
		conn_maybe_free(p);
		return daemon_reply_error(error, r, "");
	}
	p->holds = hold;
	dom->holds += hold ? 1 : -1;
	if (!hold)
		conn_maybe_free(p);
	sd_bus_emit_properties_changed(dom->daemon->bus, dom->path, DOMAIN_IFACE, "Paused", NULL);
	dom_refresh(dom);
	return sd_bus_reply_method_return(m, NULL);
}

/* One pause level of one vCPU per client, undone when the client goes (av_vcpu_pause). */
static int method_hold_vcpu(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	bool hold = !strcmp(sd_bus_message_get_member(m), "HoldVcpu");
	uint64_t bit;
	struct conn *p;
	uint32_t vcpu;
	uid_t uid;
	int r;

	r = sd_bus_message_read(m, "u", &vcpu);
	if (r >= 0)
		r = caller_check(dom->daemon, m, &uid, error);
	if (r >= 0)
		r = vcpu_check(dom, vcpu, error);
	if (r < 0)
		return r;
	bit = UINT64_C(1) << (vcpu % 64);
	p = conn_find(dom, sd_bus_message_get_sender(m));
	if (hold && !p) {
		r = conn_ensure(dom, m, uid, &p);
		if (r < 0)
			return r;
	}
	if (!p || !!(p->vcpu_held[vcpu / 64] & bit) == hold) {
		if (p)
			conn_maybe_free(p);
		return av_bus_error_set(error, -EALREADY, "vCPU %" PRIu32 " is %s held by this client",
					vcpu, hold ? "already" : "not");
	}
	daemon_clear_error();
	r = hold ? av_vcpu_pause(dom->handle, vcpu) : av_vcpu_unpause(dom->handle, vcpu);
	if (r < 0) {
		conn_maybe_free(p);
		return daemon_reply_error(error, r, "");
	}
	p->vcpu_held[vcpu / 64] ^= bit;
	p->nr_vcpu_holds += hold ? 1 : -1;
	dom->vcpu_holds[vcpu] += hold ? 1 : -1;
	if (!hold)
		conn_maybe_free(p);
	return sd_bus_reply_method_return(m, NULL);
}

bool vcpu_held(struct dom *dom, uint32_t vcpu)
{
	return dom->paused || dom->holds || dom->vcpu_holds[vcpu];
}

/*
 * Xen's xc_domain_set_access_required, for as long as the client is
 * connected: a client that goes takes its requirement with it, so no
 * departed monitor leaves the guest to crash at its next trapped access.
 */
static int method_set_access_required(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct conn *p;
	int required, r;
	uid_t uid;

	r = sd_bus_message_read(m, "b", &required);
	if (r >= 0)
		r = caller_check(dom->daemon, m, &uid, error);
	if (r < 0)
		return r;
	p = conn_find(dom, sd_bus_message_get_sender(m));
	if (required && !p) {
		r = conn_ensure(dom, m, uid, &p);
		if (r < 0)
			return r;
	}
	if (!p || p->requires_access == !!required) {
		if (p)
			conn_maybe_free(p);
		return sd_bus_reply_method_return(m, NULL);
	}
	p->requires_access = required;
	dom->access_requirers += required ? 1 : -1;
	daemon_clear_error();
	r = access_requirement_apply(dom);
	if (r < 0) {
		p->requires_access = !required;
		dom->access_requirers += required ? -1 : 1;
		conn_maybe_free(p);
		return daemon_reply_error(error, r, "");
	}
	conn_maybe_free(p);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_singlestep(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	uint32_t vcpu;
	int enable, r;

	r = sd_bus_message_read(m, "ub", &vcpu, &enable);
	if (r < 0)
		return r;
	r = caller_check(dom->daemon, m, NULL, error);
	if (r >= 0)
		r = vcpu_check(dom, vcpu, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_vcpu_set_singlestep(dom->handle, vcpu, enable);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable domain_monitor_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("Subscribe", SD_BUS_ARGS("a{sv}", filter),
				SD_BUS_RESULT("o", client, "h", channel, "h", notify),
				method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Observe", SD_BUS_ARGS("a{sv}", filter), SD_BUS_RESULT("o", client),
				method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Hold", "", "", method_hold, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Release", "", "", method_hold, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("HoldVcpu", SD_BUS_ARGS("u", vcpu), SD_BUS_NO_RESULT,
				method_hold_vcpu, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ReleaseVcpu", SD_BUS_ARGS("u", vcpu), SD_BUS_NO_RESULT,
				method_hold_vcpu, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetAccessRequired", SD_BUS_ARGS("b", required), SD_BUS_NO_RESULT,
				method_set_access_required, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetSingleStep", SD_BUS_ARGS("u", vcpu, "b", enable),
				SD_BUS_NO_RESULT, method_set_singlestep, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

/* ---- org.altview1.Client --------------------------------------------------------- */

static int subscription_owner_check(struct subscription *c, sd_bus_message *m, sd_bus_error *error)
{
	uid_t uid;
	int r;

	r = caller_check(c->dom->daemon, m, &uid, error);
	if (r < 0)
		return r;
	if (uid != 0 && strcmp(sd_bus_message_get_sender(m), c->conn->sender))
		return av_bus_error_set(error, -EACCES, "%s belongs to client %s", c->sink->path,
					c->conn->sender);
	return 0;
}

static int method_set_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct subscription *c = userdata;
	struct filter f;
	int r;

	r = filter_read(m, c->dom, &f, NULL, error);
	if (r < 0)
		return r;
	r = subscription_owner_check(c, m, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = monitor_set_filter(c->dom->monitor, c->sink, &f);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	sd_bus_emit_properties_changed(c->dom->daemon->bus, c->sink->path, CLIENT_IFACE, "Kinds",
				       "Priority", NULL);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_close(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct subscription *c = userdata;
	struct conn *p = c->conn;
	int r;

	r = subscription_owner_check(c, m, error);
	if (r < 0)
		return r;
	subscription_free(c);
	conn_maybe_free(p);
	return sd_bus_reply_method_return(m, NULL);
}

static int property_subscription(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct subscription *c = userdata;
	struct sink *s = c->sink;
	struct filter f;
	int r;

	if (!strcmp(prop, "Domain"))
		return sd_bus_message_append(reply, "o", c->dom->path);
	if (!strcmp(prop, "Owner"))
		return sd_bus_message_append(reply, "u", (uint32_t)c->conn->uid);
	if (!strcmp(prop, "Sender"))
		return sd_bus_message_append(reply, "s", c->conn->sender);
	if (!strcmp(prop, "Delivery"))
		return sd_bus_message_append(reply, "s", s->signals ? "signals" : "channel");
	if (!strcmp(prop, "Events"))
		return sd_bus_message_append(reply, "t", atomic_load(&s->events));
	if (!strcmp(prop, "Dropped"))
		return sd_bus_message_append(reply, "t", atomic_load(&s->dropped));
	if (!strcmp(prop, "Expired"))
		return sd_bus_message_append(reply, "t", atomic_load(&s->expired));
	if (!strcmp(prop, "BadAnswers"))
		return sd_bus_message_append(reply, "t", atomic_load(&s->bad_answers));
	pthread_mutex_lock(&c->dom->monitor->lock);
	f = s->filter;
	pthread_mutex_unlock(&c->dom->monitor->lock);
	if (!strcmp(prop, "Priority"))
		return sd_bus_message_append(reply, "i", f.priority);
	r = sd_bus_message_open_container(reply, 'a', "s");
	for (int k = AV_EVENT_MEM_ACCESS; r >= 0 && k < AV_EVENT__MAX; k++)
		if (f.kinds & AV_EVENT_BIT(k))
			r = sd_bus_message_append(reply, "s", event_kind_name(k));
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable subscription_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Domain", "o", property_subscription, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Owner", "u", property_subscription, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Sender", "s", property_subscription, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Delivery", "s", property_subscription, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Kinds", "as", property_subscription, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Priority", "i", property_subscription, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/* Counters change with every event: read them, do not wait for signals. */
	SD_BUS_PROPERTY("Events", "t", property_subscription, 0, 0),
	SD_BUS_PROPERTY("Dropped", "t", property_subscription, 0, 0),
	SD_BUS_PROPERTY("Expired", "t", property_subscription, 0, 0),
	SD_BUS_PROPERTY("BadAnswers", "t", property_subscription, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("SetFilter", SD_BUS_ARGS("a{sv}", filter), SD_BUS_NO_RESULT,
				method_set_filter, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Close", "", "", method_close, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("Event", SD_BUS_ARGS("s", kind, "u", vcpu, "u", view, "t", gfn,
						     "s", access, "t", rip, "b", sync), 0),
	SD_BUS_VTABLE_END,
};

int subscriptions_register(struct daemon *daemon, sd_bus_object_find_t find)
{
	return sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, CLIENT_IFACE,
					  subscription_vtable, find, daemon);
}
