/* SPDX-License-Identifier: MIT */
/*
 * frame-map.h — mapping guest frames that lie in runs of a memory file, as
 * the core maps them for dom0 and as altviewd's clients map what MapMemory
 * hands them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* @pages frames from byte @offset of the file. */
struct frame_run {
	uint64_t offset;
	uint64_t pages;
};

/*
 * The address space to reserve for @len bytes from @gfn, and where in a
 * reservation at @base the first byte goes: the reservation holds the 2 MiB
 * alignment slack and the gfn's offset inside its chunk.
 */
size_t frame_reserve_len(uint64_t gfn, size_t len);
uintptr_t frame_place(uintptr_t base, uint64_t gfn);

/*
 * Maps @runs of @fd back to back, @pages in all, placing @gfn so that every
 * 2 MiB-aligned gfn lands 2 MiB-aligned (huge TLB entries).  Every run must
 * be page-aligned and the runs must add up to @pages: -EPROTO otherwise, so
 * runs from another process cannot make this map more or less than asked.
 */
int frame_map(int fd, const struct frame_run *runs, size_t nr_runs, uint64_t gfn,
	      uint64_t pages, bool write, void **addr);
