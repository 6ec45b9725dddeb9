/* SPDX-License-Identifier: MIT */
/*
 * vCPUs: one thread each, running the domain's engine between pauses.
 *
 * A vCPU is "in guest" while it executes steps.  Everything that must not
 * race with guest execution (view destroy, switching all vCPUs, register
 * access) pauses it first, and hv_vcpu_pause() returns only once the vCPU
 * is out of the guest: it leaves at the next step boundary, or is already
 * out while it waits for an event's answer.  Pause counts nest (domain
 * pauses are one count on every vCPU, like Xen's).
 *
 * Synchronous events: the vCPU marks itself waiting, calls the listener
 * without its own lock, then sleeps until hv_vcpu_respond() stores an
 * answer -- from the listener itself or from any other thread later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

static void kick(struct hv_vcpu *v)
{
	if (v->d->engine && v->d->engine->kick && v->engine_state)
		v->d->engine->kick(v->engine_state);
}

static void update_yield_locked(struct hv_vcpu *v)
{
	bool yield = v->pause_count > 0 || atomic_load(&v->d->stopping);

	atomic_store_explicit(&v->yield_req, yield, memory_order_relaxed);
	if (yield && v->in_guest)
		kick(v);
}

/* Waits for the vCPU to leave the guest, kicking again in case a kick was lost. */
static void wait_out_of_guest_locked(struct hv_vcpu *v)
{
	while (v->in_guest) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		if (hv_cond_timedwait(&v->cond, &v->lock, &t) == ETIMEDOUT)
			kick(v);
	}
}

static bool stopping(const struct hv_vcpu *v)
{
	return atomic_load_explicit(&v->d->stopping, memory_order_relaxed);
}

static void finished(struct hv_domain *d)
{
	hv_mutex_lock(&d->state_lock);
	d->vcpus_finished++;
	pthread_cond_broadcast(&d->state_cond);
	hv_mutex_unlock(&d->state_lock);
}

static void *vcpu_thread(void *arg)
{
	struct hv_vcpu *v = arg;
	struct hv_domain *d = v->d;

	for (;;) {
		hv_mutex_lock(&v->lock);
		while (!stopping(v) && (v->pause_count || v->done)) {
			v->in_guest = false;
			pthread_cond_broadcast(&v->cond);
			hv_cond_wait(&v->cond, &v->lock);
		}
		if (stopping(v)) {
			v->in_guest = false;
			pthread_cond_broadcast(&v->cond);
			hv_mutex_unlock(&v->lock);
			break;
		}
		v->in_guest = true;
		hv_mutex_unlock(&v->lock);

		if (d->engine->run(v, v->engine_state) == HV_RUN_DONE) {
			/* Out of the guest before anyone hears it is finished. */
			hv_mutex_lock(&v->lock);
			v->done = true;
			v->in_guest = false;
			pthread_cond_broadcast(&v->cond);
			hv_mutex_unlock(&v->lock);
			finished(d);
		}
	}
	return NULL;
}

int vcpus_create(struct hv_domain *d, const struct hv_domain_opts *opts)
{
	d->nr_vcpus = opts->nr_vcpus;
	d->engine = opts->engine;
	atomic_init(&d->access_required, opts->access_required);
	atomic_init(&d->pause_count, 1);
	if (!d->nr_vcpus)
		return 0;
	if (d->engine->domain_init) {
		int r = d->engine->domain_init(d, opts->engine_config, &d->engine_state);

		if (r < 0)
			return r;
	}
	d->vcpus = calloc(d->nr_vcpus, sizeof(*d->vcpus));
	if (!d->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < d->nr_vcpus; i++) {
		struct hv_vcpu *v = calloc(1, sizeof(*v));
		int r;

		if (!v)
			return -ENOMEM;
		d->vcpus[i] = v;
		v->d = d;
		v->id = i;
		v->pause_count = 1;                 /* created paused */
		atomic_init(&v->yield_req, true);
		v->tlb.gen = UINT64_MAX;
		v->regs.rdi = i;
		hv_mutex_init(&v->lock, HV_LOCK_VCPU, "vcpu");
		hv_cond_init(&v->cond);
		r = d->engine->vcpu_init(v, opts->engine_config, &v->engine_state);
		if (r < 0)
			return r;
		r = -pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (r < 0)
			return r;
		v->thread_started = true;
	}
	return 0;
}

