/* SPDX-License-Identifier: MIT */
/*
 * backend-altviewd-memory.c — guest memory through altviewd: mapped, for
 * root, from the memory file MapMemory hands out (the daemon holds the
 * frames until UnmapMemory or this process's exit), and copied over D-Bus
 * (ReadMemory, WriteMemory) for everyone.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend-altviewd.h"
#include "bus-connect.h"
#include "org-altview1.h"

/* A mapping the daemon holds frames for: unmapping must tell it which. */
struct remote_mapping {
	struct remote_mapping *next;
	void *addr;
	uint64_t pages;
	uint64_t id;
	struct av_bus_mapped file;          /* what the daemon handed out, to hand on (av_map_export) */
	bool grant;
	uint32_t grant_handle;      /* av_grant_map()'s, this process's own numbering */
};

/* Maps what a MapMemory or MapGrant reply hands out, and keeps it to unmap. */
static int remote_map(struct av_hv *hv, struct remote_mapping *rm, sd_bus_message *reply,
		      uint64_t gfn, bool write)
{
	struct altviewd *be = altviewd_of(hv);
	int r;

	r = av_bus_map_reply(reply, gfn, rm->pages, write, &rm->addr, &rm->id,
			     rm->grant ? NULL : &rm->file);
	if (r < 0) {
		if (r == -EPROTO)
			av_err(hv, "%s: the daemon's runs do not cover %" PRIu64 " pages",
			       sd_bus_message_get_member(reply), rm->pages);
		/* Mapped or not, the daemon holds the frames until told. */
		if (rm->id)
			altviewd_call(hv, MANAGER_PATH, MANAGER_IFACE, "UnmapMemory", -EIO, NULL, "t",
				      rm->id);
		return r;
	}
	pthread_mutex_lock(&be->maps_lock);
	if (rm->grant)
		rm->grant_handle = be->next_grant_handle++;
	rm->next = be->mappings;
	be->mappings = rm;
	pthread_mutex_unlock(&be->maps_lock);
	return 0;
}

int altviewd_map(struct av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr)
{
	bool write = flags & AV_MAP_WRITE;
	struct remote_mapping *rm = calloc(1, sizeof(*rm));
	sd_bus_message *reply = NULL;
	int r;

	if (!rm)
		return -ENOMEM;
	rm->pages = nr;
	r = altviewd_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "MapMemory", -ESRCH,
			  &reply, "ttb", gfn, (uint64_t)nr, (int)write);
	if (r >= 0)
		r = remote_map(dom->hv, rm, reply, gfn, write);
	sd_bus_message_unref(reply);
	if (r < 0) {
		free(rm);
		return r;
	}
	*addr = rm->addr;
	return 0;
}

static int remote_unmap(struct av_hv *hv, struct remote_mapping *rm)
{
	int r;

	if (rm->file.runs) {
		close(rm->file.fd);
		free(rm->file.runs);
	}
	munmap(rm->addr, rm->pages * AV_PAGE_SIZE);
	r = altviewd_call(hv, MANAGER_PATH, MANAGER_IFACE, "UnmapMemory", -EIO, NULL, "t", rm->id);
	free(rm);
	return r < 0 ? r : 0;
}

/* The daemon's file and runs, handed on as on hv: (a mapping of this process's own, e.g. Xen tools'). */
int altviewd_map_export(struct av_domain *dom, void *addr, int *fd, struct av_frame_run *runs,
			size_t *nr_runs)
{
	struct altviewd *be = altviewd_of(dom->hv);
	int r = -ENOENT;

	pthread_mutex_lock(&be->maps_lock);
	for (struct remote_mapping *rm = be->mappings; rm; rm = rm->next) {
		if (rm->grant || rm->addr != addr)
			continue;
		r = rm->file.nr_runs > *nr_runs ? -ENOSPC : 0;
		if (r == 0) {
			for (size_t i = 0; i < rm->file.nr_runs; i++)
				runs[i] = (struct av_frame_run){ .offset = rm->file.runs[i].offset,
								 .pages = rm->file.runs[i].pages };
			*fd = fcntl(rm->file.fd, F_DUPFD_CLOEXEC, 3);
			if (*fd < 0)
				r = -errno;
		}
		*nr_runs = rm->file.nr_runs;
		break;
	}
	pthread_mutex_unlock(&be->maps_lock);
	return r;
}

/* Takes the mapping at @addr, or the grant mapping @grant_handle, off the list. */
static struct remote_mapping *remote_take(struct av_hv *hv, const void *addr, bool grant,
					  uint32_t grant_handle)
{
	struct altviewd *be = altviewd_of(hv);
	struct remote_mapping **p, *rm = NULL;

	pthread_mutex_lock(&be->maps_lock);
	for (p = &be->mappings; *p; p = &(*p)->next) {
		if ((*p)->grant == grant &&
		    (grant ? (*p)->grant_handle == grant_handle : (*p)->addr == addr)) {
			rm = *p;
			*p = rm->next;
			break;
		}
	}
	pthread_mutex_unlock(&be->maps_lock);
	return rm;
}

int altviewd_unmap(struct av_domain *dom, void *addr)
{
	struct remote_mapping *rm = remote_take(dom->hv, addr, false, 0);

	return rm ? remote_unmap(dom->hv, rm) : -ENOENT;
}

