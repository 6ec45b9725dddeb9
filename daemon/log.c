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

void log_full(int level, const char *fmt, ...)
{
	char line[1024];
	int n;
	va_list ap;

	if (level > max_level)
		return;
	n = journal ? snprintf(line, sizeof(line), "<%d>", level) : 0;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
