/* SPDX-License-Identifier: MIT */
/*
 * bench-xen-ring — the synchronous round trip a Xen tool sees on altview's
 * Xen-compatible libraries, consumed as xen-access consumes its ring
 * (poll the event channel fd, take the requests, push the responses,
 * notify), next to libaltview's own channels.  A 1-vCPU script guest
 * raises guest requests in a loop; the interval between two requests the
 * consumer sees, answering each at once, is one round trip.
 *
 *   bench-xen-ring ring DOMID EVENTS PATH           (run under altview-xen: in process or altviewd)
 *   bench-xen-ring monitor|next URI SPEC|DOMID EVENTS PATH
 *
 * "monitor" is libaltview's own consumer: a thread per vCPU in
 * av_monitor_wait, on hv: (a guest made from SPEC), on xen: (run under
 * altview-xen: the xen: backend consuming the ring above) or through
 * altviewd.  "next" is one thread for all vCPUs (av_monitor_fd and
 * av_monitor_next), as the ring's own consumer is.  Round trips are per
 * vCPU: from one of its events to its next.  One JSON line: p50 and p99
 * in microseconds.
 */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <altview/altview.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xen/vm_event.h>

#include "bench.h"

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-xen-ring: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* Round trips @d (ns, @count of them) as one JSON line; sorts @d. */
static void report(const char *path, uint32_t vcpus, uint64_t *d, size_t count)
{
	qsort(d, count, sizeof(*d), cmp_u64);
	printf("{\"bench\":\"xen_ring_round_trip\",\"path\":\"%s\",\"vcpus\":%u,\"events\":%zu,"
	       "\"p50_us\":%.2f,\"p99_us\":%.2f}\n", path, vcpus, count + vcpus,
	       (double)d[count / 2] / 1000, (double)d[count * 99 / 100] / 1000);
	fflush(stdout);
}

static void ring(uint32_t domid, uint32_t n, const char *path)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	uint64_t *ts = calloc(n, sizeof(*ts));
	vm_event_back_ring_t back;
	vm_event_sring_t *sring;
	uint64_t last[128] = { 0 };
	uint32_t port, got = 0, vcpus = 0;
	size_t count = 0;
	int local;

	if (!xch || !xce || !ts)
		die("opening Xen's interfaces", errno);
	sring = xc_monitor_enable(xch, domid, &port);
	if (!sring)
		die("xc_monitor_enable", errno);
	local = xenevtchn_bind_interdomain(xce, domid, port);
	if (local < 0)
		die("binding the ring's port", errno);
	SHARED_RING_INIT(sring);
	BACK_RING_INIT(&back, sring, XC_PAGE_SIZE);
	if (xc_monitor_guest_request(xch, domid, true, true, true) < 0)
		die("xc_monitor_guest_request", errno);
	while (got < n) {
		struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

		if (poll(&pfd, 1, 1000) == 1) {
			int p = xenevtchn_pending(xce);

			if (p >= 0)
				xenevtchn_unmask(xce, (evtchn_port_t)p);
		}
		while (RING_HAS_UNCONSUMED_REQUESTS(&back)) {
			vm_event_request_t req;
			vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION };

			RING_COPY_REQUEST(&back, back.req_cons, &req);
			back.req_cons++;
			/* Each vCPU's round trip: from its last event to its next. */
			if (got < n && req.vcpu_id < 128) {
				uint64_t t = now_ns();

				if (last[req.vcpu_id])
					ts[count++] = t - last[req.vcpu_id];
				last[req.vcpu_id] = t;
				vcpus = req.vcpu_id + 1 > vcpus ? req.vcpu_id + 1 : vcpus;
				got++;
			}
			rsp.vcpu_id = req.vcpu_id;
			rsp.reason = req.reason;
			rsp.flags = req.flags & VM_EVENT_FLAG_VCPU_PAUSED;
			*RING_GET_RESPONSE(&back, back.rsp_prod_pvt) = rsp;
			back.rsp_prod_pvt++;
		}
		RING_PUSH_RESPONSES(&back);
		xenevtchn_notify(xce, (evtchn_port_t)local);
	}
	xc_monitor_guest_request(xch, domid, false, true, true);
	munmap(sring, XC_PAGE_SIZE);
	xc_monitor_disable(xch, domid);
	xenevtchn_close(xce);
	xc_interface_close(xch);
	report(path, vcpus, ts, count);
	free(ts);
}

struct waiter {
	pthread_t thread;
	av_monitor *mon;
	uint32_t vcpu, n;
	uint64_t *ts;
};

