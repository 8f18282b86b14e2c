/*
 * test_mime.c -- Content-Type parsing: boundaries, comments, folding,
 * RFC 2231 continuations and extended values, errors and their offsets
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mime.h"
#include "tu.h"

/* Parse a string literal, NUL bytes included. */
#define PARSE(lit, ct) mime_parse_content_type((lit), sizeof(lit) - 1, (ct))

static void
assert_no_error(const struct mime_ct *ct)
{
	ck_assert_msg(ct->error == NULL, "unexpected error \"%s\" at %zu",
		      ct->error, ct->error_offset);
}

static void
assert_error(const struct mime_ct *ct, const char *reason, size_t offset)
{
	ck_assert_ptr_nonnull(ct->error);
	ck_assert_str_eq(ct->error, reason);
	ck_assert_uint_eq(ct->error_offset, offset);
}

/* "multipart/mixed; boundary=" followed by n copies of c, quoted. */
static void
parse_boundary_of(size_t n, char c, struct mime_ct *ct)
{
	char buf[1024];
	size_t len;

	len = (size_t)snprintf(buf, sizeof(buf), "multipart/mixed; boundary=\"");
	memset(buf + len, c, n);
	len += n;
	buf[len++] = '"';
	mime_parse_content_type(buf, len, ct);
}

START_TEST(reads_type_and_subtype_in_lower_case)
{
	struct mime_ct ct;

	PARSE(" Multipart/Mixed; BOUNDARY=\"abc\"", &ct);
	ck_assert_str_eq(ct.type, "multipart");
	ck_assert_str_eq(ct.subtype, "mixed");
	ck_assert(ct.multipart);
	ck_assert(ct.has_boundary);
	ck_assert_str_eq(ct.boundary, "abc");
	ck_assert_uint_eq(ct.boundary_len, 3);
	ck_assert(ct.boundary_kept);
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
	ck_assert_uint_eq(ct.params, 1);
	ck_assert_uint_eq(ct.max_continuations, 0);
	assert_no_error(&ct);
}
END_TEST

START_TEST(reads_an_unquoted_boundary_holding_equals_signs)
{
	struct mime_ct ct;

	PARSE(" multipart/alternative;\n\tboundary=----=_NextPart_000_0001_01C2A9A1.5F3B7F40",
	      &ct);
	ck_assert_str_eq(ct.boundary, "----=_NextPart_000_0001_01C2A9A1.5F3B7F40");
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
	assert_no_error(&ct);
}
END_TEST

START_TEST(skips_comments_and_folding_around_every_token)
{
	struct mime_ct ct;

	PARSE(" (lead) multipart (a (nested) comment) / mixed (x);\n\t"
	      "boundary (before =) = \"b1\" (trailing \\) comment);\n charset=us-ascii",
	      &ct);
	ck_assert_str_eq(ct.type, "multipart");
	ck_assert_str_eq(ct.subtype, "mixed");
	ck_assert_str_eq(ct.boundary, "b1");
	ck_assert_uint_eq(ct.params, 2);
	assert_no_error(&ct);
}
END_TEST

START_TEST(ends_an_unquoted_value_at_a_comment)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary=abc(not part of it)", &ct);
	ck_assert_str_eq(ct.boundary, "abc");
	assert_no_error(&ct);
}
END_TEST

START_TEST(accepts_extra_and_missing_trailing_semicolons)
{
	struct mime_ct ct;

	PARSE("text/plain;; charset=us-ascii;;", &ct);
	ck_assert_uint_eq(ct.params, 1);
	ck_assert(!ct.multipart);
	ck_assert(!ct.has_boundary);
	assert_no_error(&ct);
	PARSE("text/plain; charset=us-ascii", &ct);
	ck_assert_uint_eq(ct.params, 1);
	assert_no_error(&ct);
	PARSE("text/plain", &ct);
	ck_assert_uint_eq(ct.params, 0);
	assert_no_error(&ct);
}
END_TEST

START_TEST(unquotes_quoted_pairs_and_unfolds_a_quoted_boundary)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary=\"a\\\"b\\\\c\"", &ct);
	ck_assert_str_eq(ct.boundary, "a\"b\\c");
	ck_assert_uint_eq(ct.boundary_len, 5);
	ck_assert_uint_eq(ct.boundary_bad_at, 1);
	assert_no_error(&ct);
	PARSE("multipart/mixed; boundary=\"ab\r\n cd\"", &ct);
	ck_assert_str_eq(ct.boundary, "ab cd");
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
	assert_no_error(&ct);
}
END_TEST

