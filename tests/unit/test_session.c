/*
 * test_session.c -- the session engine: what is decided when, and reported
 * how
 *
 * Each test drives a session as libmilter's callbacks (or the replay) do,
 * with a hook that keeps the events, and checks the actions returned and
 * the events written: stage, verdict, and the rules of their findings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "tu.h"

#define EVENTS_MAX 8

struct seen {
	enum rule_stage stage;
	enum rule_action action;	/* applied */
	enum rule_action intended;
	char rules[256];		/* the findings' rules, comma-separated */
	bool trusted, authenticated;
	char line[4096];		/* the event as evt_decision() builds it */
};

static struct seen seen[EVENTS_MAX];
static size_t nseen;
static int emit_rc;		/* what the hook returns: -1 = the sink fails */
static struct cfg *cfg;
static struct sess s;

static int
keep_event(void *arg, const struct sess *ss, enum rule_stage stage,
	   const struct pol_verdict *v, const struct finding_list *f, const struct reply *r)
{
	struct seen *e = &seen[nseen < EVENTS_MAX ? nseen : EVENTS_MAX - 1];
	struct evt_context ctx;
	size_t o = 0;

	(void)arg;
	(void)r;
	nseen++;
	e->stage = stage;
	e->action = v->action;
	e->intended = v->intended;
	e->rules[0] = '\0';
	for (size_t i = 0; i < f->count; i++)
		o += (size_t)snprintf(e->rules + o, sizeof(e->rules) - o, "%s%s",
				      i ? "," : "", rule_table[f->items[i].rule].name);
	sess_event_context(ss, "test", &ctx);
	e->trusted = ctx.trusted;
	e->authenticated = ctx.authenticated;
	{
		struct evt_time t = { 1795000000, 0 };
		char *line = evt_decision(&t, &ctx, stage, sess_policy(ss), v, f, r);

		ck_assert_ptr_nonnull(line);
		snprintf(e->line, sizeof(e->line), "%s", line);
		free(line);
	}
	return emit_rc;
}

static const struct sess_ops hooks = { keep_event, NULL };

static void
start(const char *config_text, bool with_addr)
{
	struct cfg_error err;
	struct sess_peer peer = { "client.test.example", with_addr, { 0 }, 25, NULL, 0, NULL };
	char msg[600];

	peer.addr[10] = peer.addr[11] = 0xff;
	peer.addr[12] = 192, peer.addr[14] = 2, peer.addr[15] = 25;
	if (cfg_load(config_text, strlen(config_text), "test.conf", NULL, &cfg, &err) < 0) {
		cfg_error_format(&err, msg, sizeof(msg));
		ck_abort_msg("%s", msg);
	}
	nseen = 0;
	emit_rc = 0;
	sess_connect(&s, cfg, &hooks, NULL, "t.1", &peer);
}

static void
stop(void)
{
	sess_close(&s);
	cfg_free(&cfg);
}

static enum rule_action
helo(const char *h)
{
	struct sess_result r;

	sess_helo(&s, h, strlen(h), &r);
	return r.action;
}

static enum rule_action
mail(const char *path)
{
	struct env_arg a = { path, strlen(path) };
	struct sess_result r;

	sess_mail(&s, &a, 1, false, &r);
	return r.action;
}

static enum rule_action
rcpt(const char *path)
{
	struct env_arg a = { path, strlen(path) };
	struct sess_result r;

	sess_rcpt(&s, &a, 1, &r);
	return r.action;
}

static void
header(const char *name, const char *value)
{
	ck_assert_int_eq(sess_header(&s, name, strlen(name), value, strlen(value)), 0);
}

static const char good_from[] = " <a@example.org>";
static const char good_date[] = " Mon, 23 Nov 2026 10:00:00 +0000";

START_TEST(a_clean_message_writes_no_event)
{
	struct sess_result r;

	start("", true);
	ck_assert_int_eq(helo("client.test.example"), ACTION_ACCEPT);
	ck_assert_int_eq(mail("<a@example.org>"), ACTION_ACCEPT);
	ck_assert_int_eq(rcpt("<b@example.net>"), ACTION_ACCEPT);
	header("From", good_from);
	header("Date", good_date);
	ck_assert_int_eq(sess_eoh(&s, &r), 0);
	ck_assert_int_eq(r.action, ACTION_ACCEPT);
	sess_body(&s, "hello\r\n", 7);
	sess_eom(&s, &r);
	ck_assert_int_eq(r.action, ACTION_ACCEPT);
	stop();
	ck_assert_uint_eq(nseen, 0);
}
END_TEST

