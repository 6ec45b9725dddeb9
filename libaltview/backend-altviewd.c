/* SPDX-License-Identifier: MIT */
/*
 * backend-altviewd.c — the "altviewd:" backend: libaltview's API over altviewd's
 * D-Bus interface (org.altview1(5)), so a monitor written for "hv:" runs
 * unchanged against a daemon that many monitors share.
 *
 *   altviewd:system           the system bus (the default)
 *   altviewd:user             the user's session bus
 *   altviewd:unix:path=...    any D-Bus address
 *
 * Control calls are method calls on one connection; events go through the
 * shared-memory channel a subscription returns (backend-altviewd-monitor.c).  What
 * this connection creates while it monitors a domain (views, holds,
 * subscriptions) the daemon undoes when the connection closes, so a
 * crashed monitor leaves the guest as it found it.  Where the daemon is a
 * shared resource the semantics bend: av_views_enable() succeeds on views
 * already enabled, av_views_disable() destroys only this handle's views,
 * and av_domain_pause() holds the domain paused for this connection.
 * Guest memory (backend-altviewd-memory.c) is mapped for root and copied
 * for everyone else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backend-altviewd.h"
#include "bus-connect.h"
#include "bus-error.h"
#include "names.h"
#include "org-altview1.h"

struct altviewd_domain {
	char path[OBJECT_PATH_MAX];
	pthread_mutex_t lock;
	struct av_domain_info last;     /* what a handle says once the domain is gone */
	uint64_t own_views[ALTVIEW_MAX_VIEWS / 64];  /* created through this handle */
};

static struct altviewd_domain *adom_of(struct av_domain *dom)
{
	return dom->be;
}

const char *altviewd_domain_path(struct av_domain *dom)
{
	return adom_of(dom)->path;
}

static bool unknown_object(const sd_bus_error *e)
{
	return sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD,
				      SD_BUS_ERROR_UNKNOWN_INTERFACE, SD_BUS_ERROR_UNKNOWN_PROPERTY);
}

int altviewd_send(struct av_hv *hv, sd_bus_message *m, int gone, sd_bus_message **reply,
		  size_t *failed_at)
{
	struct altviewd *be = altviewd_of(hv);
	sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *member;
	int r;

	pthread_mutex_lock(&be->lock);
	r = sd_bus_call(be->bus, m, 0, &error, reply);
	pthread_mutex_unlock(&be->lock);
	if (r >= 0)
		return r;
	/* Only now: sealing the message for sending moves its header. */
	member = sd_bus_message_get_member(m);
	if (sd_bus_error_is_set(&error)) {
		const char *msg = error.message ? error.message : error.name;

		av_err(hv, "%s: %s", member, msg);
		if (failed_at && !strncmp(msg, "entry ", 6))
			*failed_at = strtoul(msg + 6, NULL, 10);
		r = unknown_object(&error) ? gone : -sd_bus_error_get_errno(&error);
	} else {
		av_err(hv, "%s: %s", member, strerror(-r));
	}
	sd_bus_error_free(&error);
	return r < 0 ? r : -EIO;
}

int altviewd_new_call(struct av_hv *hv, const char *path, const char *iface, const char *member,
		      sd_bus_message **m)
{
	struct altviewd *be = altviewd_of(hv);
	int r;

	pthread_mutex_lock(&be->lock);
	r = sd_bus_message_new_method_call(be->bus, m, BUS_NAME, path, iface, member);
	pthread_mutex_unlock(&be->lock);
	return r;
}