START_TEST(assembles_a_boundary_from_rfc2231_continuations)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary*0=\"abc\"; boundary*1=def; boundary*2*=%2Dghi",
	      &ct);
	ck_assert(ct.has_boundary);
	ck_assert_str_eq(ct.boundary, "abcdef-ghi");
	ck_assert_uint_eq(ct.boundary_len, 10);
	ck_assert(ct.boundary_kept);
	ck_assert_uint_eq(ct.params, 3);
	ck_assert_uint_eq(ct.max_continuations, 3);
	ck_assert_uint_eq(ct.max_continued_len, 10);
	ck_assert_uint_eq(ct.boundary_dups, 0);
	assert_no_error(&ct);
}
END_TEST

START_TEST(assembles_continuations_in_section_order)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary*2=\"ghi\"; boundary*0=abc; boundary*1=def", &ct);
	ck_assert_str_eq(ct.boundary, "abcdefghi");
	ck_assert_uint_eq(ct.max_continuations, 3);
	assert_no_error(&ct);
}
END_TEST

START_TEST(counts_500_continuations_and_keeps_the_first_256_bytes)
{
	static char buf[16384];
	struct mime_ct ct;
	size_t len = (size_t)snprintf(buf, sizeof(buf), "multipart/mixed");

	for (int i = 0; i < 500; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					";\n boundary*%d=\"%c\"", i, 'a' + i % 26);
	mime_parse_content_type(buf, len, &ct);
	ck_assert_uint_eq(ct.params, 500);
	ck_assert_uint_eq(ct.max_continuations, 500);
	ck_assert_uint_eq(ct.max_continued_len, 500);
	ck_assert_uint_eq(ct.boundary_len, 500);
	ck_assert(!ct.boundary_kept);
	ck_assert_uint_eq(strlen(ct.boundary), MIME_BOUNDARY_KEEP);
	for (int i = 0; i < MIME_BOUNDARY_KEEP; i++)
		ck_assert_int_eq(ct.boundary[i], 'a' + i % 26);
	assert_no_error(&ct);
}
END_TEST

START_TEST(counts_continued_parameters_apart)
{
	struct mime_ct ct;

	PARSE("application/x; name*0=ab; title*0=x; name*1=cde; title*1=y; name*2=f",
	      &ct);
	ck_assert_uint_eq(ct.params, 5);
	ck_assert_uint_eq(ct.max_continuations, 3);
	ck_assert_uint_eq(ct.max_continued_len, 6);
	ck_assert(!ct.has_boundary);
	assert_no_error(&ct);
}
END_TEST

/* Past MIME_TRACK_NAMES continued names, the rest share one count, which
   starts at zero on every call. */
START_TEST(counts_continued_names_past_the_table_together)
{
	struct mime_ct ct;

	for (int round = 0; round < 2; round++) {
		PARSE("application/x; a*0=1; b*0=1; c*0=1; d*0=1; e*0=1; f*0=1; "
		      "g*0=1; h*0=1; i*0=1; j*0=1; k*0=1; l*0=1; m*0=1; n*0=1; "
		      "o*0=1; p*0=1; q*0=12; r*0=1; r*1=1", &ct);
		ck_assert_uint_eq(ct.params, 19);
		ck_assert_uint_eq(ct.max_continuations, 3);
		ck_assert_uint_eq(ct.max_continued_len, 4);
		assert_no_error(&ct);
	}
}
END_TEST

START_TEST(measures_boundaries_of_70_71_200_and_300_bytes)
{
	struct mime_ct ct;

	parse_boundary_of(70, 'x', &ct);
	ck_assert_uint_eq(ct.boundary_len, 70);
	ck_assert(ct.boundary_kept);
	ck_assert_uint_eq(strlen(ct.boundary), 70);
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
	assert_no_error(&ct);

	parse_boundary_of(71, 'x', &ct);
	ck_assert_uint_eq(ct.boundary_len, 71);
	ck_assert(ct.boundary_kept);
	ck_assert_uint_eq(strlen(ct.boundary), 71);

	parse_boundary_of(200, '-', &ct);
	ck_assert_uint_eq(ct.boundary_len, 200);
	ck_assert(ct.boundary_kept);
	ck_assert_uint_eq(strlen(ct.boundary), 200);

	parse_boundary_of(300, '=', &ct);
	ck_assert_uint_eq(ct.boundary_len, 300);
	ck_assert(!ct.boundary_kept);
	ck_assert_uint_eq(strlen(ct.boundary), MIME_BOUNDARY_KEEP);
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
	assert_no_error(&ct);
}
END_TEST

