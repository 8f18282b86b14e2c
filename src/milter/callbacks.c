/*
 * callbacks.c -- libmilter callbacks
 *
 * Each callback fetches its connection context and hands the bytes to the
 * core's session engine (src/core/session.h), which decides what each
 * stage checks, keeps or reports findings, and applies exemptions; the
 * callback turns its result into a reply, a return code, a tag or a
 * quarantine.  milter-guard-replay drives the same engine.  Events are
 * written by emit(), the engine's hook.
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

#include "core/reply.h"
#include "core/session.h"
#include "geo.h"

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

struct mg_conn {
	struct mg_config *config;	/* the config this connection started with */
	unsigned long protocol;		/* SMFIP_* negotiated */
	bool header_failed;		/* a header callback that may not reply
					   (SMFIP_NR_HDR) failed: end of headers
					   (or of message) applies OnInternalError */
	SMFICTX *ctx;			/* of the callback running now */
	struct sess sess;		/* the core's session: every decision */
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
	return sess_policy(&c->sess);
}

static void
fetch_queue_id(SMFICTX *ctx, struct mg_conn *c)
{
	char *qid;

	if (sess_has_queue_id(&c->sess))
		return;
	qid = mg_smfi->getsymval(ctx, "i");
	if (qid != NULL)
		sess_set_queue_id(&c->sess, qid, strlen(qid));
}

/* The session's hook: write a decision event; -1 if it could not be built
   or written. */
static int
emit(void *arg, const struct sess *s, enum rule_stage stage, const struct pol_verdict *v,
     const struct finding_list *f, const struct reply *r)
{
	struct evt_context e;
	struct evt_time t;
	char *line;
	int rc;

	(void)arg;
	sess_event_context(s, mg_hostname(), &e);
	mg_now(&t);
	line = evt_decision(&t, &e, stage, sess_policy(s), v, f, r);
	if (line == NULL) {
		mg_log(LOG_ERR, "%s: audit: out of memory building an event", s->id);
		return -1;
	}
	rc = mg_audit_write(line);
	free(line);
	return rc;
}

/* The session's hook: an immediate decision wants the queue id. */
static void
want_queue_id(void *arg, struct sess *s)
{
	struct mg_conn *c = arg;

	(void)s;
	fetch_queue_id(c->ctx, c);
}

static const struct sess_ops sess_hooks = { emit, want_queue_id };

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
	const char *kv[] = { "session", c ? c->sess.id : "-", "stage",
		rule_stage_name(stage), "error", what, "action", rule_action_name(a), NULL };
	struct reply r;

	mg_log(LOG_ERR, "%s: %s: internal error: %s; OnInternalError %s",
	       c ? c->sess.id : "-", rule_stage_name(stage), what, rule_action_name(a));
	mg_audit_lifecycle("internal_error", kv);
	if (pol != NULL && rpl_build(pol, a, stage, false, RULE_COUNT, &r))
		set_reply(ctx, c ? c->sess.id : "-", &r);
	mg_config_put(&config);
	return a == ACTION_ACCEPT ? SMFIS_ACCEPT : status_of(a);
}

/* What the session decided, as libmilter's status and reply. */
static sfsistat
result(SMFICTX *ctx, const struct mg_conn *c, const struct sess_result *r)
{
	if (r->has_reply)
		set_reply(ctx, c->sess.id, &r->reply);
	return status_of(r->action);
}

/* The connection's context, once CONNECT has set it up: a peer that skips
   CONNECT (or sends commands out of order) gets OnInternalError, never a
   half-built context. */
static struct mg_conn *
conn_of(SMFICTX *ctx)
{
	struct mg_conn *c = mg_smfi->getpriv(ctx);

	if (c == NULL || c->config == NULL)
		return NULL;
	c->ctx = ctx;
	return c;
}

/* The status a header or body callback returns: no reply at all when the
   MTA agreed not to wait for one. */
static sfsistat
no_reply_or(const struct mg_conn *c, unsigned long nr_flag, sfsistat rs)
{
	return rs == SMFIS_CONTINUE && (c->protocol & nr_flag) ? SMFIS_NOREPLY : rs;
}

