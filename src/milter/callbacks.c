/*
 * callbacks.c -- libmilter callbacks
 *
 * Each callback fetches its connection context, hands the bytes to the
 * core, and passes the findings to decide(), the one place where a verdict
 * becomes a reply, an event and a return code.  Findings whose action can
 * wait (log, tag, quarantine, and anything monitored) are kept with the
 * message, or with the connection for HELO and unknown commands, and
 * reported in one event at end of message (or at abort or close, so that
 * nothing found is ever lost).
 *
 * smfi_* calls go through mg_smfi, a table of function pointers, so that a
 * test can stand in for libmilter.
 */
#include "mg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/body.h"
#include "core/envelope.h"
#include "core/hdr.h"
#include "core/esc.h"
#include "core/reply.h"
#include "geo.h"

#define MG_KEEP_HELO	1024	/* raw octets kept for events */
#define MG_KEEP_SENDER	1024
#define MG_KEEP_NAME	256
#define MG_ARGS_MAX	64	/* ESMTP parameters examined (Sendmail passes <= 20) */

struct mg_smfi {
	void *(*getpriv)(SMFICTX *);
	int (*setpriv)(SMFICTX *, void *);
	char *(*getsymval)(SMFICTX *, char *);
	int (*setreply)(SMFICTX *, char *, char *, char *);
	int (*quarantine)(SMFICTX *, char *);
	int (*addheader)(SMFICTX *, char *, char *);
	int (*chgheader)(SMFICTX *, char *, int, char *);
};

static const struct mg_smfi smfi_libmilter = {
	smfi_getpriv, smfi_setpriv, smfi_getsymval, smfi_setreply,
	smfi_quarantine, smfi_addheader, smfi_chgheader,
};

static const struct mg_smfi *mg_smfi = &smfi_libmilter;

/* What the message's content needs, allocated at its first header and
   freed with the message, so idle connections stay small. */
struct mg_content {
	struct hdr_state hdr;
	struct finding_list hdr_findings;	/* decided at end of headers */
	struct body_ctx body;
	bool body_started;
	struct finding_list body_findings;	/* decided at end of message */
	const struct limits *lim;
};

struct mg_msg {
	bool active;
	unsigned long number;		/* in the connection, from 1 */
	char queue_id[64];
	char sender[MG_KEEP_SENDER];
	size_t sender_len;
	struct env_mail_info mail;
	unsigned long rcpts_seen;
	unsigned long rcpts_accepted;
	struct finding_list findings;	/* deferred: reported at end of message */
	struct mg_content *content;
};

struct mg_conn {
	struct mg_config *config;	/* the config this connection started with */
	struct policy pol;		/* the config's policy for this client */
	struct client client;
	struct client_applied applied;	/* exemptions and overrides in pol */
	char as_org[GEO_ORG_MAX];
	char session[32];
	char client_ip[INET6_ADDRSTRLEN];
	unsigned client_port;
	char client_name[MG_KEEP_NAME];
	size_t client_name_len;
	char helo[MG_KEEP_HELO];
	size_t helo_len;
	bool helo_seen;
	unsigned long unknown_count;
	unsigned long messages;
	bool conn_unreported;		/* HELO or unknown findings in no event yet */
	unsigned long protocol;		/* SMFIP_* negotiated */
	/* deferred connection findings, allocated on first use (most
	   connections have none): */
	struct finding_list *helo_findings;	/* replaced at each HELO */
	struct finding_list *unknown_findings;
	struct mg_msg msg;
};

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long sessions_active;
static unsigned long sessions_total;

unsigned long
mg_active_sessions(void)
{
	unsigned long n;

	pthread_mutex_lock(&sessions_lock);
	n = sessions_active;
	pthread_mutex_unlock(&sessions_lock);
	return n;
}

static const struct policy *
conn_policy(const struct mg_conn *c)
{
	return &c->pol;
}

/* The session's policy: the config's, with this client's exemptions and
   overrides. */
