/* SPDX-License-Identifier: MIT */
/*
 * chan-client — a monitoring client of altviewd that speaks the channel by
 * hand (common/channel.h), so that tests can make it misbehave:
 *
 *   chan-client ADDRESS DOMID MODE KIND[,KIND...]
 *     answer    answer every synchronous event with no flags
 *     never     subscribe and never answer
 *     garbage   scribble over the slot word and answer of every event
 *     switch=N  answer every event with a switch to view N, or with "own"
 *               to a view it creates on its connection (and prints
 *               "view N" second)
 *     unsent    write answers into idle slots, for events never sent,
 *               and a ring tail from the future
 *     hang      create a view of its own, take the first event, print
 *               "pending", then sleep until killed
 *     observe   Observe instead of Subscribe: count the Event signals that
 *               reach it, and print "events N" as the count grows
 *     scribble  create a view of its own that sends asynchronous events
 *               (n2rwx, re-armed every few milliseconds) and move every
 *               vCPU into it, then write random values into every field
 *               of the channel, header, slots and ring, while events flow
 *
 * In answer mode it also checks what the daemon wrote: a header or a
 * request that is not what the daemon sent (another client's scribbling
 * landing here) makes it print "corrupt: ..." and exit 3.
 *
 * It prints its object path first, then runs until killed.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "bus-connect.h"
#include "channel.h"
#include "org-altview1.h"

static struct channel_slot *channel_slot(struct channel_header *h, uint32_t vcpu)
{
	return (struct channel_slot *)((uint8_t *)h + CHANNEL_HEADER_SIZE +
				       (size_t)vcpu * CHANNEL_SLOT_SIZE);
}

static void die(const char *what, int r)
{
	fprintf(stderr, "chan-client: %s: %s\n", what, strerror(-r));
	exit(1);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: a fixed sequence, so a failure can be replayed. */
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* Values that break naive arithmetic more often than random ones do. */
static uint64_t nasty(void)
{
	static const uint64_t edges[] = {
		0, 1, 2, 0x7f, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		UINT64_MAX, UINT64_MAX - 1, 1ull << 63, CHANNEL_RING_MAX, ALTVIEW_MAX_VCPUS + 1,
	};

	return rnd() % 3 ? edges[rnd() % (sizeof(edges) / sizeof(edges[0]))] : rnd();
}

static void poke(void *field, size_t size)
{
	uint64_t v = nasty();

	/* A store the daemon may race with: atomic, so the scribbling itself is well defined. */
	switch (size) {
	case 1: __atomic_store_n((uint8_t *)field, (uint8_t)v, __ATOMIC_RELAXED); break;
	case 4: __atomic_store_n((uint32_t *)field, (uint32_t)v, __ATOMIC_RELAXED); break;
	case 8: __atomic_store_n((uint64_t *)field, v, __ATOMIC_RELAXED); break;
	default:
		for (size_t i = 0; i < size; i++)
			__atomic_store_n((uint8_t *)field + i, (uint8_t)rnd(), __ATOMIC_RELAXED);
	}
}

/* One random field of the channel gets a random value. */
static void scribble(struct channel_header *h, uint32_t nr_vcpus, size_t size)
{
	struct channel_slot *s = channel_slot(h, (uint32_t)(rnd() % nr_vcpus));
	uint8_t *ring = (uint8_t *)channel_slot(h, nr_vcpus);

#define FIELD(f) { &(f), sizeof(f) }
	struct { void *p; size_t size; } fields[] = {
		FIELD(h->magic), FIELD(h->version), FIELD(h->nr_vcpus), FIELD(h->ring_entries),
		FIELD(h->size), FIELD(h->slots_offset), FIELD(h->ring_offset), FIELD(h->dropped),
		FIELD(h->sync_notify), FIELD(h->sync_posted[0]), FIELD(h->sync_posted[1]),
		FIELD(h->ring_head), FIELD(h->ring_tail), FIELD(s->word), FIELD(s->client_sleeping),
		FIELD(s->daemon_sleeping), FIELD(s->req), FIELD(s->rsp),
		{ ring + rnd() % ((size_t)((uint8_t *)h + size - ring) / 8) * 8, 8 },
	};
#undef FIELD
	size_t i = rnd() % (sizeof(fields) / sizeof(fields[0]));

	poke(fields[i].p, fields[i].size);
}

static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(*(uint64_t *)userdata)++;
	return 0;
}

