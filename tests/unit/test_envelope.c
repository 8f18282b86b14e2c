/*
 * test_envelope.c -- envelope checks against tests/data/envelope/cases.tsv
 *
 * Each case names a stage, the verdict the shipped policy
 * (conf/milter-guard.conf) must reach, the findings in the order the checks
 * report them, and the arguments as the MTA hands them over.
 * tests/data/envelope/exact.tsv pins every finding down to the byte: rule,
 * offset, measure, limit, field (escaped) and detail.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/envelope.h"
#include "tu.h"

static struct cfg *shipped;

static void
load_shipped(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/conf/milter-guard.conf", getenv("srcdir"));
	shipped = tu_load_config(path);
}

static void
unload_shipped(void)
{
	cfg_free(&shipped);
}

/* Comma-separated rule ids of the findings, or "-". */
static void
finding_names(const struct finding_list *f, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->count; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "," : "",
				      rule_table[f->items[i].rule].name);
	if (f->count == 0)
		snprintf(buf, size, "-");
}

/* Each finding as "rule@offset=length/limit [field] detail", joined by
   " | ", or "-": everything a finding says except the raw sample, which
   the offset and the value fix. */
static void
finding_exact(const struct finding_list *f, char *buf, size_t size)
{
	size_t o = 0;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < f->count && o < size; i++) {
		const struct finding *x = &f->items[i];
		char limit[32];

		if (x->limit == RULE_NO_LIMIT)
			snprintf(limit, sizeof(limit), "-");
		else
			snprintf(limit, sizeof(limit), "%lu", x->limit);
		o += (size_t)snprintf(buf + o, size - o, "%s%s@%zu=%zu/%s [%s] %s",
				      i ? " | " : "", rule_table[x->rule].name,
				      x->offset, x->length, limit, x->field,
				      x->detail ? x->detail : "-");
	}
	if (f->dropped > 0 && o < size)
		snprintf(buf + o, size - o, " | dropped %zu", f->dropped);
}

static void
run_case(const struct tu_case *c, size_t first_arg, struct finding_list *f)
{
	const struct limits *lim = &shipped->policy.limits;
	struct env_arg args[TU_COLS_MAX];
	struct env_mail_info mail = { 0 };
	const char *stage = c->col[1].s;
	size_t n = c->ncols - first_arg;

	for (size_t i = 0; i < n; i++) {
		args[i].s = c->col[first_arg + i].s;
		args[i].len = c->col[first_arg + i].len;
	}
	finding_list_init(f);
	if (strcmp(stage, "helo") == 0) {
		env_check_helo(lim, args[0].s, args[0].len, f);
	} else if (strcmp(stage, "mail") == 0) {
		env_check_mail(lim, args, n, f, &mail);
	} else if (strcmp(stage, "rcpt") == 0 || strcmp(stage, "rcpt+utf8") == 0) {
		mail.smtputf8 = strcmp(stage, "rcpt+utf8") == 0;
		env_check_rcpt(lim, args, n, &mail, 1, f);
	} else {
		ck_abort_msg("line %u: unknown stage %s", c->line, stage);
	}
}

/* Run every case of a file (arguments from column first_arg on); the
   number of cases whose findings do not match. */
static unsigned
failing_cases(const char *rel, size_t first_arg,
	      bool (*matches)(const struct tu_case *, const struct finding_list *))
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path(rel), &cases);
	unsigned failures = 0;

	for (size_t i = 0; i < n; i++) {
		struct finding_list f;

		ck_assert_msg(cases[i].ncols > first_arg, "%s:%u: expected %zu or more columns",
			      rel, cases[i].line, first_arg + 1);
		run_case(&cases[i], first_arg, &f);
		if (!matches(&cases[i], &f))
			failures++;
	}
	tu_cases_free(cases, n);
	return failures;
}

/* cases.tsv: name, stage, verdict, rule names, arguments. */
static bool
verdict_matches(const struct tu_case *c, const struct finding_list *f)
{
	struct pol_verdict v;
	char names[1024];

	pol_decide(&shipped->policy, f, &v);
	finding_names(f, names, sizeof(names));
	if (strcmp(names, c->col[3].s) == 0 &&
	    strcmp(rule_action_name(v.action), c->col[2].s) == 0)
		return true;
	fprintf(stderr, "cases.tsv:%u: %s: expected %s / %s, got %s / %s\n",
		c->line, c->col[0].s, c->col[2].s, c->col[3].s,
		rule_action_name(v.action), names);
	return false;
}

/* exact.tsv: name, stage, findings as finding_exact() writes them,
   arguments. */
static bool
exact_matches(const struct tu_case *c, const struct finding_list *f)
{
	char got[8192];

	finding_exact(f, got, sizeof(got));
	if (strcmp(got, c->col[2].s) == 0)
		return true;
	fprintf(stderr, "exact.tsv:%u: %s: expected %s\n"
		"exact.tsv:%u: %s: got      %s\n", c->line, c->col[0].s,
		c->col[2].s, c->line, c->col[0].s, got);
	return false;
}

START_TEST(every_envelope_case_gets_its_findings_and_verdict)
{
	ck_assert_uint_eq(failing_cases("envelope/cases.tsv", 4, verdict_matches), 0);
}
END_TEST

/* The checks' fast paths (byte classes, shapes found by their first byte,
   lazily built field names) must not move a single finding: every case
   of exact.tsv compares everything a finding says. */
