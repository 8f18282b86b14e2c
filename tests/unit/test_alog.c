/*
 * test_alog.c -- reading audit log lines: the splitter and the parser
 *
 * The parser's cases are data: tests/data/alog/cases.txt gives a line and
 * either the error (column and reason) or the values the members must
 * have, as they stand in the line (still JSON-escaped).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alog.h"
#include "tu.h"

static struct alog_event ev;

/* The text of a member named in an expectation: "unset", "null", the
   string, or the number. */
static void
member_text(const char *name, char *out, size_t size)
{
	static const struct {
		const char *name;
		size_t off;
		bool num;
	} table[] = {
		{ "type", offsetof(struct alog_event, type), false },
		{ "rule", offsetof(struct alog_event, rule), false },
		{ "action", offsetof(struct alog_event, action), false },
		{ "applied", offsetof(struct alog_event, applied), false },
		{ "client_ip", offsetof(struct alog_event, client_ip), false },
		{ "client_name", offsetof(struct alog_event, client_name), false },
		{ "country", offsetof(struct alog_event, country), false },
		{ "queue_id", offsetof(struct alog_event, queue_id), false },
		{ "reason", offsetof(struct alog_event, reason), false },
		{ "sink", offsetof(struct alog_event, sink), false },
		{ "link_reason", offsetof(struct alog_event, link_reason), false },
		{ "asn", offsetof(struct alog_event, asn), true },
		{ "seq", offsetof(struct alog_event, seq), true },
		{ "prev_seq", offsetof(struct alog_event, prev_seq), true },
		{ "events", offsetof(struct alog_event, events), true },
		{ "lost", offsetof(struct alog_event, lost), true },
	};
	const struct alog_str *s = NULL;

	if (strcmp(name, "findings") == 0) {
		snprintf(out, size, "%zu", ev.nfindings);
		return;
	}
	if (strcmp(name, "chain") == 0) {
		snprintf(out, size, "%s", ev.has_chain ? "yes" : "no");
		return;
	}
	if (strncmp(name, "extra.", 6) == 0) {
		s = alog_extra(&ev, name + 6);
	} else if (name[0] == 'f' && name[1] >= '0' && name[1] <= '9' && name[2] == '.') {
		const struct alog_finding *f = &ev.finding[name[1] - '0'];

		ck_assert_uint_lt((size_t)(name[1] - '0'), ev.nfindings);
		if (strcmp(name + 3, "monitor") == 0) {
			snprintf(out, size, "%s", !f->monitor.set ? "unset"
				 : f->monitor.v ? "true" : "false");
			return;
		}
		s = strcmp(name + 3, "rule") == 0 ? &f->rule : &f->action;
	}
	for (size_t i = 0; s == NULL && i < sizeof(table) / sizeof(table[0]); i++) {
		const char *p = (const char *)&ev + table[i].off;

		if (strcmp(name, table[i].name) != 0)
			continue;
		if (table[i].num) {
			const struct alog_num *n = (const struct alog_num *)p;

			if (n->set)
				snprintf(out, size, "%llu", n->v);
			else
				snprintf(out, size, "unset");
			return;
		}
		s = (const struct alog_str *)p;
	}
	ck_assert_msg(s != NULL, "no member %s in the test's table", name);
	if (!s->set)
		snprintf(out, size, "unset");
	else if (s->p == NULL)
		snprintf(out, size, "null");
	else
		snprintf(out, size, "%.*s", (int)s->len, s->p);
}

