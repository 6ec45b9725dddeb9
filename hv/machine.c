/* SPDX-License-Identifier: MIT */
/*
 * Machine memory: one memfd mapped MAP_SHARED, so that frames can be mapped
 * again by dom0 mappings and by other processes (the daemon's clients) at
 * offset mfn << 12.  Huge pages are advised so the kernel may back 2 MiB
 * chunks with one TLB entry where its shmem policy allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "private.h"

void hv_log(const struct hv *hv, enum hv_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!hv->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hv->log(hv->log_ctx, level, buf);
}

int machine_fd_open(struct hv *hv, bool write)
{
	char path[64];
	int fd;

	/* A new open file description: its access mode is what limits the other side. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", hv->machine_fd);
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int machine_init(struct hv *hv, uint64_t bytes)
{
	hv->nr_frames = bytes >> HV_PAGE_SHIFT;
	/* mfns travel in 32-bit free-list links. */
	if (hv->nr_frames == 0 || hv->nr_frames >= HV_FREE_LINK)
		return -EINVAL;

	hv->machine_fd = memfd_create("altview-machine", MFD_CLOEXEC);
	if (hv->machine_fd < 0)
		return -errno;
	if (ftruncate(hv->machine_fd, (off_t)(hv->nr_frames << HV_PAGE_SHIFT)) < 0)
		return -errno;
	hv->machine = mmap(NULL, hv->nr_frames << HV_PAGE_SHIFT, PROT_READ | PROT_WRITE,
			   MAP_SHARED, hv->machine_fd, 0);
	if (hv->machine == MAP_FAILED) {
		hv->machine = NULL;
		return -errno;
	}
	madvise(hv->machine, hv->nr_frames << HV_PAGE_SHIFT, MADV_HUGEPAGE);

	hv->nr_spages = (hv->nr_frames + HV_SUPERPAGE_PAGES - 1) >> HV_SUPERPAGE_ORDER;
	hv->frame_table = calloc(hv->nr_frames, sizeof(*hv->frame_table));
	hv->spage_table = calloc(hv->nr_spages, sizeof(*hv->spage_table));
	if (!hv->frame_table || !hv->spage_table)
		return -ENOMEM;
	heap_init(hv);
	return 0;
}

int hv_new(const struct hv_opts *opts, struct hv **out)
{
	struct hv *hv;
	int r;

	if (!opts || !out || opts->sz < sizeof(*opts))
		return -EINVAL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->machine_fd = -1;
	hv->log = opts->log;
	hv->log_ctx = opts->log_ctx;
	hv->next_domid = 1;
	hv_prwlock_init(&hv->domlist_lock, &hv_domlist_class, HV_LOCK_DOMLIST, "domlist");
	hv_mutex_init(&hv->mappings_lock, HV_LOCK_MAPPINGS, "mappings");
	hv_mutex_init(&hv->heap.lock, HV_LOCK_HEAP, "heap");
	hv_mutex_init(&hv->evtchn_handles_lock, HV_LOCK_EVTCHN_HANDLES, "evtchn handles");
	hv->evtchn_epoll = hv->evtchn_stop = -1;

	r = machine_init(hv, opts->machine_bytes);
	if (r == 0)
		r = evtchn_table_new(hv, HV_DOMID_DOM0, &hv->dom0_evtchn);
	if (r == 0)
		r = maptrack_init(hv);
	if (r < 0) {
		hv_free(hv);
		return r;
	}
	*out = hv;
	return 0;
}

void hv_free(struct hv *hv)
{
	if (!hv)
		return;
	/* Domains hold machine frames: tear them down before the memory. */
	for (unsigned int i = 0; i < HV_MAX_DOMAINS; i++) {
		struct hv_domain *d;

		if (hv_domain_get(hv, (domid_t)i, &d) == 0) {
			struct hv_monitor *mon = atomic_load(&d->monitor);

			if (mon)
				hv_monitor_disable(mon);
			hv_domain_destroy(d);
			hv_domain_put(d);
		}
	}
	foreign_unmap_all(hv);
	maptrack_deinit(hv);
	evtchn_service_stop(hv);
	evtchn_table_free(hv->dom0_evtchn);
	free(hv->frame_table);
	free(hv->spage_table);
	if (hv->machine)
		munmap(hv->machine, hv->nr_frames << HV_PAGE_SHIFT);
	if (hv->machine_fd >= 0)
		close(hv->machine_fd);
	hv_mutex_deinit(&hv->heap.lock);
	hv_mutex_deinit(&hv->evtchn_handles_lock);
	hv_mutex_deinit(&hv->mappings_lock);
	hv_prwlock_deinit(&hv->domlist_lock);
	free(hv);
}

int hv_machine_fd(const struct hv *hv)
{
	return hv->machine_fd;
}

uint64_t hv_machine_frames(const struct hv *hv)
{
	return hv->nr_frames;
}

void hv_get_stats(struct hv *hv, struct hv_stats *st)
{
	st->page_ref_ops = atomic_load(&hv->page_ref_ops);
	st->spage_ref_ops = atomic_load(&hv->spage_ref_ops);
	st->free_frames = heap_free_frames(hv);
}
