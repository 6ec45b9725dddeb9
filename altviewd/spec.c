/* SPDX-License-Identifier: MIT */
/*
 * spec.c — a domain spec as a caller (or the configuration) hands it to
 * altviewd, made safe to boot with the daemon's privileges.
 *
 * The text is bounded before it is parsed, and parsed once: the daemon
 * checks the object it parsed and hands libaltview that same object, as
 * text it wrote itself, so the two can never read different specs from
 * one string.  Limits apply to what a member means, whatever the spelling
 * ("memory_mib" or "memory_bytes").  Names must survive every place they
 * go: D-Bus strings (valid UTF-8), logs (no control characters) and
 * libaltview's 63 bytes, refused rather than cut.
 *
 * A program the x86 engine loads is read with root's privileges, so it
 * is a name in the administrator's program_dir, opened here with openat()
 * and O_NOFOLLOW (no path, no symbolic link out), O_NONBLOCK (a FIFO
 * cannot stall the bus thread), and kept only if it is a regular file
 * of bounded size.  libaltview reads it back through /proc/self/fd: the
 * very file checked here, which nobody can swap in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-error.h"
#include "daemon.h"
#include "utf8.h"

/* libaltview's name buffer, less its terminator. */
#define NAME_MAX_BYTES 63
/* What the x86 engine accepts as an image. */
#define PROGRAM_MAX_BYTES (64u << 20)

static int member_error(sd_bus_error *error, int r, const char *member, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int member_error(sd_bus_error *error, int r, const char *member, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return av_bus_error_set(error, r, "domain spec: \"%s\": %s", member, why);
}

static int check_name(json_object *v, sd_bus_error *error)
{
	const char *name;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return 0;   /* libaltview names the type error */
	name = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > NAME_MAX_BYTES)
		return member_error(error, -EINVAL, "name", "%zu bytes, at most %d", len,
				    NAME_MAX_BYTES);
	/* A NUL inside ends the valid prefix too. */
	if (utf8_valid_prefix(name, len) != len)
		return member_error(error, -EINVAL, "name", "not valid UTF-8 text");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return member_error(error, -EINVAL, "name", "control characters are not "
					    "allowed");
	return 0;
}

/* An integer member as libaltview will read it; false for anything it will refuse. */
static bool member_uint(json_object *root, const char *key, uint64_t *out)
{
	json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	x = json_object_get_int64(v);
	if (x < 0 || json_object_get_uint64(v) != (uint64_t)x)
		return false;
	*out = (uint64_t)x;
	return true;
}

static int check_limits(const struct config_limits *l, json_object *root, sd_bus_error *error)
{
	uint64_t v, max_bytes = l->max_memory_mib << 20;

	if (member_uint(root, "vcpus", &v) && v > l->max_vcpus)
		return member_error(error, -ENOSPC, "vcpus", "%" PRIu64 " exceeds the limit of %"
				    PRIu32 " (limits.max_vcpus)", v, l->max_vcpus);
	if (member_uint(root, "memory_mib", &v) && v > l->max_memory_mib)
		return member_error(error, -ENOSPC, "memory_mib", "%" PRIu64 " MiB exceeds the "
				    "limit of %" PRIu64 " MiB (limits.max_memory_mib)", v,
				    l->max_memory_mib);
	if (member_uint(root, "memory_bytes", &v) && v > max_bytes)
		return member_error(error, -ENOSPC, "memory_bytes", "%" PRIu64 " bytes exceeds the "
				    "limit of %" PRIu64 " MiB (limits.max_memory_mib)", v,
				    l->max_memory_mib);
	return 0;
}

