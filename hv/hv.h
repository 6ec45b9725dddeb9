/* SPDX-License-Identifier: MIT */
/*
 * hv.h — internal API of the embedded hypervisor core.
 *
 * This is not the product ABI (that is libaltview); it is the interface the
 * library backends, the tests and the benchmarks use.  All functions return
 * 0 or a positive value on success and a negative errno on failure.  A call
 * that fails leaves every reference count and table exactly as it found it.
 *
 * Vocabulary follows Xen: gfn = guest frame number, mfn = machine frame
 * number, p2m = the gfn -> mfn table of a domain, dom0 = the process that
 * uses the core.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame-map.h"
#include "limits.h"
#include "xen-public.h"

#define HV_PAGE_SHIFT        12
#define HV_PAGE_SIZE         (1UL << HV_PAGE_SHIFT)
#define HV_SUPERPAGE_ORDER   9
#define HV_SUPERPAGE_PAGES   (1UL << HV_SUPERPAGE_ORDER)
#define HV_SUPERPAGE_SIZE    (HV_PAGE_SIZE << HV_SUPERPAGE_ORDER)
#define HV_MAX_ORDER         18                    /* 1 GiB blocks */
#define HV_GFN_BITS          36                    /* 4 levels x 9 bits */
#define HV_MAX_GFN           ((UINT64_C(1) << HV_GFN_BITS) - 1)
#define HV_INVALID_MFN       UINT64_MAX
#define HV_INVALID_GFN       UINT64_MAX
#define HV_DOMID_DOM0        ((domid_t)0)
#define HV_MAX_DOMAINS       1024

struct hv;
struct hv_domain;
struct hv_vcpu;
struct hv_engine_ops;

/* ---- hypervisor instance ------------------------------------------------ */

enum hv_log_level { HV_LOG_ERR = 3, HV_LOG_WARNING = 4, HV_LOG_INFO = 6, HV_LOG_DEBUG = 7 };
typedef void hv_log_fn(void *ctx, enum hv_log_level level, const char *msg);

struct hv_opts {
	size_t sz;                  /* sizeof(struct hv_opts) */
	uint64_t machine_bytes;     /* machine memory; rounded down to 4 KiB */
	hv_log_fn *log;             /* optional; the core never prints */
	void *log_ctx;
};

int hv_new(const struct hv_opts *opts, struct hv **out);
void hv_free(struct hv *hv);

/* Machine memory as a file another process can map (frames at mfn << 12). */
int hv_machine_fd(const struct hv *hv);
uint64_t hv_machine_frames(const struct hv *hv);

/*
 * Reference operations performed so far: one per increment or decrement of
 * a page count, page type count, superpage count or superpage type count.
 * Exists so benchmarks and tests can count the work a path does.
 */
struct hv_stats {
	uint64_t page_ref_ops;
	uint64_t spage_ref_ops;
	uint64_t free_frames;
};
void hv_get_stats(struct hv *hv, struct hv_stats *st);

/* ---- frame table and superpage table ------------------------------------ */

/*
 * Page types are mutually exclusive per frame (Xen's PGT_* rule): a frame
 * with a non-zero type count only takes more references of the same type.
 * Every type except NONE and WRITABLE conflicts with superpage mapping.
 */
enum hv_page_type {
	HV_PGT_NONE = 0,
	HV_PGT_WRITABLE,        /* plain guest RAM mapped writable */
	HV_PGT_GRANT_TABLE,     /* holds a grant table */
	HV_PGT_VM_EVENT,        /* vm_event ring or slot buffer */
	HV_PGT_REMAPPED,        /* backs a different gfn in some view */
	HV_PGT__MAX,
};

#define HV_PGT_COUNT_MAX     0xffffu    /* type count width: 16 bits */
#define HV_SGT_COUNT_MAX     0xffffu

enum hv_spage_type { HV_SGT_NONE = 0, HV_SGT_SUPERPAGE = 1, HV_SGT_NOSUPER = 2 };

struct hv_frame_info {
	uint32_t count;             /* general references, including allocation */
	enum hv_page_type type;
	uint32_t type_count;
	domid_t owner;              /* DOMID_INVALID when free */
};

struct hv_spage_info {
	uint32_t count;
	enum hv_spage_type type;
	uint32_t type_count;
	bool enabled;               /* whole 2 MiB allocated to one domain at once */
};

