/* SPDX-License-Identifier: MIT */
/*
 * bus-connect.h — the bus the daemon and its clients are told to use, and
 * what clients put into their calls.
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
