/* SPDX-License-Identifier: MIT */
/*
 * altviewctl — control altviewd over D-Bus: domains, views, access.
 *
 * Conventions of systemd's *ctl tools: a verb and its arguments, tables
 * with a header line (--no-legend drops it), --json for scripts, errors as
 * "Failed to <verb>: <the daemon's message>" and a non-zero exit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "bus-connect.h"
#include "bus-error.h"
#include "org-altview1.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

static void freep(void *p)
{
	free(*(void **)p);
}


static struct {
	const char *address;
	bool user;
	bool json;
	bool legend;
	int64_t vcpu;               /* switch: one vCPU (-1: all) */
	double interval;            /* top */
	uint64_t iterations;        /* top: 0 until interrupted */
} arg = { .legend = true, .vcpu = -1, .interval = 1.0 };

static sd_bus *bus;

static void json_free(json_object **o)
{
	json_object_put(*o);
}

static void json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- arguments ------------------------------------------------------------------- */

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
	char *end;

	errno = 0;
	if (*s == '-' || !*s)
		goto bad;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "Invalid %s: \"%s\" (a number, 0x for hex)\n", what, s);
	return -EINVAL;
}

static int parse_u32(const char *s, const char *what, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, what, &v) < 0)
		return -EINVAL;
	if (v > UINT32_MAX) {
		fprintf(stderr, "Invalid %s: \"%s\" is too large\n", what, s);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static void domain_path(uint32_t id, char *buf, size_t size)
{
	snprintf(buf, size, DOMAIN_PATH_FMT, id);
}

static void view_path(uint32_t id, uint32_t view, char *buf, size_t size)
{
	snprintf(buf, size, VIEW_PATH_FMT, id, view);
}

/* ---- calls ----------------------------------------------------------------------- */

static int failed(const char *what, const sd_bus_error *error, int r)
{
	fprintf(stderr, "Failed to %s: %s\n", what,
		error && error->message ? error->message : strerror(-r));
	return r;
}

/* Calls @member; the reply in *@reply when given.  Prints the daemon's error. */
static int call(const char *what, const char *path, const char *iface, const char *member,
		sd_bus_message **reply, const char *types, ...)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *rep = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, path, iface, member);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r < 0)
		return failed(what, NULL, r);
	r = sd_bus_call(bus, m, 0, &error, &rep);
	if (r < 0)
		return failed(what, &error, r);
	if (reply)
		*reply = sd_bus_message_ref(rep);
	return 0;
}

/* All properties of @iface at @path in one GetAll, into @obj through @map. */
static int get_all(const char *path, const char *iface, const char *what,
		   const struct av_bus_prop *map, void *obj)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	char action[96];
	int r;

	snprintf(action, sizeof(action), "read %s", what);
	r = call(action, path, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s", iface);
	if (r < 0)
		return r;
	r = av_bus_map_properties(reply, map, obj);
	if (r < 0) {
		snprintf(action, sizeof(action), "parse %s", what);
		return failed(action, NULL, r);
	}
	return 0;
}

/* ---- tables ------------------------------------------------------------------------ */

#define TABLE_MAX_COLS 8

struct table {
	size_t cols, rows, cap;
	const char *header[TABLE_MAX_COLS];
	char **cells;
};

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* Appends a row of t->cols strings (copied). */
static int table_add(struct table *t, ...)
{
	va_list ap;
	int r = 0;

	if ((t->rows + 1) * t->cols > t->cap) {
		size_t cap = (t->rows + 1) * t->cols * 2;
		char **more = realloc(t->cells, cap * sizeof(char *));

		if (!more)
			return -ENOMEM;
		t->cells = more;
		t->cap = cap;
	}
	va_start(ap, t);
	for (size_t c = 0; c < t->cols; c++) {
		char *cell = strdup(va_arg(ap, const char *));

		t->cells[t->rows * t->cols + c] = cell;
		if (!cell)
			r = -ENOMEM;
	}
	va_end(ap);
	t->rows++;
	return r;
}

static void table_print(struct table *t)
{
	size_t width[TABLE_MAX_COLS] = { 0 };

	for (size_t c = 0; c < t->cols; c++) {
		width[c] = strlen(t->header[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = strlen(t->cells[r * t->cols + c]);

			width[c] = w > width[c] ? w : width[c];
		}
	}
	if (arg.legend) {
		for (size_t c = 0; c < t->cols; c++)
			printf("%-*s%s", c + 1 < t->cols ? (int)width[c] : 0, t->header[c],
			       c + 1 < t->cols ? " " : "\n");
	}
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->cols; c++)
			printf("%-*s%s", c + 1 < t->cols ? (int)width[c] : 0,
			       t->cells[r * t->cols + c], c + 1 < t->cols ? " " : "\n");
}

/* ---- what a domain says about itself ------------------------------------------------ */

struct domain_props {
	uint32_t id, vcpus, max_views;
	uint64_t memory;
	char *name, *state, *crash_reason;
	int paused;
	struct av_bus_u32s active_views;    /* a view per vCPU */
	char **views;                       /* object paths, NULL-terminated */
};

