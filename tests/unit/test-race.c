/* SPDX-License-Identifier: MIT */
/*
 * Concurrency: superpage and NOSUPER references racing on one 2 MiB block
 * must exclude each other (each winner sees its own type while it holds
 * it), and many threads mapping the same frames must leave every count
 * exactly where it started.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "counts.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)
#define MIN_WINS 200

struct race {
	struct hv *hv;
	struct hv_domain *d;
	uint64_t mfn0;
	atomic_bool stop;
	atomic_uint super_wins, nosuper_wins, violations;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * While a side holds its reference, the block must show its type the whole
 * time; holding for a while gives the other side room to (wrongly) win.
 */
static void hold_and_check(struct race *r, enum hv_spage_type mine)
{
	for (int i = 0; i < 64; i++) {
		struct hv_spage_info si;

		hv_spage_info(r->hv, r->mfn0, &si);
		if (si.type != mine || si.type_count == 0) {
			atomic_fetch_add(&r->violations, 1);
			return;
		}
	}
}

static void *superpage_mapper(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		void *p;
		int rc = hv_foreign_map(r->hv, hv_domain_id(r->d), 0, 512,
					HV_MAP_WRITE | HV_MAP_SUPERPAGE_ONLY, &p);

		if (rc == -EBUSY)
			continue;
		if (rc < 0) {
			atomic_fetch_add(&r->violations, 1);
			break;
		}
		hold_and_check(r, HV_SGT_SUPERPAGE);
		atomic_fetch_add(&r->super_wins, 1);
		hv_foreign_unmap(r->hv, p);
		/* Give the other side its turn even where threads run serially. */
		sched_yield();
	}
	return NULL;
}

static void *nosuper_user(void *arg)
{
	struct race *r = arg;
	unsigned int i = 0;

	while (!atomic_load(&r->stop)) {
		uint64_t mfn = r->mfn0 + (i++ % 512);
		int rc = hv_frame_get_typed(r->d, mfn, HV_PGT_GRANT_TABLE);

		if (rc == -EBUSY)
			continue;
		if (rc < 0) {
			atomic_fetch_add(&r->violations, 1);
			break;
		}
		hold_and_check(r, HV_SGT_NOSUPER);
		atomic_fetch_add(&r->nosuper_wins, 1);
		hv_frame_put_typed(r->d, mfn, HV_PGT_GRANT_TABLE);
		sched_yield();
	}
	return NULL;
}

static void superpage_vs_nosuper(void)
{
	struct race r = { .hv = test_hv(16 * MiB) };
	pthread_t t[2];
	struct hv_p2m_entry e;
	struct hv_spage_info si;
	double start = now(), deadline = start + 20;

	r.d = test_domain(r.hv, 2 * MiB);
	hv_p2m_get_entry(r.d, 0, &e);
	r.mfn0 = e.mfn;
	pthread_create(&t[0], NULL, superpage_mapper, &r);
	pthread_create(&t[1], NULL, nosuper_user, &r);
	/* Run until both sides have won often, so the race really happened. */
	while (now() < deadline && (now() < start + 0.5 ||
				    atomic_load(&r.super_wins) < MIN_WINS ||
				    atomic_load(&r.nosuper_wins) < MIN_WINS))
		sched_yield();
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	printf("# superpage wins %u, nosuper wins %u\n", r.super_wins, r.nosuper_wins);
	CHECK_EQ(atomic_load(&r.violations), 0);
	CHECK(atomic_load(&r.super_wins) >= MIN_WINS);
	CHECK(atomic_load(&r.nosuper_wins) >= MIN_WINS);
	hv_spage_info(r.hv, r.mfn0, &si);
	CHECK_EQ(si.count, 0);
	CHECK_EQ(si.type_count, 0);
	CHECK_EQ(si.type, HV_SGT_NONE);
	domain_end(r.d);
	CHECK(hv_end_clean(r.hv));
}

struct mapper {
	struct race *r;
	unsigned int flags;
	int failures;
};

static void *map_loop(void *arg)
{
	struct mapper *m = arg;

	for (int i = 0; i < 300; i++) {
		void *p;

		if (hv_foreign_map(m->r->hv, hv_domain_id(m->r->d), (uint64_t)i % 3, 1024,
				   m->flags, &p) < 0 || hv_foreign_unmap(m->r->hv, p) < 0)
			m->failures++;
	}
	return NULL;
}

static void many_mappers_balance(void)
{
	struct race r = { .hv = test_hv(16 * MiB) };
	struct mapper m[6];
	pthread_t t[6];
	struct counts *before;

	r.d = test_domain(r.hv, 8 * MiB);
	before = counts_take(r.hv);
	for (int i = 0; i < 6; i++) {
		m[i] = (struct mapper){ .r = &r, .flags = (i & 1 ? HV_MAP_WRITE : 0) |
							 (i & 2 ? HV_MAP_4K : 0) };
		pthread_create(&t[i], NULL, map_loop, &m[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(m[i].failures, 0);
	}
	CHECK(counts_unchanged(before, r.hv));
	domain_end(r.d);
	CHECK(hv_end_clean(r.hv));
}

T_MAIN(T_CASE(superpage_vs_nosuper),
       T_CASE(many_mappers_balance))
