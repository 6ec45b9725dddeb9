/* SPDX-License-Identifier: MIT */
/*
 * domain.c — the domain table and /org/altview1/domain/<id>
 * (org.altview1.Domain).
 *
 * The daemon keeps a libaltview handle per live domain and a copy of what
 * it last published (state, each vCPU's view).  A guest changes those by
 * itself — it crashes, a monitor switches its view — so a timer compares
 * and emits PropertiesChanged; the methods here refresh at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "daemon.h"
#include "log.h"
#include "utf8.h"

/* A domain's objects: its own path, and view paths under it. */
static int parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	/* Decimal, no sign, no leading zero: one spelling per path. */
	if (!len || len > 10 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Splits "/org/altview1/domain/<id>[/<segment>/<n>]": *@index is UINT32_MAX
 * for a domain's own path; a path under another segment is no match.
 */
static int parse_path(const char *path, const char *segment, uint32_t *id, uint32_t *index)
{
	const char *p, *slash;
	size_t len;

	if (strncmp(path, DOMAIN_PREFIX "/", sizeof(DOMAIN_PREFIX)))
		return -EINVAL;
	p = path + sizeof(DOMAIN_PREFIX);
	slash = strchr(p, '/');
	if (parse_u32(p, slash ? (size_t)(slash - p) : strlen(p), id) < 0)
		return -EINVAL;
	*index = UINT32_MAX;
	if (!slash)
		return 0;
	len = segment ? strlen(segment) : 0;
	if (!segment || strncmp(slash + 1, segment, len) || slash[len + 1] != '/')
		return -EINVAL;
	p = slash + len + 2;
	return parse_u32(p, strlen(p), index);
}

struct dom *dom_find(struct daemon *daemon, uint32_t id)
{
	for (struct dom *dom = daemon->domains; dom; dom = dom->next)
		if (dom->id == id)
			return dom;
	return NULL;
}

struct dom *dom_find_name(struct daemon *daemon, const char *name)
{
	for (struct dom *dom = daemon->domains; dom; dom = dom->next)
		if (!strcmp(dom->name, name))
			return dom;
	return NULL;
}

static int domain_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		       void **found, sd_bus_error *error)
{
	uint32_t id, view;
	struct dom *dom;

	if (parse_path(path, NULL, &id, &view) < 0)
		return 0;
	dom = dom_find(userdata, id);
	if (!dom)
		return 0;
	*found = dom;
	return 1;
}

static int view_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		     void **found, sd_bus_error *error)
{
	uint32_t id, index;
	struct dom *dom;

	if (parse_path(path, "view", &id, &index) < 0 || index == UINT32_MAX)
		return 0;
	dom = dom_find(userdata, id);
	if (!dom || index >= dom->max_views || !dom->views[index].exists)
		return 0;
	*found = &dom->views[index];
	return 1;
}

static int subscription_lookup(sd_bus *bus, const char *path, const char *iface, void *userdata,
			 void **found, sd_bus_error *error)
{
	uint32_t id, index;
	struct dom *dom;

	if (parse_path(path, "client", &id, &index) < 0 || index == UINT32_MAX)
		return 0;
	dom = dom_find(userdata, id);
	*found = dom ? subscription_find(dom, index) : NULL;
	return *found != NULL;
}

