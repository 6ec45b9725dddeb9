/* SPDX-License-Identifier: MIT */
/*
 * names.h — access rights and event kinds as org.altview1 spells them.
 */
#pragma once

#include <stddef.h>

#include <altview/monitor.h>
#include <altview/view.h>

/*
 * The index of @name in @table of @n entries (a NULL entry matches
 * nothing), or -EINVAL: every name ⇄ value table reads back this way.
 */
int name_lookup(const char *const *table, size_t n, const char *name);
#define NAME_LOOKUP(table, name) name_lookup((table), sizeof(table) / sizeof((table)[0]), (name))

/* "n" .. "n2rwx", "default"; -EINVAL for anything else. */
int access_from_name(const char *name, enum av_access *out);
const char *access_name(enum av_access a);

/* "mem_access", "breakpoint", "singlestep", "cpuid", "guest_request". */
const char *event_kind_name(enum av_event_kind k);
int event_kind_from_name(const char *name, enum av_event_kind *out);
