/*
 * test_agree.c -- the daemon and milter-guard-replay agree, message by
 * message
 *
 * Every ham message ($SHARED_DIR/corpus/ham) and every attack case of
 * tests/data/envelope/cases.tsv and tests/data/headers/cases.tsv is played
 * twice by the same MTA code (rp_play(), or the same calls for a header
 * case): once into the built daemon over the milter protocol, once into
 * the replay's session engine, both under the shipped config.  The two
 * must give the same verdict at the same stage (reply, tag, quarantine)
 * and write the same decision events (stage, action, applied, rule, the
 * findings' rules and fields, the dropped count).
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mclient.h"
#include "core/hdr.h"
#include "replay/rp.h"
#include "../milter/mgd.h"
#include "../unit/tu.h"

static struct mgd d;
static struct cfg *shipped;

/* What the daemon did with a message, in the replay's terms. */
struct dmta {
	struct mclient *mc;
	enum rule_action action;
	enum rule_stage stage;
};

static enum rule_action
reply_action(const struct mclient_reply *r)
{
	switch (r->cmd) {
	case 'r': return ACTION_REJECT;
	case 't': return ACTION_TEMPFAIL;
	case 'd': return ACTION_DISCARD;
	case 'y': return r->text && r->text[0] == '5' ? ACTION_REJECT : ACTION_TEMPFAIL;
	default: return ACTION_ACCEPT;
	}
}

static int
refused(struct dmta *dm, struct mclient_reply *r, int rc, enum rule_stage stage)
{
	enum rule_action a;

	ck_assert_msg(rc == 0, "%s", mclient_error(dm->mc));
	a = reply_action(r);
	mclient_reply_clear(r);
	if (a == ACTION_ACCEPT)
		return 1;
	dm->action = a;
	dm->stage = stage;
	return 0;
}

static const char **
argv_of(const struct env_arg *args, size_t n, const char **argv)
{
	for (size_t i = 0; i < n; i++)
		argv[i] = args[i].s;	/* NUL-terminated: the envelope's strings */
	argv[n] = NULL;
	return argv;
}

static int
d_helo(void *arg, const char *helo, size_t len)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };

	(void)len;
	return refused(dm, &r, mclient_helo(dm->mc, helo, &r), STAGE_HELO);
}

static int
d_mail(void *arg, const struct env_arg *args, size_t n)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };
	const char *argv[16];

	return refused(dm, &r, mclient_mail(dm->mc, argv_of(args, n, argv), &r), STAGE_MAIL);
}

static int
d_rcpt(void *arg, const struct env_arg *args, size_t n)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };
	const char *argv[16];

	return refused(dm, &r, mclient_rcpt(dm->mc, argv_of(args, n, argv), &r), STAGE_RCPT);
}

static int
d_header(void *arg, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };
	char *n = strndup(name, name_len), *v = strndup(value, value_len);

	ck_assert_msg(mclient_header(dm->mc, n, v, &r) == 0, "%s", mclient_error(dm->mc));
	mclient_reply_clear(&r);
	free(n);
	free(v);
	return 0;
}

static int
d_eoh(void *arg)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };

	return refused(dm, &r, mclient_eoh(dm->mc, &r), STAGE_EOH);
}

static void
d_body(void *arg, const char *chunk, size_t len)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };

	ck_assert_msg(mclient_body(dm->mc, chunk, len, &r) == 0, "%s", mclient_error(dm->mc));
	mclient_reply_clear(&r);
}

static void
d_eom(void *arg)
{
	struct dmta *dm = arg;
	struct mclient_reply r = { 0 };

	ck_assert_msg(mclient_eom(dm->mc, &r) == 0, "%s", mclient_error(dm->mc));
	dm->action = reply_action(&r);
	dm->stage = STAGE_EOM;
	for (size_t m = 0; m < r.nmods && dm->action == ACTION_ACCEPT; m++) {
		if (r.mods[m].cmd == 'q')
			dm->action = ACTION_QUARANTINE;
		else if (r.mods[m].cmd == 'h' && strcmp(r.mods[m].a, HDR_TAG_NAME) == 0)
			dm->action = ACTION_TAG;
	}
	mclient_reply_clear(&r);
}

static void
d_abort(void *arg)
{
	struct dmta *dm = arg;

	ck_assert_int_eq(mclient_abort(dm->mc), 0);
}

static const struct rp_mta daemon_mta = {
	d_helo, d_mail, d_rcpt, d_header, d_eoh, d_body, d_eom, d_abort,
};