static int enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
		     sd_bus_error *error)
{
	struct daemon *daemon = userdata;
	size_t n = 0, cap = 1;
	char **list;

	for (struct dom *dom = daemon->domains; dom; dom = dom->next) {
		cap++;
		for (uint32_t i = 0; i < dom->max_views; i++)
			cap += dom->views[i].exists;
		for (struct subscription *c = dom->subscriptions; c; c = c->next)
			cap++;
	}
	list = calloc(cap, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (struct dom *dom = daemon->domains; dom; dom = dom->next) {
		list[n] = strdup(dom->path);
		if (!list[n++])
			goto oom;
		for (uint32_t i = 0; i < dom->max_views; i++) {
			char path[OBJECT_PATH_MAX];

			if (!dom->views[i].exists)
				continue;
			view_path(&dom->views[i], path);
			list[n] = strdup(path);
			if (!list[n++])
				goto oom;
		}
		for (struct subscription *c = dom->subscriptions; c; c = c->next) {
			list[n] = strdup(c->sink->path);
			if (!list[n++])
				goto oom;
		}
	}
	*nodes = list;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -ENOMEM;
}

static const char *state_name(enum av_domain_state s)
{
	switch (s) {
	case AV_DOMAIN_RUNNING: return "running";
	case AV_DOMAIN_PAUSED: return "paused";
	case AV_DOMAIN_CRASHED: return "crashed";
	case AV_DOMAIN_DYING: return "dying";
	}
	return "unknown";
}

/* ---- the table ------------------------------------------------------------------- */

static void dom_free(struct dom *dom)
{
	if (!dom)
		return;
	if (dom->handle)
		av_domain_close(dom->handle);
	free(dom->active_views);
	free(dom->views);
	free(dom);
}

int dom_add(struct daemon *daemon, av_domain *handle, struct dom **out)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	struct dom *dom, **pos;
	int r;

	r = av_domain_get_info(handle, &info);
	if (r < 0)
		return r;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	*dom = (struct dom){
		.daemon = daemon,
		.handle = handle,
		.id = info.id,
		.nr_vcpus = info.nr_vcpus,
		.memory_bytes = info.memory_bytes,
		.state = info.state,
	};
	/* Published on the bus: text D-Bus carries, whatever the backend had. */
	utf8_copy(dom->name, sizeof(dom->name), info.name);
	utf8_copy(dom->crash_reason, sizeof(dom->crash_reason), info.crash_reason);
	snprintf(dom->path, sizeof(dom->path), DOMAIN_PATH_FMT, dom->id);
	dom->active_views = calloc(dom->nr_vcpus ? dom->nr_vcpus : 1, sizeof(uint32_t));
	if (!dom->active_views) {
		dom->handle = NULL;
		dom_free(dom);
		return -ENOMEM;
	}
	for (pos = &daemon->domains; *pos && (*pos)->id < dom->id; pos = &(*pos)->next)
		;
	dom->next = *pos;
	*pos = dom;
	daemon->nr_domains++;
	sd_bus_emit_object_added(daemon->bus, dom->path);
	manager_status(daemon);
	if (out)
		*out = dom;
	return 0;
}

/* Tells the monitor who may switch vCPUs into which view: after each change to the views. */
void dom_views_publish(struct dom *dom)
{
	if (!dom->monitor)
		return;
	for (uint32_t i = 0; i < ALTVIEW_MAX_VIEWS; i++) {
		const struct view *v = i < dom->max_views ? &dom->views[i] : NULL;
		uint64_t key = 0;

		if (v && v->exists)
			key = v->conn ? v->conn->key : VIEW_KEY_UID(v->owner);
		monitor_set_view_key(dom->monitor, i, key);
	}
}

/* The views are gone from the hypervisor: gone from the bus and the table too. */
static void views_forget(struct dom *dom)
{
	char path[OBJECT_PATH_MAX];

	for (uint32_t i = 0; i < dom->max_views; i++) {
		if (!dom->views[i].exists)
			continue;
		view_path(&dom->views[i], path);
		sd_bus_emit_object_removed(dom->daemon->bus, path);
	}
	free(dom->views);
	dom->views = NULL;
	dom->max_views = 0;
	dom_views_publish(dom);
}

/*
 * Hands the domain back as it found it: no views, not paused by the daemon.
 * Returns what it undid (RELEASED_*); a second call finds nothing to undo.
 */
