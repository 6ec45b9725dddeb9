/* SPDX-License-Identifier: MIT */
/*
 * send-string — calls a method that takes one string, read from standard
 * input, and prints the error name and message it gets back (or "ok").
 * busctl takes arguments from the command line, which the kernel bounds at
 * 128 KiB an argument; the daemon's own bounds lie beyond that.
 *
 *   send-string ADDRESS PATH INTERFACE MEMBER < TEXT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus-connect.h"
#include "org-altview1.h"

int main(int argc, char **argv)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	size_t size = 0, cap = 1 << 16, n;
	char *text = malloc(cap);
	sd_bus *bus;
	int r;

	if (argc != 5 || !text) {
		fprintf(stderr, "usage: send-string ADDRESS PATH INTERFACE MEMBER < TEXT\n");
		return 2;
	}
	while ((n = fread(text + size, 1, cap - size - 1, stdin)) > 0) {
		size += n;
		if (size + 1 == cap && !(text = realloc(text, cap *= 2)))
			return 1;
	}
	text[size] = 0;
	r = av_bus_connect(argv[1], false, &bus);
	if (r < 0) {
		fprintf(stderr, "send-string: connecting: %s\n", strerror(-r));
		return 1;
	}
	r = sd_bus_call_method(bus, BUS_NAME, argv[2], argv[3], argv[4], &error, NULL, "s", text);
	if (r < 0)
		printf("%s: %s\n", error.name ? error.name : "(none)",
		       error.message ? error.message : strerror(-r));
	else
		printf("ok\n");
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	free(text);
	return 0;
}
