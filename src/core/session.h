/*
 * session.h -- one SMTP session through the checks: the decision engine
 *
 * The daemon (src/milter/callbacks.c) and milter-guard-replay both drive a
 * session through these calls, one per SMTP event, so they cannot disagree
 * about what is checked at each stage, how findings accumulate, when a
 * verdict takes effect, which exemptions and overrides apply, and what is
 * tagged or quarantined.  The engine does no I/O: events go to the shell's
 * emit hook (which builds them with evt_decision() and writes them), and
 * each call returns what the shell must do (continue, or refuse with a
 * reply; at end of message, tag or quarantine).
 *
 * Findings whose action can wait (log, tag, quarantine, and anything
 * monitored) are kept with the message, or with the connection for HELO
 * and unknown commands, and reported in one event at end of message (or at
 * abort or close, so that nothing found is ever lost).  A refusal is
 * reported at once.
 *
 * Memory: struct sess is the caller's; the message's content state (about
 * 36 KB) is allocated at its first header and freed with the message, and
 * the connection's deferred HELO and unknown-command findings on first
 * use.  sess_close() frees everything.
 */
#ifndef MG_SESSION_H
#define MG_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "body.h"
#include "cfg.h"
#include "client.h"
#include "envelope.h"
#include "event.h"
#include "finding.h"
#include "hdr.h"
#include "policy.h"
#include "reply.h"

#define SESS_KEEP_HELO	 1024	/* raw octets kept for events */
#define SESS_KEEP_SENDER 1024
#define SESS_KEEP_NAME	 256
#define SESS_ORG_MAX	 128	/* AS organisation, as GeoIP gives it */
#define SESS_ID_MAX	 32
#define SESS_QUEUE_ID_MAX 64
#define SESS_RULES_MAX	 400	/* "rules=a,b" of a tag or quarantine */

struct sess;

/* What the engine needs from its shell. */
struct sess_ops {
	/* Write a decision event (stage, verdict, findings, the reply sent
	   or NULL); return -1 if it could not be built or written. */
	int (*emit)(void *arg, const struct sess *s, enum rule_stage stage,
		    const struct pol_verdict *v, const struct finding_list *f,
		    const struct reply *r);
	/* An immediate decision is about to be reported: the MTA's queue id
	   is wanted now (sess_set_queue_id()).  May be NULL. */
	void (*want_queue_id)(void *arg, struct sess *s);
};

/* What the shell must do after a call. */
struct sess_result {
	enum rule_action action;	/* ACCEPT: go on; REJECT, TEMPFAIL,
					   DISCARD: refuse; TAG, QUARANTINE:
					   at end of message only */
	bool has_reply;
	struct reply reply;		/* set it when has_reply */
	enum rule_stage stage;		/* where the action was decided */
	enum rule_action mark;		/* end of message: TAG, QUARANTINE
					   (even if action became TEMPFAIL),
					   or ACCEPT */
	char rules[SESS_RULES_MAX];	/* what to mark it with: "rules=a,b" */
};

/* Who connected, as the MTA and GeoIP tell it. */
struct sess_peer {
	const char *name;		/* the MTA's resolved name, or NULL */
	bool has_addr;
	unsigned char addr[16];		/* net.h form: IPv4 as mapped */
	unsigned port;
	const char *country;		/* "" or NULL if unknown */
	unsigned long asn;
	const char *as_org;		/* NULL if unknown */
};

/* The message's content state (allocated at its first header). */
struct sess_content {
	struct hdr_state hdr;
	struct finding_list hdr_findings;	/* decided at end of headers */
	struct body_ctx body;
	bool body_started;
	struct finding_list body_findings;	/* decided at end of message */
	const struct limits *lim;
};

struct sess_msg {
	bool active;
	unsigned long number;		/* in the connection, from 1 */
	char queue_id[SESS_QUEUE_ID_MAX];
	char sender[SESS_KEEP_SENDER];
	size_t sender_len;
	struct env_mail_info mail;
	unsigned long rcpts_seen;
	unsigned long rcpts_accepted;
	struct finding_list findings;	/* deferred: reported at end of message */
	struct sess_content *content;
};

struct sess {
	const struct cfg *cfg;		/* the config this session started with */
	const struct sess_ops *ops;
	void *arg;			/* for the hooks; the shell may change it */
	struct policy pol;		/* the config's policy for this client */
	struct client client;
	struct client_applied applied;	/* exemptions and overrides in pol */
	char as_org[SESS_ORG_MAX];
	char id[SESS_ID_MAX];
	char client_ip[46];
	unsigned client_port;
	char client_name[SESS_KEEP_NAME];
	size_t client_name_len;
	char helo[SESS_KEEP_HELO];
	size_t helo_len;
	bool helo_seen;
	unsigned long unknown_count;
	unsigned long messages;
	bool conn_unreported;		/* HELO or unknown findings in no event yet */
	/* deferred connection findings, allocated on first use (most
	   connections have none): */
	struct finding_list *helo_findings;	/* replaced at each HELO */
	struct finding_list *unknown_findings;
	struct sess_msg msg;
};

/* CONNECT: a new session of cfg (which must outlive it) for peer. */
void sess_connect(struct sess *s, const struct cfg *cfg, const struct sess_ops *ops,
		  void *arg, const char *id, const struct sess_peer *peer);
void sess_helo(struct sess *s, const char *helo, size_t len, struct sess_result *r_r);
/* MAIL: args[0] is the path; authenticated if the MTA says the client
   authenticated (exemptions apply from now on). */
void sess_mail(struct sess *s, const struct env_arg *args, size_t n,
	       bool authenticated, struct sess_result *r_r);
void sess_rcpt(struct sess *s, const struct env_arg *args, size_t n,
	       struct sess_result *r_r);
void sess_unknown(struct sess *s, const char *cmd, size_t len, struct sess_result *r_r);
/* A header field as the MTA hands it over; -1 if memory ran out. */
int sess_header(struct sess *s, const char *name, size_t name_len,
		const char *value, size_t value_len);
/* End of headers; -1 if memory ran out. */
int sess_eoh(struct sess *s, struct sess_result *r_r);
void sess_body(struct sess *s, const char *chunk, size_t len);
/* End of message: remove sess_forged_tags() tag headers first. */
void sess_eom(struct sess *s, struct sess_result *r_r);
/* The message ended without end of message (RSET, a dropped client). */
void sess_abort(struct sess *s);
/* The connection ends: reports what is left and frees the session. */
void sess_close(struct sess *s);

/* The MTA's queue id, escaped and kept for the events. */
void sess_set_queue_id(struct sess *s, const char *qid, size_t len);
bool sess_has_queue_id(const struct sess *s);
/* Tag headers the sender sent (to be removed). */
unsigned sess_forged_tags(const struct sess *s);
const struct policy *sess_policy(const struct sess *s);
/* True if some rule of the policy reads the body or the headers. */
bool sess_wants_body(const struct policy *pol);

/* The event context of the session now (host: this machine). */
void sess_event_context(const struct sess *s, const char *host, struct evt_context *e_r);

#endif
