/* SPDX-License-Identifier: MIT */
/*
 * altview/domain.h — guests: create, find, inspect, pause, destroy; their
 * memory; their vCPUs' registers.
 */
#ifndef ALTVIEW_DOMAIN_H
#define ALTVIEW_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <altview/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AV_PAGE_SHIFT 12
#define AV_PAGE_SIZE (1UL << AV_PAGE_SHIFT)

/* A handle on one domain; several handles may name the same domain. */
typedef struct av_domain av_domain;

/*
 * What a new domain is.  @engine names what runs its vCPUs:
 *   "script"  declared guest steps; @program is a JSON array of steps (or
 *             an array of such arrays, one per vCPU), see libaltview(3).
 *   "x86"     real x86-64 code; @program is a JSON string, the path of a
 *             static ELF64, or {"elf": PATH, "parallel": BOOL,
 *             "max_regions": N}.  A guest image that cannot run leaves the
 *             domain crashed, with the reason in av_domain_info.
 */
struct av_domain_spec {
	size_t sz;
	const char *name;           /* optional, for logs and info */
	uint64_t memory_bytes;      /* guest RAM from gfn 0: a multiple of 4 KiB */
	uint32_t nr_vcpus;          /* 0 (memory only) .. av_hv_info.max_vcpus */
	const char *engine;         /* required with vCPUs */
	const char *program;        /* engine-specific text */
	/* With no monitor for an access violation: crash (true) or relax the page. */
	bool access_required;
	uint32_t grant_frames;      /* grant table frames set up at boot; 0: none */
};

/*
 * Creates a domain, paused (av_domain_unpause() starts it): in this process
 * on "hv:", in altviewd on "altviewd:" (where the daemon's rules apply: an
 * x86 program is a file name in its program_dir, altviewd(8)).  A backend
 * that cannot create guests returns -EOPNOTSUPP.  Thread-safe.
 */
AV_API int av_domain_create(av_hv *hv, const struct av_domain_spec *spec, av_domain **out);

/*
 * The same from a JSON object:
 *   {"name": "demo", "memory_mib": 16, "vcpus": 2, "engine": "script",
 *    "program": [...], "access_required": false, "grant_frames": 1}
 * (or "memory_bytes" instead of "memory_mib").  A malformed spec fails with
 * -EINVAL and a log message naming the offending member or offset.
 */
AV_API int av_domain_create_json(av_hv *hv, const char *json, av_domain **out);

/*
 * Ids of the live domains, ascending, up to @max of them; returns how many
 * there are (which may exceed @max).  Thread-safe.
 */
AV_API int av_domain_list(av_hv *hv, uint32_t *ids, size_t max);

/* A handle on an existing domain; -ESRCH if there is none.  Thread-safe. */
AV_API int av_domain_open(av_hv *hv, uint32_t domid, av_domain **out);

/*
 * Releases the handle (not the domain).  Monitors opened through it must be
 * closed first (-EBUSY otherwise; the handle stays open).
 */
AV_API int av_domain_close(av_domain *dom);

enum av_domain_state {
	AV_DOMAIN_RUNNING = 1,
	AV_DOMAIN_PAUSED,
	AV_DOMAIN_CRASHED,
	AV_DOMAIN_DYING,
};

struct av_domain_info {
	size_t sz;
	uint32_t id;
	uint32_t nr_vcpus;
	uint64_t memory_bytes;
	enum av_domain_state state;
	char name[64];
	char crash_reason[128];     /* empty unless crashed */
	bool access_required;       /* a trapped access with no listener crashes the domain */
	uint32_t max_views;         /* room for views, view 0 included; 0 while views are disabled */
};

/* Fills @info up to info->sz (which the caller sets).  Thread-safe. */
AV_API int av_domain_get_info(av_domain *dom, struct av_domain_info *info);
AV_API uint32_t av_domain_id(const av_domain *dom);

/*
 * Pauses nest.  av_domain_pause() returns once no vCPU executes guest code.
 * Thread-safe.
 */
AV_API int av_domain_pause(av_domain *dom);
AV_API int av_domain_unpause(av_domain *dom);

