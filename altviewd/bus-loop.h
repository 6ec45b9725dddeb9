/* SPDX-License-Identifier: MIT */
/*
 * bus-loop.h — an sd-bus connection driven by a libevent loop.
 */
#pragma once

#include <event2/event.h>
#include <systemd/sd-bus.h>

struct bus_loop {
	sd_bus *bus;
	struct event_base *base;
	struct event *io;
	struct event *timer;
	short io_events;            /* what io waits for now (EV_READ | EV_WRITE) */
	int error;                  /* the connection's fatal error, once it failed */
};

int bus_loop_init(struct bus_loop *loop, struct event_base *base, sd_bus *bus);
void bus_loop_deinit(struct bus_loop *loop);

/*
 * Runs the event loop until event_base_loopbreak() or until the bus
 * connection fails (loop->error).  Before every wait it re-arms the fd and
 * the timer from what sd-bus asks for now.
 */
int bus_loop_run(struct bus_loop *loop);