static const struct av_bus_prop domain_map[] = {
	AV_BUS_PROP("Id", U32, struct domain_props, id),
	AV_BUS_PROP("VcpuCount", U32, struct domain_props, vcpus),
	AV_BUS_PROP("MaxViews", U32, struct domain_props, max_views),
	AV_BUS_PROP("MemoryBytes", U64, struct domain_props, memory),
	AV_BUS_PROP("Paused", BOOL, struct domain_props, paused),
	AV_BUS_PROP("Name", STRING, struct domain_props, name),
	AV_BUS_PROP("State", STRING, struct domain_props, state),
	AV_BUS_PROP("CrashReason", STRING, struct domain_props, crash_reason),
	AV_BUS_PROP("ActiveViews", U32S, struct domain_props, active_views),
	AV_BUS_PROP("Views", PATHS, struct domain_props, views),
	{ 0 }
};

static void domain_props_free(struct domain_props *p)
{
	av_bus_props_free(domain_map, p);
}

static int domain_props_get(uint32_t id, struct domain_props *p)
{
	char path[OBJECT_PATH_MAX];
	int r;

	*p = (struct domain_props){ 0 };
	domain_path(id, path, sizeof(path));
	r = get_all(path, DOMAIN_IFACE, "the domain's properties", domain_map, p);
	if (r < 0)
		domain_props_free(p);
	return r;
}

static void format_bytes(uint64_t n, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	int i = -1;
	double v = n;

	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, size, "%" PRIu64 "B", n);
	else
		snprintf(buf, size, "%.1f%c", v, units[i]);
}

/* ---- verbs ---------------------------------------------------------------------------- */

static int list_ids(uint32_t **ids, size_t *n)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	uint32_t id, *all = NULL;
	size_t count = 0;
	int r;

	r = call("list domains", MANAGER_PATH, MANAGER_IFACE, "ListDomains", &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "(uso)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(uso)", &id, NULL, NULL)) > 0) {
		uint32_t *more = realloc(all, (count + 1) * sizeof(*all));

		if (!more) {
			r = -ENOMEM;
			break;
		}
		all = more;
		all[count++] = id;
	}
	if (r < 0) {
		free(all);
		return failed("parse the domain list", NULL, r);
	}
	*ids = all;
	*n = count;
	return 0;
}

static int verb_list(int argc, char **argv)
{
	_cleanup_(json_free) json_object *out = json_object_new_array();
	struct table t = { .cols = 6, .header = { "ID", "NAME", "STATE", "VCPUS", "MEMORY", "VIEWS" } };
	uint32_t *ids = NULL;
	size_t n = 0;
	int r;

	r = list_ids(&ids, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct domain_props p;
		char id[16], vcpus[16], mem[32], views[16];

		r = domain_props_get(ids[i], &p);
		if (r < 0)
			break;
		if (arg.json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id", json_object_new_int64(p.id));
			json_object_object_add(o, "name", json_object_new_string(p.name));
			json_object_object_add(o, "state", json_object_new_string(p.state));
			json_object_object_add(o, "paused", json_object_new_boolean(p.paused));
			json_object_object_add(o, "vcpus", json_object_new_int64(p.vcpus));
			json_object_object_add(o, "memory_bytes", json_object_new_int64((int64_t)p.memory));
			json_object_object_add(o, "max_views", json_object_new_int64(p.max_views));
			json_object_array_add(out, o);
		} else {
			snprintf(id, sizeof(id), "%" PRIu32, p.id);
			snprintf(vcpus, sizeof(vcpus), "%" PRIu32, p.vcpus);
			format_bytes(p.memory, mem, sizeof(mem));
			snprintf(views, sizeof(views), "%" PRIu32, p.max_views);
			r = table_add(&t, id, p.name, p.paused ? "paused" : p.state, vcpus, mem,
				      p.max_views ? views : "-");
		}
		domain_props_free(&p);
	}
	if (r >= 0) {
		if (arg.json)
			json_print(out);
		else
			table_print(&t);
		if (!arg.json && arg.legend)
			printf("\n%zu domain%s listed.\n", n, n == 1 ? "" : "s");
	}
	table_free(&t);
	free(ids);
	return r;
}

struct manager_props {
	char *version, *backend;
	uint32_t max_views, max_vcpus;
};

static const struct av_bus_prop manager_map[] = {
	AV_BUS_PROP("Version", STRING, struct manager_props, version),
	AV_BUS_PROP("Backend", STRING, struct manager_props, backend),
	AV_BUS_PROP("MaxViews", U32, struct manager_props, max_views),
	AV_BUS_PROP("MaxVcpus", U32, struct manager_props, max_vcpus),
	{ 0 }
};

static int status_daemon(void)
{
	_cleanup_(json_free) json_object *out = NULL;
	struct manager_props p = { 0 };
	uint32_t *ids = NULL;
	size_t n = 0;
	int r;

	r = get_all(MANAGER_PATH, MANAGER_IFACE, "the daemon's properties", manager_map, &p);
	if (r >= 0)
		r = list_ids(&ids, &n);
	if (r >= 0 && arg.json) {
		out = json_object_new_object();
		json_object_object_add(out, "version", json_object_new_string(p.version));
		json_object_object_add(out, "backend", json_object_new_string(p.backend));
		json_object_object_add(out, "max_views", json_object_new_int64(p.max_views));
		json_object_object_add(out, "max_vcpus", json_object_new_int64(p.max_vcpus));
		json_object_object_add(out, "domains", json_object_new_int64((int64_t)n));
		json_print(out);
	} else if (r >= 0) {
		printf("  Version: %s\n  Backend: %s\n   Limits: %" PRIu32 " views, %" PRIu32
		       " vCPUs per domain\n  Domains: %zu\n", p.version, p.backend, p.max_views,
		       p.max_vcpus, n);
	}
	av_bus_props_free(manager_map, &p);
	free(ids);
	return r;
}