static void
apply_client(struct mg_conn *c)
{
	c->pol = c->config->cfg->policy;
	client_apply(&c->config->cfg->clients, &c->client, &c->pol, &c->applied);
}

static void
keep(char *dst, size_t size, size_t *len_r, const char *src)
{
	size_t len = strlen(src);

	if (len > size)
		len = size;
	memcpy(dst, src, len);
	*len_r = len;
}

static void
fetch_queue_id(SMFICTX *ctx, struct mg_conn *c)
{
	char *qid;

	if (c->msg.queue_id[0] != '\0')
		return;
	qid = mg_smfi->getsymval(ctx, "i");
	if (qid != NULL)
		esc_bytes(qid, strlen(qid), c->msg.queue_id, sizeof(c->msg.queue_id), NULL);
}

static void
event_context(const struct mg_conn *c, struct evt_context *e)
{
	memset(e, 0, sizeof(*e));
	e->host = mg_hostname();
	e->session = c->session;
	e->queue_id = c->msg.queue_id;
	e->client_ip = c->client_ip[0] ? c->client_ip : NULL;
	e->client_port = c->client_port;
	e->client_name = c->client_name;
	e->client_name_len = c->client_name_len;
	e->helo = c->helo_seen ? c->helo : NULL;
	e->helo_len = c->helo_len;
	e->sender = c->msg.active ? c->msg.sender : NULL;
	e->sender_len = c->msg.sender_len;
	e->recipients = c->msg.rcpts_accepted;
	e->message = c->msg.active ? c->msg.number : 0;
	e->sample_max = c->config->cfg->sample_length;
	e->country = c->client.country[0] ? c->client.country : NULL;
	e->asn = c->client.asn;
	e->as_org = c->as_org[0] ? c->as_org : NULL;
	e->trusted = c->applied.trusted;
	e->authenticated = c->applied.authenticated;
	e->noverrides = c->applied.noverrides;
	for (size_t i = 0; i < c->applied.noverrides && i < EVT_OVERRIDES_MAX; i++)
		e->overrides[i] = c->config->cfg->clients.override[c->applied.override[i]].text;
	if (c->msg.content != NULL && c->msg.content->body_started) {
		e->body_seen = true;
		e->body_scanned = body_scanned(&c->msg.content->body);
		e->body_truncated = body_truncated(&c->msg.content->body);
	}
}

/* Write a decision event; -1 if it could not be built or written. */
static int
emit(const struct mg_conn *c, enum rule_stage stage, const struct pol_verdict *v,
     const struct finding_list *f, const struct reply *r)
{
	struct evt_context e;
	struct evt_time t;
	char *line;
	int rc;

	event_context(c, &e);
	mg_now(&t);
	line = evt_decision(&t, &e, stage, conn_policy(c), v, f, r);
	if (line == NULL) {
		mg_log(LOG_ERR, "%s: audit: out of memory building an event", c->session);
		return -1;
	}
	rc = mg_audit_write(line);
	free(line);
	return rc;
}

static sfsistat
status_of(enum rule_action a)
{
	switch (a) {
	case ACTION_REJECT:
		return SMFIS_REJECT;
	case ACTION_TEMPFAIL:
		return SMFIS_TEMPFAIL;
	case ACTION_DISCARD:
		return SMFIS_DISCARD;
	default:
		return SMFIS_CONTINUE;
	}
}

static void
set_reply(SMFICTX *ctx, const char *session, const struct reply *r)
{
	if (mg_smfi->setreply(ctx, (char *)r->code, (char *)r->xcode,
			      (char *)r->text) != MI_SUCCESS)
		mg_log(LOG_WARNING, "%s: smfi_setreply %s %s failed; the MTA "
		       "sends its default reply", session, r->code, r->xcode);
}

