/* SPDX-License-Identifier: MIT */
/*
 * bus-connect.h — the bus the daemon and its clients are told to use, and
 * what clients put into their calls and read out of the replies.
 */
#pragma once

#include "frame-map.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/*
 * Connects to the bus at the D-Bus @address when given, else to the user's
 * session bus (@user) or the system bus.  Negative errno on failure.
 */
int av_bus_connect(const char *address, bool user, sd_bus **ret);

/*
 * Appends a subscription filter that selects event kinds only, the a{sv}
 * {"kinds": as} of Domain.Subscribe and Client.SetFilter; @kinds is a
 * NULL-terminated list of names ("mem_access", ...).
 */
int av_bus_append_kinds_filter(sd_bus_message *m, char **kinds);

/*
 * How a property lands in a struct, as systemd's bus_map_all_properties():
 * one table per struct names each property, its type and its field.  A
 * value of another type than the table's fails the read (-ENXIO).
 */
enum av_bus_prop_type {
	AV_BUS_PROP_U32,            /* "u" into uint32_t */
	AV_BUS_PROP_U64,            /* "t" into uint64_t */
	AV_BUS_PROP_BOOL,           /* "b" into int */
	AV_BUS_PROP_STRING,         /* "s" into char *, allocated */
	AV_BUS_PROP_STRBUF,         /* "s" into char[size], cut between characters */
	AV_BUS_PROP_U32S,           /* "au" into struct av_bus_u32s, allocated */
	AV_BUS_PROP_PATHS,          /* "ao" into a NULL-terminated char **, allocated */
	AV_BUS_PROP_WORDS,          /* "as" into one char *, comma-separated, allocated */
};

struct av_bus_u32s {
	uint32_t *v;
	size_t n;
};

struct av_bus_prop {
	const char *name;
	enum av_bus_prop_type type;
	size_t offset;
	size_t size;                /* AV_BUS_PROP_STRBUF */
};

#define AV_BUS_PROP(NAME, TYPE, STRUCT, FIELD) \
	{ NAME, AV_BUS_PROP_##TYPE, offsetof(STRUCT, FIELD), sizeof(((STRUCT *)0)->FIELD) }

/*
 * Reads the a{sv} of a Properties.GetAll reply into @obj through @map
 * (ending with an entry whose name is NULL); properties not in the map are
 * skipped.  On failure, what was allocated stays for av_bus_props_free().
 */
int av_bus_map_properties(sd_bus_message *reply, const struct av_bus_prop *map, void *obj);
/* Appends @regs as the a{st} of Domain.GetRegisters and SetRegisters, every register by name. */
struct av_regs_x86;
int av_bus_append_regs(sd_bus_message *m, const struct av_regs_x86 *regs);

/* Frees what @map allocated in @obj. */
/* What a MapMemory reply handed out, kept to hand on (may be NULL where nobody will). */
struct av_bus_mapped {
	int fd;                     /* a duplicate of the memory file's descriptor */
	struct frame_run *runs;     /* malloc'd */
	size_t nr_runs;
};

/*
 * Maps what a MapMemory reply hands out (the memory file, its runs, the
 * mapping's id): the runs are the daemon's word, so there may be no more
 * of them than @pages and they must add up to @pages (-EPROTO).  @keep,
 * if not NULL, gets the file and the runs.
 */
int av_bus_map_reply(sd_bus_message *reply, uint64_t gfn, uint64_t pages, bool write,
		     void **addr, uint64_t *id, struct av_bus_mapped *keep);

void av_bus_props_free(const struct av_bus_prop *map, void *obj);