unsigned int dom_release(struct dom *dom)
{
	unsigned int done = 0;
	int r;

	/* Clients first: their pending events are answered, their views and holds undone. */
	conns_drop(dom);
	monitor_free(dom->monitor);
	dom->monitor = NULL;
	if (dom->max_views) {
		r = av_views_disable(dom->handle);
		if (r < 0 && r != -ESRCH)
			log_warning("domain %" PRIu32 ": failed to drop its views: %s", dom->id,
				    av_strerror(r));
		else
			done |= RELEASED_VIEWS;
		views_forget(dom);
	}
	if (dom->paused) {
		r = av_domain_unpause(dom->handle);
		if (r < 0 && r != -ESRCH)
			log_warning("domain %" PRIu32 ": failed to unpause it: %s", dom->id,
				    av_strerror(r));
		else
			done |= RELEASED_UNPAUSED;
		dom->paused = false;
	}
	return done;
}

void dom_remove(struct dom *dom, bool destroy)
{
	struct daemon *daemon = dom->daemon;
	struct dom **pos;
	int r;

	if (destroy) {
		conns_drop(dom);
		monitor_free(dom->monitor);
		dom->monitor = NULL;
		r = av_domain_destroy(dom->handle);
		if (r < 0 && r != -ESRCH)
			log_warning("domain %" PRIu32 ": failed to destroy it: %s", dom->id,
				    av_strerror(r));
		views_forget(dom);
	} else {
		dom_release(dom);
	}
	sd_bus_emit_object_removed(daemon->bus, dom->path);
	for (pos = &daemon->domains; *pos != dom; pos = &(*pos)->next)
		;
	*pos = dom->next;
	daemon->nr_domains--;
	dom_free(dom);
	manager_status(daemon);
}

int dom_create(struct daemon *daemon, const char *spec_json, struct dom **out, sd_bus_error *error)
{
	struct prepared_spec spec;
	av_domain *handle;
	int r;

	if (daemon->nr_domains >= daemon->config.limits.max_domains)
		return av_bus_error_set(error, -ENOSPC, "%u domains: the limit (limits.max_domains)",
					daemon->nr_domains);
	r = spec_prepare(&daemon->config, spec_json, &spec, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_domain_create_json(daemon->hv, spec.json, &handle);
	spec_release(&spec);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	r = dom_add(daemon, handle, out);
	if (r < 0) {
		av_domain_destroy(handle);
		av_domain_close(handle);
		return daemon_reply_error(error, r, "");
	}
	/* Created paused, as Xen's toolstack does for introspection: set up first, then Unpause. */
	(*out)->paused = true;
	log_info("domain %" PRIu32 " \"%s\" created", (*out)->id, (*out)->name);
	return 0;
}

void dom_refresh(struct dom *dom)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	char crash_reason[sizeof(dom->crash_reason)];
	bool views_changed = false;
	sd_bus *bus = dom->daemon->bus;

	if (av_domain_get_info(dom->handle, &info) < 0)
		return;
	utf8_copy(crash_reason, sizeof(crash_reason), info.crash_reason);
	if (info.state != dom->state || strcmp(crash_reason, dom->crash_reason)) {
		dom->state = info.state;
		memcpy(dom->crash_reason, crash_reason, sizeof(crash_reason));
		sd_bus_emit_properties_changed(bus, dom->path, DOMAIN_IFACE, "State", "CrashReason",
					       NULL);
		if (info.state == AV_DOMAIN_CRASHED)
			log_warning("domain %" PRIu32 " \"%s\" crashed: %s", dom->id, dom->name,
				    dom->crash_reason);
	}
	for (uint32_t v = 0; v < dom->nr_vcpus; v++) {
		uint32_t view = 0;

		if (dom->max_views && av_vcpu_get_view(dom->handle, v, &view) < 0)
			continue;
		views_changed |= view != dom->active_views[v];
		dom->active_views[v] = view;
	}
	if (views_changed)
		sd_bus_emit_properties_changed(bus, dom->path, DOMAIN_IFACE, "ActiveViews", NULL);
}

