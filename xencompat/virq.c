/* SPDX-License-Identifier: MIT */
/*
 * virq.c — Xen's VIRQ_DOM_EXC for tools that bind it: a port fired when a
 * domain crashes, shuts down or goes away, as Xen fires it to dom0.
 *
 * libaltview tells no one of a domain's end, on any backend, so a thread
 * looks at the domains ten times a second while some handle has the VIRQ
 * bound, and fires every binding when one of them crashed, began dying or
 * vanished.  Domains that appear are not exceptions (Xen is silent too).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

#define POLL_NS (100 * 1000 * 1000L)
#define MAX_WATCHED 256

struct listener {
	struct xencompat_evtchn *h;
	uint32_t local;
};

struct seen {
	uint32_t id;
	enum av_domain_state state;
};

/* One per run of the thread: a new one may start while the last is being joined. */
struct watcher {
	pthread_t thread;
	av_hv *hv;
	bool stopping;
	struct seen seen[2][MAX_WATCHED];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* everything here; then a handle's */
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static struct listener *listeners;
static size_t nr_listeners;
static struct watcher *current;

static bool exceptional(enum av_domain_state s)
{
	return s == AV_DOMAIN_CRASHED || s == AV_DOMAIN_DYING;
}

/* The domains as they are now. */
static size_t look(av_hv *hv, struct seen *out)
{
	uint32_t ids[MAX_WATCHED];
	int n = av_domain_list(hv, ids, MAX_WATCHED);
	size_t got = 0;

	for (int i = 0; i < n && i < MAX_WATCHED; i++) {
		struct av_domain_info info = { .sz = sizeof(info) };
		av_domain *dom;

		if (av_domain_open(hv, ids[i], &dom) < 0)
			continue;
		if (av_domain_get_info(dom, &info) == 0)
			out[got++] = (struct seen){ .id = ids[i], .state = info.state };
		av_domain_close(dom);
	}
	return got;
}

/* Whether a domain of @before crashed, began dying or is gone in @now. */
static bool changed(const struct seen *before, size_t nb, const struct seen *now, size_t nn)
{
	for (size_t i = 0; i < nb; i++) {
		size_t j = 0;

		while (j < nn && now[j].id != before[i].id)
			j++;
		if (j == nn)
			return true;
		if (exceptional(now[j].state) && !exceptional(before[i].state))
			return true;
	}
	return false;
}

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;
	unsigned int cur = 0;
	size_t nb = look(w->hv, w->seen[0]), nn;
	struct timespec until;

	pthread_mutex_lock(&lock);
	while (!w->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += POLL_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&stop_cond, &lock, &until);
		if (w->stopping)
			break;
		pthread_mutex_unlock(&lock);
		nn = look(w->hv, w->seen[!cur]);
		pthread_mutex_lock(&lock);
		if (changed(w->seen[cur], nb, w->seen[!cur], nn))
			for (size_t i = 0; i < nr_listeners; i++)
				xencompat_evtchn_fire(listeners[i].h, listeners[i].local);
		cur = !cur;
		nb = nn;
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int virq_attach(struct xencompat_evtchn *h, uint32_t local)
{
	av_hv *hv = xencompat_hv();
	struct listener *l;
	int r = 0;

	if (!hv)
		return -errno;
	pthread_mutex_lock(&lock);
	l = realloc(listeners, (nr_listeners + 1) * sizeof(*l));
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	listeners = l;
	if (!current) {
		struct watcher *w = calloc(1, sizeof(*w));

		r = w ? 0 : -ENOMEM;
		if (w) {
			w->hv = hv;
			r = -pthread_create(&w->thread, NULL, watch_thread, w);
		}
		if (r < 0) {
			free(w);
			goto out;
		}
		current = w;
	}
	listeners[nr_listeners++] = (struct listener){ .h = h, .local = local };
out:
	pthread_mutex_unlock(&lock);
	return r;
}

void virq_detach(struct xencompat_evtchn *h, uint32_t local)
{
	struct watcher *w = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nr_listeners; i++) {
		if (listeners[i].h == h && listeners[i].local == local) {
			listeners[i] = listeners[--nr_listeners];
			break;
		}
	}
	if (!nr_listeners) {
		free(listeners);
		listeners = NULL;
	}
	if (!nr_listeners && current) {
		w = current;
		current = NULL;
		w->stopping = true;
		pthread_cond_broadcast(&stop_cond);
	}
	pthread_mutex_unlock(&lock);
	if (w) {
		pthread_join(w->thread, NULL);
		free(w);
	}
}