/* One event as the comparison sees it: what was decided and found. */
static void
event_key(json_t *ev, char *out, size_t size)
{
	size_t o = 0, i;
	json_t *f;

	o += (size_t)snprintf(out + o, size - o, "%s %s/%s rule=%s dropped=%lld:",
			      mgd_str(ev, "stage"), mgd_str(ev, "action"),
			      mgd_str(ev, "applied"),
			      json_string_value(json_object_get(ev, "rule")) ?
			      json_string_value(json_object_get(ev, "rule")) : "-",
			      (long long)json_integer_value(json_object_get(ev, "findings_dropped")));
	json_array_foreach(json_object_get(ev, "findings"), i, f)
		if (o < size)
			o += (size_t)snprintf(out + o, size - o, " %s@%s", mgd_str(f, "rule"),
					      mgd_str(f, "field"));
}

static void
events_key(json_t *events, char *out, size_t size)
{
	size_t i, o = 0;
	json_t *ev;

	out[0] = '\0';
	json_array_foreach(events, i, ev) {
		if (strcmp(mgd_str(ev, "type"), "decision") != 0)
			continue;
		event_key(ev, out + o, size - o);
		o = strlen(out);
		if (o + 1 < size)
			out[o++] = '\n', out[o] = '\0';
	}
}

/* The replay's events, from its JSON lines. */
static json_t *
replay_events(const char *text)
{
	json_t *arr = json_array();
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		json_error_t err;
		json_t *ev = json_loadb(p, (size_t)(nl - p), 0, &err);

		ck_assert_msg(ev != NULL, "replay event is not JSON: %s", err.text);
		json_array_append_new(arr, ev);
		p = nl + 1;
	}
	return arr;
}

/* A header case: one field, the message ends there. */
struct one_field {
	const char *name, *value;
	size_t name_len, value_len;
};

static int
play_field(const struct rp_envelope *env, const struct one_field *f,
	   const struct rp_mta *mta, void *arg)
{
	struct env_arg args[2] = { { env->from, strlen(env->from) } };
	struct env_arg rcpt[2] = { { env->rcpt[0], strlen(env->rcpt[0]) } };
	char value[4096];
	size_t n = 0;

	if (mta->helo(arg, env->helo, strlen(env->helo)) <= 0 || mta->mail(arg, args, 1) <= 0 ||
	    mta->rcpt(arg, rcpt, 1) <= 0)
		return 0;
	for (size_t i = 0; i < f->value_len && n < sizeof(value); i++)
		if (f->value[i] != '\0')	/* a NUL cannot cross the protocol */
			value[n++] = f->value[i];
	mta->header(arg, f->name, strnlen(f->name, f->name_len), value, n);
	if (mta->eoh(arg) <= 0) {
		mta->abort(arg);
		return 0;
	}
	mta->body(arg, "hello\r\n", 7);
	mta->eom(arg);
	return 1;
}

static unsigned disagreements;
static size_t lines_expected;	/* audit lines once the last message is in */

/* No event came after the last message's. */
static void
no_late_events(void)
{
	mgd_sleep_ms(100);
	ck_assert_uint_eq(mgd_audit_lines(&d), lines_expected);
}

/* Play one message (msg) or one header field (f) both ways and compare. */
static void
agree(const char *id, const struct rp_envelope *env, const char *msg, size_t len,
      const struct one_field *f)
{
	static struct rp_runner rn;
	static struct rp_result res;
	static struct rp_buf buf;
	static char dkey[1 << 16], rkey[1 << 16];
	struct dmta dm = { NULL, ACTION_ACCEPT, STAGE_EOM };
	size_t before = mgd_audit_lines(&d), size;
	char *text;
	json_t *devents, *revents;
	enum rule_action ra;

	rp_runner_init(&rn, shipped, RP_VIEW_POSTFIX);
	rn.buf = buf;
	rn.json = open_memstream(&text, &size);
	rp_begin(&rn, env, id, &res);
	if (f != NULL)
		play_field(env, f, &rp_engine, &rn);
	else
		ck_assert_int_ge(rp_play(env, msg, len, RP_VIEW_POSTFIX, &rp_engine, &rn, &rn.buf), 0);
	rp_end(&rn);
	fclose(rn.json);
	buf = rn.buf;

	dm.mc = mgd_session_connected(&d, '4', "192.0.2.25");
	if (f != NULL)
		play_field(env, f, &daemon_mta, &dm);
	else
		ck_assert_int_ge(rp_play(env, msg, len, RP_VIEW_POSTFIX, &daemon_mta, &dm, &buf), 0);
	mclient_quit(dm.mc);
	mclient_close(&dm.mc);
	lines_expected = before + res.events;
	mgd_wait_lines(&d, lines_expected);

	devents = mgd_events_since(&d, before);
	revents = replay_events(text);
	events_key(devents, dkey, sizeof(dkey));
	events_key(revents, rkey, sizeof(rkey));
	ra = res.action == ACTION_LOG ? ACTION_ACCEPT : res.action;
	if (ra != dm.action || (ra != ACTION_ACCEPT && res.stage != dm.stage) ||
	    strcmp(dkey, rkey) != 0) {
		fprintf(stderr, "agree: %s: daemon %s at %s, replay %s at %s\n"
			"  daemon events:\n%s  replay events:\n%s", id,
			rule_action_name(dm.action), rule_stage_name(dm.stage),
			rule_action_name(res.action), rule_stage_name(res.stage), dkey, rkey);
		disagreements++;
	}
	json_decref(devents);
	json_decref(revents);
	free(text);
}

