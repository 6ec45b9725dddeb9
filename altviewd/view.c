/* SPDX-License-Identifier: MIT */
/*
 * view.c — /org/altview1/domain/<id>/view/<n> (org.altview1.View).
 *
 * A view belongs to the uid that created it: only that uid or root changes
 * it.  View 0 is the host view; it belongs to root, cannot be destroyed,
 * and any permitted caller may switch vCPUs back to it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "daemon.h"
#include "log.h"

/* SetAccessMulti entries per call: one message, bounded work in the main loop. */
#define ACCESS_MULTI_MAX 65536

static int unknown_access(sd_bus_error *error, const char *name)
{
	return av_bus_error_set(error, -EINVAL, "unknown access \"%s\": n, r, w, rw, x, rx, wx, "
				"rwx, rx2rw, n2rwx or default", name);
}

void view_path(const struct view *v, char *buf)
{
	snprintf(buf, OBJECT_PATH_MAX, VIEW_PATH_FMT, v->dom->id, v->index);
}

int view_owner_check(const struct view *v, uid_t uid, const char *sender, sd_bus_error *error)
{
	if (uid != 0 && v->conn && strcmp(sender, v->conn->sender))
		return av_bus_error_set(error, -EACCES, "view %" PRIu32 " of domain %" PRIu32
					" belongs to client %s", v->index, v->dom->id,
					v->conn->sender);
	if (uid != 0 && uid != v->owner)
		return av_bus_error_set(error, -EACCES, "view %" PRIu32 " of domain %" PRIu32
					" belongs to uid %u", v->index, v->dom->id,
					(unsigned int)v->owner);
	return 0;
}

/* Changing a view: a permitted caller who owns it, or root. */
static int owner_check(struct view *v, sd_bus_message *m, sd_bus_error *error)
{
	uid_t uid;
	int r;

	r = caller_check(v->dom->daemon, m, &uid, error);
	if (r < 0)
		return r;
	return view_owner_check(v, uid, sd_bus_message_get_sender(m), error);
}

/* Gfns [gfn, gfn + count) inside the guest: ENOENT, as hv: says, with which and why. */
static int gfns_check(struct view *v, uint64_t gfn, uint64_t count, sd_bus_error *error,
		      const char *prefix)
{
	uint64_t pages = v->dom->memory_bytes >> 12;

	if (gfn < pages && count <= pages - gfn)
		return 0;
	return av_bus_error_set(error, -ENOENT, "%sgfn 0x%" PRIx64 "%s is outside the domain's %"
				PRIu64 " pages", prefix, gfn, count > 1 ? " and on" : "", pages);
}

static int not_host_view(struct view *v, sd_bus_error *error, const char *what)
{
	if (v->index)
		return 0;
	return av_bus_error_set(error, -EINVAL, "view 0 is the host view: it cannot %s", what);
}

