/* SPDX-License-Identifier: MIT */
/*
 * wake-race — a poller's last look before it sleeps, against a post that
 * takes sync_notify back at the worst moment (common/channel.h).
 *
 * A post whose event the poller's first look already took can still find
 * sync_notify set, because the poller sets it for its last look, and then
 * writes the eventfd.  A poller that drained the eventfd after setting the
 * flag would swallow that write with the flag already gone, and sleep
 * through the next event until the daemon's response timeout answered it.
 * The window is a few instructions wide, so this test puts the daemon's
 * half of it there: it interposes eventfd_read(), which libaltview calls on
 * that path, and first does what post() does when it finds the flag set.
 *
 *   wake-race URI
 *
 * One vCPU raises two guest requests.  The first is taken and answered
 * with the domain paused, so that the second cannot come before the look
 * under test has found nothing; after unpausing, the second must wake the
 * poller asleep in poll() and be there to take.  TAP on stdout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include <altview/altview.h>

#include "channel.h"

/* Shorter than the daemon's response timeout: the event must come by a wake-up, not expire. */
#define WAKE_TIMEOUT_MS 500

static uint8_t *sync_notify;        /* in the channel libaltview mapped */
static int race_fd = -1;            /* the monitor's eventfd while the race is staged */
static int race_reads;              /* eventfd_read() calls on it meanwhile */
static int tests, failures;

/* What post() does after posting an event the poller already took: take the flag, write. */
int eventfd_read(int fd, eventfd_t *value)
{
	static int (*real)(int, eventfd_t *);

	if (!real)
		real = (int (*)(int, eventfd_t *))dlsym(RTLD_NEXT, "eventfd_read");
	if (fd == race_fd) {
		race_reads++;
		if (__atomic_exchange_n(sync_notify, 0, __ATOMIC_SEQ_CST))
			eventfd_write(fd, 1);
	}
	return real(fd, value);
}

static void check(bool ok, const char *what)
{
	tests++;
	failures += !ok;
	printf("%sok %d - %s\n", ok ? "" : "not ", tests, what);
}

/* The channel header libaltview mapped: the one shared mapping of the daemon's memfd. */
static struct channel_header *find_channel(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	struct channel_header *found = NULL;
	char line[512];

	while (maps && !found && fgets(line, sizeof(line), maps)) {
		unsigned long start;

		if (strstr(line, "memfd:altview-channel") && sscanf(line, "%lx-", &start) == 1 &&
		    ((struct channel_header *)start)->magic == CHANNEL_MAGIC)
			found = (struct channel_header *)start;
	}
	if (maps)
		fclose(maps);
	return found;
}

static __attribute__((noreturn)) void bail(const char *what, int r)
{
	printf("Bail out! %s: %s\n", what, strerror(-r));
	exit(1);
}

/* The next synchronous event, woken only by the monitor's fd. */
static int take(av_monitor *mon, struct av_event *ev)
{
	struct pollfd pfd = { .fd = av_monitor_fd(mon), .events = POLLIN };
	int r;

	while ((r = av_monitor_next(mon, ev)) == -EAGAIN || (r == 0 && !(ev->flags & AV_EVENT_F_SYNC)))
		if (r == -EAGAIN && poll(&pfd, 1, WAKE_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
	return r;
}

int main(int argc, char **argv)
{
	const char *spec = "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": "
			   "[{\"op\": \"loop\", \"count\": 2, \"body\": [{\"op\": \"guest_request\"}]}]}";
	struct channel_header *hdr;
	av_monitor *mon;
	av_domain *dom;
	av_hv *hv;
	AV_OPTS(av_event, ev);
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: wake-race URI\n");
		return 2;
	}
	if ((r = av_open(argv[1], NULL, &hv)) < 0 || (r = av_domain_create_json(hv, spec, &dom)) < 0)
		bail("creating the guest", r);
	if ((r = av_monitor_open(dom, NULL, &mon)) < 0 ||
	    (r = av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))) < 0)
		bail("subscribing", r);
	if (!(hdr = find_channel()))
		bail("finding the channel among this process's mappings", -ENOENT);
	sync_notify = &hdr->sync_notify;
	if ((r = av_domain_unpause(dom)) < 0)
		bail("starting the guest", r);

	r = take(mon, &ev);
	check(r == 0, "the first event wakes the poller");
	if (r < 0)
		bail("taking the first event", r);
	if ((r = av_domain_pause(dom)) < 0 || (r = av_monitor_respond(mon, &ev, NULL)) < 0)
		bail("answering it with the guest paused", r);

	race_fd = av_monitor_fd(mon);
	r = av_monitor_next(mon, &ev);
	race_fd = -1;
	check(r == -EAGAIN, "then the poller's look finds nothing");
	check(race_reads == 1, "and drains the eventfd once on its way to sleep (the path staged)");
	check(__atomic_load_n(sync_notify, __ATOMIC_SEQ_CST) ||
	      poll(&(struct pollfd){ .fd = av_monitor_fd(mon), .events = POLLIN }, 1, 0) == 1,
	      "a post that took the flag back during it left the flag set or the fd readable");

	if ((r = av_domain_unpause(dom)) < 0)
		bail("resuming the guest", r);
	/* Asleep first, as in an event loop: only the eventfd can say the event is there. */
	r = poll(&(struct pollfd){ .fd = av_monitor_fd(mon), .events = POLLIN }, 1, WAKE_TIMEOUT_MS);
	check(r == 1, "the second event wakes the sleeping poller");
	r = take(mon, &ev);
	check(r == 0 && ev.flags & AV_EVENT_F_SYNC,
	      "and is there to take, not answered by the daemon's timeout");
	if (r == 0)
		av_monitor_respond(mon, &ev, NULL);

	av_monitor_close(mon);
	av_domain_destroy(dom);
	av_close(hv);
	printf("1..%d\n", tests);
	return failures ? 1 : 0;
}
