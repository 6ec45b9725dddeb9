/* SPDX-License-Identifier: MIT */
/*
 * Xen's access semantics as the script engine meets them: every access
 * type against read, write and exec; rx2rw and n2rwx upgrades; EMULATE,
 * DENY and plain retry answers; no listener; read-only RAM; unmapped gfns.
 */
#include <errno.h>
#include <string.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)
#define ALL_REASONS 0xffffffffu

static const unsigned int kinds[] = { MEM_ACCESS_R, MEM_ACCESS_W, MEM_ACCESS_X };

enum outcome { ALLOWED, UPGRADE_RW, ASYNC_RWX, VIOLATION };

static enum outcome expected(xenmem_access_t a, unsigned int kind)
{
	static const unsigned int perms[] = {
		[XENMEM_access_n] = 0, [XENMEM_access_r] = MEM_ACCESS_R,
		[XENMEM_access_w] = MEM_ACCESS_W, [XENMEM_access_rw] = MEM_ACCESS_RW,
		[XENMEM_access_x] = MEM_ACCESS_X, [XENMEM_access_rx] = MEM_ACCESS_RX,
		[XENMEM_access_wx] = MEM_ACCESS_WX, [XENMEM_access_rwx] = MEM_ACCESS_RWX,
		[XENMEM_access_rx2rw] = MEM_ACCESS_RX, [XENMEM_access_n2rwx] = 0,
	};

	if (perms[a] & kind)
		return ALLOWED;
	if (a == XENMEM_access_rx2rw)
		return UPGRADE_RW;
	if (a == XENMEM_access_n2rwx)
		return ASYNC_RWX;
	return VIOLATION;
}

/*
 * gfn 1 + 3 * a + k is accessed with kinds[k] under access a; violations
 * are answered EMULATE, so every access completes.
 */
static void access_matrix(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct recorder rec;
	struct hv_domain *d;
	size_t violations = 0, asyncs = 0, i = 0;

	for (int a = XENMEM_access_n; a <= XENMEM_access_n2rwx; a++)
		for (int k = 0; k < 3; k++) {
			uint64_t gfn = 1 + 3 * (uint64_t)a + (uint64_t)k;

			if (kinds[k] == MEM_ACCESS_W)
				CHECK_EQ(hv_script_write(s, gfn, 8, 4, 0x11223344u + (uint64_t)a), 0);
			else if (kinds[k] == MEM_ACCESS_R)
				CHECK_EQ(hv_script_read(s, gfn, 8, 4), 0);
			else
				CHECK_EQ(hv_script_exec(s, gfn, 8, 4), 0);
		}
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	for (int a = XENMEM_access_n; a <= XENMEM_access_n2rwx; a++)
		CHECK_EQ(hv_view_set_access(d, 0, 1 + 3 * (uint64_t)a, 3, (xenmem_access_t)a), 0);
	recorder_init(&rec);
	rec.auto_answer = true;
	rec.answer.flags = VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE;
	CHECK_EQ(hv_domain_set_listener(d, ALL_REASONS, recorder_fn, &rec), 0);
	CHECK_EQ(hv_domain_unpause(d), 0);
	CHECK_EQ(hv_domain_wait_idle(d, 10000), 0);

	for (int a = XENMEM_access_n; a <= XENMEM_access_n2rwx; a++)
		for (int k = 0; k < 3; k++) {
			uint64_t gfn = 1 + 3 * (uint64_t)a + (uint64_t)k;
			enum outcome o = expected((xenmem_access_t)a, kinds[k]);
			xenmem_access_t now;

			CHECK_EQ(hv_view_get_access(d, 0, gfn, &now), 0);
			if (o == UPGRADE_RW)
				CHECK_EQ(now, XENMEM_access_rw);
			else if (o == ASYNC_RWX)
				CHECK_EQ(now, XENMEM_access_rwx);
			else
				CHECK_EQ(now, a);      /* emulation changes no access */
			if (o == VIOLATION || o == ASYNC_RWX) {
				const struct hv_event *ev = &rec.events[i++];

				CHECK_EQ(ev->reason, VM_EVENT_REASON_MEM_ACCESS);
				CHECK_EQ(ev->u.mem_access.gfn, gfn);
				CHECK_EQ(ev->u.mem_access.offset, 8);
				CHECK_EQ(ev->u.mem_access.flags & MEM_ACCESS_RWX, kinds[k]);
				CHECK_EQ(ev->sync, o == VIOLATION);
				CHECK_EQ(ev->regs.rip, 3 * a + k);
				violations += o == VIOLATION;
				asyncs += o == ASYNC_RWX;
			}
			if (kinds[k] == MEM_ACCESS_W) {
				uint32_t val;

				guest_read(hv, d, gfn, 8, &val, 4);
				CHECK_EQ(val, 0x11223344u + (uint32_t)a);
			}
		}
	CHECK_EQ(recorder_count(&rec), i);
	/* n 3 + r 2 + w 2 + rw 1 + x 2 + rx 1 + wx 1; rx2rw upgrades, n2rwx is async. */
	CHECK_EQ(violations, 12);
	CHECK_EQ(asyncs, 3);

	struct hv_vcpu_stats st;

	hv_vcpu_get_stats(hv_domain_vcpu(d, 0), &st);
	CHECK_EQ(st.accesses, 30);
	CHECK_EQ(st.sync_events, 12);
	CHECK_EQ(st.async_events, 3);
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static struct hv_domain *one_access(struct hv *hv, struct hv_script *s, xenmem_access_t a,
				    struct recorder *rec, bool access_required)
{
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&s };
	struct hv_domain_opts opts = {
		.sz = sizeof(opts), .memory_bytes = 2 * MiB, .nr_vcpus = 1,
		.engine = &hv_script_engine, .engine_config = &cfg,
		.access_required = access_required,
	};
	struct hv_domain *d = test_domain_with(hv, &opts);

	hv_view_set_access(d, 0, 5, 1, a);
	if (rec)
		hv_domain_set_listener(d, ALL_REASONS, recorder_fn, rec);
	hv_domain_unpause(d);
	return d;
}

