/* SPDX-License-Identifier: MIT */
/*
 * libaltview with the x86 engine: the test guests (tests/guests) running as
 * real machine code, every trap kind, a DRAKVUF-style stealth breakpoint,
 * grants from a guest, several vCPUs, and images and code that cannot run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include "layout.h"
#include <altview/xen.h>

#include "lib-util.h"

#define TARGET_GFN GUEST_PAGE(GUEST_TARGET)
#define SECRET_GFN GUEST_PAGE(GUEST_SECRET)
#define SHADOW_GFN 0x180            /* a free page of the guests' 2 MiB */

static av_domain *guest(const char *name, unsigned int vcpus, const char *extra)
{
	char spec[512];

	/* altviewd takes a program by name, from its program_dir (with-altviewd.sh: the guests). */
	snprintf(spec, sizeof(spec), "{\"memory_mib\": 2, \"vcpus\": %u, \"engine\": \"x86\", "
		 "\"program\": {\"elf\": \"%s%s%s.elf\"%s}}", vcpus, t_daemon() ? "" : GUESTS_DIR,
		 t_daemon() ? "" : "/", name, extra ? extra : "");
	return t_domain(t_hv, spec);
}

static uint64_t result(av_domain *dom, unsigned int i)
{
	uint64_t v = ~0ull;

	av_read(dom, GUEST_RESULT + i * 8, &v, 8);
	return v;
}

static av_monitor *monitor(av_domain *dom, uint32_t events)
{
	av_monitor *mon = NULL;

	if (av_monitor_open(dom, NULL, &mon) < 0 || av_monitor_set_events(mon, events) < 0)
		return NULL;
	return mon;
}

static bool crashed(av_domain *dom, const char *why)
{
	struct av_domain_info info = { .sz = sizeof(info) };

	if (av_domain_get_info(dom, &info) < 0 || info.state != AV_DOMAIN_CRASHED) {
		fprintf(stderr, "# state %d, not crashed\n", info.state);
		return false;
	}
	if (t_xen()) {
		t_note("xen: Xen tells no crash reason");
		return true;
	}
	if (!strstr(info.crash_reason, why)) {
		fprintf(stderr, "# crash reason \"%s\" lacks \"%s\"\n", info.crash_reason, why);
		return false;
	}
	return true;
}

static char console_log[4096];

static void console_capture(void *ctx, enum av_log_level level, const char *msg)
{
	size_t n = strlen(console_log);

	(void)ctx;
	if (level == AV_LOG_INFO && n + strlen(msg) + 2 < sizeof(console_log))
		snprintf(console_log + n, sizeof(console_log) - n, "%s\n", msg);
}

/*
 * A vCPU that never ran is in long mode already, as it will find itself:
 * tools (xenctx) size its registers by EFER.LMA.
 */
static void test_long_mode_before_first_run(void)
{
	av_domain *dom = guest("workload", 2, NULL);
	struct av_regs_x86 regs;

	CHECK(dom);
	CHECK_EQ(av_vcpu_get_regs(dom, 1, &regs), 0);
	CHECK_EQ(regs.msr_efer & 0x500, 0x500);          /* LME | LMA */
	CHECK_EQ(regs.rdi, 1);                           /* and the entry's argument: its id */
	av_domain_close(dom);
}

/* The workload alone: its results, and its console, prove the code really ran. */
static void test_workload_runs(void)
{
	AV_OPTS(av_open_opts, o, .log = console_capture, .log_level = AV_LOG_INFO);
	struct av_domain_info info = { .sz = sizeof(info) };
	char spec[512];
	uint64_t secret[4];
	av_domain *dom;
	av_hv *hv;

	snprintf(spec, sizeof(spec), "{\"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"x86\", "
		 "\"program\": \"%s/workload.elf\"}", GUESTS_DIR);
	CHECK_EQ(av_open("hv:", &o, &hv), 0);
	CHECK_EQ(av_domain_create_json(hv, spec, &dom), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.state, AV_DOMAIN_RUNNING);
	CHECK_EQ(result(dom, 0), 22);                    /* sum of 3i + 1 over four rounds */
	CHECK(result(dom, 1) > 0);                       /* CPUID leaf 0: the highest leaf */
	CHECK_EQ(av_read(dom, GUEST_SECRET, secret, sizeof(secret)), 0);
	CHECK_EQ(secret[3], 0x5ec7e7 + 3);
	CHECK(strstr(console_log, "console: workload: start\n"));
	CHECK(strstr(console_log, "console: workload: done\n"));
	t_close(hv);
}

