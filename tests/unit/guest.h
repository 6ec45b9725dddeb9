/* SPDX-License-Identifier: MIT */
/* Script-engine domains and an event-recording listener for tests. */
#pragma once

#include <pthread.h>

#include "hv.h"

/* A domain running @scripts (one for all when @nr_scripts is 1), paused. */
struct hv_domain *test_script_domain(struct hv *hv, uint64_t memory_bytes, unsigned int nr_vcpus,
				     struct hv_script **scripts, size_t nr_scripts);

#define RECORDER_MAX 1024

/*
 * Records every event; answers synchronous ones with @answer at once when
 * @auto_answer is set, or leaves them for the test to answer.
 */
struct recorder {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hv_event events[RECORDER_MAX];
	struct hv_vcpu *from[RECORDER_MAX];
	size_t n;
	bool auto_answer;
	struct hv_response answer;
	/* Optional hook run before answering: may change access or @answer (a copy). */
	void (*before_answer)(struct recorder *rec, struct hv_vcpu *v, const struct hv_event *ev,
			      struct hv_response *answer);
	void *user;
};

void recorder_init(struct recorder *rec);
void recorder_deinit(struct recorder *rec);
hv_event_fn recorder_fn;
/* Waits until at least @n events were recorded; false after @timeout_ms. */
bool recorder_wait(struct recorder *rec, size_t n, int timeout_ms);
size_t recorder_count(struct recorder *rec);
/* Waits until @v has stopped at a pause point. */
bool wait_pause_point(struct hv_vcpu *v, int timeout_ms);
/* The machine frame behind @gfn in the host p2m. */
uint64_t gfn_mfn(struct hv_domain *d, uint64_t gfn);
/* Guest memory through a dom0 mapping. */
void guest_write(struct hv *hv, struct hv_domain *d, uint64_t gfn, uint32_t off, const void *buf,
		 size_t len);
void guest_read(struct hv *hv, struct hv_domain *d, uint64_t gfn, uint32_t off, void *buf,
		size_t len);
