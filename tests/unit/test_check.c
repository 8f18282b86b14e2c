/*
 * test_check.c -- the pure parts of milter-guard-check, against the cases
 * under tests/data/check/: /proc/net/tcp lines, Postfix and Sendmail milter
 * configurations, socket matching, SMTP greetings, Debian revisions,
 * HOST:PORT arguments, and the report (states, summary line, text, JSON).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check/banner.h"
#include "check/debver.h"
#include "check/hostport.h"
#include "check/mtacf.h"
#include "check/procnet.h"
#include "check/report.h"
#include "tu.h"

static const char *
col(const struct tu_case *c, size_t i)
{
	ck_assert_msg(i < c->ncols, "line %u: column %zu missing", c->line, i + 1);
	return c->col[i].s;
}

START_TEST(reads_bind_address_port_state_and_inode_from_proc_net_tcp)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("check/procnet.tsv"), &cases), i;
	char err[200], state[8];

	ck_assert_uint_ge(n, 10);
	for (i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];
		struct procnet_entry e;
		int rc = procnet_parse_line(col(c, 0), c->col[0].len, &e, err, sizeof(err));

		if (strcmp(col(c, 1), "header") == 0) {
			ck_assert_msg(rc == 0, "line %u: header not recognised", c->line);
			continue;
		}
		if (strcmp(col(c, 1), "error") == 0) {
			ck_assert_msg(rc == -1, "line %u: parsed a bad line", c->line);
			ck_assert_str_eq(err, col(c, 2));
			continue;
		}
		ck_assert_msg(rc == 1, "line %u: %s", c->line, err);
		ck_assert_str_eq(e.text, col(c, 1));
		ck_assert_uint_eq(e.port, strtoul(col(c, 2), NULL, 10));
		snprintf(state, sizeof(state), "%02X", e.state);
		ck_assert_str_eq(state, col(c, 3));
		ck_assert_uint_eq(e.inode, strtoul(col(c, 4), NULL, 10));
		ck_assert_int_eq(procnet_is_wildcard(&e), atoi(col(c, 5)));
		ck_assert_int_eq(procnet_is_loopback(&e), atoi(col(c, 6)));
		ck_assert_int_eq(e.family, strchr(e.text, ':') ? AF_INET6 : AF_INET);
	}
	tu_cases_free(cases, n);
}
END_TEST

/* One entry as the cases write it. */
static void
describe(const struct mtacf_milter *m, int with_name, char *buf, size_t size)
{
	char sock[400];

	if (m->parsed)
		mtacf_format(&m->sock, MTACF_SENDMAIL, sock, sizeof(sock));
	if (with_name)
		snprintf(buf, size, "%s %s used=%d wrong=%d %s%s", m->name, m->spec, m->used,
			 m->wrong_syntax, m->parsed ? "sock=" : "unparsed", m->parsed ? sock : "");
	else
		snprintf(buf, size, "%s wrong=%d %s%s", m->spec, m->wrong_syntax,
			 m->parsed ? "sock=" : "unparsed", m->parsed ? sock : "");
}

START_TEST(reads_postfix_milter_lists_and_marks_libmilter_syntax)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("check/postfix.tsv"), &cases), i, k;
	char got[2048], one[600];

	ck_assert_uint_ge(n, 10);
	for (i = 0; i < n; i++) {
		struct mtacf_list l = { .n = 0 };

		mtacf_postfix(col(&cases[i], 0), cases[i].col[0].len, &l);
		got[0] = '\0';
		for (k = 0; k < l.n; k++) {
			describe(&l.m[k], 0, one, sizeof(one));
			ck_assert(l.m[k].used);
			if (k > 0)
				strcat(got, " | ");
			strcat(got, one);
		}
		ck_assert_msg(strcmp(got[0] ? got : "-", col(&cases[i], 1)) == 0,
			      "line %u: got \"%s\"", cases[i].line, got);
	}
	tu_cases_free(cases, n);
}
END_TEST

