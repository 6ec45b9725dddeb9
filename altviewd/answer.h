/* SPDX-License-Identifier: MIT */
/*
 * answer.h — what altviewd does with its clients' answers to one
 * synchronous event: check each, stand in for the missing, merge them into
 * the one answer the vCPU resumes with.  Pure functions, in Xen's terms.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen-public.h"

/* What a client that does not answer in time (or goes away) is taken to have said. */
enum default_answer {
	DEFAULT_ANSWER_ALLOW = 0,   /* no flags: the vCPU retries under the same rights */
	DEFAULT_ANSWER_EMULATE,     /* the access is carried out despite the view */
	DEFAULT_ANSWER_DENY,        /* a write is skipped */
};

struct answer {
	vm_event_response_t rsp;
	int32_t priority;           /* higher wins a view switch or register change */
	uint64_t serial;            /* earlier subscription wins a tie */
};

/*
 * Checks an answer copied out of a client's slot for the event @req: NULL
 * if it may be merged, else why not.  @nr_views bounds view indices.
 */
const char *answer_check(const vm_event_response_t *rsp, const vm_event_request_t *req,
			 uint32_t nr_views);

/* The default answer to @req. */
void answer_default(enum default_answer def, const vm_event_request_t *req,
		    vm_event_response_t *rsp);

/*
 * Merges @n answers to @req into @out (org.altview1(5), "Merging answers"):
 * DENY beats EMULATE beats allowing; a view switch (ALTERNATE_P2M, and
 * FAST_SINGLESTEP with it) and a register change each come whole from the
 * highest-priority answer that asks for one; single-stepping toggles once
 * if anyone asks.  @n may be 0: nobody was interested, and a memory access
 * is then emulated (nobody objects to it; retrying would only trap again).
 */
void answers_merge(const struct answer *answers, size_t n, const vm_event_request_t *req,
		   vm_event_response_t *out);

int default_answer_from_name(const char *name, enum default_answer *out);
const char *default_answer_name(enum default_answer def);