static sfsistat
mg_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	struct mg_conn *c = mg_smfi->getpriv(ctx);	/* from mg_negotiate() */
	unsigned long protocol = c ? c->protocol : 0, active;
	struct sess_peer peer = { hostname, false, { 0 }, 0, NULL, 0, NULL };
	struct geo_result g = { "", 0, "", NULL };
	char id[SESS_ID_MAX];

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
	snprintf(id, sizeof(id), "%lx.%lu", (unsigned long)getpid(), ++sessions_total);
	pthread_mutex_unlock(&sessions_lock);
	if (addr != NULL && addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

		memcpy(peer.addr + 12, &sin->sin_addr, 4);
		peer.addr[10] = peer.addr[11] = 0xff;
		peer.has_addr = true;
		peer.port = ntohs(sin->sin_port);
	} else if (addr != NULL && addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

		memcpy(peer.addr, &sin6->sin6_addr, 16);
		peer.has_addr = true;
		peer.port = ntohs(sin6->sin6_port);
	}
	if (c->config->geo != NULL && addr != NULL) {
		geo_lookup(c->config->geo, addr, &g);
		peer.country = g.country;
		peer.asn = g.asn;
		peer.as_org = g.org;
	}
	c->ctx = ctx;
	sess_connect(&c->sess, c->config->cfg, &sess_hooks, c, id, &peer);
	if (c->config->geo != NULL && addr != NULL && g.error != NULL)
		mg_log(LOG_WARNING, "%s: GeoIP lookup of %s failed: %s; client "
		       "unknown", c->sess.id, c->sess.client_ip, g.error);
	if (mg_smfi->setpriv(ctx, c) != MI_SUCCESS) {
		mg_config_put(&c->config);
		free(c);
		pthread_mutex_lock(&sessions_lock);
		sessions_active--;
		pthread_mutex_unlock(&sessions_lock);
		return internal_error(ctx, NULL, STAGE_CONNECT, "smfi_setpriv failed");
	}
	return mg_guard_admit(ctx, c->config->cfg, active, c->sess.id);
}

static sfsistat
mg_helo(SMFICTX *ctx, char *helo)
{
	struct mg_conn *c = conn_of(ctx);
	struct sess_result r;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_HELO, "no connection context");
	sess_helo(&c->sess, helo, strlen(helo), &r);
	return result(ctx, c, &r);
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
	struct sess_result r;
	bool authenticated = false;
	size_t n;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_MAIL, "no connection context");
	c->header_failed = false;	/* a new message */
	if (!c->sess.client.authenticated) {
		char *who = mg_smfi->getsymval(ctx, "{auth_authen}");

		authenticated = who != NULL && who[0] != '\0';
	}
	n = env_args(argv, args);
	sess_mail(&c->sess, args, n, authenticated, &r);
	return result(ctx, c, &r);
}

static sfsistat
mg_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mg_conn *c = conn_of(ctx);
	struct env_arg args[MG_ARGS_MAX];
	struct sess_result r;
	size_t n;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_RCPT, "no connection context");
	n = env_args(argv, args);
	sess_rcpt(&c->sess, args, n, &r);
	return result(ctx, c, &r);
}

static sfsistat
mg_unknown(SMFICTX *ctx, const char *cmd)
{
	struct mg_conn *c = conn_of(ctx);
	struct sess_result r;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_UNKNOWN, "no connection context");
	sess_unknown(&c->sess, cmd, strlen(cmd), &r);
	return result(ctx, c, &r);
}

static sfsistat
mg_data(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);

	if (c != NULL)
		fetch_queue_id(ctx, c);
	return SMFIS_CONTINUE;
}

/* A header callback that may not reply (SMFIP_NR_HDR) must not fail
   with a status: libmilter would turn it into no reply and drop the
   message's later commands unanswered, so the MTA would wait for its
   timeout.  The failure waits for end of headers instead. */
static sfsistat
mg_header(SMFICTX *ctx, char *name, char *value)
{
	struct mg_conn *c = conn_of(ctx);

	if (c == NULL) {
		/* no CONNECT: answered at end of headers, if it may not be here */
		const struct mg_conn *n = mg_smfi->getpriv(ctx);

		if (n != NULL && (n->protocol & SMFIP_NR_HDR))
			return SMFIS_NOREPLY;
		return internal_error(ctx, NULL, STAGE_HEADER, "no connection context");
	}
	if (c->header_failed)
		return no_reply_or(c, SMFIP_NR_HDR, SMFIS_CONTINUE);
	if (sess_header(&c->sess, name, strlen(name), value, strlen(value)) < 0) {
		if (!(c->protocol & SMFIP_NR_HDR))
			return internal_error(ctx, c, STAGE_HEADER, "out of memory");
		c->header_failed = true;
	}
	return no_reply_or(c, SMFIP_NR_HDR, SMFIS_CONTINUE);
}

