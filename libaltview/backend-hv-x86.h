/* SPDX-License-Identifier: MIT */
/* backend-hv-x86.h — the x86 engine's program for the "hv:" backend. */
#pragma once

struct av_hv;
struct hv_x86_config;

/*
 * The program of an x86 domain: a JSON string naming a static ELF64 file,
 * or {"elf": PATH, "parallel": BOOL, "max_regions": N}.  Fills @cfg with the
 * image read into memory (x86_program_free() releases it).
 */
int x86_program_parse(struct av_hv *hv, const char *program, struct hv_x86_config *cfg);
void x86_program_free(struct hv_x86_config *cfg);
