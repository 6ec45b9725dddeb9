/* SPDX-License-Identifier: MIT */
/*
 * vm_event end to end: the script engine raises every kind of event, a
 * consumer reads Xen-layout requests from the core's buffers and answers,
 * over both transports; ring-full behaviour; bad answers; disable; a
 * consumer in a second process.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)
#define MAX_SEEN 4096

static const enum hv_monitor_transport transports[] = { HV_MONITOR_CHANNELS, HV_MONITOR_RING };
static const char *const transport_name[] = { "channels", "ring" };

struct fixture {
	struct hv *hv;
	struct hv_domain *d;
	struct hv_monitor *mon;
	struct hv_evtchn_handle *h;
	struct hv_consumer *c;
};

static void setup(struct fixture *f, enum hv_monitor_transport t, unsigned int vcpus,
		  struct hv_script **s, size_t nr_scripts)
{
	struct hv_monitor_opts opts = { .sz = sizeof(opts), .transport = t };
	struct hv_monitor_info info;

	f->hv = test_hv(64 * MiB);
	f->d = test_script_domain(f->hv, 2 * MiB, vcpus, s, nr_scripts);
	if (hv_monitor_enable(f->d, &opts, &f->mon) < 0 || hv_evtchn_open(f->hv, &f->h) < 0 ||
	    hv_monitor_get_info(f->mon, &info) < 0 || hv_consumer_open(&info, f->h, &f->c) < 0) {
		printf("# monitor setup failed\n");
		exit(1);
	}
	hv_monitor_set_reasons(f->mon, HV_MONITOR_REASONS);
}

static bool teardown(struct fixture *f)
{
	hv_consumer_close(f->c);
	hv_evtchn_handle_close(f->h);
	hv_monitor_disable(f->mon);
	domain_end(f->d);
	return hv_end_clean(f->hv);
}

/* ---- a consumer thread that answers everything ------------------------------- */

struct answerer {
	struct hv_consumer *c;
	atomic_bool stop;
	atomic_size_t n;
	vm_event_request_t seen[MAX_SEEN];
	unsigned int delay_us;
	/* Optional: shape the answer (flags beyond VCPU_PAUSED, views). */
	void (*decide)(struct answerer *a, const vm_event_request_t *req, vm_event_response_t *rsp);
	void *user;
};

static void answer(struct answerer *a, const vm_event_request_t *req)
{
	size_t i = atomic_fetch_add(&a->n, 1);

	if (i < MAX_SEEN)
		a->seen[i] = *req;
	if (!(req->flags & VM_EVENT_FLAG_VCPU_PAUSED))
		return;         /* asynchronous: next() acknowledged it */
	vm_event_response_t rsp = {
		.version = VM_EVENT_INTERFACE_VERSION,
		.vcpu_id = req->vcpu_id,
		.reason = req->reason,
		.flags = VM_EVENT_FLAG_VCPU_PAUSED,
	};

	if (a->decide)
		a->decide(a, req, &rsp);
	if (a->delay_us)
		usleep(a->delay_us);
	hv_consumer_respond(a->c, &rsp);
}

static void *answer_loop(void *arg)
{
	struct answerer *a = arg;
	struct pollfd p = { .fd = hv_consumer_fd(a->c), .events = POLLIN };
	vm_event_request_t req;

	while (!atomic_load(&a->stop)) {
		poll(&p, 1, 10);
		while (hv_consumer_next(a->c, &req) == 0)
			answer(a, &req);
	}
	return NULL;
}

static void start(struct answerer *a, struct hv_consumer *c, pthread_t *t)
{
	a->c = c;
	pthread_create(t, NULL, answer_loop, a);
}

static void stop(struct answerer *a, pthread_t t)
{
	atomic_store(&a->stop, true);
	pthread_join(t, NULL);
}

/* ---- every kind of event ------------------------------------------------------------ */

