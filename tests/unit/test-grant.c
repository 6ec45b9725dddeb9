/* SPDX-License-Identifier: MIT */
/* Grant tables: every op and status code, guest garbage, superpages, concurrency. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

struct fixture {
	struct hv *hv;
	struct hv_domain *d;
	domid_t id;
};

static struct fixture setup(unsigned int frames)
{
	struct fixture f = { .hv = test_hv(32 * MiB) };
	uint64_t gfns[8];

	f.d = test_domain(f.hv, 4 * MiB);
	f.id = hv_domain_id(f.d);
	if (hv_gnttab_setup_table(f.d, frames, gfns) != GNTST_okay)
		exit(1);
	return f;
}

static bool teardown(struct fixture *f)
{
	domain_end(f->d);
	return hv_end_clean(f->hv);
}

/*
 * The table as the guest sees it: its own frame, written the way a guest
 * writes its memory (straight into machine memory, no dom0 mapping).
 */
static grant_entry_v1_t *guest_table(struct fixture *f, grant_ref_t ref)
{
	uint64_t mfn = gfn_mfn(f->d, HV_GNTTAB_GFN_BASE + ref / 512);
	uint8_t *frame = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			      hv_machine_fd(f->hv), (off_t)(mfn << HV_PAGE_SHIFT));

	return frame == MAP_FAILED ? NULL : (grant_entry_v1_t *)frame + ref % 512;
}

static void guest_table_done(grant_entry_v1_t *e)
{
	munmap((void *)((uintptr_t)e & ~(uintptr_t)(HV_PAGE_SIZE - 1)), HV_PAGE_SIZE);
}

static grant_entry_v1_t entry(struct fixture *f, grant_ref_t ref)
{
	grant_entry_v1_t *t = guest_table(f, ref), e = *t;

	guest_table_done(t);
	return e;
}

static void setup_and_query(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, MiB);
	unsigned int nr, max;
	uint64_t gfns[40];

	CHECK_EQ(hv_gnttab_query_size(d, &nr, &max), GNTST_okay);
	CHECK_EQ(nr, 0);
	CHECK_EQ(max, HV_GNTTAB_DEFAULT_MAX_FRAMES);
	CHECK_EQ(hv_gnttab_setup_table(d, 2, gfns), GNTST_okay);
	CHECK_EQ(gfns[0], HV_GNTTAB_GFN_BASE);
	CHECK_EQ(gfns[1], HV_GNTTAB_GFN_BASE + 1);
	CHECK_EQ(hv_gnttab_setup_table(d, 1, gfns), GNTST_okay);   /* never shrinks */
	CHECK_EQ(hv_gnttab_query_size(d, &nr, &max), GNTST_okay);
	CHECK_EQ(nr, 2);
	CHECK_EQ(hv_gnttab_setup_table(d, max + 1, gfns), GNTST_general_error);
	CHECK_EQ(hv_gnttab_setup_table(d, 0, gfns), GNTST_general_error);
	/* The guest sees its table in its p2m, as frames it may write. */
	struct hv_p2m_entry e;

	CHECK_EQ(hv_p2m_get_entry(d, HV_GNTTAB_GFN_BASE + 1, &e), 0);
	CHECK_EQ(e.type, HV_P2M_RAM_RW);
	struct hv_frame_info fi;

	hv_frame_info(hv, e.mfn, &fi);
	CHECK_EQ(fi.type, HV_PGT_GRANT_TABLE);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void map_write_read_unmap(void)
{
	struct fixture f = setup(1);
	uint64_t mfn = gfn_mfn(f.d, 20);
	struct hv_frame_info fi;
	struct hv_spage_info si;
	grant_handle_t h, h2;
	uint8_t *p, *q;

	CHECK_EQ(hv_gnttab_grant_access(f.d, 5, HV_DOMID_DOM0, 20, false), 0);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 5, GNTMAP_host_map, (void **)&p, &h), GNTST_okay);
	CHECK_EQ(entry(&f, 5).flags, GTF_permit_access | GTF_reading | GTF_writing);
	hv_frame_info(f.hv, mfn, &fi);
	CHECK_EQ(fi.count, 2);
	CHECK_EQ(fi.type, HV_PGT_WRITABLE);
	hv_spage_info(f.hv, mfn, &si);
	CHECK_EQ(si.type, HV_SGT_NOSUPER);          /* a mapped grant blocks its superpage */
	memcpy(p + 100, "granted", 8);
	char buf[8];

	guest_read(f.hv, f.d, 20, 100, buf, 8);
	CHECK(!memcmp(buf, "granted", 8));
	/* A second, read-only mapping of the same grant. */
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 5, GNTMAP_host_map | GNTMAP_readonly, (void **)&q, &h2),
		 GNTST_okay);
	CHECK(!memcmp(q + 100, "granted", 8));
	CHECK_EQ(hv_gnttab_end_access(f.d, 5), -EBUSY);
	CHECK_EQ(hv_gnttab_unmap(f.hv, h), GNTST_okay);
	CHECK_EQ(entry(&f, 5).flags, GTF_permit_access | GTF_reading);
	CHECK_EQ(hv_gnttab_unmap(f.hv, h), GNTST_bad_handle);    /* double unmap */
	CHECK_EQ(hv_gnttab_unmap(f.hv, h2), GNTST_okay);
	CHECK_EQ(entry(&f, 5).flags, GTF_permit_access);
	hv_frame_info(f.hv, mfn, &fi);
	CHECK_EQ(fi.count, 1);
	CHECK_EQ(fi.type_count, 0);
	hv_spage_info(f.hv, mfn, &si);
	CHECK_EQ(si.type, HV_SGT_NONE);
	CHECK_EQ(hv_gnttab_end_access(f.d, 5), 0);
	CHECK_EQ(entry(&f, 5).flags, 0);
	CHECK(teardown(&f));
}