static int callv(struct av_hv *hv, const char *path, const char *iface, const char *member,
		 int gone, sd_bus_message **reply, const char *types, va_list ap)
{
	sd_bus_message *m = NULL;
	int r;

	r = altviewd_new_call(hv, path, iface, member, &m);
	if (r >= 0 && types)
		r = sd_bus_message_appendv(m, types, ap);
	if (r >= 0)
		r = altviewd_send(hv, m, gone, reply, NULL);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

int altviewd_call(struct av_hv *hv, const char *path, const char *iface, const char *member,
		  int gone, sd_bus_message **reply, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = callv(hv, path, iface, member, gone, reply, types, ap);
	va_end(ap);
	return r;
}

/* A Domain method with no reply to read. */
static int domain_call(struct av_domain *dom, const char *member, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = callv(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, member, -ESRCH, NULL, types, ap);
	va_end(ap);
	return r < 0 ? r : 0;
}

/* Whether @view is past the domain's room for views, which hv: calls -EINVAL. */
static bool view_out_of_range(struct av_domain *dom, uint32_t view)
{
	sd_bus_message *reply = NULL;
	uint32_t max = 0;
	int r;

	r = altviewd_call(dom->hv, altviewd_domain_path(dom), "org.freedesktop.DBus.Properties",
			  "Get", -ESRCH, &reply, "ss", DOMAIN_IFACE, "MaxViews");
	if (r >= 0)
		r = sd_bus_message_read(reply, "v", "u", &max);
	sd_bus_message_unref(reply);
	return r >= 0 && max && view >= max;
}

/*
 * A View method of @view; a view that is not there is -ENOENT, as on hv:,
 * and one past the views enabled -EINVAL.
 */
static int view_call(struct av_domain *dom, uint32_t view, const char *member,
		     sd_bus_message **reply, const char *types, ...)
{
	char path[OBJECT_PATH_MAX];
	va_list ap;
	int r;

	snprintf(path, sizeof(path), VIEW_PATH_FMT, dom->id, view);
	va_start(ap, types);
	r = callv(dom->hv, path, VIEW_IFACE, member, -ENOENT, reply, types, ap);
	va_end(ap);
	if (r == -ENOENT && view_out_of_range(dom, view))
		r = -EINVAL;
	return r < 0 ? r : 0;
}

/* ---- the connection -------------------------------------------------------------- */

/* All properties of @iface at @path, into @obj through @map. */
static int get_all(struct av_hv *hv, const char *path, const char *iface, int gone,
		   const struct av_bus_prop *map, void *obj)
{
	sd_bus_message *reply = NULL;
	int r;

	r = altviewd_call(hv, path, "org.freedesktop.DBus.Properties", "GetAll", gone, &reply, "s",
			  iface);
	if (r >= 0)
		r = av_bus_map_properties(reply, map, obj);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static const struct av_bus_prop manager_map[] = {
	AV_BUS_PROP("MaxViews", U32, struct av_hv_info, max_views),
	AV_BUS_PROP("MaxVcpus", U32, struct av_hv_info, max_vcpus),
	{ 0 }
};

static int be_get_info(struct av_hv *hv, struct av_hv_info *info)
{
	return get_all(hv, MANAGER_PATH, MANAGER_IFACE, -EIO, manager_map, info);
}

static bool daemon_on_xen(struct av_hv *hv)
{
	sd_bus_message *reply = NULL;
	const char *uri = "";
	bool xen;

	if (altviewd_call(hv, MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get", -EIO, &reply,
			  "ss", MANAGER_IFACE, "Backend") < 0 ||
	    sd_bus_message_read(reply, "v", "s", &uri) < 0)
		uri = "";
	xen = !strncmp(uri, "xen:", 4);
	sd_bus_message_unref(reply);
	return xen;
}

static int be_open(struct av_hv *hv, const char *arg, const struct av_open_opts *opts)
{
	struct altviewd *be = calloc(1, sizeof(*be));
	struct av_hv_info info = { .sz = sizeof(info) };
	const char *address = NULL;
	bool user = false;
	int r;

	if (!be)
		return -ENOMEM;
	if (!strcmp(arg, "user"))
		user = true;
	else if (*arg && strcmp(arg, "system"))
		address = arg;
	av_bus_error_register();
	r = av_bus_connect(address, user, &be->bus);
	if (r < 0) {
		av_err(hv, "altviewd:%s: cannot connect to the bus: %s", arg, strerror(-r));
		free(be);
		return r == -EINVAL ? -EINVAL : -ECONNREFUSED;
	}
	pthread_mutex_init(&be->lock, NULL);
	pthread_mutex_init(&be->maps_lock, NULL);
	hv->be = be;
	/* Is anybody there? */
	r = be_get_info(hv, &info);
	if (r < 0) {
		av_err(hv, "altviewd:%s: no altviewd (%s) answers", arg, BUS_NAME);
		sd_bus_flush_close_unref(be->bus);
		pthread_mutex_destroy(&be->lock);
		pthread_mutex_destroy(&be->maps_lock);
		free(be);
		hv->be = NULL;
		return r;
	}
	be->on_xen = daemon_on_xen(hv);
	return 0;
}


static void be_close(struct av_hv *hv)
{
	struct altviewd *be = altviewd_of(hv);

	altviewd_unmap_all(hv);
	sd_bus_flush_close_unref(be->bus);
	pthread_mutex_destroy(&be->lock);
	pthread_mutex_destroy(&be->maps_lock);
	free(be);
}

/* ---- domains ---------------------------------------------------------------------- */

static int domain_bind(struct av_domain *dom, uint32_t id)
{
	struct altviewd_domain *a = calloc(1, sizeof(*a));
	struct av_domain_info info = { .sz = sizeof(info) };
	int r;

	if (!a)
		return -ENOMEM;
	snprintf(a->path, sizeof(a->path), DOMAIN_PATH_FMT, id);
	pthread_mutex_init(&a->lock, NULL);
	dom->be = a;
	dom->id = id;
	/* Nothing known yet: a domain that is not there is -ESRCH. */
	r = altviewd_domain_get_info(dom, &info);
	if (r < 0) {
		pthread_mutex_destroy(&a->lock);
		free(a);
		dom->be = NULL;
		return r;
	}
	dom->nr_vcpus = info.nr_vcpus;
	return 0;
}

/* The spec as the JSON CreateDomain takes: its program is JSON text already. */
static char *spec_to_json(const struct av_domain_spec *spec)
{
	json_object *o = json_object_new_object(), *program = NULL;
	char *text = NULL;

	if (!o)
		return NULL;
	if (spec->name)
		json_object_object_add(o, "name", json_object_new_string(spec->name));
	json_object_object_add(o, "memory_bytes", json_object_new_uint64(spec->memory_bytes));
	json_object_object_add(o, "vcpus", json_object_new_uint64(spec->nr_vcpus));
	if (spec->engine)
		json_object_object_add(o, "engine", json_object_new_string(spec->engine));
	if (spec->program) {
		program = json_tokener_parse(spec->program);
		if (!program)
			goto out;
		json_object_object_add(o, "program", program);
	}
	json_object_object_add(o, "access_required", json_object_new_boolean(spec->access_required));
	json_object_object_add(o, "grant_frames", json_object_new_uint64(spec->grant_frames));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(o);
	return text;
}

static void be_domain_close(struct av_domain *dom);

static int be_domain_create(struct av_hv *hv, const struct av_domain_spec *spec,
			    struct av_domain *dom)
{
	sd_bus_message *reply = NULL;
	char *json = spec_to_json(spec);
	uint32_t id;
	int r;

	if (!json) {
		av_err(hv, "av_domain_create: the program is not JSON");
		return -EINVAL;
	}
	r = altviewd_call(hv, MANAGER_PATH, MANAGER_IFACE, "CreateDomain", -EIO, &reply, "s", json);
	free(json);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &id);
	sd_bus_message_unref(reply);
	if (r >= 0)
		r = domain_bind(dom, id);
	/*
	 * The daemon made it paused; av_domain_unpause() must be able to start
	 * it, and a creator that dies before must not leave it paused: the
	 * pause becomes this connection's hold.
	 */
	if (r >= 0)
		r = domain_call(dom, "Hold", "");
	if (r >= 0)
		r = domain_call(dom, "Unpause", "");
	if (r < 0 && dom->be) {
		be_domain_close(dom);
		dom->be = NULL;
	}
	return r;
}

static int be_domain_list(struct av_hv *hv, uint32_t *ids, size_t max)
{
	sd_bus_message *reply = NULL;
	const char *name, *path;
	uint32_t id;
	int r, n = 0;

	r = altviewd_call(hv, MANAGER_PATH, MANAGER_IFACE, "ListDomains", -EIO, &reply, "");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(uso)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(uso)", &id, &name, &path)) > 0) {
		if ((size_t)n < max)
			ids[n] = id;
		n++;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : n;
}

static int be_domain_open(struct av_hv *hv, uint32_t id, struct av_domain *dom)
{
	return domain_bind(dom, id);
}

static void be_domain_close(struct av_domain *dom)
{
	pthread_mutex_destroy(&adom_of(dom)->lock);
	free(dom->be);
}

static enum av_domain_state state_from_name(const char *s)
{
	if (!strcmp(s, "running"))
		return AV_DOMAIN_RUNNING;
	if (!strcmp(s, "paused"))
		return AV_DOMAIN_PAUSED;
	if (!strcmp(s, "crashed"))
		return AV_DOMAIN_CRASHED;
	return AV_DOMAIN_DYING;
}

/* What Domain's properties say, as they are sent; the state is a word. */
struct domain_reply {
	char name[sizeof(((struct av_domain_info *)0)->name)];
	char crash_reason[sizeof(((struct av_domain_info *)0)->crash_reason)];
	char state[16];
	uint64_t memory_bytes;
	uint32_t nr_vcpus;
	int access_required;
	uint32_t max_views;
};

static const struct av_bus_prop domain_map[] = {
	AV_BUS_PROP("Name", STRBUF, struct domain_reply, name),
	AV_BUS_PROP("CrashReason", STRBUF, struct domain_reply, crash_reason),
	AV_BUS_PROP("State", STRBUF, struct domain_reply, state),
	AV_BUS_PROP("MemoryBytes", U64, struct domain_reply, memory_bytes),
	AV_BUS_PROP("VcpuCount", U32, struct domain_reply, nr_vcpus),
	AV_BUS_PROP("AccessRequired", BOOL, struct domain_reply, access_required),
	AV_BUS_PROP("MaxViews", U32, struct domain_reply, max_views),
	{ 0 }
};

/*
 * A handle whose domain is gone still answers, as on hv: with what it last
 * knew, dying.
 */
int altviewd_domain_get_info(struct av_domain *dom, struct av_domain_info *info)
{
	struct altviewd_domain *a = adom_of(dom);
	struct domain_reply d = { 0 };
	int r;

	r = get_all(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, -ESRCH, domain_map, &d);
	pthread_mutex_lock(&a->lock);
	if (r == -ESRCH && a->last.sz) {
		a->last.state = AV_DOMAIN_DYING;
		r = 0;
	} else if (r == 0) {
		a->last.id = dom->id;
		memcpy(a->last.name, d.name, sizeof(d.name));
		memcpy(a->last.crash_reason, d.crash_reason, sizeof(d.crash_reason));
		a->last.state = state_from_name(d.state);
		a->last.memory_bytes = d.memory_bytes;
		a->last.nr_vcpus = d.nr_vcpus;
		a->last.access_required = d.access_required;
		a->last.max_views = d.max_views;
		a->last.sz = sizeof(a->last);
	}
	if (r == 0) {
		size_t sz = info->sz;

		memcpy(info, &a->last, sizeof(*info));
		info->sz = sz;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

/*
 * No round trip to ask: a call on a domain that is gone fails -ESRCH from
 * the daemon itself, and the asking would double every call's cost.
 */
static bool be_domain_alive(struct av_domain *dom)
{
	return true;
}

static int be_domain_set_access_required(struct av_domain *dom, bool required)
{
	return domain_call(dom, "SetAccessRequired", "b", (int)required);
}

static int be_domain_pause(struct av_domain *dom, bool pause)
{
	return domain_call(dom, pause ? "Hold" : "Release", "");
}

/* The daemon does not block its loop for one client's wait: Idle is asked until it holds. */
static int ask_idle(struct av_domain *dom, bool *idle)
{
	sd_bus_message *reply = NULL;
	int yes = 0, r;

	r = altviewd_call(dom->hv, altviewd_domain_path(dom), "org.freedesktop.DBus.Properties",
			  "Get", -ESRCH, &reply, "ss", DOMAIN_IFACE, "Idle");
	if (r >= 0)
		r = sd_bus_message_read(reply, "v", "b", &yes);
	sd_bus_message_unref(reply);
	*idle = yes;
	return r < 0 ? r : 0;
}

static int be_domain_wait_idle(struct av_domain *dom, int timeout_ms)
{
	return domain_poll_idle(dom, timeout_ms, ask_idle);
}

static int be_domain_destroy(struct av_domain *dom)
{
	return altviewd_call(dom->hv, MANAGER_PATH, MANAGER_IFACE, "DestroyDomain", -ESRCH, NULL,
			     "u", dom->id);
}

static int be_vcpu_pause(struct av_domain *dom, uint32_t vcpu, bool pause)
{
	return domain_call(dom, pause ? "HoldVcpu" : "ReleaseVcpu", "u", vcpu);
}

static int be_vcpu_set_singlestep(struct av_domain *dom, uint32_t vcpu, bool enable)
{
	return domain_call(dom, "SetSingleStep", "ub", vcpu, (int)enable);
}

/* ---- views ------------------------------------------------------------------------ */

static void own_view(struct av_domain *dom, uint32_t view, bool own)
{
	struct altviewd_domain *a = adom_of(dom);

	pthread_mutex_lock(&a->lock);
	if (own)
		a->own_views[view / 64] |= UINT64_C(1) << (view % 64);
	else
		a->own_views[view / 64] &= ~(UINT64_C(1) << (view % 64));
	pthread_mutex_unlock(&a->lock);
}

/* Views are the daemon's to share: enabled already is as good as enabled now. */
static int be_views_enable(struct av_domain *dom, uint32_t max_views)
{
	int r = domain_call(dom, "EnableViews", "u", max_views);

	return r == -EALREADY ? 0 : r;
}

static int be_vcpu_get_views(struct av_domain *dom, uint32_t *views)
{
	sd_bus_message *reply = NULL;
	const uint32_t *v;
	size_t size;
	int r;

	r = altviewd_call(dom->hv, altviewd_domain_path(dom), "org.freedesktop.DBus.Properties",
			  "Get", -ESRCH, &reply, "ss", DOMAIN_IFACE, "ActiveViews");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'v', "au");
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'u', (const void **)&v, &size);
	if (r >= 0 && size != dom->nr_vcpus * sizeof(*v))
		r = -EPROTO;
	if (r >= 0)
		memcpy(views, v, size);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static int be_vcpu_get_view(struct av_domain *dom, uint32_t vcpu, uint32_t *view)
{
	uint32_t views[ALTVIEW_MAX_VCPUS];
	int r = be_vcpu_get_views(dom, views);

	if (r == 0)
		*view = views[vcpu];
	return r;
}

/* This handle's views only, their vCPUs back in view 0 first: the others are other clients'. */
static int be_views_disable(struct av_domain *dom)
{
	struct altviewd_domain *a = adom_of(dom);
	uint32_t views[ALTVIEW_MAX_VCPUS];
	int r, first = 0;

	r = be_vcpu_get_views(dom, views);
	for (uint32_t i = 1; r == 0 && i < ALTVIEW_MAX_VIEWS; i++) {
		bool own;

		pthread_mutex_lock(&a->lock);
		own = a->own_views[i / 64] >> (i % 64) & 1;
		pthread_mutex_unlock(&a->lock);
		if (!own)
			continue;
		/* A daemon on Xen moves one vCPU only in an answer: then all of them go back. */
		for (uint32_t v = 0; v < dom->nr_vcpus; v++) {
			if (views[v] != i)
				continue;
			if (altviewd_of(dom->hv)->on_xen) {
				view_call(dom, 0, "Switch", NULL, "");
				break;
			}
			view_call(dom, 0, "SwitchVcpu", NULL, "u", v);
		}
		r = view_call(dom, i, "Destroy", NULL, "");
		if (r == -ENOENT)
			r = 0;
		if (r == 0)
			own_view(dom, i, false);
		else if (!first)
			first = r;
	}
	return r ? r : first;
}

static int be_view_create(struct av_domain *dom, xenmem_access_t def, uint32_t *view)
{
	sd_bus_message *reply = NULL;
	int r;

	r = altviewd_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "CreateView", -ESRCH,
			  &reply, "s", access_name((enum av_access)def));
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", view);
	sd_bus_message_unref(reply);
	if (r >= 0 && *view < ALTVIEW_MAX_VIEWS)
		own_view(dom, *view, true);
	return r < 0 ? r : 0;
}

static int be_view_destroy(struct av_domain *dom, uint32_t view)
{
	int r = view_call(dom, view, "Destroy", NULL, "");

	if (r == 0)
		own_view(dom, view, false);
	return r;
}

static int be_view_switch(struct av_domain *dom, uint32_t view)
{
	return view_call(dom, view, "Switch", NULL, "");
}

static int be_vcpu_switch_view(struct av_domain *dom, uint32_t vcpu, uint32_t view)
{
	return view_call(dom, view, "SwitchVcpu", NULL, "u", vcpu);
}

static int be_view_set_visible(struct av_domain *dom, uint32_t view, bool visible)
{
	return view_call(dom, view, "SetVisible", NULL, "b", (int)visible);
}

static int be_view_set_access(struct av_domain *dom, uint32_t view, uint64_t gfn, uint64_t nr,
			      xenmem_access_t access)
{
	return view_call(dom, view, "SetAccess", NULL, "tts", gfn, nr,
			 access_name((enum av_access)access));
}

static int be_view_set_access_multi(struct av_domain *dom, uint32_t view, const uint64_t *gfns,
				    const xenmem_access_t *access, size_t n, size_t *failed)
{
	const char **names = calloc(n + 1, sizeof(*names));
	sd_bus_message *m = NULL;
	char path[OBJECT_PATH_MAX];
	int r;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		names[i] = access_name((enum av_access)access[i]);
	snprintf(path, sizeof(path), VIEW_PATH_FMT, dom->id, view);
	r = altviewd_new_call(dom->hv, path, VIEW_IFACE, "SetAccessMulti", &m);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 't', gfns, n * sizeof(*gfns));
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)names);
	if (r >= 0)
		r = altviewd_send(dom->hv, m, -ENOENT, NULL, failed);
	free(names);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

