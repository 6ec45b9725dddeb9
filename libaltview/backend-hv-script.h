/* SPDX-License-Identifier: MIT */
/* backend-hv-script.h — the script engine's program in JSON, for the "hv:" backend. */
#pragma once

#include <stddef.h>

struct av_hv;
struct hv_script;

/*
 * Builds the scripts a program describes: one array of steps for every
 * vCPU, or an array of such arrays, one per vCPU (at most @nr_vcpus).
 * -EINVAL with a log message naming the step for anything malformed.
 */
int script_program_parse(struct av_hv *hv, const char *program, unsigned int nr_vcpus,
			 struct hv_script ***scripts, size_t *nr);
void script_program_free(struct hv_script **scripts, size_t nr);
