/* SPDX-License-Identifier: MIT */
/*
 * bus-connect.c — an address given on the command line is a bus like the
 * system one (Hello, a unique name), not a peer-to-peer connection.
 */
#include "bus-connect.h"

int av_bus_connect(const char *address, bool user, sd_bus **ret)
{
	__attribute__((cleanup(sd_bus_unrefp))) sd_bus *bus = NULL;
	int r;

	if (!address)
		return user ? sd_bus_open_user(ret) : sd_bus_open_system(ret);
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, true);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0)
		return r;
	*ret = bus;
	bus = NULL;
	return 0;
}
