/*
 * test_hdr.c -- header rules: every per-field rule against
 * tests/data/headers/cases.tsv (a case that trips it and a near miss at its
 * limit), and the block rules (counts, singletons, From and Sender,
 * authentication fields) here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hdr.h"
#include "core/limits.h"
#include "tu.h"

static struct limits lim;

static void
setup(void)
{
	limits_init(&lim);
}

static void
names_of(const struct finding_list *f, char *buf, size_t size)
{
	size_t o = 0;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < f->count; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "," : "",
				      rule_table[f->items[i].rule].name);
}

START_TEST(every_header_case_gets_exactly_its_findings)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("headers/cases.tsv"), &cases);
	unsigned failures = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];
		struct hdr_state st;
		struct finding_list f;
		char names[512];

		ck_assert_msg(c->ncols == 4, "line %u: expected 4 columns", c->line);
		hdr_init(&st);
		finding_list_init(&f);
		hdr_check_field(&lim, &st, c->col[2].s, c->col[2].len, c->col[3].s,
				c->col[3].len, &f);
		names_of(&f, names, sizeof(names));
		if (strcmp(names, c->col[1].s) != 0) {
			fprintf(stderr, "headers/cases.tsv:%u: %s: expected %s, got %s\n",
				c->line, c->col[0].s, c->col[1].s, names);
			failures++;
		}
	}
	tu_cases_free(cases, n);
	ck_assert_uint_eq(failures, 0);
}
END_TEST

/* The value pass reads plain text a word at a time: an odd byte is found
   at its own offset wherever it sits in a word, and nothing else is. */
START_TEST(finds_an_odd_byte_at_its_offset_anywhere_in_a_word)
{
	static const struct {
		char c;
		const char *rule;
	} odd[] = {
		{ '\r', "header.bare_cr" }, { '\n', "header.bare_lf" },
		{ '\0', "header.nul" }, { '\x01', "header.control" },
		{ '\x1f', "header.control" }, { '\x7f', "header.control" },
		{ '\x80', "header.invalid_utf8" }, { '\xff', "header.invalid_utf8" },
		{ ' ', "-" }, { '~', "-" }, { '\t', "-" },
	};
	char value[24];
	char names[512];

	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		for (size_t at = 0; at < sizeof(value); at++) {
			struct hdr_state st;
			struct finding_list f;

			memset(value, 'a', sizeof(value));
			value[at] = odd[k].c;
			hdr_init(&st);
			finding_list_init(&f);
			hdr_check_field(&lim, &st, "X-A", 3, value, sizeof(value), &f);
			names_of(&f, names, sizeof(names));
			ck_assert_msg(strcmp(names, odd[k].rule) == 0,
				      "byte %zu at %zu: expected %s, got %s", k, at,
				      odd[k].rule, names);
			if (f.count > 0)
				ck_assert_uint_eq(f.items[0].offset, at);
		}
	}
}
END_TEST

/* The same for the field name: ':', SP, controls and 8-bit bytes. */
START_TEST(finds_an_odd_name_byte_at_its_offset_anywhere_in_a_word)
{
	static const char odd[] = { ':', ' ', '\0', '\x1f', '\x7f', '\x80', '\xff' };
	char name[20];
	char names[512];

	for (size_t k = 0; k < sizeof(odd); k++) {
		for (size_t at = 0; at < sizeof(name); at++) {
			struct hdr_state st;
			struct finding_list f;

			memset(name, 'n', sizeof(name));
			name[at] = odd[k];
			hdr_init(&st);
			finding_list_init(&f);
			hdr_check_field(&lim, &st, name, sizeof(name), " v", 2, &f);
			names_of(&f, names, sizeof(names));
			ck_assert_msg(strcmp(names, "header.name_charset") == 0,
				      "byte %zu at %zu: got %s", k, at, names);
			ck_assert_uint_eq(f.items[0].offset, at);
		}
	}
	for (int c = '!'; c <= '~'; c++) {
		struct hdr_state st;
		struct finding_list f;

		if (c == ':')
			continue;
		memset(name, c, sizeof(name));
		hdr_init(&st);
		finding_list_init(&f);
		hdr_check_field(&lim, &st, name, sizeof(name), " v", 2, &f);
		ck_assert_uint_eq(f.count, 0);
	}
}
END_TEST

/* The longest physical line, counted with "name:" on the first, is
   reported at its start. */