/* An internal error: OnInternalError decides, never a crash or a hang. */
static sfsistat
internal_error(SMFICTX *ctx, const struct mg_conn *c, enum rule_stage stage,
	       const char *what)
{
	struct mg_config *config = c ? NULL : mg_config_get();
	const struct policy *pol = c ? conn_policy(c) : config ? &config->cfg->policy : NULL;
	enum rule_action a = pol ? pol->on_internal_error : ACTION_TEMPFAIL;
	const char *kv[] = { "session", c ? c->session : "-", "stage",
		rule_stage_name(stage), "error", what, "action", rule_action_name(a), NULL };
	struct reply r;

	mg_log(LOG_ERR, "%s: %s: internal error: %s; OnInternalError %s",
	       c ? c->session : "-", rule_stage_name(stage), what, rule_action_name(a));
	mg_audit_lifecycle("internal_error", kv);
	if (pol != NULL && rpl_build(pol, a, stage, false, RULE_COUNT, &r))
		set_reply(ctx, c ? c->session : "-", &r);
	mg_config_put(&config);
	return a == ACTION_ACCEPT ? SMFIS_ACCEPT : status_of(a);
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

/* The one place a verdict turns into an event, a reply and a status. */
static sfsistat
decide(SMFICTX *ctx, struct mg_conn *c, enum rule_stage stage,
       const struct finding_list *f)
{
	const struct policy *pol = conn_policy(c);
	struct pol_verdict v;
	struct reply r;
	bool has_reply;

	if (f->count == 0 && f->dropped == 0)
		return SMFIS_CONTINUE;
	pol_decide(pol, f, &v);
	if (v.counted == 0)
		return SMFIS_CONTINUE;
	if (!pol_is_immediate(v.action)) {
		struct finding_list *to = stage == STAGE_HELO ? conn_list(&c->helo_findings) :
			stage == STAGE_UNKNOWN ? conn_list(&c->unknown_findings) :
			&c->msg.findings;

		if (to == NULL) {	/* no memory to keep them: report them now */
			emit(c, stage, &v, f, NULL);
			return SMFIS_CONTINUE;
		}
		finding_list_append(to, f);
		if (stage == STAGE_HELO || stage == STAGE_UNKNOWN)
			c->conn_unreported = true;
		return SMFIS_CONTINUE;
	}
	fetch_queue_id(ctx, c);
	has_reply = rpl_build(pol, v.action, stage, v.has_rule, v.applied_rule, &r);
	emit(c, stage, &v, f, has_reply ? &r : NULL);	/* a refusal stands even if its event fails */
	if (has_reply)
		set_reply(ctx, c->session, &r);
	return status_of(v.action);
}

/* The connection's context, once CONNECT has set it up: a peer that skips
   CONNECT (or sends commands out of order) gets OnInternalError, never a
   half-built context. */
static struct mg_conn *
conn_of(SMFICTX *ctx)
{
	struct mg_conn *c = mg_smfi->getpriv(ctx);

	return c != NULL && c->config != NULL ? c : NULL;
}

static void
msg_reset(struct mg_conn *c)
{
	free(c->msg.content);
	memset(&c->msg, 0, sizeof(c->msg));
	finding_list_init(&c->msg.findings);
}

/* The message's content state, allocated on first use; NULL if memory
   runs out (the caller maps that to OnInternalError). */
static struct mg_content *
content_of(struct mg_conn *c)
{
	struct mg_content *m = c->msg.content;

	if (m != NULL)
		return m;
	m = malloc(sizeof(*m));		/* not calloc: 36 KB a message to clear */
	if (m == NULL)
		return NULL;
	m->body_started = false;	/* body_init() at end of headers */
	hdr_init(&m->hdr);
	finding_list_init(&m->hdr_findings);
	finding_list_init(&m->body_findings);
	m->lim = &conn_policy(c)->limits;
	c->msg.content = m;
	return m;
}

/* The status a header or body callback returns: no reply at all when the
   MTA agreed not to wait for one. */
static sfsistat
no_reply_or(const struct mg_conn *c, unsigned long nr_flag, sfsistat rs)
{
	return rs == SMFIS_CONTINUE && (c->protocol & nr_flag) ? SMFIS_NOREPLY : rs;
}

/* Everything deferred that the next event should carry. */
static void
collect_deferred(const struct mg_conn *c, struct finding_list *all, bool with_msg)
{
	finding_list_init(all);
	if (c->helo_findings != NULL)
		finding_list_append(all, c->helo_findings);
	if (c->unknown_findings != NULL)
		finding_list_append(all, c->unknown_findings);
	if (with_msg)
		finding_list_append(all, &c->msg.findings);
}

/* A message ends without end-of-message (RSET, a dropped client, a refusal
   at end of headers): report what it had, headers and body included. */
static void
msg_flush(struct mg_conn *c, enum rule_stage stage)
{
	struct pol_verdict v;
	struct mg_content *m = c->msg.content;

	if (c->msg.active && m != NULL) {
		finding_list_append(&c->msg.findings, &m->hdr_findings);
		finding_list_append(&c->msg.findings, &m->body_findings);
	}
	if (c->msg.active && c->msg.findings.count + c->msg.findings.dropped > 0) {
		pol_decide(conn_policy(c), &c->msg.findings, &v);
		if (v.counted > 0) {
			if (v.action > ACTION_LOG)
				v.action = ACTION_LOG;	/* nothing left to apply it to */
			emit(c, stage, &v, &c->msg.findings, NULL);
		}
	}
	msg_reset(c);
}

static sfsistat
mg_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	struct mg_conn *c = mg_smfi->getpriv(ctx);	/* from mg_negotiate() */
	unsigned long protocol = c ? c->protocol : 0, active;

	mg_smfi->setpriv(ctx, NULL);	/* never leave a freed context behind */
	free(c);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_CONNECT, "out of memory");
	c->protocol = protocol;
	c->config = mg_config_get();
	if (c->config == NULL) {
		free(c);
		return internal_error(ctx, NULL, STAGE_CONNECT, "no configuration");
	}
	pthread_mutex_lock(&sessions_lock);
	active = ++sessions_active;
	snprintf(c->session, sizeof(c->session), "%lx.%lu",
		 (unsigned long)getpid(), ++sessions_total);
	pthread_mutex_unlock(&sessions_lock);
	if (hostname != NULL)
		keep(c->client_name, sizeof(c->client_name), &c->client_name_len, hostname);
	if (addr != NULL && addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

		memcpy(c->client.addr + 12, &sin->sin_addr, 4);
		c->client.addr[10] = c->client.addr[11] = 0xff;
		c->client.has_addr = true;
		c->client_port = ntohs(sin->sin_port);
	} else if (addr != NULL && addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

		memcpy(c->client.addr, &sin6->sin6_addr, 16);
		c->client.has_addr = true;
		c->client_port = ntohs(sin6->sin6_port);
	}
	if (c->client.has_addr)		/* IPv4-mapped shows as IPv4 */
		net_format(c->client.addr, c->client_ip, sizeof(c->client_ip));
	if (c->config->geo != NULL && addr != NULL) {
		struct geo_result g;

		geo_lookup(c->config->geo, addr, &g);
		memcpy(c->client.country, g.country, sizeof(c->client.country));
		c->client.asn = g.asn;
		memcpy(c->as_org, g.org, sizeof(c->as_org));
		if (g.error != NULL)
			mg_log(LOG_WARNING, "%s: GeoIP lookup of %s failed: %s; client "
			       "unknown", c->session, c->client_ip, g.error);
	}
	apply_client(c);
	msg_reset(c);
	if (mg_smfi->setpriv(ctx, c) != MI_SUCCESS) {
		mg_config_put(&c->config);
		free(c);
		pthread_mutex_lock(&sessions_lock);
		sessions_active--;
		pthread_mutex_unlock(&sessions_lock);
		return internal_error(ctx, NULL, STAGE_CONNECT, "smfi_setpriv failed");
	}
	return mg_guard_admit(ctx, c->config->cfg, active, c->session);
}

