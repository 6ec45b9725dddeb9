/* SPDX-License-Identifier: MIT */
/*
 * mapping.c — guest memory at memory speed for root: MapMemory (and
 * MapGrant, for a page a guest granted) hands the caller a descriptor of
 * the file that holds guest frames and the runs of it to map, and the
 * daemon holds those frames (a mapping of its own, with the core's frame
 * references or the grant's pin) for the caller.
 *
 * The frames must not go back to the allocator while the caller can still
 * reach them, or another domain's memory would appear under an old mapping.
 * A closed bus connection says nothing about that (the process may keep
 * its mappings), so what ends a caller's hold is UnmapMemory from the same
 * connection or the exit of its process, watched through a pidfd.  A domain
 * destroyed meanwhile lingers in the core until the last hold goes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus-error.h"
#include "daemon.h"
#include "log.h"

/* Per caller process: enough for a tool that maps page by page, bounded for the daemon. */
#define MAX_MAPPINGS 4096

struct mapping {
	struct mapping *next;
	uint64_t id;
	bool grant;
	av_domain *handle;          /* guest frames: its own, they outlive the domain's object */
	uint32_t grant_handle;
	void *addr;
	uint64_t pages;
};

/* One bus connection that mapped something, and the process behind it. */
struct mapper {
	struct daemon *daemon;
	struct mapper *next;
	char *sender;
	pid_t pid;
	int pidfd;
	struct event *exit;
	struct mapping *mappings;
	unsigned int nr_mappings;
};

/* The hold the daemon took for the mapping, whatever of it was taken. */
static void mapping_release(struct daemon *daemon, struct mapping *mp)
{
	if (mp->grant) {
		if (mp->addr)
			av_grant_unmap(daemon->hv, mp->grant_handle);
		return;
	}
	if (mp->addr)
		av_unmap(mp->handle, mp->addr);
	if (mp->handle)
		av_domain_close(mp->handle);
}

static void mapping_free(struct daemon *daemon, struct mapping *mp)
{
	mapping_release(daemon, mp);
	daemon->mapped_pages -= mp->pages;
	free(mp);
}

static void mapper_free(struct mapper *mr)
{
	struct mapper **p;

	for (p = &mr->daemon->mappers; *p != mr; p = &(*p)->next)
		;
	*p = mr->next;
	while (mr->mappings) {
		struct mapping *mp = mr->mappings;

		mr->mappings = mp->next;
		mapping_free(mr->daemon, mp);
	}
	if (mr->exit)
		event_free(mr->exit);
	if (mr->pidfd >= 0)
		close(mr->pidfd);
	free(mr->sender);
	free(mr);
}

static void mapped_pages_changed(struct daemon *daemon)
{
	sd_bus_emit_properties_changed(daemon->bus, MANAGER_PATH, MANAGER_IFACE, "MappedPages", NULL);
}

static void on_process_exit(evutil_socket_t fd, short what, void *arg)
{
	struct mapper *mr = arg;
	struct daemon *daemon = mr->daemon;

	log_debug("process %d exited: its %u mapping%s of guest memory released", (int)mr->pid,
		  mr->nr_mappings, mr->nr_mappings == 1 ? "" : "s");
	mapper_free(mr);
	mapped_pages_changed(daemon);
}

/*
 * The caller's process as a pidfd.  The bus learnt the pid when the caller
 * connected; that the connection is still there after pidfd_open() says the
 * pid was not reused by another process in between.
 */
static int caller_process(struct daemon *daemon, sd_bus_message *m, pid_t *ret_pid,
			  sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL, *again = NULL;
	const char *sender = sd_bus_message_get_sender(m);
	pid_t pid = 0, pid2 = 0;
	int r, pidfd;

	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_PID, &creds);
	if (r >= 0 && (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_PID))
		r = -EPERM;
	if (r >= 0)
		r = sd_bus_creds_get_pid(creds, &pid);
	if (r < 0)
		return av_bus_error_set(error, -EACCES, "the bus does not vouch for the caller's "
					"process (%s)", strerror(-r));
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return av_bus_error_set(error, -ESRCH, "the caller's process %d is gone", (int)pid);
	r = sd_bus_get_name_creds(daemon->bus, sender, SD_BUS_CREDS_PID, &again);
	if (r >= 0)
		r = sd_bus_creds_get_pid(again, &pid2);
	if (r < 0 || pid2 != pid) {
		close(pidfd);
		return av_bus_error_set(error, -ESRCH, "the caller's process %d is gone", (int)pid);
	}
	*ret_pid = pid;
	return pidfd;
}

