/*
 * test_policy.c -- from findings to a verdict, and the replies it gives
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "core/reply.h"
#include "tu.h"

static struct policy pol;

static void
setup(void)
{
	pol_init(&pol);
}

static void
add(struct finding_list *f, enum rule_id rule)
{
	ck_assert_ptr_nonnull(finding_add(f, rule, "sender", "x", 1, 0, 1,
					  RULE_NO_LIMIT, NULL));
}

START_TEST(no_finding_accepts)
{
	struct finding_list f;
	struct pol_verdict v;

	finding_list_init(&f);
	pol_decide(&pol, &f, &v);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	ck_assert(!v.has_rule);
	ck_assert_uint_eq(v.counted, 0);
}
END_TEST

START_TEST(the_strongest_action_wins_and_names_its_rule)
{
	struct finding_list f;
	struct pol_verdict v;

	finding_list_init(&f);
	add(&f, RULE_MAIL_LOCAL_PART_LENGTH);	/* log */
	add(&f, RULE_MAIL_INJECTION);		/* reject */
	add(&f, RULE_MAIL_SYNTAX);		/* log */
	pol_decide(&pol, &f, &v);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_int_eq(v.intended, ACTION_REJECT);
	ck_assert_int_eq(v.rule, RULE_MAIL_INJECTION);
	ck_assert_uint_eq(v.counted, 3);
}
END_TEST

START_TEST(global_monitor_mode_logs_what_it_would_have_done)
{
	struct finding_list f;
	struct pol_verdict v;

	pol.mode = MODE_MONITOR;
	finding_list_init(&f);
	add(&f, RULE_RCPT_INJECTION);
	pol_decide(&pol, &f, &v);
	ck_assert_int_eq(v.action, ACTION_LOG);
	ck_assert_int_eq(v.intended, ACTION_REJECT);
	ck_assert(!pol_is_immediate(v.action));
}
END_TEST

START_TEST(a_monitored_rule_does_not_hide_an_enforced_one)
{
	struct finding_list f;
	struct pol_verdict v;

	pol.rule[RULE_MAIL_INJECTION].monitor = true;
	pol.rule[RULE_MAIL_SYNTAX].action = ACTION_TAG;
	finding_list_init(&f);
	add(&f, RULE_MAIL_INJECTION);
	add(&f, RULE_MAIL_SYNTAX);
	pol_decide(&pol, &f, &v);
	ck_assert_int_eq(v.action, ACTION_TAG);
	ck_assert_int_eq(v.intended, ACTION_REJECT);
	ck_assert_int_eq(v.rule, RULE_MAIL_INJECTION);
}
END_TEST

START_TEST(a_rule_that_is_off_does_not_count)
{
	struct finding_list f;
	struct pol_verdict v;

	pol.rule[RULE_HELO_8BIT].action = ACTION_ACCEPT;
	finding_list_init(&f);
	add(&f, RULE_HELO_8BIT);
	pol_decide(&pol, &f, &v);
	ck_assert_uint_eq(v.counted, 0);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
}
END_TEST

/* Padding a command with harmless findings must not push the one that
   refuses it past the list's cap. */
START_TEST(a_finding_dropped_past_the_cap_still_counts)
{
	struct finding_list f;
	struct pol_verdict v;

	finding_list_init(&f);
	for (int i = 0; i < FINDING_LIST_MAX; i++)
		add(&f, RULE_MAIL_INVALID_UTF8);	/* log */
	ck_assert_ptr_null(finding_add(&f, RULE_MAIL_CONTROL, "param:X", "x", 1, 0, 1,
				       RULE_NO_LIMIT, NULL));
	ck_assert_uint_eq(f.dropped, 1);
	pol_decide(&pol, &f, &v);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_int_eq(v.rule, RULE_MAIL_CONTROL);
}
END_TEST

START_TEST(the_reply_names_the_rule_that_was_applied_not_a_monitored_one)
{
	struct finding_list f;
	struct pol_verdict v;

	pol.rule[RULE_MAIL_INJECTION].monitor = true;
	pol.rule[RULE_MAIL_SYNTAX].action = ACTION_TEMPFAIL;
	finding_list_init(&f);
	add(&f, RULE_MAIL_INJECTION);
	add(&f, RULE_MAIL_SYNTAX);
	pol_decide(&pol, &f, &v);
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	ck_assert_int_eq(v.applied_rule, RULE_MAIL_SYNTAX);
	ck_assert_int_eq(v.rule, RULE_MAIL_INJECTION);
}
END_TEST

START_TEST(only_reject_tempfail_and_discard_act_at_once)
{
	ck_assert(pol_is_immediate(ACTION_REJECT));
	ck_assert(pol_is_immediate(ACTION_TEMPFAIL));
	ck_assert(pol_is_immediate(ACTION_DISCARD));
	ck_assert(!pol_is_immediate(ACTION_QUARANTINE));
	ck_assert(!pol_is_immediate(ACTION_TAG));
	ck_assert(!pol_is_immediate(ACTION_LOG));
}
END_TEST

START_TEST(rejects_a_sender_with_553_5_1_7_naming_the_rule)
{
	struct reply r;

	ck_assert(rpl_build(&pol, ACTION_REJECT, STAGE_MAIL, true, RULE_MAIL_PATH_LENGTH, &r));
	ck_assert_str_eq(r.code, "553");
	ck_assert_str_eq(r.xcode, "5.1.7");
	ck_assert_str_eq(r.text, "sender address rejected by policy (mail.path_length)");
}
END_TEST

