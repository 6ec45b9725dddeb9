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

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
	max_level = level;
}

void log_full(int level, const char *fmt, ...)
{
	static int journal = -1;
	char line[1024];
	int n;
	va_list ap;

	if (level > max_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	n = journal ? snprintf(line, sizeof(line), "<%d>", level) : 0;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
