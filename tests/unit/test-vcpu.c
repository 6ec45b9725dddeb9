/* SPDX-License-Identifier: MIT */
/* vCPUs: pausing, registers, events and their answers, many vCPUs. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)
#define ALL_REASONS 0xffffffffu

static uint64_t steps_of(struct hv_vcpu *v)
{
	struct hv_vcpu_stats st;

	hv_vcpu_get_stats(v, &st);
	return st.steps;
}

/* Progress is observed, never assumed from a sleep (valgrind is slow). */
static bool steps_grow(struct hv_vcpu *v, uint64_t from, int timeout_ms)
{
	for (int i = 0; i < timeout_ms; i++) {
		if (steps_of(v) > from)
			return true;
		usleep(1000);
	}
	return false;
}

static void pauses_nest_and_stop_execution(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_domain *d;
	struct hv_vcpu *v;
	uint64_t n;

	hv_script_loop_begin(s, 1000000000u);
	hv_script_read(s, 1, 0, 8);
	hv_script_loop_end(s);
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	v = hv_domain_vcpu(d, 0);
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_PAUSED);     /* created paused */
	usleep(20000);
	CHECK_EQ(steps_of(v), 0);
	CHECK_EQ(hv_domain_unpause(d), 0);
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_RUNNING);
	CHECK_EQ(hv_domain_unpause(d), -EINVAL);
	CHECK(steps_grow(v, 0, 10000));

	CHECK_EQ(hv_domain_pause(d), 0);
	CHECK_EQ(hv_vcpu_pause(v), 0);
	n = steps_of(v);
	usleep(20000);
	CHECK_EQ(steps_of(v), n);                 /* paused means not one more step */
	CHECK_EQ(hv_domain_unpause(d), 0);
	usleep(20000);
	CHECK_EQ(steps_of(v), n);                 /* still held by the vCPU pause */
	CHECK_EQ(hv_vcpu_unpause(v), 0);
	CHECK_EQ(hv_vcpu_unpause(v), -EINVAL);
	CHECK(steps_grow(v, n, 10000));
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void registers_only_while_paused(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct vm_event_regs_x86 regs;
	struct hv_domain *d;
	struct hv_vcpu *v;

	hv_script_loop_begin(s, 1000000000u);
	hv_script_read(s, 1, 0, 8);
	hv_script_loop_end(s);
	d = test_script_domain(hv, 2 * MiB, 2, &s, 1);
	v = hv_domain_vcpu(d, 1);
	CHECK_EQ(hv_vcpu_get_regs(v, &regs), 0);
	CHECK_EQ(regs.rdi, 1);                    /* the vCPU id, like the x86 start */
	regs.r15 = 0x1515;
	CHECK_EQ(hv_vcpu_set_regs(v, &regs), 0);
	hv_domain_unpause(d);
	CHECK(steps_grow(v, 0, 10000));
	CHECK_EQ(hv_vcpu_get_regs(v, &regs), -EBUSY);
	CHECK_EQ(hv_vcpu_pause(v), 0);
	CHECK_EQ(hv_vcpu_get_regs(v, &regs), 0);
	CHECK_EQ(regs.r15, 0x1515);
	CHECK_EQ(hv_vcpu_get_regs(NULL, &regs), -EINVAL);
	hv_vcpu_unpause(v);
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void set_cpuid_answer(struct recorder *rec, struct hv_vcpu *v, const struct hv_event *ev,
			     struct hv_response *answer)
{
	answer->flags = VM_EVENT_FLAG_VCPU_PAUSED;
	if (ev->reason == VM_EVENT_REASON_CPUID) {
		answer->flags |= VM_EVENT_FLAG_SET_REGISTERS;
		answer->regs = ev->regs;
		answer->regs.rax = 0xc0ffee;
	}
}

static void breakpoint_cpuid_guest_request(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct vm_event_regs_x86 regs;
	struct recorder rec;
	struct hv_domain *d;

	hv_script_int3(s, 4, 0x10);
	hv_script_cpuid(s, 0x40000000, 3);
	hv_script_guest_request(s);
	hv_script_pause_point(s);
	d = test_script_domain(hv, 2 * MiB, 3, &s, 1);
	recorder_init(&rec);
	rec.auto_answer = true;
	rec.before_answer = set_cpuid_answer;
	CHECK_EQ(hv_domain_set_listener(d, ALL_REASONS, recorder_fn, &rec), 0);
	hv_domain_unpause(d);
	for (unsigned int i = 0; i < 3; i++)
		CHECK(wait_pause_point(hv_domain_vcpu(d, i), 5000));
	CHECK_EQ(recorder_count(&rec), 9);
	unsigned int seen[3][3] = { { 0 } };

	for (size_t i = 0; i < 9; i++) {
		const struct hv_event *ev = &rec.events[i];

		CHECK(ev->sync);
		CHECK_EQ(ev->view, 0);
		CHECK_EQ(ev->regs.rdi, ev->vcpu_id);
		if (ev->reason == VM_EVENT_REASON_SOFTWARE_BREAKPOINT) {
			CHECK_EQ(ev->u.software_breakpoint.gfn, 4);
			CHECK_EQ(ev->regs.rip, 0);
			seen[ev->vcpu_id][0]++;
		} else if (ev->reason == VM_EVENT_REASON_CPUID) {
			CHECK_EQ(ev->u.cpuid.leaf, 0x40000000);
			CHECK_EQ(ev->u.cpuid.subleaf, 3);
			CHECK_EQ(ev->regs.rip, 1);
			seen[ev->vcpu_id][1]++;
		} else {
			CHECK_EQ(ev->reason, VM_EVENT_REASON_GUEST_REQUEST);
			CHECK_EQ(ev->regs.rip, 2);
			seen[ev->vcpu_id][2]++;
		}
	}
	for (unsigned int i = 0; i < 3; i++)
		for (unsigned int k = 0; k < 3; k++)
			CHECK_EQ(seen[i][k], 1);
	CHECK_EQ(hv_vcpu_get_regs(hv_domain_vcpu(d, 2), &regs), 0);
	CHECK_EQ(regs.rax, 0xc0ffee);            /* SET_REGISTERS took effect */
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void answers_are_validated(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_response resp = { .flags = VM_EVENT_FLAG_VCPU_PAUSED };
	struct recorder rec;
	struct hv_domain *d;
	struct hv_vcpu *v;
	unsigned int view;

	hv_script_guest_request(s);
	hv_script_pause_point(s);
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	v = hv_domain_vcpu(d, 0);
	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &view), 0);
	recorder_init(&rec);
	CHECK_EQ(hv_domain_set_listener(d, ALL_REASONS, recorder_fn, &rec), 0);
	CHECK_EQ(hv_vcpu_respond(v, &resp), -ENOENT);        /* nothing asked yet */
	hv_domain_unpause(d);
	CHECK(recorder_wait(&rec, 1, 5000));

	resp.flags = 1u << 20;
	CHECK_EQ(hv_vcpu_respond(v, &resp), -EINVAL);
	resp.flags = VM_EVENT_FLAG_ALTERNATE_P2M;
	resp.view = 7;
	CHECK_EQ(hv_vcpu_respond(v, &resp), -EINVAL);
	resp.view = 600;
	CHECK_EQ(hv_vcpu_respond(v, &resp), -EINVAL);
	CHECK_EQ(hv_vcpu_view(v), 0);
	usleep(10000);
	CHECK(!hv_vcpu_at_pause_point(v));        /* still waiting for a valid answer */
	resp.view = (uint16_t)view;
	CHECK_EQ(hv_vcpu_respond(v, &resp), 0);
	CHECK_EQ(hv_vcpu_respond(v, &resp), -ENOENT);        /* answered already */
	CHECK(wait_pause_point(v, 5000));
	CHECK_EQ(hv_vcpu_view(v), view);
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void removing_listener_resumes_vcpus(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct recorder rec;
	struct hv_domain *d;

	hv_script_guest_request(s);
	hv_script_write(s, 2, 0, 8, 0x77);
	d = test_script_domain(hv, 2 * MiB, 4, &s, 1);
	CHECK_EQ(hv_view_set_access(d, 0, 2, 1, XENMEM_access_r), 0);
	recorder_init(&rec);
	CHECK_EQ(hv_domain_set_listener(d, 1u << VM_EVENT_REASON_GUEST_REQUEST, recorder_fn, &rec), 0);
	hv_domain_unpause(d);
	CHECK(recorder_wait(&rec, 4, 5000));
	CHECK_EQ(hv_domain_wait_idle(d, 50), -ETIMEDOUT);
	CHECK_EQ(hv_domain_set_listener(d, 0, NULL, NULL), 0);
	CHECK_EQ(hv_domain_wait_idle(d, 5000), 0);
	/* The write had no mem_access listener either: relaxed, not crashed. */
	CHECK_EQ(hv_domain_state(d), HV_DOMAIN_RUNNING);
	CHECK_EQ(recorder_count(&rec), 4);
	domain_end(d);
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void destroy_with_waiting_vcpus(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct recorder rec;
	struct hv_domain *d;

	hv_script_guest_request(s);
	d = test_script_domain(hv, 2 * MiB, 8, &s, 1);
	recorder_init(&rec);
	CHECK_EQ(hv_domain_set_listener(d, ALL_REASONS, recorder_fn, &rec), 0);
	hv_domain_unpause(d);
	CHECK(recorder_wait(&rec, 8, 5000));
	domain_end(d);                           /* must not hang on them */
	recorder_deinit(&rec);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void many_vcpus(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&s };
	struct hv_domain_opts opts = {
		.sz = sizeof(opts), .memory_bytes = 2 * MiB, .nr_vcpus = ALTVIEW_MAX_VCPUS + 1,
		.engine = &hv_script_engine, .engine_config = &cfg,
	};
	struct hv_domain *d = NULL;

	hv_script_loop_begin(s, 100);
	hv_script_write(s, 0, 0, 8, 1);
	hv_script_loop_end(s);
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	opts.engine = NULL;
	opts.nr_vcpus = 1;
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	d = test_script_domain(hv, 2 * MiB, ALTVIEW_MAX_VCPUS, &s, 1);
	CHECK_EQ(hv_domain_nr_vcpus(d), ALTVIEW_MAX_VCPUS);
	hv_domain_unpause(d);
	CHECK_EQ(hv_domain_wait_idle(d, 10000), 0);
	for (unsigned int i = 0; i < ALTVIEW_MAX_VCPUS; i++)
		CHECK_EQ(steps_of(hv_domain_vcpu(d, i)), 100);
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void bad_scripts(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&s };
	struct hv_domain_opts opts = {
		.sz = sizeof(opts), .memory_bytes = 2 * MiB, .nr_vcpus = 1,
		.engine = &hv_script_engine, .engine_config = &cfg,
	};
	struct hv_domain *d = NULL;

	CHECK_EQ(hv_script_read(s, 1, 4095, 2), -EINVAL);    /* crosses a page */
	CHECK_EQ(hv_script_read(s, 1, 0, 0), -EINVAL);
	CHECK_EQ(hv_script_write(s, HV_MAX_GFN + 1, 0, 1, 0), -EINVAL);
	CHECK_EQ(hv_script_loop_end(s), -EINVAL);
	CHECK_EQ(hv_script_loop_begin(s, 0), -EINVAL);
	CHECK_EQ(hv_script_switch_view(s, ALTVIEW_MAX_VIEWS), -EINVAL);
	CHECK_EQ(hv_script_check(s), -EINVAL);
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	hv_script_free(s);
	s = hv_script_new();
	cfg.scripts = (const struct hv_script *const *)&s;
	for (int i = 0; i < 8; i++)
		CHECK_EQ(hv_script_loop_begin(s, 2), 0);
	CHECK_EQ(hv_script_loop_begin(s, 2), -EINVAL);       /* 8 deep at most */
	hv_script_free(s);
	s = hv_script_new();
	cfg.scripts = (const struct hv_script *const *)&s;
	hv_script_loop_begin(s, 2);
	CHECK_EQ(hv_script_check(s), -EINVAL);                /* unclosed loop */
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(pauses_nest_and_stop_execution),
       T_CASE(registers_only_while_paused),
       T_CASE(breakpoint_cpuid_guest_request),
       T_CASE(answers_are_validated),
       T_CASE(removing_listener_resumes_vcpus),
       T_CASE(destroy_with_waiting_vcpus),
       T_CASE(many_vcpus),
       T_CASE(bad_scripts))
