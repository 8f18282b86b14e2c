/*
 * event.h -- audit events as JSON lines
 *
 * One event per decision, plus lifecycle events (start, reload,
 * reload_failed, stop).  Every string that can carry attacker bytes (HELO,
 * sender, client name, samples) is escaped with esc_bytes() and capped
 * before it reaches jansson, so an event is always printable ASCII and
 * valid JSON.  The builder returns a malloc'd line ending in "\n", or NULL
 * when memory runs out; it does no I/O (the shell writes the line).
 *
 * Schema version EVT_SCHEMA; fields are described in docs/audit-events.md.
 */
#ifndef MG_EVENT_H
#define MG_EVENT_H

#include <stddef.h>
#include <stdbool.h>

#include "finding.h"
#include "policy.h"
#include "reply.h"

#define EVT_SCHEMA 2
#define EVT_OVERRIDES_MAX 8	/* overrides named in one event */
#define EVT_FIELD_MAX 320	/* escaped HELO, sender, client name */
#define EVT_DETAIL_MAX 1024	/* escaped lifecycle values (error messages) */

struct evt_time {
	long long sec;		/* seconds since the epoch, UTC */
	long usec;
};

/* Who and what the decision is about.  Pointers may be NULL. */
struct evt_context {
	const char *host;		/* this machine */
	const char *session;		/* connection id */
	const char *queue_id;		/* the MTA's, once known */
	const char *client_ip;
	unsigned client_port;
	const char *client_name;	/* as the MTA resolved it */
	size_t client_name_len;
	const char *helo;
	size_t helo_len;
	const char *sender;
	size_t sender_len;
	unsigned long recipients;	/* accepted so far */
	unsigned long message;		/* message number in the connection, from 1 */
	size_t sample_max;		/* escaped sample cap (AuditSampleLength) */
	const char *country;		/* GeoIP, NULL if unknown */
	unsigned long asn;		/* 0 if unknown */
	const char *as_org;
	bool trusted;			/* TrustedNetworks exempted rules */
	bool authenticated;		/* ExemptAuthenticated exempted rules */
	const char *overrides[EVT_OVERRIDES_MAX];	/* Override lines that applied */
	size_t noverrides;
	bool body_seen;			/* the body was inspected: */
	unsigned long long body_scanned;	/* octets looked at */
	bool body_truncated;		/* BodyInspectLimit reached */
};

/* A decision event: stage where it was taken, verdict and findings, and
   the reply sent (NULL if none). */
char *evt_decision(const struct evt_time *t, const struct evt_context *ctx,
		   enum rule_stage stage, const struct policy *pol,
		   const struct pol_verdict *v, const struct finding_list *f,
		   const struct reply *reply);

/* A lifecycle event: type is "start", "reload", "reload_failed", "stop" or
   "internal_error"; kv is NULL or a NULL-terminated list key, value, ... of
   strings (values are escaped). */
char *evt_lifecycle(const struct evt_time *t, const char *host,
		    const char *type, const char *const *kv);

/* A chain checkpoint (reason "interval", "reopen" or "stop"): events is
   the number of events since the previous checkpoint of this process. */
char *evt_checkpoint(const struct evt_time *t, const char *host,
		     const char *reason, unsigned long long events);

/* What a sink lost while it failed; written when it is tried again. */
struct evt_sink_failure {
	const char *sink;		/* "file", "syslog" or "stdout" */
	const char *path;		/* the file or socket */
	const char *error;		/* strerror of the first failure */
	unsigned long long lost;	/* events not written to it */
	unsigned long long first_seq;	/* chained: the first and last lost */
	unsigned long long last_seq;	/* seq (0 when not chained) */
	struct evt_time since;		/* time of the first loss */
};
char *evt_sink_failure(const struct evt_time *t, const char *host,
		       const struct evt_sink_failure *sf);

/* RFC 3339 UTC with microseconds: "2026-11-23T19:35:30.123456Z". */
void evt_format_time(const struct evt_time *t, char *buf, size_t size);

#endif