/* The backend's live domain ids, however many: *@out is the caller's to free. */
static int domains_list(struct daemon *daemon, uint32_t **out)
{
	size_t max = daemon->nr_domains + 16;
	uint32_t *ids = NULL;
	int n;

	for (;;) {
		uint32_t *more = realloc(ids, max * sizeof(*ids));

		if (!more) {
			free(ids);
			return -ENOMEM;
		}
		ids = more;
		n = av_domain_list(daemon->hv, ids, max);
		if (n < 0 || (size_t)n <= max)
			break;
		max = (size_t)n;    /* more came meanwhile: once more, with room for them */
	}
	if (n < 0)
		free(ids);
	else
		*out = ids;
	return n;
}

void domains_refresh(struct daemon *daemon)
{
	struct dom *dom, *next;
	av_domain *handle;
	uint32_t *ids;
	int n;

	n = domains_list(daemon, &ids);
	if (n < 0)
		return;
	/* Gone behind the daemon's back (another tool of a shared backend). */
	for (dom = daemon->domains; dom; dom = next) {
		bool listed = false;

		next = dom->next;
		for (int i = 0; i < n && !listed; i++)
			listed = ids[i] == dom->id;
		if (!listed)
			dom_remove(dom, false);
	}
	for (int i = 0; i < n; i++) {
		if (dom_find(daemon, ids[i]) || daemon->nr_domains >= daemon->config.limits.max_domains)
			continue;
		if (av_domain_open(daemon->hv, ids[i], &handle) < 0)
			continue;
		if (dom_add(daemon, handle, NULL) < 0)
			av_domain_close(handle);
	}
	free(ids);
	for (dom = daemon->domains; dom; dom = dom->next)
		dom_refresh(dom);
}

/* ---- org.altview1.Domain ---------------------------------------------------------- */

