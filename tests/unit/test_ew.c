/*
 * test_ew.c -- the RFC 2047 encoded-word scanner and decoder
 *
 * Words are compared field by field and decoded to exact bytes.  The
 * legitimate words are copied from headers in ../shared/corpus/ham; the
 * hostile ones are Mailsploit, each kind of malformed word, floods of
 * "=?" and words cut at every length: a prefix must report the full
 * input's words as far as they fit, then at most one malformed word.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ew.h"
#include "tu.h"

#define S(lit)	lit, sizeof(lit) - 1

struct want_word {
	size_t offset, len;
	const char *charset;
	char encoding;
	const char *text;
	const char *malformed;	/* NULL: well formed */
};

static void
assert_word(const struct ew_word *w, const struct want_word *want)
{
	ck_assert_uint_eq(w->offset, want->offset);
	ck_assert_uint_eq(w->len, want->len);
	ck_assert_uint_eq(w->charset_len, strlen(want->charset));
	ck_assert(memcmp(w->charset, want->charset, w->charset_len) == 0);
	ck_assert_int_eq(w->encoding, want->encoding);
	ck_assert_uint_eq(w->text_len, strlen(want->text));
	ck_assert(memcmp(w->text, want->text, w->text_len) == 0);
	if (want->malformed == NULL)
		ck_assert_ptr_null(w->malformed);
	else
		ck_assert_str_eq(w->malformed, want->malformed);
}

static void
assert_words(const char *s, size_t len, const struct want_word *want,
	     size_t nwant)
{
	struct ew_scan sc;
	struct ew_word w;
	size_t n = 0;

	ew_scan_init(&sc, s, len);
	while (ew_scan_next(&sc, &w) == 1) {
		ck_assert_msg(n < nwant, "word %zu is one too many", n);
		assert_word(&w, &want[n++]);
	}
	ck_assert_uint_eq(n, nwant);
	ck_assert_int_eq(ew_scan_next(&sc, &w), 0);
}

#define ASSERT_WORDS(lit, ...) do { \
	static const struct want_word want_[] = { __VA_ARGS__ }; \
	assert_words(S(lit), want_, sizeof(want_) / sizeof(want_[0])); \
} while (0)
#define ASSERT_NO_WORDS(lit)	assert_words(S(lit), NULL, 0)

/* The only word of s, decoded: expect the bytes (with length) and result. */
static void
assert_decodes(const char *s, size_t len, const char *bytes, size_t nbytes,
	       const char *error)
{
	struct ew_scan sc;
	struct ew_word w;
	char out[256];
	size_t outlen;
	bool truncated;
	const char *err;
	int r;

	ew_scan_init(&sc, s, len);
	ck_assert_int_eq(ew_scan_next(&sc, &w), 1);
	r = ew_decode(&w, out, sizeof(out), &outlen, &truncated, &err);
	ck_assert_uint_eq(outlen, nbytes);
	ck_assert(memcmp(out, bytes, nbytes) == 0);
	ck_assert(!truncated);
	if (error == NULL) {
		ck_assert_int_eq(r, 0);
		ck_assert_ptr_null(err);
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_str_eq(err, error);
	}
}

#define ASSERT_DECODES(word, bytes, error) \
	assert_decodes(S(word), S(bytes), error)

/* --- well-formed words ---------------------------------------------------- */

START_TEST(finds_a_q_word_from_the_ham_corpus_and_decodes_it)
{
	ASSERT_WORDS(" =?UTF-8?q?=5BPATCH=2029/44=5D=20drivers/staging=3A=20Remove=20unnecessary=20semicolons?=",
		{ 1, 88, "UTF-8", 'Q',
		  "=5BPATCH=2029/44=5D=20drivers/staging=3A=20Remove=20unnecessary=20semicolons",
		  NULL });
	ASSERT_DECODES("=?UTF-8?q?=5BPATCH=2029/44=5D=20drivers/staging=3A=20Remove=20unnecessary=20semicolons?=",
		       "[PATCH 29/44] drivers/staging: Remove unnecessary semicolons", NULL);
	ASSERT_DECODES("=?UTF-8?Q?Invitation=3A_Test_event_=E2=8F=B0_=40_Thu_Apr_11=2C_2024_11am_=2D?=",
		       "Invitation: Test event \xe2\x8f\xb0 @ Thu Apr 11, 2024 11am -", NULL);
}
END_TEST

