/* SPDX-License-Identifier: MIT */
/*
 * names.c — the words org.altview1 uses for access rights and event kinds,
 * shared by altviewd, altviewctl, altview-access and libaltview's altviewd
 * backend.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "names.h"

static const char *const access_names[] = {
	[AV_ACCESS_N] = "n",
	[AV_ACCESS_R] = "r",
	[AV_ACCESS_W] = "w",
	[AV_ACCESS_RW] = "rw",
	[AV_ACCESS_X] = "x",
	[AV_ACCESS_RX] = "rx",
	[AV_ACCESS_WX] = "wx",
	[AV_ACCESS_RWX] = "rwx",
	[AV_ACCESS_RX2RW] = "rx2rw",
	[AV_ACCESS_N2RWX] = "n2rwx",
	[AV_ACCESS_DEFAULT] = "default",
};

int name_lookup(const char *const *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (table[i] && !strcmp(name, table[i]))
			return (int)i;
	return -EINVAL;
}

int access_from_name(const char *name, enum av_access *out)
{
	int i = NAME_LOOKUP(access_names, name);

	if (i >= 0)
		*out = (enum av_access)i;
	return i < 0 ? i : 0;
}

const char *access_name(enum av_access a)
{
	return (size_t)a < sizeof(access_names) / sizeof(access_names[0]) ? access_names[a] : "?";
}

static const char *const kind_names[AV_EVENT__MAX] = {
	[AV_EVENT_MEM_ACCESS] = "mem_access",
	[AV_EVENT_BREAKPOINT] = "breakpoint",
	[AV_EVENT_SINGLESTEP] = "singlestep",
	[AV_EVENT_CPUID] = "cpuid",
	[AV_EVENT_GUEST_REQUEST] = "guest_request",
};

const char *event_kind_name(enum av_event_kind k)
{
	return k > 0 && k < AV_EVENT__MAX ? kind_names[k] : NULL;
}

int event_kind_from_name(const char *name, enum av_event_kind *out)
{
	int k = NAME_LOOKUP(kind_names, name);

	if (k >= 0)
		*out = (enum av_event_kind)k;
	return k < 0 ? k : 0;
}

#define REG(F) { #F, offsetof(struct av_regs_x86, F), sizeof(((struct av_regs_x86 *)0)->F) }
const struct reg_name reg_names[] = {
	REG(rax), REG(rcx), REG(rdx), REG(rbx), REG(rsp), REG(rbp), REG(rsi), REG(rdi),
	REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13), REG(r14), REG(r15),
	REG(rflags), REG(dr6), REG(dr7), REG(rip), REG(cr0), REG(cr2), REG(cr3), REG(cr4),
	REG(sysenter_cs), REG(sysenter_esp), REG(sysenter_eip), REG(msr_efer), REG(msr_star),
	REG(msr_lstar), REG(gdtr_base), REG(fs_base), REG(gs_base), REG(shadow_gs),
	REG(gdtr_limit), REG(cs_sel), REG(ss_sel), REG(ds_sel), REG(es_sel), REG(fs_sel),
	REG(gs_sel),
	{ 0 }
};
#undef REG

const struct reg_name *reg_by_name(const char *name)
{
	for (const struct reg_name *r = reg_names; r->name; r++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

uint64_t reg_get(const struct av_regs_x86 *regs, const struct reg_name *r)
{
	const char *field = (const char *)regs + r->offset;

	return r->size == sizeof(uint16_t) ? *(const uint16_t *)field : *(const uint64_t *)field;
}

void reg_set(struct av_regs_x86 *regs, const struct reg_name *r, uint64_t value)
{
	char *field = (char *)regs + r->offset;

	if (r->size == sizeof(uint16_t))
		*(uint16_t *)field = (uint16_t)value;
	else
		*(uint64_t *)field = value;
}
