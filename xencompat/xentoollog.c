/* SPDX-License-Identifier: MIT */
/*
 * xentoollog.c — libxentoollog.so.1: the stdio logger Xen tools create and
 * hand to the other libraries, and the calls that log through a logger.
 * Loaded in place of Debian's so that no library of Xen's own is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <xentoollog.h>

#include "private.h"

struct stdiostream {
	xentoollog_logger vtable;           /* first: the logger is this */
	FILE *f;
	xentoollog_level min_level;
	unsigned int flags;
};

static const char *const level_names[] = {
	[XTL_NONE] = "none", [XTL_DEBUG] = "debug", [XTL_VERBOSE] = "verbose",
	[XTL_DETAIL] = "detail", [XTL_PROGRESS] = "progress", [XTL_INFO] = "info",
	[XTL_NOTICE] = "notice", [XTL_WARN] = "warning", [XTL_ERROR] = "error",
	[XTL_CRITICAL] = "critical",
};

XENCOMPAT_API const char *xtl_level_to_string(xentoollog_level level)
{
	return (unsigned int)level < XTL_NUM_LEVELS && level_names[level] ? level_names[level]
									     : "unknown";
}

static void stdiostream_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
				 const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));

static void stdiostream_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
				 const char *context, const char *format, va_list al)
{
	struct stdiostream *s = (struct stdiostream *)logger;

	if (level < s->min_level)
		return;
	if (context)
		fprintf(s->f, "%s: ", context);
	fprintf(s->f, "%s: ", xtl_level_to_string(level));
	vfprintf(s->f, format, al);
	if (errnoval >= 0)
		fprintf(s->f, ": %m");
	fputc('\n', s->f);
	fflush(s->f);
}

static void stdiostream_destroy(xentoollog_logger *logger)
{
	free(logger);
}

XENCOMPAT_API xentoollog_logger_stdiostream *xtl_createlogger_stdiostream(FILE *f,
		xentoollog_level min_level, unsigned flags)
{
	struct stdiostream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->vtable.vmessage = stdiostream_vmessage;
	s->vtable.destroy = stdiostream_destroy;
	s->f = f;
	s->min_level = min_level;
	s->flags = flags;
	return (xentoollog_logger_stdiostream *)s;
}

XENCOMPAT_API void xtl_stdiostream_set_minlevel(xentoollog_logger_stdiostream *logger,
						xentoollog_level min_level)
{
	((struct stdiostream *)logger)->min_level = min_level;
}

XENCOMPAT_API void xtl_stdiostream_adjust_flags(xentoollog_logger_stdiostream *logger,
						unsigned set_flags, unsigned clear_flags)
{
	struct stdiostream *s = (struct stdiostream *)logger;

	s->flags = (s->flags | set_flags) & ~clear_flags;
}

XENCOMPAT_API void xtl_logger_destroy(struct xentoollog_logger *logger)
{
	if (logger && logger->destroy)
		logger->destroy(logger);
}

XENCOMPAT_API void xtl_logv(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
			    const char *context, const char *format, va_list al)
{
	if (logger && logger->vmessage)
		logger->vmessage(logger, level, errnoval, context, format, al);
}

XENCOMPAT_API void xtl_log(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
			   const char *context, const char *format, ...)
{
	va_list al;

	va_start(al, format);
	xtl_logv(logger, level, errnoval, context, format, al);
	va_end(al);
}

XENCOMPAT_API void xtl_progress(struct xentoollog_logger *logger, const char *context,
				const char *doing_what, unsigned long done, unsigned long total)
{
	if (logger && logger->progress)
		logger->progress(logger, context, doing_what,
				 total ? (int)(done * 100 / total) : 0, done, total);
}
