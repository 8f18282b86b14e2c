/*
 * utf8.h -- UTF-8 validation, ASCII comparison and the plain-ASCII word
 * test shared by the checks
 */
#ifndef MG_UTF8_H
#define MG_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Is any of the 8 octets at p below lo or above 0x7e (lo at most 0x80)?
   Lets a scan skip plain US-ASCII a 64-bit word at a time; exact for the
   whole word, as the borrow or carry of one octet starts only at an octet
   that is itself out of range. */
static inline int
utf8_word_outside(const void *p, unsigned lo)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return ((((x - ones * lo) & ~x) | ((x + ones) | x)) & highs) != 0;
}

#endif