void vcpus_stop(struct hv_domain *d)
{
	struct hv_monitor *mon;

	atomic_store(&d->stopping, true);
	if (!d->vcpus)
		return;
	/* vCPUs sleeping on a vm_event slot are not on their condition variable. */
	mon = atomic_load(&d->monitor);
	if (mon)
		vm_event_kick(mon);
	for (unsigned int i = 0; i < d->nr_vcpus && d->vcpus[i]; i++) {
		struct hv_vcpu *v = d->vcpus[i];

		hv_mutex_lock(&v->lock);
		update_yield_locked(v);
		pthread_cond_broadcast(&v->cond);
		hv_mutex_unlock(&v->lock);
	}
	for (unsigned int i = 0; i < d->nr_vcpus && d->vcpus[i]; i++) {
		struct hv_vcpu *v = d->vcpus[i];

		if (!v->thread_started)
			continue;
		hv_mutex_lock(&v->lock);
		wait_out_of_guest_locked(v);
		hv_mutex_unlock(&v->lock);
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
}

void vcpus_free(struct hv_domain *d)
{
	for (unsigned int i = 0; i < d->nr_vcpus && d->vcpus; i++) {
		struct hv_vcpu *v = d->vcpus[i];

		if (!v)
			continue;
		if (v->engine_state)
			d->engine->vcpu_deinit(v->engine_state);
		pthread_cond_destroy(&v->cond);
		hv_mutex_deinit(&v->lock);
		free(v);
	}
	free(d->vcpus);
	d->vcpus = NULL;
	if (d->engine_state)
		d->engine->domain_deinit(d->engine_state);
	d->engine_state = NULL;
}

/* ---- pausing ------------------------------------------------------------------ */

static bool on_own_thread(const struct hv_vcpu *v)
{
	return v->thread_started && pthread_equal(pthread_self(), v->thread);
}

int hv_vcpu_pause(struct hv_vcpu *v)
{
	if (!v)
		return -EINVAL;
	hv_mutex_lock(&v->lock);
	if (v->pause_count == UINT32_MAX) {
		hv_mutex_unlock(&v->lock);
		return -EOVERFLOW;
	}
	v->pause_count++;
	update_yield_locked(v);
	/* From its own thread (a listener), the vCPU is out of the guest already. */
	if (!on_own_thread(v))
		wait_out_of_guest_locked(v);
	hv_mutex_unlock(&v->lock);
	return 0;
}

int hv_vcpu_unpause(struct hv_vcpu *v)
{
	int r = 0;

	if (!v)
		return -EINVAL;
	hv_mutex_lock(&v->lock);
	if (v->pause_count == 0) {
		r = -EINVAL;
	} else {
		v->pause_count--;
		if (!v->pause_count)
			v->at_pause_point = false;
		update_yield_locked(v);
		pthread_cond_broadcast(&v->cond);
	}
	hv_mutex_unlock(&v->lock);
	return r;
}

void hv_vcpu_pause_self(struct hv_vcpu *v)
{
	hv_mutex_lock(&v->lock);
	v->pause_count++;
	v->at_pause_point = true;
	update_yield_locked(v);
	hv_mutex_unlock(&v->lock);
}

bool hv_vcpu_at_pause_point(struct hv_vcpu *v)
{
	bool at;

	hv_mutex_lock(&v->lock);
	/* Reached, and really stopped there (not merely asked to). */
	at = v->at_pause_point && !v->in_guest;
	hv_mutex_unlock(&v->lock);
	return at;
}

bool hv_vcpu_stepping(struct hv_vcpu *v)
{
	return atomic_load_explicit(&v->singlestep, memory_order_relaxed) ||
	       atomic_load_explicit(&v->fast_ss_pending, memory_order_relaxed);
}

void *hv_domain_engine_state(struct hv_domain *d)
{
	return d->engine_state;
}

bool hv_vcpu_should_yield(struct hv_vcpu *v)
{
	return atomic_load_explicit(&v->yield_req, memory_order_relaxed);
}

int hv_domain_pause(struct hv_domain *d)
{
	if (!d)
		return -EINVAL;
	atomic_fetch_add(&d->pause_count, 1);
	for (unsigned int i = 0; i < d->nr_vcpus; i++)
		hv_vcpu_pause(d->vcpus[i]);
	return 0;
}

int hv_domain_unpause(struct hv_domain *d)
{
	unsigned int n;

	if (!d)
		return -EINVAL;
	n = atomic_load(&d->pause_count);
	do {
		if (n == 0)
			return -EINVAL;
	} while (!atomic_compare_exchange_weak(&d->pause_count, &n, n - 1));
	for (unsigned int i = 0; i < d->nr_vcpus; i++)
		hv_vcpu_unpause(d->vcpus[i]);
	return 0;
}

/* ---- state ---------------------------------------------------------------------- */

void hv_domain_crash(struct hv_domain *d, const char *fmt, ...)
{
	va_list ap;

	hv_mutex_lock(&d->state_lock);
	if (!d->crashed) {
		d->crashed = true;
		va_start(ap, fmt);
		vsnprintf(d->crash_reason, sizeof(d->crash_reason), fmt, ap);
		va_end(ap);
		hv_log(d->hv, HV_LOG_WARNING, "d%u crashed: %s", d->id, d->crash_reason);
	}
	pthread_cond_broadcast(&d->state_cond);
	hv_mutex_unlock(&d->state_lock);
	/* The vCPU threads exit at their next step; they are joined at destroy. */
	atomic_store(&d->stopping, true);
	/* An engine may crash the domain before its vCPUs exist (a bad image). */
	for (unsigned int i = 0; d->vcpus && i < d->nr_vcpus && d->vcpus[i]; i++) {
		struct hv_vcpu *v = d->vcpus[i];

		hv_mutex_lock(&v->lock);
		update_yield_locked(v);
		pthread_cond_broadcast(&v->cond);
		hv_mutex_unlock(&v->lock);
	}
}

enum hv_domain_state hv_domain_state(struct hv_domain *d)
{
	bool crashed;

	if (atomic_load(&d->dying))
		return HV_DOMAIN_DYING;
	hv_mutex_lock(&d->state_lock);
	crashed = d->crashed;
	hv_mutex_unlock(&d->state_lock);
	if (crashed)
		return HV_DOMAIN_CRASHED;
	return atomic_load(&d->pause_count) ? HV_DOMAIN_PAUSED : HV_DOMAIN_RUNNING;
}

const char *hv_domain_crash_reason(struct hv_domain *d)
{
	const char *reason;

	hv_mutex_lock(&d->state_lock);
	reason = d->crashed ? d->crash_reason : NULL;
	hv_mutex_unlock(&d->state_lock);
	return reason;
}

int hv_domain_wait_idle(struct hv_domain *d, int timeout_ms)
{
	struct timespec deadline;
	int r = 0;

	if (!d)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	hv_mutex_lock(&d->state_lock);
	while (!d->crashed && d->vcpus_finished < d->nr_vcpus && r == 0)
		if (hv_cond_timedwait(&d->state_cond, &d->state_lock, &deadline) == ETIMEDOUT)
			r = -ETIMEDOUT;
	hv_mutex_unlock(&d->state_lock);
	return r;
}

/* ---- registers and statistics ------------------------------------------------- */

unsigned int hv_vcpu_id(const struct hv_vcpu *v)
{
	return v->id;
}

struct hv_domain *hv_vcpu_domain(struct hv_vcpu *v)
{
	return v->d;
}

unsigned int hv_domain_nr_vcpus(const struct hv_domain *d)
{
	return d->nr_vcpus;
}

struct hv_vcpu *hv_domain_vcpu(struct hv_domain *d, unsigned int id)
{
	return d && id < d->nr_vcpus ? d->vcpus[id] : NULL;
}

unsigned int hv_vcpu_view(struct hv_vcpu *v)
{
	return atomic_load(&v->active_view);
}

struct vm_event_regs_x86 *hv_vcpu_regs(struct hv_vcpu *v)
{
	return &v->regs;
}

void hv_vcpu_count_step(struct hv_vcpu *v)
{
	atomic_fetch_add_explicit(&v->steps, 1, memory_order_relaxed);
}

/* Registers belong to the vCPU thread while it is in the guest. */
static int regs_access(struct hv_vcpu *v, struct vm_event_regs_x86 *out,
		       const struct vm_event_regs_x86 *in)
{
	int r = 0;

	if (!v || !(out || in))
		return -EINVAL;
	hv_mutex_lock(&v->lock);
	if (v->in_guest)
		r = -EBUSY;
	else if (out)
		*out = v->regs;
	else
		v->regs = *in;
	hv_mutex_unlock(&v->lock);
	return r;
}

int hv_vcpu_get_regs(struct hv_vcpu *v, struct vm_event_regs_x86 *regs)
{
	return regs_access(v, regs, NULL);
}

int hv_vcpu_set_regs(struct hv_vcpu *v, const struct vm_event_regs_x86 *regs)
{
	return regs_access(v, NULL, regs);
}

int hv_vcpu_set_singlestep(struct hv_vcpu *v, bool enable)
{
	if (!v)
		return -EINVAL;
	atomic_store(&v->singlestep, enable);
	return 0;
}

void hv_vcpu_get_stats(struct hv_vcpu *v, struct hv_vcpu_stats *st)
{
	st->steps = atomic_load(&v->steps);
	st->accesses = atomic_load(&v->accesses);
	st->sync_events = atomic_load(&v->sync_events);
	st->async_events = atomic_load(&v->async_events);
	st->denied_view_switches = atomic_load(&v->denied_view_switches);
	st->singlesteps = atomic_load(&v->singlesteps);
}

int hv_vcpu_step_done(struct hv_vcpu *v, uint64_t next_gfn)
{
	if (atomic_load_explicit(&v->fast_ss_pending, memory_order_relaxed)) {
		/* Xen's fast single-step: one step in this view, then the next, no event. */
		atomic_store(&v->fast_ss_pending, false);
		hv_vcpu_switch_view(v, atomic_load(&v->fast_ss_view));
		return 0;
	}
	if (atomic_load_explicit(&v->singlestep, memory_order_relaxed)) {
		struct hv_event ev = { .reason = VM_EVENT_REASON_SINGLESTEP, .sync = true };
		struct hv_response resp;
		int r;

		ev.u.singlestep.gfn = next_gfn;
		atomic_fetch_add_explicit(&v->singlesteps, 1, memory_order_relaxed);
		r = hv_vcpu_raise(v, &ev, &resp);
		return r < 0 ? r : 0;
	}
	return 0;
}

/* ---- events ------------------------------------------------------------------------ */

int hv_domain_set_listener(struct hv_domain *d, uint32_t reasons, hv_event_fn *fn, void *ctx)
{
	if (!d)
		return -EINVAL;
	hv_write_lock(&d->listener_lock);
	d->listener = fn;
	d->listener_ctx = ctx;
	atomic_store(&d->listener_reasons, fn ? reasons : 0);
	hv_write_unlock(&d->listener_lock);
	if (!fn) {
		/* Nobody will answer now: let every waiting vCPU go. */
		struct hv_response none = { 0 };

		for (unsigned int i = 0; i < d->nr_vcpus; i++)
			hv_vcpu_respond(d->vcpus[i], &none);
	}
	return 0;
}

int hv_domain_set_listener_reasons(struct hv_domain *d, uint32_t reasons)
{
	if (!d)
		return -EINVAL;
	atomic_store(&d->listener_reasons, reasons);
	return 0;
}

int hv_vcpu_raise(struct hv_vcpu *v, struct hv_event *ev, struct hv_response *resp)
{
	struct hv_domain *d = v->d;
	bool taken = false;

	ev->vcpu_id = v->id;
	ev->view = (uint16_t)atomic_load(&v->active_view);
	ev->views_on = __atomic_load_n(&d->altp2m.enabled, __ATOMIC_RELAXED);
	ev->regs = v->regs;

	hv_read_lock(&d->listener_lock);
	if (d->listener && ev->reason < 32 &&
	    (atomic_load_explicit(&d->listener_reasons, memory_order_relaxed) & (1u << ev->reason))) {
		taken = true;
		if (ev->sync) {
			hv_mutex_lock(&v->lock);
			v->waiting_event = true;
			v->answer_claimed = v->answered = false;
			v->in_guest = false;
			pthread_cond_broadcast(&v->cond);
			hv_mutex_unlock(&v->lock);
		}
		d->listener(d->listener_ctx, v, ev);
	}
	hv_read_unlock(&d->listener_lock);
	if (!taken)
		return 0;
	if (!ev->sync) {
		atomic_fetch_add_explicit(&v->async_events, 1, memory_order_relaxed);
		return 1;
	}
	atomic_fetch_add_explicit(&v->sync_events, 1, memory_order_relaxed);

	hv_mutex_lock(&v->lock);
	while (!stopping(v) && (!v->answered || v->pause_count))
		hv_cond_wait(&v->cond, &v->lock);
	v->waiting_event = false;
	*resp = v->answered ? v->answer : (struct hv_response){ 0 };
	v->in_guest = true;
	hv_mutex_unlock(&v->lock);
	if (stopping(v))
		return -EINTR;
	if (resp->flags & VM_EVENT_FLAG_SET_REGISTERS)
		v->regs = resp->regs;
	return 1;
}

int hv_vcpu_respond(struct hv_vcpu *v, const struct hv_response *resp)
{
	int r = 0;

	if (!v || !resp || (resp->flags & ~HV_RESPONSE_FLAGS))
		return -EINVAL;
	/* Claim first, so two answers to one event cannot both act. */
	hv_mutex_lock(&v->lock);
	if (!v->waiting_event || v->answer_claimed)
		r = -ENOENT;
	else
		v->answer_claimed = true;
	hv_mutex_unlock(&v->lock);
	if (r < 0)
		return r;

	if ((resp->flags & VM_EVENT_FLAG_FAST_SINGLESTEP) &&
	    !view_exists(v->d, resp->fast_singlestep_view))
		r = -EINVAL;
	if (r == 0 && (resp->flags & VM_EVENT_FLAG_ALTERNATE_P2M))
		r = hv_vcpu_switch_view(v, resp->view);
	if (r == 0 && (resp->flags & VM_EVENT_FLAG_TOGGLE_SINGLESTEP))
		atomic_store(&v->singlestep, !atomic_load(&v->singlestep));
	if (r == 0 && (resp->flags & VM_EVENT_FLAG_FAST_SINGLESTEP)) {
		atomic_store(&v->fast_ss_view, resp->fast_singlestep_view);
		atomic_store(&v->fast_ss_pending, true);
	}

	hv_mutex_lock(&v->lock);
	if (r < 0) {
		v->answer_claimed = false;
	} else {
		v->answer = *resp;
		v->answered = true;
		pthread_cond_broadcast(&v->cond);
	}
	hv_mutex_unlock(&v->lock);
	return r < 0 ? -EINVAL : 0;
}