START_TEST(reports_the_longest_line_at_its_start)
{
	char value[2400];	/* 2,249 octets used */
	struct hdr_state st;
	struct finding_list f;
	size_t lens[] = { 10, 1100, 30, 1100, 5 }, o = 0, want_at = 0;

	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		if (l > 0) {
			value[o++] = '\n';
			value[o++] = ' ';
		}
		if (l == 1)
			want_at = o - 1;
		memset(value + o, 'b', lens[l] - (l > 0));
		o += lens[l] - (l > 0);
	}
	hdr_init(&st);
	finding_list_init(&f);
	hdr_check_field(&lim, &st, "X-A", 3, value, o, &f);
	ck_assert_uint_ge(f.count, 1);
	ck_assert_str_eq(rule_table[f.items[0].rule].name, "header.line_length");
	ck_assert_uint_eq(f.items[0].length, 1100);
	ck_assert_uint_eq(f.items[0].offset, want_at);
}
END_TEST

/* Every named field is known by its name in any case: it gets what its
   kind calls for (a bad value of its kind, and a second copy), and an
   unknown name of the same length gets neither. */
START_TEST(knows_every_named_field_in_any_case)
{
	static const struct {
		const char *name;
		const char *value;
		const char *want;
	} cases[] = {
		{ "FROM", " ((a", "header.address_syntax|header.address_syntax,header.from_repeated" },
		{ "sender", " ((a", "header.address_syntax|header.address_syntax,header.singleton_repeated" },
		{ "reply-TO", " ((a", "header.address_syntax|header.address_syntax,header.singleton_repeated" },
		{ "tO", " ((a", "header.address_syntax|header.address_syntax,header.singleton_repeated" },
		{ "cC", " ((a", "header.address_syntax|header.address_syntax,header.singleton_repeated" },
		{ "bcc", " ((a", "header.address_syntax|header.address_syntax,header.singleton_repeated" },
		{ "resent-from", " ((a", "header.address_syntax|header.address_syntax" },
		{ "RESENT-SENDER", " ((a", "header.address_syntax|header.address_syntax" },
		{ "Resent-To", " ((a", "header.address_syntax|header.address_syntax" },
		{ "Resent-cc", " ((a", "header.address_syntax|header.address_syntax" },
		{ "Resent-BCC", " ((a", "header.address_syntax|header.address_syntax" },
		{ "disposition-notification-to", " ((a", "header.address_syntax|header.address_syntax" },
		{ "MAIL-FOLLOWUP-TO", " ((a", "header.address_syntax|header.address_syntax" },
		{ "mail-reply-to", " ((a", "header.address_syntax|header.address_syntax" },
		{ "DATE", " x", "-|header.singleton_repeated" },
		{ "message-id", " x", "-|header.singleton_repeated" },
		{ "IN-REPLY-TO", " x", "-|header.singleton_repeated" },
		{ "references", " x", "-|header.singleton_repeated" },
		{ "SUBJECT", " =?utf-8?q?a=00?=", "header.encoded_word_control|header.encoded_word_control,header.singleton_repeated" },
		{ "comments", " =?utf-8?q?a=00?=", "header.encoded_word_control|header.encoded_word_control" },
		{ "KEYWORDS", " =?utf-8?q?a=00?=", "header.encoded_word_control|header.encoded_word_control" },
		{ "content-description", " =?utf-8?q?a=00?=", "header.encoded_word_control|header.encoded_word_control" },
		{ "THREAD-TOPIC", " =?utf-8?q?a=00?=", "header.encoded_word_control|header.encoded_word_control" },
		{ "content-TYPE", " x", "mime.syntax|mime.syntax" },
		{ "CONTENT-DISPOSITION",
		  " x; a*0=0; a*1=1; a*2=2; a*3=3; a*4=4; a*5=5; a*6=6; a*7=7; "
		  "a*8=8; a*9=9; a*10=0; a*11=1; a*12=2; a*13=3; a*14=4; "
		  "a*15=5; a*16=6; a*17=7; a*18=8; a*19=9; a*20=0; a*21=1; "
		  "a*22=2; a*23=3; a*24=4; a*25=5; a*26=6; a*27=7; a*28=8; "
		  "a*29=9; a*30=0; a*31=1; a*32=2; a*33=3; a*34=4; a*35=5; "
		  "a*36=6; a*37=7; a*38=8; a*39=9; a*40=0; a*41=1; a*42=2; "
		  "a*43=3; a*44=4; a*45=5; a*46=6; a*47=7; a*48=8; a*49=9; "
		  "a*50=0; a*51=1; a*52=2; a*53=3; a*54=4; a*55=5; a*56=6; "
		  "a*57=7; a*58=8; a*59=9; a*60=0; a*61=1; a*62=2; a*63=3; "
		  "a*64=4",
		  "mime.rfc2231_continuations|mime.rfc2231_continuations" },
		{ "dkim-signature", " x", "auth.tag_syntax|auth.tag_syntax" },
		{ "arc-seal", " x", "auth.tag_syntax|auth.tag_syntax" },
		{ "ARC-MESSAGE-SIGNATURE", " x", "auth.tag_syntax|auth.tag_syntax" },
		{ "arc-authentication-results", " a; =pass", "auth.tag_syntax|auth.tag_syntax" },
		{ "AUTHENTICATION-RESULTS", " a; (null)=pass", "auth.tag_syntax|auth.tag_syntax" },
		{ "Authentication-Results", " (c) x; (NULL)=pass", "auth.tag_syntax|auth.tag_syntax" },
		{ "Authentication-Results", " x (null) =y (null", "-|-" },
	};
	char got_names[1024], name[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int unknown = 0; unknown < 2; unknown++) {
			struct hdr_state st;
			struct finding_list f1, f2;
			size_t len = strlen(cases[i].name), o;

			memcpy(name, cases[i].name, len + 1);
			if (unknown)
				name[len - 1] = 'q';	/* no known name ends in q */
			hdr_init(&st);
			finding_list_init(&f1);
			finding_list_init(&f2);
			hdr_check_field(&lim, &st, name, len, cases[i].value,
					strlen(cases[i].value), &f1);
			hdr_check_field(&lim, &st, name, len, cases[i].value,
					strlen(cases[i].value), &f2);
			names_of(&f1, got_names, sizeof(got_names));
			o = strlen(got_names);
			got_names[o++] = '|';
			names_of(&f2, got_names + o, sizeof(got_names) - o);
			if (unknown)
				ck_assert_msg(strcmp(got_names, "-|-") == 0,
					      "%s: expected -|-, got %s", name, got_names);
			else
				ck_assert_msg(strcmp(got_names, cases[i].want) == 0,
					      "%s: expected %s, got %s", name,
					      cases[i].want, got_names);
		}
	}
}
END_TEST

