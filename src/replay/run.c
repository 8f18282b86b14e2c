/*
 * run.c -- one message through the session engine (see rp.h)
 *
 * rp_play() is the MTA: it turns a message file into the calls an MTA
 * makes through libmilter, in the order Postfix makes them.  rp_run()
 * plays it into a fresh session of the core's engine, the one the
 * daemon's callbacks drive, and keeps what the engine reported.
 */
#include "rp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/esc.h"

void
rp_buf_free(struct rp_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->size = 0;
}

static int
buf_reserve(struct rp_buf *b, size_t n)
{
	char *p;

	if (n <= b->size)
		return 0;
	if (n < 2 * b->size)
		n = 2 * b->size;
	if ((p = realloc(b->p, n)) == NULL)
		return -1;
	b->p = p;
	b->size = n;
	return 0;
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(want, name, len) == 0;
}

/* Postfix's cleanup drops these before the milters see the message. */
static bool
dropped_by_postfix(const char *name, size_t len)
{
	static const char *const dropped[] = { "Bcc", "Content-Length", "Resent-Bcc",
		"Return-Path" };

	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (name_is(name, len, dropped[i]))
			return true;
	return false;
}

/* The end of the line at p (after its LF), and whether it is blank. */
static const char *
line_end(const char *p, const char *end, bool *blank_r)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *next = nl ? nl + 1 : end;

	*blank_r = nl != NULL && (next - p == 1 || (next - p == 2 && p[0] == '\r'));
	return next;
}

/* A field's value as the MTA hands it over: folded lines joined by "\n"
   (CR LF becomes LF), NUL left out (it cannot cross the protocol), the
   final line end cut; at most max octets.  Returns its length. */
static size_t
field_value(const char *v, const char *e, size_t max, char *out)
{
	size_t o = 0;

	for (const char *p = v; p < e && o < max; p++) {
		if (*p == '\r' && p + 1 < e && p[1] == '\n')
			continue;
		if (*p != '\0')
			out[o++] = *p;
	}
	while (o > 0 && out[o - 1] == '\n')
		o--;
	return o;
}

/* The header field [s, e): name up to the colon; none without a colon. */
static int
play_field(const char *s, const char *e, enum rp_view view, const struct rp_mta *mta,
	   void *arg, struct rp_buf *buf)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	size_t name_len, value_len, max = view == RP_VIEW_POSTFIX ?
		RP_POSTFIX_HEADER_MAX : (size_t)(e - s);

	if (colon == NULL)
		return 0;
	name_len = strnlen(s, (size_t)(colon - s));	/* what the protocol carries */
	if (view == RP_VIEW_POSTFIX && dropped_by_postfix(s, name_len))
		return 0;
	if (buf_reserve(buf, (size_t)(e - colon)) < 0)
		return -1;
	value_len = field_value(colon + 1, e, max, buf->p);
	return mta->header(arg, s, name_len, buf->p, value_len);
}

/* The body as CRLF lines, in chunks. */
static int
play_body(const char *body, const char *end, const struct rp_mta *mta, void *arg,
	  struct rp_buf *buf)
{
	size_t o = 0;

	if (buf_reserve(buf, 2 * (size_t)(end - body) + 2) < 0)
		return -1;
	for (const char *q = body; q < end; q++) {
		if (*q == '\n' && (q == body || q[-1] != '\r'))
			buf->p[o++] = '\r';
		buf->p[o++] = *q;
	}
	for (size_t off = 0; off < o; off += RP_BODY_CHUNK)
		mta->body(arg, buf->p + off, o - off < RP_BODY_CHUNK ? o - off : RP_BODY_CHUNK);
	return 0;
}

static size_t
arg_list(const char *first, const char *const *more, size_t max, struct env_arg *args)
{
	size_t n = 0;

	args[n].s = first;
	args[n++].len = strlen(first);
	for (; more != NULL && more[n - 1] != NULL && n < max; n++) {
		args[n].s = more[n - 1];
		args[n].len = strlen(more[n - 1]);
	}
	return n;
}

