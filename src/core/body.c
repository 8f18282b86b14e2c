/*
 * body.c -- walk the MIME structure of a streamed body (see body.h)
 *
 * Three small machines run on each byte, in this order: the smuggling
 * shape on the raw bytes (it sees bare CRs as line breaks), the line
 * machine (CRLF or LF ends a line; the line prefix and the position of its
 * last non-blank byte are kept), and, in a header, the field machine.  At
 * the end of each line the delimiters on the boundary stack are tried,
 * innermost first, then the header is advanced.  A field is reported when
 * the first byte of the next line shows it is not continued, so that every
 * call happens at one byte of the input whatever the chunking.
 */
#include "body.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

enum body_hstate {
	H_NONE,		/* not in a header line */
	H_NAME,		/* field name */
	H_COLON,	/* blanks between name and ':' */
	H_VALUE,	/* value, or a continuation line */
	H_BAD		/* neither a field nor a continuation */
};

enum body_sstate {
	S_MID,		/* inside a line */
	S_BOL,		/* at the start of a line */
	S_DOT,		/* "." at the start of a line */
	S_DOT_CR,	/* ".\r" */
	S_CMD		/* the line after a "." line */
};

static bool
body_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* --- smuggling ----------------------------------------------------------- */

/* Patterns: letters match either case, ' ' a space, '#' a digit, '$' any
   blanks then the end of the line. */
static const char *const body_commands[] = {
	"MAIL FROM:", "RCPT TO:", "HELO ", "EHLO ", "BDAT #", "DATA$",
	"RSET$", "QUIT$",
};

/* 1: cmd[0..n) matches pat; 0: it may, given more bytes; -1: it cannot. */
static int
body_cmd_match(const char *pat, const char *cmd, size_t n)
{
	size_t i = 0;

	for (; *pat != '\0'; pat++) {
		unsigned char c;

		if (*pat == '$') {
			while (i < n && body_is_blank((unsigned char)cmd[i]))
				i++;
			if (i == n)
				return 0;
			return (cmd[i] == '\r' || cmd[i] == '\n') ? 1 : -1;
		}
		if (i == n)
			return 0;
		c = (unsigned char)cmd[i++];
		if (*pat == '#') {
			if (c < '0' || c > '9')
				return -1;
		} else if (*pat == ' ') {
			if (c != ' ')
				return -1;
		} else if ((c | 0x20) != (unsigned char)(*pat | 0x20)) {
			return -1;
		}
	}
	return 1;
}

static void smuggle_byte(struct body_ctx *b, unsigned char c,
			 const struct body_handler *h, void *arg);

static void
smuggle_plain(struct body_ctx *b, unsigned char c, bool at_bol)
{
	if (c == '\r' || c == '\n')
		b->sstate = S_BOL;
	else if (at_bol && c == '.') {
		b->sstate = S_DOT;
		b->dot_at = b->offset;
	} else
		b->sstate = S_MID;
}

static void
smuggle_cmd(struct body_ctx *b, unsigned char c, const struct body_handler *h,
	    void *arg)
{
	bool maybe = false;

	b->cmd[b->cmd_len++] = (char)c;
	for (size_t i = 0; i < sizeof(body_commands) / sizeof(body_commands[0]); i++) {
		int m = body_cmd_match(body_commands[i], b->cmd, b->cmd_len);

		if (m > 0) {
			if (h->smuggling != NULL)
				h->smuggling(arg, b->dot_at);
			smuggle_plain(b, c, false);
			return;
		}
		if (m == 0)
			maybe = true;
	}
	if (maybe && b->cmd_len < BODY_CMD_KEEP)
		return;
	/* not a command: this byte starts or continues an ordinary line */
	smuggle_plain(b, c, b->cmd_len == 1);
}

static void
smuggle_byte(struct body_ctx *b, unsigned char c, const struct body_handler *h,
	     void *arg)
{
	switch (b->sstate) {
	case S_MID:
		smuggle_plain(b, c, false);
		break;
	case S_BOL:
		smuggle_plain(b, c, true);
		break;
	case S_DOT:
		if (c == '\r') {
			b->sstate = S_DOT_CR;
		} else if (c == '\n') {
			b->sstate = S_CMD;
			b->cmd_len = 0;
		} else {
			b->sstate = S_MID;
		}
		break;
	case S_DOT_CR:
		b->sstate = S_CMD;
		b->cmd_len = 0;
		if (c != '\n')		/* a bare CR ended the "." line */
			smuggle_cmd(b, c, h, arg);
		break;
	case S_CMD:
		smuggle_cmd(b, c, h, arg);
		break;
	}
}

