/* SPDX-License-Identifier: MIT */
/*
 * altview-access — watch a domain's memory accesses, breakpoints, single
 * steps, CPUIDs or guest requests, the way Xen's xen-access does, through
 * libaltview.  See altview-access(1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <altview/altview.h>

#include "names.h"

enum mode {
	MODE_WRITE,
	MODE_EXEC,
	MODE_BREAKPOINT,
	MODE_ALTP2M_WRITE,
	MODE_ALTP2M_EXEC,
	MODE_SINGLESTEP,
	MODE_CPUID,
	MODE_GUEST_REQUEST,
};

static const char *const mode_names[] = {
	"write", "exec", "breakpoint", "altp2m_write", "altp2m_exec", "singlestep", "cpuid",
	"guest_request",
};

struct access {
	av_hv *hv;
	av_domain *dom;
	av_monitor *mon;
	enum mode mode;
	bool json, threads, booted;
	uint64_t pages;
	uint32_t nr_vcpus, view;
	uint64_t max_events;            /* 0: until interrupted (or a booted guest ends) */
	uint64_t inspect;               /* --inspect: the first N synchronous events */
	double started;
	_Atomic uint64_t counts[AV_EVENT__MAX], total;
	_Atomic bool failed, stopping;
	pthread_mutex_t out_lock;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void log_to_stderr(void *ctx, enum av_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "altview-access: %s\n", msg);
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "altview-access: %s: %s\n", what, av_strerror(r));
	return r;
}

static bool done(struct access *a)
{
	return interrupted || atomic_load(&a->failed) || atomic_load(&a->stopping) ||
	       (a->max_events && atomic_load(&a->total) >= a->max_events);
}

/* What --inspect read inside an event, printed with it. */
struct inspection {
	bool done;
	int err;
	struct av_regs_x86 regs;
	uint64_t gpa;
	uint8_t bytes[16];
	size_t len;
};

/*
 * What a VMI tool does inside an event while the vCPU waits: the vCPU's
 * registers read afresh and the guest memory the event is about (the bytes
 * at the access, or the instruction that trapped), through whichever
 * backend; over altviewd these are GetRegisters and a mapping or a copy.
 */
static void inspect(struct access *a, const struct av_event *ev, struct inspection *in)
{
	uint64_t offset;

	if (ev->kind == AV_EVENT_MEM_ACCESS)
		in->gpa = ev->u.mem.gfn << AV_PAGE_SHIFT | ev->u.mem.offset;
	else if (ev->kind == AV_EVENT_BREAKPOINT)
		in->gpa = ev->u.breakpoint.gfn << AV_PAGE_SHIFT | (ev->regs.rip & (AV_PAGE_SIZE - 1));
	else
		return;
	/* From the event's own byte, within its page. */
	offset = in->gpa & (AV_PAGE_SIZE - 1);
	in->len = AV_PAGE_SIZE - offset < sizeof(in->bytes) ? AV_PAGE_SIZE - offset : sizeof(in->bytes);
	in->done = true;
	in->err = av_vcpu_get_regs(a->dom, ev->vcpu, &in->regs);
	if (in->err == 0)
		in->err = av_read(a->dom, in->gpa, in->bytes, in->len);
}

static void print_inspection(const struct access *a, const struct inspection *in)
{
	if (a->json && in->err) {
		printf(",\"inspect\":{\"error\":\"%s\"}", av_strerror(in->err));
	} else if (a->json) {
		printf(",\"inspect\":{\"rip\":%" PRIu64 ",\"rsp\":%" PRIu64 ",\"cr3\":%" PRIu64
		       ",\"gpa\":%" PRIu64 ",\"hex\":\"", in->regs.rip, in->regs.rsp, in->regs.cr3, in->gpa);
		for (size_t i = 0; i < in->len; i++)
			printf("%02x", in->bytes[i]);
		printf("\"}");
	} else if (in->err) {
		printf("\n  inspect: %s", av_strerror(in->err));
	} else {
		printf("\n  inspect: rip %#" PRIx64 " rsp %#" PRIx64 " cr3 %#" PRIx64 " (read now); gpa %#"
		       PRIx64 ":", in->regs.rip, in->regs.rsp, in->regs.cr3, in->gpa);
		for (size_t i = 0; i < in->len; i++)
			printf(" %02x", in->bytes[i]);
	}
}

