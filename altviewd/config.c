/* SPDX-License-Identifier: MIT */
/*
 * config.c — the daemon's JSON configuration.  Every key is known: an
 * unknown one is a typo the administrator wants to hear about, not
 * something to ignore.  Domain specs are checked here only for what the
 * daemon itself needs (a unique name); libaltview checks the rest when it
 * boots them and names the member it rejects.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "limits.h"

#define CONFIG_MAX_BYTES (1u << 20)

struct parse {
	char *err;
	size_t errsz;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parse *p, const char *key, const char *fmt, ...)
{
	size_t n = snprintf(p->err, p->errsz, "%s: ", key);
	va_list ap;

	if (n < p->errsz) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errsz - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int get_uint(struct parse *p, const char *key, json_object *v, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return fail(p, key, "expected an integer from %" PRIu64 " to %" PRIu64, min, max);
	x = json_object_get_int64(v);
	/* json-c clamps what does not fit in int64: the uint64 reading then differs. */
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max || json_object_get_uint64(v) != (uint64_t)x)
		return fail(p, key, "%s is out of range %" PRIu64 "..%" PRIu64,
			    json_object_get_string(v), min, max);
	*out = (uint64_t)x;
	return 0;
}

static int get_string(struct parse *p, const char *key, json_object *v, char **out)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return fail(p, key, "expected a string");
	s = json_object_get_string(v);
	if (!*s)
		return fail(p, key, "must not be empty");
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static const struct limit_key {
	const char *name;
	const char *old_name;       /* a spelling still accepted, with a warning */
	size_t offset;
	size_t size;
	uint64_t min, max, def;
} limit_keys[] = {
#define LIMIT(NAME, OLD, FIELD, MIN, MAX, DEF)                                          \
	{ NAME, OLD, offsetof(struct config_limits, FIELD),                             \
	  sizeof(((struct config_limits *)0)->FIELD), MIN, MAX, DEF }
	LIMIT("max_domains", NULL, max_domains, 1, 4096, 64),
	LIMIT("max_vcpus", NULL, max_vcpus, 1, ALTVIEW_MAX_VCPUS, ALTVIEW_MAX_VCPUS),
	LIMIT("max_memory_mib", NULL, max_memory_mib, 1, 1u << 20, 4096),
	LIMIT("max_views", NULL, max_views, 2, ALTVIEW_MAX_VIEWS, ALTVIEW_MAX_VIEWS),
	LIMIT("max_read_bytes", NULL, max_read_bytes, 1, 16u << 20, 1u << 20),
	/* It counts subscriptions, not clients (a client may hold several). */
	LIMIT("max_subscriptions", "max_clients", max_subscriptions, 1, CONFIG_MAX_SUBSCRIPTIONS,
	      64),
#undef LIMIT
};

static void limit_store(struct config_limits *l, const struct limit_key *k, uint64_t v)
{
	void *field = (char *)l + k->offset;

	if (k->size == sizeof(uint32_t))
		*(uint32_t *)field = (uint32_t)v;
	else
		*(uint64_t *)field = v;
}

static int parse_limits(struct parse *p, json_object *obj, struct config *cfg)
{
	struct config_limits *l = &cfg->limits;
	char key[64];
	uint64_t v;
	size_t i;
	int r;

	if (!json_object_is_type(obj, json_type_object))
		return fail(p, "limits", "expected an object");
	json_object_object_foreach(obj, name, val) {
		for (i = 0; i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++)
			if (!strcmp(name, limit_keys[i].name) ||
			    (limit_keys[i].old_name && !strcmp(name, limit_keys[i].old_name)))
				break;
		snprintf(key, sizeof(key), "limits.%s", name);
		if (i == sizeof(limit_keys) / sizeof(limit_keys[0]))
			return fail(p, key, "unknown key");
		if (strcmp(name, limit_keys[i].name))
			snprintf(cfg->deprecated, sizeof(cfg->deprecated), "%s is deprecated: it is "
				 "called limits.%s now", key, limit_keys[i].name);
		r = get_uint(p, key, val, limit_keys[i].min, limit_keys[i].max, &v);
		if (r < 0)
			return r;
		limit_store(l, &limit_keys[i], v);
	}
	return 0;
}