/* --- structure ------------------------------------------------------------ */

/* May an entity at depth d be entered? */
static bool
body_enter(struct body_ctx *b, unsigned d, const struct body_handler *h,
	   void *arg)
{
	if (d > b->depth_seen)
		b->depth_seen = d;
	if (d <= b->max_depth)
		return true;
	if (!b->nesting_reported) {
		b->nesting_reported = true;
		if (h->nesting != NULL)
			h->nesting(arg, d);
	}
	return false;
}

static void
body_start_header(struct body_ctx *b, unsigned depth, bool digest_part)
{
	b->in_header = true;
	b->depth = depth;
	b->digest_part = digest_part;
	b->ct_seen = false;
	b->field_open = false;
	b->hstate = H_NONE;
}

/* The header of the current entity (depth b->depth) has ended. */
static void
body_end_header(struct body_ctx *b, const struct body_handler *h, void *arg)
{
	const struct mime_ct *ct = b->ct_seen ? &b->ct : NULL;
	unsigned d = b->depth + 1;

	b->in_header = false;
	b->field_open = false;
	b->hstate = H_NONE;
	if (ct != NULL && ct->multipart && ct->has_boundary) {
		struct body_level *l;

		if (!body_enter(b, d, h, arg) || b->nlevels >= BODY_DEPTH_MAX)
			return;
		l = &b->level[b->nlevels++];
		l->len = ct->boundary_len;
		l->kept = ct->boundary_kept;
		memcpy(l->boundary, ct->boundary, l->len < MIME_BOUNDARY_KEEP ?
		       l->len : MIME_BOUNDARY_KEEP);
		l->digest = strcmp(ct->subtype, "digest") == 0;
		l->child_depth = d;
	} else if (ct != NULL ? (strcmp(ct->type, "message") == 0 &&
				 (strcmp(ct->subtype, "rfc822") == 0 ||
				  strcmp(ct->subtype, "global") == 0))
			      : b->digest_part) {
		if (body_enter(b, d, h, arg))
			body_start_header(b, d, false);
	}
}

/* Does the current line delimit a part of level l?  1: a delimiter,
   2: a close delimiter, 0: neither. */
static int
body_delimiter(const struct body_ctx *b, const struct body_level *l)
{
	size_t kept = l->len < MIME_BOUNDARY_KEEP ? l->len : MIME_BOUNDARY_KEEP;
	size_t after = 2 + l->len;

	if (b->line_len < after || b->line[0] != '-' || b->line[1] != '-' ||
	    memcmp(b->line + 2, l->boundary, kept) != 0)
		return 0;
	if (b->line_end <= after)
		return 1;
	if (b->line_end != after + 2)
		return 0;
	if (!l->kept)
		return 2;	/* "--" past the kept prefix: not seen */
	return b->line[after] == '-' && b->line[after + 1] == '-' ? 2 : 0;
}

static void
body_emit_field(struct body_ctx *b, const struct body_handler *h, void *arg)
{
	const struct mime_ct *ct = NULL;

	if (!b->field_open)
		return;
	b->field_open = false;
	if (!b->ct_seen && b->name_len == 12 &&
	    strncasecmp(b->name, "content-type", 12) == 0) {
		mime_parse_content_type(b->value, b->value_len, &b->ct);
		b->ct_seen = true;
		ct = &b->ct;
	}
	if (h->part_header != NULL)
		h->part_header(arg, b->name, b->name_len, b->value, b->value_len,
			       b->value_total, b->depth, ct);
}

static void
body_value_byte(struct body_ctx *b, char c)
{
	if (b->value_len < BODY_FIELD_KEEP)
		b->value[b->value_len++] = c;
	b->value_total++;
}

/* The first byte of a line in a header. */
static void
body_header_line_start(struct body_ctx *b, unsigned char c,
		       const struct body_handler *h, void *arg)
{
	if (body_is_blank(c)) {
		if (b->field_open) {
			b->hstate = H_VALUE;
			body_value_byte(b, '\n');
		} else {
			b->hstate = H_BAD;
		}
		return;
	}
	body_emit_field(b, h, arg);
	b->hstate = H_NAME;
	b->name_len = 0;
}

/* A byte of a field name: printable US-ASCII but ':'. */
static bool
body_is_name_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ':';
}