static void print_event(struct access *a, const struct av_event *ev, const struct inspection *in)
{
	const char *kind = event_kind_name(ev->kind);
	char access[4] = "---";

	pthread_mutex_lock(&a->out_lock);
	if (ev->kind == AV_EVENT_MEM_ACCESS) {
		access[0] = ev->u.mem.access & AV_MEM_R ? 'r' : '-';
		access[1] = ev->u.mem.access & AV_MEM_W ? 'w' : '-';
		access[2] = ev->u.mem.access & AV_MEM_X ? 'x' : '-';
	}
	if (a->json) {
		printf("{\"event\":\"%s\",\"vcpu\":%u,\"view\":%u,\"sync\":%s,\"rip\":%" PRIu64,
		       kind, ev->vcpu, ev->view, ev->flags & AV_EVENT_F_SYNC ? "true" : "false",
		       ev->regs.rip);
		switch (ev->kind) {
		case AV_EVENT_MEM_ACCESS:
			printf(",\"gfn\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"access\":\"%s\"",
			       ev->u.mem.gfn, ev->u.mem.offset, access);
			break;
		case AV_EVENT_BREAKPOINT:
			printf(",\"gfn\":%" PRIu64, ev->u.breakpoint.gfn);
			break;
		case AV_EVENT_SINGLESTEP:
			printf(",\"gfn\":%" PRIu64, ev->u.singlestep.gfn);
			break;
		case AV_EVENT_CPUID:
			printf(",\"leaf\":%u,\"subleaf\":%u", ev->u.cpuid.leaf, ev->u.cpuid.subleaf);
			break;
		default:
			break;
		}
		if (in->done)
			print_inspection(a, in);
		printf("}\n");
	} else {
		printf("%-13s vcpu %u view %u rip %#" PRIx64, kind, ev->vcpu, ev->view, ev->regs.rip);
		switch (ev->kind) {
		case AV_EVENT_MEM_ACCESS:
			printf(" gfn %#" PRIx64 " offset %#" PRIx64 " %s%s", ev->u.mem.gfn,
			       ev->u.mem.offset, access, ev->flags & AV_EVENT_F_SYNC ? "" : " (async)");
			break;
		case AV_EVENT_BREAKPOINT:
			printf(" gfn %#" PRIx64, ev->u.breakpoint.gfn);
			break;
		case AV_EVENT_SINGLESTEP:
			printf(" next gfn %#" PRIx64, ev->u.singlestep.gfn);
			break;
		case AV_EVENT_CPUID:
			printf(" leaf %#x subleaf %#x", ev->u.cpuid.leaf, ev->u.cpuid.subleaf);
			break;
		default:
			break;
		}
		if (in->done)
			print_inspection(a, in);
		printf("\n");
	}
	pthread_mutex_unlock(&a->out_lock);
}