int hv_frame_info(const struct hv *hv, uint64_t mfn, struct hv_frame_info *fi);
int hv_spage_info(const struct hv *hv, uint64_t mfn, struct hv_spage_info *si);

/*
 * Typed use of one frame of @d (grant table, vm_event buffer, view remap):
 * a page reference plus a type reference.  A conflicting type also takes a
 * NOSUPER reference on the frame's superpage and fails with -EBUSY while
 * that 2 MiB block is mapped as a superpage.
 */
int hv_frame_get_typed(struct hv_domain *d, uint64_t mfn, enum hv_page_type type);
int hv_frame_put_typed(struct hv_domain *d, uint64_t mfn, enum hv_page_type type);

/* ---- domains -------------------------------------------------------------- */

struct hv_domain_opts {
	size_t sz;
	uint64_t memory_bytes;      /* guest RAM from gfn 0; multiple of 4 KiB */
	unsigned int nr_vcpus;      /* 0 (memory only) .. ALTVIEW_MAX_VCPUS */
	const struct hv_engine_ops *engine;   /* required with vCPUs */
	const void *engine_config;  /* engine specific, e.g. hv_script_config */
	/*
	 * With no mem_access listener a violation relaxes the entry to rwx;
	 * with access_required it crashes the domain instead (Xen's rule).
	 */
	bool access_required;
	unsigned int max_grant_frames;  /* 0: HV_GNTTAB_DEFAULT_MAX_FRAMES */
	/* The grant table lock; the alternatives exist to be measured against it. */
	enum hv_grant_lock {
		HV_GRANT_LOCK_PER_THREAD = 0,   /* the per-thread reader lock */
		HV_GRANT_LOCK_PTHREAD,          /* pthread_rwlock_t */
		HV_GRANT_LOCK_ATOMIC,           /* a counter rwlock: one shared line */
	} grant_lock;
};

/* Returns a reference the caller releases with hv_domain_put(). */
int hv_domain_create(struct hv *hv, const struct hv_domain_opts *opts, struct hv_domain **out);
/* Looks a live domain up and takes a reference. */
int hv_domain_get(struct hv *hv, domid_t id, struct hv_domain **out);
void hv_domain_put(struct hv_domain *d);
/*
 * dom0 wrote [gfn, gfn + nr) of the guest (a breakpoint, a patch): an engine
 * that translates guest code drops what it made from those pages.
 */
void hv_domain_code_written(struct hv_domain *d, uint64_t gfn, uint64_t nr);
/* Ids of the live domains, ascending, up to @max; returns how many there are. */
int hv_domain_list(struct hv *hv, domid_t *ids, size_t max);
/*
 * Removes the domain from the table and tears its p2m down.  Its memory goes
 * back to the heap when the last reference (a dom0 mapping, say) is gone.
 */
int hv_domain_destroy(struct hv_domain *d);

domid_t hv_domain_id(const struct hv_domain *d);
unsigned int hv_domain_nr_vcpus(const struct hv_domain *d);
struct hv_vcpu *hv_domain_vcpu(struct hv_domain *d, unsigned int id);

/*
 * Domains are created paused (pause count 1), like Xen's.  Pauses nest;
 * hv_domain_pause() returns once no vCPU executes guest steps.
 */
int hv_domain_pause(struct hv_domain *d);
int hv_domain_unpause(struct hv_domain *d);

enum hv_domain_state { HV_DOMAIN_RUNNING, HV_DOMAIN_PAUSED, HV_DOMAIN_CRASHED, HV_DOMAIN_DYING };
enum hv_domain_state hv_domain_state(struct hv_domain *d);
/* Why the domain crashed, or NULL. */
const char *hv_domain_crash_reason(struct hv_domain *d);
/*
 * Waits until every vCPU has finished its program, the domain crashed, or
 * @timeout_ms passed (-ETIMEDOUT).  A vCPU paused at a pause point or by the
 * monitor has not finished.
 */
int hv_domain_wait_idle(struct hv_domain *d, int timeout_ms);
uint64_t hv_domain_tot_pages(const struct hv_domain *d);
/* What a trapped access with no listener does from now on (hv_domain_opts.access_required). */
void hv_domain_set_access_required(struct hv_domain *d, bool required);
bool hv_domain_access_required(struct hv_domain *d);
/* Allocation blocks of the domain, in gfn order: returns the count. */
size_t hv_domain_blocks(const struct hv_domain *d, uint64_t *mfn, unsigned int *order, size_t max);

