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

int av_bus_append_kinds_filter(sd_bus_message *m, char **kinds)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "kinds");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "as");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, kinds);
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

int av_bus_read_properties(sd_bus_message *reply, av_bus_prop_reader_t *read, void *obj)
{
	const char *name;
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		r = sd_bus_message_read(reply, "s", &name);
		if (r >= 0)
			r = read(reply, name, obj);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	return r < 0 ? r : sd_bus_message_exit_container(reply);
}