START_TEST(accepts_lowercase_hex_and_encoding_and_keeps_a_language_suffix)
{
	ASSERT_WORDS("=?iso-8859-2*sl?Q?Doma=e8e?= =?Utf-8*SL?q?=BEje?=",
		{ 0, 28, "iso-8859-2*sl", 'Q', "Doma=e8e", NULL },
		{ 29, 20, "Utf-8*SL", 'Q', "=BEje", NULL });
	ASSERT_DECODES("=?iso-8859-2*sl?Q?Doma=e8e?=", "Doma\xe8" "e", NULL);
	ASSERT_DECODES("=?iso-8859-1*sv?Q?D=F6rte_=C5._S=F6rensen=2C_Jr.?=",
		       "D\xf6rte \xc5. S\xf6rensen, Jr.", NULL);
}
END_TEST

START_TEST(decodes_b_words_to_exact_bytes)
{
	ASSERT_WORDS("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
		{ 0, 34, "ISO-2022-JP", 'B', "GyRCJUYlOSVIGyhC", NULL });
	ASSERT_DECODES("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
		       "\x1b$B%F%9%H\x1b(B", NULL);
	ASSERT_DECODES("=?UTF-16?B?//492Enc?=", "\xff\xfe=\xd8I\xdc", NULL);
	ASSERT_DECODES("=?utf-8?B?0LjQstCw0LXRiNGMPw==?=",
		       "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xb5\xd1\x88\xd1\x8c?", NULL);
	ASSERT_DECODES("=?utf-8?b?w4lyaWM=?=", "\xc3\x89ric", NULL);
}
END_TEST

START_TEST(decodes_the_three_adjacent_mailsploit_words_including_the_nul)
{
	static const char s[] =
		"=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?==?utf-8?Q?=00?="
		"=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?=@mailsploit.com";

	ASSERT_WORDS("=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?==?utf-8?Q?=00?="
		     "=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?=@mailsploit.com",
		{ 0, 40, "utf-8", 'B', "cG90dXNAd2hpdGVob3VzZS5nb3Y=", NULL },
		{ 40, 15, "utf-8", 'Q', "=00", NULL },
		{ 55, 40, "utf-8", 'B', "cG90dXNAd2hpdGVob3VzZS5nb3Y=", NULL });
	ASSERT_DECODES("=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?=", "potus@whitehouse.gov", NULL);
	assert_decodes(s + 40, 15, "\0", 1, NULL);
}
END_TEST

START_TEST(decodes_control_bytes_as_data)
{
	/* the X-Face shape: a Q word carrying LF and TAB */
	ASSERT_WORDS("=?us-ascii?q?abc=0A=09def?=",
		{ 0, 27, "us-ascii", 'Q', "abc=0A=09def", NULL });
	ASSERT_DECODES("=?us-ascii?q?abc=0A=09def?=", "abc\n\tdef", NULL);
	ASSERT_DECODES("=?utf-8?Q?a=0D=0Ab=00?=", "a\r\nb\0", NULL);
}
END_TEST

START_TEST(accepts_missing_padding_and_an_empty_text)
{
	ASSERT_WORDS("=?utf-8?b?cG90dXM?= =?utf-8?b?cG8?= =?utf-8?b?cG8=?= =?UTF-8?B?" "?=",
		{ 0, 19, "utf-8", 'B', "cG90dXM", NULL },
		{ 20, 15, "utf-8", 'B', "cG8", NULL },
		{ 36, 16, "utf-8", 'B', "cG8=", NULL },
		{ 53, 12, "UTF-8", 'B', "", NULL });
	ASSERT_DECODES("=?utf-8?b?cG90dXM?=", "potus", NULL);
	ASSERT_DECODES("=?utf-8?b?cG8?=", "po", NULL);
	ASSERT_DECODES("=?utf-8?b?cG8=?=", "po", NULL);
	ASSERT_DECODES("=?UTF-8?B?" "?=", "", NULL);
	ASSERT_DECODES("=?UTF-8?Q?" "?=", "", NULL);
}
END_TEST

/* --- malformed words ------------------------------------------------------ */

START_TEST(reports_an_unknown_encoding)
{
	ASSERT_WORDS("=?utf-8?x?abc?= =?utf-8?qq?abc?= =?utf-8??abc?=",
		{ 0, 15, "utf-8", 0, "abc", "unknown encoding" },
		{ 16, 16, "utf-8", 0, "abc", "unknown encoding" },
		{ 33, 14, "utf-8", 0, "abc", "unknown encoding" });
	ASSERT_DECODES("=?utf-8?x?abc?=", "", "unknown encoding");
}
END_TEST