static int be_view_get_access(struct av_domain *dom, uint32_t view, uint64_t gfn,
			      xenmem_access_t *access)
{
	sd_bus_message *reply = NULL;
	enum av_access a;
	const char *name;
	int r;

	r = view_call(dom, view, "GetAccess", &reply, "t", gfn);
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &name);
	if (r >= 0)
		r = access_from_name(name, &a) < 0 ? -EPROTO : 0;
	if (r >= 0)
		*access = (xenmem_access_t)a;
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static int be_view_set_default_access(struct av_domain *dom, uint32_t view,
				      xenmem_access_t access)
{
	return view_call(dom, view, "SetDefaultAccess", NULL, "s",
			 access_name((enum av_access)access));
}

static int be_view_change_gfn(struct av_domain *dom, uint32_t view, uint64_t old_gfn,
			      uint64_t new_gfn)
{
	return view_call(dom, view, "ChangeGfn", NULL, "tt", old_gfn, new_gfn);
}

/* ---- vCPU registers: struct av_regs_x86 by field name, an a{st} ------------------------ */

/* Inside an event this handle took, the event's registers, if they still hold (channel.h). */
static bool regs_from_event(struct av_domain *dom, uint32_t vcpu, struct vm_event_regs_x86 *x)
{
	bool found = false;

	pthread_mutex_lock(&dom->hv->lock);
	for (struct list *l = dom->monitors.next; !found && l != &dom->monitors; l = l->next)
		found = altviewd_monitor_regs(list_entry(l, struct av_monitor, link), vcpu, x);
	pthread_mutex_unlock(&dom->hv->lock);
	return found;
}