/* Writes to a write-protected page: emulated (they land) or denied (they do not). */
static void writes_answered(uint32_t flags, uint64_t expect_last)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS)) : NULL;
	AV_OPTS(av_response, rsp, .flags = flags);
	AV_OPTS(av_event, ev);
	uint64_t last = ~0ull;

	CHECK(mon);
	CHECK_EQ(av_view_set_access(dom, 0, SECRET_GFN, 1, AV_ACCESS_RX), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	for (int i = 0; i < WORKLOAD_ROUNDS; i++) {
		CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
		CHECK_EQ(ev.kind, AV_EVENT_MEM_ACCESS);
		CHECK_EQ(ev.u.mem.gfn, SECRET_GFN);
		CHECK_EQ(ev.u.mem.offset, (uint64_t)i * 8);
		CHECK_EQ(ev.u.mem.access & AV_MEM_W, AV_MEM_W);
		CHECK(ev.regs.rip >= GUEST_LOAD && ev.regs.rip < GUEST_TARGET);
		CHECK_EQ(av_monitor_respond(mon, &ev, &rsp), 0);
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_read(dom, GUEST_SECRET + 3 * 8, &last, 8), 0);
	CHECK_EQ(last, expect_last);
	CHECK_EQ(result(dom, 0), 22);                    /* the rest of the program ran */
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * An answer may also set registers: here the register holding the value
 * being written (whichever the compiler chose), so the emulated write
 * stores the monitor's value.
 */
static void test_write_answer_sets_registers(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS)) : NULL;
	AV_OPTS(av_event, ev);
	uint64_t secret[WORKLOAD_ROUNDS];

	CHECK(mon);
	CHECK_EQ(av_view_set_access(dom, 0, SECRET_GFN, 1, AV_ACCESS_RX), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	for (int i = 0; i < WORKLOAD_ROUNDS; i++) {
		AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_EMULATE | AV_RESPONSE_SET_REGS);
		uint64_t *gpr = &rsp.regs.rax;
		int found = 0;

		CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
		rsp.regs = ev.regs;
		for (int g = 0; g < 16; g++)
			if (gpr[g] == 0x5ec7e7 + (uint64_t)i) {
				gpr[g] = 0xabc0 + (uint64_t)i;
				found++;
			}
		CHECK(found >= 1);
		CHECK_EQ(av_monitor_respond(mon, &ev, &rsp), 0);
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_read(dom, GUEST_SECRET, secret, sizeof(secret)), 0);
	for (int i = 0; i < WORKLOAD_ROUNDS; i++)
		CHECK_EQ(secret[i], 0xabc0 + (uint64_t)i);
	av_monitor_close(mon);
	av_domain_close(dom);
}

static void test_write_emulated(void)
{
	writes_answered(AV_RESPONSE_EMULATE, 0x5ec7e7 + 3);
}

static void test_write_denied(void)
{
	writes_answered(AV_RESPONSE_DENY, 0);
}

/* Fetches from a non-executable page, opened up at the first event. */
static void test_exec_trap(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS)) : NULL;
	AV_OPTS(av_event, ev);

	CHECK(mon);
	CHECK_EQ(av_view_set_access(dom, 0, TARGET_GFN, 1, AV_ACCESS_RW), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.u.mem.gfn, TARGET_GFN);
	CHECK_EQ(ev.u.mem.access & AV_MEM_X, AV_MEM_X);
	CHECK_EQ(ev.regs.rip, GUEST_TARGET);
	CHECK_EQ(av_view_set_access(dom, 0, TARGET_GFN, 1, AV_ACCESS_RWX), 0);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 0, &ev), -ETIMEDOUT);
	CHECK_EQ(result(dom, 0), 22);
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * Taking execute away from a page the guest has run already: its
 * translated code must not run on.  The third secret write is answered
 * after the target ran twice.
 */
