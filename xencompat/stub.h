/* SPDX-License-Identifier: MIT */
/*
 * stub.h — the exports altview does not serve (gen-stubs.py writes one line
 * each): they exist with their version node, so that a Xen binary linked
 * with BIND_NOW loads, and fail when called the way their return type
 * fails in Xen's libraries, with errno EOPNOTSUPP and a line on stderr.
 * They take no parameters here: a caller's arguments are simply not read.
 */
#pragma once

#include <stddef.h>

#include "private.h"

#define STUB_EXPORT __attribute__((visibility("default")))

#define STUB_INT(name, lib) \
	STUB_EXPORT long name(void); \
	long name(void) { xencompat_unsupported(lib, #name); return -1; }
#define STUB_ZERO(name, lib) \
	STUB_EXPORT long name(void); \
	long name(void) { xencompat_unsupported(lib, #name); return 0; }
#define STUB_PTR(name, lib) \
	STUB_EXPORT void *name(void); \
	void *name(void) { xencompat_unsupported(lib, #name); return NULL; }
#define STUB_VOID(name, lib) \
	STUB_EXPORT void name(void); \
	void name(void) { xencompat_unsupported(lib, #name); }
#define STUB_DATA(name, size) \
	STUB_EXPORT unsigned char name[size];