START_TEST(rejects_a_recipient_with_553_5_1_3)
{
	struct reply r;

	ck_assert(rpl_build(&pol, ACTION_REJECT, STAGE_RCPT, true, RULE_RCPT_INJECTION, &r));
	ck_assert_str_eq(r.code, "553");
	ck_assert_str_eq(r.xcode, "5.1.3");
	ck_assert_str_eq(r.text, "recipient address rejected by policy (rcpt.injection)");
}
END_TEST

START_TEST(rejects_bad_parameters_with_555_5_5_4)
{
	struct reply r;

	ck_assert(rpl_build(&pol, ACTION_REJECT, STAGE_MAIL, true, RULE_MAIL_PARAM_DUPLICATE, &r));
	ck_assert_str_eq(r.code, "555");
	ck_assert_str_eq(r.xcode, "5.5.4");
}
END_TEST

START_TEST(too_many_recipients_is_452_4_5_3)
{
	struct reply r;

	ck_assert(rpl_build(&pol, ACTION_TEMPFAIL, STAGE_RCPT, true, RULE_RCPT_COUNT, &r));
	ck_assert_str_eq(r.code, "452");
	ck_assert_str_eq(r.xcode, "4.5.3");
}
END_TEST

START_TEST(too_many_unknown_commands_is_421_so_postfix_honours_it)
{
	struct reply r;

	ck_assert(rpl_build(&pol, ACTION_TEMPFAIL, STAGE_UNKNOWN, true, RULE_UNKNOWN_COUNT, &r));
	ck_assert_str_eq(r.code, "421");
	ck_assert_str_eq(r.xcode, "4.7.0");
}
END_TEST

START_TEST(an_internal_error_is_451_4_3_0)
{
	struct reply r;

	ck_assert(rpl_build(&pol, ACTION_TEMPFAIL, STAGE_EOM, false, RULE_COUNT, &r));
	ck_assert_str_eq(r.code, "451");
	ck_assert_str_eq(r.xcode, "4.3.0");
	ck_assert_str_eq(r.text, "temporary local problem, try again later");
}
END_TEST

START_TEST(a_configured_text_names_the_rule_and_doubles_percent_signs)
{
	struct reply r;

	strcpy(pol.reject_text, "no (%r), 100%% sure");
	ck_assert(rpl_build(&pol, ACTION_REJECT, STAGE_RCPT, true, RULE_RCPT_CONTROL, &r));
	ck_assert_str_eq(r.code, "553");
	ck_assert_str_eq(r.text, "no (rcpt.control), 100%% sure");
}
END_TEST

START_TEST(log_tag_and_quarantine_send_no_reply)
{
	struct reply r;

	ck_assert(!rpl_build(&pol, ACTION_LOG, STAGE_MAIL, true, RULE_MAIL_SYNTAX, &r));
	ck_assert(!rpl_build(&pol, ACTION_TAG, STAGE_EOM, true, RULE_MAIL_SYNTAX, &r));
	ck_assert(!rpl_build(&pol, ACTION_QUARANTINE, STAGE_EOM, true, RULE_MAIL_SYNTAX, &r));
}
END_TEST

START_TEST(reply_texts_must_be_printable_ascii)
{
	const char *why;

	ck_assert(rpl_text_valid("ok (%r)", 7, &why));
	ck_assert(!rpl_text_valid("bad\r\n", 5, &why));
	ck_assert_str_eq(why, "reply text must be printable US-ASCII");
	ck_assert(!rpl_text_valid("50% off", 7, &why));
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("verdicts");
	TCase *tr = tcase_create("replies");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, no_finding_accepts);
	tcase_add_test(tc, the_strongest_action_wins_and_names_its_rule);
	tcase_add_test(tc, global_monitor_mode_logs_what_it_would_have_done);
	tcase_add_test(tc, a_monitored_rule_does_not_hide_an_enforced_one);
	tcase_add_test(tc, a_rule_that_is_off_does_not_count);
	tcase_add_test(tc, only_reject_tempfail_and_discard_act_at_once);
	tcase_add_test(tc, a_finding_dropped_past_the_cap_still_counts);
	tcase_add_test(tc, the_reply_names_the_rule_that_was_applied_not_a_monitored_one);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tr, setup, NULL);
	tcase_add_test(tr, rejects_a_sender_with_553_5_1_7_naming_the_rule);
	tcase_add_test(tr, rejects_a_recipient_with_553_5_1_3);
	tcase_add_test(tr, rejects_bad_parameters_with_555_5_5_4);
	tcase_add_test(tr, too_many_recipients_is_452_4_5_3);
	tcase_add_test(tr, too_many_unknown_commands_is_421_so_postfix_honours_it);
	tcase_add_test(tr, an_internal_error_is_451_4_3_0);
	tcase_add_test(tr, a_configured_text_names_the_rule_and_doubles_percent_signs);
	tcase_add_test(tr, log_tag_and_quarantine_send_no_reply);
	tcase_add_test(tr, reply_texts_must_be_printable_ascii);
	suite_add_tcase(s, tr);
	return s;
}

int
main(void)
{
	return tu_run(policy_suite());
}