/*
 * Waits until every vCPU has run its program to the end or the domain
 * crashed (0), or @timeout_ms passed (-ETIMEDOUT).  For engines whose
 * guests end (the script engine).  Thread-safe.
 */
AV_API int av_domain_wait_idle(av_domain *dom, int timeout_ms);

/*
 * What a trapped access does when no monitor listens for it: with
 * @required the domain crashes (Xen's xc_domain_set_access_required), else
 * the page's access is relaxed and the guest goes on.  The spec's
 * access_required is the start.  Through altviewd a client's requirement
 * lasts while it is connected, and the domain requires access while any
 * client (or its spec) does.
 */
AV_API int av_domain_set_access_required(av_domain *dom, bool required);

/*
 * Destroys the domain: its vCPUs stop, its views and monitors go.  Memory
 * still mapped into this process stays valid until unmapped.  The handle
 * must still be closed.  Not from an event handler of the same domain.
 */
AV_API int av_domain_destroy(av_domain *dom);

/* ---- guest memory ---------------------------------------------------------- */

enum av_map_flags {
	AV_MAP_WRITE = 1u << 0,
};

/*
 * Maps @nr frames of the domain from @gfn into this process (like
 * xenforeignmemory_map); 2 MiB-aligned runs use one superpage reference
 * each.  The mapping keeps the frames alive even after the domain dies.
 * Thread-safe.
 */
AV_API int av_map(av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr);
/* Unmaps what av_map() returned; -ENOENT for anything else.  Thread-safe. */
AV_API int av_unmap(av_domain *dom, void *addr);

/* @pages frames from byte @offset of the file av_map_export() hands out. */
struct av_frame_run {
	uint64_t offset;
	uint64_t pages;
};

/*
 * Lets another process map what the mapping at @addr (from av_map()) maps,
 * at memory speed: *@fd is a new descriptor of the file that holds the
 * frames, opened read-only unless the mapping is writable, and @runs say
 * where the mapping's frames lie in it, in order.  @nr_runs is the room in
 * @runs on entry and the number needed on return (-ENOSPC when short).
 * The file holds more than this mapping: give the descriptor only to whom
 * you would give all guest memory.  The frames stay allocated while the
 * mapping here lives, so unmap it only when the other process is done.
 * -EOPNOTSUPP where no file holds guest memory.  Thread-safe.
 */
AV_API int av_map_export(av_domain *dom, void *addr, int *fd, struct av_frame_run *runs,
			 size_t *nr_runs);

/* Copies guest-physical memory; may cross pages.  Thread-safe. */
AV_API int av_read(av_domain *dom, uint64_t gpa, void *buf, size_t len);
AV_API int av_write(av_domain *dom, uint64_t gpa, const void *buf, size_t len);

/* ---- vCPUs ----------------------------------------------------------------- */

/* The x86 state a monitor sees and may set (Xen's vm_event_regs_x86). */
struct av_regs_x86 {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags, dr6, dr7, rip;
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t msr_efer, msr_star, msr_lstar;
	uint64_t gdtr_base, fs_base, gs_base, shadow_gs;
	uint16_t gdtr_limit, cs_sel, ss_sel, ds_sel, es_sel, fs_sel, gs_sel, pad;
};

/* Pauses nest; pause returns once the vCPU executes nothing.  Thread-safe. */
AV_API int av_vcpu_pause(av_domain *dom, uint32_t vcpu);
AV_API int av_vcpu_unpause(av_domain *dom, uint32_t vcpu);
/* Only while the vCPU is paused (-EBUSY otherwise). */
AV_API int av_vcpu_get_regs(av_domain *dom, uint32_t vcpu, struct av_regs_x86 *regs);
AV_API int av_vcpu_set_regs(av_domain *dom, uint32_t vcpu, const struct av_regs_x86 *regs);
/*
 * Raises a single-step event after each guest step of the vCPU (Xen's
 * debug_control); the monitor must want AV_EVENT_SINGLESTEP.  Thread-safe.
 */
AV_API int av_vcpu_set_singlestep(av_domain *dom, uint32_t vcpu, bool enable);

#ifdef __cplusplus
}
#endif

#endif
