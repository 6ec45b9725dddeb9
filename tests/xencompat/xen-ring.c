/* SPDX-License-Identifier: MIT */
/*
 * xen-ring — the xen: backend's side of Xen's vm_event ring, read and
 * written straight on the shared page.  Run with with-xen.sh: the ring is
 * a page of altview's Xen-compatible libraries, found in this process's
 * mappings.
 *
 * What the backend answers, in Xen's words: a CPUID or breakpoint answered
 * without registers continues after the instruction (Xen runs it again
 * unless told), a denied write is EMULATE|EMULATE_NOWRITE.
 *
 * And a hypervisor that writes nonsense into the ring (an index that
 * jumps, requests of another interface version or for a vCPU the domain
 * lacks) or takes the ring away under the monitor: a clear error or a
 * dropped request, a log line that says which, and a guest that runs on
 * (at once when the ring went mad, else once the monitor goes).
 */
#include <errno.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>
#include <altview/xen.h>

#include "harness.h"

#define GUEST "{\"memory_mib\": 2, \"vcpus\": 2, \"engine\": \"script\", \"program\": " \
	      "[{\"op\": \"loop\", \"count\": 2000, \"body\": [{\"op\": \"guest_request\"}]}]}"
/* A guest request, a CPUID, an int3 and a write to gfn 20, once each. */
#define STEPS "{\"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"script\", \"program\": " \
	      "[{\"op\": \"guest_request\"}, {\"op\": \"cpuid\", \"leaf\": 0}, " \
	      "{\"op\": \"int3\", \"gfn\": 2}, {\"op\": \"write\", \"gfn\": 20, \"offset\": 0, " \
	      "\"len\": 8, \"value\": 7}]}"

static char logged[4096];

/* What was logged since the last reset, as much as fits. */
static void capture(void *ctx, enum av_log_level level, const char *msg)
{
	size_t n = strlen(logged);

	snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

/* The ring page as this process maps it: the compat library's memfd. */
static vm_event_sring_t *ring_page(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	void *at = NULL;

	while (maps && !at && fgets(line, sizeof(line), maps))
		if (strstr(line, "altview-xen-ring") && strstr(line, "rw-s"))
			at = (void *)strtoul(line, NULL, 16);
	if (maps)
		fclose(maps);
	return at;
}

struct setup {
	av_hv *hv, *xen;
	av_domain *dom;
	av_monitor *mon;
	vm_event_sring_t *sring;
};

/* A guest made by the toolstack, opened on xen:, monitored for @events, a guest request answered. */
static void set_up(struct setup *s, const char *spec, uint32_t events)
{
	AV_OPTS(av_open_opts, o, .log = capture);
	av_hv *(*toolstack)(void) = (av_hv *(*)(void))dlsym(RTLD_DEFAULT, "xencompat_hv");
	av_domain *made;
	AV_OPTS(av_event, ev);

	memset(s, 0, sizeof(*s));
	logged[0] = '\0';
	CHECK(toolstack);
	CHECK_EQ(av_open("xen:", &o, &s->hv), 0);
	s->xen = toolstack();
	CHECK_EQ(av_domain_create_json(s->xen, spec, &made), 0);
	CHECK_EQ(av_domain_open(s->hv, av_domain_id(made), &s->dom), 0);
	av_domain_close(made);
	CHECK_EQ(av_monitor_open(s->dom, NULL, &s->mon), 0);
	CHECK_EQ(av_monitor_set_events(s->mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST) | events), 0);
	CHECK_EQ(av_domain_unpause(s->dom), 0);
	CHECK_EQ(av_monitor_wait(s->mon, 0, 5000, &ev), 0);
	CHECK_EQ(av_monitor_respond(s->mon, &ev, NULL), 0);
	s->sring = ring_page();
	CHECK(s->sring);
}

/* The monitor goes (Xen's ring with it) and the guest runs on, to its program's end. */
static void tear_down(struct setup *s)
{
	av_domain *under;

	av_monitor_close(s->mon);
	CHECK_EQ(av_domain_open(s->xen, av_domain_id(s->dom), &under), 0);
	CHECK_EQ(av_domain_wait_idle(under, 20000), 0);
	CHECK_EQ(av_domain_destroy(under), 0);
	av_domain_close(under);
	av_domain_close(s->dom);
	av_close(s->hv);
}