static void guest_garbage_gets_status_codes(void)
{
	struct fixture f = setup(1);
	struct hv_domain *other = test_domain(f.hv, MiB);
	struct counts *before;
	grant_handle_t h;
	void *p;

	hv_gnttab_grant_access(f.d, 1, HV_DOMID_DOM0, 21, true);         /* read-only */
	hv_gnttab_grant_access(f.d, 2, hv_domain_id(other), 21, false);   /* someone else's */
	hv_gnttab_grant_access(f.d, 3, HV_DOMID_DOM0, 5000, false);       /* outside the domain */
	hv_gnttab_grant_access(f.d, 4, HV_DOMID_DOM0, HV_GNTTAB_GFN_BASE, false);  /* the table */
	/* 6: a transfer entry; 7: never written (invalid). */
	grant_entry_v1_t *junk = guest_table(&f, 6);

	*junk = (grant_entry_v1_t){ .flags = GTF_accept_transfer, .frame = 21 };
	guest_table_done(junk);
	before = counts_take(f.hv);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 1, GNTMAP_host_map, &p, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 2, GNTMAP_host_map, &p, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 3, GNTMAP_host_map, &p, &h), GNTST_bad_page);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 4, GNTMAP_host_map, &p, &h), GNTST_bad_page);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 6, GNTMAP_host_map, &p, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 7, GNTMAP_host_map, &p, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 512, GNTMAP_host_map, &p, &h), GNTST_bad_gntref);
	CHECK_EQ(hv_gnttab_map(f.hv, 99, 1, GNTMAP_host_map, &p, &h), GNTST_bad_domain);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 1, 0, &p, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 1, GNTMAP_host_map | (1u << 9), &p, &h),
		 GNTST_general_error);
	CHECK_EQ(hv_gnttab_unmap(f.hv, 12345), GNTST_bad_handle);
	/* Failed claims leave the guest's entries as the guest wrote them. */
	CHECK_EQ(entry(&f, 1).flags, GTF_permit_access | GTF_readonly);
	CHECK_EQ(entry(&f, 3).flags, GTF_permit_access);
	CHECK(counts_unchanged(before, f.hv));
	/* Read-only is fine for the read-only grant. */
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 1, GNTMAP_host_map | GNTMAP_readonly, &p, &h),
		 GNTST_okay);
	CHECK_EQ(hv_gnttab_unmap(f.hv, h), GNTST_okay);
	domain_end(other);
	CHECK(teardown(&f));
}

