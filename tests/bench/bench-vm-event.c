/* SPDX-License-Identifier: MIT */
/*
 * vm_event transports and event channels, compared in one run.
 *
 *  1. Synchronous round trip with one vCPU: the interval between two
 *     requests seen by the consumer, which answers at once, is one trip
 *     monitor answer -> vCPU resumes -> traps -> monitor sees the request.
 *     p50 and p99 for channels (a consumer thread waiting on the slot) and
 *     for the ring (a consumer polling the ring).
 *  2. Throughput with 1, 4, 16 and 32 vCPUs raising synchronous events:
 *     events/s and how often a vCPU waited for ring space.  Channels get a
 *     consumer thread per vCPU, the ring its one consumer.
 *  3. Event channel sends per second: uncontended, and with another thread
 *     binding and closing ports of the same domain meanwhile.
 *
 * usage: bench-vm-event [events-per-run] [round_trip|throughput|evtchn]
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "hv.h"

#define MiB (UINT64_C(1) << 20)

static const char *const names[] = { "channels", "ring" };

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-vm-event: %s: %s\n", what, strerror(-r));
	exit(1);
}

struct setup {
	struct hv *hv;
	struct hv_domain *d;
	struct hv_monitor *mon;
	struct hv_evtchn_handle *h;
	struct hv_consumer *c;
	struct hv_script *s;
};

static void setup(struct setup *st, enum hv_monitor_transport t, unsigned int vcpus, uint32_t loops)
{
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 64 * MiB };
	struct hv_monitor_opts mopts = { .sz = sizeof(mopts), .transport = t };
	struct hv_monitor_info info;
	int r;

	st->s = hv_script_new();
	hv_script_loop_begin(st->s, loops);
	hv_script_guest_request(st->s);
	hv_script_loop_end(st->s);
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&st->s };
	struct hv_domain_opts dopts = {
		.sz = sizeof(dopts), .memory_bytes = 2 * MiB, .nr_vcpus = vcpus,
		.engine = &hv_script_engine, .engine_config = &cfg,
	};

	if ((r = hv_new(&opts, &st->hv)) < 0 || (r = hv_domain_create(st->hv, &dopts, &st->d)) < 0 ||
	    (r = hv_monitor_enable(st->d, &mopts, &st->mon)) < 0 ||
	    (r = hv_monitor_set_reasons(st->mon, 1u << VM_EVENT_REASON_GUEST_REQUEST)) < 0 ||
	    (r = hv_evtchn_open(st->hv, &st->h)) < 0 || (r = hv_monitor_get_info(st->mon, &info)) < 0 ||
	    (r = hv_consumer_open(&info, st->h, &st->c)) < 0)
		die("setup", r);
}

static void teardown(struct setup *st)
{
	hv_consumer_close(st->c);
	hv_evtchn_handle_close(st->h);
	hv_monitor_disable(st->mon);
	hv_domain_destroy(st->d);
	hv_domain_put(st->d);
	hv_free(st->hv);
	hv_script_free(st->s);
}

static void respond(struct hv_consumer *c, const vm_event_request_t *req)
{
	vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION,
				    .vcpu_id = req->vcpu_id,
				    .flags = VM_EVENT_FLAG_VCPU_PAUSED };

	hv_consumer_respond(c, &rsp);
}

/* The ring consumer: spin on the ring a little, then sleep on the port. */
static int ring_next(struct hv_consumer *c, vm_event_request_t *req)
{
	struct pollfd p = { .fd = hv_consumer_fd(c), .events = POLLIN };

	for (;;) {
		for (int i = 0; i < 4000; i++)
			if (hv_consumer_next(c, req) == 0)
				return 0;
		if (poll(&p, 1, 1000) == 0)
			return -ETIMEDOUT;
	}
}

/* ---- 1: round trip ---------------------------------------------------------------- */

static void round_trip(enum hv_monitor_transport t, uint32_t events)
{
	struct setup st;
	uint64_t *gap = calloc(events, sizeof(*gap)), last = 0;
	vm_event_request_t req;
	uint32_t n = 0;

	setup(&st, t, 1, events + 1);
	hv_domain_unpause(st.d);
	while (n <= events) {
		int r = t == HV_MONITOR_CHANNELS ? hv_consumer_wait(st.c, 0, 1000, &req)
						 : ring_next(st.c, &req);
		uint64_t seen = now_ns();

		if (r < 0)
			die("round trip", r);
		if (n)
			gap[n - 1] = seen - last;
		respond(st.c, &req);
		last = now_ns();
		n++;
	}
	qsort(gap, events, sizeof(*gap), cmp_u64);
	printf("{\"bench\":\"vm_event_round_trip\",\"transport\":\"%s\",\"vcpus\":1,\"events\":%u,"
	       "\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 "}\n", names[t], events,
	       gap[events / 2], gap[events * 99 / 100]);
	hv_domain_wait_idle(st.d, 10000);
	teardown(&st);
	free(gap);
}

/* ---- 2: throughput ------------------------------------------------------------------- */

struct server {
	struct hv_consumer *c;
	enum hv_monitor_transport t;
	unsigned int vcpu;
	uint64_t left;
};