static sfsistat
mg_helo(SMFICTX *ctx, char *helo)
{
	struct mg_conn *c = conn_of(ctx);
	struct finding_list f;
	size_t len;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_HELO, "no connection context");
	len = strlen(helo);
	keep(c->helo, sizeof(c->helo), &c->helo_len, helo);
	c->helo_seen = true;
	if (c->helo_findings != NULL)
		finding_list_init(c->helo_findings);	/* a new HELO replaces the old */
	finding_list_init(&f);
	env_check_helo(&conn_policy(c)->limits, helo, len, &f);
	return decide(ctx, c, STAGE_HELO, &f);
}

/* argv from libmilter as byte strings; returns how many. */
static size_t
env_args(char **argv, struct env_arg *args)
{
	size_t n = 0;

	for (; argv != NULL && argv[n] != NULL && n < MG_ARGS_MAX; n++) {
		args[n].s = argv[n];
		args[n].len = strlen(argv[n]);
	}
	return n;
}

static sfsistat
mg_envfrom(SMFICTX *ctx, char **argv)
{
	struct mg_conn *c = conn_of(ctx);
	struct env_arg args[MG_ARGS_MAX];
	struct finding_list f;
	size_t n;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_MAIL, "no connection context");
	msg_flush(c, STAGE_ABORT);	/* a transaction the MTA never closed */
	if (!c->client.authenticated) {
		char *who = mg_smfi->getsymval(ctx, "{auth_authen}");

		if (who != NULL && who[0] != '\0') {
			c->client.authenticated = true;
			apply_client(c);
		}
	}
	n = env_args(argv, args);
	c->msg.active = true;
	c->msg.number = ++c->messages;
	if (n > 0)
		keep(c->msg.sender, sizeof(c->msg.sender), &c->msg.sender_len, argv[0]);
	finding_list_init(&f);
	env_check_mail(&conn_policy(c)->limits, args, n, &f, &c->msg.mail);
	return decide(ctx, c, STAGE_MAIL, &f);
}

