/*
 * test_event.c -- audit events as JSON lines, and the escaping under them
 *
 * Each directory of tests/data/events holds input.tsv (a stage and its
 * arguments, as in tests/data/envelope/cases.tsv), optionally policy.conf
 * (else the shipped policy), and expected.json: the exact event line built
 * for a fixed time, host, session and client.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/envelope.h"
#include "core/esc.h"
#include "core/event.h"
#include "tu.h"

static const struct evt_time fixed_time = { 1795461330, 123456 };	/* 2026-11-23T19:15:30.123456Z */

static struct cfg *
case_policy(const char *dir)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	f = fopen(path, "r");
	if (f != NULL) {
		fclose(f);
		return tu_load_config(path);
	}
	snprintf(path, sizeof(path), "%s/conf/milter-guard.conf", getenv("srcdir"));
	return tu_load_config(path);
}

static char *
build_event(const char *dir)
{
	char path[4200];
	struct tu_case *cases;
	struct cfg *cfg = case_policy(dir);
	struct env_arg args[TU_COLS_MAX];
	struct env_mail_info mail = { 0 };
	struct finding_list f;
	struct pol_verdict v;
	struct reply r;
	struct evt_context ctx = {
		.host = "mx.test.example", .session = "1f2e.7", .queue_id = NULL,
		.client_ip = "192.0.2.25", .client_port = 50123,
		.client_name = "client.test.example", .client_name_len = 19,
		.helo = "client.test.example", .helo_len = 19,
		.sender = "<alice@example.org>", .sender_len = 19,
		.recipients = 1, .message = 1,
	};
	enum rule_stage stage;
	size_t n;
	bool has_reply;
	char *line;

	snprintf(path, sizeof(path), "%s/input.tsv", dir);
	ck_assert_uint_eq(tu_cases(path, &cases), 1);
	n = cases[0].ncols - 1;
	for (size_t i = 0; i < n; i++) {
		args[i].s = cases[0].col[1 + i].s;
		args[i].len = cases[0].col[1 + i].len;
	}
	finding_list_init(&f);
	if (strcmp(cases[0].col[0].s, "helo") == 0) {
		stage = STAGE_HELO;
		env_check_helo(&cfg->policy.limits, args[0].s, args[0].len, &f);
	} else if (strcmp(cases[0].col[0].s, "mail") == 0) {
		stage = STAGE_MAIL;
		env_check_mail(&cfg->policy.limits, args, n, &f, &mail);
	} else {
		stage = STAGE_RCPT;
		env_check_rcpt(&cfg->policy.limits, args, n, &mail, 1, &f);
	}
	ctx.sample_max = cfg->sample_length;
	pol_decide(&cfg->policy, &f, &v);
	has_reply = pol_is_immediate(v.action) &&
		rpl_build(&cfg->policy, v.action, stage, v.has_rule, v.rule, &r);
	line = evt_decision(&fixed_time, &ctx, stage, &cfg->policy, &v, &f,
			    has_reply ? &r : NULL);
	ck_assert_ptr_nonnull(line);
	tu_cases_free(cases, 1);
	cfg_free(&cfg);
	return line;
}

START_TEST(every_event_case_builds_its_expected_line)
{
	const char *root = tu_data_path("events");
	DIR *d = opendir(root);
	struct dirent *e;
	unsigned checked = 0, failures = 0;

	ck_assert_msg(d != NULL, "fixture directory %s is missing", root);
	while ((e = readdir(d)) != NULL) {
		char dir[4096], path[4200];
		char *line, *expected;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		line = build_event(dir);
		snprintf(path, sizeof(path), "%s/expected.json", dir);
		if (getenv("TU_WRITE_EXPECTED") != NULL) {
			FILE *f = fopen(path, "w");

			ck_assert_ptr_nonnull(f);
			fputs(line, f);
			fclose(f);
		}
		expected = tu_read(path, &len);
		if (strcmp(line, expected) != 0) {
			fprintf(stderr, "%s:\n  expected: %s  got:      %s", e->d_name,
				expected, line);
			failures++;
		}
		free(expected);
		free(line);
		checked++;
	}
	closedir(d);
	ck_assert_uint_ge(checked, 6);
	ck_assert_uint_eq(failures, 0);
}
END_TEST