START_TEST(finds_the_first_byte_outside_bchars)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary=\"a@b\"", &ct);
	ck_assert_uint_eq(ct.boundary_bad_at, 1);
	PARSE("multipart/mixed; boundary=\"a b\"", &ct);
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
	PARSE("multipart/mixed; boundary=\"ab \"", &ct);
	ck_assert_uint_eq(ct.boundary_bad_at, 2);
	PARSE("multipart/mixed; boundary=\"\"", &ct);
	ck_assert(ct.has_boundary);
	ck_assert_uint_eq(ct.boundary_len, 0);
	ck_assert_uint_eq(ct.boundary_bad_at, 0);
	PARSE("multipart/mixed; boundary=\"ab\xc3\xa9\"", &ct);
	ck_assert_uint_eq(ct.boundary_bad_at, 2);
	PARSE("multipart/mixed; boundary=\"a\0b\"", &ct);
	ck_assert_uint_eq(ct.boundary_len, 3);
	ck_assert_uint_eq(ct.boundary_bad_at, 1);
	ck_assert(memcmp(ct.boundary, "a\0b", 4) == 0);
	PARSE("multipart/mixed; boundary=\"'()+_,-./:=?09azAZ\"", &ct);
	ck_assert_uint_eq(ct.boundary_bad_at, MIME_NOWHERE);
}
END_TEST

START_TEST(classifies_every_byte_as_bchar_or_not)
{
	/* RFC 2046, 5.1.1: bchars := bcharsnospace / " " */
	static const char bchars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";

	for (unsigned c = 0; c < 256; c++)
		ck_assert_msg(mime_is_bchar((unsigned char)c) ==
			      (c != 0 && memchr(bchars, (int)c, sizeof(bchars) - 1) != NULL),
			      "byte %#x", c);
}
END_TEST

START_TEST(finds_a_bad_byte_of_a_later_section_at_its_decoded_offset)
{
	struct mime_ct ct;

	/* plain, quoted with a quoted-pair, extended with %XX, plain again */
	PARSE("multipart/mixed; boundary*0=ab; boundary*1=\"c\\\"d\"; "
	      "boundary*2*=%41%40; boundary*3=e[", &ct);
	ck_assert_uint_eq(ct.boundary_len, 9);
	ck_assert(memcmp(ct.boundary, "abc\"dA@e[", 9) == 0);
	ck_assert_uint_eq(ct.boundary_bad_at, 3);	/* the '"' */
	PARSE("multipart/mixed; boundary*0=ab; boundary*1*=c%40; boundary*2=\"x@\"", &ct);
	ck_assert_uint_eq(ct.boundary_bad_at, 3);	/* the decoded '@' */
	PARSE("multipart/mixed; boundary*0=ab; boundary*1=cd; boundary*2=\"x\r\n @\"", &ct);
	ck_assert(memcmp(ct.boundary, "abcdx @", 7) == 0);
	ck_assert_uint_eq(ct.boundary_bad_at, 6);	/* unfolded, then the '@' */
}
END_TEST

START_TEST(keeps_the_first_of_duplicate_boundaries_and_counts_the_rest)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary=\"first\"; Boundary=second; boundary*0=third",
	      &ct);
	ck_assert_str_eq(ct.boundary, "first");
	ck_assert_uint_eq(ct.boundary_dups, 2);
	PARSE("multipart/mixed; boundary*0=ab; boundary*1=cd; boundary*1=XX; boundary=YY",
	      &ct);
	ck_assert_str_eq(ct.boundary, "abcd");
	ck_assert_uint_eq(ct.boundary_dups, 2);
}
END_TEST

