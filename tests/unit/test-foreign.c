/* SPDX-License-Identifier: MIT */
/* dom0 foreign mapping: superpage vs 4 KiB references, conflicts, bad input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "counts.h"
#include "harness.h"
#include "private.h"

#define MiB (UINT64_C(1) << 20)

struct fixture {
	struct hv *hv;
	struct hv_domain *d;
	uint64_t mfn0;         /* machine frame of gfn 0 */
};

static struct fixture setup(uint64_t guest_bytes)
{
	struct fixture f = { .hv = test_hv(guest_bytes + 8 * MiB) };
	struct hv_p2m_entry e;

	f.d = test_domain(f.hv, guest_bytes);
	hv_p2m_get_entry(f.d, 0, &e);
	f.mfn0 = e.mfn;
	return f;
}

static bool teardown(struct fixture *f)
{
	domain_end(f->d);
	bool clean = counts_all_free(f->hv);

	hv_free(f->hv);
	return clean;
}

static void check_frames(struct hv *hv, uint64_t mfn, uint64_t nr, uint32_t count,
			 enum hv_page_type type, uint32_t type_count, bool *ok)
{
	for (uint64_t i = 0; i < nr; i++) {
		struct hv_frame_info fi;

		hv_frame_info(hv, mfn + i, &fi);
		if (fi.count != count || fi.type != type || fi.type_count != type_count) {
			printf("# mfn +%" PRIu64 ": count %u type %d/%u\n", i, fi.count, fi.type,
			       fi.type_count);
			*ok = false;
			return;
		}
	}
	*ok = true;
}

static void superpage_path_one_reference(void)
{
	struct fixture f = setup(4 * MiB);
	struct hv_spage_info si;
	struct hv_stats s0, s1;
	uint8_t *p;
	bool ok;

	hv_get_stats(f.hv, &s0);
	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 0, 1024, HV_MAP_WRITE, (void **)&p), 0);
	hv_get_stats(f.hv, &s1);
	/* Two chunks: one count and one type reference each, no page refs. */
	CHECK_EQ(s1.spage_ref_ops - s0.spage_ref_ops, 4);
	CHECK_EQ(s1.page_ref_ops - s0.page_ref_ops, 0);
	for (int c = 0; c < 2; c++) {
		hv_spage_info(f.hv, f.mfn0 + 512 * (uint64_t)c, &si);
		CHECK_EQ(si.count, 1);
		CHECK_EQ(si.type, HV_SGT_SUPERPAGE);
		CHECK_EQ(si.type_count, 1);
	}
	check_frames(f.hv, f.mfn0, 1024, 1, HV_PGT_NONE, 0, &ok);
	CHECK(ok);
	CHECK_EQ((uintptr_t)p & (HV_SUPERPAGE_SIZE - 1), 0);

	/* Writes land in the guest's machine frames. */
	uint8_t *machine = mmap(NULL, 4 * MiB, PROT_READ, MAP_SHARED, hv_machine_fd(f.hv),
				(off_t)(f.mfn0 << HV_PAGE_SHIFT));

	CHECK(machine != MAP_FAILED);
	memset(p + 3 * MiB + 5, 0xa5, 100);
	CHECK_EQ(machine[3 * MiB + 5], 0xa5);
	CHECK_EQ(machine[3 * MiB + 104], 0xa5);
	CHECK_EQ(machine[3 * MiB + 105], 0);
	munmap(machine, 4 * MiB);

	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	hv_spage_info(f.hv, f.mfn0, &si);
	CHECK_EQ(si.count, 0);
	CHECK_EQ(si.type, HV_SGT_NONE);
	CHECK(teardown(&f));
}

