/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "harness.h"

bool t_case_failed;
static char case_note[160];

void t_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(case_note, sizeof(case_note), fmt, ap);
	va_end(ap);
}

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
		case_note[0] = 0;
		cases[i].fn();
		printf("%s %zu - %s%s%s%s\n", t_case_failed ? "not ok" : "ok", i + 1, cases[i].name,
		       case_note[0] ? " (" : "", case_note, case_note[0] ? ")" : "");
		failed += t_case_failed;
	}
	return failed ? 1 : 0;
}