static void toggle_singlestep_on_request(struct answerer *a, const vm_event_request_t *req,
					 vm_event_response_t *rsp)
{
	(void)a;
	if (req->reason == VM_EVENT_REASON_GUEST_REQUEST)
		rsp->flags |= VM_EVENT_FLAG_TOGGLE_SINGLESTEP;
	if (req->reason == VM_EVENT_REASON_MEM_ACCESS)
		rsp->flags |= VM_EVENT_FLAG_EMULATE;
	if (req->reason == VM_EVENT_REASON_CPUID) {
		rsp->flags |= VM_EVENT_FLAG_SET_REGISTERS;
		rsp->data.regs.x86 = req->data.regs.x86;
		rsp->data.regs.x86.rbx = 0xfeed;
	}
}

static void every_kind_both_transports(void)
{
	for (int t = 0; t < 2; t++) {
		struct hv_script *s = hv_script_new();
		struct answerer a = { .decide = toggle_singlestep_on_request };
		struct vm_event_regs_x86 regs;
		struct hv_monitor_stats st;
		struct fixture f;
		pthread_t th;
		uint32_t val;

		printf("# transport %s\n", transport_name[t]);
		hv_script_write(s, 5, 16, 4, 0x5151);  /* 0: r only: MEM_ACCESS, emulated */
		hv_script_int3(s, 6, 0x20);            /* 1 */
		hv_script_cpuid(s, 1, 0);              /* 2: rbx set by the monitor */
		hv_script_guest_request(s);            /* 3: turns single-stepping on */
		hv_script_read(s, 7, 0, 8);            /* 4: one SINGLESTEP after 3, one after 4 */
		hv_script_guest_request(s);            /* 5: turns it off again */
		hv_script_read(s, 8, 0, 8);            /* 6 */
		hv_script_read(s, 9, 0, 8);            /* 7: n2rwx: async MEM_ACCESS */
		setup(&f, transports[t], 1, &s, 1);
		CHECK_EQ(hv_view_set_access(f.d, 0, 5, 1, XENMEM_access_r), 0);
		CHECK_EQ(hv_view_set_access(f.d, 0, 9, 1, XENMEM_access_n2rwx), 0);
		start(&a, f.c, &th);
		hv_domain_unpause(f.d);
		CHECK_EQ(hv_domain_wait_idle(f.d, 10000), 0);
		/* The async event may still sit on the ring for the consumer. */
		for (int i = 0; i < 5000 && atomic_load(&a.n) < 8; i++)
			usleep(1000);
		stop(&a, th);

		static const uint32_t reasons[] = {
			VM_EVENT_REASON_MEM_ACCESS, VM_EVENT_REASON_SOFTWARE_BREAKPOINT,
			VM_EVENT_REASON_CPUID, VM_EVENT_REASON_GUEST_REQUEST,
			VM_EVENT_REASON_SINGLESTEP, VM_EVENT_REASON_SINGLESTEP,
			VM_EVENT_REASON_GUEST_REQUEST, VM_EVENT_REASON_MEM_ACCESS,
		};
		CHECK_EQ(atomic_load(&a.n), 8);
		for (int i = 0; i < 8; i++) {
			const vm_event_request_t *r = &a.seen[i];

			CHECK_EQ(r->version, VM_EVENT_INTERFACE_VERSION);
			CHECK_EQ(r->reason, reasons[i]);
			CHECK_EQ(r->vcpu_id, 0);
			CHECK_EQ(!!(r->flags & VM_EVENT_FLAG_VCPU_PAUSED), i != 7);
		}
		CHECK_EQ(a.seen[0].u.mem_access.gfn, 5);
		CHECK_EQ(a.seen[0].u.mem_access.offset, 16);
		CHECK_EQ(a.seen[0].u.mem_access.flags & MEM_ACCESS_RWX, MEM_ACCESS_W);
		CHECK_EQ(a.seen[0].data.regs.x86.rip, 0);
		CHECK_EQ(a.seen[1].u.software_breakpoint.gfn, 6);
		CHECK_EQ(a.seen[2].u.cpuid.leaf, 1);
		CHECK_EQ(a.seen[4].u.singlestep.gfn, 7);
		CHECK_EQ(a.seen[5].data.regs.x86.rip, 5);
		CHECK_EQ(a.seen[7].u.mem_access.gfn, 9);
		guest_read(f.hv, f.d, 5, 16, &val, 4);
		CHECK_EQ(val, 0x5151);                 /* EMULATE performed the write */
		CHECK_EQ(hv_vcpu_get_regs(hv_domain_vcpu(f.d, 0), &regs), 0);
		CHECK_EQ(regs.rbx, 0xfeed);
		hv_monitor_get_stats(f.mon, &st);
		CHECK_EQ(st.requests, 8);
		CHECK_EQ(st.bad_responses, 0);
		CHECK_EQ(st.ring_waits, 0);
		CHECK(teardown(&f));
		hv_script_free(s);
	}
}

