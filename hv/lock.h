/* SPDX-License-Identifier: MIT */
/*
 * Leveled locks.  Every lock in the core has a level; a thread may only
 * acquire a lock whose level is higher than every level it already holds.
 * This is Xen's mm-locks.h discipline: host p2m -> view list -> per-view,
 * declared once here and checked at run time when HV_LOCK_CHECKS is set
 * (debug builds), where a violation aborts with both lock names.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

enum hv_lock_level {
	HV_LOCK_DOMLIST    = 10,  /* the hypervisor's domain table */
	HV_LOCK_MAPPINGS   = 20,  /* dom0's foreign mapping registry */
	HV_LOCK_LISTENER   = 25,  /* a domain's event listener (held while it runs) */
	HV_LOCK_EVTCHN_HANDLES = 26,  /* dom0's event channel handles */
	HV_LOCK_EVENT      = 27,  /* a domain's event channel table (two: address order) */
	HV_LOCK_VM_EVENT   = 28,  /* a monitor's ring */
	HV_LOCK_GRANT      = 29,  /* a domain's grant table (per-thread reader lock) */
	HV_LOCK_P2M_HOST   = 30,  /* a domain's host p2m */
	HV_LOCK_VIEW_LIST  = 40,  /* a domain's list of alternate views */
	HV_LOCK_VIEW       = 50,  /* one alternate view */
	HV_LOCK_PAGE_ALLOC = 60,  /* a domain's page list */
	HV_LOCK_DOM0_GRANTS = 64, /* the grants dom0 gives guests, and their guest mappings */
	HV_LOCK_MAPTRACK   = 65,  /* dom0's grant mappings */
	HV_LOCK_HEAP       = 70,  /* the buddy allocator */
	HV_LOCK_VCPU       = 80,  /* one vCPU's run state; nothing is taken under it */
	HV_LOCK_DOMSTATE   = 90,  /* a domain's crash and idle state */
};

struct hv_mutex {
	pthread_mutex_t m;
	enum hv_lock_level level;
	const char *name;
};

struct hv_rwlock {
	pthread_rwlock_t rw;
	enum hv_lock_level level;
	const char *name;
};

void hv_mutex_init(struct hv_mutex *l, enum hv_lock_level level, const char *name);
void hv_mutex_deinit(struct hv_mutex *l);
void hv_mutex_lock(struct hv_mutex *l);
void hv_mutex_unlock(struct hv_mutex *l);
/* Two locks of one level, taken in address order (Xen's double_event_lock). */
void hv_mutex_lock_pair(struct hv_mutex *a, struct hv_mutex *b);
void hv_mutex_unlock_pair(struct hv_mutex *a, struct hv_mutex *b);
/* pthread_cond_wait on @l; the lock stays held as far as the checker knows. */
void hv_cond_wait(pthread_cond_t *c, struct hv_mutex *l);
/* As hv_cond_wait, until @abstime (CLOCK_MONOTONIC); returns ETIMEDOUT. */
int hv_cond_timedwait(pthread_cond_t *c, struct hv_mutex *l, const struct timespec *abstime);
/* A condition variable that times out against CLOCK_MONOTONIC. */
void hv_cond_init(pthread_cond_t *c);

void hv_rwlock_init(struct hv_rwlock *l, enum hv_lock_level level, const char *name);
void hv_rwlock_deinit(struct hv_rwlock *l);
void hv_read_lock(struct hv_rwlock *l);
void hv_read_unlock(struct hv_rwlock *l);
void hv_write_lock(struct hv_rwlock *l);
void hv_write_unlock(struct hv_rwlock *l);

/* For lock types of their own (prwlock.c): tell the checker. */
void lock_order_acquired(enum hv_lock_level level, const char *name);
/* A second lock of the level just taken (a pair, or a nested read of one class). */
void lock_order_acquired_second(enum hv_lock_level level, const char *name);
void lock_order_released(enum hv_lock_level level, const char *name);

/* True when this build checks the order (tests of the checker need it). */
bool hv_lock_checks_enabled(void);
