/* SPDX-License-Identifier: MIT */
/*
 * utf8.h — how much of a byte string is text D-Bus will carry: sd-bus
 * refuses a whole message for one invalid byte, so strings are cut at a
 * character boundary, never inside a character.
 */
#pragma once

#include <stddef.h>

/*
 * The length of the longest prefix of @s (at most @len bytes, up to a NUL)
 * that is well-formed UTF-8: no overlong forms, no surrogates, nothing
 * past U+10FFFF, no character cut at the end.
 */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Cuts @s in place to its valid prefix; returns @s. */
char *utf8_truncate(char *s);

/* Copies @src into @dst of @size bytes, cut to a valid prefix; returns @dst. */
char *utf8_copy(char *dst, size_t size, const char *src);