static struct mapper *mapper_find(struct daemon *daemon, const char *sender)
{
	for (struct mapper *mr = daemon->mappers; mr; mr = mr->next)
		if (!strcmp(mr->sender, sender))
			return mr;
	return NULL;
}

static int mapper_get(struct daemon *daemon, sd_bus_message *m, struct mapper **out,
		      sd_bus_error *error)
{
	struct mapper *mr = mapper_find(daemon, sd_bus_message_get_sender(m));
	int pidfd;

	if (mr) {
		*out = mr;
		return 0;
	}
	mr = calloc(1, sizeof(*mr));
	if (!mr)
		return -ENOMEM;
	mr->daemon = daemon;
	mr->pidfd = pidfd = caller_process(daemon, m, &mr->pid, error);
	mr->sender = strdup(sd_bus_message_get_sender(m));
	if (pidfd >= 0)
		mr->exit = event_new(daemon->base, pidfd, EV_READ, on_process_exit, mr);
	if (pidfd < 0 || !mr->sender || !mr->exit || event_add(mr->exit, NULL) < 0) {
		if (mr->exit)
			event_free(mr->exit);
		if (pidfd >= 0)
			close(pidfd);
		free(mr->sender);
		free(mr);
		return pidfd < 0 ? pidfd : -ENOMEM;
	}
	mr->next = daemon->mappers;
	daemon->mappers = mr;
	*out = mr;
	return 0;
}

/* Root may map: root can read any process's memory, so the file gives it nothing new. */
static int map_check(struct dom *dom, sd_bus_message *m, sd_bus_error *error)
{
	uid_t uid;
	int r = caller_check(dom->daemon, m, &uid, error);

	if (r < 0)
		return r;
	if (uid != 0)
		return av_bus_error_set(error, -EACCES, "mapping guest memory is root's: use ReadMemory "
					"and WriteMemory");
	return 0;
}

static int reply_mapping(sd_bus_message *m, const struct mapping *mp, int fd,
			 const struct av_frame_run *runs, size_t nr_runs)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "h", fd);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(tt)");
	for (size_t i = 0; r >= 0 && i < nr_runs; i++)
		r = sd_bus_message_append(reply, "(tt)", runs[i].offset, runs[i].pages);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "t", mp->id);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* Guest frames held and exported: av_map() in the daemon, then its runs. */
static int map_frames(struct dom *dom, struct mapping *mp, uint64_t gfn, bool writable, int *fd,
		      struct av_frame_run **runs, size_t *nr_runs)
{
	int r;

	r = av_domain_open(dom->daemon->hv, dom->id, &mp->handle);
	if (r >= 0)
		r = av_map(mp->handle, gfn, mp->pages, writable ? AV_MAP_WRITE : 0, &mp->addr);
	if (r < 0)
		return r;
	*nr_runs = 0;
	r = av_map_export(mp->handle, mp->addr, fd, NULL, nr_runs);
	if (r != -ENOSPC)
		return r;
	*runs = calloc(*nr_runs, sizeof(**runs));
	return *runs ? av_map_export(mp->handle, mp->addr, fd, *runs, nr_runs) : -ENOMEM;
}

/* A grant of the domain held and exported: one page, one run. */
static int map_grant(struct dom *dom, struct mapping *mp, uint32_t ref, bool writable, int *fd,
		     struct av_frame_run **runs, size_t *nr_runs)
{
	struct daemon *daemon = dom->daemon;
	int r;

	r = av_grant_map(daemon->hv, dom->id, ref, writable ? 0 : AV_GRANT_READONLY, &mp->addr,
			 &mp->grant_handle);
	if (r < 0)
		return r;
	*runs = calloc(1, sizeof(**runs));
	if (!*runs)
		return -ENOMEM;
	*nr_runs = 1;
	(*runs)->pages = 1;
	return av_grant_export(daemon->hv, mp->grant_handle, fd, &(*runs)->offset);
}

/*
 * The caller's mapping: its hold taken by @map (map_frames, map_grant),
 * the reply sent, and only then counted; on any failure the hold goes.
 */