static sfsistat
mg_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mg_conn *c = conn_of(ctx);
	struct env_arg args[MG_ARGS_MAX];
	struct finding_list f;
	sfsistat rs;
	size_t n;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_RCPT, "no connection context");
	n = env_args(argv, args);
	finding_list_init(&f);
	env_check_rcpt(&conn_policy(c)->limits, args, n, &c->msg.mail,
		       ++c->msg.rcpts_seen, &f);
	rs = decide(ctx, c, STAGE_RCPT, &f);
	if (rs == SMFIS_CONTINUE)
		c->msg.rcpts_accepted++;
	return rs;
}

static sfsistat
mg_unknown(SMFICTX *ctx, const char *cmd)
{
	struct mg_conn *c = conn_of(ctx);
	struct finding_list f;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_UNKNOWN, "no connection context");
	finding_list_init(&f);
	env_check_unknown(&conn_policy(c)->limits, cmd, strlen(cmd),
			  ++c->unknown_count, &f);
	return decide(ctx, c, STAGE_UNKNOWN, &f);
}

static sfsistat
mg_data(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);

	if (c != NULL)
		fetch_queue_id(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
mg_header(SMFICTX *ctx, char *name, char *value)
{
	struct mg_conn *c = conn_of(ctx);
	struct mg_content *m;

	if (c == NULL || (m = content_of(c)) == NULL)
		return internal_error(ctx, c, STAGE_HEADER, c ? "out of memory" :
				      "no connection context");
	hdr_check_field(m->lim, &m->hdr, name, strlen(name), value, strlen(value),
			&m->hdr_findings);
	return no_reply_or(c, SMFIP_NR_HDR, SMFIS_CONTINUE);
}

/* End of headers: a refusal here ends the message, so its one event
   carries everything found so far; anything else waits for the end of
   the message. */
static sfsistat
decide_eoh(SMFICTX *ctx, struct mg_conn *c, struct mg_content *m)
{
	struct finding_list all;
	struct pol_verdict v;
	sfsistat rs = SMFIS_CONTINUE;

	collect_deferred(c, &all, true);
	finding_list_append(&all, &m->hdr_findings);
	pol_decide(conn_policy(c), &all, &v);
	if (pol_is_immediate(v.action)) {
		rs = decide(ctx, c, STAGE_EOH, &all);
		finding_list_init(&c->msg.findings);
		c->conn_unreported = false;
	} else {
		finding_list_append(&c->msg.findings, &m->hdr_findings);
	}
	finding_list_init(&m->hdr_findings);
	return rs;
}

static sfsistat
mg_eoh(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);
	struct mg_content *m;
	sfsistat rs;

	if (c == NULL || (m = content_of(c)) == NULL)
		return internal_error(ctx, c, STAGE_EOH, c ? "out of memory" :
				      "no connection context");
	hdr_check_end(m->lim, &m->hdr, &m->hdr_findings);
	rs = decide_eoh(ctx, c, m);
	body_init(&m->body, m->hdr.ct_seen ? &m->hdr.ct : NULL,
		  (unsigned)m->lim->limit[RULE_MIME_NESTING_DEPTH],
		  c->config->cfg->body_inspect_limit);
	m->body_started = true;
	return rs;
}