static void grants_and_superpages_exclude(void)
{
	struct fixture f = setup(1);
	grant_handle_t h;
	void *p, *whole;

	hv_gnttab_grant_access(f.d, 8, HV_DOMID_DOM0, 600, false);       /* in the 2nd 2 MiB block */
	CHECK_EQ(hv_foreign_map(f.hv, f.id, 512, 512, HV_MAP_WRITE | HV_MAP_SUPERPAGE_ONLY, &whole), 0);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 8, GNTMAP_host_map, &p, &h), GNTST_general_error);
	CHECK_EQ(entry(&f, 8).flags, GTF_permit_access);
	CHECK_EQ(hv_foreign_unmap(f.hv, whole), 0);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 8, GNTMAP_host_map, &p, &h), GNTST_okay);
	CHECK_EQ(hv_foreign_map(f.hv, f.id, 512, 512, HV_MAP_WRITE | HV_MAP_SUPERPAGE_ONLY, &whole),
		 -EBUSY);
	CHECK_EQ(hv_gnttab_unmap(f.hv, h), GNTST_okay);
	CHECK(teardown(&f));
}

static void copy_between_grants_and_frames(void)
{
	struct fixture f = setup(1);
	struct gnttab_copy op = { 0 };
	struct counts *before;
	char buf[16];

	guest_write(f.hv, f.d, 30, 10, "source-data", 12);
	hv_gnttab_grant_access(f.d, 1, HV_DOMID_DOM0, 30, true);
	hv_gnttab_grant_access(f.d, 2, HV_DOMID_DOM0, 31, false);
	before = counts_take(f.hv);
	/* gref -> gref */
	op = (struct gnttab_copy){ .source = { .u.ref = 1, .domid = f.id, .offset = 10 },
				   .dest = { .u.ref = 2, .domid = f.id, .offset = 4000 },
				   .len = 12, .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref };
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_okay);
	CHECK_EQ(op.status, GNTST_okay);
	guest_read(f.hv, f.d, 31, 4000, buf, 12);
	CHECK(!memcmp(buf, "source-data", 12));
	/* gmfn -> gref and gref -> gmfn */
	op.source = (struct gnttab_copy_ptr){ .u.gmfn = 30, .domid = f.id, .offset = 10 };
	op.dest.offset = 0;
	op.flags = GNTCOPY_dest_gref;
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_okay);
	op.source = (struct gnttab_copy_ptr){ .u.ref = 2, .domid = f.id, .offset = 0 };
	op.dest = (struct gnttab_copy_ptr){ .u.gmfn = 32, .domid = f.id, .offset = 1 };
	op.flags = GNTCOPY_source_gref;
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_okay);
	guest_read(f.hv, f.d, 32, 1, buf, 12);
	CHECK(!memcmp(buf, "source-data", 12));
	/* Bad arguments. */
	op.dest.offset = 4090;
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_bad_copy_arg);     /* crosses a page */
	op.dest.offset = 0;
	op.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	op.dest.u.ref = 1;                                            /* read-only grant */
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_general_error);
	op.dest.u.ref = 700;
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_bad_gntref);
	op.flags = 1u << 5;
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_bad_copy_arg);
	op.flags = GNTCOPY_source_gref;
	op.dest.domid = 77;
	CHECK_EQ(hv_gnttab_copy(f.hv, &op), GNTST_bad_domain);
	CHECK(counts_unchanged(before, f.hv));
	CHECK_EQ(entry(&f, 2).flags, GTF_permit_access);
	CHECK(teardown(&f));
}

static void destroy_and_free_with_live_maps(void)
{
	struct fixture f = setup(1);
	grant_handle_t h;
	uint8_t *p;
	void *q;

	hv_gnttab_grant_access(f.d, 9, HV_DOMID_DOM0, 40, false);
	CHECK_EQ(hv_gnttab_map(f.hv, f.id, 9, GNTMAP_host_map, (void **)&p, &h), GNTST_okay);
	p[0] = 7;
	domain_end(f.d);
	CHECK_EQ(p[0], 7);                       /* the mapping keeps the frame */
	CHECK_EQ(hv_gnttab_unmap(f.hv, h), GNTST_okay);
	CHECK(counts_all_free(f.hv));
	/* And hv_free() releases mappings nobody unmapped (ASan and valgrind check). */
	f.d = test_domain(f.hv, MiB);
	uint64_t gfns[1];

	hv_gnttab_setup_table(f.d, 1, gfns);
	hv_gnttab_grant_access(f.d, 0, HV_DOMID_DOM0, 3, false);
	CHECK_EQ(hv_gnttab_map(f.hv, hv_domain_id(f.d), 0, GNTMAP_host_map, &q, &h), GNTST_okay);
	hv_domain_put(f.d);
	hv_free(f.hv);
}

/* ---- the guest racing the core on its entries --------------------------------------- */