/* Counts the Event signals sent to this connection, forever. */
static void observe(sd_bus *bus, const char *path)
{
	uint64_t events = 0, told = 0;
	int r;

	r = sd_bus_match_signal(bus, NULL, BUS_NAME, path, CLIENT_IFACE, "Event", on_event, &events);
	if (r < 0)
		die("adding the match", r);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			die("processing the bus", r);
		if (events != told) {
			told = events;
			printf("events %" PRIu64 "\n", events);
			fflush(stdout);
		}
		if (r == 0)
			sd_bus_wait(bus, 100000);
	}
}

static void corrupt(const char *what, uint64_t got)
{
	printf("corrupt: %s is %#" PRIx64 "\n", what, got);
	fflush(stdout);
	exit(3);
}

/* What only the daemon writes into a well-behaved client's channel is still what it wrote. */
static void check_header(const struct channel_header *h, const struct channel_header *orig)
{
	if (h->magic != orig->magic || h->version != orig->version)
		corrupt("the magic or version", (uint64_t)h->magic << 32 | h->version);
	if (h->nr_vcpus != orig->nr_vcpus || h->ring_entries != orig->ring_entries)
		corrupt("the geometry", (uint64_t)h->nr_vcpus << 32 | h->ring_entries);
	if (h->size != orig->size || h->slots_offset != orig->slots_offset ||
	    h->ring_offset != orig->ring_offset)
		corrupt("the layout", h->size);
}

