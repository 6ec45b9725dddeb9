/* SPDX-License-Identifier: MIT */
/*
 * The monitoring workload: each round writes the "secret" page and calls
 * the function alone on the target page; then reads the first byte of that
 * function, runs CPUID, one int3 of its own
 * (a debugger's business; with nobody listening it goes on), and a guest
 * request says "done".
 */
#include "guest.h"
#include "pages.h"

void main(uint64_t vcpu);

void main(uint64_t vcpu)
{
	uint64_t acc = 0;
	uint32_t a, b, c, d;

	console("workload: start\n");
	for (uint64_t i = 0; i < WORKLOAD_ROUNDS; i++) {
		secret[vcpu * 8 + i] = 0x5ec7e7 + i;
		acc += target(i);
	}
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	__asm__ volatile("int3");
	result[vcpu * 4 + 0] = acc;
	result[vcpu * 4 + 3] = *(volatile uint8_t *)target;    /* its own code, read */
	result[vcpu * 4 + 1] = a;
	result[vcpu * 4 + 2] = b;
	guest_request();
	console("workload: done\n");
}
