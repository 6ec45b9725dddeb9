/* SPDX-License-Identifier: MIT */
/*
 * poll-client — monitors through libaltview's altviewd: backend the way a
 * single-threaded VMI tool does: one thread per monitor serving every vCPU,
 * asleep in poll() on av_monitor_fd() (first thing, as an event loop is)
 * and taking what av_monitor_next() has when it wakes.  Such a client
 * hears of a synchronous event only through the eventfd and finds it only
 * through the channel's posted bits, so a wake-up that never comes or an
 * event it never sees stops it here.
 *
 *   poll-client URI VCPUS EVENTS CLIENTS
 *
 * Creates a script guest whose VCPUS vCPUs raise EVENTS guest requests
 * each, and runs CLIENTS such monitors on it.  Prints one line per client,
 * "client N: answered A of T", and exits 0 when every client answered
 * every event; a poll() that waits WAKE_TIMEOUT_MS with events still to
 * come fails it, as does a run longer than RUN_TIMEOUT_S.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <altview/altview.h>

#define MAX_CLIENTS 8
/* The guest raises its next request within microseconds of an answer. */
#define WAKE_TIMEOUT_MS 5000
/* Events missed cost the guest the daemon's response timeout each: stop well before. */
#define RUN_TIMEOUT_S 60

struct client {
	av_hv *hv;
	av_domain *dom;
	av_monitor *mon;
	pthread_t thread;
	uint64_t expected, answered;
	const char *error;
	int r;
};

static void *serve(void *arg)
{
	struct client *c = arg;
	struct pollfd pfd = { .fd = av_monitor_fd(c->mon), .events = POLLIN };
	time_t deadline = time(NULL) + RUN_TIMEOUT_S;
	AV_OPTS(av_event, ev);

	while (c->answered < c->expected) {
		/* Asleep first, as in an event loop: the fd says when next() has something. */
		int r = poll(&pfd, 1, WAKE_TIMEOUT_MS);

		if (r <= 0) {
			c->error = "no wake-up from the eventfd with events still to come";
			c->r = r < 0 ? -errno : -ETIMEDOUT;
			break;
		}
		while ((r = av_monitor_next(c->mon, &ev)) == 0) {
			if (!(ev.flags & AV_EVENT_F_SYNC))
				continue;
			if ((r = av_monitor_respond(c->mon, &ev, NULL)) < 0)
				break;
			c->answered++;
		}
		if (r != -EAGAIN) {
			c->error = "taking or answering an event";
			c->r = r;
			break;
		}
		if (time(NULL) > deadline) {
			c->error = "not done in time: events missed";
			c->r = -ETIMEDOUT;
			break;
		}
	}
	/* A client that gave up answers nothing more: the others need not wait out its timeouts. */
	if (c->error) {
		av_monitor_close(c->mon);
		c->mon = NULL;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct client clients[MAX_CLIENTS] = { 0 };
	uint32_t vcpus, events, n;
	av_hv *owner;
	av_domain *dom;
	char spec[256];
	int r, failed = 0;

	if (argc != 5 || !(vcpus = (uint32_t)strtoul(argv[2], NULL, 0)) ||
	    !(events = (uint32_t)strtoul(argv[3], NULL, 0)) ||
	    !(n = (uint32_t)strtoul(argv[4], NULL, 0)) || n > MAX_CLIENTS) {
		fprintf(stderr, "usage: poll-client URI VCPUS EVENTS CLIENTS (up to %d)\n",
			MAX_CLIENTS);
		return 2;
	}
	snprintf(spec, sizeof(spec), "{\"memory_mib\": 4, \"vcpus\": %u, \"engine\": \"script\", "
		 "\"program\": [{\"op\": \"loop\", \"count\": %u, \"body\": [{\"op\": "
		 "\"guest_request\"}]}]}", vcpus, events);
	if ((r = av_open(argv[1], NULL, &owner)) < 0 ||
	    (r = av_domain_create_json(owner, spec, &dom)) < 0) {
		fprintf(stderr, "poll-client: creating the guest: %s\n", strerror(-r));
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct client *c = &clients[i];

		c->expected = (uint64_t)vcpus * events;
		if ((r = av_open(argv[1], NULL, &c->hv)) < 0 ||
		    (r = av_domain_open(c->hv, av_domain_id(dom), &c->dom)) < 0 ||
		    (r = av_monitor_open(c->dom, NULL, &c->mon)) < 0 ||
		    (r = av_monitor_set_events(c->mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))) < 0) {
			fprintf(stderr, "poll-client: subscribing: %s\n", strerror(-r));
			return 1;
		}
		pthread_create(&c->thread, NULL, serve, c);
	}
	if ((r = av_domain_unpause(dom)) < 0) {
		fprintf(stderr, "poll-client: starting the guest: %s\n", strerror(-r));
		return 1;
	}
	for (uint32_t i = 0; i < n; i++)
		pthread_join(clients[i].thread, NULL);
	for (uint32_t i = 0; i < n; i++) {
		struct client *c = &clients[i];

		printf("client %u: answered %" PRIu64 " of %" PRIu64 "\n", i, c->answered,
		       c->expected);
		if (c->error) {
			fprintf(stderr, "poll-client: client %u: %s: %s\n", i, c->error,
				strerror(-c->r));
			failed = 1;
		}
		if (c->mon)
			av_monitor_close(c->mon);
		av_close(c->hv);
	}
	av_domain_destroy(dom);
	av_close(owner);
	return failed;
}