static int be_vcpu_get_regs(struct av_domain *dom, uint32_t vcpu, struct vm_event_regs_x86 *x)
{
	struct av_regs_x86 regs = { 0 };
	sd_bus_message *reply = NULL;
	const char *name;
	uint64_t value;
	int r;

	if (regs_from_event(dom, vcpu, x))
		return 0;

	r = altviewd_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "GetRegisters", -ESRCH,
			  &reply, "u", vcpu);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "{st}");
	while (r >= 0 && (r = sd_bus_message_read(reply, "{st}", &name, &value)) > 0) {
		const struct reg_name *rn = reg_by_name(name);

		/* A register a newer daemon sends and this library does not know: skipped. */
		if (rn)
			reg_set(&regs, rn, value);
	}
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	memset(x, 0, sizeof(*x));
	regs_to_xen(&regs, x);
	return 0;
}

static int be_vcpu_set_regs(struct av_domain *dom, uint32_t vcpu,
			    const struct vm_event_regs_x86 *x)
{
	struct av_regs_x86 regs;
	sd_bus_message *m = NULL;
	int r;

	regs_from_xen(x, &regs);
	r = altviewd_new_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "SetRegisters", &m);
	if (r >= 0)
		r = sd_bus_message_append(m, "u", vcpu);
	if (r >= 0)
		r = av_bus_append_regs(m, &regs);
	if (r >= 0)
		r = altviewd_send(dom->hv, m, -ESRCH, NULL, NULL);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