static int verb_status(int argc, char **argv)
{
	_cleanup_(json_free) json_object *out = NULL;
	struct domain_props p;
	char mem[32];
	uint32_t id;
	int r;

	if (argc < 2)
		return status_daemon();
	if (parse_u32(argv[1], "domain id", &id) < 0)
		return -EINVAL;
	r = domain_props_get(id, &p);
	if (r < 0)
		return r;
	if (arg.json) {
		json_object *active = json_object_new_array(), *views = json_object_new_array();

		out = json_object_new_object();
		json_object_object_add(out, "id", json_object_new_int64(p.id));
		json_object_object_add(out, "name", json_object_new_string(p.name));
		json_object_object_add(out, "state", json_object_new_string(p.state));
		json_object_object_add(out, "crash_reason", json_object_new_string(p.crash_reason));
		json_object_object_add(out, "paused", json_object_new_boolean(p.paused));
		json_object_object_add(out, "vcpus", json_object_new_int64(p.vcpus));
		json_object_object_add(out, "memory_bytes", json_object_new_int64((int64_t)p.memory));
		json_object_object_add(out, "max_views", json_object_new_int64(p.max_views));
		for (size_t i = 0; i < p.active_views.n; i++)
			json_object_array_add(active, json_object_new_int64(p.active_views.v[i]));
		json_object_object_add(out, "active_views", active);
		for (char **v = p.views; v && *v; v++)
			json_object_array_add(views, json_object_new_string(*v));
		json_object_object_add(out, "views", views);
		json_print(out);
	} else {
		format_bytes(p.memory, mem, sizeof(mem));
		printf("%s (domain %" PRIu32 ")\n", p.name, p.id);
		printf("       State: %s%s%s%s\n", p.state, p.paused ? " (paused by altviewd)" : "",
		       p.crash_reason[0] ? ": " : "", p.crash_reason);
		printf("       vCPUs: %" PRIu32 "\n      Memory: %s\n", p.vcpus, mem);
		if (p.max_views) {
			printf("       Views:");
			for (char **v = p.views; v && *v; v++)
				printf(" %s", strrchr(*v, '/') + 1);
			printf(" (of %" PRIu32 ")\n", p.max_views);
		} else {
			printf("       Views: disabled\n");
		}
		printf(" ActiveViews:");
		for (size_t i = 0; i < p.active_views.n; i++)
			printf(" vcpu%zu=%" PRIu32, i, p.active_views.v[i]);
		printf("\n");
	}
	domain_props_free(&p);
	return 0;
}

/* A "uo" reply (the new object's number and path): the number, or JSON with @key. */
static int print_created(sd_bus_message *reply, const char *key)
{
	const char *path;
	uint32_t n;
	int r;

	r = sd_bus_message_read(reply, "uo", &n, &path);
	if (r < 0)
		return failed("parse the reply", NULL, r);
	if (arg.json)
		printf("{\"%s\":%" PRIu32 ",\"path\":\"%s\"}\n", key, n, path);
	else
		printf("%" PRIu32 "\n", n);
	return 0;
}

static int verb_create(int argc, char **argv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "re") : stdin;
	char *spec = NULL;
	size_t len = 0;
	int r;

	if (!f) {
		fprintf(stderr, "Failed to open %s: %m\n", argv[1]);
		return -errno;
	}
	r = getdelim(&spec, &len, 0, f) < 0 && ferror(f) ? -EIO : 0;
	if (f != stdin)
		fclose(f);
	if (r >= 0 && !spec) {
		fprintf(stderr, "Failed to read %s\n", argv[1]);
		r = -EIO;
	}
	if (r >= 0)
		r = call("create the domain", MANAGER_PATH, MANAGER_IFACE, "CreateDomain", &reply,
			 "s", spec);
	free(spec);
	return r < 0 ? r : print_created(reply, "id");
}

/* A verb on a domain: argv[1] is its id. */
static int domain_target(const char *id_arg, char *path, size_t size)
{
	uint32_t id;

	if (parse_u32(id_arg, "domain id", &id) < 0)
		return -EINVAL;
	domain_path(id, path, size);
	return 0;
}

static int verb_destroy(int argc, char **argv)
{
	uint32_t id;

	if (parse_u32(argv[1], "domain id", &id) < 0)
		return -EINVAL;
	return call("destroy the domain", MANAGER_PATH, MANAGER_IFACE, "DestroyDomain", NULL,
		    "u", id);
}

static int verb_pause(int argc, char **argv)
{
	bool pause = !strcmp(argv[0], "pause");
	char path[OBJECT_PATH_MAX];

	if (domain_target(argv[1], path, sizeof(path)) < 0)
		return -EINVAL;
	return call(pause ? "pause the domain" : "resume the domain", path, DOMAIN_IFACE,
		    pause ? "Pause" : "Unpause", NULL, NULL);
}