START_TEST(logged_helo_finding_waits_for_the_end_of_the_message)
{
	struct sess_result r;

	start("", true);
	ck_assert_int_eq(helo("h\xc3\xa9llo.example"), ACTION_ACCEPT);	/* helo.8bit: log */
	ck_assert_uint_eq(nseen, 0);
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	header("From", good_from);
	header("Date", good_date);
	sess_eoh(&s, &r);
	sess_eom(&s, &r);
	ck_assert_int_eq(r.action, ACTION_LOG);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].stage, STAGE_EOM);
	ck_assert_str_eq(seen[0].rules, "helo.8bit");
	stop();
	ck_assert_uint_eq(nseen, 1);	/* not again at close */
}
END_TEST

START_TEST(the_queue_id_reaches_the_event_escaped_once)
{
	struct sess_result r;

	start("", true);
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	sess_set_queue_id(&s, "4Xa\x01\xff\\B\0tail", 11);	/* cut at the NUL */
	header("Date", good_date);	/* no From: header.from_missing, logged */
	sess_eoh(&s, &r);
	sess_eom(&s, &r);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_msg(strstr(seen[0].line, "\"queue_id\":\"4Xa\\\\x01\\\\xff\\\\\\\\B\"") != NULL,
		      "%s", seen[0].line);
	stop();
}
END_TEST

START_TEST(logged_helo_finding_without_a_message_is_reported_at_close)
{
	start("", true);
	helo("h\xc3\xa9llo.example");
	stop();
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].stage, STAGE_CLOSE);
	ck_assert_str_eq(seen[0].rules, "helo.8bit");
}
END_TEST

START_TEST(refused_recipient_leaves_the_others_and_the_message)
{
	start("", true);
	mail("<a@example.org>");
	ck_assert_int_eq(rcpt("<b@example.net>"), ACTION_ACCEPT);
	ck_assert_int_eq(rcpt("<x@example.net;sleep${IFS}66;>"), ACTION_REJECT);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].stage, STAGE_RCPT);
	ck_assert_int_eq(rcpt("<c@example.net>"), ACTION_ACCEPT);
	ck_assert_uint_eq(s.msg.rcpts_accepted, 2);
	stop();
}
END_TEST

START_TEST(refusal_at_end_of_headers_carries_what_was_deferred)
{
	struct sess_result r;

	start("Rule header.name_charset action=reject\n", true);
	helo("h\xc3\xa9llo.example");
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	header("X-Bad Name", " x");
	ck_assert_uint_eq(nseen, 0);	/* headers are decided at their end */
	ck_assert_int_eq(sess_eoh(&s, &r), 0);
	ck_assert_int_eq(r.action, ACTION_REJECT);
	ck_assert(r.has_reply);
	ck_assert_str_eq(r.reply.code, "550");
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].stage, STAGE_EOH);
	ck_assert_str_eq(seen[0].rules, "helo.8bit,header.name_charset,header.from_missing,"
			 "header.date_missing");
	sess_abort(&s);
	stop();
	ck_assert_uint_eq(nseen, 1);
}
END_TEST

START_TEST(tag_names_the_rules_at_the_end_of_the_message)
{
	struct sess_result r;

	start("Rule header.date_missing action=tag\n", true);
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	header("From", good_from);
	header(HDR_TAG_NAME, " forged");
	sess_eoh(&s, &r);
	ck_assert_int_eq(r.action, ACTION_ACCEPT);
	ck_assert_uint_eq(sess_forged_tags(&s), 1);
	sess_eom(&s, &r);
	ck_assert_int_eq(r.action, ACTION_TAG);
	ck_assert_int_eq(r.mark, ACTION_TAG);
	ck_assert_str_eq(r.rules, "rules=header.date_missing");
	ck_assert(!r.has_reply);
	stop();
}
END_TEST

