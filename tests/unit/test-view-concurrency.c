/* SPDX-License-Identifier: MIT */
/*
 * vCPUs run while two monitor threads set access in every view, switch
 * views for one vCPU and for all, remap gfns and create and destroy views.
 * The guests must finish every step, nothing may crash, deadlock or leak,
 * and TSan must stay quiet.  Guests write only their own pages and remaps
 * touch only pages that are read, so the guest itself has no data race.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)
#define VCPUS 4
#define LOOPS 30000
#define READ_GFNS 64
#define WRITE_GFN(i) (100 + (i))

struct monitor {
	struct hv_domain *d;
	atomic_bool *stop;
	unsigned int seed;
	atomic_ulong ops;
	unsigned long failures;
};

static const xenmem_access_t accesses[] = {
	XENMEM_access_r, XENMEM_access_rw, XENMEM_access_rwx, XENMEM_access_rx,
	XENMEM_access_n, XENMEM_access_rx2rw, XENMEM_access_n2rwx, XENMEM_access_x,
};

static void *monitor_thread(void *arg)
{
	struct monitor *m = arg;

	while (!atomic_load(m->stop)) {
		unsigned int op = (unsigned int)rand_r(&m->seed) % 16;
		unsigned int view = (unsigned int)rand_r(&m->seed) % 4;
		uint64_t g = (uint64_t)rand_r(&m->seed) % READ_GFNS;
		int r = 0;

		if (op < 8) {
			if (op < 2)
				g = WRITE_GFN((unsigned int)rand_r(&m->seed) % VCPUS);
			r = hv_view_set_access(m->d, view, g, 1,
					       accesses[(unsigned int)rand_r(&m->seed) % 8]);
		} else if (op < 11) {
			r = hv_vcpu_switch_view(hv_domain_vcpu(m->d, (unsigned int)rand_r(&m->seed) % VCPUS),
						view);
		} else if (op < 13 && view) {
			uint64_t to = op == 12 ? HV_INVALID_GFN : (uint64_t)rand_r(&m->seed) % READ_GFNS;

			r = hv_view_change_gfn(m->d, view, g, to);
		} else if (op == 13) {
			r = hv_view_switch(m->d, view);
		} else if (op == 14) {
			unsigned int idx;

			r = hv_view_create(m->d, XENMEM_access_rwx, &idx);
			if (r == -ENOSPC)
				r = 0;
		} else {
			r = hv_view_destroy(m->d, 4 + (unsigned int)rand_r(&m->seed) % 6);
			if (r == -EBUSY || r == -ENOENT)
				r = 0;
		}
		/* Racing another monitor's destroy is the only legal failure. */
		if (r < 0 && r != -ENOENT)
			m->failures++;
		atomic_fetch_add(&m->ops, 1);
	}
	return NULL;
}

static void monitors_race_running_vcpus(void)
{
	struct hv *hv = test_hv(32 * MiB);
	struct hv_script *s[VCPUS];
	struct monitor mon[2];
	pthread_t t[2];
	struct recorder rec;
	struct hv_domain *d;
	atomic_bool stop = false;
	unsigned int idx;

	for (unsigned int i = 0; i < VCPUS; i++) {
		s[i] = hv_script_new();
		hv_script_loop_begin(s[i], LOOPS);
		for (unsigned int k = 0; k < 8; k++)
			hv_script_read(s[i], (i * 16 + k * 7) % READ_GFNS, 8 * k, 8);
		hv_script_exec(s[i], (i * 5) % READ_GFNS, 0, 16);
		hv_script_write(s[i], WRITE_GFN(i), 8 * i, 8, i);
		hv_script_loop_end(s[i]);
	}
	d = test_script_domain(hv, 2 * MiB, VCPUS, s, VCPUS);
	CHECK_EQ(hv_views_enable(d, 10), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), 0);
	recorder_init(&rec);
	rec.auto_answer = true;
	rec.answer.flags = VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE;
	CHECK_EQ(hv_domain_set_listener(d, 1u << VM_EVENT_REASON_MEM_ACCESS, recorder_fn, &rec), 0);

	for (unsigned int i = 0; i < 2; i++) {
		mon[i] = (struct monitor){ .d = d, .stop = &stop, .seed = 7 + i };
		pthread_create(&t[i], NULL, monitor_thread, &mon[i]);
	}
	/* Both monitors are busy before the guest starts... */
	while (atomic_load(&mon[0].ops) < 50 || atomic_load(&mon[1].ops) < 50)
		sched_yield();
	unsigned long before[2] = { atomic_load(&mon[0].ops), atomic_load(&mon[1].ops) };

	CHECK_EQ(hv_domain_unpause(d), 0);
	int idle = hv_domain_wait_idle(d, 120000);
	/* ...and both made progress while it ran: the race really happened. */
	unsigned long during[2] = { atomic_load(&mon[0].ops) - before[0],
				    atomic_load(&mon[1].ops) - before[1] };

	atomic_store(&stop, true);
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("# monitor ops during the run %lu + %lu, events %zu\n", during[0], during[1],
	       recorder_count(&rec));
	CHECK_EQ(idle, 0);
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_RUNNING);
	CHECK_EQ(mon[0].failures + mon[1].failures, 0);
	CHECK(during[0] > 0 && during[1] > 0);
	CHECK(recorder_count(&rec) > 0);
	for (unsigned int i = 0; i < VCPUS; i++) {
		struct hv_vcpu_stats st;

		hv_vcpu_get_stats(hv_domain_vcpu(d, i), &st);
		CHECK_EQ(st.accesses, LOOPS * 10);
	}
	domain_end(d);
	recorder_deinit(&rec);
	for (unsigned int i = 0; i < VCPUS; i++)
		hv_script_free(s[i]);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(monitors_race_running_vcpus))