static void
body_header_byte(struct body_ctx *b, unsigned char c)
{
	switch (b->hstate) {
	case H_NAME:
		if (c == ':' && b->name_len == 0) {
			b->hstate = H_BAD;
		} else if (c == ':') {
			b->hstate = H_VALUE;
			b->field_open = true;
			b->value_len = b->value_total = 0;
		} else if (body_is_blank(c) && b->name_len > 0) {
			b->hstate = H_COLON;
		} else if (body_is_name_byte(c)) {
			if (b->name_len < BODY_NAME_KEEP)
				b->name[b->name_len++] = (char)c;
		} else {
			b->hstate = H_BAD;
		}
		break;
	case H_COLON:
		if (c == ':') {
			b->hstate = H_VALUE;
			b->field_open = true;
			b->value_len = b->value_total = 0;
		} else if (!body_is_blank(c)) {
			b->hstate = H_BAD;
		}
		break;
	case H_VALUE:
		body_value_byte(b, (char)c);
		break;
	default:
		break;
	}
}

static void
body_line_byte(struct body_ctx *b, unsigned char c,
	       const struct body_handler *h, void *arg)
{
	if (b->line_len == 0 && b->in_header)
		body_header_line_start(b, c, h, arg);
	if (b->line_len < BODY_LINE_KEEP)
		b->line[b->line_len] = (char)c;
	b->line_len++;
	if (!body_is_blank(c))
		b->line_end = b->line_len;
	if (b->in_header)
		body_header_byte(b, c);
}

static void
body_end_line(struct body_ctx *b, const struct body_handler *h, void *arg)
{
	bool delimited = false;

	/* the kept prefix is only written while a multipart level is open */
	if (b->nlevels > 0 && b->line_len >= 2 && b->line[0] == '-' && b->line[1] == '-') {
		for (unsigned k = b->nlevels; k-- > 0;) {
			int m = body_delimiter(b, &b->level[k]);

			if (m == 0)
				continue;
			delimited = true;
			b->nlevels = k + 1;
			b->field_open = false;	/* a field this line began */
			if (m == 2) {
				b->nlevels = k;
				b->in_header = false;
				b->hstate = H_NONE;
			} else {
				b->parts++;
				body_start_header(b, b->level[k].child_depth,
						  b->level[k].digest);
			}
			break;
		}
	}
	if (!delimited && b->in_header) {
		if (b->line_len == 0) {
			body_emit_field(b, h, arg);
			body_end_header(b, h, arg);
		} else if (b->hstate != H_VALUE) {
			b->field_open = false;	/* "name" with no ':' */
			body_end_header(b, h, arg);
		}
	}
	b->line_len = 0;
	b->line_end = 0;
}

static void
body_start(struct body_ctx *b, const struct body_handler *h, void *arg)
{
	b->started = true;
	body_end_header(b, h, arg);	/* the message's own, at depth 0 */
}

/* --- interface ------------------------------------------------------------ */

void
body_init(struct body_ctx *b, const struct mime_ct *message_ct,
	  unsigned max_depth, size_t scan_limit)
{
	/* Zero everything but the buffers (level[], line[], name[], value[],
	   cmd[]), which are written before they are read: 26 KB less to
	   clear per message. */
	memset(b, 0, offsetof(struct body_ctx, line));
	b->line_len = b->line_end = 0;
	b->cr_pending = false;
	b->nlevels = 0;
	b->in_header = false;
	b->depth = 0;
	b->digest_part = false;
	b->ct_seen = false;
	b->hstate = 0;
	b->field_open = false;
	b->name_len = b->value_len = b->value_total = 0;
	b->sstate = 0;
	b->dot_at = 0;
	b->cmd_len = 0;
	b->max_depth = max_depth < BODY_DEPTH_MAX ? max_depth : BODY_DEPTH_MAX;
	b->scan_limit = scan_limit;
	b->sstate = S_BOL;
	b->hstate = H_NONE;
	if (message_ct != NULL) {
		b->ct = *message_ct;
		b->ct_seen = true;
	}
}

/* Does the "." at dot start a line (or follow a bare CR)?  start is where
   this look began; what came before it is in b->sstate. */
static bool
body_dot_starts_line(const struct body_ctx *b, const char *start, const char *dot)
{
	return dot == start ? b->sstate == S_BOL : dot[-1] == '\r' || dot[-1] == '\n';
}