static void test_exec_removed_after_run(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS)) : NULL;
	AV_OPTS(av_response, emulate, .flags = AV_RESPONSE_EMULATE);
	AV_OPTS(av_event, ev);
	int fetches = 0;

	CHECK(mon);
	CHECK_EQ(av_view_set_access(dom, 0, SECRET_GFN, 1, AV_ACCESS_RX), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	while (av_monitor_wait(mon, 0, 2000, &ev) == 0) {
		if (ev.u.mem.gfn == SECRET_GFN && ev.u.mem.offset == 16)
			CHECK_EQ(av_view_set_access(dom, 0, TARGET_GFN, 1, AV_ACCESS_RW), 0);
		if (ev.u.mem.gfn == TARGET_GFN) {
			CHECK_EQ(ev.u.mem.access & AV_MEM_X, AV_MEM_X);
			fetches++;
		}
		CHECK_EQ(av_monitor_respond(mon, &ev, &emulate), 0);
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(fetches, 2 * 2);                        /* lea and ret, in the last two rounds */
	CHECK_EQ(result(dom, 0), 22);
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * A fetch answered EMULATE runs its instruction with the page opened up
 * for a moment, and Unicorn translates it then, for a stepping vCPU.  A
 * monitor that steps the vCPU through the page later must still see every
 * fetch: two per call (lea, ret), four calls, the second one stepped.
 */
static void test_exec_emulated_then_stepped(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS) |
					     AV_EVENT_BIT(AV_EVENT_SINGLESTEP)) : NULL;
	AV_OPTS(av_response, emulate, .flags = AV_RESPONSE_EMULATE);
	AV_OPTS(av_event, ev);
	int fetches = 0;

	CHECK(mon);
	CHECK_EQ(av_view_set_access(dom, 0, TARGET_GFN, 1, AV_ACCESS_RW), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	while (av_monitor_wait(mon, 0, 2000, &ev) == 0) {
		if (ev.kind == AV_EVENT_MEM_ACCESS) {
			fetches++;
			if (fetches == 2 || fetches == 3)
				CHECK_EQ(av_vcpu_set_singlestep(dom, 0, fetches == 2), 0);
		} else if (GUEST_PAGE(ev.regs.rip) == TARGET_GFN && ev.regs.rip != GUEST_TARGET && fetches < 3) {
			/* Stepped into the page's second instruction without a fetch. */
			CHECK_EQ(av_vcpu_set_singlestep(dom, 0, false), 0);
			fetches = -100;
		}
		CHECK_EQ(av_monitor_respond(mon, &ev, ev.kind == AV_EVENT_MEM_ACCESS ? &emulate : NULL), 0);
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(fetches, 4 * 2);
	CHECK_EQ(result(dom, 0), 22);
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * Taking execute from all of memory at once, as xen-access's exec mode
 * does, while the guest is at its first breakpoint: the engine's one
 * region is replaced by one without execute, which Unicorn may place where
 * the old one was, and the code it translated from there must not run on.
 */
static void test_exec_removed_everywhere(void)
{
	av_domain *dom = guest("demo", 4, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS)) : NULL;
	AV_OPTS(av_event, ev);
	int got = -1;

	CHECK(mon);
	CHECK_EQ(av_domain_unpause(dom), 0);
	usleep(200000);
	CHECK_EQ(av_view_set_access(dom, 0, 0, GUEST_PAGE(2 << 20) - 1, AV_ACCESS_RW), 0);
	for (int i = 0; i < 50 && got < 0; i++)
		for (unsigned int v = 0; v < 4 && got < 0; v++)
			if (av_monitor_wait(mon, v, 100, &ev) == 0)
				got = (int)v;
	CHECK(got >= 0);
	if (got >= 0) {
		CHECK_EQ(ev.u.mem.access & AV_MEM_X, AV_MEM_X);
		CHECK_EQ(av_view_set_access(dom, 0, 0, GUEST_PAGE(2 << 20), AV_ACCESS_RWX), 0);
		CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	}
	av_monitor_close(mon);
	CHECK_EQ(t_destroy(dom), 0);
	av_domain_close(dom);
}

/*
 * dom0 pokes code the guest has run already: a breakpoint into the target
 * after two calls, taken out again at the breakpoint.  Both writes must
 * reach the guest although the engine translated that code before.  With
 * @pad more writes after the first, the engine has lost track of which
 * pages changed and must drop all its code.
 */
static void poked_code(int pad)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_MEM_ACCESS) |
					     AV_EVENT_BIT(AV_EVENT_BREAKPOINT)) : NULL;
	AV_OPTS(av_response, emulate, .flags = AV_RESPONSE_EMULATE);
	AV_OPTS(av_event, ev);
	uint8_t orig, int3 = 0xcc;
	int breakpoints = 0;

	CHECK(mon);
	CHECK_EQ(av_read(dom, GUEST_TARGET, &orig, 1), 0);
	CHECK_EQ(av_view_set_access(dom, 0, SECRET_GFN, 1, AV_ACCESS_RX), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	while (av_monitor_wait(mon, 0, 2000, &ev) == 0) {
		AV_OPTS(av_response, again, .flags = AV_RESPONSE_SET_REGS, .regs = ev.regs);

		if (ev.kind == AV_EVENT_MEM_ACCESS) {
			if (ev.u.mem.offset == 16) {
				CHECK_EQ(av_write(dom, GUEST_TARGET, &int3, 1), 0);
				for (int i = 0; i < pad; i++)
					CHECK_EQ(av_write(dom, GUEST_BUFFER + i, &int3, 1), 0);
			}
			CHECK_EQ(av_monitor_respond(mon, &ev, &emulate), 0);
		} else if (ev.regs.rip == GUEST_TARGET) {
			/* Ours: put the byte back and run the instruction it belongs to. */
			breakpoints++;
			CHECK_EQ(av_write(dom, GUEST_TARGET, &orig, 1), 0);
			CHECK_EQ(av_monitor_respond(mon, &ev, &again), 0);
		} else {
			CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
		}
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(breakpoints, 1);
	CHECK_EQ(result(dom, 0), 22);
	av_monitor_close(mon);
	av_domain_close(dom);
}

static void test_poked_code(void)
{
	poked_code(0);
}

static void test_poked_code_beyond_the_log(void)
{
	poked_code(20);
}

/* The guest's own int3, reported where it is and passed over when answered plainly. */
static void test_breakpoint(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_BREAKPOINT)) : NULL;
	AV_OPTS(av_event, ev);
	uint8_t insn = 0;

	CHECK(mon);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.kind, AV_EVENT_BREAKPOINT);
	CHECK_EQ(ev.u.breakpoint.insn_length, 1);
	CHECK_EQ(av_read(dom, ev.regs.rip, &insn, 1), 0);
	CHECK_EQ(insn, 0xcc);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 500, &ev), -ETIMEDOUT);   /* once */
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(result(dom, 0), 22);
	av_monitor_close(mon);
	av_domain_close(dom);
}

