/* SPDX-License-Identifier: MIT */
/*
 * backend-hv-script.c — the script engine's program as JSON:
 *
 *   [{"op": "write", "gfn": 16, "offset": 0, "len": 8, "value": 1},
 *    {"op": "loop", "count": 100, "body": [{"op": "exec", "gfn": 17}]}]
 *
 * ops: read, write, exec (gfn, offset 0, len 1, value 0), int3 (gfn,
 * offset), cpuid (leaf, subleaf), guest_request, switch_view (view),
 * pause_point, loop (count, body).  Unknown members are refused: a typo
 * must not silently become a default.
 */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "hv.h"
#include "backend-hv-script.h"
#include "private.h"

#define PATH_MAX_LEN 128
#define LOOP_DEPTH_MAX 8

struct parse {
	struct av_hv *hv;
	struct hv_script *s;
	char path[PATH_MAX_LEN];
};

static int bad(struct parse *p, const char *member, const char *why)
{
	av_err(p->hv, "program%s%s%s: %s", p->path, member ? "." : "", member ? member : "", why);
	return -EINVAL;
}

/* An unsigned integer member, @def when absent (or -1: required). */
static int member_u64(struct parse *p, json_object *step, const char *name, int64_t def,
		      uint64_t max, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(step, name, &v)) {
		if (def < 0)
			return bad(p, name, "missing");
		*out = (uint64_t)def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return bad(p, name, "expected an integer");
	errno = 0;
	uint64_t x = json_object_get_uint64(v);
	if (errno || (json_object_get_int64(v) < 0 && x == 0) || x > max)
		return bad(p, name, "out of range");
	*out = x;
	return 0;
}

static const struct op {
	const char *name;
	const char *members[6];
} ops[] = {
	{ "read", { "gfn", "offset", "len" } },
	{ "write", { "gfn", "offset", "len", "value" } },
	{ "exec", { "gfn", "offset", "len" } },
	{ "int3", { "gfn", "offset" } },
	{ "cpuid", { "leaf", "subleaf" } },
	{ "guest_request", { NULL } },
	{ "switch_view", { "view" } },
	{ "pause_point", { NULL } },
	{ "loop", { "count", "body" } },
};

static int check_members(struct parse *p, json_object *step, const struct op *op)
{
	json_object_object_foreach(step, key, val) {
		bool known = !strcmp(key, "op");

		(void)val;
		for (size_t i = 0; !known && i < 6 && op->members[i]; i++)
			known = !strcmp(key, op->members[i]);
		if (!known)
			return bad(p, key, "not a member of this op");
	}
	return 0;
}

static int parse_steps(struct parse *p, json_object *steps, unsigned int depth);

static int parse_step(struct parse *p, json_object *step, unsigned int depth)
{
	uint64_t gfn = 0, offset = 0, len = 1, value = 0, a = 0, b = 0;
	json_object *opv;
	const struct op *op = NULL;
	const char *name;
	int r;

	if (!json_object_is_type(step, json_type_object))
		return bad(p, NULL, "a step is an object with an \"op\"");
	if (!json_object_object_get_ex(step, "op", &opv) || !json_object_is_type(opv, json_type_string))
		return bad(p, "op", "missing (or not a string)");
	name = json_object_get_string(opv);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, name))
			op = &ops[i];
	if (!op)
		return bad(p, "op", "unknown: read, write, exec, int3, cpuid, guest_request, "
			   "switch_view, pause_point, loop");
	r = check_members(p, step, op);
	if (r < 0)
		return r;

	if (!strcmp(name, "read") || !strcmp(name, "write") || !strcmp(name, "exec") ||
	    !strcmp(name, "int3")) {
		if ((r = member_u64(p, step, "gfn", -1, HV_MAX_GFN, &gfn)) < 0 ||
		    (r = member_u64(p, step, "offset", 0, HV_PAGE_SIZE - 1, &offset)) < 0)
			return r;
	}
	if (!strcmp(name, "read") || !strcmp(name, "write") || !strcmp(name, "exec"))
		if ((r = member_u64(p, step, "len", 1, HV_PAGE_SIZE, &len)) < 0)
			return r;

	if (!strcmp(name, "read")) {
		r = hv_script_read(p->s, gfn, (uint32_t)offset, (uint32_t)len);
	} else if (!strcmp(name, "write")) {
		if ((r = member_u64(p, step, "value", 0, UINT64_MAX, &value)) < 0)
			return r;
		r = hv_script_write(p->s, gfn, (uint32_t)offset, (uint32_t)len, value);
	} else if (!strcmp(name, "exec")) {
		r = hv_script_exec(p->s, gfn, (uint32_t)offset, (uint32_t)len);
	} else if (!strcmp(name, "int3")) {
		r = hv_script_int3(p->s, gfn, (uint32_t)offset);
	} else if (!strcmp(name, "cpuid")) {
		if ((r = member_u64(p, step, "leaf", 0, UINT32_MAX, &a)) < 0 ||
		    (r = member_u64(p, step, "subleaf", 0, UINT32_MAX, &b)) < 0)
			return r;
		r = hv_script_cpuid(p->s, (uint32_t)a, (uint32_t)b);
	} else if (!strcmp(name, "guest_request")) {
		r = hv_script_guest_request(p->s);
	} else if (!strcmp(name, "switch_view")) {
		if ((r = member_u64(p, step, "view", -1, ALTVIEW_MAX_VIEWS - 1, &a)) < 0)
			return r;
		r = hv_script_switch_view(p->s, (unsigned int)a);
	} else if (!strcmp(name, "pause_point")) {
		r = hv_script_pause_point(p->s);
	} else {
		json_object *body;
		size_t at = strlen(p->path);

		if ((r = member_u64(p, step, "count", -1, UINT32_MAX, &a)) < 0)
			return r;
		if (!json_object_object_get_ex(step, "body", &body))
			return bad(p, "body", "missing");
		if (depth + 1 >= LOOP_DEPTH_MAX)
			return bad(p, NULL, "loops nest at most 8 deep");
		if ((r = hv_script_loop_begin(p->s, (uint32_t)a)) < 0)
			return bad(p, "count", "refused");
		snprintf(p->path + at, sizeof(p->path) - at, ".body");
		r = parse_steps(p, body, depth + 1);
		p->path[at] = 0;
		if (r < 0)
			return r;
		r = hv_script_loop_end(p->s);
	}
	return r < 0 ? bad(p, NULL, "refused by the script engine") : 0;
}