static void forced_4k_path(void)
{
	struct fixture f = setup(4 * MiB);
	struct hv_spage_info si;
	struct hv_stats s0, s1;
	void *p;
	bool ok;

	hv_get_stats(f.hv, &s0);
	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 0, 1024, HV_MAP_WRITE | HV_MAP_4K, &p), 0);
	hv_get_stats(f.hv, &s1);
	CHECK_EQ(s1.page_ref_ops - s0.page_ref_ops, 2048);
	CHECK_EQ(s1.spage_ref_ops - s0.spage_ref_ops, 0);
	check_frames(f.hv, f.mfn0, 1024, 2, HV_PGT_WRITABLE, 1, &ok);
	CHECK(ok);
	hv_spage_info(f.hv, f.mfn0, &si);
	CHECK_EQ(si.count, 0);
	CHECK_EQ(si.type, HV_SGT_NONE);
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	check_frames(f.hv, f.mfn0, 1024, 1, HV_PGT_NONE, 0, &ok);
	CHECK(ok);
	CHECK(teardown(&f));
}

static void read_only_superpage_takes_no_type(void)
{
	struct fixture f = setup(2 * MiB);
	struct hv_spage_info si;
	void *p;

	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 0, 512, 0, &p), 0);
	hv_spage_info(f.hv, f.mfn0, &si);
	CHECK_EQ(si.count, 1);
	CHECK_EQ(si.type, HV_SGT_NONE);
	/* So a conflicting 4 KiB use may coexist with a read-only mapping. */
	CHECK_EQ(hv_frame_get_typed(f.d, f.mfn0 + 3, HV_PGT_GRANT_TABLE), 0);
	CHECK_EQ(hv_frame_put_typed(f.d, f.mfn0 + 3, HV_PGT_GRANT_TABLE), 0);
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	CHECK(teardown(&f));
}

static void nosuper_blocks_superpage(void)
{
	struct fixture f = setup(4 * MiB);
	domid_t id = hv_domain_id(f.d);
	struct counts *before;
	struct hv_spage_info si;
	void *p;
	bool ok;

	CHECK_EQ(hv_frame_get_typed(f.d, f.mfn0 + 9, HV_PGT_GRANT_TABLE), 0);
	before = counts_take(f.hv);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 512, HV_MAP_WRITE | HV_MAP_SUPERPAGE_ONLY, &p), -EBUSY);
	/* Falling back cannot help a writable map: the frame has another type. */
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 512, HV_MAP_WRITE, &p), -EBUSY);
	CHECK(counts_unchanged(before, f.hv));

	/*
	 * Read-only whole mappings take no superpage type (seed 001), so they
	 * coexist with NOSUPER users; the block stays NOSUPER meanwhile.
	 */
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 1024, 0, &p), 0);
	check_frames(f.hv, f.mfn0, 512, 1, HV_PGT_NONE, 0, &ok);
	CHECK(!ok);     /* mfn0 + 9 holds its grant-table type */
	check_frames(f.hv, f.mfn0, 9, 1, HV_PGT_NONE, 0, &ok);
	CHECK(ok);
	hv_spage_info(f.hv, f.mfn0, &si);
	CHECK_EQ(si.count, 1);
	CHECK_EQ(si.type, HV_SGT_NOSUPER);
	CHECK_EQ(si.type_count, 1);
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	CHECK_EQ(hv_frame_put_typed(f.d, f.mfn0 + 9, HV_PGT_GRANT_TABLE), 0);
	CHECK(teardown(&f));
}

static void superpage_blocks_nosuper(void)
{
	struct fixture f = setup(2 * MiB);
	struct counts *before;
	void *p;

	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 0, 512, HV_MAP_WRITE, &p), 0);
	before = counts_take(f.hv);
	CHECK_EQ(hv_frame_get_typed(f.d, f.mfn0 + 100, HV_PGT_VM_EVENT), -EBUSY);
	CHECK(counts_unchanged(before, f.hv));
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	CHECK_EQ(hv_frame_get_typed(f.d, f.mfn0 + 100, HV_PGT_VM_EVENT), 0);
	CHECK_EQ(hv_frame_put_typed(f.d, f.mfn0 + 100, HV_PGT_VM_EVENT), 0);
	CHECK(teardown(&f));
}

