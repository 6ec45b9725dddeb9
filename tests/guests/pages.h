/* SPDX-License-Identifier: MIT */
/*
 * The pages monitors watch (layout.h says where link.ld puts them): the
 * secret page a guest writes, the result page it reports on, and a function
 * alone on the target page to execute and break on.  Definitions, for the
 * one C file of each guest that uses them.
 */
#pragma once

#include <stdint.h>

__attribute__((section(".secret"), aligned(4096))) volatile uint64_t secret[512];
__attribute__((section(".result"), aligned(4096))) volatile uint64_t result[512];

__attribute__((section(".target"), noinline)) uint64_t target(uint64_t x)
{
	return x * 3 + 1;
}
