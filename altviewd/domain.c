/* SPDX-License-Identifier: MIT */
/*
 * domain.c — /org/altview1/domain/<id> (org.altview1.Domain): pausing,
 * views on and off, new views, reading memory, and what the domain says
 * about itself.  The table behind it is domain-table.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/xen.h>

#include "bus-error.h"
#include "bus-connect.h"
#include "daemon.h"

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
	dom_views_forget(dom);
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
		return av_bus_error_set(error, -EOPNOTSUPP, "views are not enabled on domain %" PRIu32
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

/*
 * Guest memory may hold secrets: reading it is as privileged as changing
 * it.  Either is bounded per call (limits.max_read_bytes) and must lie in
 * the guest's RAM.
 */
static int memory_check(struct dom *dom, sd_bus_message *m, uint64_t gpa, uint64_t size,
			sd_bus_error *error)
{
	uint32_t max = dom->daemon->config.limits.max_read_bytes;
	int r = caller_check(dom->daemon, m, NULL, error);

	if (r < 0)
		return r;
	if (size > max)
		return av_bus_error_set(error, -E2BIG, "%" PRIu64 " bytes: at most %" PRIu32
					" per call (limits.max_read_bytes)", size, max);
	if (gpa + size < gpa || gpa + size > dom->memory_bytes)
		return av_bus_error_set(error, -EFAULT, "0x%" PRIx64 "+%" PRIu64
					" is outside the domain's %" PRIu64 " bytes",
					gpa, size, dom->memory_bytes);
	return 0;
}

static int method_read_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct dom *dom = userdata;
	uint32_t size;
	uint64_t gpa;
	void *buf;
	int r;

	r = sd_bus_message_read(m, "tu", &gpa, &size);
	if (r >= 0)
		r = memory_check(dom, m, gpa, size, error);
	if (r < 0)
		return r;
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

static int method_write_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	const void *data;
	uint64_t gpa;
	size_t size;
	int r;

	r = sd_bus_message_read(m, "t", &gpa);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &size);
	if (r >= 0)
		r = memory_check(dom, m, gpa, size, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_write(dom->handle, gpa, data, size);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_reply_method_return(m, NULL);
}

/*
 * What a guest granted dom0, copied: the grant decides, so the group may
 * (as it may read all guest memory); within one page.
 */
static int grant_check(struct dom *dom, sd_bus_message *m, uint32_t offset, uint64_t size,
		       sd_bus_error *error)
{
	int r = caller_check(dom->daemon, m, NULL, error);

	if (r < 0)
		return r;
	if (size == 0 || offset >= AV_PAGE_SIZE || size > AV_PAGE_SIZE - offset)
		return av_bus_error_set(error, -EINVAL, "%" PRIu64 " bytes at offset %" PRIu32
					" do not fit in a granted page", size, offset);
	return 0;
}

static int method_read_grant(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct dom *dom = userdata;
	uint32_t ref, offset, size;
	void *buf;
	int r;

	r = sd_bus_message_read(m, "uuu", &ref, &offset, &size);
	if (r >= 0)
		r = grant_check(dom, m, offset, size, error);
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append_array_space(reply, 'y', size, &buf);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_grant_copy_from(dom->daemon->hv, dom->id, ref, offset, buf, size);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_send(NULL, reply, NULL);
}

static int method_write_grant(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	uint32_t ref, offset;
	const void *data;
	size_t size;
	int r;

	r = sd_bus_message_read(m, "uu", &ref, &offset);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &size);
	if (r >= 0)
		r = grant_check(dom, m, offset, size, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_grant_copy_to(dom->daemon->hv, dom->id, ref, offset, data, (uint32_t)size);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	return sd_bus_reply_method_return(m, NULL);
}

/* EVTCHNOP_status of one of the guest's ports: who it is bound to, if anyone. */
static int method_event_channel_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct evtchn_status st;
	uint32_t port, other;
	int r;

	r = sd_bus_message_read(m, "u", &port);
	if (r >= 0)
		r = caller_check(dom->daemon, m, NULL, error);
	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_evtchn_status_xen(dom->handle, port, &st);
	if (r < 0)
		return r == -EINVAL ? av_bus_error_set(error, r, "domain %" PRIu32 " has no port %"
						       PRIu32, dom->id, port)
				    : daemon_reply_error(error, r, "");
	other = st.status == EVTCHNSTAT_interdomain ? st.u.interdomain.port
		: st.status == EVTCHNSTAT_virq ? st.u.virq : 0;
	return sd_bus_reply_method_return(m, "uuuu", st.status, st.vcpu,
					  st.status == EVTCHNSTAT_unbound ? st.u.unbound.dom
					  : st.status == EVTCHNSTAT_interdomain ? st.u.interdomain.dom : 0,
					  other);
}

int vcpu_check(struct dom *dom, uint32_t vcpu, sd_bus_error *error)
{
	if (vcpu < dom->nr_vcpus)
		return 0;
	return av_bus_error_set(error, -EINVAL, "domain %" PRIu32 " has no vCPU %" PRIu32, dom->id,
				vcpu);
}

/*
 * A vCPU's registers are its thread's while it runs, and a client's only
 * while it waits for that client: they may be read or set while the
 * domain is paused (Pause, or anyone's Hold), or while the vCPU waits in
 * an event posted to the caller's own subscription, as Xen's rule that a
 * vCPU's context is read while it is paused.
 */
