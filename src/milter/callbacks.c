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

#include "core/envelope.h"
#include "core/esc.h"
#include "core/reply.h"

#define MG_KEEP_HELO	1024	/* raw octets kept for events */
#define MG_KEEP_SENDER	1024
#define MG_KEEP_NAME	256
#define MG_ARGS_MAX	64	/* ESMTP parameters examined (Sendmail passes <= 20) */
#define MG_TAG_HEADER	"X-Milter-Guard"

struct mg_smfi {
	void *(*getpriv)(SMFICTX *);
	int (*setpriv)(SMFICTX *, void *);
	char *(*getsymval)(SMFICTX *, char *);
	int (*setreply)(SMFICTX *, char *, char *, char *);
	int (*quarantine)(SMFICTX *, char *);
	int (*addheader)(SMFICTX *, char *, char *);
};

static const struct mg_smfi smfi_libmilter = {
	smfi_getpriv, smfi_setpriv, smfi_getsymval, smfi_setreply,
	smfi_quarantine, smfi_addheader,
};

static const struct mg_smfi *mg_smfi = &smfi_libmilter;

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
};

struct mg_conn {
	struct mg_config *config;	/* the config this connection started with */
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
	bool conn_reported;		/* the connection's findings are in an event */
	struct finding_list helo_findings;	/* deferred, replaced at each HELO */
	struct finding_list unknown_findings;	/* deferred */
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
	return &c->config->cfg->policy;
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
		finding_list_append(stage == STAGE_HELO ? &c->helo_findings :
				    stage == STAGE_UNKNOWN ? &c->unknown_findings :
				    &c->msg.findings, f);
		return SMFIS_CONTINUE;
	}
	fetch_queue_id(ctx, c);
	has_reply = rpl_build(pol, v.action, stage, v.has_rule, v.rule, &r);
	emit(c, stage, &v, f, has_reply ? &r : NULL);	/* a refusal stands even if its event fails */
	if (has_reply)
		set_reply(ctx, c->session, &r);
	return status_of(v.action);
}

static struct mg_conn *
conn_of(SMFICTX *ctx)
{
	return mg_smfi->getpriv(ctx);
}

static void
msg_reset(struct mg_conn *c)
{
	memset(&c->msg, 0, sizeof(c->msg));
	finding_list_init(&c->msg.findings);
}

/* Everything deferred that the next event should carry. */
static void
collect_deferred(const struct mg_conn *c, struct finding_list *all, bool with_msg)
{
	finding_list_init(all);
	finding_list_append(all, &c->helo_findings);
	finding_list_append(all, &c->unknown_findings);
	if (with_msg)
		finding_list_append(all, &c->msg.findings);
}

/* A message ends without end-of-message: report what it had. */
static void
msg_flush(struct mg_conn *c, enum rule_stage stage)
{
	struct pol_verdict v;

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
	struct mg_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_CONNECT, "out of memory");
	c->config = mg_config_get();
	if (c->config == NULL) {
		free(c);
		return internal_error(ctx, NULL, STAGE_CONNECT, "no configuration");
	}
	pthread_mutex_lock(&sessions_lock);
	sessions_active++;
	snprintf(c->session, sizeof(c->session), "%lx.%lu",
		 (unsigned long)getpid(), ++sessions_total);
	pthread_mutex_unlock(&sessions_lock);
	if (hostname != NULL)
		keep(c->client_name, sizeof(c->client_name), &c->client_name_len, hostname);
	if (addr != NULL && addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

		inet_ntop(AF_INET, &sin->sin_addr, c->client_ip, sizeof(c->client_ip));
		c->client_port = ntohs(sin->sin_port);
	} else if (addr != NULL && addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, c->client_ip, sizeof(c->client_ip));
		c->client_port = ntohs(sin6->sin6_port);
	}
	finding_list_init(&c->helo_findings);
	finding_list_init(&c->unknown_findings);
	msg_reset(c);
	if (mg_smfi->setpriv(ctx, c) != MI_SUCCESS) {
		mg_config_put(&c->config);
		free(c);
		pthread_mutex_lock(&sessions_lock);
		sessions_active--;
		pthread_mutex_unlock(&sessions_lock);
		return internal_error(ctx, NULL, STAGE_CONNECT, "smfi_setpriv failed");
	}
	return SMFIS_CONTINUE;
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
	finding_list_init(&c->helo_findings);	/* a new HELO replaces the old */
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
	return SMFIS_CONTINUE;	/* no header rule yet: negotiated away */
}

static sfsistat
mg_eoh(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
mg_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return SMFIS_SKIP;	/* no body rule yet: negotiated away */
}

/* Tag and quarantine happen here, the only stage that can carry them. */
static sfsistat
apply_eom(SMFICTX *ctx, struct mg_conn *c, const struct pol_verdict *v,
	  const struct finding_list *all)
{
	char text[512];
	size_t o = 0;

	if (v->action == ACTION_QUARANTINE) {
		snprintf(text, sizeof(text), "%s: %s", MG_NAME,
			 rule_table[v->rule].name);
		if (mg_smfi->quarantine(ctx, text) != MI_SUCCESS)
			mg_log(LOG_WARNING, "%s: smfi_quarantine failed (does the MTA "
			       "offer quarantine?); message accepted", c->session);
	} else if (v->action == ACTION_TAG) {
		text[0] = '\0';
		for (size_t i = 0; i < all->count; i++) {
			const char *name = rule_table[all->items[i].rule].name;

			if (strstr(text, name) != NULL)
				continue;
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s",
					      o ? " " : "", name);
			if (o >= sizeof(text))
				break;
		}
		if (mg_smfi->addheader(ctx, MG_TAG_HEADER, text) != MI_SUCCESS)
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
	collect_deferred(c, &all, true);
	pol_decide(conn_policy(c), &all, &v);
	if (v.counted > 0) {
		bool has_reply = rpl_build(conn_policy(c), v.action, STAGE_EOM,
					   v.has_rule, v.rule, &r);

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
		c->conn_reported = true;
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
	struct mg_conn *c = conn_of(ctx);
	struct finding_list all;
	struct pol_verdict v;

	if (c == NULL)
		return SMFIS_CONTINUE;
	msg_flush(c, STAGE_ABORT);
	if (!c->conn_reported) {
		collect_deferred(c, &all, false);
		pol_decide(conn_policy(c), &all, &v);
		if (v.counted > 0)
			emit(c, STAGE_CLOSE, &v, &all, NULL);
	}
	mg_smfi->setpriv(ctx, NULL);
	mg_config_put(&c->config);
	free(c);
	pthread_mutex_lock(&sessions_lock);
	sessions_active--;
	pthread_mutex_unlock(&sessions_lock);
	return SMFIS_CONTINUE;
}

/* Ask the MTA only for what the rules read: no DATA, headers or body yet;
   the actions tag (add header) and quarantine. */
static sfsistat
mg_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & (SMFIP_NODATA | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

struct smfiDesc mg_filter = {
	MG_NAME,
	SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_QUARANTINE,
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