START_TEST(every_known_name_sits_in_the_slot_its_hash_picks)
{
	char name[64] = "";
	size_t slot = 0, bad = hdr_names_misplaced(name, sizeof(name), &slot);

	ck_assert_msg(bad == 0, "%zu field names in the wrong slot of hdr_names[]; "
		      "the first, %s, belongs in [%zu]", bad, name, slot);
}
END_TEST

/* Feed `count` copies of one field; returns the findings. */
static void
feed(struct hdr_state *st, const char *name, const char *value, unsigned count,
     struct finding_list *f)
{
	for (unsigned i = 0; i < count; i++)
		hdr_check_field(&lim, st, name, strlen(name), value, strlen(value), f);
}

START_TEST(counts_fields_past_the_limit_once)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "X-Many", " x", 500, &f);
	ck_assert_uint_eq(f.count, 0);
	feed(&st, "X-Many", " x", 2, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_COUNT);
	ck_assert_uint_eq(f.items[0].length, 501);
}
END_TEST

START_TEST(measures_the_block_as_lines_with_crlf)
{
	struct hdr_state st;
	struct finding_list f;
	char value[1000];

	hdr_init(&st);
	finding_list_init(&f);
	memset(value, 'v', sizeof(value) - 1);
	value[0] = ' ';
	for (size_t i = 80; i < sizeof(value) - 1; i += 80) {
		value[i] = '\n';	/* folded: no line rule */
		value[i + 1] = ' ';
	}
	value[sizeof(value) - 1] = '\0';
	/* "X-B:" + 999 + CRLF = 1005 octets a field; 65 fields = 65325 */
	feed(&st, "X-B", value, 65, &f);
	ck_assert_uint_eq(f.count, 0);
	ck_assert_uint_eq(st.block_len, 65325);
	value[211] = '\0';	/* 4 + 211 + 2 = 217: 65542 in all */
	feed(&st, "X-B", value, 1, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_BLOCK_LENGTH);
}
END_TEST

START_TEST(reports_a_repeated_singleton_and_not_a_repeated_received)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "Received", " from a by b", 30, &f);
	feed(&st, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", 1, &f);
	ck_assert_uint_eq(f.count, 0);
	feed(&st, "date", " Mon, 23 Nov 2026 19:00:01 +0000", 1, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_SINGLETON_REPEATED);
}
END_TEST