static struct rp_envelope
benign_envelope(void)
{
	struct rp_envelope env;

	memset(&env, 0, sizeof(env));
	env.helo = "client.test.example";
	env.client_name = "client.test.example";
	env.has_addr = true;
	env.addr[10] = env.addr[11] = 0xff;
	env.addr[12] = 192, env.addr[13] = 0, env.addr[14] = 2, env.addr[15] = 25;
	env.from = "<sender@example.org>";
	env.mail_params[0] = "BODY=8BITMIME";
	env.rcpt[0] = "<recipient@example.net>";
	env.nrcpt = 1;
	return env;
}

static void
setup(void)
{
	char path[4096], *config = mgd_shipped_config();

	snprintf(path, sizeof(path), "%s/conf/milter-guard.conf", getenv("srcdir"));
	shipped = tu_load_config(path);
	mgd_start(&d, config);
	free(config);
	disagreements = 0;
}

static void
teardown(void)
{
	mgd_kill(&d);
	cfg_free(&shipped);
}

START_TEST(daemon_and_replay_agree_on_every_ham_message)
{
	const char *shared = getenv("SHARED_DIR");
	char dir[4096];
	struct rp_envelope env = benign_envelope();
	unsigned messages = 0;
	DIR *dp;
	struct dirent *e;

	ck_assert_msg(shared != NULL, "SHARED_DIR is not set (run through make check)");
	snprintf(dir, sizeof(dir), "%s/corpus/ham", shared);
	ck_assert_msg((dp = opendir(dir)) != NULL, "the ham corpus %s is missing", dir);
	while ((e = readdir(dp)) != NULL) {
		char path[8192];
		size_t len;
		char *msg;

		if (strstr(e->d_name, ".eml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		msg = tu_read(path, &len);
		agree(e->d_name, &env, msg, len, NULL);
		messages++;
		free(msg);
	}
	closedir(dp);
	no_late_events();
	printf("agree: %u ham messages, %u disagreements\n", messages, disagreements);
	ck_assert_uint_ge(messages, 500);
	ck_assert_uint_eq(disagreements, 0);
}
END_TEST

static const char envelope_msg[] = "From: <sender@example.org>\r\n"
	"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nSubject: case\r\n\r\nhello\r\n";

START_TEST(daemon_and_replay_agree_on_every_envelope_case)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("envelope/cases.tsv"), &cases);

	for (size_t i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];
		const char *stage = c->col[1].s;
		struct rp_envelope env = benign_envelope();
		size_t nargs = c->ncols - 4;

		ck_assert_uint_ge(nargs, 1);
		if (strcmp(stage, "helo") == 0) {
			env.helo = c->col[4].s;
		} else if (strcmp(stage, "mail") == 0) {
			env.from = c->col[4].s;
			for (size_t a = 1; a < nargs && a < 8; a++)
				env.mail_params[a - 1] = c->col[4 + a].s;
			env.mail_params[nargs < 8 ? nargs - 1 : 7] = NULL;
		} else {
			env.rcpt[0] = c->col[4].s;
			for (size_t a = 1; a < nargs && a < 8; a++)
				env.rcpt_params[a - 1] = c->col[4 + a].s;
			if (strcmp(stage, "rcpt+utf8") == 0)
				env.mail_params[0] = "SMTPUTF8";
		}
		agree(c->col[0].s, &env, envelope_msg, sizeof(envelope_msg) - 1, NULL);
	}
	no_late_events();
	printf("agree: %zu envelope cases, %u disagreements\n", n, disagreements);
	tu_cases_free(cases, n);
	ck_assert_uint_ge(n, 30);
	ck_assert_uint_eq(disagreements, 0);
}
END_TEST

START_TEST(daemon_and_replay_agree_on_every_header_case)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("headers/cases.tsv"), &cases);
	struct rp_envelope env = benign_envelope();

	for (size_t i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];
		struct one_field f = { c->col[2].s, c->col[3].s, c->col[2].len, c->col[3].len };

		agree(c->col[0].s, &env, NULL, 0, &f);
	}
	no_late_events();
	printf("agree: %zu header cases, %u disagreements\n", n, disagreements);
	tu_cases_free(cases, n);
	ck_assert_uint_ge(n, 30);
	ck_assert_uint_eq(disagreements, 0);
}
END_TEST

static Suite *
agree_suite(void)
{
	Suite *s = suite_create("agree");
	TCase *tc = tcase_create("daemon-vs-replay");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, daemon_and_replay_agree_on_every_ham_message);
	tcase_add_test(tc, daemon_and_replay_agree_on_every_envelope_case);
	tcase_add_test(tc, daemon_and_replay_agree_on_every_header_case);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(agree_suite());
}
