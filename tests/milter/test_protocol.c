/*
 * test_protocol.c -- the built daemon, driven over its socket
 *
 * One milter-guard runs for the whole suite on a unix socket in a temporary
 * directory, with its audit log there; the cases speak the milter protocol
 * as Postfix does (src/client/mclient) and read back the JSON events the
 * daemon wrote.  Policy changes go through SIGHUP reloads, which are part
 * of what is tested.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/mclient.h"

#define TIMEOUT_MS 5000

static char dir[256], sock[300], conf[300], audit[300], pidfile[300];
static pid_t daemon_pid;

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
write_conf(const char *extra)
{
	FILE *f = fopen(conf, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "Socket unix:%s\nUMask 077\nAuditLog %s\n%s", sock, audit, extra);
	fclose(f);
}

static size_t
audit_lines(void)
{
	FILE *f = fopen(audit, "r");
	size_t n = 0;
	int c;

	if (f == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* The events written since line `from` (0-based), as a JSON array. */
static json_t *
events_since(size_t from)
{
	FILE *f = fopen(audit, "r");
	json_t *arr = json_array();
	char line[65536];
	size_t n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_error_t err;
		json_t *ev;

		if (n++ < from)
			continue;
		ev = json_loads(line, 0, &err);
		ck_assert_msg(ev != NULL, "audit line %zu is not JSON: %s", n, err.text);
		json_array_append_new(arr, ev);
	}
	fclose(f);
	return arr;
}

static const char *
str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : "(missing)";
}

/* Wait (bounded) until the log has at least n lines. */
static void
wait_lines(size_t n)
{
	for (int i = 0; i < 500 && audit_lines() < n; i++)
		sleep_ms(10);
	ck_assert_uint_ge(audit_lines(), n);
}

static void
start_daemon(void)
{
	const char *top = getenv("top_builddir");
	char prog[4096], errlog[300];
	struct stat st;

	ck_assert_msg(top != NULL, "top_builddir is not set (run through make check)");
	snprintf(dir, sizeof(dir), "/tmp/mg-protocol.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/mg.sock", dir);
	snprintf(conf, sizeof(conf), "%s/mg.conf", dir);
	snprintf(audit, sizeof(audit), "%s/audit.json", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/mg.pid", dir);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", dir);
	snprintf(prog, sizeof(prog), "%s/src/milter-guard", top);
	write_conf("");
	daemon_pid = fork();
	ck_assert_int_ge(daemon_pid, 0);
	if (daemon_pid == 0) {
		int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		execl(prog, prog, "-f", "-c", conf, "-P", pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && stat(sock, &st) < 0; i++)
		sleep_ms(10);
	ck_assert_msg(stat(sock, &st) == 0, "the daemon did not create %s", sock);
	wait_lines(1);
}

static void
stop_daemon(void)
{
	int status;

	if (daemon_pid <= 0)
		return;
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, &status, 0);
	daemon_pid = 0;
}

/* Reload with extra config lines; returns the event it wrote. */
static json_t *
reload(const char *extra)
{
	size_t before = audit_lines();
	json_t *evs, *ev;

	write_conf(extra);
	kill(daemon_pid, SIGHUP);
	wait_lines(before + 1);
	evs = events_since(before);
	ev = json_incref(json_array_get(evs, 0));
	json_decref(evs);
	return ev;
}