static int regs_check(struct dom *dom, sd_bus_message *m, uint32_t vcpu, sd_bus_error *error)
{
	int r = caller_check(dom->daemon, m, NULL, error);

	if (r >= 0)
		r = vcpu_check(dom, vcpu, error);
	if (r < 0)
		return r;
	if (vcpu_held(dom, vcpu) || conn_awaits(dom, sd_bus_message_get_sender(m), vcpu))
		return 0;
	return av_bus_error_set(error, -EBUSY, "vCPU %" PRIu32 " of domain %" PRIu32 " runs: pause "
				"or hold the domain or the vCPU, or wait for an event of that vCPU",
				vcpu, dom->id);
}

/* The vCPU's registers now, if the caller may have them. */
static int regs_fetch(struct dom *dom, sd_bus_message *m, uint32_t vcpu, struct av_regs_x86 *regs,
		      sd_bus_error *error)
{
	int r = regs_check(dom, m, vcpu, error);

	if (r < 0)
		return r;
	daemon_clear_error();
	r = av_vcpu_get_regs(dom->handle, vcpu, regs);
	return r < 0 ? daemon_reply_error(error, r, "") : 0;
}

static int method_get_registers(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct dom *dom = userdata;
	struct av_regs_x86 regs;
	uint32_t vcpu;
	int r;

	r = sd_bus_message_read(m, "u", &vcpu);
	if (r >= 0)
		r = regs_fetch(dom, m, vcpu, &regs, error);
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = av_bus_append_regs(reply, &regs);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* The registers named in an a{st}, over what the vCPU has: nothing else changes. */
static int read_registers(sd_bus_message *m, struct av_regs_x86 *regs, bool *given,
			  sd_bus_error *error)
{
	const char *name;
	uint64_t value;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{st}");
	while (r >= 0 && (r = sd_bus_message_read(m, "{st}", &name, &value)) > 0) {
		const struct reg_name *rn = reg_by_name(name);

		if (!rn)
			return av_bus_error_set(error, -EINVAL, "unknown register \"%s\" (rax .. gs_sel, "
						"as GetRegisters names them)", name);
		if (rn->size < sizeof(value) && value >> (8 * rn->size))
			return av_bus_error_set(error, -EINVAL, "%s: %#" PRIx64 " does not fit in %zu "
						"bits", name, value, 8 * rn->size);
		reg_set(regs, rn, value);
		given[rn - reg_names] = true;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int method_set_registers(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	struct av_regs_x86 wanted = { 0 }, regs;
	bool given[sizeof(struct av_regs_x86) / sizeof(uint16_t)] = { 0 };
	uint32_t vcpu;
	int r;

	r = sd_bus_message_read(m, "u", &vcpu);
	if (r >= 0)
		r = read_registers(m, &wanted, given, error);
	if (r >= 0)
		r = regs_fetch(dom, m, vcpu, &regs, error);
	if (r < 0)
		return r;
	for (const struct reg_name *rn = reg_names; rn->name; rn++)
		if (given[rn - reg_names])
			reg_set(&regs, rn, reg_get(&wanted, rn));
	r = av_vcpu_set_regs(dom->handle, vcpu, &regs);
	if (r < 0)
		return daemon_reply_error(error, r, "");
	/* Clients that read them from their event must ask again. */
	if (dom->monitor)
		monitor_regs_changed(dom->monitor, vcpu);
	return sd_bus_reply_method_return(m, NULL);
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
	if (!strcmp(prop, "AccessRequired"))
		return sd_bus_message_append(reply, "b",
					     (int)(dom->spec_access_required || dom->access_requirers));
	if (!strcmp(prop, "CrashReason"))
		return sd_bus_message_append(reply, "s", dom->crash_reason);
	/*
	 * Asked of the core each time: no vCPU reports its program's end to the
	 * daemon.  Idle, the state may have moved (a crash): published first.
	 */
	if (!strcmp(prop, "Idle")) {
		bool idle = av_domain_wait_idle(dom->handle, 0) == 0;

		if (idle)
			dom_refresh(dom);
		return sd_bus_message_append(reply, "b", idle);
	}
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

const sd_bus_vtable domain_vtable[] = {
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
	SD_BUS_PROPERTY("Idle", "b", property_state, 0, 0),
	SD_BUS_PROPERTY("AccessRequired", "b", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
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
	SD_BUS_METHOD_WITH_ARGS("WriteMemory", SD_BUS_ARGS("t", address, "ay", data),
				SD_BUS_NO_RESULT, method_write_memory, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ReadGrant", SD_BUS_ARGS("u", ref, "u", offset, "u", size),
				SD_BUS_RESULT("ay", data), method_read_grant, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("WriteGrant", SD_BUS_ARGS("u", ref, "u", offset, "ay", data),
				SD_BUS_NO_RESULT, method_write_grant, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetEventChannelStatus", SD_BUS_ARGS("u", port),
				SD_BUS_RESULT("u", status, "u", vcpu, "u", domain, "u", port_or_virq),
				method_event_channel_status, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetRegisters", SD_BUS_ARGS("u", vcpu),
				SD_BUS_RESULT("a{st}", registers), method_get_registers,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetRegisters", SD_BUS_ARGS("u", vcpu, "a{st}", registers),
				SD_BUS_NO_RESULT, method_set_registers, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
