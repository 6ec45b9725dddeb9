/* SPDX-License-Identifier: MIT */
/*
 * Whole-machine snapshots of the frame and superpage tables, so a test can
 * prove that a failed call left every count exactly as it was.
 */
#pragma once

#include "hv.h"

struct counts;

struct counts *counts_take(struct hv *hv);
/* Compares @before with the tables now, reports the first difference, frees @before. */
bool counts_unchanged(struct counts *before, struct hv *hv);
/* Every frame free and every superpage unused: no reference leaked. */
bool counts_all_free(struct hv *hv);
/* counts_all_free(), then hv_free() either way. */
bool hv_end_clean(struct hv *hv);
/* Destroys @d and drops the caller's reference. */
void domain_end(struct hv_domain *d);
/* A machine for one test; log messages go to TAP diagnostics. */
struct hv *test_hv(uint64_t machine_bytes);
struct hv_domain *test_domain(struct hv *hv, uint64_t memory_bytes);
/* Creates a domain from @opts or ends the test program with the reason. */
struct hv_domain *test_domain_with(struct hv *hv, const struct hv_domain_opts *opts);
