/* SPDX-License-Identifier: MIT */
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

av_hv *t_open(void)
{
	AV_OPTS(av_open_opts, o, .log = capture, .machine_bytes = 64u << 20);
	av_hv *hv = NULL;
	int r = av_open(t_uri(), &o, &hv);

	if (r < 0)
		t_fail(__FILE__, __LINE__, "av_open: %s", av_strerror(r));
	return hv;
}

void t_close(av_hv *hv)
{
	uint32_t ids[64];
	int n;

	/* The daemon's guests outlive a connection: each case leaves it as it found it. */
	if (hv && t_daemon()) {
		n = av_domain_list(hv, ids, 64);
		for (int i = 0; i < n && i < 64; i++) {
			av_domain *dom;

			if (av_domain_open(hv, ids[i], &dom) == 0) {
				av_domain_destroy(dom);
				av_domain_close(dom);
			}
		}
	}
	av_close(hv);
}

av_domain *t_domain(av_hv *hv, const char *json)
{
	av_domain *dom = NULL;
	int r = hv ? av_domain_create_json(hv, json, &dom) : -EINVAL;

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
