/* SPDX-License-Identifier: MIT */
/*
 * bus-connect.h — the bus the daemon and its clients are told to use, and
 * what clients put into their calls and read out of the replies.
 */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

/*
 * Connects to the bus at the D-Bus @address when given, else to the user's
 * session bus (@user) or the system bus.  Negative errno on failure.
 */
int av_bus_connect(const char *address, bool user, sd_bus **ret);

/*
 * Appends a subscription filter that selects event kinds only, the a{sv}
 * {"kinds": as} of Domain.Subscribe and Client.SetFilter; @kinds is a
 * NULL-terminated list of names ("mem_access", ...).
 */
int av_bus_append_kinds_filter(sd_bus_message *m, char **kinds);

/* Takes one property (its value a variant) it knows into @obj, skips the others. */
typedef int av_bus_prop_reader_t(sd_bus_message *m, const char *name, void *obj);

/* Walks the a{sv} of a Properties.GetAll reply, handing each entry to @read. */
int av_bus_read_properties(sd_bus_message *reply, av_bus_prop_reader_t *read, void *obj);
