/* SPDX-License-Identifier: MIT */
/*
 * bench-daemon: monitoring through altviewd against monitoring in process.
 *
 * One vCPU raises guest requests (the script engine, as fast as it can);
 * every client takes each from its channel slot and answers it, in a
 * thread of its own.  The vCPU resumes when all have answered, so the gap
 * between two of client 0's takes is one round trip through the daemon:
 * vCPU raises, daemon posts to every client, each answers, the daemon
 * merges and answers, the vCPU raises again.  The same loop runs direct on
 * "hv:" in this process, alternating with 1, 2 and 4 clients.
 *
 * Throughput is measured apart, on a guest of MANY_VCPUS vCPUs with each
 * client a single thread serving them all (av_monitor_next() and poll()):
 * with one vCPU it would be only the inverse of the round trip, and with
 * more clients than CPUs every event would cost each client a wake-up,
 * where many vCPUs let a client answer several per wake-up.  It is
 * measured with the pollers under SCHED_OTHER and under SCHED_BATCH, the
 * policy for threads that serve throughput: a woken batch thread does not
 * preempt the one running on its CPU, so its wake-up costs no reschedule
 * interrupt; it runs when that thread next sleeps, which here is soon.
 * Then the D-Bus signal path: one Observe subscriber and no channel
 * client, so the daemon answers each event at once and sends an Event
 * signal.
 *
 * What fanning out can cost on this machine at best is measured too (the
 * "floor"): one thread posts each event to 1, 2 or 4 threads in this
 * process and waits for all their answers, with the same spin-then-futex
 * handshake (slot-sync.h) and nothing else: no guest, no daemon, no
 * checks.  With fewer cores than threads its 4-vs-1 ratio is what any
 * thread-per-client design is held to.  And what one wake-up costs the
 * machine: two threads handing a futex back and forth with no spinning,
 * on one CPU and across two.  Where crossing CPUs costs far more (a
 * virtual machine whose idle vCPUs halt), every client that sleeps pays
 * it, so bench-daemon.sh also runs the throughput rounds alone
 * ("throughput") with altviewd and the clients confined to one CPU.
 *
 * usage: bench-daemon ADDRESS [throughput] [EVENTS [ROUNDS]]
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>
#include <systemd/sd-bus.h>

#include "bench.h"
#include "bus-connect.h"
#include "org-altview1.h"
#include "slot-sync.h"

#define MAX_CLIENTS 4
/* The throughput guest: more vCPUs than this machine has CPUs, as on a busy host. */
#define MANY_VCPUS  16

static const char *address;
static char uri[512];

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-daemon: %s: %s\n", what, strerror(-r));
	exit(1);
}

/* A guest whose every vCPU raises @events + 1 guest requests. */
static void spec_of(char *buf, size_t size, uint32_t vcpus, uint32_t events)
{
	snprintf(buf, size, "{\"memory_mib\": 2, \"vcpus\": %u, \"engine\": \"script\", "
		 "\"program\": [{\"op\": \"loop\", \"count\": %u, \"body\": [{\"op\": "
		 "\"guest_request\"}]}]}", vcpus, events + 1);
}

struct client {
	av_hv *hv;
	av_domain *dom;
	av_monitor *mon;
	pthread_t thread;
	uint32_t vcpus, events;     /* each vCPU raises events + 1 */
	uint64_t *takes;            /* client 0 only: when each event was taken */
	int policy;                 /* of a thread serving all vCPUs */
};

static void *serve(void *arg)
{
	struct client *c = arg;
	AV_OPTS(av_event, ev);
	int r;

	for (uint32_t n = 0; n <= c->events; n++) {
		if ((r = av_monitor_wait(c->mon, 0, 10000, &ev)) < 0)
			die("av_monitor_wait", r);
		if (c->takes)
			c->takes[n] = now_ns();
		if ((r = av_monitor_respond(c->mon, &ev, NULL)) < 0)
			die("av_monitor_respond", r);
	}
	return NULL;
}

