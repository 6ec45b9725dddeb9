/* SPDX-License-Identifier: MIT */
/*
 * evtchn.h — what the three parts of event channels share: the channels
 * and their tables (evtchn.c), dom0's handles on them (evtchn-handle.c),
 * and the service thread that lets a handle live in another process
 * (evtchn-service.c).  Internal to the core.
 */
#pragma once

#include "private.h"

#define BUCKET_PORTS   64
#define NR_BUCKETS     (HV_EVTCHN_PORTS / BUCKET_PORTS)
#define NR_WORDS       (HV_EVTCHN_PORTS / 64)
#define NR_VIRQS       24
/* More than any number of threads that could hold the read side at once. */
#define WRITE_INC      (1 << 24)

enum ecs { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
	_Atomic int lock;
	uint8_t state;
	unsigned int notify_vcpu;
	domid_t remote_dom;                   /* UNBOUND: who may bind */
	struct evtchn_table *remote;          /* INTERDOMAIN */
	evtchn_port_t remote_port;
	uint32_t virq;
	struct hv_evtchn_handle *handle;      /* a dom0 port's receiving handle */
	hv_evtchn_consumer_fn *consumer;      /* a port served inside the core */
	void *consumer_ctx;
};

struct evtchn_table {
	struct hv *hv;
	domid_t id;
	struct hv_mutex event_lock;
	struct evtchn *_Atomic buckets[NR_BUCKETS];
	evtchn_port_t virq_port[NR_VIRQS];
	_Atomic uint64_t pending[NR_WORDS], mask[NR_WORDS];   /* guest side */
};

/* A dom0 handle's state shared with its consumer, wherever that runs. */
struct evtchn_shm {
	_Atomic uint64_t pending[NR_WORDS];
	_Atomic uint64_t mask[NR_WORDS];
	_Atomic uint64_t notify[NR_WORDS];    /* ports the consumer asked to notify */
};

struct hv_evtchn_handle {
	struct hv *hv;                        /* NULL when imported into another process */
	struct evtchn_shm *shm;
	int shm_fd, up_fd, down_fd;
	bool exported;
	struct hv_evtchn_handle *next;        /* hv->evtchn_handles */
};

/* The per-channel lock's read side (evtchn.c): a try, never a wait. */
bool evtchn_tryread_lock(struct evtchn *c);
void evtchn_read_unlock(struct evtchn *c);
/* @port's channel in @t, or NULL if its bucket was never allocated. */
struct evtchn *evtchn_channel(struct evtchn_table *t, evtchn_port_t port);
/* Makes an eventfd readable. */
void evtchn_kick(int fd);
/* Binds a new port of @lt to @remote's @rport, delivering to @h if given. */
int evtchn_bind_interdomain(struct evtchn_table *lt, struct hv *hv, domid_t remote,
			    evtchn_port_t rport, struct hv_evtchn_handle *h);
/* Closes @port of @t, its peer's side too; a port served in the core only if @allow_consumer. */
int evtchn_close(struct evtchn_table *t, evtchn_port_t port, bool allow_consumer);

/* dom0 handles (evtchn-handle.c) */
int evtchn_handle_map(struct hv_evtchn_handle *h);
void evtchn_handle_free(struct hv_evtchn_handle *h);
/* Whether dom0's @port is bound and delivers to @h. */
bool evtchn_handle_owns(struct hv_evtchn_handle *h, evtchn_port_t port);
