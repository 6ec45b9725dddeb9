/* SPDX-License-Identifier: MIT */
/*
 * backend-hv-x86.c — what the "hv:" backend needs for x86 domains: the program
 * (an ELF path and the engine's options) read into the core's config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "hv.h"
#include "backend-hv-x86.h"
#include "private.h"

#define IMAGE_MAX (64u << 20)

static int read_image(struct av_hv *hv, const char *path, struct hv_x86_config *cfg)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	void *buf;

	if (!f) {
		int r = -errno;

		av_err(hv, "program: %s: %s", path, av_strerror(r));
		return r;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > IMAGE_MAX) {
		fclose(f);
		av_err(hv, "program: %s: not a regular file of at most %u bytes", path, IMAGE_MAX);
		return -EINVAL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		av_err(hv, "program: %s: cannot read it", path);
		return -EIO;
	}
	fclose(f);
	cfg->image = buf;
	cfg->image_size = (size_t)st.st_size;
	return 0;
}

int x86_program_parse(struct av_hv *hv, const char *program, struct hv_x86_config *cfg)
{
	json_object *prog = program ? json_tokener_parse(program) : NULL;
	const char *path = NULL;
	int r = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (prog && json_object_is_type(prog, json_type_string)) {
		path = json_object_get_string(prog);
	} else if (prog && json_object_is_type(prog, json_type_object)) {
		json_object_object_foreach(prog, key, val) {
			if (!strcmp(key, "elf") && json_object_is_type(val, json_type_string)) {
				path = json_object_get_string(val);
			} else if (!strcmp(key, "parallel") && json_object_is_type(val, json_type_boolean)) {
				cfg->parallel = json_object_get_boolean(val);
			} else if (!strcmp(key, "max_regions") && json_object_is_type(val, json_type_int) &&
				   json_object_get_int64(val) > 0 && json_object_get_int64(val) <= 4000) {
				cfg->max_regions = (unsigned int)json_object_get_int64(val);
			} else {
				av_err(hv, "program.%s: not one of elf (a path), parallel (true or false), "
				       "max_regions (1..4000)", key);
				r = -EINVAL;
				break;
			}
		}
	}
	if (r == 0 && !path) {
		av_err(hv, "program: the x86 engine needs an ELF: \"path\" or {\"elf\": \"path\"}");
		r = -EINVAL;
	}
	if (r == 0)
		r = read_image(hv, path, cfg);
	json_object_put(prog);
	return r;
}

void x86_program_free(struct hv_x86_config *cfg)
{
	free((void *)cfg->image);
	cfg->image = NULL;
}
