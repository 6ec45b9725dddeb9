/* SPDX-License-Identifier: MIT */
/*
 * map-client — guest memory mapped through altviewd (Domain.MapMemory, the
 * altviewd: backend's av_map) by a root monitor.
 *
 *   map-client URI DOMID check
 *     A writable mapping's stores are what ReadMemory then reads, and
 *     WriteMemory's bytes appear in the mapping at once (one memory, no
 *     copy); a read-only mapping cannot be made writable (mprotect fails);
 *     the whole domain mapped equals the whole domain copied; a range past
 *     the end of RAM is -EFAULT and an unmap of what is not mapped -ENOENT.
 *     Prints "mapping checks passed".
 *
 *   map-client URI DOMID hold
 *     Maps all of the domain's memory writable, fills every page with 'A',
 *     prints "mapped" and waits; on SIGUSR1 fills every page with 'B' (a
 *     write through a mapping whose domain may be gone) and prints
 *     "rewritten"; then waits to be killed with the mapping still held.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <altview/altview.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "map-client: %s: %s\n", what, r < 0 ? strerror(-r) : "wrong");
	return 1;
}

static int check(av_domain *dom, uint64_t pages)
{
	uint64_t scratch = pages - 4;   /* the last four pages */
	uint8_t *rw, *ro, *all, *copy, got[4];
	int r;

	if ((r = av_map(dom, scratch, 4, AV_MAP_WRITE, (void **)&rw)) < 0)
		return fail("a writable mapping", r);
	memcpy(rw + AV_PAGE_SIZE + 7, "MAPD", 4);
	if ((r = av_read(dom, (scratch + 1) * AV_PAGE_SIZE + 7, got, 4)) < 0 || memcmp(got, "MAPD", 4))
		return fail("ReadMemory sees the mapping's store", r);
	if ((r = av_write(dom, (scratch + 3) * AV_PAGE_SIZE, "COPY", 4)) < 0 ||
	    memcmp(rw + 3 * AV_PAGE_SIZE, "COPY", 4))
		return fail("the mapping sees WriteMemory's bytes", r);

	if ((r = av_map(dom, scratch, 4, 0, (void **)&ro)) < 0)
		return fail("a read-only mapping", r);
	if (memcmp(ro, rw, 4 * AV_PAGE_SIZE))
		return fail("read-only and writable mappings show the same frames", 0);
	if (mprotect(ro, AV_PAGE_SIZE, PROT_READ | PROT_WRITE) == 0)
		return fail("a read-only mapping cannot be made writable", 0);

	if ((r = av_map(dom, 0, pages, 0, (void **)&all)) < 0)
		return fail("the whole domain", r);
	copy = malloc(pages * AV_PAGE_SIZE);
	if (!copy || (r = av_read(dom, 0, copy, pages * AV_PAGE_SIZE)) < 0 ||
	    memcmp(copy, all, pages * AV_PAGE_SIZE))
		return fail("the whole domain mapped is the whole domain copied", r);
	free(copy);

	if ((r = av_map(dom, pages - 1, 2, 0, (void **)&copy)) != -EFAULT)
		return fail("a range past the end of RAM is -EFAULT", r < 0 ? r : 0);
	if ((r = av_unmap(dom, all)) < 0 || (r = av_unmap(dom, ro)) < 0 ||
	    (r = av_unmap(dom, rw)) < 0)
		return fail("unmapping", r);
	if ((r = av_unmap(dom, rw)) != -ENOENT)
		return fail("an unmap of what is not mapped is -ENOENT", r < 0 ? r : 0);
	printf("mapping checks passed\n");
	return 0;
}

static volatile sig_atomic_t rewrite;

static void on_usr1(int sig)
{
	rewrite = 1;
}

static int hold(av_domain *dom, uint64_t pages)
{
	uint8_t *p;
	int r;

	signal(SIGUSR1, on_usr1);
	if ((r = av_map(dom, 0, pages, AV_MAP_WRITE, (void **)&p)) < 0)
		return fail("mapping the whole domain", r);
	memset(p, 'A', pages * AV_PAGE_SIZE);
	printf("mapped\n");
	fflush(stdout);
	while (!rewrite)
		pause();
	memset(p, 'B', pages * AV_PAGE_SIZE);
	printf("rewritten\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	av_domain *dom;
	av_hv *hv;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: map-client URI DOMID check|hold\n");
		return 2;
	}
	if ((r = av_open(argv[1], NULL, &hv)) < 0)
		return fail("av_open", r);
	if ((r = av_domain_open(hv, (uint32_t)strtoul(argv[2], NULL, 0), &dom)) < 0 ||
	    (r = av_domain_get_info(dom, &info)) < 0)
		return fail("the domain", r);
	r = !strcmp(argv[3], "hold") ? hold(dom, info.memory_bytes / AV_PAGE_SIZE)
				     : check(dom, info.memory_bytes / AV_PAGE_SIZE);
	av_domain_close(dom);
	av_close(hv);
	return r;
}