static void no_listener_relaxes(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_domain *d;
	xenmem_access_t now;
	uint32_t val;

	hv_script_write(s, 5, 0, 4, 0xabcd);
	d = one_access(hv, s, XENMEM_access_r, NULL, false);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	CHECK_EQ(hv_view_get_access(d, 0, 5, &now), 0);
	CHECK_EQ(now, XENMEM_access_rwx);
	guest_read(hv, d, 5, 0, &val, 4);
	CHECK_EQ(val, 0xabcd);
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_RUNNING);
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void access_required_crashes(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_domain *d;
	uint32_t val;

	hv_script_write(s, 5, 0, 4, 0xabcd);
	hv_script_write(s, 6, 0, 4, 0xabcd);
	d = one_access(hv, s, XENMEM_access_r, NULL, true);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_CRASHED);
	CHECK(strstr(hv_domain_crash_reason(d), "gfn 0x5"));
	guest_read(hv, d, 5, 0, &val, 4);
	CHECK_EQ(val, 0);
	guest_read(hv, d, 6, 0, &val, 4);
	CHECK_EQ(val, 0);                      /* nothing ran after the crash */
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void deny_skips_write(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct recorder rec;
	struct hv_domain *d;
	uint32_t val;

	hv_script_write(s, 5, 0, 4, 0xabcd);
	hv_script_write(s, 6, 0, 4, 0x1234);
	recorder_init(&rec);
	rec.auto_answer = true;
	rec.answer.flags = VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_DENY;
	d = one_access(hv, s, XENMEM_access_r, &rec, false);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	CHECK_EQ(recorder_count(&rec), 1);
	guest_read(hv, d, 5, 0, &val, 4);
	CHECK_EQ(val, 0);
	guest_read(hv, d, 6, 0, &val, 4);
	CHECK_EQ(val, 0x1234);
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

/* A plain answer retries the access: it traps again until the monitor lifts it. */
static void lift_on_second(struct recorder *rec, struct hv_vcpu *v, const struct hv_event *ev,
			   struct hv_response *answer)
{
	if (recorder_count(rec) == 2)
		hv_view_set_access(hv_vcpu_domain(v), 0, ev->u.mem_access.gfn, 1, XENMEM_access_rw);
}

static void plain_answer_retries(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct recorder rec;
	struct hv_domain *d;
	uint32_t val;

	hv_script_write(s, 5, 0, 4, 0xabcd);
	recorder_init(&rec);
	rec.auto_answer = true;
	rec.answer.flags = VM_EVENT_FLAG_VCPU_PAUSED;
	rec.before_answer = lift_on_second;
	d = one_access(hv, s, XENMEM_access_r, &rec, false);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	CHECK_EQ(recorder_count(&rec), 2);
	guest_read(hv, d, 5, 0, &val, 4);
	CHECK_EQ(val, 0xabcd);
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void read_only_ram_discards_writes(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct recorder rec;
	struct hv_p2m_entry e;
	struct hv_domain *d;
	uint32_t val = 0x55;

	hv_script_write(s, 7, 0, 4, 0xabcd);
	hv_script_read(s, 7, 0, 4);
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	guest_write(hv, d, 7, 0, &val, 4);
	CHECK_EQ(hv_p2m_get_entry(d, 7, &e), 0);
	e.order = 0;
	e.type = HV_P2M_RAM_RO;
	CHECK_EQ(hv_p2m_set_entry(d, 7, &e), 0);
	recorder_init(&rec);
	hv_domain_set_listener(d, ALL_REASONS, recorder_fn, &rec);
	hv_domain_unpause(d);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	CHECK_EQ(recorder_count(&rec), 0);
	guest_read(hv, d, 7, 0, &val, 4);
	CHECK_EQ(val, 0x55);
	struct vm_event_regs_x86 regs;

	CHECK_EQ(hv_vcpu_get_regs(hv_domain_vcpu(d, 0), &regs), 0);
	CHECK_EQ(regs.rax, 0x55);
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void unmapped_gfn_crashes(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_domain *d;

	hv_script_read(s, 0x1000, 0, 4);       /* 16 MiB: past the 2 MiB of RAM */
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	hv_domain_unpause(d);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_CRASHED);
	CHECK(strstr(hv_domain_crash_reason(d), "outside guest memory"));
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(access_matrix),
       T_CASE(no_listener_relaxes),
       T_CASE(access_required_crashes),
       T_CASE(deny_skips_write),
       T_CASE(plain_answer_retries),
       T_CASE(read_only_ram_discards_writes),
       T_CASE(unmapped_gfn_crashes))