/*
 * One thread serving every vCPU, as a single-threaded VMI tool would: it
 * sleeps on the monitor's fd only when no vCPU has an event for it, so a
 * wake-up answers all that piled up meanwhile.  Only the first and the last
 * take are timed.
 */
static void *serve_all(void *arg)
{
	struct client *c = arg;
	struct pollfd pfd = { .fd = av_monitor_fd(c->mon), .events = POLLIN };
	uint64_t total = (uint64_t)c->vcpus * (c->events + 1);
	struct sched_param param = { 0 };
	AV_OPTS(av_event, ev);
	int r;

	if ((r = pthread_setschedparam(pthread_self(), c->policy, &param)))
		die("setting the poller's scheduling policy", -r);

	for (uint64_t n = 0; n < total;) {
		r = av_monitor_next(c->mon, &ev);
		if (r == -EAGAIN) {
			if ((r = poll(&pfd, 1, 10000)) <= 0)
				die("waiting for events", r < 0 ? -errno : -ETIMEDOUT);
			continue;
		}
		if (r < 0)
			die("av_monitor_next", r);
		if (!(ev.flags & AV_EVENT_F_SYNC))
			continue;
		if (c->takes)
			c->takes[n ? 1 : 0] = now_ns();
		if ((r = av_monitor_respond(c->mon, &ev, NULL)) < 0)
			die("av_monitor_respond", r);
		n++;
	}
	return NULL;
}

struct result {
	uint64_t p50, p99;
	double events_per_s;
};

static struct result summarize(uint64_t *takes, uint32_t events)
{
	uint64_t *gap = calloc(events, sizeof(*gap));
	struct result res;

	for (uint32_t i = 0; i < events; i++)
		gap[i] = takes[i + 1] - takes[i];
	qsort(gap, events, sizeof(*gap), cmp_u64);
	res.p50 = gap[events / 2];
	res.p99 = gap[(uint64_t)events * 99 / 100];
	res.events_per_s = (double)events / ((double)(takes[events] - takes[0]) * 1e-9);
	free(gap);
	return res;
}

static int monitor_on(struct client *c, const char *at, uint32_t domid)
{
	int r;

	if ((r = av_open(at, NULL, &c->hv)) < 0 || (r = av_domain_open(c->hv, domid, &c->dom)) < 0 ||
	    (r = av_monitor_open(c->dom, NULL, &c->mon)) < 0)
		return r;
	return av_monitor_set_events(c->mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST));
}

/*
 * @nr_clients 0: direct on hv:, in this process.  One vCPU: each client
 * waits on its slot, and client 0's takes give the round trip.  More:
 * each client serves them all from one thread, and only throughput counts.
 */
static struct result run_monitored(uint32_t nr_clients, uint32_t vcpus, uint32_t events,
				   int policy)
{
	struct client clients[MAX_CLIENTS] = { 0 };
	uint64_t *takes = calloc(events + 1, sizeof(*takes));
	uint32_t n = nr_clients ? nr_clients : 1;
	av_hv *owner;
	av_domain *dom;
	char spec[256];
	struct result res = { 0 };
	int r;

	spec_of(spec, sizeof(spec), vcpus, events);
	if ((r = av_open(nr_clients ? uri : "hv:", NULL, &owner)) < 0 ||
	    (r = av_domain_create_json(owner, spec, &dom)) < 0)
		die("creating the guest", r);
	for (uint32_t i = 0; i < n; i++) {
		clients[i].vcpus = vcpus;
		clients[i].events = events;
		clients[i].takes = i ? NULL : takes;
		clients[i].policy = policy;
		if (!nr_clients) {
			clients[i].dom = dom;
			r = av_monitor_open(dom, NULL, &clients[i].mon);
			if (r == 0)
				r = av_monitor_set_events(clients[i].mon,
							  AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST));
		} else {
			r = monitor_on(&clients[i], uri, av_domain_id(dom));
		}
		if (r < 0)
			die("subscribing", r);
		pthread_create(&clients[i].thread, NULL, vcpus > 1 ? serve_all : serve, &clients[i]);
	}
	if ((r = av_domain_unpause(dom)) < 0)
		die("starting the guest", r);
	for (uint32_t i = 0; i < n; i++)
		pthread_join(clients[i].thread, NULL);
	for (uint32_t i = 0; i < n; i++) {
		av_monitor_close(clients[i].mon);
		if (clients[i].hv)
			av_close(clients[i].hv);
	}
	av_domain_destroy(dom);
	av_close(owner);
	if (vcpus == 1)
		res = summarize(takes, events);
	else
		res.events_per_s = (double)((uint64_t)vcpus * (events + 1) - 1) /
				   ((double)(takes[1] - takes[0]) * 1e-9);
	free(takes);
	return res;
}