static int verb_enable_views(int argc, char **argv)
{
	uint32_t max = 0;
	char path[OBJECT_PATH_MAX];

	if (domain_target(argv[1], path, sizeof(path)) < 0 ||
	    (argc > 2 && parse_u32(argv[2], "view count", &max) < 0))
		return -EINVAL;
	return call("enable views", path, DOMAIN_IFACE, "EnableViews", NULL, "u", max);
}

static int verb_disable_views(int argc, char **argv)
{
	char path[OBJECT_PATH_MAX];

	if (domain_target(argv[1], path, sizeof(path)) < 0)
		return -EINVAL;
	return call("disable views", path, DOMAIN_IFACE, "DisableViews", NULL, NULL);
}

static int verb_create_view(int argc, char **argv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *access = argc > 2 ? argv[2] : "rwx";
	char path[OBJECT_PATH_MAX];
	int r;

	if (domain_target(argv[1], path, sizeof(path)) < 0)
		return -EINVAL;
	r = call("create a view", path, DOMAIN_IFACE, "CreateView", &reply, "s", access);
	return r < 0 ? r : print_created(reply, "view");
}

/* A verb on a view: argv[1] the domain, argv[2] the view. */
static int view_target(char **argv, char *path, size_t size)
{
	uint32_t id, view;

	if (parse_u32(argv[1], "domain id", &id) < 0 || parse_u32(argv[2], "view", &view) < 0)
		return -EINVAL;
	view_path(id, view, path, size);
	return 0;
}

struct view_props {
	uint32_t index, owner;
	int visible;
	char *default_access;
};

static const struct av_bus_prop view_map[] = {
	AV_BUS_PROP("Index", U32, struct view_props, index),
	AV_BUS_PROP("Owner", U32, struct view_props, owner),
	AV_BUS_PROP("Visible", BOOL, struct view_props, visible),
	AV_BUS_PROP("DefaultAccess", STRING, struct view_props, default_access),
	{ 0 }
};

static int verb_views(int argc, char **argv)
{
	_cleanup_(json_free) json_object *out = json_object_new_array();
	struct table t = { .cols = 5, .header = { "VIEW", "DEFAULT", "VISIBLE", "OWNER", "VCPUS" } };
	struct domain_props p;
	uint32_t id;
	int r;

	if (parse_u32(argv[1], "domain id", &id) < 0)
		return -EINVAL;
	r = domain_props_get(id, &p);
	if (r < 0)
		return r;
	for (char **v = p.views; r >= 0 && v && *v; v++) {
		struct view_props vp = { 0 };
		char sindex[16], sowner[16], vcpus[256] = "";
		size_t len = 0;

		r = get_all(*v, VIEW_IFACE, "the view's properties", view_map, &vp);
		if (r < 0) {
			av_bus_props_free(view_map, &vp);
			break;
		}
		json_object *in = json_object_new_array();

		for (size_t i = 0; i < p.active_views.n; i++) {
			if (p.active_views.v[i] != vp.index)
				continue;
			json_object_array_add(in, json_object_new_int64((int64_t)i));
			if (len < sizeof(vcpus) - 12)
				len += snprintf(vcpus + len, sizeof(vcpus) - len, "%s%zu",
						len ? "," : "", i);
		}
		if (arg.json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "view", json_object_new_int64(vp.index));
			json_object_object_add(o, "default_access",
					       json_object_new_string(vp.default_access));
			json_object_object_add(o, "visible", json_object_new_boolean(vp.visible));
			json_object_object_add(o, "owner", json_object_new_int64(vp.owner));
			json_object_object_add(o, "vcpus", json_object_get(in));
			json_object_array_add(out, o);
		} else {
			snprintf(sindex, sizeof(sindex), "%" PRIu32, vp.index);
			snprintf(sowner, sizeof(sowner), "%" PRIu32, vp.owner);
			r = table_add(&t, sindex, vp.default_access, vp.visible ? "yes" : "no",
				      sowner, len ? vcpus : "-");
		}
		json_object_put(in);
		av_bus_props_free(view_map, &vp);
	}
	if (r >= 0) {
		if (arg.json)
			json_print(out);
		else
			table_print(&t);
	}
	table_free(&t);
	domain_props_free(&p);
	return r;
}

static int verb_destroy_view(int argc, char **argv)
{
	char path[OBJECT_PATH_MAX];

	if (view_target(argv, path, sizeof(path)) < 0)
		return -EINVAL;
	return call("destroy the view", path, VIEW_IFACE, "Destroy", NULL, NULL);
}

static int verb_set_access(int argc, char **argv)
{
	uint64_t first, last;
	char path[OBJECT_PATH_MAX], *dash;

	if (view_target(argv, path, sizeof(path)) < 0)
		return -EINVAL;
	/* GFN or FIRST-LAST, inclusive. */
	dash = strchr(argv[3], '-');
	if (dash)
		*dash = 0;
	if (parse_u64(argv[3], "gfn", &first) < 0 ||
	    (dash && parse_u64(dash + 1, "last gfn", &last) < 0))
		return -EINVAL;
	if (!dash)
		last = first;
	if (last < first || last - first == UINT64_MAX) {
		fprintf(stderr, "Invalid gfn range: the last gfn comes before the first\n");
		return -EINVAL;
	}
	return call("set access", path, VIEW_IFACE, "SetAccess", NULL, "tts", first,
		    last - first + 1, argv[4]);
}