START_TEST(reports_an_empty_charset_and_one_that_is_not_a_token)
{
	ASSERT_WORDS("=??q?abc?= =?utf.8?q?abc?= =?ut\xf0" "f?q?abc?=",
		{ 0, 10, "", 'Q', "abc", "empty charset" },
		{ 11, 15, "utf.8", 'Q', "abc", "charset is not a token" },
		{ 27, 14, "ut\xf0" "f", 'Q', "abc", "charset is not a token" });
}
END_TEST

START_TEST(reports_bad_base64_of_every_kind)
{
	ASSERT_WORDS("=?utf-8?b?cG90*dXM=?= =?utf-8?b?cG90d?= =?utf-8?b?cA==cA==?= "
		     "=?utf-8?b?cG90dXM==?= =?utf-8?b?cG90=?= =?utf-8?b?cG 90?=",
		{ 0, 21, "utf-8", 'B', "cG90*dXM=", "bad base64" },
		{ 22, 17, "utf-8", 'B', "cG90d", "bad base64" },
		{ 40, 20, "utf-8", 'B', "cA==cA==", "bad base64" },
		{ 61, 21, "utf-8", 'B', "cG90dXM==", "bad base64" },
		{ 83, 17, "utf-8", 'B', "cG90=", "bad base64" },
		{ 101, 17, "utf-8", 'B', "cG 90", "bad base64" });
	/* the output is still a lenient decoding */
	ASSERT_DECODES("=?utf-8?b?cG90*dXM=?=", "potus", "bad base64");
	ASSERT_DECODES("=?utf-8?b?cG90d?=", "pot", "bad base64");
	ASSERT_DECODES("=?utf-8?b?cA==cA==?=", "pp", "bad base64");
	ASSERT_DECODES("=?utf-8?b?cG90dXM==?=", "potus", "bad base64");
}
END_TEST

START_TEST(reports_bad_q_encoding_of_every_kind)
{
	static const char nul[] = "=?utf-8?q?a\0b?=";

	ASSERT_WORDS("=?utf-8?q?a=G1?= =?utf-8?q?a=4?= =?utf-8?q?hello world?= "
		     "=?utf-8?q?caf\xc3\xa9?= =?utf-8?q?a=?=",
		{ 0, 16, "utf-8", 'Q', "a=G1", "bad Q-encoding" },
		{ 17, 15, "utf-8", 'Q', "a=4", "bad Q-encoding" },
		{ 33, 23, "utf-8", 'Q', "hello world", "bad Q-encoding" },
		{ 57, 17, "utf-8", 'Q', "caf\xc3\xa9", "bad Q-encoding" },
		{ 75, 14, "utf-8", 'Q', "a=", "bad Q-encoding" });
	assert_decodes(S(nul), "a\0b", 3, "bad Q-encoding");
	ASSERT_DECODES("=?utf-8?q?a=G1_b?=", "a=G1 b", "bad Q-encoding");
	ASSERT_DECODES("=?utf-8?q?hello world?=", "hello world", "bad Q-encoding");
}
END_TEST

START_TEST(reports_unterminated_words_and_goes_on_after_them)
{
	ASSERT_WORDS("=?utf-8?q?abc",
		{ 0, 13, "utf-8", 'Q', "abc", "unterminated" });
	ASSERT_WORDS("=?utf-8?q?abc\n =?utf-8?q?def?=",
		{ 0, 13, "utf-8", 'Q', "abc", "unterminated" },
		{ 15, 15, "utf-8", 'Q', "def", NULL });
	ASSERT_WORDS("=?utf-8?q?a?b?=",
		{ 0, 11, "utf-8", 'Q', "a", "unterminated" });
	ASSERT_WORDS("=?a?q?b=?c?q?d?=",
		{ 0, 7, "a", 'Q', "b", "unterminated" },
		{ 7, 9, "c", 'Q', "d", NULL });
	ASSERT_WORDS("=?a?q?b=",
		{ 0, 7, "a", 'Q', "b", "unterminated" });
	ASSERT_WORDS("=?a?q?",
		{ 0, 6, "a", 'Q', "", "unterminated" });
	ASSERT_WORDS("=?utf-8?q?abc\r\n",
		{ 0, 13, "utf-8", 'Q', "abc", "unterminated" });
}
END_TEST

