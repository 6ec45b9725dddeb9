/* SPDX-License-Identifier: MIT */
/*
 * bench-memory — a monitor's reach into the guest, in process and through
 * altviewd, in the same run: reading all of a guest's memory through a
 * mapping (hv:), through the daemon's mapping (MapMemory, root), and
 * through ReadMemory in 64 KiB calls; and reading a vCPU's registers in
 * process and through the daemon: inside an event the vCPU waits in (what
 * a monitor does; through altviewd the event's registers, known fresh)
 * and while the domain is paused (through altviewd, GetRegisters).
 *
 *   bench-memory ADDRESS [MIB [ROUNDS]]     (defaults: 256 MiB, 5 rounds)
 *
 * One JSON line per round and path, then a summary line of medians.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>

#include "bench.h"

#define COPY_CALL (64u << 10)
#define REG_READS 20000

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-memory: %s: %s\n", what, strerror(-r));
	exit(1);
}

/* Every word summed, so that no read can be left out. */
static uint64_t sum(const uint64_t *p, size_t bytes)
{
	uint64_t s = 0;

	for (size_t i = 0; i < bytes / 8; i++)
		s += p[i];
	return s;
}

struct side {
	const char *name;
	av_hv *hv;
	av_domain *dom;
};

/* A guest of @mib MiB with one vCPU, paused, its memory written with a pattern. */
static void side_open(struct side *s, const char *name, const char *uri, uint32_t mib)
{
	AV_OPTS(av_open_opts, oo, .machine_bytes = ((uint64_t)mib + 64) << 20);
	char spec[256];
	uint64_t *p;
	int r;

	s->name = name;
	if ((r = av_open(uri, &oo, &s->hv)) < 0)
		die(uri, r);
	snprintf(spec, sizeof(spec), "{\"name\": \"bench-%s\", \"memory_mib\": %u, \"vcpus\": 1, "
		 "\"engine\": \"script\", \"program\": [{\"op\": \"guest_request\"}]}", name, mib);
	if ((r = av_domain_create_json(s->hv, spec, &s->dom)) < 0)
		die("a guest", r);
	if ((r = av_map(s->dom, 0, (size_t)mib << 8, AV_MAP_WRITE, (void **)&p)) < 0)
		die("mapping it to fill it", r);
	for (size_t i = 0; i < ((size_t)mib << 20) / 8; i++)
		p[i] = i * 0x9e3779b97f4a7c15ull;
	av_unmap(s->dom, p);
	/* Left paused, as it was created, so that its registers may be read. */
}

static void side_close(struct side *s)
{
	av_domain_destroy(s->dom);
	av_domain_close(s->dom);
	av_close(s->hv);
}

/* Mapped, read whole, unmapped: GiB/s; and how long the map and unmap calls took (ms). */
static double read_mapped(struct side *s, uint32_t mib, uint64_t *check, double *map_ms,
			  double *unmap_ms)
{
	uint64_t t0 = now_ns(), t1, t2;
	uint64_t *p;
	int r = av_map(s->dom, 0, (size_t)mib << 8, 0, (void **)&p);

	if (r < 0)
		die("mapping", r);
	t1 = now_ns();
	*check = sum(p, (size_t)mib << 20);
	t2 = now_ns();
	av_unmap(s->dom, p);
	*map_ms = (double)(t1 - t0) * 1e-6;
	*unmap_ms = (double)(now_ns() - t2) * 1e-6;
	return (double)mib / 1024 / ((double)(now_ns() - t0) * 1e-9);
}

/* Copied in COPY_CALL calls (through altviewd, a ReadMemory each): GiB/s. */
static double read_copied(struct side *s, uint32_t mib, uint64_t *check)
{
	uint64_t *buf = malloc(COPY_CALL), t0 = now_ns(), total = 0;
	int r;

	if (!buf)
		die("a buffer", -ENOMEM);
	for (uint64_t off = 0; off < (uint64_t)mib << 20; off += COPY_CALL) {
		if ((r = av_read(s->dom, off, buf, COPY_CALL)) < 0)
			die("ReadMemory", r);
		total += sum(buf, COPY_CALL);
	}
	*check = total;
	free(buf);
	return (double)mib / 1024 / ((double)(now_ns() - t0) * 1e-9);
}

/* Median and 99th percentile of a register read, in microseconds. */
static void time_regs(struct side *s, double *p50, double *p99)
{
	static uint64_t ns[REG_READS];
	struct av_regs_x86 regs;
	int r;

	for (int i = 0; i < REG_READS; i++) {
		uint64_t t0 = now_ns();

		if ((r = av_vcpu_get_regs(s->dom, 0, &regs)) < 0)
			die("reading registers", r);
		ns[i] = now_ns() - t0;
	}
	qsort(ns, REG_READS, sizeof(ns[0]), cmp_u64);
	*p50 = (double)ns[REG_READS / 2] / 1000;
	*p99 = (double)ns[REG_READS * 99 / 100] / 1000;
}

