/* SPDX-License-Identifier: MIT */
/*
 * bus-connect.c — an address given on the command line is a bus like the
 * system one (Hello, a unique name), not a peer-to-peer connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "bus-connect.h"
#include "frame-map.h"
#include "names.h"
#include "utf8.h"

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

static void strv_free(char ***v)
{
	for (char **s = *v; s && *s; s++)
		free(*s);
	free(*v);
	*v = NULL;
}

/* "as" as one comma-separated string, as a table cell shows it. */
static int read_words(sd_bus_message *m, char **out)
{
	char **words = NULL, *joined;
	size_t len = 1;
	int r;

	r = sd_bus_message_read_strv(m, &words);
	if (r < 0)
		return r;
	for (char **w = words; *w; w++)
		len += strlen(*w) + 1;
	joined = calloc(1, len);
	for (char **w = words; joined && *w; w++) {
		if (w != words)
			strcat(joined, ",");
		strcat(joined, *w);
	}
	strv_free(&words);
	if (!joined)
		return -ENOMEM;
	free(*out);
	*out = joined;
	return 0;
}

static int read_u32s(sd_bus_message *m, struct av_bus_u32s *out)
{
	const void *data;
	size_t size;
	int r = sd_bus_message_read_array(m, 'u', &data, &size);

	if (r < 0)
		return r;
	free(out->v);
	out->v = malloc(size ? size : 1);
	if (!out->v)
		return -ENOMEM;
	memcpy(out->v, data, size);
	out->n = size / sizeof(uint32_t);
	return 0;
}

static int read_prop(sd_bus_message *m, const struct av_bus_prop *p, void *field)
{
	static const char *const sigs[] = {
		[AV_BUS_PROP_U32] = "u", [AV_BUS_PROP_U64] = "t", [AV_BUS_PROP_BOOL] = "b",
		[AV_BUS_PROP_STRING] = "s", [AV_BUS_PROP_STRBUF] = "s", [AV_BUS_PROP_U32S] = "au",
		[AV_BUS_PROP_PATHS] = "ao", [AV_BUS_PROP_WORDS] = "as",
	};
	const char *s;
	int r = sd_bus_message_enter_container(m, 'v', sigs[p->type]);

	if (r < 0)
		return r;
	switch (p->type) {
	case AV_BUS_PROP_U32: case AV_BUS_PROP_U64: case AV_BUS_PROP_BOOL:
		r = sd_bus_message_read_basic(m, sigs[p->type][0], field);
		break;
	case AV_BUS_PROP_STRING:
		r = sd_bus_message_read_basic(m, 's', &s);
		if (r >= 0) {
			free(*(char **)field);
			*(char **)field = strdup(s);
			r = *(char **)field ? 0 : -ENOMEM;
		}
		break;
	case AV_BUS_PROP_STRBUF:
		r = sd_bus_message_read_basic(m, 's', &s);
		if (r >= 0)
			utf8_copy(field, p->size, s);
		break;
	case AV_BUS_PROP_U32S: r = read_u32s(m, field); break;
	case AV_BUS_PROP_PATHS:
		strv_free(field);
		r = sd_bus_message_read_strv(m, field);
		break;
	case AV_BUS_PROP_WORDS: r = read_words(m, field); break;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

int av_bus_map_properties(sd_bus_message *reply, const struct av_bus_prop *map, void *obj)
{
	const char *name;
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const struct av_bus_prop *p = map;

		r = sd_bus_message_read(reply, "s", &name);
		while (r >= 0 && p->name && strcmp(p->name, name))
			p++;
		if (r >= 0)
			r = p->name ? read_prop(reply, p, (char *)obj + p->offset)
				    : sd_bus_message_skip(reply, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	return r < 0 ? r : sd_bus_message_exit_container(reply);
}

void av_bus_props_free(const struct av_bus_prop *map, void *obj)
{
	for (const struct av_bus_prop *p = map; p->name; p++) {
		void *field = (char *)obj + p->offset;

		switch (p->type) {
		case AV_BUS_PROP_STRING: case AV_BUS_PROP_WORDS:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		case AV_BUS_PROP_U32S:
			free(((struct av_bus_u32s *)field)->v);
			*(struct av_bus_u32s *)field = (struct av_bus_u32s){ 0 };
			break;
		case AV_BUS_PROP_PATHS:
			strv_free(field);
			break;
		default:
			break;
		}
	}
}

int av_bus_append_regs(sd_bus_message *m, const struct av_regs_x86 *regs)
{
	int r = sd_bus_message_open_container(m, 'a', "{st}");

	for (const struct reg_name *rn = reg_names; r >= 0 && rn->name; rn++)
		r = sd_bus_message_append(m, "{st}", rn->name, reg_get(regs, rn));
	return r < 0 ? r : sd_bus_message_close_container(m);
}

int av_bus_map_reply(sd_bus_message *reply, uint64_t gfn, uint64_t pages, bool write,
		     void **addr, uint64_t *id, struct av_bus_mapped *keep)
{
	struct frame_run *runs = NULL;
	size_t n = 0, cap = 0;
	uint64_t offset, nr;
	int fd, r;

	r = sd_bus_message_read(reply, "h", &fd);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(tt)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(tt)", &offset, &nr)) > 0) {
		if (n == pages) {
			r = -EPROTO;
			break;
		}
		if (n == cap) {
			size_t c = cap ? 2 * cap : 16;
			struct frame_run *more = realloc(runs, c * sizeof(*runs));

			if (!more) {
				r = -ENOMEM;
				break;
			}
			runs = more;
			cap = c;
		}
		runs[n++] = (struct frame_run){ .offset = offset, .pages = nr };
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "t", id);
	if (r >= 0)
		r = frame_map(fd, runs, n, gfn, pages, write, addr);
	if (r >= 0 && keep) {
		keep->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (keep->fd < 0) {
			r = -errno;
			munmap(*addr, pages << 12);
		} else {
			keep->runs = runs;
			keep->nr_runs = n;
			runs = NULL;
		}
	}
	free(runs);
	return r;
}
