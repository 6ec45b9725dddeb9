/* SPDX-License-Identifier: MIT */
/*
 * private.h — what the front end (core.c and the per-area files) and the
 * backends share.  The front end checks handles and arguments, converts
 * between altview's public types and Xen's, and keeps the object lists;
 * a backend only carries operations out.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Xen's public headers, as the core includes them: every backend speaks Xen's types. */
#include "limits.h"
#include "xen-public.h"

#define AV_API __attribute__((visibility("default")))
#include <altview/altview.h>

/* ---- options structs (libbpf's rule) ------------------------------------ */

#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

/*
 * Options from a caller built against another header version: a smaller
 * struct gets defaults for what it lacks, a larger one must be zero past
 * what this library knows.
 */
bool opts_valid(struct av_hv *hv, const void *opts, size_t known, const char *type);
#define OPTS_VALID(hv, opts, TYPE, LAST)                                            \
	(!(opts) || opts_valid(hv, opts, offsetofend(struct TYPE, LAST), #TYPE))
#define OPTS_HAS(opts, TYPE, FIELD) ((opts) && (opts)->sz >= offsetofend(struct TYPE, FIELD))
#define OPTS_GET(opts, TYPE, FIELD, DEF) (OPTS_HAS(opts, TYPE, FIELD) ? (opts)->FIELD : (DEF))

/* Copies @src (the library's view of a struct) into an output struct of out->sz bytes. */
void out_fill(void *out, const void *src, size_t src_size);

/* ---- logging ------------------------------------------------------------------ */

void av_log(struct av_hv *hv, enum av_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define av_err(hv, ...) av_log(hv, AV_LOG_ERR, __VA_ARGS__)

/* ---- handles ------------------------------------------------------------------- */

struct list {
	struct list *prev, *next;
};

struct av_backend_ops;

struct av_hv {
	const struct av_backend_ops *ops;
	void *be;                           /* the backend's state */
	av_log_fn *log;
	void *log_ctx;
	enum av_log_level log_level;

	pthread_mutex_t lock;               /* the lists */
	struct list domains, evtchns;
};

struct av_domain {
	struct av_hv *hv;
	struct list link;
	void *be;
	uint32_t id;
	uint32_t nr_vcpus;
	struct list monitors;               /* opened through this handle; under hv->lock */
};

struct av_monitor {
	struct av_domain *dom;
	struct list link;
	void *be;
	/*
	 * Each vCPU's events are taken by one thread at a time, so counting
	 * them needs no read-modify-write: only answers, which may come from
	 * any thread, race (on pending).
	 */
	_Atomic uint64_t async_events;
	_Atomic uint64_t sync_events[ALTVIEW_MAX_VCPUS];
	/* The sequence number of the event each vCPU waits on an answer for; 0: none. */
	_Atomic uint64_t pending[ALTVIEW_MAX_VCPUS];
	av_monitor_handler_fn *handler;     /* set before the backend may call it */
	void *handler_ctx;
};

struct av_evtchn {
	struct av_hv *hv;
	struct list link;
	void *be;
};

void list_init(struct list *l);
void list_add(struct list *head, struct list *e);
void list_del(struct list *e);
#define list_entry(ptr, TYPE, FIELD) ((TYPE *)((char *)(ptr) - offsetof(TYPE, FIELD)))

/*
 * A wait_idle for backends that can only ask: @idle is asked a millisecond
 * apart at first, then less often, until it says yes or @timeout_ms passed.
 */
int domain_poll_idle(struct av_domain *dom, int timeout_ms,
		     int (*idle)(struct av_domain *dom, bool *yes));

/* 0 for a handle on a live domain; -EINVAL without one, -ESRCH once it died. */
int domain_check(struct av_domain *dom);

/* A backend's call for @vcpu's synchronous event, already waiting in monitor_wait's place. */
void monitor_handle(struct av_monitor *mon, uint32_t vcpu);
/*
 * For backends whose events do not come on the vCPU's own thread: a thread
 * per vCPU of @mon's domain, each running @loop(mon, vcpu), into a new
 * *@threads.  On failure *@nr says how many started (the caller stops and
 * joins them, and frees *@threads).
 */
int monitor_threads_start(struct av_monitor *mon,
			  void (*loop)(struct av_monitor *mon, uint32_t vcpu),
			  pthread_t **threads, uint32_t *nr);

/* Closes the handle's monitors, then the handle (av_close's path). */
void domain_handle_free(struct av_domain *dom);

/* ---- the backend interface --------------------------------------------------- */

/*
 * One table per backend (wlroots' pattern).  Arguments are checked before
 * a backend sees them; ids are in range for the domain's vCPUs.  Monitors
 * speak Xen's vm_event payload: that is what every backend has on the wire.
 */
struct av_backend_ops {
	const char *name;
	int (*open)(struct av_hv *hv, const char *arg, const struct av_open_opts *opts);
	void (*close)(struct av_hv *hv);
	int (*get_info)(struct av_hv *hv, struct av_hv_info *info);

	int (*domain_create)(struct av_hv *hv, const struct av_domain_spec *spec, struct av_domain *dom);
	int (*domain_list)(struct av_hv *hv, uint32_t *ids, size_t max);
	int (*domain_open)(struct av_hv *hv, uint32_t id, struct av_domain *dom);
	void (*domain_close)(struct av_domain *dom);
	int (*domain_get_info)(struct av_domain *dom, struct av_domain_info *info);
	bool (*domain_alive)(struct av_domain *dom);
	int (*domain_pause)(struct av_domain *dom, bool pause);
	int (*domain_wait_idle)(struct av_domain *dom, int timeout_ms);
	int (*domain_set_access_required)(struct av_domain *dom, bool required);
	int (*domain_destroy)(struct av_domain *dom);

	int (*map)(struct av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr);
	int (*unmap)(struct av_domain *dom, void *addr);
	int (*map_export)(struct av_domain *dom, void *addr, int *fd, struct av_frame_run *runs,
			  size_t *nr_runs);
	/* Instead of map: a backend whose guest memory is reached by copying (altviewd:). */
	int (*copy)(struct av_domain *dom, uint64_t gpa, void *buf, size_t len, bool write);

	int (*vcpu_pause)(struct av_domain *dom, uint32_t vcpu, bool pause);
	int (*vcpu_get_regs)(struct av_domain *dom, uint32_t vcpu, struct vm_event_regs_x86 *regs);
	int (*vcpu_set_regs)(struct av_domain *dom, uint32_t vcpu, const struct vm_event_regs_x86 *regs);
	int (*vcpu_set_singlestep)(struct av_domain *dom, uint32_t vcpu, bool enable);

	int (*views_enable)(struct av_domain *dom, uint32_t max_views);
	int (*views_disable)(struct av_domain *dom);
	int (*view_create)(struct av_domain *dom, xenmem_access_t def, uint32_t *view);
	int (*view_destroy)(struct av_domain *dom, uint32_t view);
	int (*view_switch)(struct av_domain *dom, uint32_t view);
	int (*vcpu_switch_view)(struct av_domain *dom, uint32_t vcpu, uint32_t view);
	int (*vcpu_get_view)(struct av_domain *dom, uint32_t vcpu, uint32_t *view);
	int (*view_set_visible)(struct av_domain *dom, uint32_t view, bool visible);
	int (*view_set_access)(struct av_domain *dom, uint32_t view, uint64_t gfn, uint64_t nr,
			       xenmem_access_t access);
	int (*view_set_access_multi)(struct av_domain *dom, uint32_t view, const uint64_t *gfns,
				     const xenmem_access_t *access, size_t n, size_t *failed);
	int (*view_get_access)(struct av_domain *dom, uint32_t view, uint64_t gfn,
			       xenmem_access_t *access);
	int (*view_set_default_access)(struct av_domain *dom, uint32_t view, xenmem_access_t access);
	int (*view_change_gfn)(struct av_domain *dom, uint32_t view, uint64_t old_gfn, uint64_t new_gfn);

	int (*monitor_open)(struct av_monitor *mon, const struct av_monitor_opts *opts);
	void (*monitor_close)(struct av_monitor *mon);
	int (*monitor_set_reasons)(struct av_monitor *mon, uint32_t reasons);
	int (*monitor_fd)(struct av_monitor *mon);
	int (*monitor_next)(struct av_monitor *mon, vm_event_request_t *req);
	int (*monitor_next_async)(struct av_monitor *mon, vm_event_request_t *req);
	int (*monitor_wait)(struct av_monitor *mon, uint32_t vcpu, int timeout_ms,
			    vm_event_request_t *req);
	int (*monitor_respond)(struct av_monitor *mon, const vm_event_response_t *rsp);
	/* From now on, call monitor_handle() for each synchronous event. */
	int (*monitor_set_handler)(struct av_monitor *mon);
	void (*monitor_get_stats)(struct av_monitor *mon, struct av_monitor_stats *st);

	int (*evtchn_open)(struct av_evtchn *xce);
	void (*evtchn_close)(struct av_evtchn *xce);
	int (*evtchn_fd)(struct av_evtchn *xce);
	int (*evtchn_bind_interdomain)(struct av_evtchn *xce, uint32_t domid, uint32_t port);
	int (*evtchn_bind_unbound)(struct av_evtchn *xce, uint32_t domid);
	int (*evtchn_unbind)(struct av_evtchn *xce, uint32_t port);
	int (*evtchn_notify)(struct av_evtchn *xce, uint32_t port);
	int (*evtchn_pending)(struct av_evtchn *xce);
	int (*evtchn_unmask)(struct av_evtchn *xce, uint32_t port);
	int (*evtchn_export)(struct av_evtchn *xce, int *shared_fd, int *up_fd, int *down_fd);
	int (*evtchn_status)(struct av_domain *dom, uint32_t port, struct evtchn_status *st);

	/* Grant operations return GNTST_* codes, as Xen's hypercalls do. */
	int (*grant_map)(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t gntmap_flags,
			 void **addr, uint32_t *handle);
	int (*grant_unmap)(struct av_hv *hv, uint32_t handle);
	int (*grant_export)(struct av_hv *hv, uint32_t handle, int *fd, uint64_t *offset);
	int (*grant_copy)(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			  void *buf, uint32_t len, bool to_grant);
	int (*grant_share)(struct av_hv *hv, uint32_t domid, bool readonly, uint32_t *ref, void **addr);
	int (*grant_unshare)(struct av_hv *hv, uint32_t ref);

	/* What embedded guests do themselves: NULL where guests run their own kernels. */
	int (*guest_grant_access)(struct av_domain *dom, uint32_t ref, uint32_t domid, uint64_t gfn,
				  bool readonly);
	int (*guest_end_access)(struct av_domain *dom, uint32_t ref);
	int (*guest_map_grant)(struct av_domain *dom, uint32_t ref, uint64_t gfn, bool readonly,
			       uint32_t *handle);
	int (*guest_unmap_grant)(struct av_domain *dom, uint32_t handle);
	int (*guest_evtchn_alloc_unbound)(struct av_domain *dom, uint32_t remote);
	int (*guest_evtchn_send)(struct av_domain *dom, uint32_t port);
	int (*guest_evtchn_test_and_clear)(struct av_domain *dom, uint32_t port);
};

extern const struct av_backend_ops av_backend_hv;
extern const struct av_backend_ops av_backend_altviewd;
extern const struct av_backend_ops av_backend_xen;

/*
 * Operations a backend may lack (NULL in its table: guest memory mapping,
 * vCPU registers, event channels and grants through altviewd): -EOPNOTSUPP.
 */
#define BACKEND_OPTIONAL(hv, op, ...) ((hv)->ops->op ? (hv)->ops->op(__VA_ARGS__) : -EOPNOTSUPP)

/* ---- conversions between altview's types and Xen's -------------------------- */

/* Overlays what altview's struct has on @out (which holds the rest). */
void regs_to_xen(const struct av_regs_x86 *in, struct vm_event_regs_x86 *out);
void regs_from_xen(const struct vm_event_regs_x86 *in, struct av_regs_x86 *out);

/* Grant status to errno, logging Xen's name for it. */
int grant_status_errno(struct av_hv *hv, int16_t st, const char *what);
/* Back from an errno (a daemon's answer) to the GNTST_ code a backend reports. */
int16_t grant_errno_status(int err);

/* The JSON spec (spec.c), and the script engine's program (backend-hv-script.c). */
struct spec_owner;
int spec_parse_json(struct av_hv *hv, const char *json, struct av_domain_spec *spec,
		    struct spec_owner **owner);
void spec_owner_free(struct spec_owner *owner);
