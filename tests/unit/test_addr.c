/*
 * test_addr.c -- the address-header tokenizer and its summary
 *
 * Token cases give the expected tokens as (type, bytes, offset, depth,
 * escapes); summary cases give every counter.  The legitimate shapes are
 * header values copied from ../shared/corpus/ham; the attack shapes are
 * crackaddr (CVE-2002-1337), deep and repeated comments, backslash floods
 * (CVE-2003-1302), several From mailboxes and Mailsploit.  Every case is
 * also cut at every length: a prefix must give the same tokens as far as
 * they fit, then at most one cut token or an error.
 *
 * addr_summarize() (its fast path) and addr_summarize_full() (the
 * tokenizer) must give the same summary, member by member: on every
 * summary case and prefix above, on every header field value of the ham
 * corpus, on the values of tests/data/headers/cases.tsv, and on the
 * inputs of tests/data/addr/fast-exits.tsv at each exit of the fast path,
 * each cut at every length and with each byte replaced in turn.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "tu.h"

#define S(lit)	lit, sizeof(lit) - 1

struct want_token {
	enum addr_token_type type;
	const char *bytes;	/* NUL-terminated: test tokens hold no NUL */
	size_t offset;
	unsigned depth;
	size_t escapes;
};

static void
assert_tokens(const char *s, size_t len, const struct want_token *want,
	      size_t nwant)
{
	struct addr_ctx ctx;
	struct addr_token t;
	size_t n = 0;
	int r;

	addr_init(&ctx, s, len);
	while ((r = addr_next(&ctx, &t)) == 1) {
		ck_assert_msg(n < nwant, "token %zu is one too many", n);
		ck_assert_int_eq(t.type, want[n].type);
		ck_assert_uint_eq(t.offset, want[n].offset);
		ck_assert_uint_eq(t.len, strlen(want[n].bytes));
		ck_assert(memcmp(t.s, want[n].bytes, t.len) == 0);
		ck_assert_uint_eq(t.depth, want[n].depth);
		ck_assert_uint_eq(t.escapes, want[n].escapes);
		ck_assert_int_eq(t.special, t.type == ADDR_SPECIAL ? want[n].bytes[0] : 0);
		n++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(n, nwant);
	ck_assert_int_eq(addr_next(&ctx, &t), 0);
}

/* Tokens up to an error; returns the message, *offset_r its offset. */
static const char *
error_after(const char *s, size_t len, size_t ntokens, size_t *offset_r)
{
	struct addr_ctx ctx;
	struct addr_token t;

	addr_init(&ctx, s, len);
	for (size_t i = 0; i < ntokens; i++)
		ck_assert_int_eq(addr_next(&ctx, &t), 1);
	ck_assert_int_eq(addr_next(&ctx, &t), -1);
	ck_assert_int_eq(addr_next(&ctx, &t), -1);	/* errors are final */
	*offset_r = addr_error_offset(&ctx);
	return addr_error(&ctx);
}

#define ASSERT_TOKENS(lit, ...) do { \
	static const struct want_token want_[] = { __VA_ARGS__ }; \
	assert_tokens(S(lit), want_, sizeof(want_) / sizeof(want_[0])); \
} while (0)

/* --- tokens --------------------------------------------------------------- */

START_TEST(tokenizes_atoms_quoted_strings_specials_literals_and_comments)
{
	ASSERT_TOKENS(" Name \"Q S\" <a@[1.2.3.4]> (c)",
		{ ADDR_ATOM, "Name", 1, 0, 0 },
		{ ADDR_QUOTED, "\"Q S\"", 6, 0, 0 },
		{ ADDR_SPECIAL, "<", 12, 0, 0 },
		{ ADDR_ATOM, "a", 13, 0, 0 },
		{ ADDR_SPECIAL, "@", 14, 0, 0 },
		{ ADDR_LITERAL, "[1.2.3.4]", 15, 0, 0 },
		{ ADDR_SPECIAL, ">", 24, 0, 0 },
		{ ADDR_COMMENT, "(c)", 26, 1, 0 });
}
END_TEST

