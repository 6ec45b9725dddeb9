/* SPDX-License-Identifier: MIT */
/*
 * monitor.h — one libaltview monitor per domain, shared by any number of
 * subscriptions: each synchronous event is dispatched, on its vCPU's own
 * thread, to the subscriptions whose filter matches, through their channels
 * or as Event signals; an async thread does the same for asynchronous
 * events.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <altview/altview.h>
#include <altview/xen.h>

#include "answer.h"
#include "channel.h"
#include "org-altview1.h"

#define FILTER_MAX_GFN_RANGES 16

/*
 * Who may switch vCPUs into a view by answering an event: the connection
 * that made it (a struct conn's key, below 2^63), or any connection of the
 * uid that made it when no monitoring connection did.  0: nobody.
 */
#define VIEW_KEY_UID(uid) (1ull << 63 | (uint64_t)(uid))

/* Empty sets mean "all": no vCPU bits selects every vCPU, and so on. */
struct filter {
	uint32_t kinds;             /* AV_EVENT_BIT()s */
	uint64_t vcpus[ALTVIEW_MAX_VCPUS / 64];
	uint64_t views[ALTVIEW_MAX_VIEWS / 64];
	bool any_vcpu, any_view;
	uint32_t nr_gfn_ranges;     /* 0: any gfn */
	struct {
		uint64_t first, last;
	} gfns[FILTER_MAX_GFN_RANGES];
	int32_t priority;
};

struct monitor;

/*
 * A sink: the monitor's side of a subscription, where its events go (a
 * channel or Event signals) with its filter and counters.  The dispatch
 * threads hold references while they deliver to it, so it may outlive its
 * subscription's removal from the bus by one event.
 */
struct sink {
	_Atomic unsigned int refs;
	uint32_t id;                /* .../client/<id> */
	uint64_t serial;            /* ranks ties in merging */
	uint64_t conn_key;          /* its connection's (VIEW_KEY_UID) */
	uid_t uid;
	bool signals;               /* delivered as Event signals instead of a channel */
	char *destination;          /* the subscriber's unique name: signals go to it alone */
	struct filter filter;       /* under mon->lock */
	char path[OBJECT_PATH_MAX];

	/* The channel (not for signals); per vCPU, that vCPU's dispatcher's only. */
	int notify_fd;              /* eventfd: the daemon writes, the client polls */
	struct channel_producer chan;

	_Atomic bool dead;          /* closed or its client went away: answered for from now on */
	_Atomic uint64_t events, dropped, expired, bad_answers;
	/* Per vCPU, whether its event waits for this sink's answer: its client may touch it. */
	_Atomic bool awaited[ALTVIEW_MAX_VCPUS];
};

struct signal_queue;

struct monitor {
	av_domain *handle;
	uint32_t domid;
	uint32_t nr_vcpus;
	av_monitor *mon;
	struct signal_queue *signals;

	pthread_mutex_t lock;       /* sinks and their filters */
	struct sink **sinks;
	size_t nr_sinks, max_sinks;
	uint32_t kinds;             /* enabled on the guest: the union of the filters */

	_Atomic int timeout_ms;
	_Atomic int default_answer; /* enum default_answer */
	_Atomic bool stopping;
	struct dispatch *dispatch;  /* per vCPU */
	pthread_t async;
	bool async_started;
	_Atomic bool broken;        /* the backend's monitor failed for good (async_thread) */
	_Atomic uint64_t taken;     /* synchronous events taken from the guest */
	_Atomic uint64_t merged;    /* ... and answered, once each */
	_Atomic uint64_t view_keys[ALTVIEW_MAX_VIEWS];     /* the bus thread's copy */
};

int monitor_new(av_domain *handle, uint32_t domid, uint32_t nr_vcpus, struct signal_queue *q,
		size_t max_sinks, struct monitor **out);
/* Gives every pending event its default answer, stops the threads, closes the monitor. */
void monitor_free(struct monitor *mon);
/* Whether the backend's monitor failed for good: no event comes through @mon any more. */
bool monitor_broken(struct monitor *mon);
void monitor_set_answers(struct monitor *mon, int timeout_ms, enum default_answer def);
/* Who may switch vCPUs into @view from now on (VIEW_KEY_UID). */
void monitor_set_view_key(struct monitor *mon, uint32_t view, uint64_t key);

/*
 * A new subscription for the connection @destination: a channel of
 * @ring_entries, its memfd in *@memfd (sealed), or Event signals.
 */
int sink_new(struct monitor *mon, bool signals, uint32_t ring_entries, const char *destination,
	    int *memfd, struct sink **out);
void sink_unref(struct sink *sink);
/* Starts delivering to @sink (the monitor takes a reference). */
int monitor_add(struct monitor *mon, struct sink *sink);
/* Replaces @sink's filter and updates the kinds enabled on the guest. */
int monitor_set_filter(struct monitor *mon, struct sink *sink, const struct filter *f);
/* Whether @vcpu waits in an event posted to @sink, as of now. */
bool sink_awaits(struct sink *sink, uint32_t vcpu);
/* @vcpu's registers were set over the bus: every channel's copy of them in an event is stale. */
void monitor_regs_changed(struct monitor *mon, uint32_t vcpu);
/* Stops delivering to @sink and answers what it still owes; drops the monitor's reference. */
void monitor_remove(struct monitor *mon, struct sink *sink);

/* What an Event signal says about an event. */
struct event_note {
	enum av_event_kind kind;
	uint32_t vcpu, view;
	uint32_t access;            /* AV_MEM_* */
	bool sync;
	uint64_t gfn, rip;
};

/* Event signals: the dispatch threads queue them, the main loop sends them. */
typedef void signal_emit_fn(void *ctx, const struct sink *sink, const struct event_note *note);
int signal_queue_new(struct event_base *base, signal_emit_fn *emit, void *ctx,
		     struct signal_queue **out);
void signal_queue_free(struct signal_queue *q);
