/* SPDX-License-Identifier: MIT */
/*
 * bus-error.h — org.altview1.Error.*: the names the daemon replies with and
 * the errno each stands for, shared by altviewd and its clients so that an
 * error crosses the bus and comes back as the same negative errno.
 */
#pragma once

#include <systemd/sd-bus.h>

#define AV_BUS_ERROR_INVALID_ARGUMENT   "org.altview1.Error.InvalidArgument"
#define AV_BUS_ERROR_NO_SUCH_DOMAIN     "org.altview1.Error.NoSuchDomain"
#define AV_BUS_ERROR_NOT_FOUND          "org.altview1.Error.NotFound"
#define AV_BUS_ERROR_PERMISSION_DENIED  "org.altview1.Error.PermissionDenied"
#define AV_BUS_ERROR_NOT_PERMITTED      "org.altview1.Error.NotPermitted"
#define AV_BUS_ERROR_BUSY               "org.altview1.Error.Busy"
#define AV_BUS_ERROR_TOO_LARGE          "org.altview1.Error.TooLarge"
#define AV_BUS_ERROR_LIMIT_REACHED      "org.altview1.Error.LimitReached"
#define AV_BUS_ERROR_NOT_SUPPORTED      "org.altview1.Error.NotSupported"
#define AV_BUS_ERROR_ALREADY            "org.altview1.Error.Already"
#define AV_BUS_ERROR_BAD_ADDRESS        "org.altview1.Error.BadAddress"
#define AV_BUS_ERROR_TIMEOUT            "org.altview1.Error.Timeout"
#define AV_BUS_ERROR_FAILED             "org.altview1.Error.Failed"

/* Registers the names above with sd-bus (idempotent; sd_bus_error_add_map()). */
int av_bus_error_register(void);

/*
 * Sets @error to the org.altview1.Error name for the negative errno @r, with a
 * message from @fmt, and returns @r; sd-bus replies with it when a method
 * handler returns it.
 */
int av_bus_error_set(sd_bus_error *error, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
