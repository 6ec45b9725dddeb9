/* SPDX-License-Identifier: MIT */
/*
 * The multi-vCPU guest: every vCPU adds to its own slot and, with LOCK, to
 * one shared counter.  LOCK is atomic across vCPUs only when they run one
 * at a time (the default); a parallel domain must not rely on it.
 */
#include "guest.h"

__attribute__((section(".result"), aligned(4096))) volatile uint64_t result[512];

void main(uint64_t vcpu);

void main(uint64_t vcpu)
{
	for (uint64_t i = 0; i < MULTI_ROUNDS; i++) {
		result[8 + vcpu * 8] += 1;          /* its own line */
		__atomic_fetch_add(&result[0], 1, __ATOMIC_SEQ_CST);
	}
}