/* CPUID answered by the monitor, and a guest request. */
static void test_cpuid_and_request(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_CPUID) |
					     AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST)) : NULL;
	AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_SET_REGS);
	AV_OPTS(av_event, ev);

	CHECK(mon);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.kind, AV_EVENT_CPUID);
	CHECK_EQ(ev.u.cpuid.leaf, 0);
	CHECK(ev.regs.msr_efer & (1u << 10));            /* EFER.LMA: a 64-bit guest */
	CHECK_EQ(ev.u.cpuid.insn_length, 2);
	rsp.regs = ev.regs;
	rsp.regs.rip += ev.u.cpuid.insn_length;
	rsp.regs.rax = 0x77;
	rsp.regs.rbx = 0x1234;
	CHECK_EQ(av_monitor_respond(mon, &ev, &rsp), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.kind, AV_EVENT_GUEST_REQUEST);
	CHECK_EQ(result(dom, 1), 0x77);                  /* the monitor's answer, not Unicorn's */
	CHECK_EQ(result(dom, 2), 0x1234);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * DRAKVUF's stealth breakpoint.  View X runs a shadow copy of the target
 * page with an int3 on its first instruction (change_gfn), the page
 * execute-only there; view R has the original.  A breakpoint is answered
 * by a fast single step of the original instruction in view R, back to X
 * without an event; a read of the page in X is answered the same way, so
 * the guest never sees the int3.
 */