static int verb_get_access(int argc, char **argv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *access;
	char path[OBJECT_PATH_MAX];
	uint64_t gfn;
	int r;

	if (view_target(argv, path, sizeof(path)) < 0 || parse_u64(argv[3], "gfn", &gfn) < 0)
		return -EINVAL;
	r = call("get access", path, VIEW_IFACE, "GetAccess", &reply, "t", gfn);
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &access);
	if (r < 0)
		return r;
	if (arg.json)
		printf("{\"gfn\":%" PRIu64 ",\"access\":\"%s\"}\n", gfn, access);
	else
		printf("%s\n", access);
	return 0;
}

static int verb_set_visible(int argc, char **argv)
{
	char path[OBJECT_PATH_MAX];
	int visible;

	if (view_target(argv, path, sizeof(path)) < 0)
		return -EINVAL;
	if (!strcmp(argv[3], "yes") || !strcmp(argv[3], "true") || !strcmp(argv[3], "1")) {
		visible = 1;
	} else if (!strcmp(argv[3], "no") || !strcmp(argv[3], "false") || !strcmp(argv[3], "0")) {
		visible = 0;
	} else {
		fprintf(stderr, "Invalid visibility: \"%s\" (yes or no)\n", argv[3]);
		return -EINVAL;
	}
	return call("change visibility", path, VIEW_IFACE, "SetVisible", NULL, "b", visible);
}

static int verb_change_gfn(int argc, char **argv)
{
	uint64_t old_gfn, new_gfn = UINT64_MAX;
	char path[OBJECT_PATH_MAX];

	if (view_target(argv, path, sizeof(path)) < 0 || parse_u64(argv[3], "gfn", &old_gfn) < 0)
		return -EINVAL;
	/* "none" restores the host's frame. */
	if (strcmp(argv[4], "none") && parse_u64(argv[4], "new gfn", &new_gfn) < 0)
		return -EINVAL;
	return call("change the gfn", path, VIEW_IFACE, "ChangeGfn", NULL, "tt", old_gfn, new_gfn);
}

static int verb_switch(int argc, char **argv)
{
	char path[OBJECT_PATH_MAX];

	if (view_target(argv, path, sizeof(path)) < 0)
		return -EINVAL;
	if (arg.vcpu >= 0)
		return call("switch the vCPU", path, VIEW_IFACE, "SwitchVcpu", NULL, "u",
			    (uint32_t)arg.vcpu);
	return call("switch the domain", path, VIEW_IFACE, "Switch", NULL, NULL);
}

/* Hex and ASCII, 16 bytes a line, as hexdump -C prints them. */
/* ---- monitoring clients ------------------------------------------------------------- */

struct client_props {
	char *path, *sender, *delivery, *kinds;
	uint32_t owner;
	uint64_t events, dropped, expired, bad;
};

static const struct av_bus_prop client_map[] = {
	AV_BUS_PROP("Sender", STRING, struct client_props, sender),
	AV_BUS_PROP("Delivery", STRING, struct client_props, delivery),
	AV_BUS_PROP("Kinds", WORDS, struct client_props, kinds),
	AV_BUS_PROP("Owner", U32, struct client_props, owner),
	AV_BUS_PROP("Events", U64, struct client_props, events),
	AV_BUS_PROP("Dropped", U64, struct client_props, dropped),
	AV_BUS_PROP("Expired", U64, struct client_props, expired),
	AV_BUS_PROP("BadAnswers", U64, struct client_props, bad),
	{ 0 }
};

static void client_props_free(struct client_props *p)
{
	free(p->path);
	av_bus_props_free(client_map, p);
}

/* The domain's subscriptions and their counters, now; *@n of them. */
static int clients_get(uint32_t id, struct client_props **out, size_t *n)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct client_props *list = NULL;
	char path[OBJECT_PATH_MAX];
	const char *cpath;
	int r;

	*n = 0;
	domain_path(id, path, sizeof(path));
	r = call("read the domain's clients", path, "org.freedesktop.DBus.Properties", "Get", &reply,
		 "ss", DOMAIN_IFACE, "Clients");
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'v', "ao");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "o");
	while (r >= 0 && (r = sd_bus_message_read(reply, "o", &cpath)) > 0) {
		struct client_props *more = realloc(list, (*n + 1) * sizeof(*list));

		if (!more) {
			r = -ENOMEM;
			break;
		}
		list = more;
		list[*n] = (struct client_props){ .path = strdup(cpath) };
		/* Gone between the list and the read: left out. */
		if (get_all(cpath, CLIENT_IFACE, "the client's properties", client_map,
			    &list[*n]) < 0)
			client_props_free(&list[*n]);
		else
			(*n)++;
	}
	*out = list;
	return r < 0 ? failed("parse the clients", NULL, r) : 0;
}