/* ---- host p2m --------------------------------------------------------------- */

enum hv_p2m_type {
	HV_P2M_INVALID = 0,
	HV_P2M_RAM_RW,
	HV_P2M_RAM_RO,
	HV_P2M__MAX,
};

struct hv_p2m_entry {
	uint64_t mfn;               /* of this gfn (not of the leaf's start) */
	enum hv_p2m_type type;
	xenmem_access_t access;     /* XENMEM_access_n .. XENMEM_access_n2rwx */
	bool suppress_ve;
	unsigned int order;         /* 0: 4 KiB leaf, 9: 2 MiB leaf */
};

/* -ENOENT for a gfn with no entry. */
int hv_p2m_get_entry(struct hv_domain *d, uint64_t gfn, struct hv_p2m_entry *e);
/*
 * Sets the leaf for @gfn of size 1 << e->order.  An order-0 change inside a
 * 2 MiB leaf splits that leaf into 512 entries first; an order-9 set
 * replaces whatever was below.  e->type == HV_P2M_INVALID removes.
 */
int hv_p2m_set_entry(struct hv_domain *d, uint64_t gfn, const struct hv_p2m_entry *e);
/* Page-table pages the p2m uses (for memory accounting and tests). */
uint64_t hv_p2m_tables(struct hv_domain *d);

/* ---- foreign mapping into dom0 (xenforeignmemory_map) ---------------------- */

enum hv_map_flags {
	HV_MAP_WRITE          = 1u << 0,
	HV_MAP_4K             = 1u << 1,  /* never use the superpage path */
	HV_MAP_SUPERPAGE_ONLY = 1u << 2,  /* -EBUSY instead of falling back to 4 KiB */
};

/*
 * Maps @nr frames of domain @domid from @gfn into this process.  A 2 MiB
 * aligned, enabled, host-2M-mapped chunk takes one superpage reference;
 * anything else one page reference per frame.
 */
int hv_foreign_map(struct hv *hv, domid_t domid, uint64_t gfn, size_t nr,
		   unsigned int flags, void **addr);
/* -ENOENT for an address that is not the start of a live mapping. */
int hv_foreign_unmap(struct hv *hv, void *addr);

/*
 * Lets another process map what the mapping at @addr maps: *@fd is a new
 * descriptor of machine memory, opened read-only unless the mapping is
 * writable (so a writable shared mapping of it is refused), and @runs, in
 * the mapping's order, say where its frames lie.  @nr_runs is the room in
 * @runs on entry and the number needed on return; -ENOSPC when too few.
 * The frames stay the mapping's references: export nothing it will not hold.
 */
int hv_foreign_export(struct hv *hv, void *addr, int *fd, struct frame_run *runs,
		      size_t *nr_runs);

/* ---- alternate views (altp2m) ----------------------------------------------- */

#define HV_DEFAULT_MAX_VIEWS  10

/*
 * View 0 is the host p2m and always exists; the others are sparse: they
 * store only the entries they changed and fall through to the host p2m
 * for the rest.  Errors: -EOPNOTSUPP views not enabled, -EINVAL index out
 * of range or bad argument, -ENOENT no such view / gfn not in the domain,
 * -ENOSPC no free view, -EBUSY view in use.
 */
int hv_views_enable(struct hv_domain *d, unsigned int max_views);   /* 0: default */
/* Returns every vCPU to view 0 and destroys all views. */
int hv_views_disable(struct hv_domain *d);
/* The room for views while they are enabled (view 0 included); 0 while not. */
unsigned int hv_views_max(struct hv_domain *d);
int hv_view_create(struct hv_domain *d, xenmem_access_t default_access, unsigned int *idx);
int hv_view_destroy(struct hv_domain *d, unsigned int idx);
/* Switches every vCPU (the domain is paused meanwhile); -EPERM for a hidden view (Xen's rule). */
int hv_view_switch(struct hv_domain *d, unsigned int idx);
/* A hidden view is entered only one vCPU at a time, by the monitor, never by the guest. */
int hv_view_set_visible(struct hv_domain *d, unsigned int idx, bool visible);

