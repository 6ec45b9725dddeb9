/* SPDX-License-Identifier: MIT */
/*
 * names.h — access rights and event kinds as org.altview1 spells them.
 */
#pragma once

#include <stddef.h>

#include <altview/domain.h>
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

/*
 * The registers of struct av_regs_x86 by name, as org.altview1 carries them
 * (an a{st}: "rax" .. "gs_sel"); NULL-terminated.  @size is 8 or 2 bytes.
 */
struct reg_name {
	const char *name;
	size_t offset, size;
};
extern const struct reg_name reg_names[];

/* The register called @name, or NULL. */
const struct reg_name *reg_by_name(const char *name);
uint64_t reg_get(const struct av_regs_x86 *regs, const struct reg_name *r);
void reg_set(struct av_regs_x86 *regs, const struct reg_name *r, uint64_t value);
