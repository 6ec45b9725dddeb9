/* SPDX-License-Identifier: MIT */
/*
 * A TAP producer for meson's 'tap' protocol.  CHECK* fail the current case
 * and return from it; cases are independent functions run in order.
 */
#pragma once

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct t_case {
	const char *name;
	void (*fn)(void);
};

extern bool t_case_failed;
void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int t_run(const struct t_case *cases, size_t n);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			t_fail(__FILE__, __LINE__, "%s", #cond);             \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		long long _a = (long long)(a), _b = (long long)(b);          \
		if (_a != _b) {                                              \
			t_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", \
			       #a, #b, _a, _b);                              \
			return;                                              \
		}                                                            \
	} while (0)

/* Said after the case's name: how it differs where it runs ("through altviewd: ..."). */
void t_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define T_CASE(fn) { #fn, fn }
#define T_MAIN(...)                                                          \
	int main(void)                                                       \
	{                                                                    \
		static const struct t_case cases[] = { __VA_ARGS__ };        \
		return t_run(cases, sizeof(cases) / sizeof(cases[0]));       \
	}
