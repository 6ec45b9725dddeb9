/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/mman.h>

#include "frame-map.h"

#define PAGE_SHIFT 12
#define SUPERPAGE_PAGES 512ULL
#define SUPERPAGE_SIZE (SUPERPAGE_PAGES << PAGE_SHIFT)

static bool runs_valid(const struct frame_run *runs, size_t nr_runs, uint64_t pages)
{
	uint64_t total = 0;

	if (pages == 0 || pages > (SIZE_MAX >> PAGE_SHIFT) - 2 * SUPERPAGE_PAGES)
		return false;
	for (size_t i = 0; i < nr_runs; i++) {
		if (runs[i].pages == 0 || runs[i].pages > pages - total ||
		    runs[i].offset & ((1u << PAGE_SHIFT) - 1) ||
		    runs[i].offset > (uint64_t)INT64_MAX - (runs[i].pages << PAGE_SHIFT))
			return false;
		total += runs[i].pages;
	}
	return total == pages;
}

size_t frame_reserve_len(uint64_t gfn, size_t len)
{
	return len + SUPERPAGE_SIZE + ((gfn & (SUPERPAGE_PAGES - 1)) << PAGE_SHIFT);
}

uintptr_t frame_place(uintptr_t base, uint64_t gfn)
{
	uintptr_t aligned = (base + SUPERPAGE_SIZE - 1) & ~(uintptr_t)(SUPERPAGE_SIZE - 1);

	return aligned + ((gfn & (SUPERPAGE_PAGES - 1)) << PAGE_SHIFT);
}

int frame_map(int fd, const struct frame_run *runs, size_t nr_runs, uint64_t gfn,
	      uint64_t pages, bool write, void **addr)
{
	size_t len, reserve, off = 0;
	uint8_t *base, *at;
	int prot = PROT_READ | (write ? PROT_WRITE : 0);

	if (!runs_valid(runs, nr_runs, pages))
		return -EPROTO;
	len = pages << PAGE_SHIFT;
	reserve = frame_reserve_len(gfn, len);
	base = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	at = (uint8_t *)frame_place((uintptr_t)base, gfn);
	if (at > base)
		munmap(base, (size_t)(at - base));
	if (base + reserve > at + len)
		munmap(at + len, (size_t)(base + reserve - (at + len)));

	for (size_t i = 0; i < nr_runs; i++) {
		if (mmap(at + off, runs[i].pages << PAGE_SHIFT, prot, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)runs[i].offset) == MAP_FAILED) {
			int r = -errno;

			munmap(at, len);
			return r;
		}
		off += runs[i].pages << PAGE_SHIFT;
	}
	*addr = at;
	return 0;
}