int
rp_play(const struct rp_envelope *env, const char *msg, size_t len, enum rp_view view,
	const struct rp_mta *mta, void *arg, struct rp_buf *buf)
{
	const char *p = msg, *end = msg + len, *field = NULL;
	struct env_arg args[9];
	size_t accepted = 0;
	int r;

	if ((r = mta->helo(arg, env->helo, strlen(env->helo))) <= 0)
		return r;
	if ((r = mta->mail(arg, args, arg_list(env->from, env->mail_params, 9, args))) <= 0)
		return r;
	for (size_t i = 0; i < env->nrcpt; i++) {
		if ((r = mta->rcpt(arg, args, arg_list(env->rcpt[i], env->rcpt_params, 9,
							   args))) < 0)
			return r;
		accepted += (size_t)r;
	}
	if (accepted == 0) {
		mta->abort(arg);
		return 0;
	}
	while (p < end) {
		bool blank;
		const char *next = line_end(p, end, &blank);

		if (blank) {
			p = next;
			break;
		}
		if (p[0] != ' ' && p[0] != '\t') {
			if (field && play_field(field, p, view, mta, arg, buf) < 0)
				return -1;
			field = p;
		}
		p = next;
	}
	if (field && play_field(field, p > end ? end : p, view, mta, arg, buf) < 0)
		return -1;
	if ((r = mta->eoh(arg)) <= 0) {
		if (r == 0)
			mta->abort(arg);
		return r;
	}
	if (play_body(p, end, mta, arg, buf) < 0)
		return -1;
	mta->eom(arg);
	return 1;
}

/* The value of the header field at p (up to e), unfolded and trimmed, with
   angle brackets, into out; returns out. */
static const char *
address_of(const char *v, const char *e, char *out)
{
	size_t o = 0;

	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (v == e || *v != '<')
		out[o++] = '<';
	for (; v < e; v++)
		if (*v != '\r' && *v != '\n')
			out[o++] = *v;
	if (o == 0 || out[o - 1] != '>' || out[0] != '<' || o == 1)
		out[o++] = '>';
	out[o] = '\0';
	return out;
}

void
rp_envelope_from_headers(const char *msg, size_t len, struct rp_envelope *env, char *store)
{
	const char *p = msg, *end = msg + len, *field = NULL, *from = NULL, *to = NULL;
	const char *orig = NULL, *from_e = NULL, *to_e = NULL, *orig_e = NULL;
	size_t o = 0;

	for (;;) {
		bool blank = false;
		const char *next = p < end ? line_end(p, end, &blank) : end;

		if (field != NULL && (p >= end || blank || (p[0] != ' ' && p[0] != '\t'))) {
			const char *colon = memchr(field, ':', (size_t)(p - field));
			size_t n = colon ? (size_t)(colon - field) : 0;

			if (colon && from == NULL && name_is(field, n, "Return-Path"))
				from = colon + 1, from_e = p;
			else if (colon && to == NULL && name_is(field, n, "Delivered-To"))
				to = colon + 1, to_e = p;
			else if (colon && orig == NULL && name_is(field, n, "X-Original-To"))
				orig = colon + 1, orig_e = p;
			field = NULL;
		}
		if (p >= end || blank)
			break;
		if (p[0] != ' ' && p[0] != '\t')
			field = p;
		p = next;
	}
	if (from != NULL) {
		env->from = address_of(from, from_e, store);
		o = strlen(store) + 1;
	}
	if (to == NULL)
		to = orig, to_e = orig_e;
	if (to != NULL) {
		env->rcpt[0] = address_of(to, to_e, store + o);
		env->nrcpt = 1;
	}
}

/* --- the replay's MTA: the session engine --------------------------------- */

static void
record(struct rp_runner *rn, const struct sess_result *sr)
{
	rn->last = *sr;
}

static int
go_on(struct rp_runner *rn)
{
	return !pol_is_immediate(rn->last.action);
}

static int
s_helo(void *arg, const char *helo, size_t len)
{
	struct rp_runner *rn = arg;
	struct sess_result sr;

	sess_helo(&rn->sess, helo, len, &sr);
	record(rn, &sr);
	return go_on(rn);
}

static int
s_mail(void *arg, const struct env_arg *args, size_t n)
{
	struct rp_runner *rn = arg;
	struct sess_result sr;

	sess_mail(&rn->sess, args, n, rn->authenticated, &sr);
	record(rn, &sr);
	return go_on(rn);
}

static int
s_rcpt(void *arg, const struct env_arg *args, size_t n)
{
	struct rp_runner *rn = arg;
	struct sess_result sr;

	sess_rcpt(&rn->sess, args, n, &sr);
	if (pol_is_immediate(sr.action))
		record(rn, &sr);	/* stands if no recipient is accepted */
	return !pol_is_immediate(sr.action);
}

static int
s_header(void *arg, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct rp_runner *rn = arg;

	return sess_header(&rn->sess, name, name_len, value, value_len);
}

