/* SPDX-License-Identifier: MIT */
/* Event channels: guest operations, dom0 handles, no lost notifications. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static struct hv_domain *vcpu_domain(struct hv *hv, unsigned int vcpus)
{
	struct hv_script *s = hv_script_new();
	struct hv_domain *d = test_script_domain(hv, MiB, vcpus, &s, 1);

	hv_script_free(s);
	return d;
}

static void guest_to_dom0_and_back(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, MiB);
	struct hv_evtchn_handle *h;
	struct evtchn_status st;
	int gport, lport;

	CHECK_EQ(hv_evtchn_open(hv, &h), 0);
	gport = hv_evtchn_alloc_unbound(d, HV_DOMID_DOM0);
	CHECK(gport > 0);
	CHECK_EQ(hv_evtchn_status(d, (evtchn_port_t)gport, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);
	CHECK_EQ(st.u.unbound.dom, 0);
	lport = hv_evtchn_bind_interdomain_port(h, hv_domain_id(d), (evtchn_port_t)gport);
	CHECK(lport > 0);
	CHECK_EQ(hv_evtchn_status(d, (evtchn_port_t)gport, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
	CHECK_EQ(st.u.interdomain.dom, 0);
	CHECK_EQ(st.u.interdomain.port, lport);

	CHECK(!readable(hv_evtchn_fd(h), 0));
	CHECK_EQ(hv_evtchn_pending(h), -EAGAIN);
	CHECK_EQ(hv_evtchn_send(d, (evtchn_port_t)gport), 0);
	CHECK_EQ(hv_evtchn_send(d, (evtchn_port_t)gport), 0);      /* coalesces */
	CHECK(readable(hv_evtchn_fd(h), 1000));
	CHECK_EQ(hv_evtchn_pending(h), lport);
	CHECK_EQ(hv_evtchn_pending(h), -EAGAIN);
	CHECK_EQ(hv_evtchn_unmask_port(h, (evtchn_port_t)lport), 0);
	CHECK(!readable(hv_evtchn_fd(h), 0));

	/* dom0 -> guest. */
	CHECK_EQ(hv_evtchn_test_and_clear(d, (evtchn_port_t)gport), 0);
	CHECK_EQ(hv_evtchn_notify(h, (evtchn_port_t)lport), 0);
	CHECK_EQ(hv_evtchn_test_and_clear(d, (evtchn_port_t)gport), 1);
	CHECK_EQ(hv_evtchn_test_and_clear(d, (evtchn_port_t)gport), 0);
	/* A masked guest port keeps the event pending. */
	CHECK_EQ(hv_evtchn_mask(d, (evtchn_port_t)gport), 0);
	CHECK_EQ(hv_evtchn_notify(h, (evtchn_port_t)lport), 0);
	CHECK_EQ(hv_evtchn_test_and_clear(d, (evtchn_port_t)gport), 1);

	/* The guest closes: dom0's end waits unbound; sends go nowhere. */
	CHECK_EQ(hv_evtchn_close(d, (evtchn_port_t)gport), 0);
	CHECK_EQ(hv_evtchn_status(d, (evtchn_port_t)gport, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_closed);
	CHECK_EQ(hv_evtchn_notify(h, (evtchn_port_t)lport), 0);
	CHECK_EQ(hv_evtchn_close(d, (evtchn_port_t)gport), -EINVAL);
	hv_evtchn_handle_close(h);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

/* The classic lost wakeup: an event arriving while the consumer holds the port. */
static void no_loss_between_pending_and_unmask(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, MiB);
	struct hv_evtchn_handle *h;
	int gport, lport;

	CHECK_EQ(hv_evtchn_open(hv, &h), 0);
	gport = hv_evtchn_alloc_unbound(d, HV_DOMID_DOM0);
	lport = hv_evtchn_bind_interdomain_port(h, hv_domain_id(d), (evtchn_port_t)gport);
	CHECK(lport > 0);
	hv_evtchn_send(d, (evtchn_port_t)gport);
	CHECK_EQ(hv_evtchn_pending(h), lport);             /* now masked, being handled */
	hv_evtchn_send(d, (evtchn_port_t)gport);           /* arrives meanwhile */
	CHECK(!readable(hv_evtchn_fd(h), 0));              /* masked: no wakeup yet */
	CHECK_EQ(hv_evtchn_unmask_port(h, (evtchn_port_t)lport), 0);
	CHECK(readable(hv_evtchn_fd(h), 1000));            /* ...but not lost */
	CHECK_EQ(hv_evtchn_pending(h), lport);
	hv_evtchn_handle_close(h);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void several_ports_keep_fd_readable(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, MiB);
	struct hv_evtchn_handle *h;
	int g[3], l[3], seen = 0;

	CHECK_EQ(hv_evtchn_open(hv, &h), 0);
	for (int i = 0; i < 3; i++) {
		g[i] = hv_evtchn_alloc_unbound(d, HV_DOMID_DOM0);
		l[i] = hv_evtchn_bind_interdomain_port(h, hv_domain_id(d), (evtchn_port_t)g[i]);
		CHECK(l[i] > 0);
		hv_evtchn_send(d, (evtchn_port_t)g[i]);
	}
	for (int i = 0; i < 3; i++) {
		int p;

		CHECK(readable(hv_evtchn_fd(h), 1000));
		p = hv_evtchn_pending(h);
		for (int k = 0; k < 3; k++)
			seen |= (p == l[k]) << k;
	}
	CHECK_EQ(seen, 7);
	CHECK_EQ(hv_evtchn_pending(h), -EAGAIN);
	hv_evtchn_handle_close(h);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void guest_to_guest_virq_ipi(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *a = vcpu_domain(hv, 2), *b = vcpu_domain(hv, 1);
	struct evtchn_status st;
	int pa, pb, virq, ipi;

	pa = hv_evtchn_alloc_unbound(a, hv_domain_id(b));
	CHECK(pa > 0);
	pb = hv_evtchn_bind_interdomain(b, hv_domain_id(a), (evtchn_port_t)pa);
	CHECK(pb > 0);
	CHECK_EQ(hv_evtchn_bind_interdomain(b, hv_domain_id(a), (evtchn_port_t)pa), -EINVAL);
	CHECK_EQ(hv_evtchn_send(a, (evtchn_port_t)pa), 0);
	CHECK_EQ(hv_evtchn_test_and_clear(b, (evtchn_port_t)pb), 1);
	CHECK_EQ(hv_evtchn_send(b, (evtchn_port_t)pb), 0);
	CHECK_EQ(hv_evtchn_test_and_clear(a, (evtchn_port_t)pa), 1);
	CHECK_EQ(hv_evtchn_close(b, (evtchn_port_t)pb), 0);
	CHECK_EQ(hv_evtchn_status(a, (evtchn_port_t)pa, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);
	CHECK_EQ(st.u.unbound.dom, hv_domain_id(b));
	/* Rebinding works again after the close. */
	pb = hv_evtchn_bind_interdomain(b, hv_domain_id(a), (evtchn_port_t)pa);
	CHECK(pb > 0);

	virq = hv_evtchn_bind_virq(a, VIRQ_DEBUG, 1);
	CHECK(virq > 0);
	CHECK_EQ(hv_evtchn_bind_virq(a, VIRQ_DEBUG, 0), -EEXIST);
	CHECK_EQ(hv_evtchn_raise_virq(a, VIRQ_DEBUG), 0);
	CHECK_EQ(hv_evtchn_test_and_clear(a, (evtchn_port_t)virq), 1);
	CHECK_EQ(hv_evtchn_raise_virq(a, VIRQ_TIMER), -ENOENT);
	CHECK_EQ(hv_evtchn_status(a, (evtchn_port_t)virq, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_virq);
	CHECK_EQ(st.u.virq, VIRQ_DEBUG);
	CHECK_EQ(st.vcpu, 1);
	CHECK_EQ(hv_evtchn_send(a, (evtchn_port_t)virq), -EINVAL);   /* guests cannot send a VIRQ */
	CHECK_EQ(hv_evtchn_close(a, (evtchn_port_t)virq), 0);
	CHECK(hv_evtchn_bind_virq(a, VIRQ_DEBUG, 0) > 0);

	ipi = hv_evtchn_bind_ipi(a, 0);
	CHECK(ipi > 0);
	CHECK_EQ(hv_evtchn_send(a, (evtchn_port_t)ipi), 0);
	CHECK_EQ(hv_evtchn_test_and_clear(a, (evtchn_port_t)ipi), 1);
	CHECK_EQ(hv_evtchn_status(a, (evtchn_port_t)ipi, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_ipi);

	/* Destroying b leaves a's end unbound again. */
	domain_end(b);
	CHECK_EQ(hv_evtchn_status(a, (evtchn_port_t)pa, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);
	domain_end(a);
	CHECK(hv_end_clean(hv));
}

static void bad_input(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = vcpu_domain(hv, 1), *e = vcpu_domain(hv, 1);
	struct hv_evtchn_handle *h, *other;
	struct evtchn_status st;
	int gport, lport, n = 0;

	CHECK_EQ(hv_evtchn_open(hv, &h), 0);
	CHECK_EQ(hv_evtchn_open(hv, &other), 0);
	CHECK_EQ(hv_evtchn_send(d, 0), -EINVAL);                /* port 0 is reserved */
	CHECK_EQ(hv_evtchn_send(d, HV_EVTCHN_PORTS), -EINVAL);
	CHECK_EQ(hv_evtchn_send(d, 63), -EINVAL);               /* never allocated */
	CHECK_EQ(hv_evtchn_send(d, 64), -EINVAL);               /* bucket not even there */
	CHECK_EQ(hv_evtchn_close(d, 5), -EINVAL);
	CHECK_EQ(hv_evtchn_unmask(d, 4097), -EINVAL);
	CHECK_EQ(hv_evtchn_status(d, 9999, &st), -EINVAL);
	CHECK_EQ(hv_evtchn_bind_virq(d, 24, 0), -EINVAL);
	CHECK_EQ(hv_evtchn_bind_virq(d, VIRQ_DEBUG, 1), -EINVAL);
	CHECK_EQ(hv_evtchn_bind_ipi(d, 3), -EINVAL);
	CHECK_EQ(hv_evtchn_bind_interdomain(d, 2000, 1), -EINVAL);      /* out of range */
	CHECK_EQ(hv_evtchn_bind_interdomain(d, 77, 1), -ESRCH);
	CHECK_EQ(hv_evtchn_bind_interdomain(d, hv_domain_id(d), 1), -EINVAL);
	/* Unbound for someone else. */
	gport = hv_evtchn_alloc_unbound(e, HV_DOMID_DOM0);
	CHECK_EQ(hv_evtchn_bind_interdomain(d, hv_domain_id(e), (evtchn_port_t)gport), -EINVAL);
	CHECK_EQ(hv_evtchn_bind_interdomain_port(h, hv_domain_id(e), 4000), -EINVAL);
	lport = hv_evtchn_bind_interdomain_port(h, hv_domain_id(e), (evtchn_port_t)gport);
	CHECK(lport > 0);
	/* Ports belong to the handle that bound them. */
	CHECK_EQ(hv_evtchn_unbind(other, (evtchn_port_t)lport), -ENOENT);
	CHECK_EQ(hv_evtchn_notify(other, (evtchn_port_t)lport), -ENOENT);
	CHECK_EQ(hv_evtchn_notify(h, HV_EVTCHN_PORTS), -EINVAL);
	CHECK_EQ(hv_evtchn_unbind(h, (evtchn_port_t)lport), 0);
	CHECK_EQ(hv_evtchn_unbind(h, (evtchn_port_t)lport), -ENOENT);
	/* Running out of ports. */
	while (hv_evtchn_alloc_unbound(d, HV_DOMID_DOM0) > 0)
		n++;
	CHECK_EQ(n, HV_EVTCHN_PORTS - 1);
	CHECK_EQ(hv_evtchn_alloc_unbound(d, HV_DOMID_DOM0), -ENOSPC);
	hv_evtchn_handle_close(other);
	/* A handle may outlive the domain its ports were bound to. */
	gport = hv_evtchn_alloc_unbound(e, HV_DOMID_DOM0);
	lport = hv_evtchn_bind_interdomain_port(h, hv_domain_id(e), (evtchn_port_t)gport);
	CHECK(lport > 0);
	domain_end(e);
	CHECK_EQ(hv_evtchn_notify(h, (evtchn_port_t)lport), 0);
	hv_evtchn_handle_close(h);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

/*
 * Senders bump a sequence number and send on a port that stays bound while
 * other ports of the same domain are bound and closed all the time.  After
 * the last send the consumer must see the last sequence number: a lost
 * notification would leave it waiting forever.
 */
struct stress {
	struct hv_domain *d;
	struct hv_evtchn_handle *h;
	evtchn_port_t gport;
	atomic_ulong seq;
	atomic_bool stop;
	unsigned long sends;
};

static void *sender(void *arg)
{
	struct stress *s = arg;

	for (unsigned long i = 0; i < s->sends; i++) {
		atomic_fetch_add(&s->seq, 1);
		hv_evtchn_send(s->d, s->gport);
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load(&s->stop)) {
		int g = hv_evtchn_alloc_unbound(s->d, HV_DOMID_DOM0);
		int l = hv_evtchn_bind_interdomain_port(s->h, hv_domain_id(s->d), (evtchn_port_t)g);

		/* Sends racing the bind and the close: dropped or delivered, never stuck. */
		hv_evtchn_send(s->d, (evtchn_port_t)g);
		if (l > 0 && (g & 1))
			hv_evtchn_unbind(s->h, (evtchn_port_t)l);
		else
			hv_evtchn_close(s->d, (evtchn_port_t)g);
		if (l > 0 && !(g & 1))
			hv_evtchn_unbind(s->h, (evtchn_port_t)l);
	}
	return NULL;
}

static void concurrent_send_and_close(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct stress s = { .d = test_domain(hv, MiB), .sends = 200000 };
	pthread_t snd[2], churn;
	unsigned long last_seen = 0, total;
	int lport;

	CHECK_EQ(hv_evtchn_open(hv, &s.h), 0);
	s.gport = (evtchn_port_t)hv_evtchn_alloc_unbound(s.d, HV_DOMID_DOM0);
	lport = hv_evtchn_bind_interdomain_port(s.h, hv_domain_id(s.d), s.gport);
	CHECK(lport > 0);
	total = 2 * s.sends;
	pthread_create(&churn, NULL, churner, &s);
	for (int i = 0; i < 2; i++)
		pthread_create(&snd[i], NULL, sender, &s);
	while (last_seen < total) {
		int p;

		if (!readable(hv_evtchn_fd(s.h), 10000))
			break;
		while ((p = hv_evtchn_pending(s.h)) >= 0) {
			if (p == lport)
				last_seen = atomic_load(&s.seq);
			hv_evtchn_unmask_port(s.h, (evtchn_port_t)p);
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(snd[i], NULL);
	atomic_store(&s.stop, true);
	pthread_join(churn, NULL);
	CHECK_EQ(last_seen, total);
	hv_evtchn_handle_close(s.h);
	domain_end(s.d);
	CHECK(hv_end_clean(hv));
}

/* A consumer in another process: waits, reads, unmasks and notifies. */
static void consumer_in_another_process(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, MiB);
	struct hv_evtchn_handle *h;
	struct hv_evtchn_export ex;
	int gport, lport, status, pipefd[2];
	pid_t pid;

	CHECK_EQ(hv_evtchn_open(hv, &h), 0);
	gport = hv_evtchn_alloc_unbound(d, HV_DOMID_DOM0);
	lport = hv_evtchn_bind_interdomain_port(h, hv_domain_id(d), (evtchn_port_t)gport);
	CHECK(lport > 0);
	CHECK_EQ(hv_evtchn_export(h, &ex), 0);
	CHECK_EQ(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		struct hv_evtchn_handle *mine;
		int p = -1, ok;

		/* Only what was exported: no hv, no domain, just the descriptors. */
		ok = hv_evtchn_import(&ex, &mine) == 0 && readable(hv_evtchn_fd(mine), 5000) &&
		     (p = hv_evtchn_pending(mine)) == lport &&
		     hv_evtchn_unmask_port(mine, (evtchn_port_t)p) == 0 &&
		     hv_evtchn_notify(mine, (evtchn_port_t)p) == 0 &&
		     hv_evtchn_unbind(mine, (evtchn_port_t)p) == -EINVAL;
		(void)!write(pipefd[1], &ok, sizeof(ok));
		hv_evtchn_handle_close(mine);
		_exit(0);
	}
	CHECK_EQ(hv_evtchn_send(d, (evtchn_port_t)gport), 0);
	int ok = 0;

	CHECK_EQ(read(pipefd[0], &ok, sizeof(ok)), (ssize_t)sizeof(ok));
	CHECK(ok);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The child's notify reached the guest through the core's service thread. */
	int got = 0;

	for (int i = 0; i < 5000 && !got; i++) {
		got = hv_evtchn_test_and_clear(d, (evtchn_port_t)gport) == 1;
		if (!got)
			usleep(1000);
	}
	CHECK(got);
	close(pipefd[0]);
	close(pipefd[1]);
	hv_evtchn_handle_close(h);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(guest_to_dom0_and_back),
       T_CASE(no_loss_between_pending_and_unmask),
       T_CASE(several_ports_keep_fd_readable),
       T_CASE(guest_to_guest_virq_ipi),
       T_CASE(bad_input),
       T_CASE(concurrent_send_and_close),
       T_CASE(consumer_in_another_process))
