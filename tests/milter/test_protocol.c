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
#include "mgd.h"

static struct mgd d;

static void
start_daemon(void)
{
	mgd_start(&d, "");
}

static void
stop_daemon(void)
{
	mgd_kill(&d);
}

#define audit_lines() mgd_audit_lines(&d)
#define wait_lines(n) mgd_wait_lines(&d, n)
#define events_since(n) mgd_events_since(&d, n)
#define str(o, k) mgd_str(o, k)
#define session() mgd_session(&d)
#define sleep_ms(ms) mgd_sleep_ms(ms)

static bool
has_finding(json_t *ev, const char *rule)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(ev, "findings"), i, f)
		if (strcmp(str(f, "rule"), rule) == 0)
			return true;
	return false;
}

/* Reload with extra config lines; returns the reload or reload_failed
   event it wrote (other events may come in between: an abort written when
   a finished session closes). */
static json_t *
reload(const char *extra)
{
	size_t before = audit_lines();

	mgd_write_config(&d, extra);
	kill(d.pid, SIGHUP);
	for (int i = 0; i < 500; i++) {
		json_t *evs = events_since(before), *ev;
		size_t k;

		json_array_foreach(evs, k, ev) {
			if (strncmp(str(ev, "type"), "reload", 6) == 0) {
				json_incref(ev);
				json_decref(evs);
				return ev;
			}
		}
		json_decref(evs);
		sleep_ms(10);
	}
	ck_abort_msg("no reload event");
	return NULL;
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
	ck_assert_int_eq(mclient_header(mc, "Subject", " hello", &r), 0);
	ck_assert_int_eq(r.cmd, 0);	/* SMFIP_NR_HDR: no reply per header */
	ck_assert_int_eq(mclient_header(mc, "From", " alice@example.org", &r), 0);
	ck_assert_int_eq(mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", &r), 0);
	ck_assert_int_eq(mclient_eoh(mc, &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	ck_assert_int_eq(mclient_body(mc, "hi\r\n", 4, &r), 0);
	ck_assert_int_eq(r.cmd, 0);	/* SMFIP_NR_BODY */
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
	snprintf(msg, sizeof(msg), "%s:2: Rule mail.injection: action \"bogus\" is not one "
		 "of reject, tempfail, discard, quarantine, tag, log, off", d.conf);
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
	ck_assert_str_eq(r.mods[0].a, "milter-guard: rules=mail.local_part_length");
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
	ck_assert_str_eq(r.mods[0].b, "rules=mail.local_part_length");
	mclient_reply_clear(&r);
	finish(&mc);
	json_decref(reload(""));
}
END_TEST

/* A session whose MTA offers only the given actions (SMFIF_*). */
static struct mclient *
session_offering(unsigned long actions)
{
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	char cmd;
	struct mclient *mc = mgd_connect_offering(&d, actions, '4', "192.0.2.25", &on, &cmd);

	ck_assert_uint_eq(on.actions & ~actions, 0);
	ck_assert_int_eq(cmd, 'c');
	ck_assert_int_eq(mclient_helo(mc, "client.test.example", &r), 0);
	mclient_reply_clear(&r);
	return mc;
}

/* The one internal_error event since `before`: its error. */
static const char *
internal_error_since(size_t before, char *buf, size_t size)
{
	json_t *evs, *ev, *found = NULL;
	size_t k;

	wait_lines(before + 1);
	evs = events_since(before);
	json_array_foreach(evs, k, ev)
		if (strcmp(str(ev, "type"), "internal_error") == 0) {
			ck_assert_msg(found == NULL, "two internal_error events");
			found = ev;
		}
	ck_assert_msg(found != NULL, "no internal_error event");
	ck_assert_str_eq(str(found, "stage"), "eom");
	snprintf(buf, size, "%s %s", str(found, "action"), str(found, "error"));
	json_decref(evs);
	return buf;
}

static const struct {
	const char *name;
	const char *rule;		/* a config line */
	bool forged;			/* the sender sent an X-Milter-Guard */
	unsigned long actions;		/* what the MTA offers */
	const char *error;		/* the internal_error event's action and error */
} unmarked_cases[] = {
	{ "quarantine_not_offered", "Rule mail.local_part_length action=quarantine\n", false,
	  SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	  "tempfail the MTA refused the quarantine (smfi_quarantine)" },
	{ "tag_not_offered", "Rule mail.local_part_length action=tag\n", false,
	  SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	  "tempfail the MTA refused the tag header (smfi_addheader)" },
	{ "forged_tag_not_removable", "", true,
	  SMFIF_ADDHDRS | SMFIF_QUARANTINE,
	  "tempfail the MTA refused to remove a forged X-Milter-Guard header (smfi_chgheader)" },
	{ "quarantine_not_offered_on_internal_error_accept",
	  "Rule mail.local_part_length action=quarantine\nOnInternalError accept\n", false,
	  SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	  "accept the MTA refused the quarantine (smfi_quarantine)" },
};

/* A mark the MTA does not carry out is an internal error (OnInternalError,
   tempfail by default), never a silent delivery of what was to be held. */
START_TEST(a_mark_the_mta_refuses_applies_on_internal_error)
{
	struct mclient *mc;
	struct mclient_reply r = { 0 };
	char addr[100], got[200];
	size_t before;

	snprintf(addr, sizeof(addr), "<%065d@example.org>", 7);
	json_decref(reload(unmarked_cases[_i].rule));
	mc = session_offering(unmarked_cases[_i].actions);
	ck_assert_int_eq(mail(mc, unmarked_cases[_i].forged ? "<alice@example.org>" : addr,
			      NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	if (unmarked_cases[_i].forged) {
		ck_assert_int_eq(mclient_header(mc, "X-Milter-Guard", " rules=none", &r), 0);
		ck_assert_int_eq(mclient_eoh(mc, &r), 0);
		ck_assert_int_eq(r.cmd, 'c');
	}
	before = audit_lines();
	eom(mc, "U1", &r);
	ck_assert_uint_eq(r.nmods, 0);
	if (strncmp(unmarked_cases[_i].error, "accept", 6) == 0) {
		ck_assert_int_eq(r.cmd, 'a');
	} else {
		ck_assert_int_eq(r.cmd, 'y');
		ck_assert_str_eq(r.text, "451 4.3.0 temporary local problem, try again later");
	}
	ck_assert_str_eq(internal_error_since(before, got, sizeof(got)), unmarked_cases[_i].error);
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

/* RSET (abort) and several transactions on one connection: what the first
   message carried is reported with it and never reaches the next. */
START_TEST(nothing_leaks_from_one_message_to_the_next)
{
	size_t before = audit_lines();
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };
	json_t *evs, *ev;

	ck_assert_int_eq(mail(mc, "<alice@example.org>", NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	ck_assert_int_eq(mclient_header(mc, "From", " a@example.org, b@example.net", &r), 0);
	ck_assert_int_eq(mclient_header(mc, "Subject", " caf\xe9", &r), 0);
	ck_assert_int_eq(mclient_abort(mc), 0);	/* RSET mid-headers */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(mail(mc, "<carol@example.org>", NULL, NULL, 0), 'c');
		ck_assert_int_eq(rcpt(mc, "<dave@example.com>", NULL, 0), 'c');
		ck_assert_int_eq(mclient_header(mc, "From", " carol@example.org", &r), 0);
		ck_assert_int_eq(mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", &r), 0);
		ck_assert_int_eq(mclient_eoh(mc, &r), 0);
		ck_assert_int_eq(r.cmd, 'c');
		ck_assert_int_eq(mclient_body(mc, "hi\r\n", 4, &r), 0);
		eom(mc, "CLEAN", &r);
		ck_assert_int_eq(r.cmd, 'c');
		ck_assert_uint_eq(r.nmods, 0);
		mclient_reply_clear(&r);
	}
	finish(&mc);
	sleep_ms(50);
	evs = events_since(before);
	/* one event for the aborted message, with what its headers had, and
	   nothing for the two clean ones */
	ck_assert_uint_eq(json_array_size(evs), 1);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(ev, "stage"), "abort");
	ck_assert_str_eq(str(ev, "applied"), "log");
	ck_assert(has_finding(ev, "header.invalid_utf8"));
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "message")), 1);
	json_decref(evs);
}
END_TEST

/* HELO findings that wait (helo.8bit logs) are reported with the next
   message, or at close when no message comes. */
START_TEST(helo_findings_are_reported_with_the_message_or_at_close)
{
	struct mclient *mc;
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	const char *err;
	char spec[320];
	size_t before;
	json_t *evs;

	snprintf(spec, sizeof(spec), "unix:%s", d.sock);
	for (int with_message = 1; with_message >= 0; with_message--) {
		before = audit_lines();
		ck_assert_int_eq(mclient_open(spec, 5000, &mc, &err), 0);
		ck_assert_int_eq(mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
						MCLIENT_POSTFIX_PROTOCOL, &on), 0);
		ck_assert_int_eq(mclient_connect(mc, "c.example", '4', 1025, "192.0.2.9", &r), 0);
		ck_assert_int_eq(mclient_helo(mc, "caf\xc3\xa9.example", &r), 0);
		ck_assert_int_eq(r.cmd, 'c');
		if (with_message) {
			ck_assert_int_eq(mail(mc, "<a@example.org>", NULL, NULL, 0), 'c');
			ck_assert_int_eq(rcpt(mc, "<b@example.com>", NULL, 0), 'c');
			eom(mc, "HELO8", &r);
			ck_assert_int_eq(r.cmd, 'c');
			mclient_reply_clear(&r);
		}
		finish(&mc);
		wait_lines(before + 1);
		sleep_ms(50);
		evs = events_since(before);
		ck_assert_uint_eq(json_array_size(evs), 1);
		ck_assert_str_eq(str(json_array_get(evs, 0), "stage"), with_message ? "eom" : "close");
		ck_assert(has_finding(json_array_get(evs, 0), "helo.8bit"));
		json_decref(evs);
	}
}
END_TEST

/* A broken or hostile MTA that skips CONNECT gets the internal-error
   action, and the daemon lives on. */
START_TEST(a_peer_that_skips_connect_gets_a_tempfail_not_a_crash)
{
	struct mclient *mc;
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	const char *err, *argv[] = { "<alice@example.org>", NULL };
	char spec[320];

	snprintf(spec, sizeof(spec), "unix:%s", d.sock);
	ck_assert_int_eq(mclient_open(spec, 5000, &mc, &err), 0);
	ck_assert_int_eq(mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
					MCLIENT_POSTFIX_PROTOCOL, &on), 0);
	ck_assert_int_eq(mclient_helo(mc, "client.test.example", &r), 0);
	ck_assert_int_eq(r.cmd, 'y');
	ck_assert_str_eq(r.text, "451 4.3.0 temporary local problem, try again later");
	mclient_reply_clear(&r);
	mclient_close(&mc);
	ck_assert_int_eq(mclient_open(spec, 5000, &mc, &err), 0);
	ck_assert_int_eq(mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
					MCLIENT_POSTFIX_PROTOCOL, &on), 0);
	ck_assert_int_eq(mclient_mail(mc, argv, &r), 0);
	ck_assert_int_eq(r.cmd, 'y');
	mclient_reply_clear(&r);
	mclient_close(&mc);
	sleep_ms(50);
	ck_assert_int_eq(kill(d.pid, 0), 0);
	mc = session();
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'y');
	finish(&mc);
}
END_TEST

