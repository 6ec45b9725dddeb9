/* SPDX-License-Identifier: MIT */
/*
 * The demo guest: runs until the host stops it.  Each round every vCPU
 * writes its word of the "secret" page and calls the function alone on the
 * target page; every DEMO_BREAK_EVERY rounds it meets an int3 of its own
 * (a debugger's business) and, after its work, a CPUID; between rounds it
 * computes for a while, so that monitors see a steady stream of writes,
 * breakpoints and CPUIDs.
 */
#include "guest.h"
#include "pages.h"

void main(uint64_t vcpu);

void main(uint64_t vcpu)
{
	uint64_t acc = 0;

	console("demo: start\n");
	for (uint64_t i = 0;; i++) {
		secret[vcpu * 8] = 0x5ec7e7 + i;
		acc += target(i);
		if (i % DEMO_BREAK_EVERY == 0)
			__asm__ volatile("int3");
		for (uint64_t j = 0; j < DEMO_WORK; j++)
			acc = acc * 6364136223846793005ull + j;
		if (i % DEMO_BREAK_EVERY == 0) {
			uint32_t a = 0, b, c = 0, d;

			__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
			acc += b;
		}
		result[vcpu * 4] = acc;
		result[vcpu * 4 + 1] = i;
	}
}