/* The plain-body fast path from chunk[i]: returns where it stopped, at a
   "." that starts a line, at the scan limit or at len. */
static size_t
body_skip_plain(struct body_ctx *b, const char *chunk, size_t i, size_t len)
{
	const char *p = chunk + i, *end = chunk + len, *dot;

	if (b->scan_limit != 0 && b->scan_limit - b->offset < len - i)
		end = p + (b->scan_limit - b->offset);
	while ((dot = memchr(p, '.', (size_t)(end - p))) != NULL) {
		if (body_dot_starts_line(b, chunk + i, dot))
			break;
		p = dot + 1;
	}
	if (dot == NULL)
		p = end;
	else
		p = dot;
	if (p > chunk + i)
		b->sstate = p[-1] == '\r' || p[-1] == '\n' ? S_BOL : S_MID;
	b->offset += (size_t)(p - (chunk + i));
	return (size_t)(p - chunk);
}

/* The next c in [p, stop), or stop. */
static const char *
body_find(const char *p, const char *stop, char c)
{
	const char *x = memchr(p, c, (size_t)(stop - p));

	return x != NULL ? x : stop;
}

/* What body_skip_lines() found in this chunk: just past its last LF, and
   the "-" and "." (or stop) it stopped looking at; NULL before the first
   call.  Kept across the calls of one body_feed() so that the chunk is
   searched once, not once per line that starts with "-". */
struct body_hints {
	const char *stop, *dash, *dot;
	const char *lf, *cr;	/* the same for the mid-line fast path */
};

/* The multipart fast path from chunk[i], at the start of a line outside
   any header: whole lines that start with no "-" and hold no "." at the
   start of a line or after a bare CR change nothing, so jump from "-" or
   "." to the next one (a base64 part has neither) up to the last LF.
   Returns where it stopped, at the start of a line. */
static size_t
body_skip_lines(struct body_ctx *b, const char *chunk, size_t i, size_t len,
		struct body_hints *hint)
{
	const char *start = chunk + i, *end = chunk + len, *stop, *p, *dash, *dot;

	if (hint->stop == NULL) {
		/* the scan limit is as far from chunk[i] at every call */
		if (b->scan_limit != 0 && b->scan_limit - b->offset < len - i)
			end = start + (b->scan_limit - b->offset);
		for (stop = end; stop > start && stop[-1] != '\n'; stop--)
			;	/* a last, unfinished line is left to the rest */
		hint->stop = stop;
	}
	stop = hint->stop;
	if (stop <= start)
		return i;
	/* a "-" or "." found from an earlier start is the next one from this
	   start too, unless this start is past it */
	dash = hint->dash != NULL && hint->dash >= start ? hint->dash :
	       body_find(start, stop, '-');
	dot = hint->dot != NULL && hint->dot >= start ? hint->dot :
	      body_find(start, stop, '.');
	p = stop;
	while (dash < stop || dot < stop) {
		if (dash < dot) {
			if (dash == start || dash[-1] == '\n') {
				p = dash;	/* a line that starts with "-" */
				break;
			}
			dash = body_find(dash + 1, stop, '-');
		} else {
			if (body_dot_starts_line(b, start, dot)) {
				for (p = dot; p > start && p[-1] != '\n'; p--)
					;	/* back to the start of its line */
				break;
			}
			dot = body_find(dot + 1, stop, '.');
		}
	}
	hint->dash = dash;
	hint->dot = dot;
	if (p > start)
		b->sstate = S_BOL;
	b->offset += (size_t)(p - start);
	return (size_t)(p - chunk);
}

