/* SPDX-License-Identifier: MIT */
/*
 * What the library tests share.  They see libaltview only through its
 * installed headers and its shared object, as a VMI tool does.
 */
#pragma once

#include <altview/altview.h>

#include "harness.h"

/* The last message the library logged (a test checks what it says). */
extern char t_log[512];
extern int t_log_count;

/* "hv:" with 64 MiB of machine memory and the log captured. */
/*
 * Every lib test runs against each backend: ALTVIEW_TEST_URI names it
 * ("hv:" when unset; with-altviewd.sh sets an altviewd: one).
 */
const char *t_uri(void);
bool t_daemon(void);
av_hv *t_open(void);
/* av_close(), and through altviewd the domains the case made go too. */
void t_close(av_hv *hv);
/* A domain from a JSON spec, or NULL (and a failed case). */
av_domain *t_domain(av_hv *hv, const char *json);
bool t_log_has(const char *needle);

/* One hypervisor for a whole test program: first and last case. */
extern av_hv *t_hv;
void t_setup(void);
void t_teardown(void);
