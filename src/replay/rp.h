/*
 * rp.h -- milter-guard-replay: what its modules share
 *
 *   mbox.c    splitting an mbox into messages, From-line unquoting
 *   run.c     one message through the core's session engine
 *             (src/core/session.h), as the daemon would see it from an MTA
 *   main.c    options, sources (maildir, mbox, files, folders), output,
 *             summary, compare, explain
 *
 * run.c is the whole of the difference between the daemon and replay: it
 * plays the MTA (HELO, MAIL, RCPT, the header fields as the MTA hands them
 * over, the body in CRLF chunks, end of message) into the same session
 * calls libmilter's callbacks make.
 */
#ifndef MG_REPLAY_H
#define MG_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/session.h"

#define RP_RCPT_MAX 32
#define RP_BODY_CHUNK 65536	/* what Postfix hands over at once */
#define RP_POSTFIX_HEADER_MAX 102400	/* Postfix header_size_limit */

/* --- mbox.c --- */
enum rp_mbox_format {
	RP_MBOXRD,	/* ">*From " lines lose one ">" */
	RP_MBOXO	/* only ">From " lines lose their ">" */
};

/* True if buf starts like an mbox ("From " line). */
bool rp_is_mbox(const char *buf, size_t len);
/* The next message of an mbox from *pos: [*msg_r, +*len_r), its From line
   left out and the blank line that ends it too.  Returns false at the
   end.  A "From " line starts a message only at the start of the file or
   after a blank line. */
bool rp_mbox_next(const char *buf, size_t len, size_t *pos, const char **msg_r,
		  size_t *len_r);
/* Undo From-line quoting into out (at least len octets); returns the new
   length. */
size_t rp_mbox_unquote(const char *msg, size_t len, enum rp_mbox_format f, char *out);

/* --- run.c --- */
enum rp_view {
	RP_VIEW_POSTFIX,	/* drops Bcc, Content-Length, Resent-Bcc,
				   Return-Path; cuts a header at 100 KiB */
	RP_VIEW_RAW		/* every field as it is in the file */
};

struct rp_envelope {
	const char *helo;
	const char *client_name;
	bool has_addr;
	unsigned char addr[16];
	const char *country;	/* GeoIP, or NULL */
	unsigned long asn;
	const char *as_org;
	const char *from;	/* MAIL path, e.g. "<a@example.org>" */
	const char *mail_params[8];	/* ESMTP parameters, NULL-terminated */
	const char *rcpt[RP_RCPT_MAX];
	size_t nrcpt;
	const char *rcpt_params[8];	/* ESMTP parameters of every RCPT */
	bool authenticated;
};

/* The verdict on one message. */
struct rp_result {
	enum rule_action action;	/* what would be done */
	enum rule_action intended;	/* what the policy says, monitoring aside */
	enum rule_stage stage;		/* where it was decided */
	bool has_rule;
	enum rule_id rule;		/* the finding that decided `intended` */
	struct finding_list findings;	/* every finding reported */
	size_t events;
};

/* The MTA's side of a session, as rp_play() drives it: the replay's own
   (into the session engine) or a test's (into the daemon over the milter
   protocol), so both see the same bytes.  helo, mail and eoh return 1 to
   go on, 0 if refused, -1 on error; rcpt 1 if accepted. */
struct rp_mta {
	int (*helo)(void *arg, const char *helo, size_t len);
	int (*mail)(void *arg, const struct env_arg *args, size_t n);
	int (*rcpt)(void *arg, const struct env_arg *args, size_t n);
	int (*header)(void *arg, const char *name, size_t name_len,
		      const char *value, size_t value_len);
	int (*eoh)(void *arg);
	void (*body)(void *arg, const char *chunk, size_t len);
	void (*eom)(void *arg);
	void (*abort)(void *arg);
};

/* A growing buffer, reused from message to message. */
struct rp_buf {
	char *p;
	size_t size;
};

/* Play one message to mta: HELO, MAIL, RCPT, the header fields as the MTA
   hands them over in view (leading space kept, folded lines joined by
   "\n", NUL left out), the body in CRLF lines and RP_BODY_CHUNK chunks,
   end of message; stops where mta refuses.  -1 on error. */
int rp_play(const struct rp_envelope *env, const char *msg, size_t len,
	    enum rp_view view, const struct rp_mta *mta, void *arg, struct rp_buf *buf);
void rp_buf_free(struct rp_buf *b);

struct rp_runner {
	const struct cfg *cfg;
	enum rp_view view;
	FILE *json;		/* events go here when not NULL */
	const char *host;	/* for the events */
	const char *id;		/* the message now, raw: its queue id in events */
	unsigned long sessions;
	bool authenticated;	/* of the message now */
	struct rp_result *res;
	struct sess sess;
	struct sess_result last;	/* of the last session call */
	struct rp_buf buf;	/* header values and the CRLF body */
};

void rp_runner_init(struct rp_runner *r, const struct cfg *cfg, enum rp_view view);
void rp_runner_free(struct rp_runner *r);
/* Take the envelope's sender and recipients from Return-Path,
   Delivered-To and X-Original-To where the message has them; strings
   point into store (size at least 2 * len + 8). */
void rp_envelope_from_headers(const char *msg, size_t len, struct rp_envelope *env,
			      char *store);
/* The session engine as an MTA: rp_begin() connects a fresh session for
   the message id (its queue id in events) and rp_end() closes it and
   fills in the result; in between, drive rp_engine with the runner as
   its arg. */
extern const struct rp_mta rp_engine;
void rp_begin(struct rp_runner *r, const struct rp_envelope *env, const char *id,
	      struct rp_result *res_r);
void rp_end(struct rp_runner *r);
/* Run msg[0..len) through a fresh session; -1 if memory ran out. */
int rp_run(struct rp_runner *r, const struct rp_envelope *env, const char *msg,
	   size_t len, const char *id, struct rp_result *res_r);

const char *rp_action_done(enum rule_action a);	/* "quarantined" */

#endif
