/* SPDX-License-Identifier: MIT */
/* What every test guest has: Xen hypercalls through vmcall, and the console. */
#pragma once

#include <stdint.h>

#include "layout.h"

#define HC_console_io       18
#define HC_grant_table_op   20
#define HC_sched_op         29
#define HC_event_channel_op 32
#define HC_hvm_op           34

#define CONSOLEIO_write 0
#define HVMOP_guest_request_vm_event 24
#define GNTTABOP_setup_table 2
#define EVTCHNOP_send 4
#define EVTCHNOP_alloc_unbound 6

static inline long hypercall3(long nr, long a1, long a2, long a3)
{
	long ret;

	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "memory");
	return ret;
}

static inline void console(const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	hypercall3(HC_console_io, CONSOLEIO_write, n, (long)s);
}

static inline void guest_request(void)
{
	hypercall3(HC_hvm_op, HVMOP_guest_request_vm_event, 0, 0);
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
