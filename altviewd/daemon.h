/* SPDX-License-Identifier: MIT */
/*
 * daemon.h — altviewd's one context struct and what its parts (the bus
 * objects, the domain table, the lifecycle) share.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <altview/altview.h>
#include <event2/event.h>
#include <systemd/sd-bus.h>

#include "bus-loop.h"
#include "monitor.h"
#include "names.h"
#include "config.h"
#include "org-altview1.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

struct conn;

struct view {
	struct dom *dom;
	uint32_t index;
	bool exists;
	bool visible;
	enum av_access default_access;
	uid_t owner;                /* who created it; view 0 belongs to root */
	struct conn *conn;          /* a client's: goes with its connection */
};

/*
 * A connection that monitors a domain: it holds it paused or has
 * subscriptions.  What it made while being one (views, holds,
 * subscriptions) goes when its connection does.
 */
struct conn {
	struct dom *dom;
	struct conn *next;
	char *sender;               /* unique bus name */
	uint64_t key;               /* daemon-wide, never reused: whose views are whose */
	uid_t uid;
	sd_bus_track *track;
	bool holds;                 /* one pause level */
	unsigned int nr_vcpu_holds;
	uint64_t vcpu_held[ALTVIEW_MAX_VCPUS / 64];  /* one pause level of each vCPU (HoldVcpu) */
	unsigned int nr_subscriptions;
	bool requires_access;       /* SetAccessRequired(true) */
};

/* A subscription on the bus: sink->path, .../client/<id> (org.altview1.Client). */
struct subscription {
	struct dom *dom;
	struct subscription *next;
	struct conn *conn;
	struct sink *sink;
};

/* A domain the daemon has open, with what it last told the bus about it. */
struct dom {
	struct daemon *daemon;
	struct dom *next;
	av_domain *handle;
	uint32_t id;
	char name[64];
	uint32_t nr_vcpus;
	uint64_t memory_bytes;
	enum av_domain_state state;
	char crash_reason[128];
	bool paused;                /* by a Pause call: one level, undone at shutdown */
	unsigned int holds;         /* clients holding it paused (Hold), a level each */
	unsigned int *vcpu_holds;   /* per vCPU: clients holding it paused (HoldVcpu) */
	bool spec_access_required;  /* as created: what it returns to when no client requires access */
	unsigned int access_requirers;  /* clients that require access */
	uint32_t *active_views;     /* per vCPU */
	uint32_t max_views;         /* 0: views disabled */
	struct view *views;         /* max_views entries */
	/*
	 * View 0 while views are disabled: the host's p2m, whose access a
	 * monitor sets without alternate views (as Xen's xc_set_mem_access).
	 * Reachable by its path, not listed in Views.
	 */
	struct view host_view;
	char path[OBJECT_PATH_MAX];

	struct monitor *monitor;    /* from the first subscription on */
	struct conn *conns;
	struct subscription *subscriptions;
	uint32_t next_subscription_id;
};

/* A caller's uid, as the bus driver vouched for it (creds.c). */
struct sender_uid {
	char sender[32];            /* a unique name; "" for a free entry */
	uid_t uid;
};
#define UID_CACHE_SIZE 64

struct daemon {
	const char *config_path;
	bool config_optional;
	struct config config;
	av_hv *hv;
	struct av_hv_info hv_info;
	bool owns_domains;          /* the embedded backend: domains live and die with the daemon */

	sd_bus *bus;
	struct event_base *base;
	struct bus_loop loop;
	struct event *sigterm, *sigint, *sighup;
	struct event *refresh;      /* picks up state the guest changes by itself */
	struct event *watchdog;

	struct signal_queue *signals;
	uint64_t next_serial;       /* of subscriptions and connections, daemon-wide */

	struct mapper *mappers;     /* root callers' mappings of guest memory */
	struct evtchn_handle *evtchns;  /* clients' event channel handles */
	uint64_t mapped_pages;

	struct sender_uid uid_cache[UID_CACHE_SIZE];
	unsigned int uid_cache_next;

	struct dom *domains;        /* ascending ids */
	unsigned int nr_domains;
	bool stopping;
};