/* Arms n2rwx on every page of @view: each first access sends an asynchronous event. */
static void rearm(sd_bus *bus, const char *dom_path, uint32_t view, uint64_t pages)
{
	char path[OBJECT_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/view/%u", dom_path, view);
	sd_bus_call_method(bus, BUS_NAME, path, VIEW_IFACE, "SetAccess", NULL, NULL, "tts",
			   (uint64_t)0, pages, "n2rwx");
}

int main(int argc, char **argv)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	char dom_path[OBJECT_PATH_MAX], *kinds[8] = { 0 }, *list;
	struct channel_header *h;
	const char *mode, *path;
	int memfd, notify_fd, r, n = 0, view = -1;
	bool own_view = false;
	struct channel_header orig;
	uint64_t pages = 0;
	uint32_t nr_vcpus;
	sd_bus *bus;
	struct stat st;

	if (argc != 5) {
		fprintf(stderr, "usage: chan-client ADDRESS DOMID MODE KIND[,KIND...]\n");
		return 2;
	}
	mode = argv[3];
	if (getenv("CHAN_SEED"))
		rnd_state += strtoull(getenv("CHAN_SEED"), NULL, 0);
	if (!strncmp(mode, "switch=", 7)) {
		own_view = !strcmp(mode + 7, "own");
		view = atoi(mode + 7);
		mode = "answer";
	}
	list = argv[4];
	for (char *k = strtok(list, ","); k && n < 7; k = strtok(NULL, ","))
		kinds[n++] = k;
	snprintf(dom_path, sizeof(dom_path), DOMAIN_PREFIX "/%s", argv[2]);
	r = av_bus_connect(argv[1], false, &bus);
	if (r < 0)
		die("connecting", r);
	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, dom_path, DOMAIN_IFACE,
					   strcmp(mode, "observe") ? "Subscribe" : "Observe");
	if (r >= 0)
		r = av_bus_append_kinds_filter(m, kinds);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &error, &reply);
	if (r < 0) {
		fprintf(stderr, "chan-client: %s: %s\n", mode, error.message ? error.message : strerror(-r));
		return 1;
	}
	if (!strcmp(mode, "observe")) {
		r = sd_bus_message_read(reply, "o", &path);
		if (r < 0)
			die("reading the reply", r);
		printf("%s\n", path);
		fflush(stdout);
		observe(bus, path);
	}
	r = sd_bus_message_read(reply, "ohh", &path, &memfd, &notify_fd);
	if (r < 0 || fstat(memfd, &st) < 0)
		die("reading the reply", r < 0 ? r : -errno);
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (h == MAP_FAILED)
		die("mapping the channel", -errno);
	/* Its own copy, as the daemon keeps one: the header is what it scribbles on. */
	orig = *h;
	nr_vcpus = h->nr_vcpus < ALTVIEW_MAX_VCPUS ? h->nr_vcpus : ALTVIEW_MAX_VCPUS;
	printf("%s\n", path);
	fflush(stdout);

	if (!strcmp(mode, "scribble")) {
		r = sd_bus_get_property_trivial(bus, BUS_NAME, dom_path, DOMAIN_IFACE, "MemoryBytes",
						&error, 't', &pages);
		if (r < 0)
			die("MemoryBytes", r);
		pages /= 4096;
	}
	if (!strcmp(mode, "hang") || !strcmp(mode, "scribble") || own_view) {
		sd_bus_message *created = NULL;
		uint32_t index;

		/* Views may be on already (another client's): that is as good. */
		sd_bus_call_method(bus, BUS_NAME, dom_path, DOMAIN_IFACE, "EnableViews", NULL, NULL,
				   "u", 0);
		r = sd_bus_call_method(bus, BUS_NAME, dom_path, DOMAIN_IFACE, "CreateView", &error,
				       &created, "s", "rwx");
		if (r >= 0)
			r = sd_bus_message_read(created, "u", &index);
		if (r < 0)
			die("CreateView", r);
		if (own_view) {
			view = (int)index;
			printf("view %u\n", index);
			fflush(stdout);
		}
		if (!strcmp(mode, "scribble")) {
			char vpath[OBJECT_PATH_MAX + 32];

			view = (int)index;
			snprintf(vpath, sizeof(vpath), "%s/view/%u", dom_path, index);
			r = sd_bus_call_method(bus, BUS_NAME, vpath, VIEW_IFACE, "Switch", &error,
					       NULL, "");
			if (r < 0)
				die("Switch", r);
		}
		sd_bus_message_unref(created);
	}
	for (uint32_t seed = 1, round = 0;; seed = seed * 1103515245 + 12345, round++) {
		bool any = false;

		if (!strcmp(mode, "scribble")) {
			/*
			 * Re-armed every ~100 ms: often enough for asynchronous events
			 * all along, rarely enough that the engine's remapping (slow
			 * under TSan) leaves the guest time to run.
			 */
			if (round % 100 == 0)
				rearm(bus, dom_path, (uint32_t)view, pages);
			for (int i = 0; i < 16; i++)
				scribble(h, nr_vcpus, (size_t)st.st_size);
			poll(NULL, 0, 1);
			continue;
		}
		if (!strcmp(mode, "answer"))
			check_header(h, &orig);
		for (uint32_t v = 0; v < nr_vcpus; v++) {
			struct channel_slot *s = channel_slot(h, v);
			_Atomic uint32_t *word = channel_atomic(&s->word);
			uint32_t w = atomic_load(word), seq = CHANNEL_WORD_SEQ(w);

			if (!strcmp(mode, "unsent")) {
				/* Never for the event that is there: always for one that is not. */
				if (CHANNEL_WORD_STATE(w) != CHANNEL_PENDING)
					atomic_store(word, CHANNEL_WORD(seq + 7, CHANNEL_ANSWERED));
				atomic_store(channel_atomic(&h->ring_tail),
					     atomic_load(channel_atomic(&h->ring_head)) + 1000);
				continue;
			}
			if (CHANNEL_WORD_STATE(w) != CHANNEL_PENDING)
				continue;
			any = true;
			if (!strcmp(mode, "answer")) {
				if (s->req.version != VM_EVENT_INTERFACE_VERSION || s->req.vcpu_id != v)
					corrupt("a request's version and vCPU",
						(uint64_t)s->req.version << 32 | s->req.vcpu_id);
				memset(&s->rsp, 0, sizeof(s->rsp));
				s->rsp.version = VM_EVENT_INTERFACE_VERSION;
				s->rsp.vcpu_id = v;
				s->rsp.flags = VM_EVENT_FLAG_VCPU_PAUSED;
				if (view >= 0) {
					s->rsp.flags |= VM_EVENT_FLAG_ALTERNATE_P2M;
					s->rsp.altp2m_idx = (uint16_t)view;
				}
				if (atomic_compare_exchange_strong(word, &w,
								   CHANNEL_WORD(seq, CHANNEL_ANSWERED)))
					futex_wake(word);
			} else if (!strcmp(mode, "garbage")) {
				for (size_t i = 0; i < sizeof(s->rsp); i++)
					((uint8_t *)&s->rsp)[i] = (uint8_t)(seed >> (i % 24));
				/* Half the time a well-formed word on a garbage answer. */
				atomic_store(word, seed & 1 ? CHANNEL_WORD(seq, CHANNEL_ANSWERED) : seed);
				futex_wake(word);
			} else if (!strcmp(mode, "hang")) {
				printf("pending\n");
				fflush(stdout);
				for (;;)
					pause();
			}
		}
		if (!any)
			poll(NULL, 0, 1);
	}
}