START_TEST(every_event_is_valid_json_and_printable_ascii)
{
	struct finding_list f;
	struct pol_verdict v;
	struct policy pol;
	struct evt_context ctx = { .host = "h", .session = "s", .sample_max = 1024 };
	char bytes[256];
	char *line;
	json_error_t err;
	json_t *doc;

	for (int i = 0; i < 256; i++)
		bytes[i] = (char)i;
	ctx.helo = bytes;
	ctx.helo_len = sizeof(bytes);
	ctx.client_name = bytes;
	ctx.client_name_len = sizeof(bytes);
	pol_init(&pol);
	finding_list_init(&f);
	finding_add(&f, RULE_MAIL_CONTROL, "sender", bytes, sizeof(bytes), 0,
		    sizeof(bytes), RULE_NO_LIMIT, NULL);
	pol_decide(&pol, &f, &v);
	line = evt_decision(&fixed_time, &ctx, STAGE_MAIL, &pol, &v, &f, NULL);
	ck_assert_ptr_nonnull(line);
	for (const char *p = line; *p != '\0'; p++)
		ck_assert_msg((*p >= 0x20 && *p <= 0x7e) || (*p == '\n' && p[1] == '\0'),
			      "byte 0x%02x in the event", (unsigned char)*p);
	doc = json_loads(line, 0, &err);
	ck_assert_msg(doc != NULL, "not JSON: %s", err.text);
	json_decref(doc);
	free(line);
}
END_TEST

START_TEST(a_lifecycle_event_escapes_its_values)
{
	const char *kv[] = { "config", "/etc/x.conf", "error", "bad\nline\x1b", NULL };
	char *line = evt_lifecycle(&fixed_time, "mx", "reload_failed", kv);

	ck_assert_str_eq(line, "{\"schema\":2,\"time\":\"2026-11-23T19:15:30.123456Z\","
			 "\"type\":\"reload_failed\",\"host\":\"mx\",\"config\":\"/etc/x.conf\","
			 "\"error\":\"bad\\\\x0aline\\\\x1b\"}\n");
	free(line);
}
END_TEST

START_TEST(a_checkpoint_and_a_sink_failure_say_what_they_count)
{
	struct evt_sink_failure sf = {
		.sink = "file", .path = "/var/log/mg/audit.json",
		.error = "No space left on device", .lost = 4, .first_seq = 5,
		.last_seq = 8, .since = { 1795460000, 42 },
	};
	char *line = evt_checkpoint(&fixed_time, "mx", "reopen", 1000);

	ck_assert_str_eq(line, "{\"schema\":2,\"time\":\"2026-11-23T19:15:30.123456Z\","
			 "\"type\":\"checkpoint\",\"host\":\"mx\",\"reason\":\"reopen\","
			 "\"events\":1000}\n");
	free(line);
	line = evt_sink_failure(&fixed_time, "mx", &sf);
	ck_assert_str_eq(line, "{\"schema\":2,\"time\":\"2026-11-23T19:15:30.123456Z\","
			 "\"type\":\"sink_failure\",\"host\":\"mx\",\"sink\":\"file\","
			 "\"path\":\"/var/log/mg/audit.json\",\"error\":\"No space left on device\","
			 "\"lost\":4,\"first_seq\":5,\"last_seq\":8,"
			 "\"since\":\"2026-11-23T18:53:20.000042Z\"}\n");
	free(line);
}
END_TEST

START_TEST(escapes_controls_backslash_and_8bit_bytes)
{
	char out[64];
	size_t consumed;

	ck_assert_uint_eq(esc_bytes("a\\b\r\n\0\xff~", 8, out, sizeof(out), &consumed), 21);
	ck_assert_str_eq(out, "a\\\\b\\x0d\\x0a\\x00\\xff~");
	ck_assert_uint_eq(consumed, 8);
}
END_TEST

START_TEST(never_exceeds_the_cap_nor_splits_an_escape)
{
	char out[8];
	size_t consumed;

	ck_assert_uint_eq(esc_bytes("ab\x01\x02", 4, out, sizeof(out), &consumed), 6);
	ck_assert_str_eq(out, "ab\\x01");
	ck_assert_uint_eq(consumed, 3);
	ck_assert_uint_eq(esc_bytes("abc", 3, out, 1, &consumed), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

static Suite *
event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("events");
	TCase *te = tcase_create("escaping");

	tcase_add_test(tc, every_event_case_builds_its_expected_line);
	tcase_add_test(tc, every_event_is_valid_json_and_printable_ascii);
	tcase_add_test(tc, a_lifecycle_event_escapes_its_values);
	suite_add_tcase(s, tc);
	tcase_add_test(te, a_checkpoint_and_a_sink_failure_say_what_they_count);
	tcase_add_test(te, escapes_controls_backslash_and_8bit_bytes);
	tcase_add_test(te, never_exceeds_the_cap_nor_splits_an_escape);
	suite_add_tcase(s, te);
	return s;
}

int
main(void)
{
	return tu_run(event_suite());
}
