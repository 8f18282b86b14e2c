/*
 * session.c -- one SMTP session through the checks (see session.h)
 *
 * decide() is the one place where the findings of a stage become a
 * verdict: an event and a refusal now, or findings kept for later.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "net.h"

static void
keep(char *dst, size_t size, size_t *len_r, const char *src, size_t len)
{
	if (len > size)
		len = size;
	memcpy(dst, src, len);
	*len_r = len;
}

const struct policy *
sess_policy(const struct sess *s)
{
	return &s->pol;
}

/* The session's policy: the config's, with this client's exemptions and
   overrides. */
static void
apply_client(struct sess *s)
{
	s->pol = s->cfg->policy;
	client_apply(&s->cfg->clients, &s->client, &s->pol, &s->applied);
}

void
sess_set_queue_id(struct sess *s, const char *qid, size_t len)
{
	/* kept as the MTA gave it (to its first NUL, capped): the event
	   builder escapes it, once, as every other field */
	const char *nul = memchr(qid, '\0', len);

	if (nul != NULL)
		len = (size_t)(nul - qid);
	if (len > sizeof(s->msg.queue_id) - 1)
		len = sizeof(s->msg.queue_id) - 1;
	memcpy(s->msg.queue_id, qid, len);
	s->msg.queue_id[len] = '\0';
}

bool
sess_has_queue_id(const struct sess *s)
{
	return s->msg.queue_id[0] != '\0';
}

unsigned
sess_forged_tags(const struct sess *s)
{
	return s->msg.content != NULL ? s->msg.content->hdr.forged_tags : 0;
}

void
sess_event_context(const struct sess *s, const char *host, struct evt_context *e)
{
	memset(e, 0, sizeof(*e));
	e->host = host;
	e->session = s->id;
	e->queue_id = s->msg.queue_id;
	e->client_ip = s->client_ip[0] ? s->client_ip : NULL;
	e->client_port = s->client_port;
	e->client_name = s->client_name;
	e->client_name_len = s->client_name_len;
	e->helo = s->helo_seen ? s->helo : NULL;
	e->helo_len = s->helo_len;
	e->sender = s->msg.active ? s->msg.sender : NULL;
	e->sender_len = s->msg.sender_len;
	e->recipients = s->msg.rcpts_accepted;
	e->message = s->msg.active ? s->msg.number : 0;
	e->sample_max = s->cfg->sample_length;
	e->country = s->client.country[0] ? s->client.country : NULL;
	e->asn = s->client.asn;
	e->as_org = s->as_org[0] ? s->as_org : NULL;
	e->trusted = s->applied.trusted;
	e->authenticated = s->applied.authenticated;
	e->noverrides = s->applied.noverrides;
	for (size_t i = 0; i < s->applied.noverrides && i < EVT_OVERRIDES_MAX; i++)
		e->overrides[i] = s->cfg->clients.override[s->applied.override[i]].text;
	if (s->msg.content != NULL && s->msg.content->body_started) {
		e->body_seen = true;
		e->body_scanned = body_scanned(&s->msg.content->body);
		e->body_truncated = body_truncated(&s->msg.content->body);
	}
}

static int
emit(const struct sess *s, enum rule_stage stage, const struct pol_verdict *v,
     const struct finding_list *f, const struct reply *r)
{
	return s->ops->emit(s->arg, s, stage, v, f, r);
}

static void
result_init(struct sess_result *r, enum rule_stage stage)
{
	r->action = ACTION_ACCEPT;
	r->has_reply = false;
	r->stage = stage;
	r->mark = ACTION_ACCEPT;
	r->rules[0] = '\0';
}

/* A connection's deferred list, allocated on first use; NULL if memory
   runs out. */
static struct finding_list *
conn_list(struct finding_list **list)
{
	if (*list == NULL && (*list = malloc(sizeof(**list))) != NULL)
		finding_list_init(*list);
	return *list;
}

/* The one place a verdict turns into an event, a reply and an action. */
static void
decide(struct sess *s, enum rule_stage stage, const struct finding_list *f,
       struct sess_result *r)
{
	const struct policy *pol = sess_policy(s);
	struct pol_verdict v;