/* Where Xen would put the ring's request number @idx. */
static vm_event_request_t *slot(vm_event_sring_t *sring, RING_IDX idx)
{
	return &sring->ring[idx & (__RING_SIZE(sring, 4096) - 1)].req;
}

/*
 * @ev answered with @rsp while the domain is paused (so no request comes
 * to take the slot): into @out, the response the backend put on the page.
 */
static void answered(struct setup *s, struct av_event *ev, const struct av_response *rsp,
		     vm_event_response_t *out)
{
	RING_IDX prod;

	memset(out, 0, sizeof(*out));
	CHECK_EQ(av_domain_pause(s->dom), 0);
	CHECK_EQ(av_monitor_respond(s->mon, ev, rsp), 0);
	prod = __atomic_load_n(&s->sring->rsp_prod, __ATOMIC_ACQUIRE);
	*out = s->sring->ring[(prod - 1) & (__RING_SIZE(s->sring, 4096) - 1)].rsp;
	CHECK_EQ(av_domain_unpause(s->dom), 0);
}

/* libaltview's answers as Xen must get them, so a monitor written for hv: behaves the same. */
static void answers_in_xen_words(void)
{
	AV_OPTS(av_response, deny, .flags = AV_RESPONSE_DENY);
	struct setup s;
	AV_OPTS(av_event, ev);
	vm_event_response_t rsp;
	av_domain *under;
	uint64_t v = 1;

	set_up(&s, STEPS, AV_EVENT_BIT(AV_EVENT_CPUID) | AV_EVENT_BIT(AV_EVENT_BREAKPOINT) |
			  AV_EVENT_BIT(AV_EVENT_MEM_ACCESS));
	if (!s.sring)
		return;
	CHECK_EQ(av_monitor_wait(s.mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.kind, AV_EVENT_CPUID);
	answered(&s, &ev, NULL, &rsp);
	CHECK(rsp.flags & VM_EVENT_FLAG_SET_REGISTERS);
	CHECK_EQ(rsp.data.regs.x86.rip, ev.regs.rip + ev.u.cpuid.insn_length);
	CHECK_EQ(av_view_set_access(s.dom, 0, 20, 1, AV_ACCESS_RX), 0);
	CHECK_EQ(av_monitor_wait(s.mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.kind, AV_EVENT_BREAKPOINT);
	answered(&s, &ev, NULL, &rsp);
	CHECK(rsp.flags & VM_EVENT_FLAG_SET_REGISTERS);
	CHECK_EQ(rsp.data.regs.x86.rip, ev.regs.rip + ev.u.breakpoint.insn_length);
	CHECK_EQ(av_monitor_wait(s.mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.kind, AV_EVENT_MEM_ACCESS);
	answered(&s, &ev, &deny, &rsp);
	CHECK_EQ(rsp.flags & (VM_EVENT_FLAG_EMULATE | VM_EVENT_FLAG_EMULATE_NOWRITE |
			      VM_EVENT_FLAG_DENY),
		 VM_EVENT_FLAG_EMULATE | VM_EVENT_FLAG_EMULATE_NOWRITE);
	CHECK_EQ(av_domain_open(s.xen, av_domain_id(s.dom), &under), 0);
	CHECK_EQ(av_domain_wait_idle(under, 10000), 0);
	CHECK_EQ(av_read(under, 20 * 4096, &v, sizeof(v)), 0);
	CHECK_EQ(v, 0);                                 /* the write was denied */
	av_domain_close(under);
	tear_down(&s);
}

/*
 * A request index no ring could have: -EPROTO, said, nothing read past the
 * page, and the ring given back to Xen at once, so that the guest runs on
 * while the monitor is still open (and closing it later disables nothing).
 */
static void index_jumps(void)
{
	struct setup s;
	AV_OPTS(av_event, ev);
	av_domain *under;

	set_up(&s, GUEST, 0);
	if (!s.sring)
		return;
	__atomic_store_n(&s.sring->req_prod, s.sring->req_prod + 1000, __ATOMIC_RELEASE);
	CHECK_EQ(av_monitor_next(s.mon, &ev), -EPROTO);
	CHECK(strstr(logged, "not a ring's"));
	CHECK(strstr(logged, "given back to Xen"));
	CHECK_EQ(av_monitor_wait(s.mon, 0, 0, &ev), -EPROTO);    /* and stays so */
	CHECK_EQ(av_domain_open(s.xen, av_domain_id(s.dom), &under), 0);
	CHECK_EQ(av_domain_wait_idle(under, 20000), 0);
	av_domain_close(under);
	logged[0] = '\0';
	tear_down(&s);
	CHECK(!strstr(logged, "xc_monitor_disable"));
}

/*
 * Requests a broken Xen puts on the ring while the guest is paused (so
 * nothing else writes it): dropped with a log line each, never handed out.
 */
static void bad_requests(void)
{
	struct setup s;
	AV_OPTS(av_event, ev);
	vm_event_request_t *req;

	set_up(&s, GUEST, 0);
	if (!s.sring)
		return;
	CHECK_EQ(av_domain_pause(s.dom), 0);
	while (av_monitor_next(s.mon, &ev) == 0)
		av_monitor_respond(s.mon, &ev, NULL);
	req = slot(s.sring, s.sring->req_prod);
	*req = (vm_event_request_t){ .version = VM_EVENT_INTERFACE_VERSION - 1,
				     .flags = VM_EVENT_FLAG_VCPU_PAUSED,
				     .reason = VM_EVENT_REASON_GUEST_REQUEST };
	__atomic_store_n(&s.sring->req_prod, s.sring->req_prod + 1, __ATOMIC_RELEASE);
	CHECK_EQ(av_monitor_next(s.mon, &ev), -EAGAIN);
	CHECK(strstr(logged, "request of version 6 for vCPU 0 dropped"));
	req = slot(s.sring, s.sring->req_prod);
	*req = (vm_event_request_t){ .version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = 77,
				     .flags = VM_EVENT_FLAG_VCPU_PAUSED };
	__atomic_store_n(&s.sring->req_prod, s.sring->req_prod + 1, __ATOMIC_RELEASE);
	CHECK_EQ(av_monitor_wait(s.mon, 0, 0, &ev), -ETIMEDOUT);
	CHECK(strstr(logged, "for vCPU 77 dropped"));
	CHECK_EQ(av_domain_unpause(s.dom), 0);
	tear_down(&s);
}

/*
 * The ring and its port vanish under the monitor (Xen tore the vm_event
 * ring down): the monitor hears no more, its close says Xen refused, and
 * nothing waits on it.
 */
static void ring_vanishes(void)
{
	int (*disable)(void *, uint32_t) = (int (*)(void *, uint32_t))dlsym(RTLD_DEFAULT,
									  "xc_monitor_disable");
	void *(*open_xc)(void *, void *, unsigned) = (void *(*)(void *, void *, unsigned))dlsym(
		RTLD_DEFAULT, "xc_interface_open");
	int (*close_xc)(void *) = (int (*)(void *))dlsym(RTLD_DEFAULT, "xc_interface_close");
	struct setup s;
	AV_OPTS(av_event, ev);
	void *xch;

	set_up(&s, GUEST, 0);
	if (!s.sring)
		return;
	CHECK(disable && open_xc && close_xc);
	xch = open_xc(NULL, NULL, 0);
	CHECK(xch);
	CHECK_EQ(disable(xch, av_domain_id(s.dom)), 0);
	close_xc(xch);
	/* What was on the ring before is still read (and answered into the page); then nothing. */
	for (int i = 0; i < 8 && av_monitor_next(s.mon, &ev) == 0; i++)
		av_monitor_respond(s.mon, &ev, NULL);
	CHECK_EQ(av_monitor_next(s.mon, &ev), -EAGAIN);
	CHECK_EQ(av_monitor_wait(s.mon, 0, 200, &ev), -ETIMEDOUT);
	logged[0] = 0;
	tear_down(&s);
	CHECK(strstr(logged, "xc_monitor_disable"));
}

T_MAIN(T_CASE(answers_in_xen_words), T_CASE(index_jumps), T_CASE(bad_requests), T_CASE(ring_vanishes))
