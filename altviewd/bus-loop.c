/* SPDX-License-Identifier: MIT */
/*
 * bus-loop.c — sd-bus inside a libevent loop.
 *
 * sd-bus says what it waits for through sd_bus_get_events() (POLLIN, and
 * POLLOUT while messages are queued) and sd_bus_get_timeout() (an absolute
 * CLOCK_MONOTONIC time in µs for the earliest method-call timeout or
 * authentication step; UINT64_MAX for none).  Both change whenever anything
 * touches the connection — a dispatch, but also a signal emitted from a
 * timer callback — so they are read again before *every* wait.  libevent
 * 2.1 has no prepare hook for that, hence the loop below runs one
 * iteration at a time (EVLOOP_ONCE) and re-arms in between.
 *
 * Messages already read and queued (a synchronous call such as
 * RequestName reads past its reply) need no dispatch of their own here:
 * while the read queue is not empty, sd_bus_get_timeout() says "now".
 *
 * Nothing is flushed with sd_bus_flush(), which would block the daemon on
 * a slow bus: sd_bus_send() writes at once what the socket takes, and what
 * it does not take keeps POLLOUT in the events armed here, so the queue
 * drains before the loop would otherwise sleep.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bus-loop.h"
#include "log.h"

static void bus_dispatch(struct bus_loop *loop)
{
	int r;

	do
		r = sd_bus_process(loop->bus, NULL);
	while (r > 0);
	if (r < 0 && !loop->error) {
		loop->error = r;
		log_error("D-Bus connection failed: %s", strerror(-r));
		event_base_loopbreak(loop->base);
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	bus_dispatch(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	bus_dispatch(arg);
}

static int arm_io(struct bus_loop *loop)
{
	int events = sd_bus_get_events(loop->bus), fd = sd_bus_get_fd(loop->bus);
	short want;

	if (events < 0)
		return events;
	if (fd < 0)
		return fd;
	want = (events & POLLIN ? EV_READ : 0) | (events & POLLOUT ? EV_WRITE : 0);
	if (loop->io && want == loop->io_events)
		return 0;
	if (loop->io)
		event_free(loop->io);
	loop->io = event_new(loop->base, fd, want | EV_PERSIST, on_io, loop);
	if (!loop->io || event_add(loop->io, NULL) < 0)
		return -ENOMEM;
	loop->io_events = want;
	return 0;
}

static int arm_timer(struct bus_loop *loop)
{
	uint64_t until, now;
	struct timespec ts;
	struct timeval tv;
	int r;

	r = sd_bus_get_timeout(loop->bus, &until);
	if (r < 0)
		return r;
	if (until == UINT64_MAX) {
		event_del(loop->timer);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	until = until > now ? until - now : 0;
	tv.tv_sec = until / 1000000;
	tv.tv_usec = until % 1000000;
	return event_add(loop->timer, &tv) < 0 ? -ENOMEM : 0;
}

int bus_loop_init(struct bus_loop *loop, struct event_base *base, sd_bus *bus)
{
	*loop = (struct bus_loop){ .bus = sd_bus_ref(bus), .base = base };
	loop->timer = evtimer_new(base, on_timer, loop);
	if (!loop->timer) {
		bus_loop_deinit(loop);
		return -ENOMEM;
	}
	return 0;
}

void bus_loop_deinit(struct bus_loop *loop)
{
	if (loop->io)
		event_free(loop->io);
	if (loop->timer)
		event_free(loop->timer);
	sd_bus_unref(loop->bus);
	*loop = (struct bus_loop){ 0 };
}

int bus_loop_run(struct bus_loop *loop)
{
	int r;

	while (!loop->error) {
		r = arm_io(loop);
		if (r >= 0)
			r = arm_timer(loop);
		if (r < 0) {
			log_error("Failed to watch the D-Bus connection: %s", strerror(-r));
			return r;
		}
		r = event_base_loop(loop->base, EVLOOP_ONCE);
		if (r < 0)
			return -EIO;
		if (event_base_got_break(loop->base))
			break;
	}
	return loop->error;
}
