/* SPDX-License-Identifier: MIT */
/*
 * The per-thread reader lock: the user-space form of Xen's percpu rwlock
 * (seed 002).  Readers of a hot, rarely written structure (a grant table)
 * must not bounce a shared cache line: each thread owns a slot per lock
 * class on its own cache line and a reader only publishes "I am reading L"
 * there.  Writers pay instead: they take the shared rwlock, announce
 * themselves and wait until no slot names their lock.
 *
 * Not recursive on the same lock.  A thread already reading one lock of a
 * class that reads another of the same class falls back to the shared
 * rwlock for the second, as Xen does.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "lock.h"

struct hv_prwlock;

/* A slot: which lock of its class one thread is reading, on its own line. */
struct prw_slot {
	struct hv_prwlock *_Atomic reading;
	struct prw_slot *_Atomic next;
	_Atomic bool in_use;
} __attribute__((aligned(64)));

/* Locks of one class share the threads' slots (Xen: DEFINE_PERCPU_RWLOCK_GLOBAL). */
struct hv_prw_class {
	unsigned int id;                      /* index of the thread's slot cache */
	pthread_mutex_t register_lock;
	struct prw_slot *_Atomic slots;
};

#define HV_PRW_CLASSES 8

struct hv_prwlock {
	pthread_rwlock_t rw;
	_Atomic bool writer_activating;
	struct hv_prw_class *class;
	enum hv_lock_level level;
	const char *name;
};

int hv_prw_class_init(struct hv_prw_class *c);
void hv_prwlock_init(struct hv_prwlock *l, struct hv_prw_class *c, enum hv_lock_level level,
		     const char *name);
void hv_prwlock_deinit(struct hv_prwlock *l);
void hv_prw_read_lock(struct hv_prwlock *l);
void hv_prw_read_unlock(struct hv_prwlock *l);
void hv_prw_write_lock(struct hv_prwlock *l);
void hv_prw_write_unlock(struct hv_prwlock *l);

/* The core's classes: grant tables, host p2ms, the domain table. */
extern struct hv_prw_class hv_grant_class;
extern struct hv_prw_class hv_p2m_class;
extern struct hv_prw_class hv_domlist_class;