static void only_enabled_reasons(void)
{
	struct hv_script *s = hv_script_new();
	struct answerer a = { 0 };
	struct fixture f;
	pthread_t th;

	hv_script_guest_request(s);
	hv_script_cpuid(s, 7, 0);
	hv_script_write(s, 5, 0, 4, 1);
	setup(&f, HV_MONITOR_CHANNELS, 1, &s, 1);
	CHECK_EQ(hv_monitor_set_reasons(f.mon, 1u << VM_EVENT_REASON_CPUID), 0);
	CHECK_EQ(hv_monitor_set_reasons(f.mon, 1u << VM_EVENT_REASON_MEM_PAGING), -EINVAL);
	CHECK_EQ(hv_view_set_access(f.d, 0, 5, 1, XENMEM_access_r), 0);
	start(&a, f.c, &th);
	hv_domain_unpause(f.d);
	CHECK_EQ(hv_domain_wait_idle(f.d, 5000), 0);
	stop(&a, th);
	CHECK_EQ(atomic_load(&a.n), 1);
	CHECK_EQ(a.seen[0].reason, VM_EVENT_REASON_CPUID);
	CHECK(teardown(&f));
	hv_script_free(s);
}

static void one_monitor_per_domain(void)
{
	struct hv_script *s = hv_script_new();
	struct hv_monitor_opts opts = { .sz = sizeof(opts) };
	struct hv_monitor_info info;
	struct hv_monitor *second;
	struct fixture f;

	setup(&f, HV_MONITOR_CHANNELS, 2, &s, 1);
	CHECK_EQ(hv_monitor_enable(f.d, &opts, &second), -EBUSY);
	opts.transport = (enum hv_monitor_transport)9;
	CHECK_EQ(hv_monitor_enable(f.d, &opts, &second), -EINVAL);
	CHECK_EQ(hv_monitor_get_info(f.mon, &info), 0);
	/* The guest cannot close the ports the core serves. */
	CHECK_EQ(hv_evtchn_close(f.d, info.ring_port), -EBUSY);
	CHECK_EQ(hv_evtchn_close(f.d, info.slot_ports[1]), -EBUSY);
	CHECK(teardown(&f));
	hv_script_free(s);
}

/* 16 vCPUs against an 8-entry ring: vCPUs wait for space; with slots they never do. */
static void ring_full_makes_vcpus_wait(void)
{
	for (int t = 0; t < 2; t++) {
		struct hv_script *s = hv_script_new();
		struct answerer a = { .delay_us = 300 };
		struct hv_monitor_stats st;
		struct fixture f;
		pthread_t th;

		hv_script_loop_begin(s, 5);
		hv_script_guest_request(s);
		hv_script_loop_end(s);
		setup(&f, transports[t], 16, &s, 1);
		start(&a, f.c, &th);
		hv_domain_unpause(f.d);
		CHECK_EQ(hv_domain_wait_idle(f.d, 30000), 0);
		stop(&a, th);
		hv_monitor_get_stats(f.mon, &st);
		printf("# %s: %" PRIu64 " requests, %" PRIu64 " waits for ring space\n",
		       transport_name[t], st.requests, st.ring_waits);
		CHECK_EQ(st.requests, 80);
		CHECK_EQ(atomic_load(&a.n), 80);
		if (transports[t] == HV_MONITOR_RING)
			CHECK(st.ring_waits > 0);
		else
			CHECK_EQ(st.ring_waits, 0);
		CHECK(teardown(&f));
		hv_script_free(s);
	}
}

