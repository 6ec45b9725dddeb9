/* SPDX-License-Identifier: MIT */
/* libaltview: opening, options structs, errors, versions, logging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib-util.h"

static void test_open_close(void)
{
	av_hv *hv = t_open();
	struct av_hv_info info = { .sz = sizeof(info) };
	char version[32];

	CHECK(hv);
	CHECK_EQ(av_hv_get_info(hv, &info), 0);
	CHECK(!strcmp(info.backend, t_backend()));
	CHECK_EQ(info.vm_event_version, 7);
	/* The daemon's machine is the daemon's (with-altviewd.sh gives it 64 MiB too). */
	if (t_daemon())
		t_note("through altviewd: machine_bytes is not the daemon's to tell");
	if (t_xen()) {
		t_note("xen: 10 views, Xen's MAX_ALTP2M; the host's memory as xc_physinfo says");
		CHECK_EQ(info.max_views, 10);
		CHECK_EQ(info.hv_version_major, 4);
		CHECK_EQ(info.hv_version_minor, 17);
		CHECK_EQ(info.machine_bytes, 128u << 20);       /* with-xen.sh's */
	} else {
		CHECK_EQ(info.max_views, 512);
	}
	if (!t_daemon() && !t_xen())
		CHECK_EQ(info.machine_bytes, 64u << 20);
	/* The library that runs is the release its header says. */
	snprintf(version, sizeof(version), "%d.%d.%d", AV_VERSION_MAJOR, AV_VERSION_MINOR,
		 AV_VERSION_MICRO);
	CHECK(!strcmp(av_version(), version));
	t_close(hv);
	av_close(NULL);
}

static void test_bad_uris(void)
{
	av_hv *hv = (av_hv *)&hv;
	AV_OPTS(av_open_opts, o, .log = NULL);

	CHECK_EQ(av_open("xenish:", NULL, &hv), -EPROTONOSUPPORT);
	CHECK(hv == NULL);
	CHECK_EQ(av_open("hv", NULL, &hv), -EPROTONOSUPPORT);
	CHECK_EQ(av_open("", NULL, &hv), -EPROTONOSUPPORT);
	CHECK_EQ(av_open("hv:extra", NULL, &hv), -EINVAL);
	CHECK_EQ(av_open(NULL, &o, &hv), -EINVAL);
	CHECK_EQ(av_open("hv:", NULL, NULL), -EINVAL);
}

static char msg[512];
static void keep(void *ctx, enum av_log_level level, const char *m)
{
	(void)ctx;
	(void)level;
	strncpy(msg, m, sizeof(msg) - 1);
}

static void test_unknown_uri_is_logged(void)
{
	AV_OPTS(av_open_opts, o, .log = keep);
	av_hv *hv;

	msg[0] = 0;
	CHECK_EQ(av_open("nope:", &o, &hv), -EPROTONOSUPPORT);
	CHECK(strstr(msg, "nope:") && strstr(msg, "unknown backend"));
}

/* libbpf's rule, from both sides of a version change. */
static void test_opts_sizes(void)
{
	struct {
		struct av_open_opts o;
		uint64_t newer_field;
	} big;
	av_hv *hv;

	/* An older caller: a struct that stops before machine_bytes. */
	struct av_open_opts old = { .sz = offsetof(struct av_open_opts, machine_bytes) };
	CHECK_EQ(av_open("hv:", &old, &hv), 0);
	t_close(hv);

	/* A newer caller that leaves the field we do not know at zero. */
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.machine_bytes = 16u << 20;
	CHECK_EQ(av_open("hv:", &big.o, &hv), 0);
	t_close(hv);

	/* ...and one that sets it. */
	big.newer_field = 1;
	big.o.log = keep;
	msg[0] = 0;
	CHECK_EQ(av_open("hv:", &big.o, &hv), -EINVAL);
	CHECK(strstr(msg, "av_open_opts") && strstr(msg, "does not know"));

	struct av_open_opts tiny = { .sz = 3 };
	CHECK_EQ(av_open("hv:", &tiny, &hv), -EINVAL);
}

static void test_info_sizes(void)
{
	av_hv *hv = t_open();
	struct {
		struct av_hv_info info;
		uint64_t later;
	} big;
	struct av_hv_info small = { .sz = offsetof(struct av_hv_info, vm_event_version) };

	CHECK(hv);
	memset(&big, 0xa5, sizeof(big));
	big.info.sz = sizeof(big);
	CHECK_EQ(av_hv_get_info(hv, &big.info), 0);
	CHECK_EQ(big.later, 0);         /* what the library does not know is zeroed */
	CHECK_EQ(big.info.max_vcpus, 128);
	small.max_views = 77;
	CHECK_EQ(av_hv_get_info(hv, &small), 0);
	CHECK_EQ(small.max_views, 77);  /* past sz: untouched */
	CHECK(!strcmp(small.backend, t_backend()));
	small.sz = 0;
	CHECK_EQ(av_hv_get_info(hv, &small), -EINVAL);
	CHECK_EQ(av_hv_get_info(NULL, &small), -EINVAL);
	t_close(hv);
}

static void test_strerror(void)
{
	CHECK(!strcmp(av_strerror(-ENOENT), "No such file or directory"));
	CHECK(!strcmp(av_strerror(-EALREADY), "Operation already in progress"));
	CHECK(!strcmp(av_strerror(0), "Unknown error"));
	CHECK(!strcmp(av_strerror(-99999), "Unknown error"));
	CHECK(!strcmp(av_strerror(42), "Unknown error"));
}

/* Closing the hypervisor closes what is still open through it. */
static void test_close_with_everything_open(void)
{
	av_hv *hv = t_open();
	av_domain *dom = t_domain(hv, "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\","
				       " \"program\": [{\"op\": \"guest_request\"}]}");
	av_monitor *mon;
	av_evtchn *xce;
	void *p;

	CHECK(dom);
	CHECK_EQ(av_monitor_open(dom, NULL, &mon), 0);
	CHECK_EQ(av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST)), 0);
	CHECK_EQ(av_evtchn_open(hv, NULL, &xce), 0);
	CHECK_EQ(av_map(dom, 0, 4, AV_MAP_WRITE, &p), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	/* The vCPU now waits for an answer nobody will give. */
	t_close(hv);
}

T_MAIN(T_CASE(test_open_close), T_CASE(test_bad_uris), T_CASE(test_unknown_uri_is_logged),
       T_CASE(test_opts_sizes), T_CASE(test_info_sizes), T_CASE(test_strerror),
       T_CASE(test_close_with_everything_open))