static void
compare_sendmail(const char *file, int mc)
{
	char path[300], got[4096] = "", one[600], *buf, *want;
	struct mtacf_list l = { .n = 0 };
	size_t len, k;

	snprintf(path, sizeof(path), "check/%s", file);
	buf = tu_read(tu_data_path(path), &len);
	if (mc)
		mtacf_sendmail_mc(buf, len, &l);
	else
		mtacf_sendmail_cf(buf, len, &l);
	for (k = 0; k < l.n; k++) {
		describe(&l.m[k], 1, one, sizeof(one));
		strcat(got, one);
		strcat(got, "\n");
	}
	strcat(path, ".expected");
	want = tu_read(tu_data_path(path), &len);
	ck_assert_str_eq(got, want);
	free(buf);
	free(want);
}

START_TEST(reads_sendmail_cf_filters_and_which_are_used)
{
	compare_sendmail("sendmail.cf", 0);
}
END_TEST

START_TEST(reads_sendmail_mc_filters_and_which_are_used)
{
	compare_sendmail("sendmail.mc", 1);
}
END_TEST

START_TEST(matches_the_mta_socket_to_the_milter_socket)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("check/same-socket.tsv"), &cases), i;
	struct sockspec a, b;
	char err[300];

	ck_assert_uint_ge(n, 8);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sockspec_parse(col(&cases[i], 0), &a, err, sizeof(err)), 0);
		ck_assert_int_eq(sockspec_parse(col(&cases[i], 1), &b, err, sizeof(err)), 0);
		ck_assert_msg(mtacf_same_socket(&a, &b, cases[i].ncols > 3 ? col(&cases[i], 3)
									    : NULL) ==
			      atoi(col(&cases[i], 2)), "line %u", cases[i].line);
	}
	tu_cases_free(cases, n);
}
END_TEST

START_TEST(writes_a_socket_in_each_mtas_syntax)
{
	struct sockspec s;
	char err[300], buf[300];

	ck_assert_int_eq(sockspec_parse("inet:10025@localhost", &s, err, sizeof(err)), 0);
	mtacf_format(&s, MTACF_POSTFIX, buf, sizeof(buf));
	ck_assert_str_eq(buf, "inet:127.0.0.1:10025");
	mtacf_format(&s, MTACF_SENDMAIL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "inet:10025@127.0.0.1");
	ck_assert_int_eq(sockspec_parse("inet6:10025@[2001:db8::1]", &s, err, sizeof(err)), 0);
	mtacf_format(&s, MTACF_POSTFIX, buf, sizeof(buf));
	ck_assert_str_eq(buf, "inet:[2001:db8::1]:10025");
	ck_assert_int_eq(sockspec_parse("unix:/run/mg.sock", &s, err, sizeof(err)), 0);
	mtacf_format(&s, MTACF_POSTFIX, buf, sizeof(buf));
	ck_assert_str_eq(buf, "unix:/run/mg.sock");
}
END_TEST

START_TEST(finds_software_and_version_in_a_greeting)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("check/banner.tsv"), &cases), i;
	struct banner_info bi;
	int rc;

	ck_assert_uint_ge(n, 10);
	for (i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];

		rc = banner_examine(col(c, 0), c->col[0].len, &bi);
		ck_assert_msg(strcmp(bi.software[0] ? bi.software : "-", col(c, 1)) == 0,
			      "line %u: software \"%s\"", c->line, bi.software);
		ck_assert_msg(strcmp(bi.version[0] ? bi.version : "-", col(c, 2)) == 0,
			      "line %u: version \"%s\"", c->line, bi.version);
		ck_assert_int_eq(rc, strcmp(col(c, 1), "-") != 0 || strcmp(col(c, 2), "-") != 0);
	}
	tu_cases_free(cases, n);
}
END_TEST

START_TEST(names_the_debian_update_a_revision_carries)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("check/debver.tsv"), &cases), i;
	char upd[32];
	int rc;

	ck_assert_uint_ge(n, 8);
	for (i = 0; i < n; i++) {
		rc = debver_update(col(&cases[i], 0), cases[i].col[0].len, upd, sizeof(upd));
		ck_assert_msg(strcmp(rc ? upd : "-", col(&cases[i], 1)) == 0, "line %u: %s",
			      cases[i].line, upd);
	}
	tu_cases_free(cases, n);
}
END_TEST