START_TEST(ignores_what_is_not_shaped_like_a_word)
{
	ASSERT_NO_WORDS("");
	ASSERT_NO_WORDS("=");
	ASSERT_NO_WORDS("=?");
	ASSERT_NO_WORDS("=?utf-8");
	ASSERT_NO_WORDS("=?utf-8?");
	ASSERT_NO_WORDS("=?utf-8?q");
	ASSERT_NO_WORDS("=?utf 8?q?x?=");
	ASSERT_NO_WORDS("=?utf-8?q x?=");
	ASSERT_NO_WORDS("?= a ?= b?=");
	ASSERT_NO_WORDS("2+2=? or 4=?");
	ASSERT_NO_WORDS("=?=?=?=?");
	ASSERT_NO_WORDS("=?a?=?b?=?");
	ASSERT_NO_WORDS("Re: plain subject");
	/* but a word right after a broken start is found */
	ASSERT_WORDS("=?ab=?utf-8?q?x?=",
		{ 4, 13, "utf-8", 'Q', "x", NULL });
}
END_TEST

/* --- hostile floods ------------------------------------------------------- */

static char *
repeat(const char *unit, size_t n, size_t *len_r)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * n + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	*len_r = ul * n;
	return s;
}

static size_t
count_words(const char *s, size_t len, size_t *malformed_r)
{
	struct ew_scan sc;
	struct ew_word w;
	size_t n = 0;

	*malformed_r = 0;
	ew_scan_init(&sc, s, len);
	while (ew_scan_next(&sc, &w) == 1) {
		n++;
		*malformed_r += w.malformed != NULL;
	}
	return n;
}

START_TEST(finds_no_word_in_100_kilobytes_of_starts)
{
	size_t len, mal;
	char *s = repeat("=?", 51200, &len);

	ck_assert_uint_eq(count_words(s, len, &mal), 0);
	free(s);
	s = repeat("?=", 51200, &len);
	ck_assert_uint_eq(count_words(s, len, &mal), 0);
	free(s);
}
END_TEST

START_TEST(reports_each_of_ten_thousand_unterminated_words_once)
{
	size_t len, mal;
	char *s = repeat("=?a?q?", 10000, &len);

	ck_assert_uint_eq(count_words(s, len, &mal), 10000);
	ck_assert_uint_eq(mal, 10000);
	free(s);
	s = repeat("=?a?q?x?=", 10000, &len);
	ck_assert_uint_eq(count_words(s, len, &mal), 10000);
	ck_assert_uint_eq(mal, 0);
	free(s);
}
END_TEST

START_TEST(reports_one_word_for_a_long_unterminated_text)
{
	size_t len, mal;
	char *s = repeat("x", 100000, &len);

	memcpy(s, "=?a?q?", 6);
	ck_assert_uint_eq(count_words(s, len, &mal), 1);
	ck_assert_uint_eq(mal, 1);
	free(s);
}
END_TEST

/* --- decoding into a small buffer ----------------------------------------- */

START_TEST(never_writes_past_the_output_buffer)
{
	struct ew_scan sc;
	struct ew_word w;
	char out[8];
	size_t outlen;
	bool truncated;
	const char *err;

	ew_scan_init(&sc, S("=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?="));
	ck_assert_int_eq(ew_scan_next(&sc, &w), 1);
	memset(out, '#', sizeof(out));
	ck_assert_int_eq(ew_decode(&w, out, 3, &outlen, &truncated, &err), 0);
	ck_assert_uint_eq(outlen, 3);
	ck_assert(truncated);
	ck_assert(memcmp(out, "pot#####", 8) == 0);
	ck_assert_int_eq(ew_decode(&w, NULL, 0, &outlen, &truncated, &err), 0);
	ck_assert_uint_eq(outlen, 0);
	ck_assert(truncated);

	ew_scan_init(&sc, S("=?utf-8?q?abcdef?="));
	ck_assert_int_eq(ew_scan_next(&sc, &w), 1);
	ck_assert_int_eq(ew_decode(&w, out, 6, &outlen, &truncated, &err), 0);
	ck_assert_uint_eq(outlen, 6);
	ck_assert(!truncated);
	ck_assert(memcmp(out, "abcdef", 6) == 0);
	ck_assert_int_eq(ew_decode(&w, out, 5, &outlen, &truncated, &err), 0);
	ck_assert_uint_eq(outlen, 5);
	ck_assert(truncated);
}
END_TEST

/* --- every prefix --------------------------------------------------------- */

#define PREFIX_WORDS_MAX 64

/* s[0..len) in a buffer of exactly len bytes. */
static char *
exact_copy(const char *s, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, s, len);
	return c;
}