/* The string naming the program in "program": "NAME" or {"elf": "NAME", ...}. */
static json_object *program_name(json_object *root, json_object **holder, const char **key)
{
	json_object *prog, *elf;

	if (!json_object_object_get_ex(root, "program", &prog))
		return NULL;
	if (json_object_is_type(prog, json_type_string)) {
		*holder = root;
		*key = "program";
		return prog;
	}
	if (json_object_is_type(prog, json_type_object) &&
	    json_object_object_get_ex(prog, "elf", &elf) &&
	    json_object_is_type(elf, json_type_string)) {
		*holder = prog;
		*key = "elf";
		return elf;
	}
	return NULL;
}

static int open_program(const char *dir, const char *name, int *out, sd_bus_error *error)
{
	int dirfd, fd, r;
	struct stat st;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return member_error(error, -EINVAL, "program", "\"%s\" is not a file name: a "
				    "program is a name in %s (program_dir)", name, dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		return member_error(error, r == -ENOENT ? -ENOENT : -EIO, "program",
				    "program_dir %s: %s", dir, strerror(-r));
	}
	/* Anyone could put anything there, /etc/shadow by a hard link included. */
	if (fstat(dirfd, &st) < 0 || (st.st_mode & S_IWOTH)) {
		close(dirfd);
		return member_error(error, -EACCES, "program", "program_dir %s is writable by "
				    "everyone: refusing to load programs from it", dir);
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	r = -errno;
	close(dirfd);
	if (fd < 0)
		return member_error(error, r == -ENOENT ? -ENOENT : -EINVAL, "program", "%s in %s: %s",
				    name, dir, r == -ELOOP ? "a symbolic link" : strerror(-r));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PROGRAM_MAX_BYTES) {
		close(fd);
		return member_error(error, -EINVAL, "program", "%s in %s: not a regular file of at "
				    "most %u bytes", name, dir, PROGRAM_MAX_BYTES);
	}
	*out = fd;
	return 0;
}

/* The x86 engine's program, resolved in program_dir and pinned by a descriptor. */
static int resolve_program(const struct config *cfg, json_object *root, int *fd,
			   sd_bus_error *error)
{
	json_object *engine, *holder, *name;
	char path[64];
	const char *key;
	int r;

	if (!json_object_object_get_ex(root, "engine", &engine) ||
	    !json_object_is_type(engine, json_type_string) ||
	    strcmp(json_object_get_string(engine), "x86"))
		return 0;
	name = program_name(root, &holder, &key);
	if (!name)
		return 0;   /* libaltview explains what an x86 program must be */
	r = open_program(cfg->program_dir, json_object_get_string(name), fd, error);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", *fd);
	return json_object_object_add(holder, key, json_object_new_string(path)) < 0 ? -ENOMEM : 0;
}

int spec_prepare(const struct config *cfg, const char *text, struct prepared_spec *out,
		 sd_bus_error *error)
{
	json_tokener *tok;
	json_object *root, *name;
	size_t len = strnlen(text, SPEC_MAX_BYTES + 1), end;
	bool trailing;
	int r;

	*out = (struct prepared_spec){ .program_fd = -1 };
	if (len > SPEC_MAX_BYTES)
		return av_bus_error_set(error, -E2BIG, "domain spec: longer than %u bytes",
					SPEC_MAX_BYTES);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_parse_whole(tok, text, len, &end, &trailing);
	json_tokener_free(tok);
	/* Not one JSON object alone: libaltview says where and why, from the text itself. */
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		out->json = strdup(text);
		return out->json ? 0 : -ENOMEM;
	}
	r = 0;
	if (json_object_object_get_ex(root, "name", &name))
		r = check_name(name, error);
	if (r >= 0)
		r = check_limits(&cfg->limits, root, error);
	if (r >= 0)
		r = resolve_program(cfg, root, &out->program_fd, error);
	if (r >= 0) {
		out->json = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
		r = out->json ? 0 : -ENOMEM;
	}
	json_object_put(root);
	if (r < 0)
		spec_release(out);
	return r;
}

void spec_release(struct prepared_spec *s)
{
	free(s->json);
	if (s->program_fd >= 0)
		close(s->program_fd);
	*s = (struct prepared_spec){ .program_fd = -1 };
}