/* What xen-access does with each event, mode by mode. */
static int handle(struct access *a, const struct av_event *ev)
{
	AV_OPTS(av_response, rsp);
	struct inspection in = { 0 };
	uint64_t n;
	int r = 0;

	/*
	 * Past the count an event is neither counted nor logged, but answered
	 * as the mode answers: a plain answer to the single step that follows
	 * an altp2m access would leave the vCPU stepping, and the guest
	 * crawling, after this tool is gone.
	 */
	if (!a->max_events || atomic_load(&a->total) < a->max_events) {
		atomic_fetch_add(&a->counts[ev->kind], 1);
		n = atomic_fetch_add(&a->total, 1);
		if ((ev->flags & AV_EVENT_F_SYNC) && n < a->inspect)
			inspect(a, ev, &in);
		print_event(a, ev, &in);
	}

	switch (a->mode) {
	case MODE_WRITE:
	case MODE_EXEC:
		/* Each page traps once: open it up and let the access run again. */
		if (ev->kind == AV_EVENT_MEM_ACCESS)
			r = av_view_set_access(a->dom, 0, ev->u.mem.gfn, 1, AV_ACCESS_RWX);
		break;
	case MODE_ALTP2M_WRITE:
	case MODE_ALTP2M_EXEC:
		/* Step the access in the host view, then come back to the watched one. */
		rsp.flags = AV_RESPONSE_SWITCH_VIEW | AV_RESPONSE_TOGGLE_SINGLESTEP;
		rsp.view = ev->kind == AV_EVENT_MEM_ACCESS ? 0 : a->view;
		break;
	case MODE_CPUID:
		/* Like xen-access: the monitor emulated it, so step over the instruction. */
		rsp.flags = AV_RESPONSE_SET_REGS;
		rsp.regs = ev->regs;
		rsp.regs.rip += ev->u.cpuid.insn_length;
		break;
	default:
		break;
	}
	if (r < 0)
		return fail("relaxing access", r);
	if (ev->flags & AV_EVENT_F_SYNC)
		r = av_monitor_respond(a->mon, ev, &rsp);
	return r < 0 ? fail("responding", r) : 0;
}

/* With a thread per vCPU the synchronous events are theirs: take the rest. */
static int drain(struct access *a)
{
	AV_OPTS(av_event, ev);
	int r;

	while ((r = a->threads ? av_monitor_next_async(a->mon, &ev) : av_monitor_next(a->mon, &ev)) == 0)
		if ((r = handle(a, &ev)) < 0)
			return r;
	return r == -EAGAIN ? 0 : fail("reading events", r);
}

struct vcpu_thread {
	struct access *a;
	uint32_t vcpu;
	pthread_t thread;
};

static void *serve_vcpu(void *arg)
{
	struct vcpu_thread *t = arg;
	AV_OPTS(av_event, ev);

	while (!done(t->a)) {
		int r = av_monitor_wait(t->a->mon, t->vcpu, 100, &ev);

		if (r == -ETIMEDOUT)
			continue;
		if (r < 0 || handle(t->a, &ev) < 0) {
			if (r < 0)
				fail("waiting for events", r);
			atomic_store(&t->a->failed, true);
		}
	}
	return NULL;
}

static uint32_t mode_events(enum mode m)
{
	switch (m) {
	case MODE_WRITE:
	case MODE_EXEC:
		return AV_EVENT_BIT(AV_EVENT_MEM_ACCESS);
	case MODE_ALTP2M_WRITE:
	case MODE_ALTP2M_EXEC:
		return AV_EVENT_BIT(AV_EVENT_MEM_ACCESS) | AV_EVENT_BIT(AV_EVENT_SINGLESTEP);
	case MODE_BREAKPOINT:
		return AV_EVENT_BIT(AV_EVENT_BREAKPOINT);
	case MODE_SINGLESTEP:
		return AV_EVENT_BIT(AV_EVENT_SINGLESTEP);
	case MODE_CPUID:
		return AV_EVENT_BIT(AV_EVENT_CPUID);
	default:
		return AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST);
	}
}