void
body_feed(struct body_ctx *b, const char *chunk, size_t len,
	  const struct body_handler *h, void *arg)
{
	struct body_hints hint;

	if (b->truncated || b->finished)
		return;
	if (!b->started)
		body_start(b, h, arg);
	hint.stop = hint.dash = hint.dot = hint.lf = hint.cr = NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c;

		/* Plain body: with no multipart level open and not in a
		   header, which lasts to the end of the body, the line machine
		   has nothing to find and only a "." at the start of a line
		   (after CR or LF) moves the smuggling machine: skip from "."
		   to "." and leave that one, or the scan limit, to the rest.
		   Outside headers of a multipart body, skip whole lines that
		   cannot be delimiters. */
		if (!b->in_header && (b->sstate == S_MID || b->sstate == S_BOL)) {
			if (b->nlevels == 0)
				i = body_skip_plain(b, chunk, i, len);
			else if (b->line_len == 0 && !b->cr_pending)
				i = body_skip_lines(b, chunk, i, len, &hint);
			if (i == len)
				break;
		}
		c = (unsigned char)chunk[i];

		if (b->scan_limit != 0 && b->offset >= b->scan_limit) {
			b->truncated = true;
			if (h->scan_limit != NULL)
				h->scan_limit(arg, b->offset);
			return;
		}
		/* Fast path: the middle of an ordinary line, or its start when
		   that is not a "." (outside a part header, or in a field's
		   name or value after the line's first byte; no CR pending),
		   changes nothing but the line's kept prefix, its length, its
		   last non-blank byte and the field's name or value until the
		   next CR or LF (in a name, the next byte that is not of a
		   name); with no multipart level open, not even the prefix is
		   read. */
		if ((b->sstate == S_MID || (b->sstate == S_BOL && c != '.')) &&
		    (!b->in_header ||
		     (b->line_len > 0 && (b->hstate == H_VALUE ||
					  (b->hstate == H_NAME && body_is_name_byte(c))))) &&
		    !b->cr_pending && c != '\r' && c != '\n') {
			size_t end = len, run, k;
			const char *nl;

			if (b->scan_limit != 0 && b->scan_limit - b->offset < end - i)
				end = i + (b->scan_limit - b->offset);
			if (b->in_header && b->hstate == H_NAME) {
				/* the rest of a field name, to the first other byte */
				for (k = i + 1; k < end && body_is_name_byte((unsigned char)chunk[k]); k++)
					;
				end = k;
			} else {
				/* the next LF and CR, found once per chunk rather
				   than once per line (a chunk of bare CRs) */
				if (hint.lf == NULL || hint.lf < chunk + i)
					hint.lf = body_find(chunk + i, chunk + end, '\n');
				if (hint.cr == NULL || hint.cr < chunk + i)
					hint.cr = body_find(chunk + i, chunk + end, '\r');
				nl = hint.lf < hint.cr ? hint.lf : hint.cr;
				end = (size_t)(nl - chunk);
			}
			run = end - i;
			b->sstate = S_MID;
			if (b->nlevels > 0) {
				if (b->line_len < BODY_LINE_KEEP)
					memcpy(b->line + b->line_len, chunk + i,
					       run < BODY_LINE_KEEP - b->line_len ? run :
					       BODY_LINE_KEEP - b->line_len);
				for (k = run; k > 0 &&
				     body_is_blank((unsigned char)chunk[i + k - 1]); k--)
					;
				if (k > 0)
					b->line_end = b->line_len + k;
			}
			if (b->in_header && b->hstate == H_NAME) {
				k = BODY_NAME_KEEP - b->name_len;
				if (k > run)
					k = run;
				memcpy(b->name + b->name_len, chunk + i, k);
				b->name_len += k;
			} else if (b->in_header) {	/* the rest of a field's line */
				k = BODY_FIELD_KEEP - b->value_len;
				if (k > run)
					k = run;
				memcpy(b->value + b->value_len, chunk + i, k);
				b->value_len += k;
				b->value_total += run;
			}
			b->line_len += run;
			b->offset += run;
			i = end - 1;	/* the loop's i++ */
			continue;
		}
		smuggle_byte(b, c, h, arg);
		if (b->cr_pending) {
			b->cr_pending = false;
			if (c == '\n') {
				body_end_line(b, h, arg);
				b->offset++;
				continue;
			}
			body_line_byte(b, '\r', h, arg);
		}
		if (c == '\r')
			b->cr_pending = true;
		else if (c == '\n')
			body_end_line(b, h, arg);
		else
			body_line_byte(b, c, h, arg);
		b->offset++;
	}
}

void
body_finish(struct body_ctx *b, const struct body_handler *h, void *arg)
{
	if (b->truncated || b->finished)
		return;
	if (!b->started)
		body_start(b, h, arg);
	b->finished = true;
	if (b->cr_pending || b->line_len > 0) {
		b->cr_pending = false;
		body_end_line(b, h, arg);
	}
	if (b->in_header)
		body_emit_field(b, h, arg);
}

size_t
body_scanned(const struct body_ctx *b)
{
	return b->offset;
}

unsigned
body_max_depth_seen(const struct body_ctx *b)
{
	return b->depth_seen;
}

bool
body_truncated(const struct body_ctx *b)
{
	return b->truncated;
}

size_t
body_parts(const struct body_ctx *b)
{
	return b->parts;
}
