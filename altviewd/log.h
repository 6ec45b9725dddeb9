/* SPDX-License-Identifier: MIT */
/*
 * log.h — the daemon's messages go to stderr; under systemd (JOURNAL_STREAM
 * set) each line carries its syslog priority as a "<N>" prefix, which the
 * journal understands, so no logging library is needed.
 */
#pragma once

#include <syslog.h>

void log_init(void);
void log_set_max_level(int level);
void log_full(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
