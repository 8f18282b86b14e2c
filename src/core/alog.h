/*
 * alog.h -- reading audit log lines: a line splitter and an event parser
 *
 * The audit log is one JSON object per line, printable US-ASCII (see
 * docs/audit-events.md).  alog_parse() checks one line strictly (printable
 * ASCII only, well-formed JSON, nesting at most ALOG_DEPTH_MAX deep, the
 * members milter-guard-audit reads of the right type, none twice) and
 * records those members as slices of the line: nothing is copied or
 * allocated, and strings stay JSON-escaped exactly as they stand in the
 * file, so whoever prints them prints only printable ASCII and never
 * unescapes attacker bytes.  No recursion on input: containers are walked
 * with an explicit stack.
 *
 * Pure: the shell reads the files and hands over bytes.
 */
#ifndef MG_ALOG_H
#define MG_ALOG_H

#include <stdbool.h>
#include <stddef.h>

#define ALOG_LINE_MAX (1024 * 1024)	/* longest line read, octets */
#define ALOG_DEPTH_MAX 8		/* nesting of objects and arrays */
#define ALOG_FINDINGS_MAX 64		/* findings recorded per event */
#define ALOG_EXTRA_MAX 16		/* other top-level scalars recorded */
#define ALOG_SCHEMA_MAX 2		/* newest schema version known */
#define ALOG_TIME_LEN 27		/* "2026-11-23T20:41:32.553390Z" */

/* A string member: the bytes between its quotes, still JSON-escaped.
   set: the member was present; p == NULL: it was null. */
struct alog_str {
	const char *p;
	size_t len;
	bool set;
};

struct alog_num {
	unsigned long long v;
	bool set;
};

struct alog_bool {
	bool v;
	bool set;
};

struct alog_finding {
	struct alog_str rule;
	struct alog_str stage;
	struct alog_str action;
	struct alog_bool monitor;
};

/* A top-level scalar not otherwise recorded (lifecycle details): the key
   and the value as written (a string without its quotes). */
struct alog_extra {
	struct alog_str key;
	struct alog_str value;
};

struct alog_event {
	/* every event */
	struct alog_num schema;
	struct alog_str time;
	struct alog_str type;
	struct alog_str host;
	/* decision */
	struct alog_str session;
	struct alog_str queue_id;
	struct alog_str client_ip;
	struct alog_str client_name;
	struct alog_str country;
	struct alog_num asn;
	struct alog_str helo;
	struct alog_str sender;
	struct alog_str stage;
	struct alog_str action;
	struct alog_str applied;
	struct alog_str mode;
	struct alog_str rule;
	struct alog_finding finding[ALOG_FINDINGS_MAX];
	size_t nfindings;
	size_t findings_over;		/* findings past ALOG_FINDINGS_MAX */
	/* checkpoint, sink_failure ("events" and "lost" may also be written
	   as strings of digits, as evt_lifecycle() writes its values) */
	struct alog_str reason;
	struct alog_num events;
	struct alog_str sink;
	struct alog_num lost;
	struct alog_str since;
	struct alog_str until;
	/* the chain (chain.h) */
	struct alog_num seq;
	struct alog_num prev_seq;	/* "chain": {"prev_seq", ...} */
	struct alog_str prev_mac;
	struct alog_str link_reason;
	bool has_chain;
	struct alog_str mac;
	/* other top-level scalars, in order */
	struct alog_extra extra[ALOG_EXTRA_MAX];
	size_t nextra;
};

/* Split a buffer into lines.  Lines end in "\n", which is not part of
   them; what follows the last newline is not a line (the caller reads
   more, or reports it as unterminated). */
struct alog_lines {
	const char *buf;
	size_t len;
	size_t off;
};

void alog_lines_init(struct alog_lines *it, const char *buf, size_t len);

/* The next complete line: true, or false when no newline is left. */
bool alog_lines_next(struct alog_lines *it, const char **line_r, size_t *len_r);

/* Octets after the last complete line returned. */
size_t alog_lines_rest(const struct alog_lines *it);

/* Parse one line (without its newline).  Returns 0, or -1 with *why_r a
   static description and *col_r the 1-based column where it went wrong.
   On error *ev_r holds what was read so far. */
int alog_parse(const char *line, size_t len, struct alog_event *ev_r,
	       const char **why_r, size_t *col_r);

/* True if s has the form of an event time: "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
bool alog_time_valid(const char *s, size_t len);

/* The extra member named key; a member that is not set if there is none. */
const struct alog_str *alog_extra(const struct alog_event *ev, const char *key);

/* True if the member equals the C string word. */
bool alog_str_is(const struct alog_str *s, const char *word);

#endif
