/* SPDX-License-Identifier: MIT */
/*
 * log.c — one line per message, written with a single write() so lines from
 * the vCPU threads (libaltview's log callback) never interleave.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

/* Both set in main() before any thread exists; only read after. */
static int max_level = LOG_INFO;
static bool journal;

void log_init(void)
{
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_max_level(int level)
{
	max_level = level;
}

/*
 * Control characters come out as \xNN: a name or a path a client chose
 * must not end the line and forge the next one, nor (under journald)
 * start it with a priority such as <0>.
 */
static size_t escape(char *out, size_t size, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *in && n + 4 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c != 0x7f) {
			out[n++] = (char)c;
			continue;
		}
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[c >> 4];
		out[n++] = hex[c & 15];
	}
	return n;
}

void log_full(int level, const char *fmt, ...)
{
	char msg[1024], line[1024];
	size_t n = 0;
	va_list ap;

	if (level > max_level)
		return;
	if (journal)
		n = (size_t)snprintf(line, sizeof(line), "<%d>", level);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n += escape(line + n, sizeof(line) - n - 1, msg);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