static void
on_part_header(void *arg, const char *name, size_t name_len, const char *value,
	       size_t value_len, size_t value_total, unsigned depth)
{
	struct mg_content *m = arg;

	hdr_check_part_field(m->lim, name, name_len, value, value_len, value_total,
			     &m->body_findings);
}

static void
on_nesting(void *arg, unsigned depth)
{
	struct mg_content *m = arg;

	finding_add(&m->body_findings, RULE_MIME_NESTING_DEPTH, "body", NULL, 0, 0,
		    depth, m->lim->limit[RULE_MIME_NESTING_DEPTH], NULL);
}

static void
on_smuggling(void *arg, size_t offset)
{
	struct mg_content *m = arg;

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

static sfsistat
mg_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct mg_conn *c = conn_of(ctx);
	struct mg_content *m;

	if (c == NULL || (m = c->msg.content) == NULL || !m->body_started)
		return c ? no_reply_or(c, SMFIP_NR_BODY, SMFIS_CONTINUE) : SMFIS_CONTINUE;
	body_feed(&m->body, (const char *)chunk, len, &body_events, m);
	return no_reply_or(c, SMFIP_NR_BODY, SMFIS_CONTINUE);
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

/* Remove every tag header the sender sent, last first so the indexes of
   the ones before stay right. */
static void
remove_forged_tags(SMFICTX *ctx, const struct mg_conn *c)
{
	const struct mg_content *m = c->msg.content;

	for (unsigned i = m ? m->hdr.forged_tags : 0; i > 0; i--)
		if (mg_smfi->chgheader(ctx, HDR_TAG_NAME, (int)i, NULL) != MI_SUCCESS)
			mg_log(LOG_WARNING, "%s: cannot remove forged %s header %u",
			       c->session, HDR_TAG_NAME, i);
}

/* Tag and quarantine happen here, the only stage that can carry them. */
static sfsistat
apply_eom(SMFICTX *ctx, struct mg_conn *c, const struct pol_verdict *v,
	  const struct finding_list *all)
{
	char rules[400], text[440];

	rule_list(conn_policy(c), all, rules, sizeof(rules));
	if (v->action == ACTION_QUARANTINE) {
		snprintf(text, sizeof(text), "%s: %s", MG_NAME, rules);
		if (mg_smfi->quarantine(ctx, text) != MI_SUCCESS)
			mg_log(LOG_WARNING, "%s: smfi_quarantine failed (does the MTA "
			       "offer quarantine?); message accepted", c->session);
	} else if (v->action == ACTION_TAG) {
		if (mg_smfi->addheader(ctx, HDR_TAG_NAME, rules) != MI_SUCCESS)
			mg_log(LOG_WARNING, "%s: smfi_addheader failed; message "
			       "accepted untagged", c->session);
	}
	return status_of(v->action);
}

static sfsistat
mg_eom(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);
	struct finding_list all;
	struct pol_verdict v;
	struct reply r;
	sfsistat rs = SMFIS_CONTINUE;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_EOM, "no connection context");
	fetch_queue_id(ctx, c);
	if (c->msg.content != NULL && c->msg.content->body_started) {
		struct mg_content *m = c->msg.content;

		body_finish(&m->body, &body_events, m);
		finding_list_append(&c->msg.findings, &m->body_findings);
		finding_list_init(&m->body_findings);
	}
	remove_forged_tags(ctx, c);
	collect_deferred(c, &all, true);
	pol_decide(conn_policy(c), &all, &v);
	/* AuditAll: an event for every message, findings or not */
	if (v.counted > 0 || c->config->cfg->audit_all) {
		bool has_reply = v.counted > 0 &&
				 rpl_build(conn_policy(c), v.action, STAGE_EOM,
					   v.has_rule, v.applied_rule, &r);

		if (has_reply)
			set_reply(ctx, c->session, &r);
		rs = apply_eom(ctx, c, &v, &all);
		if (emit(c, STAGE_EOM, &v, &all, has_reply ? &r : NULL) < 0 &&
		    c->config->cfg->on_audit_failure == ACTION_TEMPFAIL &&
		    rs == SMFIS_CONTINUE) {
			rpl_build(conn_policy(c), ACTION_TEMPFAIL, STAGE_EOM, false,
				  RULE_COUNT, &r);
			set_reply(ctx, c->session, &r);
			rs = SMFIS_TEMPFAIL;
		}
		c->conn_unreported = false;
	}
	msg_reset(c);
	return rs;
}