START_TEST(a_second_from_field_is_its_own_rule)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "From", " a@example.org", 2, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_FROM_REPEATED);
}
END_TEST

START_TEST(several_from_mailboxes_need_a_sender)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "From", " a@gmail.com, b@attacker.example", 1, &f);
	feed(&st, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", 1, &f);
	hdr_check_end(&lim, &st, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_FROM_MULTIPLE);
	ck_assert_uint_eq(f.items[0].length, 2);
	finding_list_init(&f);
	feed(&st, "Sender", " a@gmail.com", 1, &f);
	hdr_check_end(&lim, &st, &f);
	ck_assert_uint_eq(f.count, 0);
}
END_TEST

START_TEST(reports_missing_from_and_date_at_the_end)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "Subject", " hi", 1, &f);
	hdr_check_end(&lim, &st, &f);
	ck_assert_uint_eq(f.count, 2);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_FROM_MISSING);
	ck_assert_int_eq(f.items[1].rule, RULE_HEADER_DATE_MISSING);
}
END_TEST

START_TEST(counts_authentication_fields_past_the_limit)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "Authentication-Results", " mx; spf=pass", 20, &f);
	feed(&st, "ARC-Seal", " i=1; cv=none; d=example.org; s=s; b=AA", 20, &f);
	ck_assert_uint_eq(f.count, 0);
	feed(&st, "Authentication-Results", " mx; spf=pass", 30, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_AUTH_COUNT);
	ck_assert_uint_eq(f.items[0].length, 21);
}
END_TEST

START_TEST(counts_forged_tag_headers_and_keeps_the_first_content_type)
{
	struct hdr_state st;
	struct finding_list f;

	hdr_init(&st);
	finding_list_init(&f);
	feed(&st, "X-Milter-Guard", " rules=none", 2, &f);
	feed(&st, "Content-Type", " multipart/mixed; boundary=\"outer\"", 1, &f);
	feed(&st, "Content-Type", " text/plain", 1, &f);
	ck_assert_uint_eq(st.forged_tags, 2);
	ck_assert(st.ct_seen);
	ck_assert(st.ct.multipart);
	ck_assert_str_eq(st.ct.boundary, "outer");
}
END_TEST

START_TEST(part_fields_get_the_field_rules_but_no_counts)
{
	struct finding_list f;

	finding_list_init(&f);
	static const char ok[] = " text/plain; name*0=\"a\"";
	static const char bad[] = " text/plain; x=\"a\0\"";

	for (int i = 0; i < 3; i++)
		hdr_check_part_field(&lim, "Content-Type", 12, ok, sizeof(ok) - 1,
				     sizeof(ok) - 1, NULL, &f);
	ck_assert_uint_eq(f.count, 0);
	hdr_check_part_field(&lim, "Content-Type", 12, bad, sizeof(bad) - 1, 40000, NULL, &f);
	ck_assert_uint_eq(f.count, 2);
	ck_assert_int_eq(f.items[0].rule, RULE_HEADER_VALUE_LENGTH);
	ck_assert_uint_eq(f.items[0].length, 40000);
	ck_assert_int_eq(f.items[1].rule, RULE_HEADER_NUL);
	ck_assert_str_eq(f.items[1].field, "part:Content-Type");
}
END_TEST

static Suite *
hdr_suite(void)
{
	Suite *s = suite_create("hdr");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, every_header_case_gets_exactly_its_findings);
	tcase_add_test(tc, finds_an_odd_byte_at_its_offset_anywhere_in_a_word);
	tcase_add_test(tc, reports_the_longest_line_at_its_start);
	tcase_add_test(tc, finds_an_odd_name_byte_at_its_offset_anywhere_in_a_word);
	tcase_add_test(tc, knows_every_named_field_in_any_case);
	tcase_add_test(tc, every_known_name_sits_in_the_slot_its_hash_picks);
	tcase_add_test(tc, counts_fields_past_the_limit_once);
	tcase_add_test(tc, measures_the_block_as_lines_with_crlf);
	tcase_add_test(tc, reports_a_repeated_singleton_and_not_a_repeated_received);
	tcase_add_test(tc, a_second_from_field_is_its_own_rule);
	tcase_add_test(tc, several_from_mailboxes_need_a_sender);
	tcase_add_test(tc, reports_missing_from_and_date_at_the_end);
	tcase_add_test(tc, counts_authentication_fields_past_the_limit);
	tcase_add_test(tc, counts_forged_tag_headers_and_keeps_the_first_content_type);
	tcase_add_test(tc, part_fields_get_the_field_rules_but_no_counts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(hdr_suite());
}
