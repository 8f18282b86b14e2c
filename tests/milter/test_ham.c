/*
 * test_ham.c -- the false-positive gate
 *
 * Every message of the legitimate corpus ($SHARED_DIR/corpus/ham) goes
 * through the built daemon over the milter protocol, as Postfix would hand
 * it over (headers with their leading space, folded lines joined by "\n",
 * the body in CRLF lines and 64 KiB chunks; Bcc, Content-Length,
 * Resent-Bcc and Return-Path dropped as Postfix drops them), with a benign
 * envelope, under the shipped conf/milter-guard.conf.  Nothing may be
 * refused, tempfailed, discarded or quarantined.  The log-only findings
 * are counted by rule and printed, so tuning stays visible.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/mclient.h"
#include "mgd.h"
#include "../unit/tu.h"

#define BODY_CHUNK 65536

static struct mgd d;

static bool
dropped_by_postfix(const char *name, size_t len)
{
	static const char *const dropped[] = { "Bcc", "Content-Length", "Resent-Bcc", "Return-Path" };

	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strlen(dropped[i]) == len && strncasecmp(dropped[i], name, len) == 0)
			return true;
	return false;
}

/* Send one header field: name and value from the raw lines [s, e). */
static void
send_field(struct mclient *mc, const char *s, const char *e)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	char name[1024];
	char *value;
	size_t o = 0;
	struct mclient_reply r = { 0 };

	if (colon == NULL || (size_t)(colon - s) >= sizeof(name) ||
	    dropped_by_postfix(s, (size_t)(colon - s)))
		return;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	value = malloc((size_t)(e - colon) + 1);
	ck_assert_ptr_nonnull(value);
	for (const char *p = colon + 1; p < e; p++) {
		if (*p == '\r' && p + 1 < e && p[1] == '\n')
			continue;	/* folded lines are joined by "\n" */
		if (*p != '\0')
			value[o++] = *p;	/* a NUL cannot cross the protocol */
	}
	while (o > 0 && value[o - 1] == '\n')
		o--;
	value[o] = '\0';
	ck_assert_msg(mclient_header(mc, name, value, &r) == 0, "%s", mclient_error(mc));
	mclient_reply_clear(&r);
	free(value);
}

/* Headers, end of headers, body; returns the end-of-message reply. */
static void
send_message(struct mclient *mc, const char *msg, size_t len, struct mclient_reply *r)
{
	const char *p = msg, *end = msg + len, *field = NULL, *body;
	char *crlf;
	size_t o = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		bool blank = (next - p == 1) || (next - p == 2 && p[0] == '\r');

		if (blank) {
			if (field)
				send_field(mc, field, p);
			p = next;
			break;
		}
		if (p[0] != ' ' && p[0] != '\t') {
			if (field)
				send_field(mc, field, p);
			field = p;
		}
		p = next;
	}
	if (p >= end && field)
		send_field(mc, field, end);
	ck_assert_msg(mclient_eoh(mc, r) == 0, "%s", mclient_error(mc));
	if (r->cmd != 'c' && r->cmd != 'n')
		return;		/* refused at end of headers: the caller reports it */
	mclient_reply_clear(r);
	body = p;
	crlf = malloc(2 * (size_t)(end - body) + 2);
	ck_assert_ptr_nonnull(crlf);
	for (const char *q = body; q < end; q++) {
		if (*q == '\n' && (q == body || q[-1] != '\r'))
			crlf[o++] = '\r';
		crlf[o++] = *q;
	}
	for (size_t off = 0; off < o; off += BODY_CHUNK) {
		size_t n = o - off < BODY_CHUNK ? o - off : BODY_CHUNK;

		ck_assert_msg(mclient_body(mc, crlf + off, n, r) == 0, "%s", mclient_error(mc));
		mclient_reply_clear(r);
	}
	free(crlf);
	ck_assert_msg(mclient_eom(mc, r) == 0, "%s", mclient_error(mc));
}