static void split_p2m_falls_back(void)
{
	struct fixture f = setup(2 * MiB);
	domid_t id = hv_domain_id(f.d);
	struct hv_p2m_entry e;
	struct hv_spage_info si;
	void *p;
	bool ok;

	CHECK_EQ(hv_p2m_get_entry(f.d, 40, &e), 0);
	e.order = 0;
	e.access = XENMEM_access_r;
	CHECK_EQ(hv_p2m_set_entry(f.d, 40, &e), 0);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 512, HV_MAP_WRITE | HV_MAP_SUPERPAGE_ONLY, &p), -EBUSY);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 512, HV_MAP_WRITE, &p), 0);
	check_frames(f.hv, f.mfn0, 512, 2, HV_PGT_WRITABLE, 1, &ok);
	CHECK(ok);
	hv_spage_info(f.hv, f.mfn0, &si);
	CHECK_EQ(si.count, 0);
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	CHECK(teardown(&f));
}

static void unaligned_ranges(void)
{
	struct fixture f = setup(4 * MiB);
	domid_t id = hv_domain_id(f.d);
	struct hv_stats s0, s1;
	uint8_t *p;

	/* gfn 1..1023: chunk 512..1023 is aligned and goes whole, the rest 4 KiB. */
	hv_get_stats(f.hv, &s0);
	CHECK_EQ(hv_foreign_map(f.hv, id, 1, 1023, HV_MAP_WRITE, (void **)&p), 0);
	hv_get_stats(f.hv, &s1);
	CHECK_EQ(s1.page_ref_ops - s0.page_ref_ops, 2 * 511);
	CHECK_EQ(s1.spage_ref_ops - s0.spage_ref_ops, 2);
	/* The address of gfn 512 is 2 MiB aligned; both ends are mapped. */
	CHECK_EQ((uintptr_t)(p + 511 * HV_PAGE_SIZE) & (HV_SUPERPAGE_SIZE - 1), 0);
	p[0] = 1;
	p[1022 * HV_PAGE_SIZE] = 2;
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	CHECK_EQ(hv_foreign_map(f.hv, id, 1, 512, HV_MAP_SUPERPAGE_ONLY, (void **)&p), -EINVAL);
	CHECK(teardown(&f));
}

static void bad_input_changes_nothing(void)
{
	struct fixture f = setup(4 * MiB);
	struct hv_domain *other = test_domain(f.hv, 2 * MiB);
	domid_t id = hv_domain_id(f.d);
	struct counts *before;
	struct hv_p2m_entry e;
	void *p, *q;

	/* A p2m entry naming another domain's frames, 4 KiB and 2 MiB. */
	CHECK_EQ(hv_p2m_get_entry(other, 0, &e), 0);
	CHECK_EQ(hv_p2m_set_entry(f.d, 512, &e), 0);
	e.order = 0;
	CHECK_EQ(hv_p2m_set_entry(f.d, 7, &e), 0);
	CHECK_EQ(hv_p2m_get_entry(f.d, 3, &e), 0);
	e.type = HV_P2M_RAM_RO;
	CHECK_EQ(hv_p2m_set_entry(f.d, 3, &e), 0);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 1, HV_MAP_WRITE, &q), 0);

	before = counts_take(f.hv);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 8, 0, &p), -EPERM);
	CHECK_EQ(hv_foreign_map(f.hv, id, 512, 512, 0, &p), -EPERM);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 4, HV_MAP_WRITE, &p), -EACCES);
	CHECK_EQ(hv_foreign_map(f.hv, id, 1024, 4, 0, &p), -ENOENT);       /* past guest RAM */
	CHECK_EQ(hv_foreign_map(f.hv, id, HV_MAX_GFN, 2, 0, &p), -EINVAL);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 0, 0, &p), -EINVAL);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 1, 1u << 7, &p), -EINVAL);
	CHECK_EQ(hv_foreign_map(f.hv, id, 0, 1, HV_MAP_4K | HV_MAP_SUPERPAGE_ONLY, &p), -EINVAL);
	CHECK_EQ(hv_foreign_map(f.hv, 77, 0, 1, 0, &p), -ESRCH);
	CHECK_EQ(hv_foreign_map(f.hv, HV_DOMID_DOM0, 0, 1, 0, &p), -EINVAL);
	CHECK_EQ(hv_foreign_unmap(f.hv, (uint8_t *)q + 1), -ENOENT);
	CHECK(counts_unchanged(before, f.hv));

	CHECK_EQ(hv_foreign_unmap(f.hv, q), 0);
	before = counts_take(f.hv);
	CHECK_EQ(hv_foreign_unmap(f.hv, q), -ENOENT);      /* double unmap */
	CHECK(counts_unchanged(before, f.hv));

	domain_end(other);
	CHECK(teardown(&f));
}

