/* SPDX-License-Identifier: MIT */
/* The lock-order checker: the declared order passes, a reversal aborts. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lock.h"

static struct hv_rwlock p2m_host, view_list;
static struct hv_mutex view;

static void take_in_order(void)
{
	hv_write_lock(&p2m_host);
	hv_read_lock(&view_list);
	hv_mutex_lock(&view);
	hv_mutex_unlock(&view);
	hv_read_unlock(&view_list);
	hv_write_unlock(&p2m_host);
}

/* Runs @fn in a child; returns the signal that ended it, or 0. */
static int run_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		/* The checker's report is expected; keep the TAP stream clean. */
		freopen("/dev/null", "w", stderr);
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void reversed_p2m(void)
{
	hv_read_lock(&view_list);
	hv_write_lock(&p2m_host);
}

static void reversed_view(void)
{
	hv_mutex_lock(&view);
	hv_read_lock(&view_list);
}

static void same_level_twice(void)
{
	static struct hv_mutex other;

	hv_mutex_init(&other, HV_LOCK_VIEW, "view 2");
	hv_mutex_lock(&view);
	hv_mutex_lock(&other);
}

static void declared_order_passes(void)
{
	CHECK_EQ(run_child(take_in_order), 0);
	take_in_order();
}

static void reversal_aborts(void)
{
	CHECK(hv_lock_checks_enabled());
	CHECK_EQ(run_child(reversed_p2m), SIGABRT);
	CHECK_EQ(run_child(reversed_view), SIGABRT);
	CHECK_EQ(run_child(same_level_twice), SIGABRT);
}

int main(void)
{
	static const struct t_case cases[] = {
		T_CASE(declared_order_passes),
		T_CASE(reversal_aborts),
	};

	hv_rwlock_init(&p2m_host, HV_LOCK_P2M_HOST, "p2m host");
	hv_rwlock_init(&view_list, HV_LOCK_VIEW_LIST, "view list");
	hv_mutex_init(&view, HV_LOCK_VIEW, "view 1");
	return t_run(cases, sizeof(cases) / sizeof(cases[0]));
}