START_TEST(parses_host_and_port_arguments)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("check/hostport.tsv"), &cases), i;
	struct hostport hp;
	char err[200], spec[400];
	int rc;

	ck_assert_uint_ge(n, 10);
	for (i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];

		rc = hostport_parse(col(c, 0), c->col[0].len, &hp, err, sizeof(err));
		if (strcmp(col(c, 1), "error") == 0) {
			ck_assert_msg(rc == -1, "line %u: accepted", c->line);
			ck_assert_str_eq(err, col(c, 2));
			continue;
		}
		ck_assert_msg(rc == 0, "line %u: %s", c->line, err);
		ck_assert_str_eq(hp.host, col(c, 1));
		ck_assert_uint_eq(hp.port, strtoul(col(c, 2), NULL, 10));
		ck_assert_int_eq(hp.v6, atoi(col(c, 3)));
		hostport_spec(&hp, spec, sizeof(spec));
		ck_assert_str_eq(spec, col(c, 4));
	}
	tu_cases_free(cases, n);
}
END_TEST

/* The report of tests/data/check/report.*.expected. */
static void
sample_report(struct report *r)
{
	report_init(r, "socket");
	report_add(r, REPORT_OK, "socket.bind", NULL,
		   "milter-guard (PID %d) listens on loopback only (%s)", 42, "127.0.0.1:10025");
	report_add(r, REPORT_WARNING, "smtp.banner", "smtpd_banner = $myhostname ESMTP",
		   "the greeting discloses: %s", "220 mx\x1b[31m Postfix\r\n\"quoted\" \\ \xff");
	report_add(r, REPORT_CRITICAL, "socket.probe", "bind to loopback",
		   "192.0.2.1:10025 answers the milter protocol");
	report_add(r, REPORT_CRITICAL, "socket.bind", NULL, "second critical");
	report_perf(r, "time", 0.25, "s");
	report_perf(r, "cert days", 29, "");
	report_fact(r, "postfix", "3.7.11\n", 7);
}

static void
compare_file(const char *got, const char *rel)
{
	size_t len;
	char *want = tu_read(tu_data_path(rel), &len);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "%s differs; got:\n%s", rel, got);
	free(want);
}

START_TEST(reports_the_worst_state_first_with_perfdata)
{
	struct report r;
	char *s;

	sample_report(&r);
	ck_assert_int_eq(report_state(&r), REPORT_CRITICAL);
	ck_assert_uint_eq(report_count(&r, REPORT_CRITICAL), 2);
	s = report_summary_r(&r);
	compare_file(s, "check/report.summary.expected");
	free(s);
	s = report_text_r(&r);
	compare_file(s, "check/report.text.expected");
	free(s);
	s = report_json_r(&r);
	compare_file(s, "check/report.json.expected");
	free(s);
	report_deinit(&r);
}
END_TEST

START_TEST(an_empty_report_is_unknown_and_unknown_ranks_below_warning)
{
	struct report r;
	char *s;

	report_init(&r, "smtp");
	ck_assert_int_eq(report_state(&r), REPORT_UNKNOWN);
	s = report_summary_r(&r);
	ck_assert_str_eq(s, "MILTER-GUARD SMTP UNKNOWN - nothing was checked (0 critical, "
			 "0 warning, 0 unknown, 0 ok) | critical=0;;;0 warning=0;;;0 "
			 "unknown=0;;;0 ok=0;;;0");
	free(s);
	report_add(&r, REPORT_OK, "a", NULL, "fine");
	ck_assert_int_eq(report_state(&r), REPORT_OK);
	report_add(&r, REPORT_UNKNOWN, "b", NULL, "could not tell");
	ck_assert_int_eq(report_state(&r), REPORT_UNKNOWN);
	report_add(&r, REPORT_WARNING, "c", NULL, "not good");
	ck_assert_int_eq(report_state(&r), REPORT_WARNING);
	s = report_summary_r(&r);
	ck_assert_str_eq(s, "MILTER-GUARD SMTP WARNING - not good (0 critical, 1 warning, "
			 "1 unknown, 1 ok) | critical=0;;;0 warning=1;;;0 unknown=1;;;0 ok=1;;;0");
	free(s);
	report_deinit(&r);
}
END_TEST

