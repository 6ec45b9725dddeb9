/* SPDX-License-Identifier: MIT */
/*
 * bench-xen-ring — the synchronous round trip a Xen tool sees on altview's
 * Xen-compatible libraries, consumed as xen-access consumes its ring
 * (poll the event channel fd, take the requests, push the responses,
 * notify), next to libaltview's own channels.  A 1-vCPU script guest
 * raises guest requests in a loop; the interval between two requests the
 * consumer sees, answering each at once, is one round trip.
 *
 *   bench-xen-ring ring DOMID EVENTS       (run under altview-xen: in process or altviewd)
 *   bench-xen-ring channels SPEC EVENTS    (libaltview on hv:, the same guest)
 *
 * One JSON line: p50 and p99 in microseconds.
 */
#include <errno.h>
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

static void report(const char *path, uint64_t *ts, uint32_t n)
{
	uint64_t *d = calloc(n, sizeof(*d));

	for (uint32_t i = 1; i < n; i++)
		d[i - 1] = ts[i] - ts[i - 1];
	qsort(d, n - 1, sizeof(*d), cmp_u64);
	printf("{\"bench\":\"xen_ring_round_trip\",\"path\":\"%s\",\"events\":%u,\"p50_us\":%.2f,"
	       "\"p99_us\":%.2f}\n", path, n, (double)d[(n - 1) / 2] / 1000,
	       (double)d[(n - 1) * 99 / 100] / 1000);
	free(d);
}

static void ring(uint32_t domid, uint32_t n, const char *path)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	uint64_t *ts = calloc(n, sizeof(*ts));
	vm_event_back_ring_t back;
	vm_event_sring_t *sring;
	uint32_t port, got = 0;
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
			if (got < n)
				ts[got++] = now_ns();
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
	report(path, ts, n);
	free(ts);
}

static void channels(const char *spec_path, uint32_t n)
{
	AV_OPTS(av_event, ev);
	uint64_t *ts = calloc(n, sizeof(*ts));
	char spec[4096] = { 0 };
	FILE *f = fopen(spec_path, "r");
	av_monitor *mon;
	av_domain *dom;
	av_hv *hv;
	int r;

	if (!f || !fread(spec, 1, sizeof(spec) - 1, f))
		die(spec_path, errno);
	fclose(f);
	if ((r = av_open("hv:", NULL, &hv)) < 0 || (r = av_domain_create_json(hv, spec, &dom)) < 0 ||
	    (r = av_monitor_open(dom, NULL, &mon)) < 0 ||
	    (r = av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))) < 0 ||
	    (r = av_domain_unpause(dom)) < 0)
		die("a guest on hv:", r);
	for (uint32_t got = 0; got < n; got++) {
		if ((r = av_monitor_wait(mon, 0, 1000, &ev)) < 0)
			die("av_monitor_wait", r);
		ts[got] = now_ns();
		av_monitor_respond(mon, &ev, NULL);
	}
	av_monitor_close(mon);
	av_close(hv);
	report("libaltview-channels", ts, n);
	free(ts);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 20000;

	if (argc < 3 || n < 2) {
		fprintf(stderr, "usage: bench-xen-ring ring DOMID [EVENTS] [PATH] | channels SPEC [EVENTS]\n");
		return 2;
	}
	if (!strcmp(argv[1], "ring"))
		ring((uint32_t)strtoul(argv[2], NULL, 0), n, argc > 4 ? argv[4] : "xen-ring");
	else
		channels(argv[2], n);
	return 0;
}