/*
 * Access in a view.  XENMEM_access_default means the view's default access
 * (for view 0, the domain's).  Ranges and batches are checked whole before
 * anything changes; a batch reports the index of the first bad element.
 */
int hv_view_set_access(struct hv_domain *d, unsigned int idx, uint64_t gfn, uint64_t nr,
		       xenmem_access_t access);
int hv_view_set_access_multi(struct hv_domain *d, unsigned int idx, const uint64_t *gfns,
			     const xenmem_access_t *access, size_t n, size_t *failed);
int hv_view_get_access(struct hv_domain *d, unsigned int idx, uint64_t gfn,
		       xenmem_access_t *access);
int hv_view_set_default_access(struct hv_domain *d, unsigned int idx, xenmem_access_t access);
int hv_view_get_default_access(struct hv_domain *d, unsigned int idx, xenmem_access_t *access);
/* View 0 always; others between create and destroy.  Safe inside a vm_event handler. */
bool hv_view_exists(struct hv_domain *d, unsigned int idx);
/*
 * In view @idx (not 0), back @old_gfn with @new_gfn's frame;
 * @new_gfn == HV_INVALID_GFN reverts @old_gfn to the host entry.
 */
int hv_view_change_gfn(struct hv_domain *d, unsigned int idx, uint64_t old_gfn, uint64_t new_gfn);
/* The entry a vCPU in view @idx sees for @gfn. */
int hv_view_get_entry(struct hv_domain *d, unsigned int idx, uint64_t gfn, struct hv_p2m_entry *e);
/* Changed entries and bytes of memory a view uses (0 for view 0). */
int hv_view_usage(struct hv_domain *d, unsigned int idx, uint64_t *entries, uint64_t *bytes);

/* ---- vCPUs ------------------------------------------------------------------ */

unsigned int hv_vcpu_id(const struct hv_vcpu *v);
struct hv_domain *hv_vcpu_domain(struct hv_vcpu *v);
/* Pauses nest; hv_vcpu_pause() returns once the vCPU executes nothing. */
int hv_vcpu_pause(struct hv_vcpu *v);
int hv_vcpu_unpause(struct hv_vcpu *v);
/* True while the vCPU waits at a pause point of its program. */
bool hv_vcpu_at_pause_point(struct hv_vcpu *v);
/* The monitor's path: any existing view, hidden or not. */
int hv_vcpu_switch_view(struct hv_vcpu *v, unsigned int idx);
unsigned int hv_vcpu_view(struct hv_vcpu *v);
/* Registers in Xen's vm_event shape; read or set while the vCPU is paused. */
int hv_vcpu_get_regs(struct hv_vcpu *v, struct vm_event_regs_x86 *regs);
int hv_vcpu_set_regs(struct hv_vcpu *v, const struct vm_event_regs_x86 *regs);
/*
 * Raise a SINGLESTEP event after every guest step (Xen's debug_control); a
 * response with VM_EVENT_FLAG_TOGGLE_SINGLESTEP flips the same switch.
 */
int hv_vcpu_set_singlestep(struct hv_vcpu *v, bool enable);

struct hv_vcpu_stats {
	uint64_t steps;             /* guest steps (script) or instructions */
	uint64_t singlesteps;       /* SINGLESTEP events raised */
	uint64_t accesses;          /* memory accesses completed */
	uint64_t sync_events, async_events;
	uint64_t denied_view_switches;   /* guest asked for a hidden view */
};
void hv_vcpu_get_stats(struct hv_vcpu *v, struct hv_vcpu_stats *st);

/* ---- events (the vm_event layer plugs in here) ------------------------------- */

/*
 * An event a vCPU raises.  @reason is VM_EVENT_REASON_*; for synchronous
 * events the vCPU waits until hv_vcpu_respond() (from any thread, before or
 * after the listener returns).  Field meanings follow vm_event_request_t.
 */
struct hv_event {
	uint32_t reason;
	uint32_t vcpu_id;
	uint16_t view;
	bool views_on;                      /* alternate views are enabled */
	bool sync;
	union {
		struct {
			uint64_t gfn, offset, gla;
			uint32_t flags;          /* MEM_ACCESS_R/W/X | MEM_ACCESS_GLA_VALID */
		} mem_access;
		struct {
			uint64_t gfn;
			uint32_t insn_length;
		} software_breakpoint;
		struct {
			uint32_t leaf, subleaf, insn_length;
		} cpuid;
		struct {
			uint64_t gfn;
		} singlestep;
	} u;
	struct vm_event_regs_x86 regs;
};