START_TEST(survives_a_storm_of_sighup)
{
	struct mclient *mc;

	for (int i = 0; i < 50; i++) {
		kill(d.pid, SIGHUP);
		if (i % 10 == 0)
			sleep_ms(5);
	}
	sleep_ms(200);
	ck_assert_int_eq(kill(d.pid, 0), 0);
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
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d.pid = 0;
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* Not a timing test: only that it does not sit in libmilter's poll. */
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
	ck_assert_int_ne(stat(d.pidfile, &st), 0);
	ck_assert_int_ne(stat(d.sock, &st), 0);
	evs = events_since(before);
	ck_assert_str_eq(str(json_array_get(evs, 0), "type"), "stop");
	ck_assert_str_eq(str(json_array_get(evs, 0), "reason"), "SIGTERM");
	json_decref(evs);
}
END_TEST

/* --- crafted headers ------------------------------------------------------- */

struct hcase {
	const char *name;
	void (*make)(char *buf, size_t size, const char **hname_r, unsigned *repeat_r);
	const char *stage;	/* where the decision falls: "eoh" or "eom" */
	const char *applied;
	const char *rule;	/* the deciding rule */
};

static void
fill(char *buf, size_t size, const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t o = (size_t)snprintf(buf, size, "%s", prefix);

	for (size_t i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s", unit);
	snprintf(buf + o, size - o, "%s", suffix);
}

static void
nested_angles(char *b, size_t n, const char **h, unsigned *rep)
{
	size_t o;

	*h = "To"; *rep = 1;
	fill(b, n, " ", "<>", 300, "");
	o = strlen(b);
	fill(b + o, n - o, "", "(", 300, "");
	o = strlen(b);
	fill(b + o, n - o, "", ")", 300, " <bob@example.com>");
}

static void
two_from_mailboxes(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "From"; *rep = 1;
	snprintf(b, n, " a@gmail.com, b@attacker.example");
}

static void
mailsploit(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "From"; *rep = 1;
	snprintf(b, n, " =?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?==?utf-8?Q?=00?="
		 "=?utf-8?b?cG90dXNAd2hpdGVob3VzZS5nb3Y=?=@mailsploit.com");
}

static void
long_line(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "X-Long"; *rep = 1;
	fill(b, n, " ", "x", 5000, "");
}

static void
huge_value(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "X-Huge"; *rep = 1;
	fill(b, n, " ", "0123456789abcdef\n ", 100 * 1024 / 18, "");
}

static void
many_fields(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "X-Many"; *rep = 2000;
	snprintf(b, n, " field");
}

static void
injected_bcc(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "Subject"; *rep = 1;
	snprintf(b, n, " hello\nBcc: victim@example.net");
}

static void
long_boundary(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "Content-Type"; *rep = 1;
	fill(b, n, " multipart/mixed; boundary=\"", "b", 200, "\"");
}

static void
rfc2231_flood(char *b, size_t n, const char **h, unsigned *rep)
{
	size_t o = (size_t)snprintf(b, n, " application/octet-stream");

	*h = "Content-Type"; *rep = 1;
	for (int i = 0; i < 500 && o < n; i++)
		o += (size_t)snprintf(b + o, n - o, ";\n name*%d=\"x\"", i);
}

static void
dkim_z_tag(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "DKIM-Signature"; *rep = 1;
	fill(b, n, " v=1; a=rsa-sha256; d=example.org; s=s1; z=", "A", 40 * 1024,
	     "; bh=AAAA; b=AAAA");
}

static void
many_auth_results(char *b, size_t n, const char **h, unsigned *rep)
{
	*h = "Authentication-Results"; *rep = 50;
	snprintf(b, n, " mx.example.org; spf=pass smtp.mailfrom=example.org");
}

static const struct hcase hcases[] = {
	{ "to_with_300_nested_angle_and_comment_pairs", nested_angles, "eoh", "reject",
	  "header.address_comment_depth" },
	{ "from_with_two_mailboxes_and_no_sender", two_from_mailboxes, "eom", "quarantine",
	  "header.from_multiple" },
	{ "mailsploit_from_decoding_to_nul", mailsploit, "eoh", "reject",
	  "header.encoded_word_control" },
	{ "header_line_of_5000_octets", long_line, "eoh", "reject", "header.line_length_hard" },
	{ "value_of_100_kib", huge_value, "eoh", "reject", "header.value_length" },
	{ "two_thousand_fields", many_fields, "eoh", "reject", "header.count" },
	{ "lf_injected_bcc_in_subject", injected_bcc, "eoh", "reject", "header.bare_lf" },
	{ "mime_boundary_of_200_characters", long_boundary, "eoh", "reject",
	  "mime.boundary_length_hard" },
	{ "five_hundred_rfc2231_continuations", rfc2231_flood, "eoh", "reject",
	  "mime.rfc2231_continuations" },
	{ "dkim_signature_with_40_kib_z_tag", dkim_z_tag, "eoh", "reject", "auth.tag_length" },
	{ "fifty_authentication_results", many_auth_results, "eom", "quarantine", "auth.count" },
};

/* A message with the ordinary fields plus the crafted one(s). */
static void
send_crafted(struct mclient *mc, const struct hcase *hc, struct mclient_reply *r)
{
	static char value[200 * 1024];
	const char *hname;
	unsigned repeat;
	const char *macros[] = { "i", "CRAFT1", NULL };

	hc->make(value, sizeof(value), &hname, &repeat);
	ck_assert_int_eq(mail(mc, "<alice@example.org>", NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	if (strcmp(hname, "From") != 0)
		ck_assert_int_eq(mclient_header(mc, "From", " Alice <alice@example.org>", r), 0);
	ck_assert_int_eq(mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", r), 0);
	for (unsigned i = 0; i < repeat; i++)
		ck_assert_msg(mclient_header(mc, hname, value, r) == 0, "%s", mclient_error(mc));
	ck_assert_int_eq(mclient_macros(mc, 'E', macros), 0);
	ck_assert_msg(mclient_eoh(mc, r) == 0, "%s", mclient_error(mc));
	if (r->cmd != 'c')
		return;		/* decided at end of headers */
	ck_assert_int_eq(mclient_body(mc, "hello\r\n", 7, r), 0);
	ck_assert_msg(mclient_eom(mc, r) == 0, "%s", mclient_error(mc));
}

START_TEST(refuses_or_quarantines_each_crafted_header_with_one_event)
{
	const struct hcase *hc = &hcases[_i];
	size_t before = audit_lines();
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };
	json_t *evs, *ev;

	send_crafted(mc, hc, &r);
	if (strcmp(hc->applied, "reject") == 0) {
		ck_assert_msg(r.cmd == 'y', "%s: got %s", hc->name, mclient_reply_name(r.cmd));
		ck_assert_msg(strncmp(r.text, "550 5.7.1 ", 10) == 0, "%s: %s", hc->name, r.text);
	} else {
		ck_assert_msg(r.cmd == 'c', "%s: got %s", hc->name, mclient_reply_name(r.cmd));
		ck_assert_msg(r.nmods >= 1 && r.mods[r.nmods - 1].cmd == 'q', "%s: not quarantined",
			      hc->name);
	}
	mclient_reply_clear(&r);
	if (strcmp(hc->stage, "eoh") == 0)
		mclient_abort(mc);
	finish(&mc);
	sleep_ms(50);
	evs = events_since(before);
	ck_assert_msg(json_array_size(evs) == 1, "%s: %zu events", hc->name, json_array_size(evs));
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(ev, "stage"), hc->stage);
	ck_assert_str_eq(str(ev, "applied"), hc->applied);
	ck_assert_msg(has_finding(ev, hc->rule), "%s: no %s finding (rule %s)", hc->name,
		      hc->rule, str(ev, "rule"));
	json_decref(evs);
}
END_TEST

START_TEST(tags_and_removes_the_tag_a_sender_forged)
{
	struct mclient *mc;
	struct mclient_reply r = { 0 };

	json_decref(reload("Rule header.singleton_repeated action=tag\n"));
	mc = session();
	ck_assert_int_eq(mail(mc, "<alice@example.org>", NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	ck_assert_int_eq(mclient_header(mc, "From", " alice@example.org", &r), 0);
	ck_assert_int_eq(mclient_header(mc, "X-Milter-Guard", " rules=none", &r), 0);
	ck_assert_int_eq(mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", &r), 0);
	ck_assert_int_eq(mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:01 +0000", &r), 0);
	ck_assert_int_eq(mclient_eoh(mc, &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	eom(mc, "TAG1", &r);
	ck_assert_int_eq(r.cmd, 'c');
	ck_assert_uint_eq(r.nmods, 2);
	ck_assert_int_eq(r.mods[0].cmd, 'm');	/* the forged one, deleted */
	ck_assert_str_eq(r.mods[0].a, "X-Milter-Guard");
	ck_assert_uint_eq(r.mods[0].index, 1);
	ck_assert_str_eq(r.mods[0].b ? r.mods[0].b : "", "");
	ck_assert_int_eq(r.mods[1].cmd, 'h');
	ck_assert_str_eq(r.mods[1].a, "X-Milter-Guard");
	ck_assert_str_eq(r.mods[1].b, "rules=header.singleton_repeated");
	mclient_reply_clear(&r);
	finish(&mc);
	json_decref(reload(""));
}
END_TEST

START_TEST(finds_smuggling_in_the_body_and_quarantines)
{
	struct mclient *mc = session();
	struct mclient_reply r = { 0 };
	static const char body[] = "hello\r\n.\r\nMAIL FROM:<admin@example.org>\r\n"
		"RCPT TO:<victim@example.net>\r\nDATA\r\n";

	ck_assert_int_eq(mail(mc, "<alice@example.org>", NULL, NULL, 0), 'c');
	ck_assert_int_eq(rcpt(mc, "<bob@example.com>", NULL, 0), 'c');
	ck_assert_int_eq(mclient_header(mc, "From", " alice@example.org", &r), 0);
	ck_assert_int_eq(mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", &r), 0);
	ck_assert_int_eq(mclient_eoh(mc, &r), 0);
	ck_assert_int_eq(mclient_body(mc, body, sizeof(body) - 1, &r), 0);
	eom(mc, "SMUG1", &r);
	ck_assert_int_eq(r.cmd, 'c');
	ck_assert_uint_eq(r.nmods, 1);
	ck_assert_int_eq(r.mods[0].cmd, 'q');
	ck_assert_str_eq(r.mods[0].a, "milter-guard: rules=body.smuggling");
	mclient_reply_clear(&r);
	finish(&mc);
}
END_TEST

/* --- GeoIP, exemptions and overrides ------------------------------------ */

static void
geo_config(const char *extra)
{
	char text[4096];
	const char *src = getenv("srcdir");

	snprintf(text, sizeof(text),
		 "GeoIPCountryDB %s/tests/data/geoip/GeoIP2-Country-Test.mmdb\n"
		 "GeoIPASNDB %s/tests/data/geoip/GeoLite2-ASN-Test.mmdb\n%s", src, src, extra);
	json_t *ev = reload(text);

	ck_assert_msg(strcmp(str(ev, "type"), "reload") == 0, "%s", str(ev, "error"));
	json_decref(ev);
}

/* The event of a refused MAIL from that client. */
static json_t *
refused_from(char family, const char *addr)
{
	size_t before = audit_lines();
	struct mclient *mc = mgd_session_from(&d, family, addr);
	json_t *evs, *ev;

	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'y');
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	ev = json_incref(json_object_get(json_array_get(evs, 0), "client"));
	json_decref(evs);
	return ev;
}

START_TEST(events_carry_country_and_asn_for_ipv4_ipv6_and_mapped_clients)
{
	json_t *client;

	geo_config("");
	client = refused_from('4', "81.2.69.160");
	ck_assert_str_eq(str(client, "country"), "GB");
	ck_assert_str_eq(str(client, "ip"), "81.2.69.160");
	json_decref(client);
	client = refused_from('6', "2001:218::");
	ck_assert_str_eq(str(client, "country"), "JP");
	json_decref(client);
	client = refused_from('6', "::ffff:81.2.69.160");
	ck_assert_str_eq(str(client, "country"), "GB");
	ck_assert_str_eq(str(client, "ip"), "81.2.69.160");
	json_decref(client);
	client = refused_from('4', "1.128.0.0");
	ck_assert_int_eq(json_integer_value(json_object_get(client, "asn")), 1221);
	ck_assert_str_eq(str(client, "as_org"), "Telstra Pty Ltd");
	json_decref(client);
	client = refused_from('4', "192.0.2.25");	/* in no database */
	ck_assert_ptr_null(json_object_get(client, "country"));
	json_decref(client);
	client = refused_from('U', "");	/* no address: Sendmail -bs */
	ck_assert_ptr_null(json_object_get(client, "ip"));
	ck_assert_ptr_null(json_object_get(client, "country"));
	json_decref(client);
	json_decref(reload(""));
}
END_TEST

START_TEST(a_trusted_network_and_an_authenticated_client_pass_what_others_cannot)
{
	struct mclient *mc;
	const char *auth[] = { "{auth_authen}", "alice", NULL };

	json_decref(reload("TrustedNetworks 203.0.113.0/24, 2001:db8::/32\n"
			   "ExemptAuthenticated yes\n"));
	mc = mgd_session_from(&d, '4', "203.0.113.5");
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'c');
	mclient_abort(mc);
	finish(&mc);
	mc = mgd_session_from(&d, '6', "2001:db8::25");
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'c');
	mclient_abort(mc);
	finish(&mc);
	mc = mgd_session_from(&d, '4', "198.51.100.7");
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'y');
	finish(&mc);
	mc = mgd_session_from(&d, '4', "198.51.100.7");
	ck_assert_int_eq(mclient_macros(mc, SMFIC_MAIL, auth), 0);
	ck_assert_int_eq(mail(mc, "<;sleep 66;>", NULL, NULL, 0), 'c');
	mclient_abort(mc);
	finish(&mc);
	json_decref(reload(""));
}
END_TEST

START_TEST(a_country_override_refuses_for_gb_only_and_says_so)
{
	char addr[100], text[512];
	struct mclient *mc;
	size_t before;
	json_t *evs, *ev;

	snprintf(addr, sizeof(addr), "<%065d@example.org>", 7);
	geo_config("Override country:GB mail.local_part_length action=reject\n");
	before = audit_lines();
	mc = mgd_session_from(&d, '4', "81.2.69.160");
	ck_assert_int_eq(mail(mc, addr, NULL, text, sizeof(text)), 'y');
	ck_assert_str_eq(text, "553 5.1.7 sender address rejected by policy (mail.local_part_length)");
	finish(&mc);
	wait_lines(before + 1);
	evs = events_since(before);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(str(json_object_get(ev, "client"), "country"), "GB");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(ev,
		"policy"), "overrides"), 0)), "country:GB mail.local_part_length action=reject");
	json_decref(evs);
	mc = mgd_session_from(&d, '4', "89.160.20.112");	/* SE: logged only */
	ck_assert_int_eq(mail(mc, addr, NULL, NULL, 0), 'c');
	mclient_abort(mc);
	finish(&mc);
	json_decref(reload(""));
}
END_TEST

START_TEST(a_corrupt_geoip_database_fails_the_reload_with_its_name)
{
	char text[1024], msg[1024];
	json_t *ev;

	snprintf(text, sizeof(text), "GeoIPCountryDB %s/tests/data/geoip/bad/"
		 "libmaxminddb-corrupt-search-tree.mmdb\n", getenv("srcdir"));
	ev = reload(text);
	ck_assert_str_eq(str(ev, "type"), "reload_failed");
	snprintf(msg, sizeof(msg), "%s: GeoIPCountryDB %s/tests/data/geoip/bad/"
		 "libmaxminddb-corrupt-search-tree.mmdb", d.conf, getenv("srcdir"));
	ck_assert_msg(strncmp(str(ev, "error"), msg, strlen(msg)) == 0, "%s", str(ev, "error"));
	json_decref(ev);
	json_decref(reload(""));
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
	tcase_add_loop_test(tc, a_mark_the_mta_refuses_applies_on_internal_error, 0,
			    sizeof(unmarked_cases) / sizeof(unmarked_cases[0]));
	tcase_add_test(tc, tempfails_recipients_past_the_limit_with_452);
	tcase_add_loop_test(tc, refuses_or_quarantines_each_crafted_header_with_one_event, 0,
			    (int)(sizeof(hcases) / sizeof(hcases[0])));
	tcase_add_test(tc, tags_and_removes_the_tag_a_sender_forged);
	tcase_add_test(tc, finds_smuggling_in_the_body_and_quarantines);
	tcase_add_test(tc, nothing_leaks_from_one_message_to_the_next);
	tcase_add_test(tc, events_carry_country_and_asn_for_ipv4_ipv6_and_mapped_clients);
	tcase_add_test(tc, a_trusted_network_and_an_authenticated_client_pass_what_others_cannot);
	tcase_add_test(tc, a_country_override_refuses_for_gb_only_and_says_so);
	tcase_add_test(tc, a_corrupt_geoip_database_fails_the_reload_with_its_name);
	tcase_add_test(tc, helo_findings_are_reported_with_the_message_or_at_close);
	tcase_add_test(tc, a_peer_that_skips_connect_gets_a_tempfail_not_a_crash);
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
