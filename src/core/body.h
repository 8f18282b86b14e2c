/*
 * body.h -- walk the MIME structure of a message body as it streams in
 *
 * The body arrives in chunks of any size, split anywhere; nothing is
 * buffered beyond a fixed prefix of the current line and the part header
 * field being read, so memory is sizeof(struct body_ctx) whatever the
 * message holds, and time is linear in the input.  Feeding a body in one
 * chunk, in two at any split point or byte by byte gives the same calls to
 * the handlers in the same order.
 *
 * Lines end in CRLF or a bare LF; a CR not followed by LF is data.  Only line
 * starts are examined: the first BODY_LINE_KEEP bytes of each line are kept
 * (enough for "--" boundary "--"), the rest is measured and skipped.
 *
 * Structure (RFC 2046 5.1).  When the entity is multipart with a boundary,
 * a line "--" boundary, optionally followed by "--" (close delimiter), then
 * only SP or HTAB, is a delimiter.  Every enclosing boundary is recognised,
 * innermost first: an outer delimiter also ends the parts nested in it.  The
 * lines after a delimiter, up to the first empty line, are the part's header:
 * each field goes to part_header(), unfolded as an MTA hands header fields
 * to a milter (the value keeps its leading white space; continuation lines
 * are joined by "\n" followed by the line, whose first byte is SP or HTAB).
 * A line that is neither a field nor a continuation ends the header and
 * belongs to the body, as in Postfix.  The part's first Content-Type decides
 * what follows (default text/plain, message/rfc822 in a multipart/digest):
 *   - multipart with a boundary: its parts are one level deeper;
 *   - message/rfc822 or message/global: its body is a message, whose header
 *     fields go to part_header() one level deeper, and so on;
 *   - anything else: the part's body is not looked into.
 * Depth: the message itself is 0, the parts of a multipart message (or the
 * header of an attached message/rfc822 top-level body) are 1.  An entity
 * that would be deeper than max_depth is not entered; nesting() is called
 * once, with that depth.
 *
 * Smuggling: on every line at every depth, a line holding only "." (ended
 * by CRLF, LF or a bare CR) followed by a line that starts an SMTP command
 * calls smuggling() with the offset of the ".".  The commands, matched
 * without regard to case: "MAIL FROM:", "RCPT TO:", "HELO " and "EHLO ",
 * "BDAT " and a digit, "DATA", "RSET" and "QUIT" alone on their line (SP or
 * HTAB may follow).  A lone "." line followed by anything else is normal.
 *
 * Scan limit: bytes past scan_limit are not looked at; scan_limit() is
 * called once, with offset scan_limit, when the first of them arrives, and
 * body_finish() then flushes nothing (a line or field cut by the limit is
 * dropped).  A scan_limit of 0 means no limit.
 *
 * Approximations, all on input no legitimate sender writes: a boundary the
 * Content-Type parser did not keep whole (over MIME_BOUNDARY_KEEP bytes) is
 * matched on its kept prefix and the length of the line; a part header name
 * is cut at BODY_NAME_KEEP bytes (name_len is the kept length); a value at
 * BODY_FIELD_KEEP bytes (value_total_len is the full length), and a
 * Content-Type is parsed from the kept bytes; max_depth is at most
 * BODY_DEPTH_MAX.
 *
 * The core is pure: no I/O, no logging, no allocation.
 */
#ifndef MG_BODY_H
#define MG_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "mime.h"

#define BODY_DEPTH_MAX	64			/* nesting levels tracked */
#define BODY_FIELD_KEEP	8192			/* part header value bytes kept */
#define BODY_NAME_KEEP	256			/* part header name bytes kept */
#define BODY_LINE_KEEP	(MIME_BOUNDARY_KEEP + 4)	/* "--" boundary "--" */
#define BODY_CMD_KEEP	12			/* bytes of a line after "." */

struct body_handler {
	/* One field of a part header; value is value_total_len bytes long, of
	   which value_len (at most BODY_FIELD_KEEP) are passed.  ct is the
	   walker's own parse of value[0..value_len) when the field is the
	   part's first Content-Type (hdr_check_part_field() takes it rather
	   than parsing again), NULL otherwise.  Any handler may be NULL. */
	void (*part_header)(void *arg, const char *name, size_t name_len,
			    const char *value, size_t value_len,
			    size_t value_total_len, unsigned depth,
			    const struct mime_ct *ct);
	void (*nesting)(void *arg, unsigned depth);
	void (*smuggling)(void *arg, size_t offset);
	void (*scan_limit)(void *arg, size_t offset);
};

struct body_level {
	char boundary[MIME_BOUNDARY_KEEP];
	size_t len;		/* full length */
	bool kept;		/* boundary[] holds all of it */
	bool digest;		/* multipart/digest: parts default to message/rfc822 */
	unsigned child_depth;	/* depth of its parts */
};

/* Everything is private but the comments; use the functions below. */
struct body_ctx {
	/* settings */
	unsigned max_depth;
	size_t scan_limit;

	/* progress */
	size_t offset;			/* bytes looked at */
	bool started, truncated, finished;
	unsigned depth_seen;
	bool nesting_reported;
	size_t parts;			/* delimiters opening a part */

	/* the current line */
	char line[BODY_LINE_KEEP];
	size_t line_len;		/* full length so far, without the ending */
	size_t line_end;		/* length up to its last byte not SP or HTAB */
	bool cr_pending;		/* a CR that may start CRLF */

	/* the structure */
	struct body_level level[BODY_DEPTH_MAX];
	unsigned nlevels;
	bool in_header;			/* reading the header of an entity */
	unsigned depth;			/* of that entity */
	bool digest_part;		/* its default type is message/rfc822 */
	bool ct_seen;
	struct mime_ct ct;		/* its first Content-Type */

	/* the header field being read */
	int hstate;
	bool field_open;
	char name[BODY_NAME_KEEP];
	size_t name_len;
	char value[BODY_FIELD_KEEP];
	size_t value_len, value_total;

	/* the smuggling shape */
	int sstate;
	size_t dot_at;
	char cmd[BODY_CMD_KEEP];
	size_t cmd_len;
};

/* message_ct: the message's Content-Type (copied), or NULL for text/plain.
   max_depth is capped at BODY_DEPTH_MAX; scan_limit 0 means none. */
void body_init(struct body_ctx *b, const struct mime_ct *message_ct,
	       unsigned max_depth, size_t scan_limit);

void body_feed(struct body_ctx *b, const char *chunk, size_t len,
	       const struct body_handler *h, void *arg);

/* End of body: the last line and header field, if unterminated. */
void body_finish(struct body_ctx *b, const struct body_handler *h, void *arg);

/* Bytes looked at (at most scan_limit). */
size_t body_scanned(const struct body_ctx *b);

/* Deepest entity entered or refused (at most max_depth + 1). */
unsigned body_max_depth_seen(const struct body_ctx *b);

/* True once input past scan_limit arrived. */
bool body_truncated(const struct body_ctx *b);

/* Delimiters that opened a part. */
size_t body_parts(const struct body_ctx *b);

#endif