static void
assert_prefixes_consistent(const char *s, size_t len)
{
	struct ew_word full[PREFIX_WORDS_MAX], w;
	struct ew_scan sc;
	size_t nfull = 0;

	ew_scan_init(&sc, s, len);
	while (ew_scan_next(&sc, &w) == 1) {
		ck_assert_uint_lt(nfull, PREFIX_WORDS_MAX);
		full[nfull++] = w;
	}
	for (size_t i = 0; i <= len; i++) {
		size_t k = 0, last_end = 0;
		bool extra = false;
		char *cut_s = exact_copy(s, i);	/* ASan sees reads past i */

		ew_scan_init(&sc, cut_s, i);
		while (ew_scan_next(&sc, &w) == 1) {
			char out[64];
			size_t outlen;
			bool truncated;
			const char *err;

			ck_assert(!extra);
			ck_assert_uint_le(w.offset + w.len, i);
			ew_decode(&w, out, sizeof(out), &outlen, &truncated, &err);
			if (k < nfull && full[k].offset + full[k].len <= i) {
				ck_assert_uint_eq(w.offset, full[k].offset);
				ck_assert_uint_eq(w.len, full[k].len);
				ck_assert_ptr_eq(w.malformed, full[k].malformed);
				last_end = w.offset + w.len;
				k++;
			} else {
				ck_assert_uint_ge(w.offset, last_end);
				ck_assert_ptr_nonnull(w.malformed);
				extra = true;
			}
		}
		free(cut_s);
		if (k < nfull && full[k].offset + full[k].len <= i)
			ck_abort_msg("prefix %zu misses word %zu", i, k);
	}
}

static const char *const prefix_cases[] = {
	" =?UTF-8?q?=5BPATCH=2029/44=5D=20drivers?= and =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
	"=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?==?utf-8?Q?=00?==?utf-8?b?cG90dXM?=@x",
	"=?a?q?b=?c?q?d?= =?utf-8?q?a?b?= =?utf-8?q?abc\n =?x?y?z?=",
	"=?ab=?utf-8?q?x?= =??q?a?= =?u.8?b?cA==cA==?= =?=?=?a?=?b?=?",
	"=?a?q?=?=?a?q?=?b?q?x?=",
	"=?utf-8?q?hello world?= =?utf-8?b?cG 90?= =?a?q?",
};

START_TEST(gives_consistent_results_for_every_prefix)
{
	for (size_t i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++)
		assert_prefixes_consistent(prefix_cases[i], strlen(prefix_cases[i]));
	assert_prefixes_consistent(S("=?utf-8?q?a\0b?= =?\xff?q?\r?="));
}
END_TEST

static Suite *
ew_suite(void)
{
	Suite *s = suite_create("ew");
	TCase *ok = tcase_create("well formed");
	TCase *bad = tcase_create("malformed");
	TCase *hostile = tcase_create("hostile");

	tcase_add_test(ok, finds_a_q_word_from_the_ham_corpus_and_decodes_it);
	tcase_add_test(ok, accepts_lowercase_hex_and_encoding_and_keeps_a_language_suffix);
	tcase_add_test(ok, decodes_b_words_to_exact_bytes);
	tcase_add_test(ok, decodes_the_three_adjacent_mailsploit_words_including_the_nul);
	tcase_add_test(ok, decodes_control_bytes_as_data);
	tcase_add_test(ok, accepts_missing_padding_and_an_empty_text);
	tcase_add_test(ok, never_writes_past_the_output_buffer);
	suite_add_tcase(s, ok);
	tcase_add_test(bad, reports_an_unknown_encoding);
	tcase_add_test(bad, reports_an_empty_charset_and_one_that_is_not_a_token);
	tcase_add_test(bad, reports_bad_base64_of_every_kind);
	tcase_add_test(bad, reports_bad_q_encoding_of_every_kind);
	tcase_add_test(bad, reports_unterminated_words_and_goes_on_after_them);
	tcase_add_test(bad, ignores_what_is_not_shaped_like_a_word);
	suite_add_tcase(s, bad);
	tcase_add_test(hostile, finds_no_word_in_100_kilobytes_of_starts);
	tcase_add_test(hostile, reports_each_of_ten_thousand_unterminated_words_once);
	tcase_add_test(hostile, reports_one_word_for_a_long_unterminated_text);
	tcase_add_test(hostile, gives_consistent_results_for_every_prefix);
	suite_add_tcase(s, hostile);
	return s;
}

int
main(void)
{
	return tu_run(ew_suite());
}
