/* SPDX-License-Identifier: MIT */
/*
 * altview/monitor.h — vm_events: the accesses, breakpoints, single steps,
 * CPUIDs and guest requests of a domain, delivered to this process.
 *
 * A synchronous event (AV_EVENT_F_SYNC) leaves its vCPU paused until
 * av_monitor_respond(); asynchronous ones (rx2rw, n2rwx) need no answer.
 *
 * Two ways to take events, not to be mixed on one monitor:
 *  - av_monitor_next() returns whatever is there, from any vCPU; poll
 *    av_monitor_fd() for readability.  One thread at a time.
 *  - av_monitor_wait() takes the synchronous events of one vCPU: run a
 *    thread per vCPU and they handle events in parallel (channels transport
 *    only), at most one thread per vCPU; one more thread takes the
 *    asynchronous events with av_monitor_next_async().
 *  - av_monitor_set_handler() has the synchronous events handed to a
 *    function on the thread that raised them (hv:), which saves a thread
 *    hand-off per event for monitors that answer at once.
 * av_monitor_respond() may be called from any thread.
 */
#ifndef ALTVIEW_MONITOR_H
#define ALTVIEW_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <altview/common.h>
#include <altview/domain.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct av_monitor av_monitor;

enum av_transport {
	AV_TRANSPORT_CHANNELS = 0,  /* a slot per vCPU + an async ring (default) */
	AV_TRANSPORT_RING,          /* Xen's single shared ring */
};

struct av_monitor_opts {
	size_t sz;
	enum av_transport transport;
	uint32_t ring_pages;        /* 0: 1 page */
};

/* Event kinds; av_monitor_set_events() takes a mask of 1u << kind. */
enum av_event_kind {
	AV_EVENT_MEM_ACCESS = 1,
	AV_EVENT_BREAKPOINT,
	AV_EVENT_SINGLESTEP,
	AV_EVENT_CPUID,
	AV_EVENT_GUEST_REQUEST,
	AV_EVENT__MAX,
};
#define AV_EVENT_BIT(kind) (1u << (kind))

/* Access bits of a memory event. */
enum {
	AV_MEM_R = 1u << 0,
	AV_MEM_W = 1u << 1,
	AV_MEM_X = 1u << 2,
	AV_MEM_GLA_VALID = 1u << 3,
};

/* Flags of an event. */
enum {
	AV_EVENT_F_SYNC = 1u << 0,  /* the vCPU waits for a response */
};

#define AV_XEN_REQUEST_MAX 512

/*
 * An event.  The caller sets @sz (AV_OPTS() does) and the library fills
 * that much: fields added in later versions are appended.
 */
struct av_event {
	size_t sz;
	enum av_event_kind kind;
	uint32_t flags;             /* AV_EVENT_F_* */
	uint32_t vcpu;
	uint32_t view;              /* the view the vCPU was in */
	uint64_t seq;               /* per monitor, to match the response */
	union {
		struct {
			uint64_t gfn, offset, gla;
			uint32_t access;    /* AV_MEM_* */
		} mem;
		struct {
			uint64_t gfn;
			uint32_t insn_length;
		} breakpoint;
		struct {
			uint64_t gfn;
		} singlestep;
		struct {
			uint32_t leaf, subleaf, insn_length;
		} cpuid;
		uint64_t pad[8];
	} u;
	struct av_regs_x86 regs;
	/* The request exactly as Xen's vm_event_request_t (see altview/xen.h). */
	uint32_t xen_size;
	uint8_t xen[AV_XEN_REQUEST_MAX] __attribute__((aligned(8)));
};

/* Response flags: what to do before the vCPU resumes. */
enum {
	AV_RESPONSE_EMULATE = 1u << 0,          /* perform the access despite the view */
	AV_RESPONSE_DENY = 1u << 1,             /* skip a write */
	AV_RESPONSE_SWITCH_VIEW = 1u << 2,      /* move the vCPU to @view first */
	AV_RESPONSE_SET_REGS = 1u << 3,         /* load @regs (GPRs, rip, rflags) */
	AV_RESPONSE_TOGGLE_SINGLESTEP = 1u << 4,
	AV_RESPONSE_FAST_SINGLESTEP = 1u << 5,  /* one step, then to @step_view, no event */
};

