/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counts.h"
#include "guest.h"

struct hv_domain *test_script_domain(struct hv *hv, uint64_t memory_bytes, unsigned int nr_vcpus,
				     struct hv_script **scripts, size_t nr_scripts)
{
	struct hv_script_config cfg = {
		.nr = nr_scripts,
		.scripts = (const struct hv_script *const *)scripts,
	};
	struct hv_domain_opts opts = {
		.sz = sizeof(opts),
		.memory_bytes = memory_bytes,
		.nr_vcpus = nr_vcpus,
		.engine = &hv_script_engine,
		.engine_config = &cfg,
	};

	return test_domain_with(hv, &opts);
}

void recorder_init(struct recorder *rec)
{
	memset(rec, 0, sizeof(*rec));
	pthread_mutex_init(&rec->lock, NULL);
	pthread_cond_init(&rec->cond, NULL);
}

void recorder_deinit(struct recorder *rec)
{
	pthread_cond_destroy(&rec->cond);
	pthread_mutex_destroy(&rec->lock);
}

void recorder_fn(void *ctx, struct hv_vcpu *v, const struct hv_event *ev)
{
	struct recorder *rec = ctx;
	struct hv_response resp;
	bool answer;

	pthread_mutex_lock(&rec->lock);
	if (rec->n < RECORDER_MAX) {
		rec->events[rec->n] = *ev;
		rec->from[rec->n] = v;
	}
	rec->n++;
	answer = rec->auto_answer && ev->sync;
	resp = rec->answer;
	pthread_cond_broadcast(&rec->cond);
	pthread_mutex_unlock(&rec->lock);
	if (answer) {
		if (rec->before_answer)
			rec->before_answer(rec, v, ev, &resp);
		hv_vcpu_respond(v, &resp);
	}
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

bool recorder_wait(struct recorder *rec, size_t n, int timeout_ms)
{
	struct timespec ts;
	bool ok = true;

	deadline_in(&ts, timeout_ms);
	pthread_mutex_lock(&rec->lock);
	while (rec->n < n && ok)
		ok = pthread_cond_timedwait(&rec->cond, &rec->lock, &ts) == 0;
	ok = rec->n >= n;
	pthread_mutex_unlock(&rec->lock);
	return ok;
}

size_t recorder_count(struct recorder *rec)
{
	size_t n;

	pthread_mutex_lock(&rec->lock);
	n = rec->n;
	pthread_mutex_unlock(&rec->lock);
	return n;
}

bool wait_pause_point(struct hv_vcpu *v, int timeout_ms)
{
	for (int i = 0; i < timeout_ms; i++) {
		if (hv_vcpu_at_pause_point(v))
			return true;
		usleep(1000);
	}
	return false;
}

uint64_t gfn_mfn(struct hv_domain *d, uint64_t gfn)
{
	struct hv_p2m_entry e;

	return hv_p2m_get_entry(d, gfn, &e) == 0 ? e.mfn : HV_INVALID_MFN;
}

static uint8_t *map_gfn(struct hv *hv, struct hv_domain *d, uint64_t gfn, bool write)
{
	void *p = NULL;

	if (hv_foreign_map(hv, hv_domain_id(d), gfn, 1, write ? HV_MAP_WRITE : 0, &p) < 0) {
		printf("# cannot map gfn %#" PRIx64 "\n", gfn);
		exit(1);
	}
	return p;
}

void guest_write(struct hv *hv, struct hv_domain *d, uint64_t gfn, uint32_t off, const void *buf,
		 size_t len)
{
	uint8_t *p = map_gfn(hv, d, gfn, true);

	memcpy(p + off, buf, len);
	hv_foreign_unmap(hv, p);
}

void guest_read(struct hv *hv, struct hv_domain *d, uint64_t gfn, uint32_t off, void *buf,
		size_t len)
{
	uint8_t *p = map_gfn(hv, d, gfn, false);

	memcpy(buf, p + off, len);
	hv_foreign_unmap(hv, p);
}