static void *wait_vcpu(void *arg)
{
	struct waiter *w = arg;
	AV_OPTS(av_event, ev);
	int r;

	for (uint32_t got = 0; got < w->n; got++) {
		if ((r = av_monitor_wait(w->mon, w->vcpu, 5000, &ev)) < 0)
			die("av_monitor_wait", r);
		w->ts[got] = now_ns();
		av_monitor_respond(w->mon, &ev, NULL);
	}
	return NULL;
}

static av_domain *target(av_hv *hv, const char *what)
{
	char spec[4096] = { 0 };
	av_domain *dom;
	FILE *f;
	int r;

	if (strspn(what, "0123456789") == strlen(what)) {
		if ((r = av_domain_open(hv, (uint32_t)strtoul(what, NULL, 0), &dom)) < 0)
			die("av_domain_open", r);
		return dom;
	}
	f = fopen(what, "r");
	if (!f || !fread(spec, 1, sizeof(spec) - 1, f))
		die(what, errno);
	fclose(f);
	if ((r = av_domain_create_json(hv, spec, &dom)) < 0 || (r = av_domain_unpause(dom)) < 0)
		die("a guest from a spec", r);
	return dom;
}

/* One thread for every vCPU: the fd, then each event there is, answered at once. */
static size_t take_all(av_monitor *mon, uint32_t n, uint64_t *d)
{
	struct pollfd p = { .fd = av_monitor_fd(mon), .events = POLLIN };
	uint64_t last[128] = { 0 };
	AV_OPTS(av_event, ev);
	size_t count = 0;
	int r;

	for (uint32_t got = 0; got < n;) {
		r = av_monitor_next(mon, &ev);
		if (r == -EAGAIN) {
			poll(&p, 1, 1000);
			continue;
		}
		if (r < 0)
			die("av_monitor_next", r);
		if (ev.vcpu < 128) {
			uint64_t t = now_ns();

			if (last[ev.vcpu])
				d[count++] = t - last[ev.vcpu];
			last[ev.vcpu] = t;
		}
		got++;
		av_monitor_respond(mon, &ev, NULL);
	}
	return count;
}

static void monitor(const char *how, const char *uri, const char *what, uint32_t n,
		    const char *path)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	bool one_thread = !strcmp(how, "next");
	struct waiter *w;
	uint64_t *d;
	size_t count = 0;
	av_monitor *mon;
	av_domain *dom;
	av_hv *hv;
	int r;

	if ((r = av_open(uri, NULL, &hv)) < 0)
		die(uri, r);
	dom = target(hv, what);
	if ((r = av_domain_get_info(dom, &info)) < 0 || (r = av_monitor_open(dom, NULL, &mon)) < 0 ||
	    (r = av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))) < 0)
		die("monitoring", r);
	w = calloc(info.nr_vcpus, sizeof(*w));
	d = calloc(n, sizeof(*d));
	if (one_thread)
		count = take_all(mon, n, d);
	for (uint32_t v = 0; !one_thread && v < info.nr_vcpus; v++) {
		w[v] = (struct waiter){ .mon = mon, .vcpu = v, .n = n / info.nr_vcpus };
		w[v].ts = calloc(w[v].n, sizeof(*w[v].ts));
		pthread_create(&w[v].thread, NULL, wait_vcpu, &w[v]);
	}
	for (uint32_t v = 0; !one_thread && v < info.nr_vcpus; v++) {
		pthread_join(w[v].thread, NULL);
		for (uint32_t i = 1; i < w[v].n; i++)
			d[count++] = w[v].ts[i] - w[v].ts[i - 1];
		free(w[v].ts);
	}
	av_monitor_close(mon);
	av_domain_close(dom);
	av_close(hv);
	report(path, info.nr_vcpus, d, count);
	free(d);
	free(w);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 20000;

	if (argc >= 5 && !strcmp(argv[1], "ring") && n >= 2) {
		ring((uint32_t)strtoul(argv[2], NULL, 0), n, argv[4]);
		return 0;
	}
	n = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 0) : 0;
	if (argc >= 6 && (!strcmp(argv[1], "monitor") || !strcmp(argv[1], "next")) && n >= 8) {
		monitor(argv[1], argv[2], argv[3], n, argv[5]);
		return 0;
	}
	fprintf(stderr, "usage: bench-xen-ring ring DOMID EVENTS PATH | monitor|next URI SPEC|DOMID "
		"EVENTS PATH\n");
	return 2;
}