/* A decision: VM_EVENT_FLAG_* and the data those flags refer to. */
struct hv_response {
	uint32_t flags;
	uint16_t view;                      /* with VM_EVENT_FLAG_ALTERNATE_P2M */
	uint16_t fast_singlestep_view;      /* with VM_EVENT_FLAG_FAST_SINGLESTEP */
	struct vm_event_regs_x86 regs;      /* with VM_EVENT_FLAG_SET_REGISTERS */
};

#define HV_RESPONSE_FLAGS (VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE | \
			   VM_EVENT_FLAG_DENY | VM_EVENT_FLAG_ALTERNATE_P2M | \
			   VM_EVENT_FLAG_SET_REGISTERS | VM_EVENT_FLAG_TOGGLE_SINGLESTEP | \
			   VM_EVENT_FLAG_FAST_SINGLESTEP)

typedef void hv_event_fn(void *ctx, struct hv_vcpu *v, const struct hv_event *ev);

/*
 * The listener for the reasons in @reasons (bit 1 << VM_EVENT_REASON_*).
 * Calls never overlap a change of listener: once this returns, the old one
 * is not called again.  Removing it (@fn NULL) resumes every vCPU that
 * waits for an answer, as if answered with no flags.
 */
int hv_domain_set_listener(struct hv_domain *d, uint32_t reasons, hv_event_fn *fn, void *ctx);
/* Changes only which reasons go to the listener: never waits for it. */
int hv_domain_set_listener_reasons(struct hv_domain *d, uint32_t reasons);
/*
 * Answers the synchronous event @v waits for.  -ENOENT when it waits for
 * none (already answered); -EINVAL for unknown flags or a view that does
 * not exist; nothing changes then and the vCPU keeps waiting.
 */
int hv_vcpu_respond(struct hv_vcpu *v, const struct hv_response *resp);

/* ---- the script engine --------------------------------------------------------- */

/*
 * A program of guest steps for deterministic tests and benchmarks of the
 * core: every access goes through the vCPU's active view.  Builders return
 * 0 or -EINVAL (and the script remembers the first error: hv_script_check).
 */
struct hv_script;

struct hv_script *hv_script_new(void);
void hv_script_free(struct hv_script *s);
/* Loads @len (1..4096) bytes; the first 8 land in regs.rax. */
int hv_script_read(struct hv_script *s, uint64_t gfn, uint32_t offset, uint32_t len);
/* Stores @len bytes of @value (little endian, repeated). */
int hv_script_write(struct hv_script *s, uint64_t gfn, uint32_t offset, uint32_t len,
		    uint64_t value);
/* Fetches @len bytes of instructions. */
int hv_script_exec(struct hv_script *s, uint64_t gfn, uint32_t offset, uint32_t len);
int hv_script_int3(struct hv_script *s, uint64_t gfn, uint32_t offset);
int hv_script_cpuid(struct hv_script *s, uint32_t leaf, uint32_t subleaf);
int hv_script_guest_request(struct hv_script *s);
/* The guest asks for view @idx itself (VMFUNC): refused for hidden views. */
int hv_script_switch_view(struct hv_script *s, unsigned int idx);
/* The vCPU pauses itself here until hv_vcpu_unpause(). */
int hv_script_pause_point(struct hv_script *s);
/* Steps between loop_begin and loop_end run @count times; loops nest 8 deep. */
int hv_script_loop_begin(struct hv_script *s, uint32_t count);
int hv_script_loop_end(struct hv_script *s);
/* 0 when the script is complete and well formed. */
int hv_script_check(const struct hv_script *s);

struct hv_script_config {
	size_t nr;                          /* 1: the same script for every vCPU */
	const struct hv_script *const *scripts;
};

extern const struct hv_engine_ops hv_script_engine;

/* ---- the x86 engine -------------------------------------------------------------------- */

