/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a guest writing arbitrary bytes into its grant entries while
 * another thread maps, unmaps and copies those grants, and this one maps
 * and unmaps them between writes.  Input: records of one byte (which of 8
 * entries) and eight bytes (what the guest writes there).  The core must
 * not crash, leak or corrupt memory (ASan and UBSan watch), whatever the
 * entries say and however they change under the claims.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"

#define ENTRIES 8

static struct hv *hv;
static struct hv_domain *d;
static grant_entry_v1_t *table;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *background(void *arg)
{
	(void)arg;
	for (uint32_t i = 0;; i++) {
		grant_ref_t ref = i % ENTRIES;
		grant_handle_t h;
		void *p;
		struct gnttab_copy op = {
			.source = { .u.ref = ref, .domid = hv_domain_id(d) },
			.dest = { .u.gmfn = 200, .domid = hv_domain_id(d) },
			.len = 16, .flags = GNTCOPY_source_gref,
		};

		if (hv_gnttab_map(hv, hv_domain_id(d), ref, GNTMAP_host_map | (i & 1 ? GNTMAP_readonly : 0),
				  &p, &h) == GNTST_okay)
			hv_gnttab_unmap(hv, h);
		hv_gnttab_copy(hv, &op);
	}
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 16 << 20 };
	struct hv_domain_opts dopts = { .sz = sizeof(dopts), .memory_bytes = 1 << 20 };
	uint64_t gfns[1];
	pthread_t t;

	(void)argc;
	(void)argv;
	if (hv_new(&opts, &hv) < 0 || hv_domain_create(hv, &dopts, &d) < 0 ||
	    hv_gnttab_setup_table(d, 1, gfns) != GNTST_okay)
		abort();
	/* The guest's view of its table: its own frame. */
	struct hv_p2m_entry e;

	if (hv_p2m_get_entry(d, HV_GNTTAB_GFN_BASE, &e) < 0)
		abort();
	table = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, hv_machine_fd(hv),
		     (off_t)(e.mfn << HV_PAGE_SHIFT));
	if (table == MAP_FAILED || pthread_create(&t, NULL, background, NULL) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (; size >= 9; data += 9, size -= 9) {
		grant_ref_t ref = data[0] % ENTRIES;
		uint64_t raw;
		grant_handle_t h;
		void *p;

		memcpy(&raw, data + 1, 8);
		__atomic_store_n((uint64_t *)&table[ref], raw, __ATOMIC_RELAXED);
		if (hv_gnttab_map(hv, hv_domain_id(d), ref, GNTMAP_host_map, &p, &h) == GNTST_okay)
			hv_gnttab_unmap(hv, h);
	}
	return 0;
}