static void clients_free(struct client_props *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		client_props_free(&list[i]);
	free(list);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int verb_clients(int argc, char **argv)
{
	struct table t = { .cols = 8, .header = { "CLIENT", "SENDER", "UID", "DELIVERY", "KINDS",
						   "EVENTS", "DROPPED", "EXPIRED" } };
	_cleanup_(json_free) json_object *out = json_object_new_array();
	struct client_props *list;
	uint32_t id;
	size_t n;
	int r;

	if (parse_u32(argv[1], "domain id", &id) < 0)
		return -EINVAL;
	r = clients_get(id, &list, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct client_props *c = &list[i];
		char uid[16], ev[24], dr[24], ex[24];

		if (arg.json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "client", json_object_new_string(c->path));
			json_object_object_add(o, "sender", json_object_new_string(c->sender));
			json_object_object_add(o, "uid", json_object_new_int64(c->owner));
			json_object_object_add(o, "delivery", json_object_new_string(c->delivery));
			json_object_object_add(o, "kinds", json_object_new_string(c->kinds));
			json_object_object_add(o, "events", json_object_new_uint64(c->events));
			json_object_object_add(o, "dropped", json_object_new_uint64(c->dropped));
			json_object_object_add(o, "expired", json_object_new_uint64(c->expired));
			json_object_object_add(o, "bad_answers", json_object_new_uint64(c->bad));
			json_object_array_add(out, o);
			continue;
		}
		snprintf(uid, sizeof(uid), "%" PRIu32, c->owner);
		snprintf(ev, sizeof(ev), "%" PRIu64, c->events);
		snprintf(dr, sizeof(dr), "%" PRIu64, c->dropped);
		snprintf(ex, sizeof(ex), "%" PRIu64, c->expired);
		r = table_add(&t, basename_of(c->path), c->sender, uid, c->delivery,
			      c->kinds[0] ? c->kinds : "-", ev, dr, ex);
	}
	if (r >= 0) {
		if (arg.json)
			json_print(out);
		else
			table_print(&t);
	}
	table_free(&t);
	clients_free(list, n);
	return r;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every interval, each client's event rate since the one before: a live report. */
static int verb_top(int argc, char **argv)
{
	struct client_props *prev = NULL;
	size_t nprev = 0;
	double then = now_seconds();
	uint32_t id;
	int r = 0;

	if (parse_u32(argv[1], "domain id", &id) < 0)
		return -EINVAL;
	for (uint64_t round = 0; !arg.iterations || round <= arg.iterations; round++) {
		struct client_props *cur;
		double now = now_seconds();
		size_t n;

		r = clients_get(id, &cur, &n);
		if (r < 0)
			break;
		if (round) {
			printf("%s%-8s %-10s %-12s %-30s %10s %10s %8s %8s\n", round > 1 ? "\n" : "",
			       "CLIENT", "SENDER", "DELIVERY", "KINDS", "EVENTS/S", "EVENTS",
			       "DROPPED", "EXPIRED");
			for (size_t i = 0; i < n; i++) {
				uint64_t before = 0;

				for (size_t j = 0; j < nprev; j++)
					if (!strcmp(prev[j].path, cur[i].path))
						before = prev[j].events;
				printf("%-8s %-10s %-12s %-30s %10.0f %10" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
				       basename_of(cur[i].path), cur[i].sender, cur[i].delivery,
				       cur[i].kinds[0] ? cur[i].kinds : "-",
				       (double)(cur[i].events - before) / (now - then), cur[i].events,
				       cur[i].dropped, cur[i].expired);
			}
			if (!n)
				printf("(no clients)\n");
			fflush(stdout);
		}
		clients_free(prev, nprev);
		prev = cur;
		nprev = n;
		then = now;
		if (arg.iterations && round == arg.iterations)
			break;
		usleep((useconds_t)(arg.interval * 1e6));
	}
	clients_free(prev, nprev);
	return r;
}

static void hexdump(uint64_t address, const uint8_t *data, size_t len)
{
	for (size_t off = 0; off < len; off += 16) {
		printf("%016" PRIx64 " ", address + off);
		for (size_t i = 0; i < 16; i++) {
			if (off + i < len)
				printf("%s%02x", i == 8 ? "  " : " ", data[off + i]);
			else
				printf("%s   ", i == 8 ? "  " : "");
		}
		printf("  |");
		for (size_t i = 0; i < 16 && off + i < len; i++)
			putchar(data[off + i] >= 0x20 && data[off + i] < 0x7f ? data[off + i] : '.');
		printf("|\n");
	}
}

/*
 * Root's fast path: the pages mapped from the memory file MapMemory hands
 * out, copied, unmapped.  1 when the daemon will not map for this caller
 * (not root to it, a backend without a memory file): ReadMemory then.
 */
static int read_mapped(const char *path, uint64_t address, uint32_t size, uint8_t *out)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	uint64_t gfn = address >> 12, pages, id = 0;
	void *map;
	int r;

	if (geteuid() != 0 || size == 0 || address + size < address)
		return 1;
	pages = ((address + size - 1) >> 12) - gfn + 1;
	r = sd_bus_call_method(bus, BUS_NAME, path, DOMAIN_IFACE, "MapMemory", &error, &reply,
			       "ttb", gfn, pages, 0);
	if (r < 0 && sd_bus_error_has_names(&error, AV_BUS_ERROR_PERMISSION_DENIED,
					    AV_BUS_ERROR_NOT_SUPPORTED, SD_BUS_ERROR_UNKNOWN_METHOD))
		return 1;
	if (r < 0)
		return failed("map memory", &error, r);
	r = av_bus_map_reply(reply, gfn, pages, false, &map, &id, NULL);
	if (r >= 0) {
		memcpy(out, (uint8_t *)map + (address & 0xfff), size);
		munmap(map, pages << 12);
	}
	if (id)
		call("unmap memory", MANAGER_PATH, MANAGER_IFACE, "UnmapMemory", NULL, "t", id);
	return r < 0 ? failed("map memory", NULL, r) : 0;
}