/* Paused as created, then inside the guest request its one vCPU raises. */
static void read_regs(struct side *s, double paused[2], double in_event[2])
{
	AV_OPTS(av_event, ev);
	av_monitor *mon;
	int r;

	time_regs(s, &paused[0], &paused[1]);
	if ((r = av_monitor_open(s->dom, NULL, &mon)) < 0 ||
	    (r = av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST))) < 0 ||
	    (r = av_domain_unpause(s->dom)) < 0 || (r = av_monitor_wait(mon, 0, 10000, &ev)) < 0)
		die("an event to read registers in", r);
	time_regs(s, &in_event[0], &in_event[1]);
	if ((r = av_monitor_respond(mon, &ev, NULL)) < 0 || (r = av_domain_wait_idle(s->dom, 10000)) < 0)
		die("answering it", r);
	av_monitor_close(mon);
}

int main(int argc, char **argv)
{
	uint32_t mib = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 256;
	uint32_t rounds = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 5;
	double inproc[16], mapped[16], copied[16], paused[2][2], in_event[2][2];
	struct side hv, daemon;
	char uri[512];

	if (argc < 2 || argc > 4 || !mib || mib > 4096 || !rounds || rounds > 16) {
		fprintf(stderr, "usage: bench-memory ADDRESS [MIB [ROUNDS]]\n");
		return 2;
	}
	snprintf(uri, sizeof(uri), "altviewd:%s", argv[1]);
	side_open(&hv, "hv", "hv:", mib);
	side_open(&daemon, "altviewd", uri, mib);
	/* Rounds alternate the paths, so drift in the machine lands on every one. */
	for (uint32_t i = 0; i < rounds; i++) {
		double map_ms[2], unmap_ms[2];
		uint64_t a, b, c;

		/* Which goes first changes each round: the first read of a round finds colder caches. */
		if (i % 2) {
			mapped[i] = read_mapped(&daemon, mib, &b, &map_ms[1], &unmap_ms[1]);
			inproc[i] = read_mapped(&hv, mib, &a, &map_ms[0], &unmap_ms[0]);
		} else {
			inproc[i] = read_mapped(&hv, mib, &a, &map_ms[0], &unmap_ms[0]);
			mapped[i] = read_mapped(&daemon, mib, &b, &map_ms[1], &unmap_ms[1]);
		}
		copied[i] = read_copied(&daemon, mib, &c);
		if (a != b || b != c)
			die("the three reads disagree", -EIO);
		printf("{\"bench\":\"guest_memory_read\",\"round\":%u,\"mib\":%u,\"hv_mapped_gib_s\":%.2f,"
		       "\"altviewd_mapped_gib_s\":%.2f,\"altviewd_readmemory_64k_gib_s\":%.3f,"
		       "\"hv_map_ms\":%.2f,\"hv_unmap_ms\":%.2f,\"altviewd_map_ms\":%.2f,"
		       "\"altviewd_unmap_ms\":%.2f}\n", i, mib, inproc[i], mapped[i], copied[i],
		       map_ms[0], unmap_ms[0], map_ms[1], unmap_ms[1]);
	}
	read_regs(&hv, paused[0], in_event[0]);
	read_regs(&daemon, paused[1], in_event[1]);
	qsort(inproc, rounds, sizeof(double), cmp_double);
	qsort(mapped, rounds, sizeof(double), cmp_double);
	qsort(copied, rounds, sizeof(double), cmp_double);
	printf("{\"bench\":\"guest_memory_read_median\",\"rounds\":%u,\"mib\":%u,"
	       "\"hv_mapped_gib_s\":%.2f,\"altviewd_mapped_gib_s\":%.2f,"
	       "\"altviewd_readmemory_64k_gib_s\":%.3f,\"mapped_vs_hv\":%.2f,\"readmemory_vs_hv\":%.3f}\n",
	       rounds, mib, inproc[rounds / 2], mapped[rounds / 2], copied[rounds / 2],
	       mapped[rounds / 2] / inproc[rounds / 2], copied[rounds / 2] / inproc[rounds / 2]);
	printf("{\"bench\":\"register_read_in_event\",\"reads\":%u,\"hv_p50_us\":%.2f,"
	       "\"hv_p99_us\":%.2f,\"altviewd_p50_us\":%.2f,\"altviewd_p99_us\":%.2f}\n", REG_READS,
	       in_event[0][0], in_event[0][1], in_event[1][0], in_event[1][1]);
	printf("{\"bench\":\"register_read_paused\",\"reads\":%u,\"hv_p50_us\":%.2f,"
	       "\"hv_p99_us\":%.2f,\"altviewd_getregisters_p50_us\":%.1f,"
	       "\"altviewd_getregisters_p99_us\":%.1f}\n", REG_READS, paused[0][0], paused[0][1],
	       paused[1][0], paused[1][1]);
	side_close(&daemon);
	side_close(&hv);
	return 0;
}