/* ---- The floor: fanning out with nothing else ------------------------------------ */

struct floor_slot {
	_Atomic uint32_t word;      /* 2 * event + 1: posted; 2 * event + 2: answered */
	uint8_t poster_sleeping, answerer_sleeping;
	struct spin_budget spin;    /* the answerer's */
} __attribute__((aligned(64)));

struct floor_client {
	struct floor_slot *slot;
	uint32_t events;
	uint64_t *takes;
};

static void *floor_answer(void *arg)
{
	struct floor_client *c = arg;
	struct floor_slot *s = c->slot;

	for (uint32_t n = 0; n <= c->events; n++) {
		uint32_t posted = 2 * n + 1;

		while (!spin_until(&s->word, posted, true, &s->spin))
			slot_nap(&s->word, posted, false, &s->answerer_sleeping, SLOT_SLEEP_SLICE_MS);
		if (c->takes)
			c->takes[n] = now_ns();
		slot_publish(&s->word, posted + 1, &s->poster_sleeping);
	}
	return NULL;
}

static struct result floor_round_trip(uint32_t nr_clients, uint32_t events)
{
	struct floor_slot *slots = aligned_alloc(64, MAX_CLIENTS * sizeof(*slots));
	struct floor_client clients[MAX_CLIENTS];
	struct spin_budget spin[MAX_CLIENTS] = { 0 };
	uint64_t *takes = calloc(events + 1, sizeof(*takes));
	pthread_t threads[MAX_CLIENTS];

	memset(slots, 0, MAX_CLIENTS * sizeof(*slots));
	for (uint32_t i = 0; i < nr_clients; i++) {
		clients[i] = (struct floor_client){ &slots[i], events, i ? NULL : takes };
		pthread_create(&threads[i], NULL, floor_answer, &clients[i]);
	}
	for (uint32_t n = 0; n <= events; n++) {
		for (uint32_t i = 0; i < nr_clients; i++)
			slot_publish(&slots[i].word, 2 * n + 1, &slots[i].answerer_sleeping);
		for (uint32_t i = 0; i < nr_clients; i++)
			while (!spin_until(&slots[i].word, 2 * n + 1, false, &spin[i]))
				slot_nap(&slots[i].word, 2 * n + 1, true, &slots[i].poster_sleeping,
					 SLOT_SLEEP_SLICE_MS);
	}
	for (uint32_t i = 0; i < nr_clients; i++)
		pthread_join(threads[i], NULL);
	struct result res = summarize(takes, events);
	free(takes);
	free(slots);
	return res;
}

/* ---- Wake-ups: one thread waking another, on one CPU and across two ---------------- */

struct wake_pair {
	_Atomic uint32_t word;      /* 2 * n + 1: ping n; 2 * n + 2: its pong */
	int cpu;                    /* the answerer's */
	uint32_t round_trips;
};

static void pin_to(int cpu)
{
	cpu_set_t set;
	int r;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if ((r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set)))
		die("pinning a wake-up thread", -r);
}