static int verb_read(int argc, char **argv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(freep) uint8_t *mapped = NULL;
	const void *data;
	uint64_t address;
	uint32_t size;
	char path[OBJECT_PATH_MAX];
	size_t len = 0;
	int r = 1;

	if (domain_target(argv[1], path, sizeof(path)) < 0 ||
	    parse_u64(argv[2], "address", &address) < 0 || parse_u32(argv[3], "size", &size) < 0)
		return -EINVAL;
	if (geteuid() == 0 && size && (mapped = malloc(size)))
		r = read_mapped(path, address, size, mapped);
	if (r < 0)
		return r;
	if (r == 0) {
		data = mapped;
		len = size;
	} else {
		r = call("read memory", path, DOMAIN_IFACE, "ReadMemory", &reply, "tu", address, size);
		if (r >= 0)
			r = sd_bus_message_read_array(reply, 'y', &data, &len);
		if (r < 0)
			return r;
	}
	if (arg.json) {
		_cleanup_(json_free) json_object *out = json_object_new_object();
		char *hex = malloc(len * 2 + 1);

		if (!hex)
			return -ENOMEM;
		for (size_t i = 0; i < len; i++)
			sprintf(hex + 2 * i, "%02x", ((const uint8_t *)data)[i]);
		hex[len * 2] = 0;
		json_object_object_add(out, "address", json_object_new_int64((int64_t)address));
		json_object_object_add(out, "hex", json_object_new_string(hex));
		free(hex);
		json_print(out);
	} else {
		hexdump(address, data, len);
	}
	return 0;
}

/* Bytes given in hexadecimal, written to guest memory. */
static int verb_write(int argc, char **argv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	char path[OBJECT_PATH_MAX];
	const char *hex = argv[3];
	size_t len = strlen(hex) / 2;
	uint64_t address;
	uint8_t *data;
	int r;

	if (domain_target(argv[1], path, sizeof(path)) < 0 ||
	    parse_u64(argv[2], "address", &address) < 0)
		return -EINVAL;
	if (!len || strlen(hex) % 2 || strspn(hex, "0123456789abcdefABCDEF") != strlen(hex)) {
		fprintf(stderr, "Invalid bytes \"%s\": an even number of hexadecimal digits\n", hex);
		return -EINVAL;
	}
	data = malloc(len);
	if (!data)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		sscanf(hex + 2 * i, "%2hhx", &data[i]);
	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, path, DOMAIN_IFACE, "WriteMemory");
	if (r >= 0)
		r = sd_bus_message_append(m, "t", address);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', data, len);
	free(data);
	if (r < 0)
		return failed("write memory", NULL, r);
	r = sd_bus_call(bus, m, 0, &error, NULL);
	return r < 0 ? failed("write memory", &error, r) : 0;
}

/* A vCPU's registers, while the domain is paused or held (altviewd(8)). */
static int verb_regs(int argc, char **argv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(json_free) json_object *out = arg.json ? json_object_new_object() : NULL;
	char path[OBJECT_PATH_MAX];
	const char *name;
	uint64_t value;
	uint32_t vcpu;
	int r;

	if (domain_target(argv[1], path, sizeof(path)) < 0 || parse_u32(argv[2], "vcpu", &vcpu) < 0)
		return -EINVAL;
	r = call("read the registers", path, DOMAIN_IFACE, "GetRegisters", &reply, "u", vcpu);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "{st}");
	while (r >= 0 && (r = sd_bus_message_read(reply, "{st}", &name, &value)) > 0) {
		if (out)
			json_object_object_add(out, name, json_object_new_uint64(value));
		else
			printf("%-12s 0x%016" PRIx64 "\n", name, value);
	}
	if (r < 0)
		return failed("parse the registers", NULL, r);
	if (out)
		json_print(out);
	return 0;
}

