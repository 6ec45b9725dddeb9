/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib-util.h"

char t_log[512];
int t_log_count;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void capture(void *ctx, enum av_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	pthread_mutex_lock(&log_lock);
	snprintf(t_log, sizeof(t_log), "%s", msg);
	t_log_count++;
	pthread_mutex_unlock(&log_lock);
}

const char *t_uri(void)
{
	const char *uri = getenv("ALTVIEW_TEST_URI");

	return uri && *uri ? uri : "hv:";
}

bool t_daemon(void)
{
	return !strncmp(t_uri(), "altviewd:", 9);
}

bool t_xen(void)
{
	return !strncmp(t_uri(), "xen:", 4);
}

/*
 * Xen's toolstack, for tests on xen:: the hypervisor the Xen-compatible
 * libraries (found first on the library path) run the guests on.
 */
static av_hv *toolstack(void)
{
	av_hv *(*under)(void) = (av_hv *(*)(void))dlsym(RTLD_DEFAULT, "xencompat_hv");

	if (!under)
		t_fail(__FILE__, __LINE__, "xen: tests run on altview's Xen-compatible libraries");
	return under ? under() : NULL;
}

av_hv *t_open(void)
{
	AV_OPTS(av_open_opts, o, .log = capture, .machine_bytes = 64u << 20);
	av_hv *hv = NULL;
	int r = av_open(t_uri(), &o, &hv);

	if (r < 0)
		t_fail(__FILE__, __LINE__, "av_open: %s", av_strerror(r));
	return hv;
}

const char *t_backend(void)
{
	return t_xen() ? "xen" : t_daemon() ? "altviewd" : "hv";
}

static av_domain *guest_sides[16];

av_domain *t_guest(av_domain *dom)
{
	av_domain *under = NULL;

	if (!t_xen() || !dom)
		return dom;
	if (av_domain_open(toolstack(), av_domain_id(dom), &under) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(guest_sides) / sizeof(guest_sides[0]); i++) {
		if (!guest_sides[i]) {
			guest_sides[i] = under;
			return under;
		}
	}
	av_domain_close(under);
	return NULL;
}

int t_destroy(av_domain *dom)
{
	av_domain *under;
	int r;

	if (!t_xen())
		return av_domain_destroy(dom);
	r = av_domain_open(toolstack(), av_domain_id(dom), &under);
	if (r == 0) {
		r = av_domain_destroy(under);
		av_domain_close(under);
	}
	return r;
}

/* The daemon's and Xen's guests outlive a connection: each case leaves things as it found them. */
void t_close(av_hv *hv)
{
	av_hv *owner = t_xen() ? toolstack() : t_daemon() ? hv : NULL;
	uint32_t ids[64];
	int n;

	for (size_t i = 0; i < sizeof(guest_sides) / sizeof(guest_sides[0]); i++) {
		av_domain_close(guest_sides[i]);
		guest_sides[i] = NULL;
	}
	if (hv && owner) {
		n = av_domain_list(owner, ids, 64);
		for (int i = 0; i < n && i < 64; i++) {
			av_domain *dom;

			if (av_domain_open(owner, ids[i], &dom) == 0) {
				av_domain_destroy(dom);
				av_domain_close(dom);
			}
		}
	}
	av_close(hv);
}

av_domain *t_domain(av_hv *hv, const char *json)
{
	av_domain *dom = NULL, *made = NULL;
	int r = -EINVAL;

	if (hv && t_xen()) {
		av_hv *xen = toolstack();

		r = xen ? av_domain_create_json(xen, json, &made) : -ENODEV;
		if (r == 0) {
			r = av_domain_open(hv, av_domain_id(made), &dom);
			av_domain_close(made);
		}
	} else if (hv) {
		r = av_domain_create_json(hv, json, &dom);
	}
	if (r < 0)
		t_fail(__FILE__, __LINE__, "av_domain_create_json: %s (%s)", av_strerror(r), t_log);
	return dom;
}

bool t_log_has(const char *needle)
{
	bool r;

	pthread_mutex_lock(&log_lock);
	r = strstr(t_log, needle) != NULL;
	if (!r)
		fprintf(stderr, "# log \"%s\" lacks \"%s\"\n", t_log, needle);
	pthread_mutex_unlock(&log_lock);
	return r;
}

av_hv *t_hv;

void t_setup(void)
{
	t_hv = t_open();
}

void t_teardown(void)
{
	t_close(t_hv);
}