START_TEST(reports_errors_at_their_offsets)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary=\"abc", &ct);
	assert_error(&ct, "unterminated quoted string", 26);
	ck_assert_str_eq(ct.boundary, "abc");

	PARSE("text/plain; charset", &ct);
	assert_error(&ct, "missing '=' after parameter name", 19);

	PARSE("multipart/mixed; charset; boundary=x", &ct);
	assert_error(&ct, "missing '=' after parameter name", 24);
	ck_assert_str_eq(ct.boundary, "x");

	PARSE("text/plain; name*01=x", &ct);
	assert_error(&ct, "bad RFC 2231 section number", 16);
	PARSE("text/plain; name*x=x", &ct);
	assert_error(&ct, "bad RFC 2231 section number", 16);
	PARSE("text/plain; name**=x", &ct);
	assert_error(&ct, "bad RFC 2231 section number", 16);
	PARSE("text/plain; *0=x", &ct);
	assert_error(&ct, "bad RFC 2231 section number", 12);

	PARSE("text/plain (unterminated", &ct);
	assert_error(&ct, "unterminated comment", 11);
	PARSE("text", &ct);
	assert_error(&ct, "missing '/' after type", 4);
	PARSE("text/", &ct);
	assert_error(&ct, "missing subtype", 5);
	PARSE("; charset=x", &ct);
	assert_error(&ct, "missing type", 0);
	PARSE("text/plain charset=x", &ct);
	assert_error(&ct, "missing ';' before parameter", 11);
	PARSE("text/plain; charset=", &ct);
	assert_error(&ct, "missing parameter value", 20);
	PARSE("text/plain; =x; a=b", &ct);
	assert_error(&ct, "unexpected character", 12);
	ck_assert_uint_eq(ct.params, 1);
	PARSE("text/plain; \"a;b\"; x=1", &ct);
	assert_error(&ct, "unexpected character", 12);
	ck_assert_uint_eq(ct.params, 1);

	PARSE("text/plain; title*0=a; title*2=b", &ct);
	assert_error(&ct, "RFC 2231 sections missing or repeated", 12);
	PARSE("text/plain; title*0=a; title*0=b", &ct);
	assert_error(&ct, "RFC 2231 sections missing or repeated", 12);
	PARSE("text/plain; title*=us-ascii%41", &ct);
	assert_error(&ct, "missing charset'language' in extended value", 19);
	PARSE("text/plain; title*=''a%4", &ct);
	assert_error(&ct, "bad %-escape in extended value", 22);
}
END_TEST

START_TEST(decodes_extended_values_with_charset_and_language)
{
	static const char s[] =
		"message/external-body; access-type=URL;\n"
		" title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A;\n"
		" note*0*=us-ascii'en'This%20is%20even%20more%20;\n"
		" note*1*=%2A%2A%2Afun%2A%2A%2A%20;\n"
		" note*2=\"isn't it!\"";
	struct mime_param_iter it;
	struct mime_param p;
	struct mime_ct ct;
	char buf[64];
	size_t n;

	mime_param_init(&it, s, sizeof(s) - 1, 21);	/* after the subtype */
	ck_assert(mime_param_next(&it, &p));
	ck_assert_uint_eq(p.name_len, 11);
	ck_assert(memcmp(p.name, "access-type", 11) == 0);
	ck_assert(!p.extended);
	ck_assert_uint_eq(mime_param_value(&p, buf, sizeof(buf)), 3);
	ck_assert(memcmp(buf, "URL", 3) == 0);

	ck_assert(mime_param_next(&it, &p));
	ck_assert(memcmp(p.name, "title", p.name_len) == 0);
	ck_assert(p.extended);
	ck_assert(!p.has_section);
	ck_assert_uint_eq(p.charset_len, 8);
	ck_assert(memcmp(p.charset, "us-ascii", 8) == 0);
	ck_assert_uint_eq(p.lang_len, 5);
	ck_assert(memcmp(p.lang, "en-us", 5) == 0);
	n = mime_param_value(&p, buf, sizeof(buf));
	ck_assert_uint_eq(n, 17);
	ck_assert(memcmp(buf, "This is ***fun***", 17) == 0);

	ck_assert(mime_param_next(&it, &p));
	ck_assert(p.has_section);
	ck_assert_uint_eq(p.section, 0);
	ck_assert(p.extended);
	ck_assert(memcmp(p.lang, "en", p.lang_len) == 0);
	ck_assert_uint_eq(mime_param_value(&p, buf, sizeof(buf)), 18);
	ck_assert(memcmp(buf, "This is even more ", 18) == 0);

	ck_assert(mime_param_next(&it, &p));
	ck_assert_uint_eq(p.section, 1);
	ck_assert_ptr_null(p.charset);
	ck_assert_uint_eq(mime_param_value(&p, buf, sizeof(buf)), 10);
	ck_assert(memcmp(buf, "***fun*** ", 10) == 0);

	ck_assert(mime_param_next(&it, &p));
	ck_assert_uint_eq(p.section, 2);
	ck_assert(!p.extended);
	ck_assert(p.quoted);
	ck_assert_uint_eq(mime_param_value(&p, buf, 4), 9);
	ck_assert(memcmp(buf, "isn'", 4) == 0);

	ck_assert(!mime_param_next(&it, &p));
	ck_assert_ptr_null(it.error);

	mime_parse_content_type(s, sizeof(s) - 1, &ct);
	ck_assert_uint_eq(ct.params, 5);
	ck_assert_uint_eq(ct.max_continuations, 3);
	ck_assert_uint_eq(ct.max_continued_len, 37);
	assert_no_error(&ct);
}
END_TEST