START_TEST(parses_lines_as_the_cases_say)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("alog/cases.txt"), &cases), failed = 0;

	ck_assert_uint_ge(n, 30);
	for (size_t i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];
		const char *why = NULL;
		size_t col = 0;
		int r;
		char *expect, *save = NULL;

		ck_assert_uint_eq(c->ncols, 3);
		r = alog_parse(c->col[1].s, c->col[1].len, &ev, &why, &col);
		expect = c->col[2].s;
		if (strncmp(expect, "error ", 6) == 0) {
			char got[256];

			snprintf(got, sizeof(got), "error %zu %s", col, r < 0 ? why : "(none)");
			if (strcmp(got, expect) != 0) {
				fprintf(stderr, "line %u %s: got \"%s\", expected \"%s\"\n",
					c->line, c->col[0].s, got, expect);
				failed++;
			}
			continue;
		}
		ck_assert_msg(r == 0, "line %u %s: %s at column %zu", c->line, c->col[0].s, why, col);
		for (char *tok = strtok_r(expect, " ", &save); tok != NULL;
		     tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '='), got[512];

			ck_assert_ptr_nonnull(eq);
			*eq = '\0';
			member_text(tok, got, sizeof(got));
			ck_assert_msg(strcmp(got, eq + 1) == 0, "line %u %s: %s is \"%s\", expected \"%s\"",
				      c->line, c->col[0].s, tok, got, eq + 1);
		}
	}
	tu_cases_free(cases, n);
	ck_assert_uint_eq(failed, 0);
}
END_TEST

START_TEST(splits_lines_and_keeps_what_follows_the_last_newline)
{
	static const char buf[] = "{\"a\":1}\n\n{\"b\":2}\n{\"c\"";
	struct alog_lines it;
	const char *line;
	size_t len;

	alog_lines_init(&it, buf, sizeof(buf) - 1);
	ck_assert(alog_lines_next(&it, &line, &len));
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(line, "{\"a\":1}", 7) == 0);
	ck_assert(alog_lines_next(&it, &line, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert(alog_lines_next(&it, &line, &len));
	ck_assert(memcmp(line, "{\"b\":2}", len) == 0 && len == 7);
	ck_assert(!alog_lines_next(&it, &line, &len));
	ck_assert_uint_eq(alog_lines_rest(&it), 4);
}
END_TEST

START_TEST(parses_a_line_whatever_follows_it_in_the_buffer)
{
	/* the parser reads exactly len bytes: what follows is not looked at */
	static const char buf[] = "{\"schema\":1,\"time\":\"2026-11-23T20:41:32.553390Z\","
				  "\"type\":\"stop\",\"host\":\"mx\"}GARBAGE";
	const char *why;
	size_t col, len = sizeof(buf) - 1 - 7;

	ck_assert_int_eq(alog_parse(buf, len, &ev, &why, &col), 0);
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(alog_parse(buf, cut, &ev, &why, &col), -1);
}
END_TEST

START_TEST(records_findings_past_its_cap_as_a_count)
{
	size_t n = ALOG_FINDINGS_MAX + 5, size = 200 + n * 20, len;
	char *line = malloc(size);
	const char *why;
	size_t col;

	len = (size_t)snprintf(line, size, "{\"schema\":1,\"time\":\"2026-11-23T20:41:32.553390Z\","
			       "\"type\":\"decision\",\"host\":\"mx\",\"stage\":\"eom\","
			       "\"action\":\"log\",\"applied\":\"log\",\"findings\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(line + len, size - len, "%s{\"rule\":\"r%zu\"}", i ? "," : "", i);
	len += (size_t)snprintf(line + len, size - len, "]}");
	ck_assert_int_eq(alog_parse(line, len, &ev, &why, &col), 0);
	ck_assert_uint_eq(ev.nfindings, ALOG_FINDINGS_MAX);
	ck_assert_uint_eq(ev.findings_over, 5);
	free(line);
}
END_TEST

START_TEST(knows_the_shape_of_an_event_time)
{
	ck_assert(alog_time_valid("2026-11-23T20:41:32.553390Z", 27));
	ck_assert(!alog_time_valid("2026-11-23T20:41:32.553390", 26));
	ck_assert(!alog_time_valid("2026-11-23T20:41:32.55339xZ", 27));
	ck_assert(!alog_time_valid("2026-11-23 20:41:32.553390Z", 27));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("alog");
	TCase *tc = tcase_create("alog");

	tcase_add_test(tc, parses_lines_as_the_cases_say);
	tcase_add_test(tc, splits_lines_and_keeps_what_follows_the_last_newline);
	tcase_add_test(tc, parses_a_line_whatever_follows_it_in_the_buffer);
	tcase_add_test(tc, records_findings_past_its_cap_as_a_count);
	tcase_add_test(tc, knows_the_shape_of_an_event_time);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