/* ---- a consumer thread per vCPU -------------------------------------------------- */

struct per_vcpu {
	struct hv_consumer *c;
	unsigned int vcpu;
	unsigned int answered;
};

static void *serve_one_vcpu(void *arg)
{
	struct per_vcpu *p = arg;
	vm_event_request_t req;

	while (hv_consumer_wait(p->c, p->vcpu, 2000, &req) == 0) {
		vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION,
					    .vcpu_id = req.vcpu_id,
					    .flags = VM_EVENT_FLAG_VCPU_PAUSED };

		if (req.vcpu_id != p->vcpu || hv_consumer_respond(p->c, &rsp) < 0)
			break;
		p->answered++;
	}
	return NULL;
}

static void consumer_thread_per_vcpu(void)
{
	struct hv_script *s = hv_script_new();
	struct per_vcpu p[4];
	pthread_t th[4];
	struct fixture f;
	vm_event_request_t req;

	hv_script_loop_begin(s, 300);
	hv_script_guest_request(s);
	hv_script_loop_end(s);
	setup(&f, HV_MONITOR_CHANNELS, 4, &s, 1);
	CHECK_EQ(hv_consumer_wait(f.c, 4, 10, &req), -EINVAL);
	CHECK_EQ(hv_consumer_wait(f.c, 0, 10, &req), -ETIMEDOUT);
	for (unsigned int i = 0; i < 4; i++) {
		p[i] = (struct per_vcpu){ .c = f.c, .vcpu = i };
		pthread_create(&th[i], NULL, serve_one_vcpu, &p[i]);
	}
	hv_domain_unpause(f.d);
	CHECK_EQ(hv_domain_wait_idle(f.d, 30000), 0);
	for (unsigned int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(p[i].answered, 300);
	}
	CHECK(teardown(&f));
	hv_script_free(s);
}

/* ---- a handler on the vCPU's thread ------------------------------------------------ */

struct handler_state {
	struct hv_consumer *c;
	pthread_t main_thread;
	atomic_uint calls[2], rejected_asks, off_thread;
	uint64_t last_rip[2];           /* a repeat comes with the same request */
};

/*
 * vCPU 0: the first request is answered with a view that does not exist,
 * which must bring the same request back.  vCPU 1: never answered here, a
 * consumer thread does it (the handler may hand an event on).
 */
static void handle(void *ctx, unsigned int vcpu)
{
	struct handler_state *h = ctx;
	vm_event_request_t req;
	unsigned int n;

	if (pthread_equal(pthread_self(), h->main_thread))
		atomic_fetch_add(&h->off_thread, 1);
	n = atomic_fetch_add(&h->calls[vcpu], 1);
	if (vcpu == 1 || hv_consumer_wait(h->c, vcpu, 0, &req) < 0)
		return;
	vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = vcpu,
				    .reason = req.reason, .flags = VM_EVENT_FLAG_VCPU_PAUSED };
	if (n == 0) {
		rsp.flags |= VM_EVENT_FLAG_ALTERNATE_P2M;
		rsp.altp2m_idx = 7;
		h->last_rip[vcpu] = req.data.regs.x86.rip;
	} else if (n == 1 && req.data.regs.x86.rip == h->last_rip[vcpu]) {
		atomic_fetch_add(&h->rejected_asks, 1);
	}
	hv_consumer_respond(h->c, &rsp);
}