/* Pause and Unpause: the daemon holds one pause level, so each is only valid in one state. */
static int method_pause(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	bool pause = !strcmp(sd_bus_message_get_member(m), "Pause");
	int r;

	r = caller_check(dom->daemon, m, NULL, error);
	if (r < 0)
		return r;
	if (dom->paused == pause)
		return av_bus_error_set(error, -EALREADY, "domain %" PRIu32 " is %s paused",
					dom->id, pause ? "already" : "not");
	daemon_clear_error();
	r = pause ? av_domain_pause(dom->handle) : av_domain_unpause(dom->handle);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	dom->paused = pause;
	sd_bus_emit_properties_changed(dom->daemon->bus, dom->path, DOMAIN_IFACE, "Paused", NULL);
	dom_refresh(dom);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_enable_views(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct daemon *daemon = dom->daemon;
	uint32_t max, limit = daemon->config.limits.max_views;
	char path[OBJECT_PATH_MAX];
	struct view *views;
	int r;

	r = sd_bus_message_read(m, "u", &max);
	if (r < 0)
		return r;
	r = caller_check(daemon, m, NULL, error);
	if (r < 0)
		return r;
	if (limit > daemon->hv_info.max_views)
		limit = daemon->hv_info.max_views;
	if (max == 0)
		max = limit < 10 ? limit : 10;
	if (max < 2 || max > limit)
		return av_bus_error_set(error, -EINVAL,
					"max_views %" PRIu32 ": from 2 (view 0 and one more) to %"
					PRIu32 " (limits.max_views)", max, limit);
	if (dom->max_views)
		return av_bus_error_set(error, -EALREADY, "views are already enabled on domain %"
					PRIu32 " (%" PRIu32 " views)", dom->id, dom->max_views);
	views = calloc(max, sizeof(*views));
	if (!views)
		return -ENOMEM;
	daemon_clear_error();
	r = av_views_enable(dom->handle, max);
	if (r < 0) {
		free(views);
		return daemon_reply_error(error, r, "");
	}
	for (uint32_t i = 0; i < max; i++)
		views[i] = (struct view){ .dom = dom, .index = i };
	/* The host view: always there while views are, always visible. */
	views[0].exists = true;
	views[0].visible = true;
	views[0].default_access = AV_ACCESS_RWX;
	dom->views = views;
	dom->max_views = max;
	view_path(&views[0], path);
	sd_bus_emit_object_added(daemon->bus, path);
	sd_bus_emit_properties_changed(daemon->bus, dom->path, DOMAIN_IFACE, "MaxViews", "Views", NULL);
	dom_refresh(dom);
	return sd_bus_reply_method_return(m, NULL);
}

/* Dropping every view destroys each: only who could destroy each one may. */
static int method_disable_views(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct daemon *daemon = dom->daemon;
	uid_t uid;
	int r;

	r = caller_check(daemon, m, &uid, error);
	if (r < 0)
		return r;
	if (!dom->max_views)
		return av_bus_error_set(error, -EALREADY, "views are not enabled on domain %" PRIu32,
					dom->id);
	for (uint32_t i = 1; i < dom->max_views; i++) {
		if (!dom->views[i].exists)
			continue;
		r = view_owner_check(&dom->views[i], uid, sd_bus_message_get_sender(m), error);
		if (r < 0)
			return r;
	}
	daemon_clear_error();
	r = av_views_disable(dom->handle);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	views_forget(dom);
	sd_bus_emit_properties_changed(daemon->bus, dom->path, DOMAIN_IFACE, "MaxViews", "Views", NULL);
	dom_refresh(dom);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_create_view(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct daemon *daemon = dom->daemon;
	char path[OBJECT_PATH_MAX];
	enum av_access access;
	const char *name;
	uint32_t index;
	uid_t uid;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = caller_check(daemon, m, &uid, error);
	if (r < 0)
		return r;
	if (access_from_name(name, &access) < 0 || access == AV_ACCESS_DEFAULT)
		return av_bus_error_set(error, -EINVAL,
					"unknown access \"%s\": n, r, w, rw, x, rx, wx, rwx, "
					"rx2rw or n2rwx", name);
	if (!dom->max_views)
		return av_bus_error_set(error, -EINVAL, "views are not enabled on domain %" PRIu32
					" (EnableViews first)", dom->id);
	daemon_clear_error();
	r = av_view_create(dom->handle, access, &index);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	dom->views[index] = (struct view){
		.dom = dom, .index = index, .exists = true, .visible = true,
		.default_access = access, .owner = uid,
		.conn = conn_find(dom, sd_bus_message_get_sender(m)),
	};
	dom_views_publish(dom);
	view_path(&dom->views[index], path);
	sd_bus_emit_object_added(daemon->bus, path);
	sd_bus_emit_properties_changed(daemon->bus, dom->path, DOMAIN_IFACE, "Views", NULL);
	return sd_bus_reply_method_return(m, "uo", index, path);
}

static int method_read_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct dom *dom = userdata;
	uint32_t size, max = dom->daemon->config.limits.max_read_bytes;
	uint64_t gpa;
	void *buf;
	int r;

	r = sd_bus_message_read(m, "tu", &gpa, &size);
	if (r < 0)
		return r;
	/* Guest memory may hold secrets: reading it is as privileged as changing it. */
	r = caller_check(dom->daemon, m, NULL, error);
	if (r < 0)
		return r;
	if (size > max)
		return av_bus_error_set(error, -E2BIG, "%" PRIu32 " bytes: at most %" PRIu32
					" per call (limits.max_read_bytes)", size, max);
	if (gpa + size < gpa || gpa + size > dom->memory_bytes)
		return av_bus_error_set(error, -EFAULT, "0x%" PRIx64 "+%" PRIu32
					" is outside the domain's %" PRIu64 " bytes",
					gpa, size, dom->memory_bytes);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_append_array_space(reply, 'y', size, &buf);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_read(dom->handle, gpa, buf, size);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_send(NULL, reply, NULL);
}

static int property_name(sd_bus *bus, const char *path, const char *iface, const char *prop,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;

	return sd_bus_message_append(reply, "s", dom->name);
}

/* State, CrashReason, Paused: what the timer and the methods keep up to date. */
static int property_state(sd_bus *bus, const char *path, const char *iface, const char *prop,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;

	if (!strcmp(prop, "Paused"))
		return sd_bus_message_append(reply, "b", (int)(dom->paused || dom->holds));
	if (!strcmp(prop, "CrashReason"))
		return sd_bus_message_append(reply, "s", dom->crash_reason);
	return sd_bus_message_append(reply, "s", state_name(dom->state));
}

static int property_active_views(sd_bus *bus, const char *path, const char *iface,
				 const char *prop, sd_bus_message *reply, void *userdata,
				 sd_bus_error *error)
{
	struct dom *dom = userdata;
	int r;

	/* Read now: a client that moves vCPUs out of a view before destroying it needs the truth. */
	r = sd_bus_message_open_container(reply, 'a', "u");
	for (uint32_t v = 0; r >= 0 && v < dom->nr_vcpus; v++) {
		uint32_t view = 0;

		if (dom->max_views && av_vcpu_get_view(dom->handle, v, &view) < 0)
			view = dom->active_views[v];
		r = sd_bus_message_append(reply, "u", view);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_views(sd_bus *bus, const char *path, const char *iface, const char *prop,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	char vpath[OBJECT_PATH_MAX];
	int r;

	r = sd_bus_message_open_container(reply, 'a', "o");
	for (uint32_t i = 0; r >= 0 && i < dom->max_views; i++) {
		if (!dom->views[i].exists)
			continue;
		view_path(&dom->views[i], vpath);
		r = sd_bus_message_append(reply, "o", vpath);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* What the daemon's monitor of the domain did: events taken, answers given. */
static int property_monitor(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	uint64_t v = 0;

	if (dom->monitor)
		v = atomic_load(!strcmp(prop, "EventsTaken") ? &dom->monitor->taken
							      : &dom->monitor->merged);
	return sd_bus_message_append(reply, "t", v);
}

static int property_clients(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	int r;

	r = sd_bus_message_open_container(reply, 'a', "o");
	for (struct subscription *c = dom->subscriptions; r >= 0 && c; c = c->next)
		r = sd_bus_message_append(reply, "o", c->sink->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable domain_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "u", NULL, offsetof(struct dom, id), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", property_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("VcpuCount", "u", NULL, offsetof(struct dom, nr_vcpus),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MemoryBytes", "t", NULL, offsetof(struct dom, memory_bytes),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("CrashReason", "s", property_state, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Paused", "b", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("MaxViews", "u", NULL, offsetof(struct dom, max_views),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Views", "ao", property_views, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ActiveViews", "au", property_active_views, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Clients", "ao", property_clients, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("EventsTaken", "t", property_monitor, 0, 0),
	SD_BUS_PROPERTY("EventsAnswered", "t", property_monitor, 0, 0),
	SD_BUS_METHOD("Pause", "", "", method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Unpause", "", "", method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("EnableViews", SD_BUS_ARGS("u", max_views), SD_BUS_NO_RESULT,
				method_enable_views, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("DisableViews", "", "", method_disable_views, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CreateView", SD_BUS_ARGS("s", default_access),
				SD_BUS_RESULT("u", index, "o", path), method_create_view, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ReadMemory", SD_BUS_ARGS("t", address, "u", size),
				SD_BUS_RESULT("ay", data), method_read_memory, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int domains_register(struct daemon *daemon)
{
	int r;

	r = sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, DOMAIN_IFACE, domain_vtable,
				       domain_find, daemon);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, DOMAIN_IFACE,
					       domain_monitor_vtable, domain_find, daemon);
	if (r >= 0)
		r = views_register(daemon, view_find);
	if (r >= 0)
		r = subscriptions_register(daemon, subscription_lookup);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(daemon->bus, NULL, DOMAIN_PREFIX, enumerate, daemon);
	return r;
}
