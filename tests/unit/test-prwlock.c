/* SPDX-License-Identifier: MIT */
/* The per-thread reader lock: exclusion, nesting, slot reuse. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "harness.h"
#include "prwlock.h"

static struct hv_prw_class cls = { .id = 1 };
static struct hv_prwlock a, b;
/* Plain data: writers keep them equal, readers check it. TSan sees races too. */
static unsigned long x, y, x2, y2;
static atomic_bool stop;
static atomic_ulong torn, reads, writes;

static void *reader(void *arg)
{
	bool nested = arg != NULL;

	while (!atomic_load(&stop)) {
		hv_prw_read_lock(&a);
		if (nested)
			hv_prw_read_lock(&b);     /* second lock of the class: the fallback path */
		if (x != y || (nested && x2 != y2))
			atomic_fetch_add(&torn, 1);
		if (nested)
			hv_prw_read_unlock(&b);
		hv_prw_read_unlock(&a);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void *writer(void *arg)
{
	struct hv_prwlock *l = arg;

	while (!atomic_load(&stop)) {
		hv_prw_write_lock(l);
		if (l == &a) {
			x++;
			sched_yield();           /* hold it a while: readers must wait */
			y++;
		} else {
			x2++;
			sched_yield();
			y2++;
		}
		hv_prw_write_unlock(l);
		atomic_fetch_add(&writes, 1);
	}
	return NULL;
}

static void readers_and_writers_exclude(void)
{
	pthread_t t[5];
	struct timespec end;

	atomic_store(&stop, false);
	pthread_create(&t[0], NULL, reader, NULL);
	pthread_create(&t[1], NULL, reader, NULL);
	pthread_create(&t[2], NULL, reader, (void *)1);
	pthread_create(&t[3], NULL, writer, &a);
	pthread_create(&t[4], NULL, writer, &b);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 1;
	while (atomic_load(&writes) < 200 || atomic_load(&reads) < 2000) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec + 20)
			break;
		sched_yield();
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	printf("# %lu reads, %lu writes\n", atomic_load(&reads), atomic_load(&writes));
	CHECK_EQ(atomic_load(&torn), 0);
	CHECK(atomic_load(&writes) >= 200);
	CHECK(atomic_load(&reads) >= 2000);
}

static void *read_once(void *arg)
{
	(void)arg;
	hv_prw_read_lock(&a);
	hv_prw_read_unlock(&a);
	return NULL;
}

static void exited_threads_give_slots_back(void)
{
	unsigned int before = 0, after = 0;

	for (struct prw_slot *s = atomic_load(&cls.slots); s; s = atomic_load(&s->next))
		before++;
	for (int i = 0; i < 200; i++) {
		pthread_t t;

		pthread_create(&t, NULL, read_once, NULL);
		pthread_join(t, NULL);
	}
	for (struct prw_slot *s = atomic_load(&cls.slots); s; s = atomic_load(&s->next))
		after++;
	printf("# slots before %u, after 200 threads %u\n", before, after);
	CHECK(after <= before + 1);
}

int main(void)
{
	static const struct t_case cases[] = {
		T_CASE(readers_and_writers_exclude),
		T_CASE(exited_threads_give_slots_back),
	};

	hv_prw_class_init(&cls);
	hv_prwlock_init(&a, &cls, HV_LOCK_GRANT, "a");
	hv_prwlock_init(&b, &cls, HV_LOCK_GRANT, "b");
	return t_run(cases, sizeof(cases) / sizeof(cases[0]));
}
