/* SPDX-License-Identifier: MIT */
/*
 * names.h — access rights and event kinds as org.altview1 spells them.
 */
#pragma once

#include <altview/monitor.h>
#include <altview/view.h>

/* "n" .. "n2rwx", "default"; -EINVAL for anything else. */
int access_from_name(const char *name, enum av_access *out);
const char *access_name(enum av_access a);

/* "mem_access", "breakpoint", "singlestep", "cpuid", "guest_request". */
const char *event_kind_name(enum av_event_kind k);
int event_kind_from_name(const char *name, enum av_event_kind *out);