static void test_stealth_breakpoint(void)
{
	av_domain *dom = guest("workload", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_BREAKPOINT) |
					     AV_EVENT_BIT(AV_EVENT_MEM_ACCESS)) : NULL;
	AV_OPTS(av_event, ev);
	uint8_t page[4096], orig;
	uint32_t x, r;
	int breakpoints = 0, reads = 0;

	CHECK(mon);
	CHECK_EQ(av_read(dom, GUEST_TARGET, page, sizeof(page)), 0);
	orig = page[0];
	page[0] = 0xcc;
	CHECK_EQ(av_write(dom, SHADOW_GFN << 12, page, sizeof(page)), 0);
	CHECK_EQ(av_views_enable(dom, 0), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &x), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &r), 0);
	CHECK_EQ(av_view_change_gfn(dom, x, TARGET_GFN, SHADOW_GFN), 0);
	CHECK_EQ(av_view_set_access(dom, x, TARGET_GFN, 1, AV_ACCESS_X), 0);
	CHECK_EQ(av_view_switch(dom, x), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	while (av_monitor_wait(mon, 0, 2000, &ev) == 0) {
		AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_SWITCH_VIEW | AV_RESPONSE_FAST_SINGLESTEP,
			.view = r, .step_view = x);

		if (ev.kind == AV_EVENT_BREAKPOINT && ev.regs.rip != GUEST_TARGET) {
			/* The guest's own int3: not ours, it goes on. */
			CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
			continue;
		}
		CHECK_EQ(ev.view, x);
		if (ev.kind == AV_EVENT_BREAKPOINT) {
			CHECK_EQ(ev.regs.rip, GUEST_TARGET);
			breakpoints++;
		} else {
			CHECK_EQ(ev.u.mem.gfn, TARGET_GFN);
			reads++;
		}
		/* Step the original in R; the fast single step comes back to X by itself. */
		CHECK_EQ(av_monitor_respond(mon, &ev, &rsp), 0);
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(breakpoints, WORKLOAD_ROUNDS);
	CHECK_EQ(reads, 1);                              /* the guest read its own code once */
	CHECK_EQ(result(dom, 0), 22);                    /* the original code ran every time */
	CHECK_EQ(result(dom, 3), orig);                  /* and read the original, not the int3 */
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * More views than a vCPU keeps engines for: each guest request is answered
 * by a switch to the next of six views, so engines are taken over for
 * other views and rebuilt.  Each event must come from the view the last
 * answer named, and the guest must run to its end.
 */
static void test_more_views_than_engines(void)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	uint64_t rounds = 30, mode = 2;
	uint32_t views[6], want = 0;
	AV_OPTS(av_event, ev);
	av_monitor *mon;
	av_domain *dom;
	char spec[512];
	int events = 0;

	snprintf(spec, sizeof(spec), "{\"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"x86\", "
		 "\"program\": \"%s%scalls.elf\"}", t_daemon() ? "" : GUESTS_DIR, t_daemon() ? "" : "/");
	dom = t_domain(t_hv, spec);
	CHECK(dom);
	CHECK_EQ(av_write(dom, GUEST_RESULT, &rounds, 8), 0);
	CHECK_EQ(av_write(dom, GUEST_RESULT + 16, &mode, 8), 0);
	CHECK((mon = monitor(dom, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))));
	CHECK_EQ(av_views_enable(dom, 8), 0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &views[i]), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	while (av_monitor_wait(mon, 0, 2000, &ev) == 0) {
		AV_OPTS(av_response, rsp, .flags = AV_RESPONSE_SWITCH_VIEW);

		CHECK_EQ(ev.view, want);
		want = rsp.view = views[events++ % 6];
		CHECK_EQ(av_monitor_respond(mon, &ev, &rsp), 0);
	}
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(events, 30);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.state, AV_DOMAIN_RUNNING);
	av_monitor_close(mon);
	av_domain_close(dom);
}

/*
 * A guest grants dom0 a page, opens an event channel to dom0, fills the
 * page and notifies; dom0 binds the port at the guest's request, sees the
 * notification and maps the grant.
 */