struct flipper {
	struct fixture *f;
	atomic_bool stop;
};

static void *flip_entries(void *arg)
{
	struct flipper *fl = arg;
	uint32_t n = 0;

	while (!atomic_load(&fl->stop)) {
		/* Grant, revoke, regrant read-only, point elsewhere: a hostile guest. */
		switch (n++ % 4) {
		case 0: hv_gnttab_grant_access(fl->f->d, 3, HV_DOMID_DOM0, 50, false); break;
		case 1: hv_gnttab_end_access(fl->f->d, 3); break;
		case 2: hv_gnttab_grant_access(fl->f->d, 3, HV_DOMID_DOM0, 51, true); break;
		case 3: hv_gnttab_grant_access(fl->f->d, 3, 7, 50, false); break;
		}
		sched_yield();      /* interleave even where threads run one at a time */
	}
	return NULL;
}

static void entries_changing_under_the_map(void)
{
	struct fixture f = setup(1);
	struct flipper fl = { .f = &f };
	struct counts *before = counts_take(f.hv);
	unsigned int ok = 0, refused = 0;
	pthread_t t;

	pthread_create(&t, NULL, flip_entries, &fl);
	/* Until both outcomes were common: only then did the race really happen. */
	for (int i = 0; i < 400000 && (ok < 200 || refused < 200); i++) {
		grant_handle_t h;
		void *p;
		int16_t r = hv_gnttab_map(f.hv, f.id, 3, GNTMAP_host_map | GNTMAP_readonly, &p, &h);

		if (r == GNTST_okay) {
			ok++;
			CHECK_EQ(hv_gnttab_unmap(f.hv, h), GNTST_okay);
		} else {
			CHECK(r == GNTST_general_error);
			refused++;
		}
		sched_yield();
	}
	atomic_store(&fl.stop, true);
	pthread_join(t, NULL);
	printf("# %u mapped, %u refused\n", ok, refused);
	CHECK(ok > 0 && refused > 0);
	hv_gnttab_end_access(f.d, 3);
	CHECK(counts_unchanged(before, f.hv));
	CHECK(teardown(&f));
}

/* ---- many mappers while the table grows ------------------------------------------------ */

struct mapper {
	struct fixture *f;
	grant_ref_t first;
	unsigned int failures;
};

static void *map_unmap(void *arg)
{
	struct mapper *m = arg;

	for (int i = 0; i < 3000; i++) {
		grant_ref_t ref = m->first + (grant_ref_t)(i % 16);
		grant_handle_t h;
		void *p;

		if (hv_gnttab_map(m->f->hv, m->f->id, ref, GNTMAP_host_map | (i & 1 ? GNTMAP_readonly : 0),
				  &p, &h) != GNTST_okay || hv_gnttab_unmap(m->f->hv, h) != GNTST_okay)
			m->failures++;
	}
	return NULL;
}

static void mappers_while_the_table_grows(void)
{
	struct fixture f = setup(1);
	struct mapper m[4];
	pthread_t t[4];
	uint64_t gfns[HV_GNTTAB_DEFAULT_MAX_FRAMES];

	for (grant_ref_t r = 0; r < 64; r++)
		hv_gnttab_grant_access(f.d, r, HV_DOMID_DOM0, 100 + r, false);
	for (int i = 0; i < 4; i++) {
		m[i] = (struct mapper){ .f = &f, .first = (grant_ref_t)(16 * i) };
		pthread_create(&t[i], NULL, map_unmap, &m[i]);
	}
	for (unsigned int n = 2; n <= HV_GNTTAB_DEFAULT_MAX_FRAMES; n++)
		CHECK_EQ(hv_gnttab_setup_table(f.d, n, gfns), GNTST_okay);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(m[i].failures, 0);
	}
	for (grant_ref_t r = 0; r < 64; r++)
		CHECK_EQ(entry(&f, r).flags, GTF_permit_access);
	CHECK(teardown(&f));
}

/* ---- dom0 grants a frame to a guest ---------------------------------------------------- */

