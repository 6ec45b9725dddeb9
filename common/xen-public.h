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