static int parse_monitor(struct parse *p, json_object *obj, struct config_monitor *m)
{
	enum default_answer def;
	uint64_t v;
	int r = 0;

	if (!json_object_is_type(obj, json_type_object))
		return fail(p, "monitor", "expected an object");
	json_object_object_foreach(obj, name, val) {
		if (!strcmp(name, "response_timeout_ms")) {
			r = get_uint(p, "monitor.response_timeout_ms", val, 1, 600000, &v);
			m->response_timeout_ms = (uint32_t)v;
		} else if (!strcmp(name, "default_answer")) {
			if (!json_object_is_type(val, json_type_string) ||
			    default_answer_from_name(json_object_get_string(val), &def) < 0)
				return fail(p, "monitor.default_answer",
					    "expected \"allow\", \"emulate\" or \"deny\"");
			m->default_answer = (int)def;
		} else {
			char key[64];

			snprintf(key, sizeof(key), "monitor.%s", name);
			return fail(p, key, "unknown key");
		}
		if (r < 0)
			return r;
	}
	return 0;
}

const char *config_domain_name(json_object *spec)
{
	json_object *name;

	if (!json_object_object_get_ex(spec, "name", &name) ||
	    !json_object_is_type(name, json_type_string))
		return NULL;
	return json_object_get_string(name);
}

json_object *config_find_domain(const struct config *cfg, const char *name)
{
	size_t n = cfg->domains ? json_object_array_length(cfg->domains) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *spec = json_object_array_get_idx(cfg->domains, i);

		if (!strcmp(config_domain_name(spec), name))
			return spec;
	}
	return NULL;
}

static int parse_domains(struct parse *p, json_object *arr)
{
	char key[64];
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return fail(p, "domains", "expected an array of domain specs");
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *spec = json_object_array_get_idx(arr, i);
		const char *name = config_domain_name(spec);

		snprintf(key, sizeof(key), "domains[%zu]", i);
		if (!json_object_is_type(spec, json_type_object))
			return fail(p, key, "expected a domain spec (an object)");
		if (!name || !*name)
			return fail(p, key, "needs a \"name\" (a non-empty string): the daemon "
				    "boots each named domain once");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(config_domain_name(json_object_array_get_idx(arr, j)), name))
				return fail(p, key, "name \"%s\" is already used by domains[%zu]",
					    name, j);
	}
	return 0;
}

static int resolve_group(struct parse *p, struct config *cfg, bool explicit)
{
	struct group gr, *res = NULL;
	char buf[4096];
	int r;

	r = getgrnam_r(cfg->group, &gr, buf, sizeof(buf), &res);
	if (res) {
		cfg->gid = gr.gr_gid;
		return 0;
	}
	/* The default group is a convenience: without it, only root may call. */
	if (!explicit) {
		free(cfg->group);
		cfg->group = NULL;
		return 0;
	}
	return fail(p, "group", "no group \"%s\"%s%s", cfg->group, r ? ": " : "",
		    r ? strerror(r) : "");
}

static int parse_root(struct parse *p, json_object *root, struct config *cfg)
{
	bool group_set = false;
	uint64_t v;
	int r = 0;

	if (!json_object_is_type(root, json_type_object))
		return fail(p, "(top level)", "expected an object");
	json_object_object_foreach(root, key, val) {
		if (!strcmp(key, "backend")) {
			free(cfg->backend);
			cfg->backend = NULL;
			r = get_string(p, key, val, &cfg->backend);
		} else if (!strcmp(key, "machine_mib")) {
			r = get_uint(p, key, val, 16, 1u << 20, &v);
			cfg->machine_mib = v;
		} else if (!strcmp(key, "group")) {
			free(cfg->group);
			cfg->group = NULL;
			group_set = true;
			/* null: nobody but root */
			if (!json_object_is_type(val, json_type_null))
				r = get_string(p, key, val, &cfg->group);
		} else if (!strcmp(key, "program_dir")) {
			free(cfg->program_dir);
			cfg->program_dir = NULL;
			r = get_string(p, key, val, &cfg->program_dir);
			if (!r && cfg->program_dir[0] != '/')
				r = fail(p, key, "must be an absolute path");
		} else if (!strcmp(key, "limits")) {
			r = parse_limits(p, val, cfg);
		} else if (!strcmp(key, "monitor")) {
			r = parse_monitor(p, val, &cfg->monitor);
		} else if (!strcmp(key, "domains")) {
			r = parse_domains(p, val);
			if (!r)
				cfg->domains = json_object_get(val);
		} else {
			r = fail(p, key, "unknown key");
		}
		if (r < 0)
			return r;
	}
	if (cfg->group)
		r = resolve_group(p, cfg, group_set);
	return r;
}

