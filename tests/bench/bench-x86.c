/* SPDX-License-Identifier: MIT */
/*
 * bench-x86: the x86 engine with real guests, through libaltview.
 *
 *  1. guest MIPS on the benchmark guest (8 instructions a round): in the
 *     host view, and in a view of 100 changed entries the guest never
 *     touches, alternating;
 *  2. trap round trips: a write to a protected page answered with EMULATE,
 *     and DRAKVUF's stealth breakpoint (int3 in a shadow page, answered by
 *     a fast single step in the clean view);
 *  3. what switching views costs the next resume, against how many entries
 *     the two views differ in (guest requests answered with a view switch).
 *
 * usage: bench-x86 [SCALE]   (1: the full run; smaller is quicker)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>

#include "bench.h"
#include "layout.h"

#define TARGET_GFN GUEST_PAGE(GUEST_TARGET)
#define SECRET_GFN GUEST_PAGE(GUEST_SECRET)
#define SHADOW_GFN 0x180

static av_hv *hv;

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-x86: %s: %s\n", what, av_strerror(r));
	exit(1);
}

static av_domain *boot(const char *name, uint64_t rounds, uint64_t mode)
{
	char spec[512];
	av_domain *dom;
	int r;

	snprintf(spec, sizeof(spec), "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"x86\", "
		 "\"program\": \"%s/%s.elf\"}", GUESTS_DIR, name);
	if ((r = av_domain_create_json(hv, spec, &dom)) < 0 ||
	    (r = av_write(dom, GUEST_RESULT, &rounds, 8)) < 0 ||
	    (r = av_write(dom, GUEST_RESULT + 16, &mode, 8)) < 0)
		die(name, r);
	return dom;
}

/* ---- 1: MIPS ------------------------------------------------------------------------- */

static double mips(uint64_t rounds, bool view)
{
	av_domain *dom = boot("bench", rounds, 0);
	double t;
	int r;

	if (view) {
		uint32_t idx;

		/* 100 changed entries, none of them a page the guest touches. */
		if ((r = av_views_enable(dom, 0)) < 0 || (r = av_view_create(dom, AV_ACCESS_RWX, &idx)) < 0 ||
		    (r = av_view_set_access(dom, idx, 0x200, 100, AV_ACCESS_RX)) < 0 ||
		    (r = av_view_switch(dom, idx)) < 0)
			die("view", r);
	}
	t = now_s();
	if ((r = av_domain_unpause(dom)) < 0 || (r = av_domain_wait_idle(dom, 600000)) < 0)
		die("run", r);
	t = now_s() - t;
	av_domain_destroy(dom);
	av_domain_close(dom);
	return (double)rounds * 8 / t / 1e6;
}

static void bench_mips(uint64_t rounds, unsigned int reps)
{
	double host[16], view[16];

	for (unsigned int i = 0; i < reps; i++) {
		host[i] = mips(rounds, false);
		view[i] = mips(rounds, true);
	}
	qsort(host, reps, sizeof(double), cmp_double);
	qsort(view, reps, sizeof(double), cmp_double);
	printf("{\"bench\":\"x86_mips\",\"instructions\":%" PRIu64 ",\"rounds\":%u,"
	       "\"host_mips\":%.1f,\"view100_mips\":%.1f,\"view_cost\":%.3f}\n",
	       rounds * 8, reps, host[reps / 2], view[reps / 2], host[reps / 2] / view[reps / 2]);
}

/* ---- 2, 3: round trips ---------------------------------------------------------------- */

struct gaps {
	uint64_t *gap, last;
	uint32_t n, max;
};

static void took(struct gaps *g)
{
	uint64_t t = now_ns();

	if (g->last && g->n < g->max)
		g->gap[g->n++] = t - g->last;
	g->last = t;
}

static void report(const char *bench, const char *extra, struct gaps *g)
{
	qsort(g->gap, g->n, sizeof(uint64_t), cmp_u64);
	printf("{\"bench\":\"%s\"%s,\"events\":%u,\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 "}\n",
	       bench, extra, g->n, g->n ? g->gap[g->n / 2] : 0, g->n ? g->gap[g->n * 99 / 100] : 0);
	free(g->gap);
}

/* Takes every event of vCPU 0 and answers it with @rsp, timing the gaps. */
static void serve(av_domain *dom, av_monitor *mon, const struct av_response *rsp, struct gaps *g)
{
	AV_OPTS(av_event, ev);
	int r;

	if ((r = av_domain_unpause(dom)) < 0)
		die("unpause", r);
	while (av_monitor_wait(mon, 0, 2000, &ev) == 0) {
		took(g);
		if ((r = av_monitor_respond(mon, &ev, rsp)) < 0)
			die("respond", r);
	}
	if ((r = av_domain_wait_idle(dom, 10000)) < 0)
		die("idle", r);
}