static int method_set_access(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	enum av_access access;
	uint64_t gfn, count;
	const char *name;
	int r;

	r = sd_bus_message_read(m, "tts", &gfn, &count, &name);
	if (r < 0)
		return r;
	r = owner_check(v, m, error);
	if (r < 0)
		return r;
	if (access_from_name(name, &access) < 0)
		return unknown_access(error, name);
	if (!count)
		return av_bus_error_set(error, -EINVAL, "count must be at least 1");
	r = gfns_check(v, gfn, count, error, "");
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_view_set_access(v->dom->handle, v->index, gfn, count, access);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_access_multi(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	enum av_access *access = NULL;
	const uint64_t *gfns;
	size_t size, n = 0, failed = 0;
	const char *name;
	int r;

	r = sd_bus_message_read_array(m, 't', (const void **)&gfns, &size);
	if (r < 0)
		return r;
	if (size / sizeof(uint64_t) > ACCESS_MULTI_MAX)
		return av_bus_error_set(error, -E2BIG, "%zu entries: at most %d per call",
					size / sizeof(uint64_t), ACCESS_MULTI_MAX);
	access = calloc(size / sizeof(uint64_t) + 1, sizeof(*access));
	if (!access)
		return -ENOMEM;
	r = sd_bus_message_enter_container(m, 'a', "s");
	while (r >= 0 && (r = sd_bus_message_read(m, "s", &name)) > 0) {
		if (n == size / sizeof(uint64_t)) {
			r = av_bus_error_set(error, -EINVAL, "more access names than gfns (%zu)",
					     size / sizeof(uint64_t));
			goto out;
		}
		if (access_from_name(name, &access[n]) < 0) {
			r = av_bus_error_set(error, -EINVAL, "entry %zu: unknown access \"%s\"", n,
					     name);
			goto out;
		}
		n++;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		goto out;
	if (n != size / sizeof(uint64_t)) {
		r = av_bus_error_set(error, -EINVAL, "%zu gfns but %zu access names",
				     size / sizeof(uint64_t), n);
		goto out;
	}
	r = owner_check(v, m, error);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "entry %zu: ", i);
		r = gfns_check(v, gfns[i], 1, error, prefix);
	}
	if (r < 0)
		goto out;
	daemon_clear_error();
	r = av_view_set_access_multi(v->dom->handle, v->index, gfns, access, n, &failed);
	if (r < 0) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "entry %zu: ", failed);
		r = daemon_reply_error(error, r, prefix);
		goto out;
	}
	r = sd_bus_reply_method_return(m, NULL);
out:
	free(access);
	return r;
}

static int method_get_access(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	enum av_access access;
	uint64_t gfn;
	int r;

	r = sd_bus_message_read(m, "t", &gfn);
	if (r < 0)
		return r;
	r = gfns_check(v, gfn, 1, error, "");
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_view_get_access(v->dom->handle, v->index, gfn, &access);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_reply_method_return(m, "s", access_name(access));
}