/* The failure a header callback kept for end of headers, once. */
static bool
header_failed(struct mg_conn *c)
{
	bool failed = c->header_failed;

	c->header_failed = false;
	return failed;
}

static sfsistat
mg_eoh(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);
	struct sess_result r;

	if (c != NULL && header_failed(c))
		return internal_error(ctx, c, STAGE_HEADER, "out of memory");
	if (c == NULL || sess_eoh(&c->sess, &r) < 0)
		return internal_error(ctx, c, STAGE_EOH, c ? "out of memory" :
				      "no connection context");
	return result(ctx, c, &r);
}

static sfsistat
mg_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct mg_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	sess_body(&c->sess, (const char *)chunk, len);
	return no_reply_or(c, SMFIP_NR_BODY, SMFIS_CONTINUE);
}

/* Remove every tag header the sender sent, last first so the indexes of
   the ones before stay right.  NULL, or what failed: a forged tag left in
   place is one a downstream filter would trust. */
static const char *
remove_forged_tags(SMFICTX *ctx, const struct mg_conn *c)
{
	for (unsigned i = sess_forged_tags(&c->sess); i > 0; i--)
		if (mg_smfi->chgheader(ctx, HDR_TAG_NAME, (int)i, NULL) != MI_SUCCESS)
			return "the MTA refused to remove a forged " HDR_TAG_NAME
			       " header (smfi_chgheader)";
	return NULL;
}

/* Tag and quarantine happen here, the only stage that can carry them.
   NULL, or what failed (the MTA did not offer the action, or refused it). */
static const char *
mark(SMFICTX *ctx, const struct sess_result *r)
{
	char text[SESS_RULES_MAX + 40];

	if (r->mark == ACTION_QUARANTINE) {
		snprintf(text, sizeof(text), "%s: %s", MG_NAME, r->rules);
		if (mg_smfi->quarantine(ctx, text) != MI_SUCCESS)
			return "the MTA refused the quarantine (smfi_quarantine)";
	} else if (r->mark == ACTION_TAG) {
		if (mg_smfi->addheader(ctx, HDR_TAG_NAME, (char *)r->rules) != MI_SUCCESS)
			return "the MTA refused the tag header (smfi_addheader)";
	}
	return NULL;
}

/* A message to be delivered whose mark (or the removal of a forged tag)
   failed is not delivered as if nothing had been found: OnInternalError
   decides, as for any error of ours. */
static sfsistat
mg_eom(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);
	struct sess_result r;
	const char *failed;

	if (c == NULL)
		return internal_error(ctx, NULL, STAGE_EOM, "no connection context");
	if (header_failed(c))	/* the MTA sent no end of headers */
		return internal_error(ctx, c, STAGE_HEADER, "out of memory");
	fetch_queue_id(ctx, c);
	failed = remove_forged_tags(ctx, c);
	sess_eom(&c->sess, &r);
	if (status_of(r.action) != SMFIS_CONTINUE)
		return result(ctx, c, &r);	/* refused: nothing is delivered */
	if (failed == NULL)
		failed = mark(ctx, &r);
	if (failed != NULL)
		return internal_error(ctx, c, STAGE_EOM, failed);
	return result(ctx, c, &r);
}

static sfsistat
mg_abort(SMFICTX *ctx)
{
	struct mg_conn *c = conn_of(ctx);

	if (c != NULL) {
		c->header_failed = false;
		sess_abort(&c->sess);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mg_close(SMFICTX *ctx)
{
	struct mg_conn *c = mg_smfi->getpriv(ctx);	/* connected or not */

	if (c == NULL)
		return SMFIS_CONTINUE;
	mg_smfi->setpriv(ctx, NULL);
	if (c->config != NULL) {	/* NULL: negotiated, never connected */
		c->ctx = ctx;
		sess_close(&c->sess);
		mg_config_put(&c->config);
		pthread_mutex_lock(&sessions_lock);
		sessions_active--;
		pthread_mutex_unlock(&sessions_lock);
	}
	free(c);
	return SMFIS_CONTINUE;
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
		if (!sess_wants_body(&config->cfg->policy))
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
