/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "harness.h"

bool t_case_failed;

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	t_case_failed = true;
}

int t_run(const struct t_case *cases, size_t n)
{
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		t_case_failed = false;
		cases[i].fn();
		printf("%s %zu - %s\n", t_case_failed ? "not ok" : "ok", i + 1, cases[i].name);
		failed += t_case_failed;
	}
	return failed ? 1 : 0;
}
