/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: arbitrary text as a JSON domain spec (and script program)
 * through libaltview.  Whatever it says, av_domain_create_json() refuses it
 * with -EINVAL or makes a domain that can be destroyed: no crash, no leak,
 * no half-made domain left behind.  A dictionary of the spec's words
 * (spec.dict) gets the fuzzer past the parser quickly.
 */
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static av_hv *hv;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	AV_OPTS(av_open_opts, o, .machine_bytes = 64u << 20);

	(void)argc;
	(void)argv;
	if (av_open("hv:", &o, &hv) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = malloc(size + 1);
	av_domain *dom;
	uint32_t id;

	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = 0;
	if (av_domain_create_json(hv, json, &dom) == 0) {
		if (av_domain_destroy(dom) < 0 || av_domain_close(dom) < 0)
			abort();
	}
	free(json);
	if (av_domain_list(hv, &id, 1) != 0)
		abort();        /* something was left behind */
	return 0;
}
