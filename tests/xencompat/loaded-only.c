/* SPDX-License-Identifier: MIT */
/*
 * loaded-only — preloaded into a Xen binary, it ends the process before
 * main: by then the dynamic loader has bound every symbol (the binaries
 * are BIND_NOW), so reaching here means the program would start.  Exits 1
 * if any of Debian's own Xen libraries got loaded instead of altview's.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void loaded_only(void)
{
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "r");
	int debian = 0;

	while (maps && fgets(line, sizeof(line), maps))
		if (strstr(line, "/usr/lib/x86_64-linux-gnu/libxen")) {
			fprintf(stderr, "Debian's Xen library loaded: %s", strchr(line, '/'));
			debian = 1;
		}
	if (maps)
		fclose(maps);
	_exit(debian);
}