/*
 * Real x86-64 code (Unicorn): a static ELF64 loaded by its PT_LOAD segments
 * at their physical addresses; each vCPU starts at the entry with its id in
 * rdi and a 64 KiB stack at the top of RAM (vCPU 0 highest), flat, no
 * paging.  Traps: protection faults (MEM_ACCESS), int3, TF single steps,
 * CPUID, and vmcall hypercalls with Xen's numbers: console_io, sched_op
 * (shutdown ends the vCPU, as hlt does), hvm_op guest request,
 * event_channel_op (alloc_unbound, send, close), grant_table_op
 * (setup_table, query_size).  An image that cannot run crashes the domain
 * with the reason.
 */
struct hv_x86_config {
	const void *image;          /* read during hv_domain_create() only */
	size_t image_size;
	/* The guest uses no atomics across vCPUs: run them in parallel. */
	bool parallel;
	unsigned int max_regions;   /* engine regions per vCPU; 0: 1024 */
};

extern const struct hv_engine_ops hv_x86_engine;

/* ---- event channels ----------------------------------------------------------- */

#define HV_EVTCHN_PORTS 4096        /* Xen's 2-level ABI on 64-bit */

/*
 * Guest-side operations on a domain's ports (the hypercall semantics of
 * Xen's event_channel_op).  Ports are EVTCHNSTAT_* in status; a send to a
 * port being rebound or closed is dropped, as in Xen.
 */
int hv_evtchn_alloc_unbound(struct hv_domain *d, domid_t remote);
int hv_evtchn_bind_interdomain(struct hv_domain *d, domid_t remote, evtchn_port_t remote_port);
int hv_evtchn_bind_virq(struct hv_domain *d, uint32_t virq, unsigned int vcpu);
int hv_evtchn_bind_ipi(struct hv_domain *d, unsigned int vcpu);
int hv_evtchn_send(struct hv_domain *d, evtchn_port_t port);
int hv_evtchn_close(struct hv_domain *d, evtchn_port_t port);
int hv_evtchn_unmask(struct hv_domain *d, evtchn_port_t port);
int hv_evtchn_mask(struct hv_domain *d, evtchn_port_t port);
int hv_evtchn_status(struct hv_domain *d, evtchn_port_t port, struct evtchn_status *st);
/* Tests and clears the guest-side pending bit (what a guest upcall does). */
int hv_evtchn_test_and_clear(struct hv_domain *d, evtchn_port_t port);
/* The core raising a virtual interrupt (VIRQ_*) for the domain. */
int hv_evtchn_raise_virq(struct hv_domain *d, uint32_t virq);

/*
 * dom0's side, shaped like libxenevtchn: a handle with one pollable fd.
 * pending() returns the next port that fired and masks it; unmask() after
 * handling re-arms it, and a port that fired meanwhile makes the fd
 * readable again, so no notification is lost between the two.
 */
struct hv_evtchn_handle;

int hv_evtchn_open(struct hv *hv, struct hv_evtchn_handle **out);
/* Closes the handle and unbinds every port bound through it. */
void hv_evtchn_handle_close(struct hv_evtchn_handle *h);
int hv_evtchn_fd(const struct hv_evtchn_handle *h);
int hv_evtchn_bind_interdomain_port(struct hv_evtchn_handle *h, domid_t domid,
				    evtchn_port_t remote_port);
int hv_evtchn_bind_unbound_port(struct hv_evtchn_handle *h, domid_t domid);
int hv_evtchn_unbind(struct hv_evtchn_handle *h, evtchn_port_t port);
int hv_evtchn_notify(struct hv_evtchn_handle *h, evtchn_port_t port);
/* The next pending port, or -EAGAIN. */
int hv_evtchn_pending(struct hv_evtchn_handle *h);
int hv_evtchn_unmask_port(struct hv_evtchn_handle *h, evtchn_port_t port);

/*
 * Another process may use a handle: export gives the three descriptors it
 * needs (shared state, "up" eventfd, "down" eventfd), import builds a handle
 * from them there.  An imported handle can wait, read pending ports, unmask
 * and notify; binding stays with the exporting process.
 */
struct hv_evtchn_export {
	int shm_fd, up_fd, down_fd;
};
int hv_evtchn_export(struct hv_evtchn_handle *h, struct hv_evtchn_export *ex);
int hv_evtchn_import(const struct hv_evtchn_export *ex, struct hv_evtchn_handle **out);

/* ---- vm_event: monitoring a domain ------------------------------------------ */