	result_init(r, stage);
	if (f->count == 0 && f->dropped == 0)
		return;
	pol_decide(pol, f, &v);
	if (v.counted == 0)
		return;
	if (!pol_is_immediate(v.action)) {
		struct finding_list *to = stage == STAGE_HELO ? conn_list(&s->helo_findings) :
			stage == STAGE_UNKNOWN ? conn_list(&s->unknown_findings) :
			&s->msg.findings;

		if (to == NULL) {	/* no memory to keep them: report them now */
			emit(s, stage, &v, f, NULL);
			return;
		}
		finding_list_append(to, f);
		if (stage == STAGE_HELO || stage == STAGE_UNKNOWN)
			s->conn_unreported = true;
		return;
	}
	if (s->ops->want_queue_id != NULL && !sess_has_queue_id(s))
		s->ops->want_queue_id(s->arg, s);
	r->has_reply = rpl_build(pol, v.action, stage, v.has_rule, v.applied_rule,
				 &r->reply);
	emit(s, stage, &v, f, r->has_reply ? &r->reply : NULL);	/* a refusal stands even if its event fails */
	r->action = v.action;
}

static void
msg_reset(struct sess *s)
{
	free(s->msg.content);
	memset(&s->msg, 0, sizeof(s->msg));
	finding_list_init(&s->msg.findings);
}

/* The message's content state, allocated on first use; NULL if memory
   runs out. */
static struct sess_content *
content_of(struct sess *s)
{
	struct sess_content *m = s->msg.content;

	if (m != NULL)
		return m;
	m = malloc(sizeof(*m));		/* not calloc: 36 KB a message to clear */
	if (m == NULL)
		return NULL;
	m->body_started = false;	/* body_init() at end of headers */
	hdr_init(&m->hdr);
	finding_list_init(&m->hdr_findings);
	finding_list_init(&m->body_findings);
	m->lim = &sess_policy(s)->limits;
	s->msg.content = m;
	return m;
}

/* Everything deferred that the next event should carry. */
static void
collect_deferred(const struct sess *s, struct finding_list *all, bool with_msg)
{
	finding_list_init(all);
	if (s->helo_findings != NULL)
		finding_list_append(all, s->helo_findings);
	if (s->unknown_findings != NULL)
		finding_list_append(all, s->unknown_findings);
	if (with_msg)
		finding_list_append(all, &s->msg.findings);
}

/* A message ends without end-of-message (RSET, a dropped client, a refusal
   at end of headers): report what it had, headers and body included. */
static void
msg_flush(struct sess *s, enum rule_stage stage)
{
	struct pol_verdict v;
	struct sess_content *m = s->msg.content;

	if (s->msg.active && m != NULL) {
		finding_list_append(&s->msg.findings, &m->hdr_findings);
		finding_list_append(&s->msg.findings, &m->body_findings);
	}
	if (s->msg.active && s->msg.findings.count + s->msg.findings.dropped > 0) {
		pol_decide(sess_policy(s), &s->msg.findings, &v);
		if (v.counted > 0) {
			if (v.action > ACTION_LOG)
				v.action = ACTION_LOG;	/* nothing left to apply it to */
			emit(s, stage, &v, &s->msg.findings, NULL);
		}
	}
	msg_reset(s);
}

void
sess_connect(struct sess *s, const struct cfg *cfg, const struct sess_ops *ops,
	     void *arg, const char *id, const struct sess_peer *peer)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->ops = ops;
	s->arg = arg;
	snprintf(s->id, sizeof(s->id), "%s", id);
	if (peer->name != NULL)
		keep(s->client_name, sizeof(s->client_name), &s->client_name_len,
		     peer->name, strlen(peer->name));
	if (peer->has_addr) {
		memcpy(s->client.addr, peer->addr, sizeof(s->client.addr));
		s->client.has_addr = true;
		s->client_port = peer->port;
		net_format(s->client.addr, s->client_ip, sizeof(s->client_ip));	/* IPv4-mapped shows as IPv4 */
	}
	if (peer->country != NULL)
		snprintf(s->client.country, sizeof(s->client.country), "%s", peer->country);
	s->client.asn = peer->asn;
	if (peer->as_org != NULL)
		snprintf(s->as_org, sizeof(s->as_org), "%s", peer->as_org);
	apply_client(s);
	msg_reset(s);
}