START_TEST(takes_each_of_the_seven_specials_as_one_token)
{
	ASSERT_TOKENS("<>@,;:.",
		{ ADDR_SPECIAL, "<", 0, 0, 0 }, { ADDR_SPECIAL, ">", 1, 0, 0 },
		{ ADDR_SPECIAL, "@", 2, 0, 0 }, { ADDR_SPECIAL, ",", 3, 0, 0 },
		{ ADDR_SPECIAL, ";", 4, 0, 0 }, { ADDR_SPECIAL, ":", 5, 0, 0 },
		{ ADDR_SPECIAL, ".", 6, 0, 0 });
}
END_TEST

START_TEST(skips_blanks_and_folded_line_breaks)
{
	ASSERT_TOKENS(" a\n\tb\r\n c",
		{ ADDR_ATOM, "a", 1, 0, 0 }, { ADDR_ATOM, "b", 4, 0, 0 },
		{ ADDR_ATOM, "c", 8, 0, 0 });
	ASSERT_TOKENS(" \n\t ");
	ASSERT_TOKENS("");
}
END_TEST

START_TEST(honours_backslash_escapes_in_every_kind_of_token)
{
	ASSERT_TOKENS("\"a\\\"b\" (x\\)y) [p\\]q] r\\<s",
		{ ADDR_QUOTED, "\"a\\\"b\"", 0, 0, 1 },
		{ ADDR_COMMENT, "(x\\)y)", 7, 1, 1 },
		{ ADDR_LITERAL, "[p\\]q]", 14, 0, 1 },
		{ ADDR_ATOM, "r\\<s", 21, 0, 1 });
}
END_TEST

START_TEST(measures_the_deepest_nesting_inside_a_comment)
{
	ASSERT_TOKENS("(a(b(c))d(e))((()))(())",
		{ ADDR_COMMENT, "(a(b(c))d(e))", 0, 3, 0 },
		{ ADDR_COMMENT, "((()))", 13, 3, 0 },
		{ ADDR_COMMENT, "(())", 19, 2, 0 });
}
END_TEST

START_TEST(takes_quotes_in_comments_and_parentheses_in_quotes_as_text)
{
	ASSERT_TOKENS("(say \"hi) \"(\" a",
		{ ADDR_COMMENT, "(say \"hi)", 0, 1, 0 },
		{ ADDR_QUOTED, "\"(\"", 10, 0, 0 },
		{ ADDR_ATOM, "a", 14, 0, 0 });
}
END_TEST

START_TEST(takes_nul_8bit_and_stray_closers_as_atom_text)
{
	static const char s[] = "J\xc3\xb6rg\0x :-) a]b <j@x>";
	static const struct want_token want[] = {
		{ ADDR_ATOM, "J\xc3\xb6rg", 0, 0, 0 },	/* checked below */
		{ ADDR_SPECIAL, ":", 8, 0, 0 },
		{ ADDR_ATOM, "-)", 9, 0, 0 },
		{ ADDR_ATOM, "a]b", 12, 0, 0 },
		{ ADDR_SPECIAL, "<", 16, 0, 0 },
		{ ADDR_ATOM, "j", 17, 0, 0 },
		{ ADDR_SPECIAL, "@", 18, 0, 0 },
		{ ADDR_ATOM, "x", 19, 0, 0 },
		{ ADDR_SPECIAL, ">", 20, 0, 0 },
	};
	struct addr_ctx ctx;
	struct addr_token t;

	addr_init(&ctx, s, sizeof(s) - 1);
	ck_assert_int_eq(addr_next(&ctx, &t), 1);
	ck_assert_int_eq(t.type, ADDR_ATOM);
	ck_assert_uint_eq(t.len, 7);
	ck_assert(memcmp(t.s, "J\xc3\xb6rg\0x", 7) == 0);
	for (size_t i = 1; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(addr_next(&ctx, &t), 1);
		ck_assert_int_eq(t.type, want[i].type);
		ck_assert_uint_eq(t.offset, want[i].offset);
		ck_assert_uint_eq(t.len, strlen(want[i].bytes));
		ck_assert(memcmp(t.s, want[i].bytes, t.len) == 0);
	}
	ck_assert_int_eq(addr_next(&ctx, &t), 0);
}
END_TEST