START_TEST(every_exact_case_reports_the_same_offsets_fields_and_details)
{
	ck_assert_uint_eq(failing_cases("envelope/exact.tsv", 3, exact_matches), 0);
}
END_TEST

START_TEST(counts_recipients_past_the_limit)
{
	struct env_arg arg = { "<bob@example.com>", 17 };
	struct env_mail_info mail = { 0 };
	struct finding_list f;

	finding_list_init(&f);
	env_check_rcpt(&shipped->policy.limits, &arg, 1, &mail, 1000, &f);
	ck_assert_uint_eq(f.count, 0);
	env_check_rcpt(&shipped->policy.limits, &arg, 1, &mail, 1001, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_RCPT_COUNT);
	ck_assert_uint_eq(f.items[0].length, 1001);
	ck_assert_uint_eq(f.items[0].limit, 1000);
}
END_TEST

START_TEST(counts_unknown_commands_past_the_limit)
{
	struct finding_list f;

	finding_list_init(&f);
	for (unsigned long i = 1; i <= 4; i++)
		env_check_unknown(&shipped->policy.limits, "XPROBE", 6, i, &f);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(f.items[0].rule, RULE_UNKNOWN_COUNT);
	ck_assert_uint_eq(f.items[0].length, 4);
}
END_TEST

START_TEST(measures_the_original_bytes_past_a_nul)
{
	static const char addr[] = "<a\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example>";
	struct env_arg arg = { addr, sizeof(addr) - 1 };
	struct env_mail_info mail;
	struct finding_list f;

	finding_list_init(&f);
	env_check_mail(&shipped->policy.limits, &arg, 1, &f, &mail);
	ck_assert(finding_list_has(&f, RULE_MAIL_CONTROL));
	ck_assert(finding_list_has(&f, RULE_MAIL_LOCAL_PART_LENGTH));
}
END_TEST

/* The byte scan skips plain text a word at a time: a control, 0xff or a
   bad UTF-8 byte is found at its own offset wherever it sits. */
START_TEST(finds_an_odd_byte_at_its_offset_anywhere_in_a_path)
{
	static const struct {
		char c;
		enum rule_id rule;
	} odd[] = {
		{ '\x01', RULE_MAIL_CONTROL }, { '\x7f', RULE_MAIL_CONTROL },
		{ '\0', RULE_MAIL_CONTROL }, { '\xff', RULE_MAIL_OCTET_FF },
		{ '\x80', RULE_MAIL_INVALID_UTF8 },
	};
	char addr[] = "<aaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example>";

	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		for (size_t at = 1; at < 29; at++) {
			struct env_arg arg = { addr, sizeof(addr) - 1 };
			struct env_mail_info mail;
			struct finding_list f;
			bool seen = false;

			memset(addr + 1, 'a', 28);
			addr[at] = odd[k].c;
			finding_list_init(&f);
			env_check_mail(&shipped->policy.limits, &arg, 1, &f, &mail);
			for (size_t i = 0; i < f.count; i++)
				if (f.items[i].rule == odd[k].rule) {
					ck_assert_uint_eq(f.items[i].offset, at);
					seen = true;
				}
			ck_assert_msg(seen, "byte %zu at %zu not found", k, at);
		}
	}
}
END_TEST

START_TEST(keeps_a_sample_window_around_the_offset)
{
	char addr[1200];
	struct env_arg arg = { addr, 0 };
	struct env_mail_info mail;
	struct finding_list f;

	memset(addr, 'a', sizeof(addr));
	addr[0] = '<';
	memcpy(addr + 1000, "${run{x}}@h>", 12);
	arg.len = 1012;
	finding_list_init(&f);
	env_check_mail(&shipped->policy.limits, &arg, 1, &f, &mail);
	for (size_t i = 0; i < f.count; i++) {
		if (f.items[i].rule != RULE_MAIL_INJECTION)
			continue;
		ck_assert_uint_eq(f.items[i].offset, 1000);
		ck_assert_uint_eq(f.items[i].sample_offset, 1000 - FINDING_SAMPLE_LEAD);
		ck_assert(memcmp(f.items[i].sample + FINDING_SAMPLE_LEAD, "${run{", 6) == 0);
		return;
	}
	ck_abort_msg("no mail.injection finding");
}
END_TEST

START_TEST(caps_findings_and_counts_the_rest)
{
	struct finding_list f;

	finding_list_init(&f);
	for (int i = 0; i < FINDING_LIST_MAX + 5; i++)
		finding_add(&f, RULE_MAIL_SYNTAX, "sender", "x", 1, 0, 1, RULE_NO_LIMIT, NULL);
	ck_assert_uint_eq(f.count, FINDING_LIST_MAX);
	ck_assert_uint_eq(f.dropped, 5);
}
END_TEST

static Suite *
envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc = tcase_create("checks");

	tcase_add_unchecked_fixture(tc, load_shipped, unload_shipped);
	tcase_add_test(tc, every_envelope_case_gets_its_findings_and_verdict);
	tcase_add_test(tc, every_exact_case_reports_the_same_offsets_fields_and_details);
	tcase_add_test(tc, counts_recipients_past_the_limit);
	tcase_add_test(tc, counts_unknown_commands_past_the_limit);
	tcase_add_test(tc, measures_the_original_bytes_past_a_nul);
	tcase_add_test(tc, finds_an_odd_byte_at_its_offset_anywhere_in_a_path);
	tcase_add_test(tc, keeps_a_sample_window_around_the_offset);
	tcase_add_test(tc, caps_findings_and_counts_the_rest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(envelope_suite());
}
