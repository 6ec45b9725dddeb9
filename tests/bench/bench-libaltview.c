/* SPDX-License-Identifier: MIT */
/*
 * bench-libaltview: what libaltview adds to a monitor's round trip.
 *
 * One vCPU raises guest requests; one thread takes each from its slot and
 * answers it.  The same loop runs through the core's consumer API and
 * through libaltview's av_monitor_wait/respond, alternating, in this run.
 * The gap between two takes is one round trip: vCPU raises, monitor takes,
 * answers, vCPU resumes and raises again.
 *
 * usage: bench-libaltview [EVENTS [ROUNDS]]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>

#include "bench.h"
#include "hv.h"

#define MiB (UINT64_C(1) << 20)

struct result {
	uint64_t p50, p99;
	double mean;
};

/* The gaps between takes, and the first and last take. */
struct timeline {
	uint64_t *gap, first, last;
	uint32_t n;
};

static void took(struct timeline *tl)
{
	uint64_t t = now_ns();

	if (tl->n)
		tl->gap[tl->n - 1] = t - tl->last;
	else
		tl->first = t;
	tl->last = t;
	tl->n++;
}

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-libaltview: %s: %s\n", what, strerror(-r));
	exit(1);
}

static struct result summarize(struct timeline *tl)
{
	uint32_t n = tl->n - 1;
	struct result res = { .mean = (double)(tl->last - tl->first) / n };

	qsort(tl->gap, n, sizeof(*tl->gap), cmp_u64);
	res.p50 = tl->gap[n / 2];
	res.p99 = tl->gap[(uint64_t)n * 99 / 100];
	free(tl->gap);
	return res;
}

static struct result core_round_trip(uint32_t events)
{
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 64 * MiB };
	struct hv_monitor_opts mopts = { .sz = sizeof(mopts), .transport = HV_MONITOR_CHANNELS };
	struct hv *hv;
	struct hv_domain *d;
	struct hv_monitor *mon;
	struct hv_evtchn_handle *h;
	struct hv_consumer *c;
	struct hv_monitor_info info;
	struct hv_script *s = hv_script_new();
	struct timeline tl = { .gap = calloc(events, sizeof(uint64_t)) };
	vm_event_request_t req;
	int r;

	hv_script_loop_begin(s, events + 1);
	hv_script_guest_request(s);
	hv_script_loop_end(s);
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&s };
	struct hv_domain_opts dopts = {
		.sz = sizeof(dopts), .memory_bytes = 2 * MiB, .nr_vcpus = 1,
		.engine = &hv_script_engine, .engine_config = &cfg,
	};
	if ((r = hv_new(&opts, &hv)) < 0 || (r = hv_domain_create(hv, &dopts, &d)) < 0 ||
	    (r = hv_monitor_enable(d, &mopts, &mon)) < 0 ||
	    (r = hv_monitor_set_reasons(mon, 1u << VM_EVENT_REASON_GUEST_REQUEST)) < 0 ||
	    (r = hv_evtchn_open(hv, &h)) < 0 || (r = hv_monitor_get_info(mon, &info)) < 0 ||
	    (r = hv_consumer_open(&info, h, &c)) < 0 || (r = hv_domain_unpause(d)) < 0)
		die("core setup", r);

	for (uint32_t n = 0; n <= events; n++) {
		vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION,
					    .flags = VM_EVENT_FLAG_VCPU_PAUSED };

		if ((r = hv_consumer_wait(c, 0, 5000, &req)) < 0)
			die("core wait", r);
		took(&tl);
		rsp.vcpu_id = req.vcpu_id;
		rsp.reason = req.reason;
		if ((r = hv_consumer_respond(c, &rsp)) < 0)
			die("core respond", r);
	}
	struct result res = summarize(&tl);
	hv_domain_wait_idle(d, 10000);
	hv_consumer_close(c);
	hv_evtchn_handle_close(h);
	hv_monitor_disable(mon);
	hv_domain_destroy(d);
	hv_domain_put(d);
	hv_free(hv);
	hv_script_free(s);
	return res;
}