static av_monitor *monitor(av_domain *dom, uint32_t events)
{
	av_monitor *mon;
	int r;

	if ((r = av_monitor_open(dom, NULL, &mon)) < 0 || (r = av_monitor_set_events(mon, events)) < 0)
		die("monitor", r);
	return mon;
}

static void done(av_domain *dom, av_monitor *mon)
{
	av_monitor_close(mon);
	av_domain_destroy(dom);
	av_domain_close(dom);
}

static void bench_write_trap(uint32_t events)
{
	av_domain *dom = boot("calls", events, 1);
	av_monitor *mon = monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS));
	AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_EMULATE);
	struct gaps g = { .gap = calloc(events, sizeof(uint64_t)), .max = events };
	int r;

	if ((r = av_view_set_access(dom, 0, SECRET_GFN, 1, AV_ACCESS_RX)) < 0)
		die("access", r);
	serve(dom, mon, &rsp, &g);
	report("x86_trap_round_trip", ",\"trap\":\"mem_access_write\",\"answer\":\"emulate\"", &g);
	done(dom, mon);
}

static void bench_stealth_breakpoint(uint32_t events)
{
	av_domain *dom = boot("calls", events, 0);
	av_monitor *mon = monitor(dom, AV_EVENT_BIT(AV_EVENT_BREAKPOINT));
	struct gaps g = { .gap = calloc(events, sizeof(uint64_t)), .max = events };
	uint8_t page[4096];
	uint32_t x, clean;
	int r;

	if ((r = av_read(dom, GUEST_TARGET, page, sizeof(page))) < 0)
		die("read", r);
	page[0] = 0xcc;
	if ((r = av_write(dom, SHADOW_GFN << 12, page, sizeof(page))) < 0 ||
	    (r = av_views_enable(dom, 0)) < 0 || (r = av_view_create(dom, AV_ACCESS_RWX, &x)) < 0 ||
	    (r = av_view_create(dom, AV_ACCESS_RWX, &clean)) < 0 ||
	    (r = av_view_change_gfn(dom, x, TARGET_GFN, SHADOW_GFN)) < 0 ||
	    (r = av_view_set_access(dom, x, TARGET_GFN, 1, AV_ACCESS_X)) < 0 ||
	    (r = av_view_switch(dom, x)) < 0)
		die("stealth set-up", r);
	AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_SWITCH_VIEW | AV_RESPONSE_FAST_SINGLESTEP,
		.view = clean, .step_view = x);
	serve(dom, mon, &rsp, &g);
	report("x86_trap_round_trip", ",\"trap\":\"breakpoint\",\"answer\":\"fast_singlestep\"", &g);
	done(dom, mon);
}

/* Guest requests answered by switching between views that differ in @entries entries. */
static void bench_view_switch(uint32_t events, uint32_t entries)
{
	av_domain *dom = boot("calls", events, 2);
	av_monitor *mon = monitor(dom, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST));
	struct gaps g = { .gap = calloc(events, sizeof(uint64_t)), .max = events };
	AV_OPTS(av_event, ev);
	uint32_t a, b;
	char extra[64];
	int r;

	if ((r = av_views_enable(dom, 0)) < 0 || (r = av_view_create(dom, AV_ACCESS_RWX, &a)) < 0 ||
	    (r = av_view_create(dom, AV_ACCESS_RWX, &b)) < 0)
		die("views", r);
	/* Every other page from gfn 0x120 on (free pages): each a run of its own. */
	for (uint32_t i = 0; i < entries; i++)
		if ((r = av_view_set_access(dom, b, 0x120 + 2 * i, 1, AV_ACCESS_RX)) < 0)
			die("entries", r);
	if ((r = av_view_switch(dom, a)) < 0 || (r = av_domain_unpause(dom)) < 0)
		die("switch", r);
	for (uint32_t n = 0; av_monitor_wait(mon, 0, 2000, &ev) == 0; n++) {
		AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_SWITCH_VIEW, .view = n & 1 ? a : b);

		took(&g);
		if ((r = av_monitor_respond(mon, &ev, &rsp)) < 0)
			die("respond", r);
	}
	snprintf(extra, sizeof(extra), ",\"differing_entries\":%u", entries);
	report("x86_view_switch_round_trip", extra, &g);
	done(dom, mon);
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	AV_OPTS(av_open_opts, o, .machine_bytes = 256u << 20);
	uint32_t events = (uint32_t)(5000 * scale) + 10;
	static const uint32_t differing[] = { 0, 10, 50, 100 };
	int r;

	if ((r = av_open("hv:", &o, &hv)) < 0)
		die("av_open", r);
	bench_mips((uint64_t)(50e6 * scale) + 1000, scale >= 1 ? 5 : 1);
	bench_write_trap(events);
	bench_stealth_breakpoint(events);
	/* Remapping costs grow faster than the entries: fewer rounds here. */
	for (size_t i = 0; i < sizeof(differing) / sizeof(differing[0]); i++)
		bench_view_switch(events / 5 + 10, differing[i]);
	av_close(hv);
	return 0;
}