static void handler_answers_on_the_vcpu_thread(void)
{
	struct hv_script *s = hv_script_new();
	struct handler_state h = { .main_thread = pthread_self() };
	struct per_vcpu helper;
	struct hv_monitor_stats st;
	struct fixture f, ring;
	pthread_t th;

	hv_script_loop_begin(s, 300);
	hv_script_guest_request(s);
	hv_script_loop_end(s);
	setup(&ring, HV_MONITOR_RING, 1, &s, 1);
	CHECK_EQ(hv_monitor_set_handler(ring.mon, handle, &h), -EOPNOTSUPP);
	CHECK(teardown(&ring));
	setup(&f, HV_MONITOR_CHANNELS, 2, &s, 1);
	h.c = f.c;
	CHECK_EQ(hv_monitor_set_handler(f.mon, NULL, &h), -EINVAL);
	CHECK_EQ(hv_monitor_set_handler(f.mon, handle, &h), 0);
	CHECK_EQ(hv_monitor_set_handler(f.mon, handle, &h), -EBUSY);
	helper = (struct per_vcpu){ .c = f.c, .vcpu = 1 };
	pthread_create(&th, NULL, serve_one_vcpu, &helper);
	hv_domain_unpause(f.d);
	CHECK_EQ(hv_domain_wait_idle(f.d, 30000), 0);
	pthread_join(th, NULL);
	/* Every request of vCPU 0 answered in the handler, the refused one asked again. */
	CHECK_EQ(atomic_load(&h.calls[0]), 301);
	CHECK_EQ(atomic_load(&h.rejected_asks), 1);
	CHECK_EQ(atomic_load(&h.calls[1]), 300);
	CHECK_EQ(helper.answered, 300);
	CHECK_EQ(atomic_load(&h.off_thread), 0);
	hv_monitor_get_stats(f.mon, &st);
	CHECK_EQ(st.requests, 600);
	CHECK_EQ(st.bad_responses, 1);
	CHECK(teardown(&f));
	hv_script_free(s);
}

/* ---- answers from a buggy monitor ---------------------------------------------------- */

static struct hv_vm_event_slot *raw_slot(uint8_t *buf, const struct hv_monitor_info *info,
					 unsigned int vcpu)
{
	return (struct hv_vm_event_slot *)(buf + info->slots_offset +
					    (size_t)vcpu * HV_VM_EVENT_SLOT_SIZE);
}

static bool wait_state(struct hv_vm_event_slot *s, uint32_t state)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == state)
			return true;
		usleep(1000);
	}
	return false;
}

static void write_answer(struct hv_vm_event_slot *s, const vm_event_response_t *rsp)
{
	memcpy(&s->u.rsp, rsp, sizeof(*rsp));
	__atomic_store_n(&s->state, HV_SLOT_FINISH, __ATOMIC_SEQ_CST);
}