/* The first two CPUs this process may run on, for a wake-up on one and across two. */
static bool two_allowed_cpus(int cpu[2])
{
	cpu_set_t set;
	int found = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return false;
	for (int i = 0; i < CPU_SETSIZE && found < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[found++] = i;
	return found == 2;
}

static void *wake_answer(void *arg)
{
	struct wake_pair *w = arg;
	uint32_t v;

	pin_to(w->cpu);
	for (uint32_t n = 0; n < w->round_trips; n++) {
		while ((v = atomic_load(&w->word)) != 2 * n + 1)
			futex_wait(&w->word, v, SLOT_SLEEP_SLICE_MS);
		atomic_store(&w->word, 2 * n + 2);
		futex_wake(&w->word);
	}
	return NULL;
}

/* Mean ns per futex round trip with no spinning, the caller on @cpu_a, its partner on @cpu_b. */
static double wake_round_trip(int cpu_a, int cpu_b, uint32_t round_trips)
{
	struct wake_pair w = { .cpu = cpu_b, .round_trips = round_trips };
	cpu_set_t before;
	pthread_t thread;
	uint64_t start;
	uint32_t v;

	pthread_getaffinity_np(pthread_self(), sizeof(before), &before);
	pthread_create(&thread, NULL, wake_answer, &w);
	pin_to(cpu_a);
	start = now_ns();
	for (uint32_t n = 0; n < round_trips; n++) {
		atomic_store(&w.word, 2 * n + 1);
		futex_wake(&w.word);
		while ((v = atomic_load(&w.word)) != 2 * n + 2)
			futex_wait(&w.word, v, SLOT_SLEEP_SLICE_MS);
	}
	double ns = (double)(now_ns() - start) / round_trips;

	pthread_join(thread, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
	return ns;
}

/* ---- Event signals ----------------------------------------------------------- */

static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	uint64_t *seen = userdata;

	if (!seen[0]++)
		seen[1] = now_ns();
	seen[2] = now_ns();
	return 0;
}

/* Signals received per second while the guest raises @events, with nobody to answer but the daemon. */
static double signal_rate(uint32_t events, uint64_t *received, uint64_t *dropped)
{
	sd_bus_message *reply = NULL;
	uint64_t seen[3] = { 0 };
	char spec[256], dom_path[OBJECT_PATH_MAX];
	const char *path;
	av_hv *owner;
	av_domain *dom;
	sd_bus *bus;
	int r;

	spec_of(spec, sizeof(spec), 1, events);
	if ((r = av_open(uri, NULL, &owner)) < 0 || (r = av_domain_create_json(owner, spec, &dom)) < 0)
		die("creating the guest", r);
	snprintf(dom_path, sizeof(dom_path), DOMAIN_PREFIX "/%u", av_domain_id(dom));
	if ((r = av_bus_connect(address, false, &bus)) < 0 ||
	    (r = sd_bus_call_method(bus, BUS_NAME, dom_path, DOMAIN_IFACE, "Observe", NULL, &reply,
				    "a{sv}", 1, "kinds", "as", 1, "guest_request")) < 0 ||
	    (r = sd_bus_message_read(reply, "o", &path)) < 0 ||
	    (r = sd_bus_match_signal(bus, NULL, NULL, path, CLIENT_IFACE, "Event", on_event, seen)) < 0)
		die("observing", r);
	if ((r = av_domain_unpause(dom)) < 0)
		die("starting the guest", r);
	/* Until every event came, or nothing came for a second (dropped ones never will). */
	for (uint64_t idle_since = now_ns(); seen[0] < events && now_ns() - idle_since < 1000000000;) {
		uint64_t before = seen[0];

		while ((r = sd_bus_process(bus, NULL)) > 0)
			;
		if (r < 0)
			die("receiving", r);
		if (seen[0] != before)
			idle_since = now_ns();
		else
			sd_bus_wait(bus, 100000);
	}
	sd_bus_get_property_trivial(bus, BUS_NAME, path, CLIENT_IFACE, "Dropped", NULL, 't', dropped);
	*received = seen[0];
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	av_domain_destroy(dom);
	av_close(owner);
	return seen[0] > 1 ? (double)(seen[0] - 1) / ((double)(seen[2] - seen[1]) * 1e-9) : 0;
}

static void print_round(const char *path, uint32_t clients, uint32_t round, uint32_t events,
			struct result res)
{
	printf("{\"bench\":\"daemon_round_trip\",\"path\":\"%s\",\"clients\":%u,\"round\":%u,"
	       "\"events\":%u,\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"events_per_s\":%.0f}\n",
	       path, clients, round, events, res.p50, res.p99, res.events_per_s);
	fflush(stdout);
}

static const uint32_t nr_clients[] = { 0, 1, 2, 4 };
static const char *const names[] = { "direct", "daemon-1", "daemon-2", "daemon-4" };

/* The pollers' scheduling policies the throughput is measured with. */
static const struct {
	int policy;
	const char *name;
} pollers[] = {
	{ SCHED_OTHER, "SCHED_OTHER" },
	{ SCHED_BATCH, "SCHED_BATCH" },
};

#define NR_POLLERS (sizeof(pollers) / sizeof(pollers[0]))

static void print_many(const char *path, uint32_t clients, const char *policy, uint32_t round,
		       uint32_t events, struct result res)
{
	printf("{\"bench\":\"daemon_many_vcpus\",\"path\":\"%s\",\"clients\":%u,\"pollers\":\"%s\","
	       "\"round\":%u,\"vcpus\":%u,\"events_per_vcpu\":%u,\"events_per_s\":%.0f}\n",
	       path, clients, policy, round, MANY_VCPUS, events, res.events_per_s);
	fflush(stdout);
}

/*
 * The 16-vCPU throughput with direct and 1, 2, 4 clients under each poller
 * policy, rounds alternating; medians into @median.
 */
static void throughput_rounds(uint32_t events, uint32_t rounds, double median[NR_POLLERS][4])
{
	double rate[NR_POLLERS][4][16];

	for (uint32_t i = 0; i < rounds; i++)
		for (size_t p = 0; p < NR_POLLERS; p++)
			for (int k = 0; k < 4; k++) {
				struct result res = run_monitored(nr_clients[k], MANY_VCPUS,
								  events / MANY_VCPUS, pollers[p].policy);

				print_many(names[k], nr_clients[k], pollers[p].name, i,
					   events / MANY_VCPUS, res);
				rate[p][k][i] = res.events_per_s;
			}
	for (size_t p = 0; p < NR_POLLERS; p++)
		for (int k = 0; k < 4; k++) {
			qsort(rate[p][k], rounds, sizeof(double), cmp_double);
			median[p][k] = rate[p][k][rounds / 2];
		}
}

static void print_throughput(uint32_t events, uint32_t rounds, const double median[NR_POLLERS][4])
{
	for (size_t p = 0; p < NR_POLLERS; p++)
		printf("{\"bench\":\"daemon_throughput\",\"rounds\":%u,\"vcpus\":%u,\"cpus\":%d,"
		       "\"pollers\":\"%s\",\"events_per_vcpu\":%u,\"direct_events_per_s\":%.0f,"
		       "\"daemon1_events_per_s\":%.0f,\"daemon2_events_per_s\":%.0f,"
		       "\"daemon4_events_per_s\":%.0f,\"throughput_4_vs_1\":%.2f}\n",
		       rounds, MANY_VCPUS, cpus_allowed(), pollers[p].name, events / MANY_VCPUS,
		       median[p][0], median[p][1], median[p][2], median[p][3],
		       median[p][3] / median[p][1]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const char *const floor_names[] = { "floor-1", "floor-2", "floor-4" };
	bool throughput_only = argc > 2 && !strcmp(argv[2], "throughput");
	char **counts = argv + 2 + throughput_only;
	int nr_counts = argc - 2 - throughput_only;
	uint32_t events = nr_counts > 0 ? (uint32_t)strtoul(counts[0], NULL, 0) : 80000;
	uint32_t rounds = nr_counts > 1 ? (uint32_t)strtoul(counts[1], NULL, 0) : 5;
	double p50[4][16], rate[4][16], floor_rate[3][16], many_rate[NR_POLLERS][4];
	uint64_t received, dropped;
	int cpu[2];

	if (argc < 2 || nr_counts > 2 || events < MANY_VCPUS || !rounds || rounds > 16) {
		fprintf(stderr, "usage: bench-daemon ADDRESS [throughput] [EVENTS [ROUNDS]]\n");
		return 2;
	}
	address = argv[1];
	snprintf(uri, sizeof(uri), "altviewd:%s", address);
	if (throughput_only) {
		throughput_rounds(events, rounds, many_rate);
		print_throughput(events, rounds, many_rate);
		return 0;
	}
	/* Alternate, so drift in the machine lands on every side. */
	for (uint32_t i = 0; i < rounds; i++) {
		for (int k = 0; k < 4; k++) {
			struct result res = run_monitored(nr_clients[k], 1, events, SCHED_OTHER);

			print_round(names[k], nr_clients[k], i, events, res);
			p50[k][i] = (double)res.p50;
			rate[k][i] = res.events_per_s;
		}
		for (int k = 0; k < 3; k++) {
			struct result res = floor_round_trip(nr_clients[k + 1], events);

			print_round(floor_names[k], nr_clients[k + 1], i, events, res);
			floor_rate[k][i] = res.events_per_s;
		}
	}
	throughput_rounds(events, rounds, many_rate);
	for (int k = 0; k < 4; k++) {
		qsort(p50[k], rounds, sizeof(double), cmp_double);
		qsort(rate[k], rounds, sizeof(double), cmp_double);
		if (k < 3)
			qsort(floor_rate[k], rounds, sizeof(double), cmp_double);
	}
	printf("{\"bench\":\"daemon_vs_direct\",\"rounds\":%u,\"events\":%u,\"direct_p50_ns\":%.0f,"
	       "\"daemon1_p50_ns\":%.0f,\"p50_ratio_1_client\":%.2f,\"direct_events_per_s\":%.0f,"
	       "\"daemon1_events_per_s\":%.0f,\"daemon2_events_per_s\":%.0f,"
	       "\"daemon4_events_per_s\":%.0f,\"throughput_4_vs_1\":%.2f,"
	       "\"floor1_events_per_s\":%.0f,\"floor4_events_per_s\":%.0f,"
	       "\"floor_throughput_4_vs_1\":%.2f}\n",
	       rounds, events, p50[0][rounds / 2], p50[1][rounds / 2],
	       p50[1][rounds / 2] / p50[0][rounds / 2], rate[0][rounds / 2], rate[1][rounds / 2],
	       rate[2][rounds / 2], rate[3][rounds / 2], rate[3][rounds / 2] / rate[1][rounds / 2],
	       floor_rate[0][rounds / 2], floor_rate[2][rounds / 2],
	       floor_rate[2][rounds / 2] / floor_rate[0][rounds / 2]);
	print_throughput(events, rounds, many_rate);
	if (two_allowed_cpus(cpu)) {
		uint32_t n = events < 20000 ? events : 20000;

		printf("{\"bench\":\"daemon_wake\",\"round_trips\":%u,\"one_cpu_ns\":%.0f,"
		       "\"two_cpus_ns\":%.0f}\n", n, wake_round_trip(cpu[0], cpu[0], n),
		       wake_round_trip(cpu[0], cpu[1], n));
	}
	double signals = signal_rate(events, &received, &dropped);

	printf("{\"bench\":\"daemon_signals\",\"events\":%u,\"received\":%" PRIu64 ",\"dropped\":%"
	       PRIu64 ",\"signals_per_s\":%.0f}\n", events, received, dropped, signals);
	return 0;
}
