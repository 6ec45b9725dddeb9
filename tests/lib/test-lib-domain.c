/* SPDX-License-Identifier: MIT */
/* libaltview: domains from specs, lifecycle, memory, vCPU registers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib-util.h"

#define WRITER "{\"name\": \"writer\", \"memory_mib\": 4, \"vcpus\": 2, \"engine\": \"script\"," \
	       " \"program\": [{\"op\": \"write\", \"gfn\": 3, \"offset\": 8, \"len\": 8," \
	       " \"value\": 81985529216486895}]}"

static void test_create_run_read(void)
{
	av_hv *hv = t_open();
	av_domain *dom = t_domain(hv, WRITER);
	struct av_domain_info info = { .sz = sizeof(info) };
	uint64_t v = 0;

	CHECK(dom);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK(!strcmp(info.name, "writer"));               /* on xen: xenstore's */
	CHECK_EQ(info.state, AV_DOMAIN_PAUSED);      /* created paused, like Xen */
	CHECK_EQ(info.nr_vcpus, 2);
	CHECK(info.memory_bytes >= 4u << 20);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_read(dom, 3 * 4096 + 8, &v, sizeof(v)), 0);
	CHECK_EQ(v, 81985529216486895ull);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.state, AV_DOMAIN_RUNNING);
	CHECK_EQ(av_domain_close(dom), 0);
	t_close(hv);
}

/*
 * @gfn read-only in the host's view, nobody listening.  Xen sets the
 * host's access only while a monitor ring is there (ENODEV otherwise), and
 * keeps it when the ring goes.
 */
static void restrict_without_listener(av_domain *dom, uint64_t gfn)
{
	av_monitor *mon = NULL;

	if (t_xen()) {
		t_note("xen: the host's access is set with a monitor open (Xen's ENODEV without)");
		CHECK_EQ(av_view_set_access(dom, 0, gfn, 1, AV_ACCESS_R), -ENODEV);
		CHECK_EQ(av_monitor_open(dom, NULL, &mon), 0);
	}
	CHECK_EQ(av_view_set_access(dom, 0, gfn, 1, AV_ACCESS_R), 0);
	av_monitor_close(mon);
}

/* A write trapped with nobody listening: relaxed, until access is required; then a crash. */
static void test_access_required(void)
{
	av_hv *hv = t_open();
	av_domain *dom = t_domain(hv, WRITER);
	struct av_domain_info info = { .sz = sizeof(info) };

	CHECK(dom);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK(!info.access_required);
	CHECK_EQ(info.max_views, 0);
	CHECK_EQ(av_views_enable(dom, 0), 0);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.max_views, 10);
	CHECK_EQ(av_views_disable(dom), 0);
	/* Through altviewd disabling drops this client's views; the domain's stay for the others. */
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.max_views, t_daemon() ? 10 : 0);
	CHECK_EQ(av_domain_set_access_required(dom, true), 0);
	CHECK_EQ(av_domain_set_access_required(dom, true), 0);       /* idempotent, as Xen's */
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK(info.access_required);
	restrict_without_listener(dom, 3);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.state, AV_DOMAIN_CRASHED);
	if (t_xen())
		t_note("xen: Xen tells no crash reason");
	else
		CHECK(strstr(info.crash_reason, "access required"));
	CHECK_EQ(av_domain_set_access_required(NULL, true), -EINVAL);
	CHECK_EQ(av_domain_close(dom), 0);

	dom = t_domain(hv, WRITER);
	CHECK(dom);
	CHECK_EQ(av_domain_set_access_required(dom, true), 0);
	CHECK_EQ(av_domain_set_access_required(dom, false), 0);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK(!info.access_required);
	restrict_without_listener(dom, 3);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	CHECK_EQ(av_domain_get_info(dom, &info), 0);
	CHECK_EQ(info.state, AV_DOMAIN_RUNNING);                    /* the page was relaxed */
	CHECK_EQ(av_domain_close(dom), 0);
	t_close(hv);
}