static int method_set_default_access(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	enum av_access access;
	const char *name;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = owner_check(v, m, error);
	if (r < 0)
		return r;
	if (access_from_name(name, &access) < 0 || access == AV_ACCESS_DEFAULT)
		return unknown_access(error, name);
	daemon_clear_error();
	r = av_view_set_default_access(v->dom->handle, v->index, access);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	v->default_access = access;
	sd_bus_emit_properties_changed(v->dom->daemon->bus, sd_bus_message_get_path(m), VIEW_IFACE,
				       "DefaultAccess", NULL);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_change_gfn(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	uint64_t old_gfn, new_gfn;
	int r;

	r = sd_bus_message_read(m, "tt", &old_gfn, &new_gfn);
	if (r < 0)
		return r;
	r = owner_check(v, m, error);
	if (r < 0)
		return r;
	r = not_host_view(v, error, "remap gfns");
	if (r >= 0)
		r = gfns_check(v, old_gfn, 1, error, "");
	/* UINT64_MAX (AV_INVALID_GFN) gives old_gfn its host frame back. */
	if (r >= 0 && new_gfn != AV_INVALID_GFN)
		r = gfns_check(v, new_gfn, 1, error, "");
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_view_change_gfn(v->dom->handle, v->index, old_gfn, new_gfn);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_reply_method_return(m, NULL);
}

/* Entering a view changes no view: any permitted caller may, and anyone may go back to 0. */
static int switch_check(struct view *v, sd_bus_message *m, sd_bus_error *error)
{
	return v->index ? owner_check(v, m, error) : caller_check(v->dom->daemon, m, NULL, error);
}

static int method_switch(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	int r;

	r = switch_check(v, m, error);
	if (r < 0)
		return r;
	if (!v->visible)
		return av_bus_error_set(error, -EPERM, "view %" PRIu32 " is hidden: its vCPUs move "
					"one at a time (SwitchVcpu), as on Xen", v->index);
	daemon_clear_error();
	r = av_view_switch(v->dom->handle, v->index);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	dom_refresh(v->dom);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_switch_vcpu(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	uint32_t vcpu;
	int r;

	r = sd_bus_message_read(m, "u", &vcpu);
	if (r < 0)
		return r;
	r = switch_check(v, m, error);
	if (r < 0)
		return r;
	if (vcpu >= v->dom->nr_vcpus)
		return av_bus_error_set(error, -EINVAL, "vCPU %" PRIu32 ": domain %" PRIu32
					" has %" PRIu32, vcpu, v->dom->id, v->dom->nr_vcpus);
	daemon_clear_error();
	r = av_vcpu_switch_view(v->dom->handle, vcpu, v->index);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	dom_refresh(v->dom);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_visible(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	int visible, r;

	r = sd_bus_message_read(m, "b", &visible);
	if (r < 0)
		return r;
	r = owner_check(v, m, error);
	if (r < 0)
		return r;
	r = not_host_view(v, error, "be hidden");
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_view_set_visible(v->dom->handle, v->index, visible);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	v->visible = visible;
	sd_bus_emit_properties_changed(v->dom->daemon->bus, sd_bus_message_get_path(m), VIEW_IFACE,
				       "Visible", NULL);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;
	struct dom *dom = v->dom;
	int r;

	r = owner_check(v, m, error);
	if (r < 0)
		return r;
	r = not_host_view(v, error, "be destroyed (DisableViews drops them all)");
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_view_destroy(dom->handle, v->index);
	if (r == -EBUSY)
		return av_bus_error_set(error, r, "a vCPU of domain %" PRIu32 " is in view %" PRIu32
					": switch it to another view first", dom->id, v->index);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	view_forget(v);
	return sd_bus_reply_method_return(m, NULL);
}

/* The view is gone from the hypervisor: gone from the bus too. */
void view_forget(struct view *v)
{
	char path[OBJECT_PATH_MAX];

	view_path(v, path);
	sd_bus_emit_object_removed(v->dom->daemon->bus, path);
	v->exists = false;
	v->conn = NULL;
	dom_views_publish(v->dom);
	sd_bus_emit_properties_changed(v->dom->daemon->bus, v->dom->path, DOMAIN_IFACE, "Views", NULL);
}

static int property_view(sd_bus *bus, const char *path, const char *iface, const char *prop,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct view *v = userdata;

	if (!strcmp(prop, "Domain"))
		return sd_bus_message_append(reply, "o", v->dom->path);
	if (!strcmp(prop, "DefaultAccess"))
		return sd_bus_message_append(reply, "s", access_name(v->default_access));
	if (!strcmp(prop, "Visible"))
		return sd_bus_message_append(reply, "b", (int)v->visible);
	return sd_bus_message_append(reply, "u", (uint32_t)v->owner);
}

static const sd_bus_vtable view_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Index", "u", NULL, offsetof(struct view, index),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Domain", "o", property_view, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Owner", "u", property_view, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DefaultAccess", "s", property_view, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Visible", "b", property_view, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("SetAccess", SD_BUS_ARGS("t", gfn, "t", count, "s", access),
				SD_BUS_NO_RESULT, method_set_access, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetAccessMulti", SD_BUS_ARGS("at", gfns, "as", access),
				SD_BUS_NO_RESULT, method_set_access_multi, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetAccess", SD_BUS_ARGS("t", gfn), SD_BUS_RESULT("s", access),
				method_get_access, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetDefaultAccess", SD_BUS_ARGS("s", access), SD_BUS_NO_RESULT,
				method_set_default_access, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ChangeGfn", SD_BUS_ARGS("t", old_gfn, "t", new_gfn),
				SD_BUS_NO_RESULT, method_change_gfn, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Switch", "", "", method_switch, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SwitchVcpu", SD_BUS_ARGS("u", vcpu), SD_BUS_NO_RESULT,
				method_switch_vcpu, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetVisible", SD_BUS_ARGS("b", visible), SD_BUS_NO_RESULT,
				method_set_visible, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int views_register(struct daemon *daemon, sd_bus_object_find_t find)
{
	return sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, VIEW_IFACE, view_vtable,
					  find, daemon);
}
