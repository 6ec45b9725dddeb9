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
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/vm_event.h>
