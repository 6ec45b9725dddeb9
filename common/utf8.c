/* SPDX-License-Identifier: MIT */
/*
 * utf8.c — the well-formedness rules of RFC 3629 (what sd-bus checks
 * before it sends a string), applied to find where text must be cut.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* The length of the character at @p (up to @left bytes), or 0 if it is not well-formed. */
static size_t char_len(const unsigned char *p, size_t left)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond Unicode. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) ||
	    c > 0x10ffff)
		return 0;
	return n;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len && p[i]) {
		size_t n = char_len(p + i, len - i);

		if (!n)
			break;
		i += n;
	}
	return i;
}

char *utf8_truncate(char *s)
{
	s[utf8_valid_prefix(s, SIZE_MAX)] = 0;
	return s;
}

char *utf8_copy(char *dst, size_t size, const char *src)
{
	size_t n = utf8_valid_prefix(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
	return dst;
}
