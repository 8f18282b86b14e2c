/*
 * test_span.c -- utf8_plain_span() and utf8_odd_mask64(), the plain-text
 * skips of the header scans: every length from 0 to 70, every position of
 * the first odd octet, every kind of odd octet, against a plain loop.  Built twice:
 * test_span (SSE2 on x86-64) and test_span_portable (-DUTF8_NO_SIMD, the
 * word-at-a-time path other machines take).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static size_t
span_by_octet(const char *s, size_t len, unsigned lo, unsigned char except)
{
	size_t i = 0;

	while (i < len && (unsigned char)s[i] >= lo && (unsigned char)s[i] <= 0x7e &&
	       (unsigned char)s[i] != except)
		i++;
	return i;
}

/* The settings the checks use: a value, a field name, and the extremes. */
static const struct {
	unsigned lo;
	unsigned char except;
} settings[] = { { 0x20, 0 }, { 0x21, ':' }, { 0x01, 0 }, { 0x7f, 0 }, { 0x20, 'a' } };

/* Odd octets: below and above the range, NUL, DEL, 8-bit, the exception. */
static const unsigned char odd[] = { 0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x20,
				     0x3a, 0x61, 0x7e, 0x7f, 0x80, 0xc3, 0xff };

START_TEST(finds_the_first_odd_octet_at_every_length_and_position)
{
	/* the string sits at the end of a malloc'd block so that a read past
	   it is an error under valgrind and ASan */
	for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]); k++) {
		unsigned lo = settings[k].lo;
		unsigned char ex = settings[k].except;
		unsigned char plain = lo > '~' ? 0 : (ex == '~' ? '}' : '~');

		for (size_t len = 0; len <= 70; len++) {
			char *s = malloc(len ? len : 1);

			ck_assert_ptr_nonnull(s);
			memset(s, plain, len);
			if (plain != 0)
				ck_assert_uint_eq(utf8_plain_span(s, len, lo, ex), len);
			for (size_t at = 0; at < len; at++)
				for (size_t o = 0; o < sizeof(odd); o++) {
					memset(s, plain, len);
					s[at] = (char)odd[o];
					if (at + 3 < len)	/* a second odd octet later */
						s[len - 1] = (char)odd[(o + 5) % sizeof(odd)];
					ck_assert_msg(utf8_plain_span(s, len, lo, ex) ==
						      span_by_octet(s, len, lo, ex),
						      "lo %#x except %#x len %zu odd %#x at %zu: %zu, not %zu",
						      lo, ex, len, odd[o], at,
						      utf8_plain_span(s, len, lo, ex),
						      span_by_octet(s, len, lo, ex));
				}
			free(s);
		}
	}
}
END_TEST

START_TEST(agrees_with_the_plain_loop_on_random_bytes)
{
	unsigned seed = 20261124;
	char buf[96];

	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)(rand_r(&seed) % 80), off = (size_t)(rand_r(&seed) % 16);
		size_t k = (size_t)rand_r(&seed) % (sizeof(settings) / sizeof(settings[0]));

		/* mostly plain text, an odd octet now and then */
		for (size_t i = 0; i < len; i++) {
			int r = rand_r(&seed) % 64;

			buf[off + i] = r == 0 ? (char)(rand_r(&seed) & 0xff) :
				(char)(0x21 + rand_r(&seed) % 94);
		}
		ck_assert_uint_eq(utf8_plain_span(buf + off, len, settings[k].lo, settings[k].except),
				  span_by_octet(buf + off, len, settings[k].lo, settings[k].except));
	}
}
END_TEST

START_TEST(masks_the_odd_octets_of_a_block_with_or_without_bytes_before_it)
{
	unsigned seed = 1124;

	for (int round = 0; round < 100000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 65), before = (size_t)(rand_r(&seed) % 20);
		size_t k = (size_t)rand_r(&seed) % (sizeof(settings) / sizeof(settings[0]));
		uint64_t want = 0;
		/* exactly `before' octets before the block and none after it: a
		   read outside is an error under ASan and valgrind */
		char *buf = malloc(before + n > 0 ? before + n : 1), *s = buf + before;

		ck_assert_ptr_nonnull(buf);
		for (size_t i = 0; i < before + n; i++) {
			int r = rand_r(&seed) % 24;

			buf[i] = r == 0 ? (char)(rand_r(&seed) & 0xff) :
				(char)(0x21 + rand_r(&seed) % 94);
		}
		for (size_t i = 0; i < n; i++)
			if (span_by_octet(s + i, 1, settings[k].lo, settings[k].except) == 0)
				want |= 1ULL << i;
		ck_assert_msg(utf8_odd_mask64(s, n, before, settings[k].lo, settings[k].except) == want,
			      "n %zu before %zu setting %zu", n, before, k);
		free(buf);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("span");
	TCase *tc = tcase_create("span");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, finds_the_first_odd_octet_at_every_length_and_position);
	tcase_add_test(tc, agrees_with_the_plain_loop_on_random_bytes);
	tcase_add_test(tc, masks_the_odd_octets_of_a_block_with_or_without_bytes_before_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