static void bad_answers_keep_the_vcpu_paused(void)
{
	struct hv_script *s = hv_script_new();
	struct hv_monitor_info info;
	struct hv_monitor_stats st;
	struct hv_vm_event_slot *slot;
	struct fixture f;
	uint8_t *buf;
	unsigned int view;

	hv_script_guest_request(s);
	setup(&f, HV_MONITOR_CHANNELS, 2, &s, 1);
	CHECK_EQ(hv_views_enable(f.d, 0), 0);
	CHECK_EQ(hv_view_create(f.d, XENMEM_access_rwx, &view), 0);
	hv_monitor_get_info(f.mon, &info);
	buf = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, info.fd, 0);
	CHECK(buf != MAP_FAILED);
	slot = raw_slot(buf, &info, 1);
	hv_domain_unpause(f.d);
	CHECK(wait_state(slot, HV_SLOT_SUBMIT));

	const vm_event_response_t good = { .version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = 1,
					   .flags = VM_EVENT_FLAG_VCPU_PAUSED };
	vm_event_response_t bad[5];

	for (int i = 0; i < 5; i++)
		bad[i] = good;
	bad[0].version = 6;
	bad[1].vcpu_id = 0;
	bad[2].flags |= 1u << 30;
	bad[3].flags = 0;                                   /* no VCPU_PAUSED */
	bad[4].flags |= VM_EVENT_FLAG_ALTERNATE_P2M;
	bad[4].altp2m_idx = 7;                              /* no such view */
	for (int i = 0; i < 5; i++) {
		write_answer(slot, &bad[i]);
		/* Rejected: the request is back, the vCPU has not moved. */
		CHECK(wait_state(slot, HV_SLOT_SUBMIT));
		CHECK_EQ(slot->u.req.reason, VM_EVENT_REASON_GUEST_REQUEST);
		CHECK_EQ(hv_domain_wait_idle(f.d, 20), -ETIMEDOUT);
	}
	/* A scribbled state is put right the same way. */
	__atomic_store_n(&slot->state, 7, __ATOMIC_SEQ_CST);
	CHECK(wait_state(slot, HV_SLOT_SUBMIT));
	hv_monitor_get_stats(f.mon, &st);
	CHECK_EQ(st.bad_responses, 5);
	CHECK(st.bad_slot_states >= 1);

	/* And a consumer cannot answer what was not asked. */
	vm_event_response_t stray = good;

	stray.vcpu_id = 7;
	CHECK_EQ(hv_consumer_respond(f.c, &stray), -EINVAL);
	/* vCPU 0 answered normally, vCPU 1 with a view switch. */
	vm_event_response_t ok = good;

	ok.flags |= VM_EVENT_FLAG_ALTERNATE_P2M;
	ok.altp2m_idx = (uint16_t)view;
	CHECK(wait_state(raw_slot(buf, &info, 0), HV_SLOT_SUBMIT));
	ok.vcpu_id = 0;
	ok.flags = VM_EVENT_FLAG_VCPU_PAUSED;
	CHECK_EQ(hv_consumer_respond(f.c, &ok), 0);
	ok.vcpu_id = 1;
	ok.flags |= VM_EVENT_FLAG_ALTERNATE_P2M;
	CHECK_EQ(hv_consumer_respond(f.c, &ok), 0);
	CHECK_EQ(hv_consumer_respond(f.c, &ok), -ENOENT);   /* answered already */
	CHECK_EQ(hv_domain_wait_idle(f.d, 5000), 0);
	CHECK_EQ(hv_vcpu_view(hv_domain_vcpu(f.d, 1)), view);
	CHECK_EQ(hv_vcpu_view(hv_domain_vcpu(f.d, 0)), 0);
	munmap(buf, info.size);
	CHECK(teardown(&f));
	hv_script_free(s);
}

/*
 * A monitor announcing a thousand answers to one request: the garbage is
 * counted, resumes nobody, and disabling the monitor still frees the vCPU.
 */
static void bogus_ring_index_is_ignored(void)
{
	struct hv_script *s = hv_script_new();
	struct hv_consumer_export ex;
	struct hv_monitor_info info;
	struct hv_monitor_stats st;
	struct fixture f;
	vm_event_sring_t *sring;
	uint8_t *buf;

	hv_script_guest_request(s);
	setup(&f, HV_MONITOR_RING, 1, &s, 1);
	hv_monitor_get_info(f.mon, &info);
	CHECK_EQ(hv_consumer_export(f.c, &ex), 0);
	buf = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, info.fd, 0);
	CHECK(buf != MAP_FAILED);
	sring = (vm_event_sring_t *)buf;
	hv_domain_unpause(f.d);
	for (int i = 0; i < 5000 && __atomic_load_n(&sring->req_prod, __ATOMIC_ACQUIRE) == 0; i++)
		usleep(1000);
	CHECK_EQ(__atomic_load_n(&sring->req_prod, __ATOMIC_ACQUIRE), 1);
	/* Entries hold requests and responses alike: scribble over the request too. */
	memset(&sring->ring[0], 0xff, sizeof(sring->ring[0]));
	__atomic_store_n(&sring->rsp_prod, 1000, __ATOMIC_RELEASE);
	CHECK_EQ(hv_evtchn_notify(f.h, ex.local_ring_port), 0);
	hv_monitor_get_stats(f.mon, &st);
	CHECK(st.bad_responses >= 1);
	CHECK_EQ(hv_domain_wait_idle(f.d, 50), -ETIMEDOUT);   /* nobody resumed by garbage */
	munmap(buf, info.size);
	hv_consumer_close(f.c);
	hv_evtchn_handle_close(f.h);
	CHECK_EQ(hv_monitor_disable(f.mon), 0);
	CHECK_EQ(hv_domain_wait_idle(f.d, 5000), 0);
	domain_end(f.d);
	CHECK(hv_end_clean(f.hv));
	hv_script_free(s);
}