static void config_defaults(struct config *cfg)
{
	*cfg = (struct config){
		.machine_mib = 256,
		.monitor = { .response_timeout_ms = 1000, .default_answer = DEFAULT_ANSWER_ALLOW },
	};
	for (size_t i = 0; i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++)
		limit_store(&cfg->limits, &limit_keys[i], limit_keys[i].def);
}

static int read_file(const char *path, char **out, size_t *len, struct parse *p)
{
	FILE *f = fopen(path, "re");
	size_t n;
	char *buf;
	int r;

	if (!f)
		return -errno;
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!r && n > CONFIG_MAX_BYTES)
		r = fail(p, path, "larger than %u bytes", CONFIG_MAX_BYTES);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

/*
 * The tokener sees the text's length and never its terminator, which it
 * would otherwise read as part of a comment and count past: a text that
 * ends inside a comment, a string or an object is "unexpected end of
 * file", and where json-c says it stopped is clamped to the text.
 */
json_object *json_parse_whole(json_tokener *tok, const char *text, size_t len, size_t *end,
			      bool *trailing)
{
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);

	*end = json_tokener_get_parse_end(tok);
	if (*end > len)
		*end = len;
	*trailing = root && *end + strspn(text + *end, " \t\r\n") != len;
	if (*trailing) {
		json_object_put(root);
		root = NULL;
	}
	return root;
}

static int parse_text(struct parse *p, const char *text, size_t len, json_object **out)
{
	json_tokener *tok = json_tokener_new();
	size_t end, line = 1, col = 1;
	json_object *root;
	const char *why;
	bool trailing;

	if (!tok)
		return -ENOMEM;
	root = json_parse_whole(tok, text, len, &end, &trailing);
	if (root) {
		json_tokener_free(tok);
		*out = root;
		return 0;
	}
	for (size_t i = 0; i < end; i++) {
		col = text[i] == '\n' ? 1 : col + 1;
		line += text[i] == '\n';
	}
	why = trailing ? "text after the JSON value" :
	      json_tokener_get_error(tok) == json_tokener_continue ?
	      "unexpected end of file (inside a comment, a string or an object)" :
	      json_tokener_error_desc(json_tokener_get_error(tok));
	snprintf(p->err, p->errsz, "line %zu, column %zu: %s", line, col, why);
	json_tokener_free(tok);
	return -EINVAL;
}

int config_load(struct config *cfg, const char *path, bool optional, char *err, size_t errsz)
{
	struct parse p = { err, errsz };
	struct config next;
	json_object *root = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	config_defaults(&next);
	next.backend = strdup("hv:");
	next.group = strdup(CONFIG_DEFAULT_GROUP);
	next.program_dir = strdup(CONFIG_DEFAULT_PROGRAM_DIR);
	if (!next.backend || !next.group || !next.program_dir) {
		config_deinit(&next);
		return -ENOMEM;
	}
	err[0] = 0;
	r = read_file(path, &text, &len, &p);
	if (r == -ENOENT && optional) {
		r = resolve_group(&p, &next, false);
	} else if (r < 0) {
		if (!err[0])
			snprintf(err, errsz, "%s", strerror(-r));
	} else {
		r = parse_text(&p, text, len, &root);
		if (!r)
			r = parse_root(&p, root, &next);
	}
	json_object_put(root);
	free(text);
	if (r < 0) {
		config_deinit(&next);
		return r;
	}
	config_deinit(cfg);
	*cfg = next;
	return 0;
}

void config_deinit(struct config *cfg)
{
	free(cfg->backend);
	free(cfg->group);
	free(cfg->program_dir);
	json_object_put(cfg->domains);
	*cfg = (struct config){ 0 };
}