static int map_for_caller(struct dom *dom, sd_bus_message *m, bool grant, uint64_t where,
			  uint64_t pages, bool writable, sd_bus_error *error)
{
	struct daemon *daemon = dom->daemon;
	struct av_frame_run *runs = NULL;
	struct mapping *mp;
	struct mapper *mr;
	size_t nr_runs = 0;
	int fd = -1, r;

	r = mapper_get(daemon, m, &mr, error);
	if (r < 0)
		return r;
	if (mr->nr_mappings >= MAX_MAPPINGS) {
		r = av_bus_error_set(error, -ENOSPC, "%u mappings already: unmap some first",
				     mr->nr_mappings);
		goto out;
	}
	mp = calloc(1, sizeof(*mp));
	if (!mp) {
		r = -ENOMEM;
		goto out;
	}
	mp->id = ++daemon->next_serial;
	mp->pages = pages;
	mp->grant = grant;
	daemon_clear_error();
	r = grant ? map_grant(dom, mp, (uint32_t)where, writable, &fd, &runs, &nr_runs)
		  : map_frames(dom, mp, where, writable, &fd, &runs, &nr_runs);
	if (r < 0) {
		r = daemon_reply_error(error, r, "");
	} else {
		r = reply_mapping(m, mp, fd, runs, nr_runs);
		if (r < 0)
			log_warning("%s reply: %s", sd_bus_message_get_member(m), strerror(-r));
	}
	if (fd >= 0)
		close(fd);          /* sd-bus sent a duplicate */
	free(runs);
	if (r < 0) {
		mapping_release(daemon, mp);
		free(mp);
		goto out;
	}
	mp->next = mr->mappings;
	mr->mappings = mp;
	mr->nr_mappings++;
	daemon->mapped_pages += pages;
	mapped_pages_changed(daemon);
	return 1;
out:
	if (!mr->mappings)
		mapper_free(mr);
	return r;
}

static int method_map_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	uint64_t gfn, pages;
	int writable, r;

	r = sd_bus_message_read(m, "ttb", &gfn, &pages, &writable);
	if (r >= 0)
		r = map_check(dom, m, error);
	if (r >= 0 && (pages == 0 || gfn >= dom->memory_bytes / AV_PAGE_SIZE ||
		       pages > dom->memory_bytes / AV_PAGE_SIZE - gfn))
		r = av_bus_error_set(error, -EFAULT, "gfn 0x%" PRIx64 "+%" PRIu64 " is outside the "
				     "domain's %" PRIu64 " pages", gfn, pages,
				     dom->memory_bytes / AV_PAGE_SIZE);
	if (r < 0)
		return r;
	return map_for_caller(dom, m, false, gfn, pages, writable, error);
}

static int method_map_grant(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dom *dom = userdata;
	uint32_t ref;
	int writable, r;

	r = sd_bus_message_read(m, "ub", &ref, &writable);
	if (r >= 0)
		r = map_check(dom, m, error);
	if (r < 0)
		return r;
	return map_for_caller(dom, m, true, ref, 1, writable, error);
}

/* On the manager: a mapping outlives its domain's object. */
static int method_unmap_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *daemon = userdata;
	struct mapping **p, *mp;
	struct mapper *mr;
	uint64_t id;
	int r;

	r = sd_bus_message_read(m, "t", &id);
	if (r < 0)
		return r;
	mr = mapper_find(daemon, sd_bus_message_get_sender(m));
	for (p = mr ? &mr->mappings : NULL; p && *p && (*p)->id != id; p = &(*p)->next)
		;
	if (!p || !*p)
		return av_bus_error_set(error, -ENOENT, "no mapping %" PRIu64 " of this connection", id);
	mp = *p;
	*p = mp->next;
	mr->nr_mappings--;
	mapping_free(daemon, mp);
	if (!mr->mappings)
		mapper_free(mr);
	mapped_pages_changed(daemon);
	return sd_bus_reply_method_return(m, NULL);
}

void mappings_drop(struct daemon *daemon)
{
	while (daemon->mappers)
		mapper_free(daemon->mappers);
}

static int property_mapped_pages(sd_bus *bus, const char *path, const char *iface,
				 const char *prop, sd_bus_message *reply, void *userdata,
				 sd_bus_error *error)
{
	struct daemon *daemon = userdata;

	return sd_bus_message_append(reply, "t", daemon->mapped_pages);
}

const sd_bus_vtable mapping_domain_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("MapMemory", SD_BUS_ARGS("t", gfn, "t", pages, "b", writable),
				SD_BUS_RESULT("h", memory, "a(tt)", runs, "t", id),
				method_map_memory, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("MapGrant", SD_BUS_ARGS("u", ref, "b", writable),
				SD_BUS_RESULT("h", memory, "a(tt)", runs, "t", id),
				method_map_grant, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

const sd_bus_vtable mapping_manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("MappedPages", "t", property_mapped_pages, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("UnmapMemory", SD_BUS_ARGS("t", id), SD_BUS_NO_RESULT,
				method_unmap_memory, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
