/* SPDX-License-Identifier: MIT */
/*
 * bus-connect.h — the bus the daemon and its clients are told to use.
 */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

/*
 * Connects to the bus at the D-Bus @address when given, else to the user's
 * session bus (@user) or the system bus.  Negative errno on failure.
 */
int av_bus_connect(const char *address, bool user, sd_bus **ret);