/* ---- going away ------------------------------------------------------------------------ */

static void disable_resumes_waiting_vcpus(void)
{
	for (int t = 0; t < 2; t++) {
		struct hv_script *s = hv_script_new();
		struct hv_monitor_stats st;
		struct fixture f;

		hv_script_guest_request(s);
		hv_script_guest_request(s);
		setup(&f, transports[t], 4, &s, 1);
		hv_domain_unpause(f.d);
		for (int i = 0; i < 5000; i++) {
			hv_monitor_get_stats(f.mon, &st);
			if (st.requests == 4)
				break;
			usleep(1000);
		}
		CHECK_EQ(st.requests, 4);
		CHECK_EQ(hv_domain_wait_idle(f.d, 50), -ETIMEDOUT);    /* all waiting */
		hv_consumer_close(f.c);
		hv_evtchn_handle_close(f.h);
		CHECK_EQ(hv_monitor_disable(f.mon), 0);
		CHECK_EQ(hv_domain_wait_idle(f.d, 5000), 0);            /* all resumed */
		CHECK_EQ(hv_domain_state(f.d), HV_DOMAIN_RUNNING);
		domain_end(f.d);
		CHECK(hv_end_clean(f.hv));
		hv_script_free(s);
	}
}

static void destroy_with_waiting_vcpus(void)
{
	struct hv_script *s = hv_script_new();
	struct fixture f;

	hv_script_guest_request(s);
	setup(&f, HV_MONITOR_CHANNELS, 3, &s, 1);
	hv_domain_unpause(f.d);
	usleep(20000);
	/* Destroy first, then the monitor: neither may hang or leak. */
	CHECK_EQ(hv_domain_destroy(f.d), 0);
	hv_consumer_close(f.c);
	hv_evtchn_handle_close(f.h);
	CHECK_EQ(hv_monitor_disable(f.mon), 0);
	hv_domain_put(f.d);
	CHECK(hv_end_clean(f.hv));
	hv_script_free(s);
}

/* ---- fast single-step (DRAKVUF's breakpoint step-over) ----------------------------------- */

static void step_over(struct answerer *a, const vm_event_request_t *req, vm_event_response_t *rsp)
{
	unsigned int *views = a->user;

	if (req->reason != VM_EVENT_REASON_SOFTWARE_BREAKPOINT)
		return;
	rsp->flags |= VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_FAST_SINGLESTEP;
	rsp->altp2m_idx = (uint16_t)views[1];                      /* execute the original */
	rsp->u.fast_singlestep.p2midx = (uint16_t)views[0];        /* then back, silently */
}

