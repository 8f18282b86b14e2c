/*
 * utf8.h -- UTF-8 validation and ASCII comparison shared by the checks
 */
#ifndef MG_UTF8_H
#define MG_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..len) (1 for ASCII), or 0 if
   it is invalid: overlong forms, surrogates, code points past U+10FFFF
   and truncated sequences included. */
size_t utf8_seq_len(const unsigned char *s, size_t len);

/* ASCII case-insensitive equality of a[0..n) and b[0..n): bytes, not
   locale characters (header names, keywords, shapes). */
static inline int
utf8_ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x |= 0x20;
		if (y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return 0;
	}
	return 1;
}

#endif
