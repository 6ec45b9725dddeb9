/* SPDX-License-Identifier: MIT */
/*
 * Xen's public interface headers (libxen-dev), included the way Xen's own
 * tools include them: fixed-width types first, and the tools-only parts
 * (xenmem_access_t, vm_event, domctl) visible.
 */
#pragma once

#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif

#include <stdint.h>

/* ring.h asks its includer for barriers; vm_event.h includes ring.h. */
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/vm_event.h>
#include <xen/sched.h>
#include <xen/hvm/hvm_op.h>

/*
 * Xen denies a write with EMULATE|EMULATE_NOWRITE (its DENY is for
 * control-register writes); altview's answer for that is DENY.  Answers
 * in Xen's form are read through this where they enter altview.
 */
static inline uint32_t xen_response_flags(uint32_t flags)
{
	const uint32_t nowrite = VM_EVENT_FLAG_EMULATE | VM_EVENT_FLAG_EMULATE_NOWRITE;

	return (flags & nowrite) == nowrite ? (flags & ~nowrite) | VM_EVENT_FLAG_DENY : flags;
}

/* Xen's view table: 10 views, view 0 included (its private MAX_ALTP2M). */
#define XEN_MAX_ALTP2M 10

/*
 * Response flags a monitor may legally send that altview has nothing to do
 * for (no instruction emulator with read or instruction data, no event
 * injection, no vmtrace, no forks): ignored as if absent, never a reason to
 * refuse an answer, or a tool written for Xen would leave its vCPU paused.
 */
#define XEN_RESPONSE_FLAGS_IGNORED                                            \
	(VM_EVENT_FLAG_EMULATE_NOWRITE | VM_EVENT_FLAG_SET_EMUL_READ_DATA |   \
	 VM_EVENT_FLAG_SET_EMUL_INSN_DATA | VM_EVENT_FLAG_GET_NEXT_INTERRUPT | \
	 VM_EVENT_FLAG_RESET_VMTRACE | VM_EVENT_FLAG_RESET_FORK_STATE |       \
	 VM_EVENT_FLAG_RESET_FORK_MEMORY)