static int arm(struct access *a)
{
	int r = 0;

	switch (a->mode) {
	case MODE_WRITE:
		r = av_view_set_access(a->dom, 0, 0, a->pages, AV_ACCESS_RX);
		break;
	case MODE_EXEC:
		r = av_view_set_access(a->dom, 0, 0, a->pages, AV_ACCESS_RW);
		break;
	case MODE_ALTP2M_WRITE:
	case MODE_ALTP2M_EXEC:
		if ((r = av_views_enable(a->dom, 0)) < 0 ||
		    (r = av_view_create(a->dom, a->mode == MODE_ALTP2M_WRITE ? AV_ACCESS_RX : AV_ACCESS_RW,
					&a->view)) < 0)
			break;
		/* Xen's new view starts at its default access everywhere: say so page by page. */
		if ((r = av_view_set_access(a->dom, a->view, 0, a->pages, AV_ACCESS_DEFAULT)) < 0)
			break;
		r = av_view_switch(a->dom, a->view);
		break;
	case MODE_SINGLESTEP:
		for (uint32_t i = 0; r == 0 && i < a->nr_vcpus; i++)
			r = av_vcpu_set_singlestep(a->dom, i, true);
		break;
	default:
		break;
	}
	if (r == 0)
		r = av_monitor_set_events(a->mon, mode_events(a->mode));
	return r;
}

/* Leaves the guest as it was: views gone, pages rwx, no stepping, no monitor. */
static void disarm(struct access *a)
{
	av_domain_pause(a->dom);
	av_monitor_set_events(a->mon, 0);
	switch (a->mode) {
	case MODE_WRITE:
	case MODE_EXEC:
		av_view_set_access(a->dom, 0, 0, a->pages, AV_ACCESS_RWX);
		break;
	case MODE_ALTP2M_WRITE:
	case MODE_ALTP2M_EXEC:
		av_views_disable(a->dom);
		break;
	default:
		break;
	}
	for (uint32_t i = 0; i < a->nr_vcpus; i++)
		av_vcpu_set_singlestep(a->dom, i, false);
	av_monitor_close(a->mon);       /* answers whatever still waits */
	a->mon = NULL;
	av_domain_unpause(a->dom);
}

static void summary(struct access *a)
{
	double secs = now() - a->started;
	uint64_t total = atomic_load(&a->total);

	if (a->json) {
		printf("{\"summary\":{\"mode\":\"%s\"", mode_names[a->mode]);
		for (int k = AV_EVENT_MEM_ACCESS; k < AV_EVENT__MAX; k++)
			printf(",\"%s\":%" PRIu64, event_kind_name(k), atomic_load(&a->counts[k]));
		printf(",\"total\":%" PRIu64 ",\"seconds\":%.3f,\"events_per_s\":%.0f}}\n", total, secs,
		       secs > 0 ? (double)total / secs : 0.0);
	} else {
		printf("%s: %" PRIu64 " events in %.3f s (%.0f/s):", mode_names[a->mode], total, secs,
		       secs > 0 ? (double)total / secs : 0.0);
		for (int k = AV_EVENT_MEM_ACCESS; k < AV_EVENT__MAX; k++)
			if (atomic_load(&a->counts[k]))
				printf(" %s %" PRIu64, event_kind_name(k), atomic_load(&a->counts[k]));
		printf("\n");
	}
	fflush(stdout);
}

/* A guest this tool booted ends when its vCPUs have run their programs. */
static bool guest_ended(struct access *a)
{
	return a->booted && av_domain_wait_idle(a->dom, 0) == 0;
}

