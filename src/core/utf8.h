/*
 * utf8.h -- UTF-8 validation, ASCII comparison and the scans for octets
 * outside printable US-ASCII shared by the checks
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

/* With SSE2: the odd octets of v, one bit each (see utf8_odd_mask64()). */
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
/* always inline: lo and except are constants at each call, and the call
   is per field (an out-of-line copy costs ~1,000 instructions a message) */
static inline __attribute__((always_inline)) uint64_t
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
	if (n >= 4) {	/* octets 0..3, then n-4..n-1 (short field names) */
		int a, b;
		unsigned t;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		t = utf8_bad16(_mm_unpacklo_epi32(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b)),
			       lo, except);	/* octets 8..15 are zero: not looked at */
		return (t & 0xf) | (uint64_t)((t >> 4) & 0xf) << (n - 4);
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

/* The number of leading octets of s[0..len) that are plain text: in
   [lo, 0x7e] (lo from 0x01 to 0x7f) and not `except' (0: no exception;
   NUL is never plain).  64 octets a step, by utf8_odd_mask64(). */
static inline size_t
utf8_plain_span(const char *s, size_t len, unsigned lo, unsigned char except)
{
	for (size_t base = 0; base < len; base += 64) {
		size_t n = len - base < 64 ? len - base : 64;
		uint64_t m = utf8_odd_mask64(s + base, n, base, lo, except);

		if (m != 0)
			return base + (size_t)__builtin_ctzll(m);
	}
	return len;
}

#endif