/* The bytes a ReadMemory or ReadGrant reply carries: what was asked for, or -EPROTO. */
static int take_bytes(sd_bus_message *reply, void *buf, size_t len)
{
	const void *data;
	size_t got;
	int r = sd_bus_message_read_array(reply, 'y', &data, &got);

	if (r >= 0 && got != len)
		r = -EPROTO;
	if (r >= 0)
		memcpy(buf, data, len);
	return r;
}

/* ---- grants: mapped for root (MapGrant), copied for everyone (ReadGrant, WriteGrant) ---- */

int altviewd_grant_map(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t gntmap_flags,
		       void **addr, uint32_t *handle)
{
	bool write = !(gntmap_flags & GNTMAP_readonly);
	struct remote_mapping *rm = calloc(1, sizeof(*rm));
	sd_bus_message *reply = NULL;
	char path[OBJECT_PATH_MAX];
	int r;

	if (!rm)
		return GNTST_no_space;
	rm->pages = 1;
	rm->grant = true;
	snprintf(path, sizeof(path), DOMAIN_PATH_FMT, domid);
	r = altviewd_call(hv, path, DOMAIN_IFACE, "MapGrant", -ESRCH, &reply, "ub", ref, (int)write);
	if (r >= 0)
		r = remote_map(hv, rm, reply, 0, write);
	sd_bus_message_unref(reply);
	if (r < 0) {
		free(rm);
		return grant_errno_status(r);
	}
	*addr = rm->addr;
	*handle = rm->grant_handle;
	return GNTST_okay;
}

int altviewd_grant_unmap(struct av_hv *hv, uint32_t handle)
{
	struct remote_mapping *rm = remote_take(hv, NULL, true, handle);

	return rm ? grant_errno_status(remote_unmap(hv, rm)) : GNTST_bad_handle;
}

int altviewd_grant_copy(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			void *buf, uint32_t len, bool to_grant)
{
	char path[OBJECT_PATH_MAX];
	sd_bus_message *m = NULL;
	int r;

	snprintf(path, sizeof(path), DOMAIN_PATH_FMT, domid);
	if (to_grant) {
		r = altviewd_new_call(hv, path, DOMAIN_IFACE, "WriteGrant", &m);
		if (r >= 0)
			r = sd_bus_message_append(m, "uu", ref, offset);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', buf, len);
		if (r >= 0)
			r = altviewd_send(hv, m, -ESRCH, NULL, NULL);
	} else {
		r = altviewd_call(hv, path, DOMAIN_IFACE, "ReadGrant", -ESRCH, &m, "uuu", ref, offset,
				  len);
		if (r >= 0)
			r = take_bytes(m, buf, len);
	}
	sd_bus_message_unref(m);
	return grant_errno_status(r);
}

void altviewd_unmap_all(struct av_hv *hv)
{
	struct altviewd *be = altviewd_of(hv);

	while (be->mappings) {
		struct remote_mapping *rm = be->mappings;

		be->mappings = rm->next;
		remote_unmap(hv, rm);
	}
}

/* ---- guest memory: copied over D-Bus ------------------------------------------------- */

/*
 * In calls of at most COPY_CHUNK bytes; a daemon configured for less
 * (limits.max_read_bytes) answers TooLarge, and the chunk halves, down to
 * a page.
 */
#define COPY_CHUNK (64u << 10)

static int copy_chunk(struct av_domain *dom, uint64_t gpa, void *buf, size_t len, bool write)
{
	sd_bus_message *m = NULL;
	int r;

	if (write) {
		r = altviewd_new_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "WriteMemory",
				      &m);
		if (r >= 0)
			r = sd_bus_message_append(m, "t", gpa);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', buf, len);
		if (r >= 0)
			r = altviewd_send(dom->hv, m, -ESRCH, NULL, NULL);
	} else {
		r = altviewd_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "ReadMemory",
				  -ESRCH, &m, "tu", gpa, (uint32_t)len);
		if (r >= 0)
			r = take_bytes(m, buf, len);
	}
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

/* A write of several calls is checked whole first: a failing one writes nothing. */
static int write_check(struct av_domain *dom, uint64_t gpa, size_t len)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	int r = altviewd_domain_get_info(dom, &info);

	if (r < 0)
		return r;
	if (gpa + len > info.memory_bytes) {
		av_err(dom->hv, "0x%" PRIx64 "+%zu is outside the domain's %" PRIu64 " bytes", gpa,
		       len, info.memory_bytes);
		return -EFAULT;
	}
	return 0;
}

int altviewd_copy(struct av_domain *dom, uint64_t gpa, void *buf, size_t len, bool write)
{
	size_t chunk = COPY_CHUNK;
	bool checked = false;
	int r;

	while (len) {
		size_t n = len < chunk ? len : chunk;

		if (write && n < len && !checked) {
			r = write_check(dom, gpa, len);
			if (r < 0)
				return r;
			checked = true;
		}
		r = copy_chunk(dom, gpa, buf, n, write);
		if (r == -E2BIG && chunk > AV_PAGE_SIZE) {
			chunk /= 2;
			continue;
		}
		if (r < 0)
			return r;
		gpa += n;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}
