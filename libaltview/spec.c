/* SPDX-License-Identifier: MIT */
/*
 * spec.c — a domain spec in JSON.  Errors name the member, or the line and
 * column where the text stops being JSON.
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "private.h"

struct spec_owner {
	json_object *root;
};

void spec_owner_free(struct spec_owner *owner)
{
	if (!owner)
		return;
	json_object_put(owner->root);
	free(owner);
}

static bool only_space(const char *s)
{
	return s[strspn(s, " \t\r\n")] == 0;
}

static int syntax_error(struct av_hv *hv, const char *json, json_tokener *tok)
{
	size_t end = json_tokener_get_parse_end(tok), line = 1, col = 1;

	for (size_t i = 0; i < end && json[i]; i++) {
		if (json[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	av_err(hv, "domain spec: line %zu, column %zu: %s", line, col,
	       json_tokener_error_desc(json_tokener_get_error(tok)));
	return -EINVAL;
}

static int member_error(struct av_hv *hv, const char *name, const char *why)
{
	av_err(hv, "domain spec: \"%s\": %s", name, why);
	return -EINVAL;
}

static int get_uint(struct av_hv *hv, const char *name, json_object *v, uint64_t max, uint64_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return member_error(hv, name, "expected an integer");
	x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x > max)
		return member_error(hv, name, "out of range");
	*out = (uint64_t)x;
	return 0;
}

static int get_string(struct av_hv *hv, const char *name, json_object *v, const char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return member_error(hv, name, "expected a string");
	*out = json_object_get_string(v);
	return 0;
}

static int parse_members(struct av_hv *hv, json_object *root, struct av_domain_spec *spec)
{
	bool have_memory = false;
	uint64_t x = 0;
	int r = 0;

	json_object_object_foreach(root, key, v) {
		if (!strcmp(key, "name")) {
			r = get_string(hv, key, v, &spec->name);
		} else if (!strcmp(key, "memory_mib") || !strcmp(key, "memory_bytes")) {
			bool mib = key[7] == 'm';

			if (have_memory)
				return member_error(hv, key, "memory is given twice");
			have_memory = true;
			r = get_uint(hv, key, v, mib ? UINT64_MAX >> 20 : UINT64_MAX, &x);
			spec->memory_bytes = mib ? x << 20 : x;
		} else if (!strcmp(key, "vcpus")) {
			r = get_uint(hv, key, v, ALTVIEW_MAX_VCPUS, &x);
			spec->nr_vcpus = (uint32_t)x;
		} else if (!strcmp(key, "engine")) {
			r = get_string(hv, key, v, &spec->engine);
		} else if (!strcmp(key, "program")) {
			/* The engine reads its own program: hand it on as text. */
			spec->program = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		} else if (!strcmp(key, "access_required")) {
			if (!json_object_is_type(v, json_type_boolean))
				return member_error(hv, key, "expected true or false");
			spec->access_required = json_object_get_boolean(v);
		} else if (!strcmp(key, "grant_frames")) {
			r = get_uint(hv, key, v, 1024, &x);
			spec->grant_frames = (uint32_t)x;
		} else {
			return member_error(hv, key, "unknown member (name, memory_mib, memory_bytes, "
					    "vcpus, engine, program, access_required, grant_frames)");
		}
		if (r < 0)
			return r;
	}
	if (!have_memory)
		return member_error(hv, "memory_mib", "missing");
	return 0;
}

int spec_parse_json(struct av_hv *hv, const char *json, struct av_domain_spec *spec,
		    struct spec_owner **out)
{
	struct spec_owner *owner;
	json_tokener *tok;
	json_object *root;
	size_t end;
	int r;

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, -1);
	if (!root) {
		r = syntax_error(hv, json, tok);
		json_tokener_free(tok);
		return r;
	}
	/* json-c may count a comment it skipped past the terminating NUL. */
	end = json_tokener_get_parse_end(tok);
	if (end > strlen(json))
		end = strlen(json);
	if (!only_space(json + end)) {
		av_err(hv, "domain spec: unexpected text after the object at offset %zu", end);
		json_object_put(root);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		av_err(hv, "domain spec: expected a JSON object");
		return -EINVAL;
	}
	owner = calloc(1, sizeof(*owner));
	if (!owner) {
		json_object_put(root);
		return -ENOMEM;
	}
	owner->root = root;
	r = parse_members(hv, root, spec);
	if (r < 0) {
		spec_owner_free(owner);
		return r;
	}
	*out = owner;
	return 0;
}