static void test_struct_spec_and_list(void)
{
	av_hv *hv = t_open();
	AV_OPTS(av_domain_spec, spec, .memory_bytes = 1u << 20);
	av_domain *a, *b, *again;
	uint32_t ids[4] = { 0 };

	CHECK(hv);
	if (t_xen()) {
		t_note("xen: domains are the toolstack's to make and end (xl): -EOPNOTSUPP here");
		CHECK_EQ(av_domain_create(hv, &spec, &a), -EOPNOTSUPP);
		a = t_domain(hv, "{\"memory_mib\": 1}");
		b = t_domain(hv, "{\"memory_mib\": 1}");
		CHECK_EQ(av_domain_destroy(a), -EOPNOTSUPP);
	} else {
		CHECK_EQ(av_domain_create(hv, &spec, &a), 0);
		CHECK_EQ(av_domain_create(hv, &spec, &b), 0);
	}
	CHECK_EQ(av_domain_list(hv, ids, 4), 2);
	CHECK_EQ(ids[0], av_domain_id(a));
	CHECK_EQ(ids[1], av_domain_id(b));
	CHECK_EQ(av_domain_list(hv, ids, 1), 2);    /* the count, even past max */
	CHECK_EQ(av_domain_list(hv, NULL, 0), 2);
	CHECK_EQ(av_domain_open(hv, av_domain_id(b), &again), 0);
	CHECK_EQ(av_domain_id(again), av_domain_id(b));
	CHECK_EQ(t_destroy(a), 0);
	CHECK_EQ(av_domain_list(hv, ids, 4), 1);
	CHECK_EQ(ids[0], av_domain_id(b));
	CHECK_EQ(av_domain_open(hv, av_domain_id(a), &again), -ESRCH);
	CHECK_EQ(av_domain_open(hv, 0, &again), -ESRCH);
	CHECK_EQ(av_domain_open(hv, 70000, &again), -ESRCH);
	t_close(hv);       /* closes a, b and the second handle on b */
}

/* A handle whose domain is gone answers, and says so. */
static void test_destroyed_domain_handle(void)
{
	av_hv *hv = t_open();
	av_domain *dom = t_domain(hv, WRITER), *other;
	struct av_domain_info info = { .sz = sizeof(info) };
	void *p;
	uint32_t view;

	CHECK(dom);
	CHECK_EQ(av_domain_open(hv, av_domain_id(dom), &other), 0);
	CHECK_EQ(t_destroy(dom), 0);
	CHECK_EQ(av_domain_destroy(other), t_xen() ? -EOPNOTSUPP : -ESRCH);
	CHECK_EQ(av_domain_get_info(other, &info), 0);
	CHECK_EQ(info.state, AV_DOMAIN_DYING);
	CHECK(av_map(other, 0, 1, 0, &p) < 0);
	CHECK(av_views_enable(other, 0) < 0 || av_view_create(other, AV_ACCESS_RWX, &view) < 0);
	CHECK_EQ(av_domain_close(other), 0);
	CHECK_EQ(av_domain_close(dom), 0);
	t_close(hv);
}

static const struct {
	const char *json, *says;
} bad_specs[] = {
	{ "{\"memory_mib\": 4,\n \"vcpus\": }", "line 2, column 11" },
	{ "{\"memory_mib\": 4", "line 1, column 17: unexpected end of data" },
	{ "[1, 2]", "expected a JSON object" },
	{ "{\"memory_mib\": 4} {}", "unexpected text after the object" },
	/* Found by fuzz-spec: json-c's parse end can lie past the text. */
	{ "\"\"///5", "expected a JSON object" },
	{ "{\"vcpus\": 1}", "\"memory_mib\": missing" },
	{ "{\"memory_mib\": -4}", "\"memory_mib\": out of range" },
	{ "{\"memory_mib\": \"4\"}", "\"memory_mib\": expected an integer" },
	{ "{\"memory_mib\": 4, \"memory_bytes\": 4096}", "given twice" },
	{ "{\"memory_mib\": 4, \"vcpu\": 1}", "\"vcpu\": unknown member" },
	{ "{\"memory_mib\": 4, \"vcpus\": 129}", "\"vcpus\": out of range" },
	{ "{\"memory_bytes\": 100}", "not a positive multiple of 4096" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1}", "need an engine" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"x87\", \"program\": []}", "unknown engine \"x87\"" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\"}", "needs a program" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": {}}", "not a JSON array" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": [{\"op\": \"read\"}]}",
	  "program[0].gfn: missing" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": "
	  "[{\"op\": \"guest_request\"}, {\"op\": \"loop\", \"count\": 2, \"body\": "
	  "[{\"op\": \"read\", \"gfn\": 1, \"len\": 5000}]}]}", "program[1].body[0].len: out of range" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": [{\"op\": \"jump\"}]}",
	  "program[0].op: unknown" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": "
	  "[{\"op\": \"exec\", \"gfn\": 1, \"lenght\": 2}]}", "program[0].lenght: not a member" },
	{ "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": [[], [], []]}",
	  "3 per-vCPU programs for 1 vCPUs" },
	{ "{\"memory_mib\": 4, \"vcpus\": 2, \"engine\": \"script\", \"program\": "
	  "[[{\"op\": \"int3\", \"gfn\": 2}], [{\"op\": \"cpuid\", \"leaf\": -1}]]}",
	  "program[1][0].leaf: out of range" },
	{ "{\"memory_mib\": 4, \"grant_frames\": 2000}", "\"grant_frames\": out of range" },
};