static sfsistat
mg_abort(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);

	if (c != NULL)
		msg_flush(c, STAGE_ABORT);
	return SMFIS_CONTINUE;
}

static sfsistat
mg_close(SMFICTX *ctx)
{
	struct mg_conn *c = mg_smfi->getpriv(ctx);	/* connected or not */
	struct finding_list all;
	struct pol_verdict v;

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->config != NULL)
		msg_flush(c, STAGE_ABORT);
	if (c->config != NULL && c->conn_unreported) {
		collect_deferred(c, &all, false);
		pol_decide(conn_policy(c), &all, &v);
		if (v.counted > 0)
			emit(c, STAGE_CLOSE, &v, &all, NULL);
	}
	mg_smfi->setpriv(ctx, NULL);
	free(c->helo_findings);
	free(c->unknown_findings);
	if (c->config != NULL) {	/* NULL: negotiated, never connected */
		mg_config_put(&c->config);
		pthread_mutex_lock(&sessions_lock);
		sessions_active--;
		pthread_mutex_unlock(&sessions_lock);
	}
	free(c);
	return SMFIS_CONTINUE;
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

/* Ask the MTA only for what the rules read: headers with their original
   leading space, no reply per header or body chunk (decisions wait for
   end of headers and end of message), no DATA; no body when no rule reads
   it.  Actions: add and change headers
   (the tag, and removing forged ones) and quarantine. */
static sfsistat
mg_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct mg_config *config = mg_config_get();
	struct mg_conn *c = calloc(1, sizeof(*c));
	unsigned long want = SMFIP_NODATA | SMFIP_HDR_LEADSPC | SMFIP_NR_HDR |
		SMFIP_NR_BODY;

	/* Headers are always read (forged tags are removed whatever the
	   policy, and they give the body its MIME structure); the body only
	   when a rule reads it or the part headers. */
	if (config != NULL) {
		const struct policy *pol = &config->cfg->policy;

		if (!stage_active(pol, STAGE_BODY, STAGE_BODY) &&
		    !stage_active(pol, STAGE_HEADER, STAGE_EOH))
			want |= SMFIP_NOBODY;
		mg_config_put(&config);
	}
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	if (c != NULL) {
		c->protocol = *pf1;
		mg_smfi->setpriv(ctx, c);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc mg_filter = {
	MG_NAME,
	SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	mg_connect,
	mg_helo,
	mg_envfrom,
	mg_envrcpt,
	mg_header,
	mg_eoh,
	mg_body,
	mg_eom,
	mg_abort,
	mg_close,
	mg_unknown,
	mg_data,
	mg_negotiate,
};
