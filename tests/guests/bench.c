/* SPDX-License-Identifier: MIT */
/*
 * The CPU-bound benchmark guest: a loop of exactly BENCH_INSNS_PER_ROUND
 * instructions, run result[0] times (the host writes it before the start),
 * touching its own data page; result[1] gets a checksum.
 */
#include "guest.h"

#define BENCH_INSNS_PER_ROUND 8

__attribute__((section(".result"), aligned(4096))) volatile uint64_t result[512];

void main(uint64_t vcpu);

void main(uint64_t vcpu)
{
	uint64_t rounds = result[0], x = 1, y = 7;

	if (vcpu)
		return;
	/* 8 instructions a round: 6 of arithmetic, a decrement and a branch. */
	__asm__ volatile(
		"1:\n\t"
		"add %1, %2\n\t"
		"xor %2, %1\n\t"
		"shl $1, %1\n\t"
		"add $3, %2\n\t"
		"sub %1, %2\n\t"
		"or $1, %1\n\t"
		"dec %0\n\t"
		"jnz 1b\n\t"
		: "+r"(rounds), "+r"(x), "+r"(y));
	result[1] = x ^ y;
}
