/* SPDX-License-Identifier: MIT */
/*
 * backend-altviewd.h — what the altviewd backend's two halves share: the
 * bus (backend-altviewd.c: domains, views, control) and the channel
 * (backend-altviewd-monitor.c: events and answers in shared memory, no bus
 * round trip on the event path).
 */
#pragma once

#include <systemd/sd-bus.h>

#include "private.h"

struct altviewd {
	sd_bus *bus;
	pthread_mutex_t lock;       /* sd-bus connections are not thread-safe */
	pthread_mutex_t maps_lock;
	struct remote_mapping *mappings;
	uint32_t next_grant_handle;
	bool on_xen;                /* the daemon's backend is Xen: a vCPU changes view only in an answer */
};

static inline struct altviewd *altviewd_of(struct av_hv *hv)
{
	return hv->be;
}

/* The domain's object path, e.g. for a subscription. */
const char *altviewd_domain_path(struct av_domain *dom);

int altviewd_new_call(struct av_hv *hv, const char *path, const char *iface, const char *member,
		      sd_bus_message **m);
/*
 * Sends the method call @m and waits for its reply, serialised on the
 * connection.  The daemon's message goes to the log; @failed_at (if any)
 * gets the entry number a batch call's message names ("entry N: ...").
 */
int altviewd_send(struct av_hv *hv, sd_bus_message *m, int gone, sd_bus_message **reply,
		  size_t *failed_at);

/*
 * Calls @member of @iface at @path (serialised on the connection); a
 * failure is logged with the daemon's message and returned as its errno,
 * @gone when the object does not exist; 0 on success.  @types may be NULL.
 */
int altviewd_call(struct av_hv *hv, const char *path, const char *iface, const char *member,
		  int gone, sd_bus_message **reply, const char *types, ...);

int altviewd_domain_get_info(struct av_domain *dom, struct av_domain_info *info);

/* backend-altviewd-memory.c */
int altviewd_map(struct av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr);
int altviewd_unmap(struct av_domain *dom, void *addr);
int altviewd_map_export(struct av_domain *dom, void *addr, int *fd, struct av_frame_run *runs,
			size_t *nr_runs);
/* What this process still maps goes (av_close). */
void altviewd_unmap_all(struct av_hv *hv);
int altviewd_copy(struct av_domain *dom, uint64_t gpa, void *buf, size_t len, bool write);
int altviewd_grant_map(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t gntmap_flags,
		       void **addr, uint32_t *handle);
int altviewd_grant_unmap(struct av_hv *hv, uint32_t handle);
int altviewd_grant_copy(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			void *buf, uint32_t len, bool to_grant);

/* backend-altviewd-evtchn.c */
int altviewd_evtchn_open(struct av_evtchn *xce);
void altviewd_evtchn_close(struct av_evtchn *xce);
int altviewd_evtchn_fd(struct av_evtchn *xce);
int altviewd_evtchn_bind_interdomain(struct av_evtchn *xce, uint32_t domid, uint32_t port);
int altviewd_evtchn_bind_unbound(struct av_evtchn *xce, uint32_t domid);
int altviewd_evtchn_unbind(struct av_evtchn *xce, uint32_t port);
int altviewd_evtchn_notify(struct av_evtchn *xce, uint32_t port);
int altviewd_evtchn_pending(struct av_evtchn *xce);
int altviewd_evtchn_unmask(struct av_evtchn *xce, uint32_t port);
int altviewd_evtchn_status(struct av_domain *dom, uint32_t port, struct evtchn_status *st);

int altviewd_monitor_open(struct av_monitor *mon, const struct av_monitor_opts *opts);
void altviewd_monitor_close(struct av_monitor *mon);
int altviewd_monitor_set_reasons(struct av_monitor *mon, uint32_t reasons);
int altviewd_monitor_fd(struct av_monitor *mon);
int altviewd_monitor_next(struct av_monitor *mon, vm_event_request_t *req);
int altviewd_monitor_next_async(struct av_monitor *mon, vm_event_request_t *req);
int altviewd_monitor_wait(struct av_monitor *mon, uint32_t vcpu, int timeout_ms,
			  vm_event_request_t *req);
int altviewd_monitor_respond(struct av_monitor *mon, const vm_event_response_t *rsp);
int altviewd_monitor_set_handler(struct av_monitor *mon);
/*
 * @vcpu's registers from the event this monitor took, if the vCPU still
 * waits in it and nobody has set them since: a read without a round trip.
 */
bool altviewd_monitor_regs(struct av_monitor *mon, uint32_t vcpu, struct vm_event_regs_x86 *regs);
void altviewd_monitor_get_stats(struct av_monitor *mon, struct av_monitor_stats *st);