const struct av_backend_ops av_backend_altviewd = {
	.name = "altviewd",
	.open = be_open,
	.close = be_close,
	.get_info = be_get_info,

	.domain_create = be_domain_create,
	.domain_list = be_domain_list,
	.domain_open = be_domain_open,
	.domain_close = be_domain_close,
	.domain_get_info = altviewd_domain_get_info,
	.domain_alive = be_domain_alive,
	.domain_pause = be_domain_pause,
	.domain_set_access_required = be_domain_set_access_required,
	.domain_wait_idle = be_domain_wait_idle,
	.domain_destroy = be_domain_destroy,

	.map = altviewd_map,
	.unmap = altviewd_unmap,
	.map_export = altviewd_map_export,
	.copy = altviewd_copy,

	.vcpu_pause = be_vcpu_pause,
	.vcpu_get_regs = be_vcpu_get_regs,
	.vcpu_set_regs = be_vcpu_set_regs,
	.vcpu_set_singlestep = be_vcpu_set_singlestep,

	.evtchn_open = altviewd_evtchn_open,
	.evtchn_close = altviewd_evtchn_close,
	.evtchn_fd = altviewd_evtchn_fd,
	.evtchn_bind_interdomain = altviewd_evtchn_bind_interdomain,
	.evtchn_bind_unbound = altviewd_evtchn_bind_unbound,
	.evtchn_unbind = altviewd_evtchn_unbind,
	.evtchn_notify = altviewd_evtchn_notify,
	.evtchn_pending = altviewd_evtchn_pending,
	.evtchn_unmask = altviewd_evtchn_unmask,
	.evtchn_status = altviewd_evtchn_status,

	.grant_map = altviewd_grant_map,
	.grant_unmap = altviewd_grant_unmap,
	.grant_copy = altviewd_grant_copy,

	.views_enable = be_views_enable,
	.views_disable = be_views_disable,
	.view_create = be_view_create,
	.view_destroy = be_view_destroy,
	.view_switch = be_view_switch,
	.vcpu_switch_view = be_vcpu_switch_view,
	.vcpu_get_view = be_vcpu_get_view,
	.view_set_visible = be_view_set_visible,
	.view_set_access = be_view_set_access,
	.view_set_access_multi = be_view_set_access_multi,
	.view_get_access = be_view_get_access,
	.view_set_default_access = be_view_set_default_access,
	.view_change_gfn = be_view_change_gfn,

	.monitor_open = altviewd_monitor_open,
	.monitor_close = altviewd_monitor_close,
	.monitor_set_reasons = altviewd_monitor_set_reasons,
	.monitor_fd = altviewd_monitor_fd,
	.monitor_next = altviewd_monitor_next,
	.monitor_next_async = altviewd_monitor_next_async,
	.monitor_wait = altviewd_monitor_wait,
	.monitor_respond = altviewd_monitor_respond,
	.monitor_set_handler = altviewd_monitor_set_handler,
	.monitor_get_stats = altviewd_monitor_get_stats,
};