static int run(struct access *a)
{
	struct vcpu_thread *threads = NULL;
	struct pollfd p = { .fd = av_monitor_fd(a->mon), .events = POLLIN };
	int r = 0;

	if (a->threads) {
		threads = calloc(a->nr_vcpus, sizeof(*threads));
		if (!threads)
			return -ENOMEM;
		for (uint32_t i = 0; i < a->nr_vcpus; i++) {
			threads[i] = (struct vcpu_thread){ .a = a, .vcpu = i };
			pthread_create(&threads[i].thread, NULL, serve_vcpu, &threads[i]);
		}
	}
	a->started = now();
	r = av_domain_unpause(a->dom);
	while (r == 0 && !done(a)) {
		bool ended = guest_ended(a);

		/* Asynchronous events come through next() in either form. */
		r = drain(a);
		if (ended)
			break;
		poll(&p, 1, 50);
	}
	if (r < 0)
		atomic_store(&a->failed, true);
	atomic_store(&a->stopping, true);
	if (threads) {
		for (uint32_t i = 0; i < a->nr_vcpus; i++)
			pthread_join(threads[i].thread, NULL);
		free(threads);
	}
	return atomic_load(&a->failed) ? -EIO : 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *grown = realloc(buf, cap = (cap + 4096) * 2);

			if (!grown) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = 0;
	return buf;
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: altview-access [--uri URI] [--threads] [--json] [--ring] [--count N] [--inspect N]\n"
		"                      DOMAIN MODE\n"
		"       altview-access --uri hv: --spec FILE [options] MODE\n"
		"modes: write exec breakpoint altp2m_write altp2m_exec singlestep cpuid guest_request\n"
		"See altview-access(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "uri", required_argument, NULL, 'u' },
		{ "spec", required_argument, NULL, 's' },
		{ "threads", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "ring", no_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "inspect", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct access a = { .out_lock = PTHREAD_MUTEX_INITIALIZER };
	const char *uri = "hv:", *spec = NULL, *mode;
	AV_OPTS(av_open_opts, oo, .log = log_to_stderr);
	AV_OPTS(av_monitor_opts, mo);
	struct av_domain_info info = { .sz = sizeof(info) };
	struct sigaction sa = { .sa_handler = on_signal };
	int c, r;

	while ((c = getopt_long(argc, argv, "u:s:tjrc:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': uri = optarg; break;
		case 's': spec = optarg; break;
		case 't': a.threads = true; break;
		case 'j': a.json = true; break;
		case 'r': mo.transport = AV_TRANSPORT_RING; break;
		case 'c': a.max_events = strtoull(optarg, NULL, 0); break;
		case 'i': a.inspect = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != (spec ? 1 : 2)) {
		usage(stderr);
		return 2;
	}
	mode = argv[argc - 1];
	for (a.mode = 0; a.mode < sizeof(mode_names) / sizeof(mode_names[0]); a.mode++)
		if (!strcmp(mode, mode_names[a.mode]))
			break;
	if (a.mode == sizeof(mode_names) / sizeof(mode_names[0])) {
		fprintf(stderr, "altview-access: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	if (a.threads && mo.transport == AV_TRANSPORT_RING) {
		fprintf(stderr, "altview-access: --threads needs the channels transport\n");
		return 2;
	}

	if ((r = av_open(uri, &oo, &a.hv)) < 0)
		return fail(uri, r), 1;
	if (spec) {
		char *json = read_file(spec);

		if (!json) {
			fprintf(stderr, "altview-access: %s: %s\n", spec, strerror(errno));
			av_close(a.hv);
			return 1;
		}
		r = av_domain_create_json(a.hv, json, &a.dom);
		free(json);
		a.booted = true;
	} else {
		char *end;
		unsigned long id = strtoul(argv[optind], &end, 0);

		r = *end || id > UINT32_MAX ? -EINVAL : av_domain_open(a.hv, (uint32_t)id, &a.dom);
	}
	if (r < 0 || (r = av_domain_get_info(a.dom, &info)) < 0) {
		fail(spec ? spec : argv[optind], r);
		av_close(a.hv);
		return 1;
	}
	a.pages = info.memory_bytes / AV_PAGE_SIZE;
	a.nr_vcpus = info.nr_vcpus;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Armed while paused, so no access slips past a half-set-up mode (booted: paused already). */
	if ((!a.booted && (r = av_domain_pause(a.dom)) < 0) ||
	    (r = av_monitor_open(a.dom, &mo, &a.mon)) < 0 || (r = arm(&a)) < 0) {
		fail("setting up", r);
		if (a.mon)
			disarm(&a);
		av_close(a.hv);
		return 1;
	}
	r = run(&a);
	disarm(&a);
	summary(&a);
	av_close(a.hv);
	return r < 0 ? 1 : 0;
}