START_TEST(no_legitimate_message_is_refused_or_quarantined)
{
	const char *shared = getenv("SHARED_DIR");
	char dir[4096], *config;
	DIR *dp;
	struct dirent *e;
	unsigned messages = 0, failures = 0, with_findings = 0;
	json_t *events, *ev, *rules = json_object();
	size_t i;
	const char *key;
	json_t *count;

	ck_assert_msg(shared != NULL, "SHARED_DIR is not set (run through make check)");
	snprintf(dir, sizeof(dir), "%s/corpus/ham", shared);
	dp = opendir(dir);
	ck_assert_msg(dp != NULL, "the ham corpus %s is missing", dir);
	config = mgd_shipped_config();
	mgd_start(&d, config);
	free(config);
	while ((e = readdir(dp)) != NULL) {
		char path[8192], qid[32];
		const char *macros[] = { "i", qid, NULL };
		const char *from[] = { "<sender@example.org>", "BODY=8BITMIME", NULL };
		const char *to[] = { "<recipient@example.net>", NULL };
		struct mclient_reply r = { 0 };
		struct mclient *mc;
		size_t len;
		char *msg;

		if (strstr(e->d_name, ".eml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		msg = tu_read(path, &len);
		snprintf(qid, sizeof(qid), "H%u", ++messages);
		mc = mgd_session(&d);
		ck_assert_int_eq(mclient_mail(mc, from, &r), 0);
		ck_assert_int_eq(r.cmd, 'c');
		ck_assert_int_eq(mclient_rcpt(mc, to, &r), 0);
		ck_assert_int_eq(r.cmd, 'c');
		ck_assert_int_eq(mclient_macros(mc, 'E', macros), 0);
		send_message(mc, msg, len, &r);
		if (r.cmd != 'c' && r.cmd != 'a') {
			fprintf(stderr, "ham: %s (%s): %s %s\n", e->d_name, qid,
				mclient_reply_name(r.cmd), r.text ? r.text : "");
			failures++;
		}
		for (size_t m = 0; m < r.nmods; m++) {
			if (r.mods[m].cmd == 'q') {
				fprintf(stderr, "ham: %s (%s): quarantined: %s\n", e->d_name,
					qid, r.mods[m].a);
				failures++;
			}
		}
		mclient_reply_clear(&r);
		mclient_quit(mc);
		mclient_close(&mc);
		free(msg);
	}
	closedir(dp);
	mgd_sleep_ms(100);
	events = mgd_events_since(&d, 1);
	json_array_foreach(events, i, ev) {
		json_t *f;
		size_t j;

		if (strcmp(mgd_str(ev, "type"), "decision") != 0)
			continue;
		with_findings++;
		if (strcmp(mgd_str(ev, "applied"), "log") != 0) {
			fprintf(stderr, "ham: %s: applied %s by %s\n", mgd_str(ev, "queue_id"),
				mgd_str(ev, "applied"), mgd_str(ev, "rule"));
			failures++;
		}
		json_array_foreach(json_object_get(ev, "findings"), j, f) {
			const char *rule = mgd_str(f, "rule");
			json_t *n = json_object_get(rules, rule);

			json_object_set_new(rules, rule, json_integer(n ? json_integer_value(n) + 1 : 1));
		}
	}
	printf("ham: %u messages, %u with log-only findings\n", messages, with_findings);
	json_object_foreach(rules, key, count)
		printf("ham:   %-36s %lld\n", key, (long long)json_integer_value(count));
	json_decref(rules);
	json_decref(events);
	mgd_kill(&d);
	ck_assert_uint_ge(messages, 500);
	ck_assert_uint_eq(failures, 0);
}
END_TEST

static Suite *
ham_suite(void)
{
	Suite *s = suite_create("ham");
	TCase *tc = tcase_create("corpus");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, no_legitimate_message_is_refused_or_quarantined);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(ham_suite());
}