void
sess_helo(struct sess *s, const char *helo, size_t len, struct sess_result *r)
{
	struct finding_list f;

	keep(s->helo, sizeof(s->helo), &s->helo_len, helo, len);
	s->helo_seen = true;
	if (s->helo_findings != NULL)
		finding_list_init(s->helo_findings);	/* a new HELO replaces the old */
	finding_list_init(&f);
	env_check_helo(&sess_policy(s)->limits, helo, len, &f);
	decide(s, STAGE_HELO, &f, r);
}

void
sess_mail(struct sess *s, const struct env_arg *args, size_t n, bool authenticated,
	  struct sess_result *r)
{
	struct finding_list f;

	msg_flush(s, STAGE_ABORT);	/* a transaction the MTA never closed */
	if (authenticated && !s->client.authenticated) {
		s->client.authenticated = true;
		apply_client(s);
	}
	s->msg.active = true;
	s->msg.number = ++s->messages;
	if (n > 0)
		keep(s->msg.sender, sizeof(s->msg.sender), &s->msg.sender_len,
		     args[0].s, args[0].len);
	finding_list_init(&f);
	env_check_mail(&sess_policy(s)->limits, args, n, &f, &s->msg.mail);
	decide(s, STAGE_MAIL, &f, r);
}

void
sess_rcpt(struct sess *s, const struct env_arg *args, size_t n, struct sess_result *r)
{
	struct finding_list f;

	finding_list_init(&f);
	env_check_rcpt(&sess_policy(s)->limits, args, n, &s->msg.mail,
		       ++s->msg.rcpts_seen, &f);
	decide(s, STAGE_RCPT, &f, r);
	if (r->action == ACTION_ACCEPT)
		s->msg.rcpts_accepted++;
}

void
sess_unknown(struct sess *s, const char *cmd, size_t len, struct sess_result *r)
{
	struct finding_list f;

	finding_list_init(&f);
	env_check_unknown(&sess_policy(s)->limits, cmd, len, ++s->unknown_count, &f);
	decide(s, STAGE_UNKNOWN, &f, r);
}

int
sess_header(struct sess *s, const char *name, size_t name_len, const char *value,
	    size_t value_len)
{
	struct sess_content *m = content_of(s);

	if (m == NULL)
		return -1;
	hdr_check_field(m->lim, &m->hdr, name, name_len, value, value_len,
			&m->hdr_findings);
	return 0;
}

/* End of headers: a refusal here ends the message, so its one event
   carries everything found so far; anything else waits for the end of
   the message. */
static void
decide_eoh(struct sess *s, struct sess_content *m, struct sess_result *r)
{
	struct finding_list all;
	struct pol_verdict v;

	result_init(r, STAGE_EOH);
	collect_deferred(s, &all, true);
	finding_list_append(&all, &m->hdr_findings);
	pol_decide(sess_policy(s), &all, &v);
	if (pol_is_immediate(v.action)) {
		decide(s, STAGE_EOH, &all, r);
		finding_list_init(&s->msg.findings);
		s->conn_unreported = false;
	} else {
		finding_list_append(&s->msg.findings, &m->hdr_findings);
	}
	finding_list_init(&m->hdr_findings);
}

int
sess_eoh(struct sess *s, struct sess_result *r)
{
	struct sess_content *m = content_of(s);

	if (m == NULL)
		return -1;
	hdr_check_end(m->lim, &m->hdr, &m->hdr_findings);
	decide_eoh(s, m, r);
	body_init(&m->body, m->hdr.ct_seen ? &m->hdr.ct : NULL,
		  (unsigned)m->lim->limit[RULE_MIME_NESTING_DEPTH],
		  s->cfg->body_inspect_limit);
	m->body_started = true;
	return 0;
}

static void
on_part_header(void *arg, const char *name, size_t name_len, const char *value,
	       size_t value_len, size_t value_total, unsigned depth,
	       const struct mime_ct *ct)
{
	struct sess_content *m = arg;

	(void)depth;
	hdr_check_part_field(m->lim, name, name_len, value, value_len, value_total,
			     ct, &m->body_findings);
}

static void
on_nesting(void *arg, unsigned depth)
{
	struct sess_content *m = arg;

	finding_add(&m->body_findings, RULE_MIME_NESTING_DEPTH, "body", NULL, 0, 0,
		    depth, m->lim->limit[RULE_MIME_NESTING_DEPTH], NULL);
}