static void destroy_while_mapped(void)
{
	struct fixture f = setup(4 * MiB);
	struct hv_stats s0, s1;
	uint8_t *p, *q;

	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 0, 1024, HV_MAP_WRITE, (void **)&p), 0);
	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 3, 2, HV_MAP_WRITE, (void **)&q), 0);
	p[4 * HV_PAGE_SIZE] = 42;
	hv_get_stats(f.hv, &s0);
	CHECK_EQ(hv_domain_destroy(f.d), 0);
	hv_domain_put(f.d);
	/* The mappings keep the memory: nothing returned to the heap yet. */
	hv_get_stats(f.hv, &s1);
	CHECK_EQ(s1.free_frames, s0.free_frames);
	CHECK_EQ(q[HV_PAGE_SIZE], 42);
	CHECK_EQ(hv_foreign_unmap(f.hv, p), 0);
	hv_get_stats(f.hv, &s1);
	CHECK_EQ(s1.free_frames, s0.free_frames);
	CHECK_EQ(hv_foreign_unmap(f.hv, q), 0);
	CHECK(hv_end_clean(f.hv));
}

/*
 * A mapping must stay inside the address space it reserved: MAP_FIXED would
 * silently replace whatever lies beyond, and the unmap punch a hole into it.
 * Where the kernel puts the reservation is its choice, so the placement is
 * checked for every alignment of the reservation, every gfn offset within a
 * 2 MiB chunk and lengths around a chunk.
 */
static void mapping_stays_in_its_reservation(void)
{
	static const size_t lens[] = { 1, 2, 511, 512, 513, 1024, 1500 };

	for (uintptr_t b = 0; b < HV_SUPERPAGE_PAGES; b++) {
		uintptr_t base = 0x40000000 + (b << HV_PAGE_SHIFT);

		for (uint64_t off = 0; off < HV_SUPERPAGE_PAGES; off++) {
			for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
				uint64_t gfn = 7 * HV_SUPERPAGE_PAGES + off;
				size_t len = lens[i] << HV_PAGE_SHIFT;
				size_t reserve = frame_reserve_len(gfn, len);
				uintptr_t addr = frame_place(base, gfn);

				CHECK(addr >= base);
				CHECK(addr + len <= base + reserve);
				/* 2 MiB-aligned gfns land on 2 MiB-aligned addresses. */
				CHECK_EQ((addr - (off << HV_PAGE_SHIFT)) % HV_SUPERPAGE_SIZE, 0);
			}
		}
	}
}

static void hv_free_releases_live_mappings(void)
{
	struct fixture f = setup(2 * MiB);
	void *p;

	CHECK_EQ(hv_foreign_map(f.hv, hv_domain_id(f.d), 0, 512, HV_MAP_WRITE, &p), 0);
	hv_domain_put(f.d);
	/* Leak checkers (ASan, valgrind) see whether this frees everything. */
	hv_free(f.hv);
}

T_MAIN(T_CASE(superpage_path_one_reference),
       T_CASE(forced_4k_path),
       T_CASE(read_only_superpage_takes_no_type),
       T_CASE(nosuper_blocks_superpage),
       T_CASE(superpage_blocks_nosuper),
       T_CASE(split_p2m_falls_back),
       T_CASE(unaligned_ranges),
       T_CASE(bad_input_changes_nothing),
       T_CASE(destroy_while_mapped),
       T_CASE(mapping_stays_in_its_reservation),
       T_CASE(hv_free_releases_live_mappings))
