/* SPDX-License-Identifier: MIT */
/*
 * limits.h — the sizes every layer of altview agrees on, written once: the
 * core sizes its tables by them, libaltview and altviewd check arguments
 * against them, the channel lays out a slot per vCPU up to them.
 */
#pragma once

/* vCPUs in one domain. */
#define ALTVIEW_MAX_VCPUS 128
/* Views in one domain, view 0 included: the size of Xen's EPTP list. */
#define ALTVIEW_MAX_VIEWS 512
