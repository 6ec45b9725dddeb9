/* SPDX-License-Identifier: MIT */
/*
 * foreign.c — guest frames mapped the way Xen tools map them: any array
 * of gfns, per-page errors, and a mapping the tool frees with a plain
 * munmap(), never telling the library.
 *
 * So the mapping must be this process's own: each run of consecutive gfns
 * is mapped through libaltview (av_map), handed over (av_map_export: the
 * memory file and where the frames lie in it), mapped again here into one
 * reserved range, and libaltview's mapping let go at once.  Nothing is left
 * to leak when the tool munmaps.  The frames keep no reference: a frame the
 * guest gives back could reach another guest while still mapped here, a
 * trade Xen's privileged tools make too (dom0 may map any frame).  A
 * backend that cannot hand its frames over maps nothing (through altviewd
 * only root may: EACCES otherwise).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "private.h"

/* Maps @n gfns from @gfns[0] consecutively at @at (MAP_FIXED, inside a reservation). */
static int map_run(av_domain *dom, uint64_t gfn, size_t n, bool write, uint8_t *at)
{
	struct av_frame_run runs[64], *more = NULL, *use = runs;
	size_t nr_runs = 64, off = 0;
	void *addr;
	int fd = -1, r;

	r = av_map(dom, gfn, n, write ? AV_MAP_WRITE : 0, &addr);
	if (r < 0)
		return r;
	r = av_map_export(dom, addr, &fd, runs, &nr_runs);
	if (r == -ENOSPC) {
		more = calloc(nr_runs, sizeof(*more));
		r = more ? av_map_export(dom, addr, &fd, more, &nr_runs) : -ENOMEM;
		use = more;
	}
	for (size_t i = 0; r == 0 && i < nr_runs; i++) {
		if (mmap(at + off, use[i].pages * AV_PAGE_SIZE,
			 PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, fd,
			 (off_t)use[i].offset) == MAP_FAILED)
			r = -errno;
		off += use[i].pages * AV_PAGE_SIZE;
	}
	if (fd >= 0)
		close(fd);
	free(more);
	av_unmap(dom, addr);
	return r;
}

void *xencompat_map(uint32_t domid, int prot, const uint64_t *gfns, size_t n, int *err)
{
	bool write = prot & PROT_WRITE;
	av_domain *dom;
	uint8_t *base;
	int r, failed = 0;

	if (!n || n > (SIZE_MAX / AV_PAGE_SIZE)) {
		errno = EINVAL;
		return NULL;
	}
	r = xencompat_domain(domid, &dom);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	base = mmap(NULL, n * AV_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t run = 1;

		while (i + run < n && gfns[i + run] == gfns[i] + run)
			run++;
		r = map_run(dom, gfns[i], run, write, base + i * AV_PAGE_SIZE);
		if (r < 0 && run > 1) {
			/* One bad gfn in the run: each page on its own, to say which. */
			run = 1;
			r = map_run(dom, gfns[i], 1, write, base + i * AV_PAGE_SIZE);
		}
		for (size_t k = 0; k < run; k++)
			if (err)
				err[i + k] = r < 0 ? r : 0;
		failed += r < 0;
		i += run;
	}
	/* Without @err the mapping is all or nothing, as xenforeignmemory_map() is. */
	if (failed && !err) {
		munmap(base, n * AV_PAGE_SIZE);
		errno = EFAULT;
		return NULL;
	}
	return base;
}
