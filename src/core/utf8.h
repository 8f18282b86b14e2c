/*
 * utf8.h -- UTF-8 validation, ASCII comparison and the plain-ASCII word
 * test shared by the checks
 */
#ifndef MG_UTF8_H
#define MG_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) && !defined(UTF8_NO_SIMD)
#include <emmintrin.h>
#endif

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

/* Is any of the 8 octets at p below lo or above 0x7e (lo 0x01 to 0x7f)?
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

/* The octet-by-octet rest of utf8_plain_span(), from s[i]. */
static inline size_t
utf8_plain_from(const char *s, size_t i, size_t len, unsigned lo, unsigned char except)
{
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < lo || c > 0x7e || c == except)
			break;
	}
	return i;
}

/* The number of leading octets of s[0..len) that are plain text: in
   [lo, 0x7e] (lo from 0x01 to 0x7f) and not `except' (0: no exception;
   NUL is never plain).  With SSE2 (every x86-64) 16 octets a step, and
   the short rest in one or two overlapping loads rather than octet by
   octet; elsewhere (or with UTF8_NO_SIMD) 8, a word at a time. */
#if defined(__SSE2__) && !defined(UTF8_NO_SIMD)
static inline unsigned
utf8_bad16(__m128i v, unsigned lo, unsigned char except)
{
	/* signed compares: octets from 0x80 are negative, below lo too */
	__m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8((char)lo)),
				   _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
						_mm_cmpeq_epi8(v, _mm_set1_epi8((char)except))));

	return (unsigned)_mm_movemask_epi8(bad);
}

static inline size_t
utf8_plain_span(const char *s, size_t len, unsigned lo, unsigned char except)
{
	size_t i = 0;
	unsigned m;

	if (len >= 16) {
		for (; i + 16 <= len; i += 16) {
			m = utf8_bad16(_mm_loadu_si128((const __m128i *)(const void *)(s + i)),
				       lo, except);
			if (m != 0)
				return i + (size_t)__builtin_ctz(m);
		}
		if (i == len)
			return len;
		/* the last 16 octets, overlapping: bit k is octet len-16+k */
		m = utf8_bad16(_mm_loadu_si128((const __m128i *)(const void *)(s + len - 16)),
			       lo, except) >> (16 - (len - i));
		return m != 0 ? i + (size_t)__builtin_ctz(m) : len;
	}
	if (len >= 8) {
		/* octets 0..7, then len-8..len-1 */
		m = utf8_bad16(_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)s),
						  _mm_loadl_epi64((const __m128i *)(const void *)
								  (s + len - 8))), lo, except);
		if ((m & 0xff) != 0)
			return (size_t)__builtin_ctz(m);
		m >>= 24 - len;		/* bit 0: octet 8 */
		return m != 0 ? 8 + (size_t)__builtin_ctz(m) : len;
	}
	if (len >= 4) {
		int a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		m = utf8_bad16(_mm_unpacklo_epi32(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b)),
			       lo, except) & 0xff;	/* octets 8..15 are zero */
		if ((m & 0xf) != 0)
			return (size_t)__builtin_ctz(m);
		m >>= 12 - len;		/* bit 0: octet 4 */
		return m != 0 ? 4 + (size_t)__builtin_ctz(m) : len;
	}
	return utf8_plain_from(s, i, len, lo, except);
}
#else
static inline size_t
utf8_plain_span(const char *s, size_t len, unsigned lo, unsigned char except)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
		uint64_t x;

		memcpy(&x, s + i, sizeof(x));
		x ^= ones * except;	/* `except' reads as NUL */
		if (utf8_word_outside(s + i, lo) || ((x - ones) & ~x & highs) != 0)
			break;
	}
	return utf8_plain_from(s, i, len, lo, except);
}
#endif

/* The odd octets of s[k..n) (n at most 64), octet by octet. */
static inline uint64_t
utf8_odd_octets(const char *s, size_t k, size_t n, unsigned lo, unsigned char except)
{
	uint64_t m = 0;

	for (; k < n; k++) {
		unsigned char c = (unsigned char)s[k];

		if (c < lo || c > 0x7e || c == except)
			m |= 1ULL << k;
	}
	return m;
}

/* The odd octets of s[0..n), n at most 64, as a bit mask: bit k is set
   if s[k] is outside [lo, 0x7e] or is `except' (as utf8_plain_span()).
   before: how many octets before s may be read (the rest of the value
   behind a block); the short end of s is read in one overlapping load
   then, not octet by octet. */
#if defined(__SSE2__) && !defined(UTF8_NO_SIMD)
static inline uint64_t
utf8_odd_mask64(const char *s, size_t n, size_t before, unsigned lo, unsigned char except)
{
	uint64_t m = 0;
	size_t k = 0, r;

	for (; k + 16 <= n; k += 16)
		m |= (uint64_t)utf8_bad16(_mm_loadu_si128((const __m128i *)(const void *)(s + k)),
					  lo, except) << k;
	r = n - k;
	if (r == 0)
		return m;
	if (n >= 16 || before >= 16 - r) {
		/* the 16 octets that end at s+n: keep the top r bits */
		unsigned t = utf8_bad16(_mm_loadu_si128((const __m128i *)(const void *)
							 (s + n - 16)), lo, except);

		return m | (uint64_t)(t >> (16 - r)) << k;
	}
	/* the whole of s is shorter than 16 octets, and nothing before it */
	if (n >= 8) {
		unsigned t = utf8_bad16(_mm_unpacklo_epi64(
						_mm_loadl_epi64((const __m128i *)(const void *)s),
						_mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8))),
					lo, except);

		return (t & 0xff) | (uint64_t)(t >> 8) << (n - 8);
	}
	return m | utf8_odd_octets(s, k, n, lo, except);
}
#else
static inline uint64_t
utf8_odd_mask64(const char *s, size_t n, size_t before, unsigned lo, unsigned char except)
{
	(void)before;
	return utf8_odd_octets(s, 0, n, lo, except);
}
#endif

#endif