static void *serve(void *arg)
{
	struct server *sv = arg;
	vm_event_request_t req;

	while (sv->left) {
		int r = sv->t == HV_MONITOR_CHANNELS ? hv_consumer_wait(sv->c, sv->vcpu, 5000, &req)
						     : ring_next(sv->c, &req);

		if (r < 0)
			die("serve", r);
		respond(sv->c, &req);
		sv->left--;
	}
	return NULL;
}

static void throughput(enum hv_monitor_transport t, unsigned int vcpus, uint32_t events)
{
	uint32_t per_vcpu = events / vcpus;
	unsigned int servers = t == HV_MONITOR_CHANNELS ? vcpus : 1;
	struct server *sv = calloc(servers, sizeof(*sv));
	pthread_t *th = calloc(servers, sizeof(*th));
	struct hv_monitor_stats ms;
	struct setup st;
	uint64_t t0, t1;

	setup(&st, t, vcpus, per_vcpu);
	for (unsigned int i = 0; i < servers; i++) {
		sv[i] = (struct server){ .c = st.c, .t = t, .vcpu = i,
					 .left = t == HV_MONITOR_CHANNELS ? per_vcpu
									  : (uint64_t)per_vcpu * vcpus };
		pthread_create(&th[i], NULL, serve, &sv[i]);
	}
	t0 = now_ns();
	hv_domain_unpause(st.d);
	if (hv_domain_wait_idle(st.d, 300000) < 0)
		die("throughput", -ETIMEDOUT);
	t1 = now_ns();
	for (unsigned int i = 0; i < servers; i++)
		pthread_join(th[i], NULL);
	hv_monitor_get_stats(st.mon, &ms);
	printf("{\"bench\":\"vm_event_throughput\",\"transport\":\"%s\",\"vcpus\":%u,"
	       "\"consumer_threads\":%u,\"events\":%" PRIu64 ",\"events_per_s\":%.0f,"
	       "\"ring_waits\":%" PRIu64 "}\n", names[t], vcpus, servers, ms.requests,
	       (double)ms.requests * 1e9 / (double)(t1 - t0), ms.ring_waits);
	teardown(&st);
	free(sv);
	free(th);
}

/* ---- 3: event channel sends ----------------------------------------------------------- */

struct churn {
	struct hv_domain *d;
	struct hv_evtchn_handle *h;
	atomic_bool stop;
	uint64_t cycles;
};

static void *churner(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		int g = hv_evtchn_alloc_unbound(c->d, 0);
		int l = hv_evtchn_bind_interdomain_port(c->h, hv_domain_id(c->d), (evtchn_port_t)g);

		hv_evtchn_unbind(c->h, (evtchn_port_t)l);
		hv_evtchn_close(c->d, (evtchn_port_t)g);
		c->cycles++;
	}
	return NULL;
}

static void evtchn_sends(void)
{
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 16 * MiB };
	struct hv_domain_opts dopts = { .sz = sizeof(dopts), .memory_bytes = MiB };
	struct hv_evtchn_handle *h;
	struct hv_domain *d;
	struct hv *hv;
	const uint64_t sends = 20000000;
	int gport, r;

	if ((r = hv_new(&opts, &hv)) < 0 || (r = hv_domain_create(hv, &dopts, &d)) < 0 ||
	    (r = hv_evtchn_open(hv, &h)) < 0)
		die("evtchn setup", r);
	gport = hv_evtchn_alloc_unbound(d, 0);
	if (hv_evtchn_bind_interdomain_port(h, hv_domain_id(d), (evtchn_port_t)gport) < 0)
		die("bind", -EINVAL);
	for (int contended = 0; contended < 2; contended++) {
		struct churn c = { .d = d, .h = h };
		pthread_t th;
		uint64_t t0;

		if (contended)
			pthread_create(&th, NULL, churner, &c);
		t0 = now_ns();
		for (uint64_t i = 0; i < sends; i++)
			hv_evtchn_send(d, (evtchn_port_t)gport);
		double rate = (double)sends * 1e9 / (double)(now_ns() - t0);

		if (contended) {
			atomic_store(&c.stop, true);
			pthread_join(th, NULL);
		}
		printf("{\"bench\":\"evtchn_send\",\"binder_closer\":%s,\"sends\":%" PRIu64
		       ",\"sends_per_s\":%.0f,\"bind_close_cycles\":%" PRIu64 "}\n",
		       contended ? "true" : "false", sends, rate, c.cycles);
	}
	hv_evtchn_handle_close(h);
	hv_domain_destroy(d);
	hv_domain_put(d);
	hv_free(hv);
}

int main(int argc, char **argv)
{
	uint32_t events = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 20000;
	const char *only = argc > 2 ? argv[2] : NULL;
	static const unsigned int vcpus[] = { 1, 4, 16, 32 };

	if (events < 64) {
		fprintf(stderr, "usage: %s [events-per-run >= 64] [round_trip|throughput|evtchn]\n",
			argv[0]);
		return 2;
	}
	if (!only || !strcmp(only, "round_trip"))
		for (int t = 0; t < 2; t++)
			round_trip((enum hv_monitor_transport)t, events);
	if (!only || !strcmp(only, "throughput"))
		for (unsigned int i = 0; i < sizeof(vcpus) / sizeof(vcpus[0]); i++)
			for (int t = 0; t < 2; t++)
				throughput((enum hv_monitor_transport)t, vcpus[i], events);
	if (!only || !strcmp(only, "evtchn"))
		evtchn_sends();
	return 0;
}
