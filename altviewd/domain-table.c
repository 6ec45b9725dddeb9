/* SPDX-License-Identifier: MIT */
/*
 * domain-table.c — the domains the daemon has open: a libaltview handle per
 * live domain and a copy of what it last published (state, each vCPU's
 * view).  A guest changes those by itself — it crashes, a monitor switches
 * its view — so a timer compares and emits PropertiesChanged; the methods
 * refresh at once.  Domains come and go here: created from a spec, found
 * behind the daemon's back, handed back as found, destroyed.
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

static void dom_free(struct dom *dom)
{
	if (!dom)
		return;
	if (dom->handle)
		av_domain_close(dom->handle);
	free(dom->active_views);
	free(dom->vcpu_holds);
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
		.spec_access_required = info.access_required,
	};
	dom->host_view = (struct view){ .dom = dom, .index = 0, .exists = true, .visible = true,
					.default_access = AV_ACCESS_RWX, .owner = 0 };
	/* Published on the bus: text D-Bus carries, whatever the backend had. */
	utf8_copy(dom->name, sizeof(dom->name), info.name);
	utf8_copy(dom->crash_reason, sizeof(dom->crash_reason), info.crash_reason);
	snprintf(dom->path, sizeof(dom->path), DOMAIN_PATH_FMT, dom->id);
	dom->active_views = calloc(dom->nr_vcpus ? dom->nr_vcpus : 1, sizeof(uint32_t));
	dom->vcpu_holds = calloc(dom->nr_vcpus ? dom->nr_vcpus : 1, sizeof(unsigned int));
	if (!dom->active_views || !dom->vcpu_holds) {
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
void dom_views_forget(struct dom *dom)
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
		dom_views_forget(dom);
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
		dom_views_forget(dom);
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
