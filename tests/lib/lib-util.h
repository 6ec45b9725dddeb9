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
 * ("hv:" when unset; with-altviewd.sh sets an altviewd: one, with-xen.sh
 * "xen:" on altview's Xen-compatible libraries).
 */
const char *t_uri(void);
bool t_daemon(void);
bool t_xen(void);
av_hv *t_open(void);
/* av_close(), and through altviewd or Xen the domains the case made go too. */
void t_close(av_hv *hv);
/*
 * A domain from a JSON spec, or NULL (and a failed case).  On xen: the
 * toolstack makes it, as xl would: the hypervisor under the Xen-compatible
 * libraries, and this handle opens it by id.
 */
av_domain *t_domain(av_hv *hv, const char *json);
/* The backend's name, as av_hv_get_info says it. */
const char *t_backend(void);
/* Ends the domain, as its maker would: on xen: the toolstack, else av_domain_destroy(). */
int t_destroy(av_domain *dom);
/*
 * What the guest's own kernel uses (av_guest_*): the domain itself, and on
 * xen: (whose guests run their own kernels) the toolstack's handle on it,
 * closed by t_close().
 */
av_domain *t_guest(av_domain *dom);
bool t_log_has(const char *needle);

/* One hypervisor for a whole test program: first and last case. */
extern av_hv *t_hv;
void t_setup(void);
void t_teardown(void);