static void fast_singlestep_returns_to_view(void)
{
	struct hv_script *s = hv_script_new();
	struct answerer a = { .decide = step_over };
	struct vm_event_regs_x86 regs;
	unsigned int views[2];
	struct fixture f;
	pthread_t th;
	uint64_t orig = 0x0dd, shadow = 0x5ad;

	hv_script_int3(s, 4, 0);
	hv_script_read(s, 3, 0, 8);     /* the single step, in the original view */
	hv_script_pause_point(s);
	hv_script_read(s, 3, 0, 8);     /* back in the shadow view */
	hv_script_pause_point(s);
	setup(&f, HV_MONITOR_CHANNELS, 1, &s, 1);
	guest_write(f.hv, f.d, 3, 0, &orig, 8);
	guest_write(f.hv, f.d, 9, 0, &shadow, 8);
	CHECK_EQ(hv_views_enable(f.d, 0), 0);
	CHECK_EQ(hv_view_create(f.d, XENMEM_access_rwx, &views[0]), 0);
	CHECK_EQ(hv_view_create(f.d, XENMEM_access_rwx, &views[1]), 0);
	CHECK_EQ(hv_view_change_gfn(f.d, views[0], 3, 9), 0);
	CHECK_EQ(hv_vcpu_switch_view(hv_domain_vcpu(f.d, 0), views[0]), 0);
	a.user = views;
	start(&a, f.c, &th);
	hv_domain_unpause(f.d);
	struct hv_vcpu *v = hv_domain_vcpu(f.d, 0);

	CHECK(wait_pause_point(v, 5000));
	CHECK_EQ(hv_vcpu_get_regs(v, &regs), 0);
	CHECK_EQ(regs.rax, 0x0dd);
	CHECK_EQ(hv_vcpu_view(v), views[0]);
	hv_vcpu_unpause(v);
	CHECK(wait_pause_point(v, 5000));
	CHECK_EQ(hv_vcpu_get_regs(v, &regs), 0);
	CHECK_EQ(regs.rax, 0x5ad);
	stop(&a, th);
	CHECK_EQ(atomic_load(&a.n), 1);            /* no SINGLESTEP event on the way */
	CHECK(teardown(&f));
	hv_script_free(s);
}

/* ---- a consumer in another process ---------------------------------------------------- */

/* Serves on the child's one thread: a forked child should not start threads. */
static int serve_in_child(const struct hv_consumer_export *ex, unsigned int expect)
{
	struct hv_consumer *c;
	struct answerer *a = calloc(1, sizeof(*a));
	vm_event_request_t req;

	if (!a || hv_consumer_import(ex, &c) < 0)
		return 1;
	a->c = c;
	struct pollfd p = { .fd = hv_consumer_fd(c), .events = POLLIN };

	for (int i = 0; i < 20000 && atomic_load(&a->n) < expect; i++) {
		poll(&p, 1, 1);
		while (hv_consumer_next(c, &req) == 0)
			answer(a, &req);
	}
	hv_consumer_close(c);
	int r = atomic_load(&a->n) == expect ? 0 : 2;

	free(a);
	return r;
}

static void consumer_in_second_process(void)
{
	for (int t = 0; t < 2; t++) {
		struct hv_script *s = hv_script_new();
		struct hv_consumer_export ex;
		struct fixture f;
		int status;
		pid_t pid;

		hv_script_loop_begin(s, 10);
		hv_script_guest_request(s);
		hv_script_loop_end(s);
		setup(&f, transports[t], 2, &s, 1);
		CHECK_EQ(hv_consumer_export(f.c, &ex), 0);
		pid = fork();
		if (pid == 0)
			_exit(serve_in_child(&ex, 20));
		hv_domain_unpause(f.d);
		CHECK_EQ(hv_domain_wait_idle(f.d, 10000), 0);
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status));
		CHECK_EQ(WEXITSTATUS(status), 0);
		CHECK(teardown(&f));
		hv_script_free(s);
	}
}

T_MAIN(T_CASE(every_kind_both_transports),
       T_CASE(only_enabled_reasons),
       T_CASE(one_monitor_per_domain),
       T_CASE(ring_full_makes_vcpus_wait),
       T_CASE(consumer_thread_per_vcpu),
       T_CASE(bad_answers_keep_the_vcpu_paused),
       T_CASE(bogus_ring_index_is_ignored),
       T_CASE(disable_resumes_waiting_vcpus),
       T_CASE(destroy_with_waiting_vcpus),
       T_CASE(fast_singlestep_returns_to_view),
       T_CASE(consumer_in_second_process),
       T_CASE(handler_answers_on_the_vcpu_thread))