START_TEST(keeps_a_pipe_in_a_banner_out_of_the_perfdata)
{
	struct report r;
	char *s;

	report_init(&r, "smtp");
	report_add(&r, REPORT_WARNING, "smtp.banner", "no | in the banner",
		   "the greeting discloses: %s", "220 mx ESMTP Postfix | critical=0;;;0 ok=99;;;0|");
	report_fact(&r, "postfix", "3.7|x", 5);
	s = report_summary_r(&r);
	ck_assert_str_eq(s, "MILTER-GUARD SMTP WARNING - the greeting discloses: 220 mx ESMTP "
			 "Postfix \\x7c critical=0;;;0 ok=99;;;0\\x7c (0 critical, 1 warning, 0 unknown, "
			 "0 ok) | critical=0;;;0 warning=1;;;0 unknown=0;;;0 ok=0;;;0");
	free(s);
	s = report_text_r(&r);
	ck_assert_ptr_nonnull(strchr(s, '|'));
	ck_assert_ptr_null(strchr(strchr(s, '|') + 1, '|'));
	ck_assert_ptr_nonnull(strstr(s, "no \\x7c in the banner"));
	free(s);
	s = report_json_r(&r);
	ck_assert_ptr_nonnull(strstr(s, "\"postfix\": \"3.7\\\\x7cx\""));
	free(s);
	report_deinit(&r);
}
END_TEST

START_TEST(cuts_a_pipe_escape_whole_or_not_at_all)
{
	struct report r;
	char text[REPORT_TEXT_MAX + 8];

	/* a '|' where 4 octets are left: "\x7c" and the NUL need 5, the text ends before it */
	memset(text, 'a', sizeof(text));
	text[REPORT_TEXT_MAX - 4] = '|';
	text[sizeof(text) - 1] = '\0';
	report_init(&r, "smtp");
	report_add(&r, REPORT_WARNING, "smtp.banner", NULL, "%s", text);
	ck_assert_uint_eq(strlen(r.results[0].msg), REPORT_TEXT_MAX - 4);
	ck_assert_ptr_null(strchr(r.results[0].msg, '\\'));
	text[REPORT_TEXT_MAX - 4] = 'a';
	text[REPORT_TEXT_MAX - 6] = '|';
	report_add(&r, REPORT_WARNING, "smtp.banner", NULL, "%s", text);
	/* 6 left: the escape, then one more octet of the text */
	ck_assert_uint_eq(strlen(r.results[1].msg), REPORT_TEXT_MAX - 1);
	ck_assert_str_eq(r.results[1].msg + REPORT_TEXT_MAX - 6, "\\x7ca");
	report_deinit(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, reads_bind_address_port_state_and_inode_from_proc_net_tcp);
	tcase_add_test(tc, reads_postfix_milter_lists_and_marks_libmilter_syntax);
	tcase_add_test(tc, reads_sendmail_cf_filters_and_which_are_used);
	tcase_add_test(tc, reads_sendmail_mc_filters_and_which_are_used);
	tcase_add_test(tc, matches_the_mta_socket_to_the_milter_socket);
	tcase_add_test(tc, writes_a_socket_in_each_mtas_syntax);
	tcase_add_test(tc, finds_software_and_version_in_a_greeting);
	tcase_add_test(tc, names_the_debian_update_a_revision_carries);
	tcase_add_test(tc, parses_host_and_port_arguments);
	tcase_add_test(tc, reports_the_worst_state_first_with_perfdata);
	tcase_add_test(tc, an_empty_report_is_unknown_and_unknown_ranks_below_warning);
	tcase_add_test(tc, keeps_a_pipe_in_a_banner_out_of_the_perfdata);
	tcase_add_test(tc, cuts_a_pipe_escape_whole_or_not_at_all);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