struct av_response {
	size_t sz;
	uint32_t flags;             /* AV_RESPONSE_* */
	uint32_t view;              /* with SWITCH_VIEW: where the vCPU resumes */
	struct av_regs_x86 regs;
	uint32_t step_view;         /* with FAST_SINGLESTEP: the view after that one step */
};

/*
 * Starts monitoring; -EBUSY if the domain already has a monitor.  No event
 * kind is on at first.  Thread-safe.
 */
AV_API int av_monitor_open(av_domain *dom, const struct av_monitor_opts *opts, av_monitor **out);

/*
 * Stops monitoring: every vCPU waiting for an answer resumes as if answered
 * with no flags.  No other thread may use the monitor then.
 */
AV_API void av_monitor_close(av_monitor *mon);

/* Which kinds are delivered: a mask of AV_EVENT_BIT(kind).  Thread-safe. */
AV_API int av_monitor_set_events(av_monitor *mon, uint32_t mask);

/*
 * Readable when av_monitor_next() may have an event.  A thread serving all
 * vCPUs for throughput may run SCHED_BATCH: see libaltview(3), Scheduling.
 */
AV_API int av_monitor_fd(av_monitor *mon);

/* The next event from any vCPU, or -EAGAIN. */
AV_API int av_monitor_next(av_monitor *mon, struct av_event *ev);

/*
 * The next asynchronous event, or -EAGAIN; never a synchronous one, which
 * the av_monitor_wait() threads own.  Channels only (-EOPNOTSUPP on the ring).
 */
AV_API int av_monitor_next_async(av_monitor *mon, struct av_event *ev);

/*
 * The next synchronous event of @vcpu, waiting up to @timeout_ms
 * (-ETIMEDOUT).  Channels only (-EOPNOTSUPP on the ring).
 */
AV_API int av_monitor_wait(av_monitor *mon, uint32_t vcpu, int timeout_ms, struct av_event *ev);

typedef void av_monitor_handler_fn(av_monitor *mon, struct av_event *ev, void *ctx);

/*
 * From now on every synchronous event is handed to @fn on the thread that
 * raised it: on hv: the vCPU's own thread, inside the event, so the vCPU
 * resumes as soon as @fn returns with no thread switch at all.  @fn answers
 * with av_monitor_respond() before it returns; one it leaves unanswered is
 * answered with no flags.  An answer the hypervisor refuses (a view gone
 * meanwhile) brings the request to @fn again, as a new event.  Calls for different vCPUs run in
 * parallel.  @fn must not close the monitor; av_monitor_close() waits for
 * calls in progress.  Asynchronous events still come from
 * av_monitor_next_async().  Once per monitor (-EBUSY), channels only;
 * -EOPNOTSUPP where the events are raised in another process (altviewd:).
 */
AV_API int av_monitor_set_handler(av_monitor *mon, av_monitor_handler_fn *fn, void *ctx);

/*
 * Answers the synchronous event @ev (only vcpu and seq are read) and lets
 * its vCPU go; @rsp NULL resumes with no flags.  -EALREADY when that event
 * was answered before, -EINVAL for an asynchronous event, unknown flags,
 * a bad size or (hv:) a view that does not exist; the vCPU keeps waiting
 * on any error.
 */
AV_API int av_monitor_respond(av_monitor *mon, const struct av_event *ev,
			      const struct av_response *rsp);

struct av_monitor_stats {
	size_t sz;
	uint64_t events;            /* delivered through this handle */
	uint64_t responses;
	uint64_t async_dropped;     /* async ring was full */
	uint64_t ring_waits;        /* vCPUs waited for ring space */
	uint64_t bad_responses;     /* answers the hypervisor refused */
};

AV_API int av_monitor_get_stats(av_monitor *mon, struct av_monitor_stats *st);

#ifdef __cplusplus
}
#endif

#endif