/* A client that has negotiated like Postfix 3.7 and sent CONNECT/HELO. */
static struct mclient *
session(void)
{
	struct mclient *mc;
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	const char *err;
	char spec[320];

	snprintf(spec, sizeof(spec), "unix:%s", sock);
	ck_assert_msg(mclient_open(spec, TIMEOUT_MS, &mc, &err) == 0, "%s", err);
	ck_assert_msg(mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
				     MCLIENT_POSTFIX_PROTOCOL, &on) == 0, "%s", mclient_error(mc));
	ck_assert_uint_eq(on.version, 6);
	ck_assert(on.actions & SMFIF_QUARANTINE);
	ck_assert(on.actions & SMFIF_ADDHDRS);
	ck_assert(on.protocol & SMFIP_NOBODY);
	ck_assert_int_eq(mclient_connect(mc, "client.test.example", '4', 50123,
					 "192.0.2.25", &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	ck_assert_int_eq(mclient_helo(mc, "client.test.example", &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	return mc;
}

/* MAIL or RCPT with at most one parameter; returns the reply letter and
   copies a reply text into text. */
static char
envelope(struct mclient *mc, bool is_mail, const char *addr, const char *param,
	 char *text, size_t size)
{
	const char *argv[] = { addr, param, NULL };
	struct mclient_reply r = { 0 };
	char cmd;

	ck_assert_msg((is_mail ? mclient_mail(mc, argv, &r) : mclient_rcpt(mc, argv, &r)) == 0,
		      "%s", mclient_error(mc));
	cmd = r.cmd;
	if (text != NULL)
		snprintf(text, size, "%s", r.text ? r.text : "");
	mclient_reply_clear(&r);
	return cmd;
}

#define mail(mc, addr, param, text, size) envelope(mc, true, addr, param, text, size)
#define rcpt(mc, addr, text, size) envelope(mc, false, addr, NULL, text, size)

/* End of message with a queue id; returns the reply (caller clears). */
static void
eom(struct mclient *mc, const char *queue_id, struct mclient_reply *r)
{
	const char *macros[] = { "i", queue_id, NULL };

	ck_assert_int_eq(mclient_macros(mc, SMFIC_BODYEOB, macros), 0);
	ck_assert_msg(mclient_eom(mc, r) == 0, "%s", mclient_error(mc));
}

static void
finish(struct mclient **mc)
{
	mclient_quit(*mc);
	mclient_close(mc);
}

START_TEST(accepts_a_normal_message_and_writes_no_decision)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };

	ck_assert_int_eq(mail(mc, "<alice@example.org>", "SIZE=1024", NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	ck_assert_int_eq(mclient_header(mc, "Subject", "hello", &r), 0);
	ck_assert_int_eq(r.cmd, 'n');	/* negotiated away: no header rule yet */
	eom(mc, "A1B2C3", &r);
	ck_assert_int_eq(r.cmd, 'c');
	ck_assert_uint_eq(r.nmods, 0);
	mclient_reply_clear(&r);
	finish(&mc);
	sleep_ms(50);
	ck_assert_uint_eq(audit_lines(), before);
}
END_TEST

START_TEST(passes_the_legitimate_envelopes)
{
	static const char *const senders[] = {
		"<>", "alice@example.org",
		"<bounce-debian-testing-security-announce=subscriber.example=example.org@lists.debian.org>",
		"<SRS0=HHH=TT=example.org=alice@forwarder.example>",
		"<prvs=0123456789=alice@example.org>", "<\"john smith\"@example.org>",
	};
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };

	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		ck_assert_msg(mail(mc, senders[i], "BODY=8BITMIME", NULL, 0) == 'c', "%s", senders[i]);
		ck_assert_int_eq(rcpt(mc, "<bob+tag@example.com>", NULL, 0), 'c');
		eom(mc, "Q1", &r);
		ck_assert_int_eq(r.cmd, 'c');
		mclient_reply_clear(&r);
	}
	ck_assert_int_eq(mail(mc, "<用户@例子.广告>", "SMTPUTF8", NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<θσερ@παράδειγμα.δοκιμή>", NULL, 0), 'c');
	mclient_abort(mc);
	finish(&mc);
}
END_TEST

START_TEST(rejects_at_mail_with_one_event_naming_the_rule)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	char text[512];
	json_t *evs, *ev, *f;

	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, text, sizeof(text)), 'y');
	ck_assert_str_eq(text, "553 5.1.7 sender address rejected by policy (mail.injection)");
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	ck_assert_uint_eq(json_array_size(evs), 1);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(ev, "type"), "decision");
	ck_assert_str_eq(str(ev, "stage"), "mail");
	ck_assert_str_eq(str(ev, "action"), "reject");
	ck_assert_str_eq(str(ev, "rule"), "mail.injection");
	ck_assert_str_eq(str(ev, "sender"), "<;sleep 66;>");
	ck_assert_str_eq(str(json_object_get(ev, "client"), "ip"), "192.0.2.25");
	ck_assert_str_eq(str(json_object_get(ev, "reply"), "code"), "553");
	f = json_array_get(json_object_get(ev, "findings"), 1);
	ck_assert_str_eq(str(f, "rule"), "mail.injection");
	ck_assert_str_eq(str(f, "sha256"),
			 "f3d369ece85ff57ad95dd6aea5a9129e80242069c94ee435dff4c3d9388290d4");
	json_decref(evs);
}
END_TEST

START_TEST(rejects_a_300_octet_path_with_length_and_limit)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	char addr[400], text[512];
	json_t *evs, *f;

	memset(addr, 'a', sizeof(addr));
	addr[0] = '<';
	memcpy(addr + 286, "@example.org>", 14);	/* 299 octets + NUL: path 300 with... */
	ck_assert_uint_eq(strlen(addr), 299);
	ck_assert_int_eq(mail(mc, addr, NULL, text, sizeof(text)), 'y');
	ck_assert_str_eq(text, "553 5.1.7 sender address rejected by policy (mail.path_length)");
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	f = json_array_get(json_object_get(json_array_get(evs, 0), "findings"), 0);
	ck_assert_str_eq(str(f, "rule"), "mail.path_length");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "length")), 299);
	ck_assert_int_eq(json_integer_value(json_object_get(f, "limit")), 256);
	json_decref(evs);
}
END_TEST