static void test_grant_guest(void)
{
	av_domain *dom = guest("grant", 1, NULL);
	av_monitor *mon = dom ? monitor(dom, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST)) : NULL;
	AV_OPTS(av_event, ev);
	struct pollfd pfd = { .events = POLLIN };
	av_evtchn *xce;
	uint32_t handle;
	uint8_t *page;
	int local;

	CHECK(mon);
	CHECK_EQ(av_evtchn_open(t_hv, NULL, &xce), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	struct evtchn_status st;
	CHECK_EQ(av_evtchn_status_xen(dom, (uint32_t)result(dom, 2), &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);         /* offered to dom0 */
	CHECK_EQ(st.u.unbound.dom, 0);
	local = av_evtchn_bind_interdomain(xce, av_domain_id(dom), (uint32_t)result(dom, 2));
	CHECK(local > 0);
	CHECK_EQ(av_evtchn_status_xen(dom, (uint32_t)result(dom, 2), &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
	CHECK_EQ(st.u.interdomain.port, (uint32_t)local);
	CHECK_EQ(av_evtchn_status_xen(dom, 100000, &st), -EINVAL);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	pfd.fd = av_evtchn_fd(xce);
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	CHECK_EQ(av_evtchn_pending(xce), local);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	av_evtchn_close(xce);
	av_monitor_close(mon);
	CHECK_EQ(result(dom, 0), 0);                     /* GNTST_okay from setup_table */
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), GRANT_REF, AV_GRANT_READONLY, (void **)&page,
			      &handle), 0);
	for (int i = 0; i < 4096; i++)
		if (page[i] != GRANT_BYTE(i)) {
			t_fail(__FILE__, __LINE__, "byte %d of the grant is %#x", i, page[i]);
			return;
		}
	CHECK_EQ(av_grant_unmap(t_hv, handle), 0);
	/* Copied, and mapped writable: the guest's buffer changes under it. */
	uint8_t head[64];
	CHECK_EQ(av_grant_copy_from(t_hv, av_domain_id(dom), GRANT_REF, 0, head, sizeof(head)), 0);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(head[i], GRANT_BYTE(i));
	CHECK_EQ(av_grant_copy_to(t_hv, av_domain_id(dom), GRANT_REF, 8, "copied", 6), 0);
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), GRANT_REF, 0, (void **)&page, &handle), 0);
	CHECK(!memcmp(page + 8, "copied", 6));
	page[100] = 0x5a;
	CHECK_EQ(av_grant_unmap(t_hv, handle), 0);
	CHECK_EQ(av_read(dom, GUEST_BUFFER + 100, head, 1), 0);
	CHECK_EQ(head[0], 0x5a);
	av_domain_close(dom);
}

static void multi(const char *extra, bool serialized)
{
	av_domain *dom = guest("multi", 4, extra);

	CHECK(dom);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 60000), 0);
	for (unsigned int v = 0; v < 4; v++)
		CHECK_EQ(result(dom, 8 + v * 8), MULTI_ROUNDS);
	/* LOCK is atomic across vCPUs only when they take turns. */
	if (serialized)
		CHECK_EQ(result(dom, 0), 4 * MULTI_ROUNDS);
	else
		CHECK(result(dom, 0) <= 4 * MULTI_ROUNDS);
	av_domain_close(dom);
}

static void test_multi_serialized(void)
{
	multi(NULL, true);
}

static void test_multi_parallel(void)
{
	multi(", \"parallel\": true", false);
}

/* ---- what cannot run ---------------------------------------------------------------- */