static struct result lib_round_trip(uint32_t events)
{
	AV_OPTS(av_open_opts, oo, .machine_bytes = 64 * MiB);
	AV_OPTS(av_event, ev);
	char spec[256];
	struct timeline tl = { .gap = calloc(events, sizeof(uint64_t)) };
	av_hv *hv;
	av_domain *dom;
	av_monitor *mon;
	int r;

	snprintf(spec, sizeof(spec), "{\"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"script\", "
		 "\"program\": [{\"op\": \"loop\", \"count\": %u, \"body\": [{\"op\": \"guest_request\"}]}]}",
		 events + 1);
	if ((r = av_open("hv:", &oo, &hv)) < 0 || (r = av_domain_create_json(hv, spec, &dom)) < 0 ||
	    (r = av_monitor_open(dom, NULL, &mon)) < 0 ||
	    (r = av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))) < 0 ||
	    (r = av_domain_unpause(dom)) < 0)
		die("libaltview setup", r);

	for (uint32_t n = 0; n <= events; n++) {
		if ((r = av_monitor_wait(mon, 0, 5000, &ev)) < 0)
			die("av_monitor_wait", r);
		took(&tl);
		if ((r = av_monitor_respond(mon, &ev, NULL)) < 0)
			die("av_monitor_respond", r);
	}
	struct result res = summarize(&tl);
	av_domain_wait_idle(dom, 10000);
	av_close(hv);
	return res;
}

static void print(const char *path, uint32_t round, uint32_t events, const struct result *r)
{
	printf("{\"bench\":\"monitor_round_trip\",\"path\":\"%s\",\"round\":%u,\"events\":%u,"
	       "\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"mean_ns\":%.0f}\n",
	       path, round, events, r->p50, r->p99, r->mean);
}

int main(int argc, char **argv)
{
	uint32_t events = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 20000;
	uint32_t rounds = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 5;
	double *core_p50 = calloc(rounds, sizeof(double)), *lib_p50 = calloc(rounds, sizeof(double));
	double *core_mean = calloc(rounds, sizeof(double)), *lib_mean = calloc(rounds, sizeof(double));

	if (!events || !rounds) {
		fprintf(stderr, "usage: bench-libaltview [EVENTS [ROUNDS]]\n");
		return 2;
	}
	/* Alternate, so drift in the machine lands on both sides. */
	for (uint32_t i = 0; i < rounds; i++) {
		struct result c = core_round_trip(events), l = lib_round_trip(events);

		print("core", i, events, &c);
		print("libaltview", i, events, &l);
		core_p50[i] = (double)c.p50;
		lib_p50[i] = (double)l.p50;
		core_mean[i] = c.mean;
		lib_mean[i] = l.mean;
	}
	qsort(core_p50, rounds, sizeof(double), cmp_double);
	qsort(lib_p50, rounds, sizeof(double), cmp_double);
	qsort(core_mean, rounds, sizeof(double), cmp_double);
	qsort(lib_mean, rounds, sizeof(double), cmp_double);
	double cp = core_p50[rounds / 2], lp = lib_p50[rounds / 2];
	double cm = core_mean[rounds / 2], lm = lib_mean[rounds / 2];
	printf("{\"bench\":\"libaltview_overhead\",\"rounds\":%u,\"events\":%u,"
	       "\"core_p50_ns\":%.0f,\"lib_p50_ns\":%.0f,\"overhead_p50\":%.3f,"
	       "\"core_mean_ns\":%.0f,\"lib_mean_ns\":%.0f,\"overhead_mean\":%.3f}\n",
	       rounds, events, cp, lp, (lp - cp) / cp, cm, lm, (lm - cm) / cm);
	free(core_p50);
	free(lib_p50);
	free(core_mean);
	free(lib_mean);
	return 0;
}