START_TEST(rejects_only_the_bad_recipient_among_good_ones)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };
	char text[512];
	json_t *evs, *ev;

	ck_assert_int_eq(mail(mc, "<alice@example.org>", NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<${run{/bin/sh -c id}}@localhost>", text, sizeof(text)), 'y');
	ck_assert_str_eq(text, "553 5.1.3 recipient address rejected by policy (rcpt.injection)");
	ck_assert_int_eq(rcpt(mc, "<carol@example.com>", NULL, 0), 'c');
	eom(mc, "4F2A9C0", &r);
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	finish(&mc);
	wait_lines(before + 1);
	sleep_ms(50);
	evs = events_since(before);
	ck_assert_uint_eq(json_array_size(evs), 1);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(ev, "stage"), "rcpt");
	ck_assert_str_eq(str(ev, "rule"), "rcpt.injection");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "recipients")), 1);
	json_decref(evs);
}
END_TEST

START_TEST(logs_a_65_octet_local_part_at_end_of_message_with_the_queue_id)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };
	char addr[100];
	json_t *evs, *ev;

	snprintf(addr, sizeof(addr), "<%065d@example.org>", 7);
	ck_assert_int_eq(mail(mc, addr, NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	eom(mc, "5D1E2F3", &r);
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(ev, "stage"), "eom");
	ck_assert_str_eq(str(ev, "action"), "log");
	ck_assert_str_eq(str(ev, "rule"), "mail.local_part_length");
	ck_assert_str_eq(str(ev, "queue_id"), "5D1E2F3");
	ck_assert_ptr_null(json_object_get(ev, "reply"));
	json_decref(evs);
}
END_TEST

START_TEST(tempfails_unknown_commands_past_the_limit_with_421)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };
	json_t *evs;

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(mclient_unknown(mc, "XPROBE 1", &r), 0);
		ck_assert_int_eq(r.cmd, 'c');
	}
	ck_assert_int_eq(mclient_unknown(mc, "XPROBE \x1b[2J", &r), 0);
	ck_assert_int_eq(r.cmd, 'y');
	ck_assert_str_eq(r.text, "421 4.7.0 too many unknown commands, closing connection (unknown.count)");
	mclient_reply_clear(&r);
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	ck_assert_str_eq(str(json_array_get(json_object_get(json_array_get(evs, 0), "findings"), 0),
			     "sample"), "XPROBE \\x1b[2J");
	json_decref(evs);
}
END_TEST

START_TEST(monitor_mode_acts_on_nothing_and_records_what_it_would_do)
{
	json_t *ev = reload("Mode monitor\n");
	struct mclient *mc;
	struct mclient_reply r = { 0 };
	size_t before;
	json_t *evs;

	ck_assert_str_eq(str(ev, "type"), "reload");
	ck_assert_str_eq(str(ev, "mode"), "monitor");
	json_decref(ev);
	before = audit_lines();
	mc = session();
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<${run{/bin/sh -c id}}@localhost>", NULL, 0), 'c');
	eom(mc, "M0N1", &r);
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(ev, "mode"), "monitor");
	ck_assert_str_eq(str(ev, "action"), "reject");
	ck_assert_str_eq(str(ev, "applied"), "log");
	ck_assert_ptr_null(json_object_get(ev, "reply"));
	json_decref(evs);
	json_decref(reload(""));
}
END_TEST

START_TEST(a_broken_reload_keeps_the_running_policy_and_says_where)
{
	json_t *ev = reload("Mode monitor\n");
	struct mclient *mc;
	char msg[512];

	json_decref(ev);
	ev = reload("Mode enforce\nRule mail.injection action=bogus\n");
	ck_assert_str_eq(str(ev, "type"), "reload_failed");
	snprintf(msg, sizeof(msg), "%s:5: Rule mail.injection: action \"bogus\" is not one "
		 "of reject, tempfail, discard, quarantine, tag, log, off", conf);
	ck_assert_str_eq(str(ev, "error"), msg);
	json_decref(ev);
	mc = session();		/* still monitor mode: nothing refused */
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'c');
	mclient_abort(mc);
	finish(&mc);
	json_decref(reload(""));
	mc = session();		/* and enforce again after a good reload */
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'y');
	finish(&mc);
}
END_TEST