static int
s_eoh(void *arg)
{
	struct rp_runner *rn = arg;
	struct sess_result sr;

	if (sess_has_queue_id(&rn->sess) == false)
		sess_set_queue_id(&rn->sess, rn->id, strlen(rn->id));
	if (sess_eoh(&rn->sess, &sr) < 0)
		return -1;
	record(rn, &sr);
	return go_on(rn);
}

static void
s_body(void *arg, const char *chunk, size_t len)
{
	struct rp_runner *rn = arg;

	sess_body(&rn->sess, chunk, len);
}

static void
s_eom(void *arg)
{
	struct rp_runner *rn = arg;
	struct sess_result sr;

	sess_eom(&rn->sess, &sr);
	record(rn, &sr);
}

static void
s_abort(void *arg)
{
	struct rp_runner *rn = arg;

	sess_abort(&rn->sess);
}

const struct rp_mta rp_engine = {
	s_helo, s_mail, s_rcpt, s_header, s_eoh, s_body, s_eom, s_abort,
};

/* The session's hooks: events are kept (and written with --json). */
static int
emit(void *arg, const struct sess *s, enum rule_stage stage, const struct pol_verdict *v,
     const struct finding_list *f, const struct reply *reply)
{
	struct rp_runner *rn = arg;
	struct rp_result *res = rn->res;

	res->events++;
	finding_list_append(&res->findings, f);
	if (v->has_rule && (!res->has_rule || v->intended > res->intended)) {
		res->intended = v->intended;
		res->rule = v->rule;
		res->has_rule = true;
	}
	if (rn->json != NULL) {
		struct evt_context e;
		struct evt_time t;
		struct timespec ts;
		char *line;

		clock_gettime(CLOCK_REALTIME, &ts);
		t.sec = ts.tv_sec;
		t.usec = ts.tv_nsec / 1000;

		sess_event_context(s, rn->host, &e);
		line = evt_decision(&t, &e, stage, sess_policy(s), v, f, reply);
		if (line == NULL)
			return -1;
		fputs(line, rn->json);
		free(line);
	}
	return 0;
}

static void
want_queue_id(void *arg, struct sess *s)
{
	struct rp_runner *rn = arg;

	sess_set_queue_id(s, rn->id, strlen(rn->id));
}

static const struct sess_ops hooks = { emit, want_queue_id };

void
rp_runner_init(struct rp_runner *rn, const struct cfg *cfg, enum rp_view view)
{
	memset(rn, 0, sizeof(*rn));
	rn->cfg = cfg;
	rn->view = view;
	rn->host = "replay";
}

void
rp_runner_free(struct rp_runner *rn)
{
	rp_buf_free(&rn->buf);
}

void
rp_begin(struct rp_runner *rn, const struct rp_envelope *env, const char *id,
	 struct rp_result *res)
{
	struct sess_peer peer = { env->client_name, env->has_addr, { 0 }, 0, env->country,
		env->asn, env->as_org };
	char sid[SESS_ID_MAX];

	memcpy(peer.addr, env->addr, sizeof(peer.addr));
	memset(res, 0, sizeof(*res));	/* (the finding list is fixed storage) */
	finding_list_init(&res->findings);
	res->action = res->intended = ACTION_ACCEPT;
	res->stage = STAGE_EOM;
	rn->res = res;
	rn->id = id;
	rn->authenticated = env->authenticated;
	snprintf(sid, sizeof(sid), "replay.%lu", ++rn->sessions);
	sess_connect(&rn->sess, rn->cfg, &hooks, rn, sid, &peer);
	rn->last.action = ACTION_ACCEPT;
	rn->last.stage = STAGE_EOM;
}

void
rp_end(struct rp_runner *rn)
{
	struct rp_result *res = rn->res;

	sess_close(&rn->sess);
	res->action = rn->last.action;
	res->stage = rn->last.stage;
	if (!res->has_rule)
		res->intended = res->action;
}

int
rp_run(struct rp_runner *rn, const struct rp_envelope *env, const char *msg, size_t len,
       const char *id, struct rp_result *res)
{
	int r;

	rp_begin(rn, env, id, res);
	r = rp_play(env, msg, len, rn->view, &rp_engine, rn, &rn->buf);
	rp_end(rn);
	return r < 0 ? -1 : 0;
}

const char *
rp_action_done(enum rule_action a)
{
	static const char *const done[ACTION_COUNT] = {
		"accepted", "logged", "tagged", "quarantined", "tempfailed",
		"discarded", "rejected",
	};

	return a < ACTION_COUNT ? done[a] : "?";
}
