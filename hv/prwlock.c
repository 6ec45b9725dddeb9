/* SPDX-License-Identifier: MIT */
/*
 * The per-thread reader lock.  Why it is correct:
 *
 *   reader                          writer
 *   slot = L            (1)         writer_activating = 1   (3)
 *   -- full barrier --              -- full barrier --
 *   read writer_activating (2)      read every slot          (4)
 *
 * Both sides store, then load the other's variable, with sequentially
 * consistent operations, so at least one sees the other's store: either
 * the reader sees the writer activating and falls back to the shared
 * rwlock (which the writer holds, so it waits), or the writer sees the
 * reader's slot and waits for it to clear.  The reader's unlock is a
 * release store of NULL that the writer's acquire load observes, which
 * orders the reader's accesses before the writer's.  A reader that finds a
 * writer activating drops its slot (so the writer can go on), queues on
 * the shared rwlock to keep things fair, then publishes the slot again and
 * drops the rwlock: from then on it holds the lock through its slot, and
 * the writer, if another one comes, will wait for that slot.
 *
 * Slots are registered once per thread and class, appended to a list that
 * writers walk without a lock: a slot added while a writer walks is one
 * whose reader will see writer_activating (its registration happens before
 * its first (1), and the writer's (3) before its walk).  A thread's slot is
 * released for reuse when the thread exits.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "prwlock.h"

struct hv_prw_class hv_grant_class = {
	.id = 0,
	.register_lock = PTHREAD_MUTEX_INITIALIZER,
};

struct hv_prw_class hv_p2m_class = {
	.id = 3,
	.register_lock = PTHREAD_MUTEX_INITIALIZER,
};

struct hv_prw_class hv_domlist_class = {
	.id = 4,
	.register_lock = PTHREAD_MUTEX_INITIALIZER,
};

static _Thread_local struct prw_slot *my_slot[HV_PRW_CLASSES];
static pthread_key_t release_key;
static pthread_once_t release_once = PTHREAD_ONCE_INIT;

static void release_slots(void *unused)
{
	(void)unused;
	for (unsigned int i = 0; i < HV_PRW_CLASSES; i++)
		if (my_slot[i])
			atomic_store_explicit(&my_slot[i]->in_use, false, memory_order_release);
}

static void make_key(void)
{
	pthread_key_create(&release_key, release_slots);
}

static struct prw_slot *slot_for(struct hv_prw_class *c)
{
	struct prw_slot *s = my_slot[c->id];

	if (s)
		return s;
	pthread_once(&release_once, make_key);
	pthread_mutex_lock(&c->register_lock);
	for (s = atomic_load(&c->slots); s; s = atomic_load(&s->next)) {
		bool free_slot = false;

		if (atomic_compare_exchange_strong(&s->in_use, &free_slot, true))
			break;
	}
	if (!s) {
		s = aligned_alloc(64, sizeof(*s));
		if (!s)
			abort();    /* 64 bytes once per thread: nothing sensible is left */
		atomic_init(&s->reading, NULL);
		atomic_init(&s->in_use, true);
		atomic_init(&s->next, atomic_load(&c->slots));
		atomic_store(&c->slots, s);
	}
	pthread_mutex_unlock(&c->register_lock);
	/* Any non-NULL value: the destructor only runs for keys that are set. */
	pthread_setspecific(release_key, s);
	my_slot[c->id] = s;
	return s;
}

int hv_prw_class_init(struct hv_prw_class *c)
{
	pthread_mutex_init(&c->register_lock, NULL);
	atomic_init(&c->slots, NULL);
	return 0;
}

void hv_prwlock_init(struct hv_prwlock *l, struct hv_prw_class *c, enum hv_lock_level level,
		     const char *name)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&l->rw, &attr);
	pthread_rwlockattr_destroy(&attr);
	atomic_init(&l->writer_activating, false);
	l->class = c;
	l->level = level;
	l->name = name;
}

void hv_prwlock_deinit(struct hv_prwlock *l)
{
	pthread_rwlock_destroy(&l->rw);
}

void hv_prw_read_lock(struct hv_prwlock *l)
{
	struct prw_slot *s = slot_for(l->class);

	if (atomic_load_explicit(&s->reading, memory_order_relaxed)) {
		/* Already reading a lock of this class: the shared path for this one. */
		lock_order_acquired_second(l->level, l->name);
		pthread_rwlock_rdlock(&l->rw);
		return;
	}
	lock_order_acquired(l->level, l->name);
	atomic_store_explicit(&s->reading, l, memory_order_seq_cst);                  /* (1) */
	if (atomic_load_explicit(&l->writer_activating, memory_order_seq_cst)) {     /* (2) */
		atomic_store_explicit(&s->reading, NULL, memory_order_release);
		pthread_rwlock_rdlock(&l->rw);
		atomic_store_explicit(&s->reading, l, memory_order_seq_cst);
		pthread_rwlock_unlock(&l->rw);
	}
}

void hv_prw_read_unlock(struct hv_prwlock *l)
{
	struct prw_slot *s = my_slot[l->class->id];

	if (atomic_load_explicit(&s->reading, memory_order_relaxed) != l)
		pthread_rwlock_unlock(&l->rw);      /* the fallback path */
	else
		atomic_store_explicit(&s->reading, NULL, memory_order_release);
	lock_order_released(l->level, l->name);
}

void hv_prw_write_lock(struct hv_prwlock *l)
{
	lock_order_acquired(l->level, l->name);
	pthread_rwlock_wrlock(&l->rw);
	atomic_store_explicit(&l->writer_activating, true, memory_order_seq_cst);    /* (3) */
	for (struct prw_slot *s = atomic_load(&l->class->slots); s; s = atomic_load(&s->next)) {
		unsigned int spins = 0;

		while (atomic_load_explicit(&s->reading, memory_order_seq_cst) == l)   /* (4) */
			if (++spins % 128 == 0)
				sched_yield();      /* the reader may have been preempted */
	}
}

void hv_prw_write_unlock(struct hv_prwlock *l)
{
	atomic_store_explicit(&l->writer_activating, false, memory_order_release);
	pthread_rwlock_unlock(&l->rw);
	lock_order_released(l->level, l->name);
}