START_TEST(monitor_mode_logs_what_it_would_quarantine)
{
	struct sess_result r;

	start("Mode monitor\n", true);
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	header("From", good_from);
	header("From", good_from);
	header("Date", good_date);
	sess_eoh(&s, &r);
	sess_eom(&s, &r);
	ck_assert_int_eq(r.action, ACTION_LOG);
	ck_assert_int_eq(r.mark, ACTION_ACCEPT);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].intended, ACTION_QUARANTINE);
	ck_assert_int_eq(seen[0].action, ACTION_LOG);
	stop();
}
END_TEST

START_TEST(an_unfinished_message_is_reported_as_log_at_the_next_mail)
{
	struct sess_result r;

	start("", true);
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	header("From", good_from);
	header("From", good_from);	/* header.from_repeated: quarantine */
	sess_eoh(&s, &r);
	mail("<a@example.org>");	/* the MTA never ended the first */
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].stage, STAGE_ABORT);
	ck_assert_int_eq(seen[0].action, ACTION_LOG);
	ck_assert_int_eq(seen[0].intended, ACTION_QUARANTINE);
	ck_assert_uint_eq(s.msg.number, 2);
	stop();
}
END_TEST

START_TEST(trusted_client_is_exempted_and_events_say_so)
{
	start("TrustedNetworks 192.0.2.0/24\nTrustedExempt rcpt.*\n", true);
	helo("h\xc3\xa9llo.example");		/* helo.8bit is not exempted */
	mail("<a@example.org>");
	ck_assert_int_eq(rcpt("<x@example.net;sleep${IFS}66;>"), ACTION_ACCEPT);
	sess_abort(&s);
	stop();
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].stage, STAGE_CLOSE);
	ck_assert_str_eq(seen[0].rules, "helo.8bit");
	ck_assert(seen[0].trusted);
	ck_assert(!seen[0].authenticated);
}
END_TEST

START_TEST(authentication_learnt_at_mail_exempts_from_then_on)
{
	struct env_arg a = { "<a@example.org>", 15 };
	struct sess_result r;

	start("ExemptAuthenticated yes\nAuthenticatedExempt rcpt.injection\n", false);
	sess_mail(&s, &a, 1, true, &r);
	ck_assert_int_eq(rcpt("<x@example.net;sleep${IFS}66;>"), ACTION_ACCEPT);
	ck_assert(s.applied.authenticated);
	ck_assert_int_eq(rcpt("<y@example.net;sleep${IFS}66;>"), ACTION_ACCEPT);
	stop();
	ck_assert_uint_eq(nseen, 0);
}
END_TEST

START_TEST(failing_audit_sink_tempfails_when_configured_to)
{
	struct sess_result r;

	start("OnAuditFailure tempfail\n", true);
	mail("<a@example.org>");
	rcpt("<b@example.net>");
	header("From", good_from);
	sess_eoh(&s, &r);
	emit_rc = -1;
	sess_eom(&s, &r);	/* header.date_missing: log, but the event is lost */
	ck_assert_int_eq(r.action, ACTION_TEMPFAIL);
	ck_assert(r.has_reply);
	ck_assert_str_eq(r.reply.code, "451");
	stop();
}
END_TEST

static Suite *
session_suite(void)
{
	Suite *su = suite_create("session");
	TCase *tc = tcase_create("engine");

	tcase_add_test(tc, a_clean_message_writes_no_event);
	tcase_add_test(tc, logged_helo_finding_waits_for_the_end_of_the_message);
	tcase_add_test(tc, the_queue_id_reaches_the_event_escaped_once);
	tcase_add_test(tc, logged_helo_finding_without_a_message_is_reported_at_close);
	tcase_add_test(tc, refused_recipient_leaves_the_others_and_the_message);
	tcase_add_test(tc, refusal_at_end_of_headers_carries_what_was_deferred);
	tcase_add_test(tc, tag_names_the_rules_at_the_end_of_the_message);
	tcase_add_test(tc, monitor_mode_logs_what_it_would_quarantine);
	tcase_add_test(tc, an_unfinished_message_is_reported_as_log_at_the_next_mail);
	tcase_add_test(tc, trusted_client_is_exempted_and_events_say_so);
	tcase_add_test(tc, authentication_learnt_at_mail_exempts_from_then_on);
	tcase_add_test(tc, failing_audit_sink_tempfails_when_configured_to);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return tu_run(session_suite());
}