START_TEST(reports_unterminated_tokens_at_their_opening_byte)
{
	size_t at;

	ck_assert_str_eq(error_after(S("a \"bc"), 1, &at), "unterminated quoted string");
	ck_assert_uint_eq(at, 2);
	ck_assert_str_eq(error_after(S("\"ab\\\""), 0, &at), "unterminated quoted string");
	ck_assert_uint_eq(at, 0);
	ck_assert_str_eq(error_after(S("\"ab\\"), 0, &at), "unterminated quoted string");
	ck_assert_uint_eq(at, 0);
	ck_assert_str_eq(error_after(S("x (a(b)"), 1, &at), "unterminated comment");
	ck_assert_uint_eq(at, 2);
	ck_assert_str_eq(error_after(S("x@[1.2"), 2, &at), "unterminated domain literal");
	ck_assert_uint_eq(at, 2);
}
END_TEST

START_TEST(refuses_comments_nested_past_the_cap_at_the_parenthesis_too_many)
{
	char s[2 * (ADDR_DEPTH_MAX + 1)];
	struct addr_ctx ctx;
	struct addr_token t;
	size_t at;

	memset(s, '(', ADDR_DEPTH_MAX);
	memset(s + ADDR_DEPTH_MAX, ')', ADDR_DEPTH_MAX);
	addr_init(&ctx, s, 2 * ADDR_DEPTH_MAX);
	ck_assert_int_eq(addr_next(&ctx, &t), 1);
	ck_assert_uint_eq(t.depth, ADDR_DEPTH_MAX);
	ck_assert_uint_eq(t.len, 2 * ADDR_DEPTH_MAX);

	memset(s, '(', ADDR_DEPTH_MAX + 1);
	memset(s + ADDR_DEPTH_MAX + 1, ')', ADDR_DEPTH_MAX + 1);
	ck_assert_str_eq(error_after(s, sizeof(s), 0, &at),
			 "comment nested deeper than ADDR_DEPTH_MAX");
	ck_assert_uint_eq(at, ADDR_DEPTH_MAX);
}
END_TEST

/* --- summaries ------------------------------------------------------------ */

/* Every member of got equals want's; label says which input on failure. */
#define SAME_MEMBER(m) ck_assert_msg(got->m == want->m, "%s: " #m " is %zu, not %zu", \
				     label, (size_t)got->m, (size_t)want->m)

static void
assert_same_summary(const struct addr_summary *got,
		    const struct addr_summary *want, const char *label)
{
	SAME_MEMBER(tokens);
	SAME_MEMBER(max_comment_depth);
	SAME_MEMBER(angle_open);
	SAME_MEMBER(angle_close);
	SAME_MEMBER(empty_angle_pairs);
	SAME_MEMBER(max_angle_depth);
	SAME_MEMBER(backslashes);
	SAME_MEMBER(mailboxes);
	SAME_MEMBER(groups);
	SAME_MEMBER(ew_in_addrspec_at);
	SAME_MEMBER(error_offset);
	if (want->error == NULL)
		ck_assert_msg(got->error == NULL, "%s: error \"%s\", not none", label, got->error);
	else
		ck_assert_msg(got->error != NULL && strcmp(got->error, want->error) == 0,
			      "%s: error \"%s\", not \"%s\"", label,
			      got->error ? got->error : "(none)", want->error);
}

/* addr_summarize() and addr_summarize_full() agree on s; returns the
   summary. */
static void
summarize_both(const char *s, size_t len, struct addr_summary *sum_r,
	       const char *label)
{
	struct addr_summary full;

	addr_summarize(s, len, sum_r);
	addr_summarize_full(s, len, &full);
	assert_same_summary(sum_r, &full, label);
}

static void
assert_summary(const char *s, size_t len, const struct addr_summary *want)
{
	struct addr_summary sum;

	summarize_both(s, len, &sum, "fast and full");
	assert_same_summary(&sum, want, "summary");
}