START_TEST(quarantines_and_tags_at_end_of_message)
{
	struct mclient *mc;
	struct mclient_reply r = { 0 };
	char addr[100];

	snprintf(addr, sizeof(addr), "<%065d@example.org>", 7);
	json_decref(reload("Rule mail.local_part_length action=quarantine\n"));
	mc = session();
	ck_assert_int_eq(mail(mc, addr, NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	eom(mc, "Q1", &r);
	ck_assert_int_eq(r.cmd, 'c');
	ck_assert_uint_eq(r.nmods, 1);
	ck_assert_int_eq(r.mods[0].cmd, 'q');
	ck_assert_str_eq(r.mods[0].a, "milter-guard: mail.local_part_length");
	mclient_reply_clear(&r);
	finish(&mc);
	json_decref(reload("Rule mail.local_part_length action=tag\n"));
	mc = session();
	ck_assert_int_eq(mail(mc, addr, NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	eom(mc, "T1", &r);
	ck_assert_uint_eq(r.nmods, 1);
	ck_assert_int_eq(r.mods[0].cmd, 'h');
	ck_assert_str_eq(r.mods[0].a, "X-Milter-Guard");
	ck_assert_str_eq(r.mods[0].b, "mail.local_part_length");
	mclient_reply_clear(&r);
	finish(&mc);
	json_decref(reload(""));
}
END_TEST

START_TEST(tempfails_recipients_past_the_limit_with_452)
{
	struct mclient *mc;
	char text[512], addr[64];

	json_decref(reload("Rule rcpt.count limit=100\n"));
	mc = session();
	ck_assert_int_eq(mail(mc, "<list@example.org>", NULL, NULL, 0), 'c');
	for (int i = 1; i <= 100; i++) {
		snprintf(addr, sizeof(addr), "<member%d@example.com>", i);
		ck_assert_int_eq(rcpt(mc, addr, NULL, 0), 'c');
	}
	ck_assert_int_eq(rcpt(mc, "<member101@example.com>", text, sizeof(text)), 'y');
	ck_assert_str_eq(text, "452 4.5.3 too many recipients, send the rest later (rcpt.count)");
	mclient_abort(mc);
	finish(&mc);
	json_decref(reload(""));
}
END_TEST

START_TEST(survives_a_storm_of_sighup)
{
	struct mclient *mc;

	for (int i = 0; i < 50; i++) {
		kill(daemon_pid, SIGHUP);
		if (i % 10 == 0)
			sleep_ms(5);
	}
	sleep_ms(200);
	ck_assert_int_eq(kill(daemon_pid, 0), 0);
	mc = session();
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'y');
	finish(&mc);
}
END_TEST

START_TEST(stops_cleanly_on_sigterm)
{
	struct timespec t0, t1;
	struct stat st;
	int status;
	size_t before = audit_lines();
	json_t *evs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(daemon_pid, SIGTERM);
	ck_assert_int_eq(waitpid(daemon_pid, &status, 0), daemon_pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	daemon_pid = 0;
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* Not a timing test: only that it does not sit in libmilter's poll. */
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
	ck_assert_int_ne(stat(pidfile, &st), 0);
	ck_assert_int_ne(stat(sock, &st), 0);
	evs = events_since(before);
	ck_assert_str_eq(str(json_array_get(evs, 0), "type"), "stop");
	ck_assert_str_eq(str(json_array_get(evs, 0), "reason"), "SIGTERM");
	json_decref(evs);
}
END_TEST

static Suite *
protocol_suite(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc = tcase_create("daemon");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_daemon, stop_daemon);
	tcase_add_test(tc, accepts_a_normal_message_and_writes_no_decision);
	tcase_add_test(tc, passes_the_legitimate_envelopes);
	tcase_add_test(tc, rejects_at_mail_with_one_event_naming_the_rule);
	tcase_add_test(tc, rejects_a_300_octet_path_with_length_and_limit);
	tcase_add_test(tc, rejects_only_the_bad_recipient_among_good_ones);
	tcase_add_test(tc, logs_a_65_octet_local_part_at_end_of_message_with_the_queue_id);
	tcase_add_test(tc, tempfails_unknown_commands_past_the_limit_with_421);
	tcase_add_test(tc, monitor_mode_acts_on_nothing_and_records_what_it_would_do);
	tcase_add_test(tc, a_broken_reload_keeps_the_running_policy_and_says_where);
	tcase_add_test(tc, quarantines_and_tags_at_end_of_message);
	tcase_add_test(tc, tempfails_recipients_past_the_limit_with_452);
	tcase_add_test(tc, survives_a_storm_of_sighup);
	tcase_add_test(tc, stops_cleanly_on_sigterm);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(protocol_suite());
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);	/* one daemon, shared by the cases */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	stop_daemon();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
