/* SPDX-License-Identifier: MIT */
/*
 * backend-altviewd-memory.c — guest memory through altviewd: mapped, for
 * root, from the memory file MapMemory hands out (the daemon holds the
 * frames until UnmapMemory or this process's exit), and copied over D-Bus
 * (ReadMemory, WriteMemory) for everyone.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend-altviewd.h"
#include "bus-connect.h"
#include "org-altview1.h"

/* A mapping the daemon holds frames for: av_unmap() must tell it which. */
struct remote_mapping {
	struct remote_mapping *next;
	void *addr;
	uint64_t pages;
	uint64_t id;
};

int altviewd_map(struct av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr)
{
	struct altviewd *be = altviewd_of(dom->hv);
	bool write = flags & AV_MAP_WRITE;
	struct remote_mapping *rm = calloc(1, sizeof(*rm));
	sd_bus_message *reply = NULL;
	int r;

	if (!rm)
		return -ENOMEM;
	r = altviewd_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "MapMemory", -ESRCH,
			  &reply, "ttb", gfn, (uint64_t)nr, (int)write);
	if (r >= 0) {
		r = av_bus_map_reply(reply, gfn, nr, write, &rm->addr, &rm->id);
		/* Mapped or not, the daemon holds the frames until told. */
		if (r < 0 && rm->id)
			altviewd_call(dom->hv, MANAGER_PATH, MANAGER_IFACE, "UnmapMemory", -EIO, NULL,
				      "t", rm->id);
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		if (r == -EPROTO)
			av_err(dom->hv, "MapMemory: the daemon's runs do not cover %zu pages", nr);
		free(rm);
		return r;
	}
	rm->pages = nr;
	pthread_mutex_lock(&be->maps_lock);
	rm->next = be->mappings;
	be->mappings = rm;
	pthread_mutex_unlock(&be->maps_lock);
	*addr = rm->addr;
	return 0;
}

static int remote_unmap(struct av_hv *hv, struct remote_mapping *rm)
{
	int r;

	munmap(rm->addr, rm->pages * AV_PAGE_SIZE);
	r = altviewd_call(hv, MANAGER_PATH, MANAGER_IFACE, "UnmapMemory", -EIO, NULL, "t", rm->id);
	free(rm);
	return r < 0 ? r : 0;
}

int altviewd_unmap(struct av_domain *dom, void *addr)
{
	struct altviewd *be = altviewd_of(dom->hv);
	struct remote_mapping **p, *rm = NULL;

	pthread_mutex_lock(&be->maps_lock);
	for (p = &be->mappings; *p; p = &(*p)->next) {
		if ((*p)->addr == addr) {
			rm = *p;
			*p = rm->next;
			break;
		}
	}
	pthread_mutex_unlock(&be->maps_lock);
	return rm ? remote_unmap(dom->hv, rm) : -ENOENT;
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
	const void *data;
	size_t got;
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
			r = sd_bus_message_read_array(m, 'y', &data, &got);
		/* What was asked for, or an error: a reply of another size is not taken. */
		if (r >= 0 && got != len)
			r = -EPROTO;
		if (r >= 0)
			memcpy(buf, data, len);
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