#define NO_EW	ADDR_NOWHERE
/* tokens, depth, <, >, <>, <<, \, mailboxes, groups, =? at, error, at */
#define ASSERT_SUMMARY(s, len, ...) do { \
	static const struct addr_summary want_ = { __VA_ARGS__ }; \
	assert_summary(s, len, &want_); \
} while (0)
#define ASSERT_SUMMARY_OF(lit, ...) ASSERT_SUMMARY(lit, sizeof(lit) - 1, __VA_ARGS__)

/* A buffer of n copies of unit; freed by the caller. */
static char *
repeat(const char *head, const char *unit, size_t n, const char *tail,
       size_t *len_r)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + ul * n, tail, tl + 1);
	*len_r = hl + ul * n + tl;
	return s;
}

START_TEST(counts_300_empty_angle_pairs_of_the_crackaddr_shape)
{
	size_t len;
	char *s = repeat("", "<>", 300, "", &len);

	ASSERT_SUMMARY(s, len, 600, 0, 300, 300, 300, 1, 0, 0, 0, NO_EW, NULL, 0);
	free(s);
	ASSERT_SUMMARY_OF("<(x)>, < >", 6, 1, 2, 2, 2, 1, 0, 0, 0, NO_EW, NULL, 0);
}
END_TEST

