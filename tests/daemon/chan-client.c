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

static void die(const char *what, int r)
{
	fprintf(stderr, "chan-client: %s: %s\n", what, strerror(-r));
	exit(1);
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
	sd_bus *bus;
	struct stat st;

	if (argc != 5) {
		fprintf(stderr, "usage: chan-client ADDRESS DOMID MODE KIND[,KIND...]\n");
		return 2;
	}
	mode = argv[3];
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
	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, dom_path, DOMAIN_IFACE, "Subscribe");
	if (r >= 0)
		r = av_bus_append_kinds_filter(m, kinds);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &error, &reply);
	if (r < 0) {
		fprintf(stderr, "chan-client: Subscribe: %s\n", error.message ? error.message : strerror(-r));
		return 1;
	}
	r = sd_bus_message_read(reply, "ohh", &path, &memfd, &notify_fd);
	if (r < 0 || fstat(memfd, &st) < 0)
		die("reading the reply", r < 0 ? r : -errno);
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (h == MAP_FAILED)
		die("mapping the channel", -errno);
	printf("%s\n", path);
	fflush(stdout);

	if (!strcmp(mode, "hang") || own_view) {
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
		sd_bus_message_unref(created);
	}
	for (uint32_t seed = 1;; seed = seed * 1103515245 + 12345) {
		bool any = false;

		for (uint32_t v = 0; v < h->nr_vcpus; v++) {
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
