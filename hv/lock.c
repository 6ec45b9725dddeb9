/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lock.h"

#ifdef HV_LOCK_CHECKS
/*
 * Per-thread stack of held locks.  Eight is deeper than any legal nesting:
 * the levels are strictly increasing and there are seven of them.
 */
#define HELD_MAX 8
static _Thread_local struct { enum hv_lock_level level; const char *name; } held[HELD_MAX];
static _Thread_local unsigned int nr_held;

static void order_violation(const char *why, const char *name, const char *other)
{
	/* A lock-order bug is a programming error: stop where it happened. */
	fprintf(stderr, "hv: lock order violation: %s %s%s%s\n", why, name,
		other ? " while holding " : "", other ? other : "");
	abort();
}

static void lock_acquired(enum hv_lock_level level, const char *name)
{
	if (nr_held == HELD_MAX)
		order_violation("too many locks at", name, NULL);
	for (unsigned int i = 0; i < nr_held; i++)
		if (held[i].level >= level)
			order_violation("acquiring", name, held[i].name);
	held[nr_held].level = level;
	held[nr_held].name = name;
	nr_held++;
}

/* The second of a pair: same level as the first, which the pair allows. */
static void lock_acquired_second(enum hv_lock_level level, const char *name)
{
	if (nr_held == HELD_MAX)
		order_violation("too many locks at", name, NULL);
	held[nr_held].level = level;
	held[nr_held].name = name;
	nr_held++;
}

static void lock_released(enum hv_lock_level level, const char *name)
{
	/* Releases need not be LIFO, only of something actually held. */
	for (unsigned int i = nr_held; i-- > 0;) {
		if (held[i].level == level && held[i].name == name) {
			held[i] = held[--nr_held];
			return;
		}
	}
	order_violation("releasing unheld", name, NULL);
}

bool hv_lock_checks_enabled(void) { return true; }
#else
static inline void lock_acquired(enum hv_lock_level level, const char *name) { (void)level; (void)name; }
static inline void lock_released(enum hv_lock_level level, const char *name) { (void)level; (void)name; }
static inline void lock_acquired_second(enum hv_lock_level level, const char *name) { (void)level; (void)name; }
bool hv_lock_checks_enabled(void) { return false; }
#endif

void lock_order_acquired(enum hv_lock_level level, const char *name)
{
	lock_acquired(level, name);
}

void lock_order_acquired_second(enum hv_lock_level level, const char *name)
{
	lock_acquired_second(level, name);
}

void lock_order_released(enum hv_lock_level level, const char *name)
{
	lock_released(level, name);
}

void hv_mutex_init(struct hv_mutex *l, enum hv_lock_level level, const char *name)
{
	pthread_mutex_init(&l->m, NULL);
	l->level = level;
	l->name = name;
}

void hv_mutex_deinit(struct hv_mutex *l)
{
	pthread_mutex_destroy(&l->m);
}

void hv_mutex_lock(struct hv_mutex *l)
{
	lock_acquired(l->level, l->name);
	pthread_mutex_lock(&l->m);
}

void hv_mutex_unlock(struct hv_mutex *l)
{
	pthread_mutex_unlock(&l->m);
	lock_released(l->level, l->name);
}

void hv_mutex_lock_pair(struct hv_mutex *a, struct hv_mutex *b)
{
	if (a == b) {
		hv_mutex_lock(a);
		return;
	}
	if (a > b) {
		struct hv_mutex *t = a;

		a = b;
		b = t;
	}
	lock_acquired(a->level, a->name);
	pthread_mutex_lock(&a->m);
	lock_acquired_second(b->level, b->name);
	pthread_mutex_lock(&b->m);
}

void hv_mutex_unlock_pair(struct hv_mutex *a, struct hv_mutex *b)
{
	hv_mutex_unlock(a);
	if (a != b)
		hv_mutex_unlock(b);
}

void hv_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

void hv_cond_wait(pthread_cond_t *c, struct hv_mutex *l)
{
	pthread_cond_wait(c, &l->m);
}

int hv_cond_timedwait(pthread_cond_t *c, struct hv_mutex *l, const struct timespec *abstime)
{
	return pthread_cond_timedwait(c, &l->m, abstime);
}

void hv_rwlock_init(struct hv_rwlock *l, enum hv_lock_level level, const char *name)
{
	pthread_rwlockattr_t attr;

	/*
	 * glibc prefers readers by default: vCPUs taking read locks on every
	 * translation miss would starve a monitor waiting to change the p2m
	 * or the view list.  No core lock is read-locked recursively, which is
	 * what writer preference requires.
	 */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&l->rw, &attr);
	pthread_rwlockattr_destroy(&attr);
	l->level = level;
	l->name = name;
}

void hv_rwlock_deinit(struct hv_rwlock *l)
{
	pthread_rwlock_destroy(&l->rw);
}

void hv_read_lock(struct hv_rwlock *l)
{
	lock_acquired(l->level, l->name);
	pthread_rwlock_rdlock(&l->rw);
}

void hv_read_unlock(struct hv_rwlock *l)
{
	pthread_rwlock_unlock(&l->rw);
	lock_released(l->level, l->name);
}

void hv_write_lock(struct hv_rwlock *l)
{
	lock_acquired(l->level, l->name);
	pthread_rwlock_wrlock(&l->rw);
}

void hv_write_unlock(struct hv_rwlock *l)
{
	pthread_rwlock_unlock(&l->rw);
	lock_released(l->level, l->name);
}
