/* SPDX-License-Identifier: MIT */
/*
 * Where the test guests put things, for the guests (link.ld places the
 * sections) and for the tests and benchmarks that watch them.  Guests run
 * flat: these are guest-physical addresses.
 */
#pragma once

#define GUEST_LOAD      0x100000    /* .text */
#define GUEST_TARGET    0x110000    /* a function alone on its page (exec, breakpoints) */
#define GUEST_SECRET    0x111000    /* a page the workload writes (write monitoring) */
#define GUEST_RESULT    0x112000    /* what a guest reports to the host */
#define GUEST_BUFFER    0x113000    /* the page the grant guest shares */
#define GUEST_DATA      0x114000    /* .rodata, .data, .bss */

#define GUEST_PAGE(addr) ((addr) >> 12)

/* The workload: rounds of (write the secret page, call the target), then a guest request. */
#define WORKLOAD_ROUNDS 4
/* The grant guest's reference and fill pattern. */
#define GRANT_REF 5
#define GRANT_BYTE(i) ((unsigned char)(0x5a ^ (i)))
/* The demo guest: an int3 every so many rounds, and work between rounds. */
#define DEMO_BREAK_EVERY 4
#define DEMO_WORK 2000
/* The multi-vCPU guest's increments per vCPU. */
#define MULTI_ROUNDS 20000