static char *elf_copy(const char *name, size_t *size)
{
	char path[512];
	FILE *f;
	char *buf = malloc(1 << 20);

	snprintf(path, sizeof(path), "%s/%s.elf", GUESTS_DIR, name);
	f = fopen(path, "rb");
	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	*size = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static bool bad_image(const char *image, size_t size, const char *mem, const char *why)
{
	char path[] = "/tmp/altview-bad-elf-XXXXXX", spec[512];
	int fd = mkstemp(path);
	av_domain *dom = NULL;
	bool ok;

	if (fd < 0 || write(fd, image, size) != (ssize_t)size) {
		close(fd);
		return false;
	}
	close(fd);
	snprintf(spec, sizeof(spec), "{\"memory_mib\": %s, \"vcpus\": 1, \"engine\": \"x86\", "
		 "\"program\": \"%s\"}", mem, path);
	/* Created, crashed with the reason, and starting it runs nothing. */
	ok = av_domain_create_json(t_hv, spec, &dom) == 0 && crashed(dom, why);
	if (ok) {
		av_domain_unpause(dom);
		ok = av_domain_wait_idle(dom, 1000) == 0 && crashed(dom, why);
	}
	unlink(path);
	if (dom)
		av_domain_close(dom);
	return ok;
}

static void test_bad_images(void)
{
	size_t size = 0;
	char *img = elf_copy("workload", &size);
	av_domain *dom;

	CHECK(img);
	if (t_xen()) {
		t_note("xen: the toolstack makes domains; their images are its to check");
		free(img);
		return;
	}
	if (t_daemon()) {
		/* Images the test writes are not in the daemon's program_dir: a path is refused. */
		t_note("through altviewd: a program is a name in program_dir, so a path written by "
		       "the test is refused (checked); altviewd's check-bad-input covers bad files");
		CHECK_EQ(av_domain_create_json(t_hv, "{\"memory_mib\": 2, \"vcpus\": 1, \"engine\": "
						   "\"x86\", \"program\": \"/tmp/x.elf\"}", &dom), -EINVAL);
		CHECK(t_log_has("is not a file name"));
		free(img);
		return;
	}
	CHECK(bad_image(img, 40, "2", "not an ELF image"));
	CHECK(bad_image(img, 200, "2", "outside the image"));
	img[18] = 3;    /* e_machine: EM_386 */
	CHECK(bad_image(img, size, "2", "not a little-endian x86-64"));
	img[18] = 62;
	CHECK(bad_image(img, size, "1", "outside guest memory"));
	memset(img, 0x90, 64);
	CHECK(bad_image(img, size, "2", "not an ELF image"));
	free(img);
}

/* Garbage to execute, and a hypercall with a bad pointer: the domain dies, nothing else. */
static void test_bad_code(void)
{
	av_domain *dom = guest("workload", 1, NULL), *other = guest("workload", 1, NULL);
	struct av_regs_x86 regs;
	uint8_t junk[64];

	CHECK(dom && other);
	memset(junk, 0xff, sizeof(junk));
	CHECK_EQ(av_write(dom, GUEST_SECRET, junk, sizeof(junk)), 0);
	CHECK_EQ(av_vcpu_get_regs(dom, 0, &regs), 0);
	regs.rip = GUEST_SECRET;
	CHECK_EQ(av_vcpu_set_regs(dom, 0, &regs), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK(crashed(dom, "invalid instruction at rip 0x111000"));
	av_domain_close(dom);

	/* console_io(write, 10 bytes, from nowhere), run from _start's vmcall. */
	dom = guest("workload", 1, NULL);
	CHECK(dom);
	CHECK_EQ(av_vcpu_get_regs(dom, 0, &regs), 0);
	regs.rip = GUEST_LOAD + 0x15;
	regs.rax = 18;
	regs.rdi = 0;
	regs.rsi = 10;
	regs.rdx = 0xdead0000;
	CHECK_EQ(av_vcpu_set_regs(dom, 0, &regs), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK(crashed(dom, "bad console pointer 0xdead0000"));
	av_domain_close(dom);

	/* The other domain never noticed. */
	CHECK_EQ(av_domain_unpause(other), 0);
	CHECK_EQ(av_domain_wait_idle(other, 10000), 0);
	CHECK_EQ(result(other, 0), 22);
	av_domain_close(other);
}

T_MAIN(T_CASE(t_setup), T_CASE(test_workload_runs), T_CASE(test_long_mode_before_first_run),
       T_CASE(test_write_answer_sets_registers),
       T_CASE(test_write_emulated),
       T_CASE(test_write_denied), T_CASE(test_exec_trap), T_CASE(test_exec_removed_after_run),
       T_CASE(test_exec_removed_everywhere), T_CASE(test_exec_emulated_then_stepped),
       T_CASE(test_poked_code),
       T_CASE(test_poked_code_beyond_the_log), T_CASE(test_breakpoint), T_CASE(test_cpuid_and_request),
       T_CASE(test_stealth_breakpoint), T_CASE(test_more_views_than_engines),
       T_CASE(test_grant_guest), T_CASE(test_multi_serialized),
       T_CASE(test_multi_parallel), T_CASE(test_bad_images), T_CASE(test_bad_code),
       T_CASE(t_teardown))