static void test_bad_specs(void)
{
	av_hv *hv = t_open();
	av_domain *dom = NULL;
	uint32_t ids[1];

	CHECK(hv);
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		t_log[0] = 0;
		/* On xen: a spec libaltview cannot fault is the backend's to refuse: it makes none. */
		if (t_xen() && av_domain_create_json(hv, bad_specs[i].json, &dom) == -EOPNOTSUPP)
			continue;
		if (av_domain_create_json(hv, bad_specs[i].json, &dom) != -EINVAL) {
			t_fail(__FILE__, __LINE__, "spec %zu was accepted", i);
			return;
		}
		if (!t_log_has(bad_specs[i].says)) {
			t_fail(__FILE__, __LINE__, "spec %zu: message", i);
			return;
		}
	}
	CHECK_EQ(av_domain_list(hv, ids, 1), 0);     /* nothing half-made is left */
	CHECK_EQ(av_domain_create_json(hv, NULL, &dom), -EINVAL);
	CHECK_EQ(av_domain_create_json(NULL, "{}", &dom), -EINVAL);
	t_close(hv);
}

static void test_spec_struct_sizes(void)
{
	av_hv *hv = t_open();
	struct {
		struct av_domain_spec spec;
		uint32_t future;
	} big = { { .sz = sizeof(big), .memory_bytes = 1u << 20 }, 7 };
	av_domain *dom;

	CHECK(hv);
	CHECK_EQ(av_domain_create(hv, &big.spec, &dom), -EINVAL);
	big.future = 0;
	CHECK_EQ(av_domain_create(hv, &big.spec, &dom), t_xen() ? -EOPNOTSUPP : 0);
	CHECK_EQ(av_domain_create(hv, NULL, &dom), -EINVAL);
	t_close(hv);
}

static void test_memory(void)
{
	av_hv *hv = t_open();
	av_domain *dom = t_domain(hv, "{\"memory_mib\": 4}");
	char buf[6000], back[6000];
	uint8_t *p;

	CHECK(dom);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	/* Across a page boundary. */
	CHECK_EQ(av_write(dom, 4096 * 5 - 100, buf, sizeof(buf)), 0);
	CHECK_EQ(av_read(dom, 4096 * 5 - 100, back, sizeof(back)), 0);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	/* The same bytes through a mapping of the whole 2 MiB. */
	CHECK_EQ(av_map(dom, 0, 512, 0, (void **)&p), 0);
	CHECK(!memcmp(p + 4096 * 5 - 100, buf, sizeof(buf)));
	/* And through the file and runs handed on, as another process would map them. */
	struct av_frame_run runs[8];
	size_t nr_runs = 8;
	int fd = -1;
	if (t_xen()) {
		t_note("xen: foreign mappings are no file's: av_map_export is -EOPNOTSUPP");
		CHECK_EQ(av_map_export(dom, p, &fd, runs, &nr_runs), -EOPNOTSUPP);
		CHECK_EQ(av_unmap(dom, p), 0);
		CHECK_EQ(av_unmap(dom, p), -ENOENT);
		goto past_export;
	}
	CHECK_EQ(av_map_export(dom, p, &fd, runs, &nr_runs), 0);
	if (fd >= 0 && nr_runs >= 1) {
		uint8_t *q = mmap(NULL, runs[0].pages * 4096, PROT_READ, MAP_SHARED, fd,
				  (off_t)runs[0].offset);

		CHECK(q != MAP_FAILED);
		if (q != MAP_FAILED) {
			CHECK_EQ(q[0], p[0]);
			munmap(q, runs[0].pages * 4096);
		}
		CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
		close(fd);
	}
	nr_runs = 0;
	CHECK_EQ(av_map_export(dom, p, &fd, NULL, &nr_runs), -ENOSPC);
	CHECK(nr_runs >= 1);
	CHECK_EQ(av_unmap(dom, p), 0);
	CHECK_EQ(av_map_export(dom, p, &fd, runs, &nr_runs), -ENOENT);
	CHECK_EQ(av_unmap(dom, p), -ENOENT);
past_export:
	CHECK(av_read(dom, 4u << 20, back, 1) < 0);           /* past the end */
	CHECK(av_read(dom, (4u << 20) - 1, back, 2) < 0);     /* straddles it */
	CHECK_EQ(av_read(dom, UINT64_MAX - 2, back, 8), -EINVAL);
	CHECK_EQ(av_read(dom, 0, NULL, 8), -EINVAL);
	CHECK_EQ(av_read(dom, 0, NULL, 0), 0);
	CHECK_EQ(av_map(dom, 0, 1, 0x80, (void **)&p), -EINVAL);
	t_close(hv);
}