START_TEST(counts_300_comments_after_a_mailbox)
{
	size_t len;
	char *s = repeat("Name <a@b> ", "()", 300, "", &len);

	ASSERT_SUMMARY(s, len, 306, 1, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	free(s);
}
END_TEST

START_TEST(measures_300_nested_comments_without_recursion)
{
	size_t len;
	char *s = repeat("a@b ", "(", 300, "", &len), *t;

	t = repeat(s, ")", 300, "", &len);
	ASSERT_SUMMARY(t, len, 4, 300, 0, 0, 0, 0, 0, 1, 0, NO_EW, NULL, 0);
	free(s);
	free(t);
}
END_TEST

START_TEST(saturates_the_depth_past_the_cap_and_reports_the_error)
{
	size_t len;
	char *s = repeat("a@b ", "(", ADDR_DEPTH_MAX + 1, "", &len), *t;

	t = repeat(s, ")", ADDR_DEPTH_MAX + 1, "", &len);
	ASSERT_SUMMARY(t, len, 3, ADDR_DEPTH_MAX + 1, 0, 0, 0, 0, 0, 1, 0, NO_EW,
		       "comment nested deeper than ADDR_DEPTH_MAX", 4 + ADDR_DEPTH_MAX);
	free(s);
	free(t);
}
END_TEST

START_TEST(counts_a_flood_of_backslashes_quoted_or_bare)
{
	size_t len;
	char *s = repeat("\"", "\\\\", 1000, "\" <a@b>", &len);

	ASSERT_SUMMARY(s, len, 6, 0, 1, 1, 0, 1, 1000, 1, 0, NO_EW, NULL, 0);
	free(s);
	s = repeat("", "\\\\", 1000, "@x", &len);
	ASSERT_SUMMARY(s, len, 3, 0, 0, 0, 0, 0, 1000, 1, 0, NO_EW, NULL, 0);
	free(s);
}
END_TEST

START_TEST(counts_two_mailboxes_in_a_from_that_lists_two)
{
	ASSERT_SUMMARY_OF("a@gmail.com, b@attacker.com",
		       11, 0, 0, 0, 0, 0, 0, 2, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("a@gmail.com, <b@attacker.com",	/* left open */
		       12, 0, 1, 0, 0, 1, 0, 2, 0, NO_EW, NULL, 0);
	/* an '@' in a display name is not a mailbox */
	ASSERT_SUMMARY_OF("a@gmail.com <b@attacker.com>",
		       12, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
}
END_TEST

START_TEST(finds_the_mailsploit_encoded_word_in_a_bare_addr_spec)
{
	ASSERT_SUMMARY_OF("=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?==?utf-8?Q?=00?="
			 "=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?=@mailsploit.com",
		       5, 0, 0, 0, 0, 0, 0, 1, 0, 0, NULL, 0);
	ASSERT_SUMMARY_OF("a@b, x=?utf-8?Q?=00?=@mailsploit.com",
		       9, 0, 0, 0, 0, 0, 0, 2, 0, 6, NULL, 0);
}
END_TEST

START_TEST(finds_an_encoded_word_inside_angle_brackets)
{
	ASSERT_SUMMARY_OF("=?utf-8?Q?potus?= <=?utf-8?Q?=00?=@mailsploit.com>",
		       8, 0, 1, 1, 0, 1, 0, 1, 0, 19, NULL, 0);
	ASSERT_SUMMARY_OF("<\"=?utf-8?Q?=0A?=\"@x>",
		       5, 0, 1, 1, 0, 1, 0, 1, 0, 2, NULL, 0);
}
END_TEST

START_TEST(leaves_encoded_words_in_display_names_and_comments_alone)
{
	ASSERT_SUMMARY_OF("=?UTF-8?B?w4lyaWM=?= <eric@example.org>",
		       8, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("\"=?UTF-8?B?w4lyaWM=?=\" <eric@example.org>",
		       8, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("a@b (=?utf-8?q?Name?=)",
		       4, 1, 0, 0, 0, 0, 0, 1, 0, NO_EW, NULL, 0);
	/* ham: cpython--data_msg_45 style, and real Cc/From lines */
	ASSERT_SUMMARY_OF(" Jason Lee (=?GB2312?Q?=C0=EE=D5=B9=B7=E6?=) <Jason_Lee@quantatw.com>",
		       10, 1, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" =?ISO-8859-1?Q?Nicolas_de_Peslo=FCan?= \n\t<nicolas.2p.debian@gmail.com>",
		       12, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" =?iso-8859-1*sv?Q?D=F6rte_=C5._S=F6rensen=2C_Jr.?=\n"
			 "  <D\xc3\xb6rte@S\xc3\xb6rensen.example.com>",
		       14, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
}
END_TEST

START_TEST(counts_groups_and_the_mailboxes_inside_them)
{
	ASSERT_SUMMARY_OF("undisclosed-recipients:;",
		       3, 0, 0, 0, 0, 0, 0, 0, 1, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;",
		       7, 2, 0, 0, 0, 0, 0, 0, 1, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("Team: a@b, <c@d>; e@f",
		       15, 0, 1, 1, 0, 1, 0, 3, 1, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("A: a@b;, B: c@d;",
		       13, 0, 0, 0, 0, 0, 0, 2, 2, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" IETF-Announce:;",
		       3, 0, 0, 0, 0, 0, 0, 0, 1, NO_EW, NULL, 0);
}
END_TEST

START_TEST(reads_real_display_names_comments_and_obsolete_forms)
{
	/* all from the ham corpus except the route */
	ASSERT_SUMMARY_OF(" \"e1000-devel@lists.sourceforge.net\" <e1000-devel@lists.sourceforge.net>,\n"
			 "\t\"Allan, Bruce W\" <bruce.w.allan@intel.com>, \"Brandeburg,\n"
			 "\tJesse\" <jesse.brandeburg@intel.com>",
		       34, 0, 3, 3, 0, 1, 0, 3, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>",
		       11, 1, 1, 1, 0, 1, 1, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
		       16, 0, 2, 2, 0, 1, 2, 2, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" barry@python.org (Barry A. Warsaw)",
		       6, 1, 0, 0, 0, 0, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" unknown-package@qa.debian.org (pseudo-image-kit-2.0.zip #126111), "
			 "Debian CD-ROM Team <debian-cd@lists.debian.org>(cdimage.debian.org #126111)",
		       22, 1, 1, 1, 0, 1, 0, 2, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" \"\xcc\xa8\xcd\xe5\xb9\xfa\" <1234@e34.com>",
		       8, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF(" =?ISO-8859-1?Q?Maril=F9?= Gioffr\xc3\xa9 \xe2\x99\xa5 "
			 "<Maril\xc3\xb9.Gioffr\xc3\xa9@esempio-universit\xc3\xa0.it>",
		       12, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("Doe, John <j@x>",
		       8, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("<@relay.example,@other.example:user@host.example>",
		       17, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW, NULL, 0);
}
END_TEST

START_TEST(measures_angle_brackets_inside_angle_brackets_and_stray_ones)
{
	ASSERT_SUMMARY_OF("<<a@b>>", 7, 0, 2, 2, 0, 2, 0, 1, 0, NO_EW, NULL, 0);
	ASSERT_SUMMARY_OF("a@b>", 4, 0, 0, 1, 0, 0, 0, 1, 0, NO_EW, NULL, 0);
}
END_TEST

START_TEST(keeps_the_counts_up_to_an_error)
{
	ASSERT_SUMMARY_OF("a@b, \"x", 4, 0, 0, 0, 0, 0, 0, 1, 0, NO_EW,
		       "unterminated quoted string", 5);
	ASSERT_SUMMARY_OF("<a@b> (x", 5, 0, 1, 1, 0, 1, 0, 1, 0, NO_EW,
		       "unterminated comment", 6);
}
END_TEST

/* --- every prefix --------------------------------------------------------- */

#define PREFIX_TOKENS_MAX 4096

/* A prefix gives the full input's tokens as far as they fit, then at most
   one cut token (an atom at the next token's offset) or an error there,
   and summary counters no larger than the full input's. */
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
	static struct addr_token full[PREFIX_TOKENS_MAX];
	struct addr_ctx ctx;
	struct addr_token t;
	struct addr_summary whole, part;
	size_t nfull = 0;
	int r;

	addr_init(&ctx, s, len);
	while ((r = addr_next(&ctx, &t)) == 1) {
		ck_assert_uint_lt(nfull, PREFIX_TOKENS_MAX);
		full[nfull++] = t;
	}
	summarize_both(s, len, &whole, "whole");
	for (size_t i = 0; i <= len; i++) {
		size_t k = 0;
		bool cut = false;
		char *cut_s = exact_copy(s, i);	/* ASan sees reads past i */

		addr_init(&ctx, cut_s, i);
		while ((r = addr_next(&ctx, &t)) == 1) {
			ck_assert(!cut);
			if (k < nfull && full[k].offset + full[k].len <= i) {
				ck_assert_int_eq(t.type, full[k].type);
				ck_assert_uint_eq(t.offset, full[k].offset);
				ck_assert_uint_eq(t.len, full[k].len);
				ck_assert_uint_eq(t.depth, full[k].depth);
				ck_assert_uint_eq(t.escapes, full[k].escapes);
				k++;
			} else {
				ck_assert_uint_lt(k, nfull);
				ck_assert_int_eq(t.type, ADDR_ATOM);
				ck_assert_uint_eq(t.offset, full[k].offset);
				ck_assert_uint_eq(t.offset + t.len, i);
				cut = true;
			}
		}
		if (r == 0 && !cut && k < nfull)
			ck_assert_uint_ge(full[k].offset, i);	/* not begun */
		if (r == 0 && !cut && k == nfull && whole.error != NULL)
			ck_assert_uint_le(i, whole.error_offset);
		if (r == -1 && k < nfull)	/* a token cut inside */
			ck_assert_uint_eq(addr_error_offset(&ctx), full[k].offset);
		if (r == -1 && k == nfull)	/* the full input's error */
			ck_assert_ptr_nonnull(whole.error);

		summarize_both(cut_s, i, &part, "prefix");
		free(cut_s);
		ck_assert_uint_le(part.tokens, whole.tokens);
		ck_assert_uint_le(part.max_comment_depth, whole.max_comment_depth);
		ck_assert_uint_le(part.angle_open, whole.angle_open);
		ck_assert_uint_le(part.angle_close, whole.angle_close);
		ck_assert_uint_le(part.empty_angle_pairs, whole.empty_angle_pairs);
		ck_assert_uint_le(part.max_angle_depth, whole.max_angle_depth);
		ck_assert_uint_le(part.backslashes, whole.backslashes);
		ck_assert_uint_le(part.groups, whole.groups);
	}
}

static const char *const prefix_cases[] = {
	" Name \"Q S\" <a@[1.2.3.4]> (c)",
	"\"a\\\"b\" (x\\)y) [p\\]q] r\\<s",
	"(a(b(c))d(e))((()))(())",
	"<><><><>< ( x ) >",
	"a@gmail.com, b@attacker.com",
	"=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?==?utf-8?Q?=00?=@mailsploit.com",
	"(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;",
	" Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>",
	" <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	"Team: a@b, <c@d>; e@f",
	"<@relay.example,@other.example:user@host.example>",
	"\\\\\\\\\\\\@x \\",
	"a@b, \"x",
};

START_TEST(gives_consistent_results_for_every_prefix)
{
	for (size_t i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++)
		assert_prefixes_consistent(prefix_cases[i], strlen(prefix_cases[i]));
	assert_prefixes_consistent(S("J\xc3\xb6rg\0x\r\n <j@x>"));
}
END_TEST

/* --- the fast summary against the tokenizer -------------------------------- */

/* The bytes either path decides on, and some it must take as text. */
static const char swap_bytes[] = " \t\r\n\"()[]\\<>@,;:.=?a\x00\x80\xff";

/* s, every prefix of s, and s with any one byte replaced by one of
   swap_bytes: addr_summarize() and addr_summarize_full() agree. */
static void
assert_paths_agree_around(const char *s, size_t len, const char *name)
{
	struct addr_summary sum;
	char *c = exact_copy(s, len);
	char label[256];

	for (size_t i = 0; i <= len; i++) {
		char *cut = exact_copy(s, i);	/* ASan sees reads past i */

		snprintf(label, sizeof(label), "%s cut at %zu", name, i);
		summarize_both(cut, i, &sum, label);
		free(cut);
	}
	for (size_t i = 0; i < len; i++) {
		for (size_t b = 0; b < sizeof(swap_bytes) - 1; b++) {
			c[i] = swap_bytes[b];
			snprintf(label, sizeof(label), "%s with \\x%02x at %zu", name,
				 (unsigned char)swap_bytes[b], i);
			summarize_both(c, len, &sum, label);
		}
		c[i] = s[i];
	}
	free(c);
}

START_TEST(agrees_with_the_tokenizer_at_each_exit_of_the_fast_path)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("addr/fast-exits.tsv"), &cases);

	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(cases[i].ncols == 2, "addr/fast-exits.tsv:%u: not 2 columns",
			      cases[i].line);
		assert_paths_agree_around(cases[i].col[1].s, cases[i].col[1].len,
					  cases[i].col[0].s);
	}
	tu_cases_free(cases, n);
}
END_TEST

START_TEST(agrees_with_the_tokenizer_on_every_value_of_the_header_cases)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("headers/cases.tsv"), &cases);
	struct addr_summary sum;

	for (size_t i = 0; i < n; i++)
		if (cases[i].ncols >= 4)
			summarize_both(cases[i].col[3].s, cases[i].col[3].len, &sum,
				       cases[i].col[0].s);
	tu_cases_free(cases, n);
}
END_TEST

/* Both paths over each field value of a message's header, as the MTA
   hands it over: from after the colon, CR of CRLF and NUL dropped, folded
   lines joined by "\n", trailing line breaks cut.  Returns the fields. */
static size_t
agree_on_header_values(const char *msg, size_t len, const char *file)
{
	char *v = malloc(len + 1);
	size_t n = 0, fields = 0;
	bool in_value = false;
	struct addr_summary sum;

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i <= len; i++) {
		bool line_start = i == 0 || msg[i - 1] == '\n';

		if (i == len || (line_start && msg[i] != ' ' && msg[i] != '\t')) {
			while (n > 0 && v[n - 1] == '\n')
				n--;
			if (in_value) {
				summarize_both(v, n, &sum, file);
				fields++;
			}
			in_value = false;
			n = 0;
			if (i == len || msg[i] == '\n' || (msg[i] == '\r' && i + 1 < len &&
							   msg[i + 1] == '\n'))
				break;	/* the blank line before the body */
		}
		if (!in_value)
			in_value = msg[i] == ':';
		else if (msg[i] != '\0' && !(msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n'))
			v[n++] = msg[i];
	}
	free(v);
	return fields;
}

START_TEST(agrees_with_the_tokenizer_on_every_field_of_the_ham_corpus)
{
	const char *shared = getenv("SHARED_DIR");
	char pattern[4096];
	size_t fields = 0;
	glob_t g;

	ck_assert_msg(shared != NULL, "SHARED_DIR is not set (run through make check)");
	snprintf(pattern, sizeof(pattern), "%s/corpus/ham/*.eml", shared);
	ck_assert_msg(glob(pattern, 0, NULL, &g) == 0, "no ham corpus at %s", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len;
		char *msg = tu_read(g.gl_pathv[i], &len);

		fields += agree_on_header_values(msg, len, g.gl_pathv[i]);
		free(msg);
	}
	/* 576 messages, about 20 fields each: fewer means a corpus cut short */
	ck_assert_uint_ge(g.gl_pathc, 500);
	ck_assert_uint_ge(fields, 10 * g.gl_pathc);
	globfree(&g);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tok = tcase_create("tokens");
	TCase *sum = tcase_create("summary");
	TCase *pre = tcase_create("prefixes");
	TCase *agree = tcase_create("fast and full");

	tcase_add_test(tok, tokenizes_atoms_quoted_strings_specials_literals_and_comments);
	tcase_add_test(tok, takes_each_of_the_seven_specials_as_one_token);
	tcase_add_test(tok, skips_blanks_and_folded_line_breaks);
	tcase_add_test(tok, honours_backslash_escapes_in_every_kind_of_token);
	tcase_add_test(tok, measures_the_deepest_nesting_inside_a_comment);
	tcase_add_test(tok, takes_quotes_in_comments_and_parentheses_in_quotes_as_text);
	tcase_add_test(tok, takes_nul_8bit_and_stray_closers_as_atom_text);
	tcase_add_test(tok, reports_unterminated_tokens_at_their_opening_byte);
	tcase_add_test(tok, refuses_comments_nested_past_the_cap_at_the_parenthesis_too_many);
	suite_add_tcase(s, tok);
	tcase_add_test(sum, counts_300_empty_angle_pairs_of_the_crackaddr_shape);
	tcase_add_test(sum, counts_300_comments_after_a_mailbox);
	tcase_add_test(sum, measures_300_nested_comments_without_recursion);
	tcase_add_test(sum, saturates_the_depth_past_the_cap_and_reports_the_error);
	tcase_add_test(sum, counts_a_flood_of_backslashes_quoted_or_bare);
	tcase_add_test(sum, counts_two_mailboxes_in_a_from_that_lists_two);
	tcase_add_test(sum, finds_the_mailsploit_encoded_word_in_a_bare_addr_spec);
	tcase_add_test(sum, finds_an_encoded_word_inside_angle_brackets);
	tcase_add_test(sum, leaves_encoded_words_in_display_names_and_comments_alone);
	tcase_add_test(sum, counts_groups_and_the_mailboxes_inside_them);
	tcase_add_test(sum, reads_real_display_names_comments_and_obsolete_forms);
	tcase_add_test(sum, measures_angle_brackets_inside_angle_brackets_and_stray_ones);
	tcase_add_test(sum, keeps_the_counts_up_to_an_error);
	suite_add_tcase(s, sum);
	tcase_add_test(pre, gives_consistent_results_for_every_prefix);
	suite_add_tcase(s, pre);
	tcase_add_test(agree, agrees_with_the_tokenizer_at_each_exit_of_the_fast_path);
	tcase_add_test(agree, agrees_with_the_tokenizer_on_every_value_of_the_header_cases);
	tcase_add_test(agree, agrees_with_the_tokenizer_on_every_field_of_the_ham_corpus);
	tcase_set_timeout(agree, 60);
	suite_add_tcase(s, agree);
	return s;
}

int
main(void)
{
	return tu_run(addr_suite());
}