static void
on_smuggling(void *arg, size_t offset)
{
	struct sess_content *m = arg;

	finding_add(&m->body_findings, RULE_BODY_SMUGGLING, "body", NULL, 0, offset,
		    0, RULE_NO_LIMIT, "\".\" line followed by an SMTP command");
}

static void
on_scan_limit(void *arg, size_t offset)
{
	(void)arg;
	(void)offset;	/* body_truncated() says so in the event */
}

static const struct body_handler body_events = {
	on_part_header, on_nesting, on_smuggling, on_scan_limit,
};

void
sess_body(struct sess *s, const char *chunk, size_t len)
{
	struct sess_content *m = s->msg.content;

	if (m == NULL || !m->body_started)
		return;
	body_feed(&m->body, chunk, len, &body_events, m);
}

/* "rules=a,b": the distinct rules of the findings that count. */
static void
rule_list(const struct policy *pol, const struct finding_list *all, char *out, size_t size)
{
	size_t o = (size_t)snprintf(out, size, "rules=");

	for (size_t i = 0; i < all->count && o < size; i++) {
		const char *name = rule_table[all->items[i].rule].name;
		bool monitored, dup = false;

		if (pol_rule_action(pol, all->items[i].rule, &monitored) == ACTION_ACCEPT)
			continue;
		for (size_t j = 0; j < i; j++)
			dup = dup || all->items[j].rule == all->items[i].rule;
		if (!dup)
			o += (size_t)snprintf(out + o, size - o, "%s%s",
					      out[o - 1] == '=' ? "" : ",", name);
	}
}

void
sess_eom(struct sess *s, struct sess_result *r)
{
	struct finding_list all;
	struct pol_verdict v;

	result_init(r, STAGE_EOM);
	if (s->msg.content != NULL && s->msg.content->body_started) {
		struct sess_content *m = s->msg.content;

		body_finish(&m->body, &body_events, m);
		finding_list_append(&s->msg.findings, &m->body_findings);
		finding_list_init(&m->body_findings);
	}
	collect_deferred(s, &all, true);
	pol_decide(sess_policy(s), &all, &v);
	/* AuditAll: an event for every message, findings or not */
	if (v.counted > 0 || s->cfg->audit_all) {
		r->has_reply = v.counted > 0 &&
			       rpl_build(sess_policy(s), v.action, STAGE_EOM,
					 v.has_rule, v.applied_rule, &r->reply);
		r->action = v.action;
		if (v.action == ACTION_TAG || v.action == ACTION_QUARANTINE) {
			r->mark = v.action;
			rule_list(sess_policy(s), &all, r->rules, sizeof(r->rules));
		}
		if (emit(s, STAGE_EOM, &v, &all, r->has_reply ? &r->reply : NULL) < 0 &&
		    s->cfg->on_audit_failure == ACTION_TEMPFAIL &&
		    !pol_is_immediate(r->action)) {
			rpl_build(sess_policy(s), ACTION_TEMPFAIL, STAGE_EOM, false,
				  RULE_COUNT, &r->reply);
			r->has_reply = true;
			r->action = ACTION_TEMPFAIL;
		}
		s->conn_unreported = false;
	}
	msg_reset(s);
}

void
sess_abort(struct sess *s)
{
	msg_flush(s, STAGE_ABORT);
}

void
sess_close(struct sess *s)
{
	struct finding_list all;
	struct pol_verdict v;

	msg_flush(s, STAGE_ABORT);
	if (s->conn_unreported) {
		collect_deferred(s, &all, false);
		pol_decide(sess_policy(s), &all, &v);
		if (v.counted > 0)
			emit(s, STAGE_CLOSE, &v, &all, NULL);
	}
	free(s->helo_findings);
	free(s->unknown_findings);
	s->helo_findings = NULL;
	s->unknown_findings = NULL;
	s->conn_unreported = false;
}

/* True if a rule of one of the stages is on. */
static bool
stage_active(const struct policy *pol, enum rule_stage a, enum rule_stage b)
{
	for (size_t i = 0; i < RULE_COUNT; i++)
		if ((rule_table[i].stage == a || rule_table[i].stage == b) &&
		    pol->rule[i].action != ACTION_ACCEPT)
			return true;
	return false;
}

bool
sess_wants_body(const struct policy *pol)
{
	return stage_active(pol, STAGE_BODY, STAGE_BODY) ||
		stage_active(pol, STAGE_HEADER, STAGE_EOH);
}