static int parse_steps(struct parse *p, json_object *steps, unsigned int depth)
{
	size_t at = strlen(p->path);

	if (!json_object_is_type(steps, json_type_array))
		return bad(p, NULL, "expected an array of steps");
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		int r;

		snprintf(p->path + at, sizeof(p->path) - at, "[%zu]", i);
		r = parse_step(p, json_object_array_get_idx(steps, i), depth);
		if (r < 0)
			return r;
		p->path[at] = 0;
	}
	return 0;
}

void script_program_free(struct hv_script **scripts, size_t nr)
{
	for (size_t i = 0; scripts && i < nr; i++)
		hv_script_free(scripts[i]);
	free(scripts);
}

/* An array of arrays is one program per vCPU; an array of objects, one for all. */
static bool per_vcpu(json_object *prog)
{
	return json_object_array_length(prog) &&
	       json_object_is_type(json_object_array_get_idx(prog, 0), json_type_array);
}

int script_program_parse(struct av_hv *hv, const char *program, unsigned int nr_vcpus,
			 struct hv_script ***out, size_t *out_nr)
{
	struct parse p = { .hv = hv };
	struct hv_script **scripts = NULL;
	json_object *prog;
	size_t nr = 0;
	int r = 0;

	if (!program) {
		av_err(hv, "domain spec: the script engine needs a program");
		return -EINVAL;
	}
	prog = json_tokener_parse(program);
	if (!prog || !json_object_is_type(prog, json_type_array)) {
		json_object_put(prog);
		av_err(hv, "program: not a JSON array");
		return -EINVAL;
	}
	nr = per_vcpu(prog) ? json_object_array_length(prog) : 1;
	if (nr > nr_vcpus) {
		av_err(hv, "program: %zu per-vCPU programs for %u vCPUs", nr, nr_vcpus);
		r = -EINVAL;
	}
	if (r == 0 && !(scripts = calloc(nr, sizeof(*scripts))))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < nr; i++) {
		if (!(scripts[i] = hv_script_new())) {
			r = -ENOMEM;
			break;
		}
		p.s = scripts[i];
		if (nr > 1 || per_vcpu(prog))
			snprintf(p.path, sizeof(p.path), "[%zu]", i);
		else
			p.path[0] = 0;
		r = parse_steps(&p, nr > 1 || per_vcpu(prog) ? json_object_array_get_idx(prog, i) : prog, 0);
		if (r == 0 && hv_script_check(p.s) < 0)
			r = bad(&p, NULL, "incomplete (a loop not closed?)");
	}
	json_object_put(prog);
	if (r < 0) {
		script_program_free(scripts, nr);
		return r;
	}
	*out = scripts;
	*out_nr = nr;
	return 0;
}
