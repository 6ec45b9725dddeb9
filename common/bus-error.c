/* SPDX-License-Identifier: MIT */
/*
 * bus-error.c — one table, read both ways: errno → name when the daemon
 * replies, name → errno (through sd_bus_error_add_map()) when a client
 * turns a reply back into a return value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "bus-error.h"
#include "utf8.h"

/* The first entry for an errno is the name the daemon sends for it. */
static const sd_bus_error_map av_bus_errors[] = {
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_INVALID_ARGUMENT, EINVAL),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_NO_SUCH_DOMAIN, ESRCH),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_NOT_FOUND, ENOENT),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_PERMISSION_DENIED, EACCES),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_NOT_PERMITTED, EPERM),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_BUSY, EBUSY),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_TOO_LARGE, E2BIG),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_LIMIT_REACHED, ENOSPC),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_NOT_SUPPORTED, EOPNOTSUPP),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_ALREADY, EALREADY),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_BAD_ADDRESS, EFAULT),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_TIMEOUT, ETIMEDOUT),
	SD_BUS_ERROR_MAP(AV_BUS_ERROR_FAILED, EIO),
	SD_BUS_ERROR_MAP_END,
};

int av_bus_error_register(void)
{
	int r = sd_bus_error_add_map(av_bus_errors);

	return r < 0 ? r : 0;
}

static const char *name_for(int err)
{
	for (const sd_bus_error_map *m = av_bus_errors; m->name; m++)
		if (m->code == err)
			return m->name;
	return NULL;
}

int av_bus_error_set(sd_bus_error *error, int r, const char *fmt, ...)
{
	const char *name = name_for(-r);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* sd-bus sends no reply at all for a message cut inside a character. */
	utf8_truncate(msg);
	/* An errno without a name of ours keeps sd-bus's System.Error.E* name, which maps back too. */
	if (!name)
		return sd_bus_error_set_errnof(error, -r, "%s", msg);
	return sd_bus_error_set(error, name, msg);
}
