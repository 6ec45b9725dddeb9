/* SPDX-License-Identifier: MIT */
/*
 * manager.c — /org/altview1 (org.altview1.Manager): the domains as a whole,
 * and the daemon's status line for systemd.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "daemon.h"
#include "log.h"

void manager_status(struct daemon *daemon)
{
	sd_notifyf(false, "STATUS=%s%u domain%s on %s", daemon->stopping ? "Stopping: " : "",
		   daemon->nr_domains, daemon->nr_domains == 1 ? "" : "s", daemon->config.backend);
}

static int method_list_domains(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct daemon *daemon = userdata;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "(uso)");
	for (struct dom *dom = daemon->domains; r >= 0 && dom; dom = dom->next)
		r = sd_bus_message_append(reply, "(uso)", dom->id, dom->name, dom->path);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_create_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *daemon = userdata;
	const char *spec;
	struct dom *dom;
	int r;

	r = sd_bus_message_read(m, "s", &spec);
	if (r < 0)
		return r;
	r = caller_check(daemon, m, NULL, error);
	if (r < 0)
		return r;
	r = dom_create(daemon, spec, &dom, error);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, "uo", dom->id, dom->path);
}

static int method_destroy_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *daemon = userdata;
	struct dom *dom;
	uint32_t id;
	int r;

	r = sd_bus_message_read(m, "u", &id);
	if (r < 0)
		return r;
	r = caller_check(daemon, m, NULL, error);
	if (r < 0)
		return r;
	dom = dom_find(daemon, id);
	if (!dom)
		return av_bus_error_set(error, -ESRCH, "no domain %" PRIu32, id);
	log_info("domain %" PRIu32 " \"%s\" destroyed", dom->id, dom->name);
	dom_remove(dom, true);
	return sd_bus_reply_method_return(m, NULL);
}

static int property_manager(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *daemon = userdata;

	if (!strcmp(prop, "Version"))
		return sd_bus_message_append(reply, "s", av_version());
	if (!strcmp(prop, "Backend"))
		return sd_bus_message_append(reply, "s", daemon->config.backend);
	if (!strcmp(prop, "MaxViews"))
		return sd_bus_message_append(reply, "u", daemon->hv_info.max_views);
	return sd_bus_message_append(reply, "u", daemon->hv_info.max_vcpus);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_manager, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Backend", "s", property_manager, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MaxViews", "u", property_manager, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MaxVcpus", "u", property_manager, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD_WITH_ARGS("ListDomains", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uso)", domains),
				method_list_domains, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CreateDomain", SD_BUS_ARGS("s", spec),
				SD_BUS_RESULT("u", id, "o", path), method_create_domain, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("DestroyDomain", SD_BUS_ARGS("u", id), SD_BUS_NO_RESULT,
				method_destroy_domain, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int manager_register(struct daemon *daemon)
{
	int r;

	r = sd_bus_add_object_vtable(daemon->bus, NULL, MANAGER_PATH, MANAGER_IFACE, manager_vtable,
				     daemon);
	if (r >= 0)
		r = sd_bus_add_object_vtable(daemon->bus, NULL, MANAGER_PATH, MANAGER_IFACE,
					     mapping_manager_vtable, daemon);
	if (r >= 0)
		r = sd_bus_add_object_vtable(daemon->bus, NULL, MANAGER_PATH, MANAGER_IFACE,
					     evtchn_manager_vtable, daemon);
	if (r >= 0)
		r = sd_bus_add_object_manager(daemon->bus, NULL, MANAGER_PATH);
	if (r >= 0)
		r = domain_objects_register(daemon);
	return r;
}