static const struct verb {
	const char *name;
	int min_args, max_args;     /* after the verb */
	int (*run)(int argc, char **argv);
} verbs[] = {
	{ "list", 0, 0, verb_list },
	{ "status", 0, 1, verb_status },
	{ "create", 1, 1, verb_create },
	{ "destroy", 1, 1, verb_destroy },
	{ "pause", 1, 1, verb_pause },
	{ "resume", 1, 1, verb_pause },
	{ "enable-views", 1, 2, verb_enable_views },
	{ "disable-views", 1, 1, verb_disable_views },
	{ "views", 1, 1, verb_views },
	{ "create-view", 1, 2, verb_create_view },
	{ "destroy-view", 2, 2, verb_destroy_view },
	{ "set-access", 4, 4, verb_set_access },
	{ "get-access", 3, 3, verb_get_access },
	{ "set-visible", 3, 3, verb_set_visible },
	{ "change-gfn", 4, 4, verb_change_gfn },
	{ "switch", 2, 2, verb_switch },
	{ "read", 3, 3, verb_read },
	{ "regs", 2, 2, verb_regs },
	{ "write", 3, 3, verb_write },
	{ "clients", 1, 1, verb_clients },
	{ "top", 1, 1, verb_top },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: altviewctl [OPTIONS] COMMAND ...\n"
		"Control altviewd: guests, alternate views and page access.\n\n"
		"Commands:\n"
		"  list                                 the domains\n"
		"  status [ID]                          the daemon, or one domain\n"
		"  create FILE|-                        a domain from a JSON spec (paused)\n"
		"  destroy ID                           destroy a domain\n"
		"  pause ID | resume ID                 pause, or resume, a domain\n"
		"  enable-views ID [MAX] | disable-views ID\n"
		"  views ID                             the domain's views\n"
		"  create-view ID [ACCESS]              a new view (default access rwx)\n"
		"  destroy-view ID VIEW\n"
		"  set-access ID VIEW GFN[-LAST] ACCESS n r w rw x rx wx rwx rx2rw n2rwx default\n"
		"  get-access ID VIEW GFN\n"
		"  set-visible ID VIEW yes|no\n"
		"  change-gfn ID VIEW GFN NEW-GFN|none  back GFN with another frame in VIEW\n"
		"  switch ID VIEW [--vcpu=N]            move the vCPUs (or one) to VIEW\n"
		"  read ID ADDRESS SIZE                 guest memory, as a hex dump\n"
		"  regs ID VCPU                         a vCPU's registers (domain paused or held)\n"
		"  write ID ADDRESS HEX                 write bytes (hex digits) to guest memory\n"
		"  clients ID                           the domain's monitoring clients\n"
		"  top ID [--interval=S] [--iterations=N]  their event rates, live\n\n"
		"Options:\n"
		"      --system         the system bus (default)\n"
		"      --user           the user's session bus\n"
		"  -A, --address=ADDR   the bus at this D-Bus address\n"
		"      --json           JSON output\n"
		"      --no-legend      no column headers or footer\n"
		"      --vcpu=N         switch: only vCPU N\n"
		"      --interval=S     top: seconds between reports (default 1)\n"
		"      --iterations=N   top: stop after N reports\n"
		"  -h, --help           this text\n"
		"      --version        the version\n");
}

static int parse_args(int argc, char **argv)
{
	enum { OPT_SYSTEM = 0x100, OPT_USER, OPT_JSON, OPT_NO_LEGEND, OPT_VCPU, OPT_VERSION,
	       OPT_INTERVAL, OPT_ITERATIONS };
	static const struct option longopts[] = {
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "user", no_argument, NULL, OPT_USER },
		{ "address", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-legend", no_argument, NULL, OPT_NO_LEGEND },
		{ "vcpu", required_argument, NULL, OPT_VCPU },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "iterations", required_argument, NULL, OPT_ITERATIONS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	uint32_t vcpu;
	int c;

	/* getopt permutes: options may follow the verb (switch 1 2 --vcpu=0). */
	while ((c = getopt_long(argc, argv, "A:h", longopts, NULL)) >= 0) {
		switch (c) {
		case OPT_SYSTEM: arg.user = false; arg.address = NULL; break;
		case OPT_USER: arg.user = true; arg.address = NULL; break;
		case 'A': arg.address = optarg; arg.user = false; break;
		case OPT_JSON: arg.json = true; break;
		case OPT_NO_LEGEND: arg.legend = false; break;
		case OPT_VCPU:
			if (parse_u32(optarg, "vCPU", &vcpu) < 0)
				return -EINVAL;
			arg.vcpu = vcpu;
			break;
		case OPT_INTERVAL: {
			char *end;

			arg.interval = strtod(optarg, &end);
			if (*end || !(arg.interval >= 0.01 && arg.interval <= 3600)) {
				fprintf(stderr, "--interval: \"%s\" is not 0.01 to 3600 seconds\n", optarg);
				return -EINVAL;
			}
			break;
		}
		case OPT_ITERATIONS:
			if (parse_u64(optarg, "--iterations", &arg.iterations) < 0)
				return -EINVAL;
			break;
		case 'h': usage(stdout); exit(EXIT_SUCCESS);
		case OPT_VERSION: printf("altviewctl %s\n", ALTVIEW_VERSION); exit(EXIT_SUCCESS);
		default: return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct verb *verb = NULL;
	int nargs, r;

	if (parse_args(argc, argv) < 0)
		return EXIT_FAILURE;
	argv += optind;
	argc -= optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && !verb; i++)
		if (!strcmp(argv[0], verbs[i].name) || (!strcmp(argv[0], "unpause") &&
							!strcmp(verbs[i].name, "resume")))
			verb = &verbs[i];
	if (!verb) {
		fprintf(stderr, "Unknown command \"%s\" (altviewctl --help lists them)\n", argv[0]);
		return EXIT_FAILURE;
	}
	nargs = argc - 1;
	if (nargs < verb->min_args || nargs > verb->max_args) {
		if (verb->min_args == verb->max_args)
			fprintf(stderr, "\"%s\" takes %d argument%s (altviewctl --help)\n",
				verb->name, verb->min_args, verb->min_args == 1 ? "" : "s");
		else
			fprintf(stderr, "\"%s\" takes %d to %d arguments (altviewctl --help)\n",
				verb->name, verb->min_args, verb->max_args);
		return EXIT_FAILURE;
	}
	av_bus_error_register();
	r = av_bus_connect(arg.address, arg.user, &bus);
	if (r < 0) {
		fprintf(stderr, "Failed to connect to the %s bus: %s\n",
			arg.address ? arg.address : arg.user ? "user" : "system", strerror(-r));
		return EXIT_FAILURE;
	}
	r = verb->run(argc, argv);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