START_TEST(decodes_an_extended_boundary)
{
	struct mime_ct ct;

	PARSE("multipart/mixed; boundary*=us-ascii''a%2Db%7e", &ct);
	ck_assert_str_eq(ct.boundary, "a-b~");
	ck_assert_uint_eq(ct.boundary_bad_at, 3);
	assert_no_error(&ct);
}
END_TEST

START_TEST(cuts_long_types_safely)
{
	struct mime_ct ct;

	PARSE("multipartmultipartmultipartmultipartmultipart/"
	      "mixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmixed",
	      &ct);
	ck_assert_str_eq(ct.type, "multipartmultipartmultipartmult");
	ck_assert_str_eq(ct.subtype,
			 "mixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmixedmix");
	ck_assert(!ct.multipart);
	assert_no_error(&ct);
}
END_TEST

START_TEST(parses_a_content_disposition_value_the_same_way)
{
	struct mime_ct ct;

	PARSE(" attachment;\n filename*0*=utf-8''%E2%82%AC; filename*1=\".pdf\"", &ct);
	ck_assert_str_eq(ct.type, "attachment");
	assert_error(&ct, "missing '/' after type", 11);
	ck_assert_uint_eq(ct.params, 2);
	ck_assert_uint_eq(ct.max_continuations, 2);
	ck_assert_uint_eq(ct.max_continued_len, 7);
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("content-type");

	tcase_add_test(tc, reads_type_and_subtype_in_lower_case);
	tcase_add_test(tc, reads_an_unquoted_boundary_holding_equals_signs);
	tcase_add_test(tc, skips_comments_and_folding_around_every_token);
	tcase_add_test(tc, ends_an_unquoted_value_at_a_comment);
	tcase_add_test(tc, accepts_extra_and_missing_trailing_semicolons);
	tcase_add_test(tc, unquotes_quoted_pairs_and_unfolds_a_quoted_boundary);
	tcase_add_test(tc, assembles_a_boundary_from_rfc2231_continuations);
	tcase_add_test(tc, assembles_continuations_in_section_order);
	tcase_add_test(tc, counts_500_continuations_and_keeps_the_first_256_bytes);
	tcase_add_test(tc, counts_continued_parameters_apart);
	tcase_add_test(tc, counts_continued_names_past_the_table_together);
	tcase_add_test(tc, measures_boundaries_of_70_71_200_and_300_bytes);
	tcase_add_test(tc, finds_the_first_byte_outside_bchars);
	tcase_add_test(tc, classifies_every_byte_as_bchar_or_not);
	tcase_add_test(tc, finds_a_bad_byte_of_a_later_section_at_its_decoded_offset);
	tcase_add_test(tc, keeps_the_first_of_duplicate_boundaries_and_counts_the_rest);
	tcase_add_test(tc, reports_errors_at_their_offsets);
	tcase_add_test(tc, decodes_extended_values_with_charset_and_language);
	tcase_add_test(tc, decodes_an_extended_boundary);
	tcase_add_test(tc, cuts_long_types_safely);
	tcase_add_test(tc, parses_a_content_disposition_value_the_same_way);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(mime_suite());
}