static void dom0_grants_a_frame_to_a_guest(void)
{
	struct hv *hv = test_hv(32 * MiB);
	struct hv_script *s = hv_script_new();
	struct vm_event_regs_x86 regs;
	struct hv_domain *d, *other;
	grant_handle_t h, h2;
	grant_ref_t ref, ro_ref, other_ref;
	uint64_t *shared, *ro_page, *other_page;
	const uint64_t hole = 0x10000;          /* above the guest's 2 MiB of RAM */

	hv_script_write(s, hole, 0, 8, 0x1122334455667788u);
	hv_script_read(s, hole, 8, 8);
	hv_script_pause_point(s);
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	other = test_domain(hv, MiB);
	CHECK_EQ(hv_gnttab_share(hv, hv_domain_id(d), false, &ref, (void **)&shared), 0);
	CHECK_EQ(hv_gnttab_share(hv, hv_domain_id(d), true, &ro_ref, (void **)&ro_page), 0);
	CHECK_EQ(hv_gnttab_share(hv, hv_domain_id(other), false, &other_ref, (void **)&other_page), 0);
	CHECK_EQ(hv_gnttab_share(hv, HV_DOMID_DOM0, false, &ref, (void **)&shared), -EINVAL);
	shared[1] = 0xabcdef;

	/* Bad requests change nothing. */
	struct counts *before = counts_take(hv);

	CHECK_EQ(hv_gnttab_guest_map(d, 200, hole, GNTMAP_host_map, &h), GNTST_bad_gntref);
	CHECK_EQ(hv_gnttab_guest_map(d, HV_DOM0_GRANTS, hole, GNTMAP_host_map, &h), GNTST_bad_gntref);
	CHECK_EQ(hv_gnttab_guest_map(d, other_ref, hole, GNTMAP_host_map, &h),
		 GNTST_permission_denied);
	CHECK_EQ(hv_gnttab_guest_map(d, ro_ref, hole, GNTMAP_host_map, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_guest_map(d, ref, 5, GNTMAP_host_map, &h), GNTST_bad_virt_addr);
	CHECK_EQ(hv_gnttab_guest_map(d, ref, HV_MAX_GFN + 1, GNTMAP_host_map, &h),
		 GNTST_bad_virt_addr);
	CHECK_EQ(hv_gnttab_guest_map(d, ref, hole, 0, &h), GNTST_general_error);
	CHECK_EQ(hv_gnttab_guest_unmap(d, 3), GNTST_bad_handle);
	CHECK_EQ(hv_gnttab_unshare(hv, 77), -ENOENT);
	CHECK(counts_unchanged(before, hv));

	CHECK_EQ(hv_gnttab_guest_map(d, ref, hole, GNTMAP_host_map, &h), GNTST_okay);
	CHECK_EQ(hv_gnttab_guest_map(d, ro_ref, hole + 1, GNTMAP_host_map | GNTMAP_readonly, &h2),
		 GNTST_okay);
	hv_domain_unpause(d);
	CHECK(wait_pause_point(hv_domain_vcpu(d, 0), 5000));
	CHECK_EQ(hv_vcpu_get_regs(hv_domain_vcpu(d, 0), &regs), 0);
	CHECK_EQ(regs.rax, 0xabcdef);               /* the guest read what dom0 wrote */
	CHECK_EQ(shared[0], 0x1122334455667788u);   /* and dom0 sees what it wrote */
	CHECK_EQ(hv_gnttab_unshare(hv, ref), -EBUSY);
	CHECK_EQ(hv_gnttab_guest_unmap(d, h), GNTST_okay);
	CHECK_EQ(hv_gnttab_guest_unmap(d, h), GNTST_bad_handle);
	struct hv_p2m_entry e;

	CHECK_EQ(hv_p2m_get_entry(d, hole, &e), -ENOENT);
	CHECK_EQ(hv_gnttab_unshare(hv, ref), 0);
	/* Destroying the guest gives back what it still maps. */
	CHECK_EQ(hv_gnttab_unshare(hv, ro_ref), -EBUSY);
	domain_end(d);
	CHECK_EQ(hv_gnttab_unshare(hv, ro_ref), 0);
	domain_end(other);
	/* other_ref stays shared: hv_free() must release it (ASan, valgrind). */
	hv_script_free(s);
	hv_free(hv);
}

T_MAIN(T_CASE(setup_and_query),
       T_CASE(map_write_read_unmap),
       T_CASE(guest_garbage_gets_status_codes),
       T_CASE(grants_and_superpages_exclude),
       T_CASE(copy_between_grants_and_frames),
       T_CASE(destroy_and_free_with_live_maps),
       T_CASE(entries_changing_under_the_map),
       T_CASE(mappers_while_the_table_grows),
       T_CASE(dom0_grants_a_frame_to_a_guest))
