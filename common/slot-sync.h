/* SPDX-License-Identifier: MIT */
/*
 * slot-sync.h — how two parties hand a slot in shared memory back and
 * forth: spin a while, then sleep on the slot's state word (futex), and
 * wake the other side only if it said it sleeps.  The core's vm_event
 * channels use it between a vCPU and its monitor, altviewd between its
 * dispatch threads and its clients; the two may be different processes,
 * so the futexes are shared (not FUTEX_PRIVATE).
 */
#pragma once

#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in milliseconds: the deadlines of timed slot waits. */
static inline uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* Sleeps while *addr == expected, at most @timeout_ms. */
static inline void futex_wait(_Atomic uint32_t *addr, uint32_t expected, int timeout_ms)
{
	struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L };

	syscall(SYS_futex, addr, FUTEX_WAIT, expected, &ts, NULL, 0);
}

/*
 * The CPUs this process may run on (CPUAffinity=, taskset), not all that
 * are online: whether a partner can be on a CPU while one spins.
 */
static inline int cpus_allowed(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return (int)sysconf(_SC_NPROCESSORS_ONLN);
	return CPU_COUNT(&set);
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* Sleepers on a vm_event slot re-check for disable or stop this often. */
#define SLOT_SLEEP_SLICE_MS  100

/*
 * Both sides of a vm_event slot spin a while before they sleep on its
 * state.  How long pays off depends on whether the other side is running
 * right now: on a dedicated CPU a round trip takes a microsecond or two,
 * on an oversubscribed machine spinning only steals the CPU the other side
 * needs.  So each waiter adapts its budget: an answer seen while spinning
 * moves it 1/8 of the way towards four times what that answer took plus
 * SPIN_SLACK, which rides out a partner preempted for a few tens of
 * microseconds (a sleep and a futex wake cost more), and a spin that ran
 * out takes 1/8 off it: one preemption must not tip both sides into
 * sleeping on each other, while failures that keep coming still shrink it
 * geometrically.  Failures alone would pin it at the minimum, so every
 * 64th wait spins the whole cap as a probe: a machine that became idle is
 * noticed, at a cost of at most SPIN_MAX PAUSEs per 64 waits.
 */
#define SPIN_MIN      16
#define SPIN_MAX      4096      /* PAUSEs: about 120 us on the CPUs seen here */
#define SPIN_PROBE    64
#define SPIN_SLACK    1024      /* about 30 us */

struct spin_budget {
	unsigned int limit;
	unsigned int waits;
};

/* Spins until (*state == value) == equal; false when the budget ran out. */
static inline bool spin_until(_Atomic uint32_t *state, uint32_t value, bool equal,
			      struct spin_budget *b)
{
	unsigned int limit;

	if (!b->limit)
		b->limit = SPIN_MAX / 4;
	limit = ++b->waits % SPIN_PROBE ? b->limit : SPIN_MAX;
	for (unsigned int i = 0; i < limit; i++) {
		if ((atomic_load_explicit(state, memory_order_acquire) == value) == equal) {
			unsigned int want = 4 * i + SPIN_SLACK;

			b->limit = want > b->limit ? b->limit + (want - b->limit) / 8
						   : b->limit - (b->limit - want) / 8;
			if (b->limit > SPIN_MAX)
				b->limit = SPIN_MAX;
			return true;
		}
		__builtin_ia32_pause();
	}
	b->limit -= b->limit / 8;
	if (b->limit < SPIN_MIN)
		b->limit = SPIN_MIN;
	return false;
}

/*
 * The slot handshake, one side's half each, so a sleeper is never missed:
 * whoever changes the state stores it, then looks at the other side's
 * sleeping flag; whoever sleeps sets its flag, then looks at the state
 * again.  Both with sequentially consistent operations (Dekker): at least
 * one of them sees the other.
 */
static inline void slot_publish(_Atomic uint32_t *state, uint32_t value, const uint8_t *their_flag)
{
	atomic_store_explicit(state, value, memory_order_seq_cst);
	if (__atomic_load_n(their_flag, __ATOMIC_SEQ_CST))
		futex_wake(state);
}

/* Sleeps at most @ms while (*state == value) == equal. */
static inline void slot_nap(_Atomic uint32_t *state, uint32_t value, bool equal, uint8_t *my_flag,
			    int ms)
{
	uint32_t now;

	__atomic_store_n(my_flag, 1, __ATOMIC_SEQ_CST);
	now = atomic_load_explicit(state, memory_order_seq_cst);
	if ((now == value) == equal)
		futex_wait(state, now, ms);
	__atomic_store_n(my_flag, 0, __ATOMIC_RELAXED);
}