enum hv_monitor_transport {
	HV_MONITOR_CHANNELS,        /* a slot per vCPU + an async ring (default) */
	HV_MONITOR_RING,            /* Xen's single shared ring */
};

/*
 * One slot per vCPU for synchronous events (altview's form of the slotted
 * channels RFC): the vCPU writes a request and SUBMIT, the monitor writes a
 * response over it and FINISH, the vCPU takes it back to IDLE.  Whoever
 * sleeps on state (futex) sets its flag first, so the other side knows to
 * wake it.  Slots are HV_VM_EVENT_SLOT_SIZE apart, each on its own lines.
 */
enum { HV_SLOT_IDLE = 0, HV_SLOT_SUBMIT = 1, HV_SLOT_FINISH = 2 };

struct hv_vm_event_slot {
	uint32_t state;
	uint8_t vcpu_sleeping;
	uint8_t monitor_sleeping;
	uint16_t pad;
	union {
		vm_event_request_t req;
		vm_event_response_t rsp;
	} u;
};

#define HV_VM_EVENT_SLOT_SIZE 512

struct hv_monitor_opts {
	size_t sz;
	enum hv_monitor_transport transport;
	unsigned int ring_pages;    /* 0: 1 page (8 entries, Xen's default) */
};

/* What a consumer needs to find the buffers and ports. */
struct hv_monitor_info {
	domid_t domid;
	enum hv_monitor_transport transport;
	unsigned int nr_vcpus;
	int fd;                     /* memfd holding ring and slots */
	uint64_t size;
	uint64_t ring_offset;
	unsigned int ring_pages;
	evtchn_port_t ring_port;    /* in the monitored domain */
	uint64_t slots_offset;      /* channels only */
	evtchn_port_t slot_ports[ALTVIEW_MAX_VCPUS];
};

struct hv_monitor_stats {
	uint64_t requests, responses;
	uint64_t bad_responses;     /* rejected answers: the vCPU kept waiting */
	uint64_t bad_slot_states;   /* slot states a monitor scribbled over */
	uint64_t async_dropped;     /* async ring full */
	uint64_t ring_waits;        /* a vCPU waited for ring space */
};

struct hv_monitor;

/* -EBUSY when the domain is monitored already (Xen's rule). */
int hv_monitor_enable(struct hv_domain *d, const struct hv_monitor_opts *opts,
		      struct hv_monitor **out);
/* Resumes every vCPU waiting for an answer and frees the buffers. */
int hv_monitor_disable(struct hv_monitor *mon);
/* Which VM_EVENT_REASON_* are delivered (bits 1 << reason); none at first. */
int hv_monitor_set_reasons(struct hv_monitor *mon, uint32_t reasons);
int hv_monitor_get_info(struct hv_monitor *mon, struct hv_monitor_info *info);
/*
 * Channels only: called on the vCPU's own thread, inside the event, with
 * the request already in @vcpu's slot (SUBMIT), before the vCPU waits for
 * FINISH.  A monitor in the core's process answers there and then
 * (hv_consumer_respond) and saves the hand-off to a thread of its own,
 * which on a busy machine is a sleep and a wake-up per event.  Called again
 * for a request put back after a rejected answer.  Set once (-EBUSY after),
 * until hv_monitor_disable(), which waits for calls in progress.
 */
typedef void hv_monitor_handler_fn(void *ctx, unsigned int vcpu);
int hv_monitor_set_handler(struct hv_monitor *mon, hv_monitor_handler_fn *fn, void *ctx);
void hv_monitor_get_stats(struct hv_monitor *mon, struct hv_monitor_stats *st);

#define HV_MONITOR_REASONS ((1u << VM_EVENT_REASON_MEM_ACCESS) | \
			    (1u << VM_EVENT_REASON_SOFTWARE_BREAKPOINT) | \
			    (1u << VM_EVENT_REASON_SINGLESTEP) | \
			    (1u << VM_EVENT_REASON_CPUID) | \
			    (1u << VM_EVENT_REASON_GUEST_REQUEST) | \
			    (1u << VM_EVENT_REASON_WRITE_CTRLREG))

/*
 * The consumer side, usable in this process or (export/import) in another
 * one.  Two ways to take requests: hv_consumer_wait() on one vCPU's slot
 * (a thread per vCPU; channels only) or hv_consumer_next() for whatever is
 * there, async ring first.  Asynchronous requests are acknowledged by
 * next() itself; synchronous ones need hv_consumer_respond().
 */