static void test_pause_and_regs(void)
{
	av_hv *hv = t_open();
	av_domain *dom = t_domain(hv, "{\"memory_mib\": 4, \"vcpus\": 2, \"engine\": \"script\","
				       " \"program\": [{\"op\": \"pause_point\"}, {\"op\": \"read\", \"gfn\": 1}]}");
	struct av_regs_x86 regs;

	CHECK(dom);
	CHECK_EQ(av_vcpu_get_regs(dom, 1, &regs), 0);      /* paused at creation */
	regs.rbx = 0x1234;
	regs.cr3 = 0x5000;
	CHECK_EQ(av_vcpu_set_regs(dom, 1, &regs), 0);
	memset(&regs, 0, sizeof(regs));
	CHECK_EQ(av_vcpu_get_regs(dom, 1, &regs), 0);
	CHECK_EQ(regs.rbx, 0x1234);
	CHECK_EQ(av_vcpu_get_regs(dom, 2, &regs), -EINVAL);
	CHECK_EQ(av_vcpu_get_regs(dom, 0, NULL), -EINVAL);
	if (t_xen()) {
		t_note("xen: setvcpucontext takes the general registers, rip and rflags; "
		       "no vCPU pauses alone");
		CHECK_EQ(regs.cr3, 0);
		CHECK_EQ(av_vcpu_pause(dom, 0), -EOPNOTSUPP);
		CHECK_EQ(av_domain_unpause(dom), 0);
		CHECK_EQ(av_domain_pause(dom), 0);
		CHECK_EQ(av_domain_unpause(dom), 0);
		t_close(hv);
		return;
	}
	CHECK_EQ(regs.cr3, 0x5000);
	CHECK_EQ(av_vcpu_pause(dom, 0), 0);               /* nests with the domain's */
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_vcpu_get_regs(dom, 0, &regs), 0);
	CHECK_EQ(av_vcpu_unpause(dom, 0), 0);
	CHECK_EQ(av_vcpu_unpause(dom, 9), -EINVAL);
	CHECK_EQ(av_domain_pause(dom), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	t_close(hv);       /* vCPUs at their pause points: must not hang */
}

static void test_null_handles(void)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	void *p;

	CHECK_EQ(av_domain_get_info(NULL, &info), -EINVAL);
	CHECK_EQ(av_domain_pause(NULL), -EINVAL);
	CHECK_EQ(av_domain_unpause(NULL), -EINVAL);
	CHECK_EQ(av_domain_destroy(NULL), -EINVAL);
	CHECK_EQ(av_domain_close(NULL), -EINVAL);
	CHECK_EQ(av_domain_wait_idle(NULL, 1), -EINVAL);
	CHECK_EQ(av_map(NULL, 0, 1, 0, &p), -EINVAL);
	CHECK_EQ(av_unmap(NULL, &p), -EINVAL);
	CHECK_EQ(av_read(NULL, 0, &p, 1), -EINVAL);
	CHECK_EQ(av_vcpu_pause(NULL, 0), -EINVAL);
	CHECK_EQ(av_domain_list(NULL, NULL, 0), -EINVAL);
	CHECK_EQ(av_domain_id(NULL), 0);
}

T_MAIN(T_CASE(test_create_run_read), T_CASE(test_access_required), T_CASE(test_struct_spec_and_list),
       T_CASE(test_destroyed_domain_handle), T_CASE(test_bad_specs), T_CASE(test_spec_struct_sizes),
       T_CASE(test_memory), T_CASE(test_pause_and_regs), T_CASE(test_null_handles))
