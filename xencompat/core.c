/* SPDX-License-Identifier: MIT */
/*
 * core.c — the process's hypervisor, opened once for every façade, and
 * the guests of an embedded one.
 *
 * Xen tools expect their guests to be running already.  With "hv:" the
 * guests live in the tool's own process, so they are made and started here
 * on first use, from ALTVIEW_XEN_SPECS.  Their vCPU threads are created
 * with every signal blocked: a tool's SIGINT handler must run on one of the
 * tool's threads, or a vCPU would take the signal meant to stop the tool.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define MAX_HANDLES 1024

struct handle {
	uint32_t domid;
	av_domain *dom;
};

static struct {
	pthread_once_t once;
	int error;                  /* of the opening, once and for all */
	av_hv *hv;
	pthread_mutex_t lock;       /* handles, warned */
	struct handle handles[MAX_HANDLES];
	size_t nr_handles;
	char warned[64][48];        /* unsupported calls already said */
	size_t nr_warned;
} state = { .once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER };

int xencompat_fail(int r)
{
	errno = r < 0 ? -r : EIO;
	return -1;
}

void xencompat_log(const char *fmt, ...)
{
	va_list ap;

	fputs("altview-xen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void xencompat_unsupported(const char *lib, const char *name)
{
	bool said = false;

	pthread_mutex_lock(&state.lock);
	for (size_t i = 0; i < state.nr_warned && !said; i++)
		said = !strcmp(state.warned[i], name);
	if (!said && state.nr_warned < sizeof(state.warned) / sizeof(state.warned[0]))
		snprintf(state.warned[state.nr_warned++], sizeof(state.warned[0]), "%s", name);
	pthread_mutex_unlock(&state.lock);
	if (!said)
		xencompat_log("%s: %s is not supported on altview", lib, name);
	errno = EOPNOTSUPP;
}

static void log_to_stderr(void *ctx, enum av_log_level level, const char *msg)
{
	if (level <= AV_LOG_WARNING || getenv("ALTVIEW_XEN_DEBUG"))
		xencompat_log("%s", msg);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = (size_t)ftell(f)) < (16u << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc(size + 1)) &&
	    fread(text, 1, size, f) == size)
		text[size] = 0;
	else if (text) {
		free(text);
		text = NULL;
		errno = EIO;
	}
	fclose(f);
	return text;
}

/* The guests of ALTVIEW_XEN_SPECS, created and started in order (domids 1, 2, ...). */
static int start_guests(const char *specs)
{
	char *list = strdup(specs), *save = NULL;
	int r = list ? 0 : -ENOMEM;

	for (char *path = list ? strtok_r(list, ":", &save) : NULL; path && r == 0;
	     path = strtok_r(NULL, ":", &save)) {
		char *json = read_file(path);
		av_domain *dom;

		if (!json) {
			xencompat_log("%s: %s", path, strerror(errno));
			r = -errno;
			break;
		}
		r = av_domain_create_json(state.hv, json, &dom);
		free(json);
		if (r == 0)
			r = av_domain_unpause(dom);
		if (r < 0)
			xencompat_log("%s: cannot start the guest: %s", path, av_strerror(r));
		else
			state.handles[state.nr_handles++] = (struct handle){
				.domid = av_domain_id(dom), .dom = dom };
	}
	free(list);
	return r;
}

static void open_once(void)
{
	AV_OPTS(av_open_opts, o, .log = log_to_stderr);
	const char *uri = getenv("ALTVIEW_XEN_URI"), *specs = getenv("ALTVIEW_XEN_SPECS");
	const char *mib = getenv("ALTVIEW_XEN_MACHINE_MIB");
	sigset_t all, old;
	int r;

	if (!uri || !*uri)
		uri = "hv:";
	if (mib)
		o.machine_bytes = strtoull(mib, NULL, 0) << 20;
	/* Every thread libaltview starts from here on inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = av_open(uri, &o, &state.hv);
	if (r < 0)
		xencompat_log("%s: %s", uri, av_strerror(r));
	if (r == 0 && specs && *specs)
		r = start_guests(specs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	state.error = r;
}

av_hv *xencompat_hv(void)
{
	pthread_once(&state.once, open_once);
	if (state.error < 0) {
		errno = -state.error;
		return NULL;
	}
	return state.hv;
}

int xencompat_domain(uint32_t domid, av_domain **dom)
{
	av_hv *hv = xencompat_hv();
	int r = 0;

	if (!hv)
		return -errno;
	pthread_mutex_lock(&state.lock);
	for (size_t i = 0; i < state.nr_handles; i++) {
		if (state.handles[i].domid == domid) {
			*dom = state.handles[i].dom;
			goto out;
		}
	}
	if (state.nr_handles == MAX_HANDLES) {
		r = -ENOMEM;
		goto out;
	}
	r = av_domain_open(hv, domid, dom);
	if (r == -ENOENT)
		r = -ESRCH;
	if (r == 0)
		state.handles[state.nr_handles++] = (struct handle){ .domid = domid,
										      .dom = *dom };
out:
	pthread_mutex_unlock(&state.lock);
	return r;
}

int xencompat_domain_info(uint32_t domid, av_domain **dom, struct av_domain_info *info)
{
	int r = xencompat_domain(domid, dom);

	*info = (struct av_domain_info){ .sz = sizeof(*info) };
	return r < 0 ? r : av_domain_get_info(*dom, info);
}