struct hv_consumer;

int hv_consumer_open(const struct hv_monitor_info *info, struct hv_evtchn_handle *h,
		     struct hv_consumer **out);
void hv_consumer_close(struct hv_consumer *c);
int hv_consumer_fd(const struct hv_consumer *c);
int hv_consumer_wait(struct hv_consumer *c, unsigned int vcpu, int timeout_ms,
		     vm_event_request_t *req);
int hv_consumer_next(struct hv_consumer *c, vm_event_request_t *req);
/* Only the async ring (channels): for consumers that take each slot with wait(). */
int hv_consumer_next_async(struct hv_consumer *c, vm_event_request_t *req);
int hv_consumer_respond(struct hv_consumer *c, const vm_event_response_t *rsp);

struct hv_consumer_export {
	struct hv_monitor_info info;            /* fd: the buffers */
	struct hv_evtchn_export evtchn;
	evtchn_port_t local_ring_port;
	evtchn_port_t local_slot_ports[ALTVIEW_MAX_VCPUS];
};
int hv_consumer_export(struct hv_consumer *c, struct hv_consumer_export *ex);
int hv_consumer_import(const struct hv_consumer_export *ex, struct hv_consumer **out);

/* ---- grant tables (Xen v1) --------------------------------------------------- */

#define HV_GNTTAB_DEFAULT_MAX_FRAMES 32
/* Where a domain's table frames appear in its p2m (above any guest RAM). */
#define HV_GNTTAB_GFN_BASE UINT64_C(0xff000000)

/*
 * The guest's table operations (GNTTABOP_setup_table / query_size): grow the
 * table to @nr_frames (never shrinks) and return where its frames are.
 * Results are GNTST_* codes, as Xen's hypercalls report them.
 */
int hv_gnttab_setup_table(struct hv_domain *d, unsigned int nr_frames, uint64_t *gfns);
int hv_gnttab_query_size(struct hv_domain *d, unsigned int *nr_frames, unsigned int *max_frames);

/*
 * dom0 maps a grant of @granter into its address space (GNTMAP_host_map,
 * optionally GNTMAP_readonly), unmaps it by handle, or copies between
 * grants and frames (struct gnttab_copy; never across a page).
 */
int16_t hv_gnttab_map(struct hv *hv, domid_t granter, grant_ref_t ref, uint32_t flags,
		      void **addr, grant_handle_t *handle);
int16_t hv_gnttab_unmap(struct hv *hv, grant_handle_t handle);
int16_t hv_gnttab_copy(struct hv *hv, struct gnttab_copy *op);
/* As hv_foreign_export(), for the page a grant mapping maps: at byte *@offset. */
int hv_gnttab_export(struct hv *hv, grant_handle_t handle, int *fd, uint64_t *offset);

/*
 * What a guest does to its own table (Linux's gnttab_grant_foreign_access /
 * end_foreign_access_ref), for the script engine and tests: -EBUSY while
 * the grant is in use.
 */
int hv_gnttab_grant_access(struct hv_domain *d, grant_ref_t ref, domid_t domid, uint64_t gfn,
			   bool readonly);
int hv_gnttab_end_access(struct hv_domain *d, grant_ref_t ref);

/*
 * dom0 grants guests frames of its own (like gntalloc): share allocates a
 * frame owned by dom0 and returns its grant reference and dom0's mapping;
 * unshare ends it (-EBUSY while a guest maps it).  The guest maps such a
 * grant at a gfn of its p2m where nothing is (GNTTABOP_map_grant_ref with
 * GNTMAP_host_map in an HVM guest); destroying the guest releases its maps.
 */
#define HV_DOM0_GRANTS 256

int hv_gnttab_share(struct hv *hv, domid_t guest, bool readonly, grant_ref_t *ref, void **addr);
int hv_gnttab_unshare(struct hv *hv, grant_ref_t ref);
int16_t hv_gnttab_guest_map(struct hv_domain *d, grant_ref_t ref, uint64_t gfn, uint32_t flags,
			    grant_handle_t *handle);
int16_t hv_gnttab_guest_unmap(struct hv_domain *d, grant_handle_t handle);