/* What libaltview last logged as an error on this thread: the detail for a D-Bus error. */
const char *daemon_last_error(void);
void daemon_clear_error(void);
/*
 * Sets @error from libaltview's failure @r: @prefix, then what the library
 * logged about it (or strerror).  Clients say what failed ("Failed to pause
 * the domain: ..."), so the message says only why.  Returns @r.
 */
int daemon_reply_error(sd_bus_error *error, int r, const char *prefix);

/* Checks the caller of @m may change things; its uid in *@uid (may be NULL). */
int caller_check(struct daemon *daemon, sd_bus_message *m, uid_t *uid, sd_bus_error *error);
/* Whether @uid may, under the configuration in use. */
bool uid_allowed(struct daemon *daemon, uid_t uid);

/* manager.c */
int manager_register(struct daemon *daemon);
void manager_status(struct daemon *daemon);

/* objects.c: every interface under /org/altview1/domain, found by path */
int domain_objects_register(struct daemon *daemon);

/* domain.c */
extern const sd_bus_vtable domain_vtable[];
/* -EINVAL with the reason when @dom has no vCPU @vcpu. */
int vcpu_check(struct dom *dom, uint32_t vcpu, sd_bus_error *error);

/* domain-table.c */
int dom_add(struct daemon *daemon, av_domain *handle, struct dom **out);
void dom_remove(struct dom *dom, bool destroy);
struct dom *dom_find(struct daemon *daemon, uint32_t id);
struct dom *dom_find_name(struct daemon *daemon, const char *name);
int dom_create(struct daemon *daemon, const char *spec_json, struct dom **out, sd_bus_error *error);
void domains_refresh(struct daemon *daemon);
void dom_refresh(struct dom *dom);
void dom_views_publish(struct dom *dom);
/* The views are gone from the hypervisor: gone from the bus and the table too. */
void dom_views_forget(struct dom *dom);
#define RELEASED_VIEWS    (1u << 0)
#define RELEASED_UNPAUSED (1u << 1)
unsigned int dom_release(struct dom *dom);

/* spec.c */
#define SPEC_MAX_BYTES (1u << 20)
/* A caller's domain spec, checked and rewritten for libaltview. */
struct prepared_spec {
	char *json;
	int program_fd;             /* the x86 program, held open until the domain is made */
};
/*
 * Bounds, limits (after normalisation), the name, and the program resolved
 * in program_dir; errors name the member.  spec_release() in every case.
 */
int spec_prepare(const struct config *cfg, const char *text, struct prepared_spec *out,
		 sd_bus_error *error);
void spec_release(struct prepared_spec *s);

/* client.c */
int subscriptions_register(struct daemon *daemon, sd_bus_object_find_t find);
struct subscription *subscription_find(struct dom *dom, uint32_t id);
/* The domain's monitoring clients go: subscriptions, views, holds (shutdown, domain gone). */
void conns_drop(struct dom *dom);
/* Whether @vcpu is paused for anyone: the domain paused or held, or the vCPU held. */
bool vcpu_held(struct dom *dom, uint32_t vcpu);
/* Whether @vcpu waits in an event posted to a subscription of the connection @sender. */
bool conn_awaits(struct dom *dom, const char *sender, uint32_t vcpu);
/* Whether the sender of @m monitors @dom; its connection or NULL. */
struct conn *conn_find(struct dom *dom, const char *sender);
void monitors_configure(struct daemon *daemon);
/* Clients whose uid may no longer call lose what they hold (after a reload). */
void conns_revoke(struct daemon *daemon);
extern const sd_bus_vtable domain_monitor_vtable[];

/* evtchn.c */
extern const sd_bus_vtable evtchn_manager_vtable[];
/* Every client's handle goes, and the ports bound on it (shutdown). */
void evtchns_drop(struct daemon *daemon);

/* mapping.c */
extern const sd_bus_vtable mapping_domain_vtable[];
extern const sd_bus_vtable mapping_manager_vtable[];
/* Every caller's mappings go (shutdown). */
void mappings_drop(struct daemon *daemon);

/* view.c */
void view_forget(struct view *v);
/* Whether @uid, calling from the connection @sender, may change @v: root, or its owner. */
int view_owner_check(const struct view *v, uid_t uid, const char *sender, sd_bus_error *error);
int views_register(struct daemon *daemon, sd_bus_object_find_t find);
void view_path(const struct view *v, char *buf);
