/*
 * addr.c -- tokenizer and summary of RFC 5322 address headers (see addr.h)
 *
 * The tokenizer looks at each byte once; comment nesting is a counter.
 * The summary is a small state machine over the tokens: the angle-bracket
 * depth, and for the current address (the tokens between two commas at
 * angle depth 0) whether it has an <...>, an '@' outside one, and the
 * first "=?" that would be in its addr-spec if it turns out to be bare.
 *
 * addr_summarize() feeds that state machine from one loop over the bytes
 * for the shapes of nearly all real mail (atoms, specials, quoted strings
 * and comments without a backslash, comments not nested); at the first
 * byte outside them (a backslash, '[', a nested or unterminated token) it
 * starts again on the tokenizer, addr_summarize_full().  Both give the
 * same summary for every input: test_addr and fuzz_addr compare them.
 */
#include "addr.h"

#include <stdbool.h>
#include <string.h>

static const char err_quote[] = "unterminated quoted string";
static const char err_comment[] = "unterminated comment";
static const char err_literal[] = "unterminated domain literal";
static const char err_depth[] = "comment nested deeper than ADDR_DEPTH_MAX";

/* Byte classes for the tokenizer; 0 is atom text.  The last three are
   what the fast summary stops at inside an atom, a quoted string and a
   comment. */
enum addr_class_bits {
	A_BLANK = 1 << 0,	/* SP HTAB CR LF */
	A_SPECIAL = 1 << 1,	/* < > @ , ; : . */
	A_OPEN = 1 << 2,	/* " ( [: start a token of their own */
	A_ESCAPE = 1 << 3,	/* \ */
	A_EQUALS = 1 << 4,	/* =: "=?" may begin there */
	A_QSTOP = 1 << 5,	/* " \ =: in a quoted string */
	A_CSTOP = 1 << 6,	/* ( ) \: in a comment */
};

/* The atom stops of the fast summary: where addr_next() ends an atom,
   a backslash, and '=' (to look for "=?"). */
#define A_ASTOP	(A_BLANK | A_SPECIAL | A_OPEN | A_ESCAPE | A_EQUALS)

static const unsigned char addr_class[256] = {
	[' '] = A_BLANK, ['\t'] = A_BLANK, ['\r'] = A_BLANK, ['\n'] = A_BLANK,
	['<'] = A_SPECIAL, ['>'] = A_SPECIAL, ['@'] = A_SPECIAL, [','] = A_SPECIAL,
	[';'] = A_SPECIAL, [':'] = A_SPECIAL, ['.'] = A_SPECIAL,
	['"'] = A_OPEN | A_QSTOP, ['('] = A_OPEN | A_CSTOP, ['['] = A_OPEN,
	[')'] = A_CSTOP,
	['\\'] = A_ESCAPE | A_QSTOP | A_CSTOP,
	['='] = A_EQUALS | A_QSTOP,
};

static bool
is_blank(char c)
{
	return (addr_class[(unsigned char)c] & A_BLANK) != 0;
}

static bool
is_special(char c)
{
	return (addr_class[(unsigned char)c] & A_SPECIAL) != 0;
}

void
addr_init(struct addr_ctx *ctx, const char *s, size_t len)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->s = s;
	ctx->len = len;
}

const char *
addr_error(const struct addr_ctx *ctx)
{
	return ctx->error;
}

size_t
addr_error_offset(const struct addr_ctx *ctx)
{
	return ctx->error_offset;
}

static int
fail(struct addr_ctx *ctx, const char *msg, size_t offset)
{
	ctx->error = msg;
	ctx->error_offset = offset;
	ctx->pos = ctx->len;
	return -1;
}

/* Scan a "..." or [...] starting at s[i] up to its closing byte; returns
   the offset past it, or 0 if unterminated. */
static size_t
scan_delimited(const char *s, size_t len, size_t i, char close,
	       size_t *escapes)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\') {
			if (++i == len)
				return 0;
			(*escapes)++;
		} else if (s[i] == close) {
			return i + 1;
		}
	}
	return 0;
}

/* Scan a comment starting at s[i]; returns the offset past it, 0 if
   unterminated, or (size_t)-1 with *at_r set if nested past the cap. */
static size_t
scan_comment(const char *s, size_t len, size_t i, unsigned *depth_r,
	     size_t *escapes, size_t *at_r)
{
	unsigned level = 0;

	*depth_r = 0;
	for (; i < len; i++) {
		if (s[i] == '\\') {
			if (++i == len)
				return 0;
			(*escapes)++;
		} else if (s[i] == '(') {
			if (++level > ADDR_DEPTH_MAX) {
				*at_r = i;
				return (size_t)-1;
			}
			if (level > *depth_r)
				*depth_r = level;
		} else if (s[i] == ')') {
			if (--level == 0)
				return i + 1;
		}
	}
	return 0;
}

int
addr_next(struct addr_ctx *ctx, struct addr_token *tok_r)
{
	const char *s = ctx->s;
	size_t len = ctx->len, i = ctx->pos, end, at = 0;

	if (ctx->error != NULL)
		return -1;
	while (i < len && is_blank(s[i]))
		i++;
	ctx->pos = i;
	if (i == len)
		return 0;
	tok_r->s = s + i;
	tok_r->offset = i;
	tok_r->depth = 0;
	tok_r->special = 0;
	tok_r->escapes = 0;
	switch (s[i]) {
	case '"':
		tok_r->type = ADDR_QUOTED;
		end = scan_delimited(s, len, i, '"', &tok_r->escapes);
		if (end == 0)
			return fail(ctx, err_quote, i);
		break;
	case '[':
		tok_r->type = ADDR_LITERAL;
		end = scan_delimited(s, len, i, ']', &tok_r->escapes);
		if (end == 0)
			return fail(ctx, err_literal, i);
		break;
	case '(':
		tok_r->type = ADDR_COMMENT;
		end = scan_comment(s, len, i, &tok_r->depth, &tok_r->escapes, &at);
		if (end == (size_t)-1)
			return fail(ctx, err_depth, at);
		if (end == 0)
			return fail(ctx, err_comment, i);
		break;
	default:
		if (is_special(s[i])) {
			tok_r->type = ADDR_SPECIAL;
			tok_r->special = s[i];
			end = i + 1;
			break;
		}
		tok_r->type = ADDR_ATOM;
		/* an atom ends at a blank, a special, '"', '(' or '[' */
		for (end = i; end < len; end++) {
			unsigned char c = addr_class[(unsigned char)s[end]];

			if (c & (A_BLANK | A_SPECIAL | A_OPEN))
				break;
			if (c & A_ESCAPE) {
				tok_r->escapes++;
				if (end + 1 < len)
					end++;
			}
		}
		break;
	}
	tok_r->len = end - i;
	ctx->pos = end;
	return 1;
}

/* --- the summary --------------------------------------------------------- */

struct addr_state {
	size_t angle_depth;
	bool angle_at;		/* '@' inside the current outermost <...> */
	bool in_group;
	bool has_angle;		/* the current address has an <...> */
	bool bare_at;		/* ... an '@' at angle depth 0 */
	size_t pending_ew;	/* ... first "=?" at angle depth 0 */
	bool prev_open;		/* the last token but comments was '<' */
};

static size_t
find_ew(const struct addr_token *t)
{
	const char *eq = t->len < 2 ? NULL : memchr(t->s, '=', t->len - 1);

	for (; eq != NULL; eq = memchr(eq + 1, '=', (size_t)(t->s + t->len - 1 - (eq + 1))))
		if (eq[1] == '?')
			return t->offset + (size_t)(eq - t->s);
	return ADDR_NOWHERE;
}

static void
note_ew(struct addr_summary *sum, size_t at)
{
	if (sum->ew_in_addrspec_at == ADDR_NOWHERE)
		sum->ew_in_addrspec_at = at;
}

/* A "=?" at s[at] in an atom, a quoted string or a literal: inside <...>
   it is in an addr-spec; outside, if the address turns out to be bare. */
static void
summarize_ew(struct addr_state *st, struct addr_summary *sum, size_t at)
{
	if (st->angle_depth > 0)
		note_ew(sum, at);
	else if (st->pending_ew == ADDR_NOWHERE)
		st->pending_ew = at;
}

static void
start_address(struct addr_state *st)
{
	st->has_angle = st->bare_at = false;
	st->pending_ew = ADDR_NOWHERE;
}

/* The current address ends (at ',', ';' or the end of the input). */
static void
end_address(struct addr_state *st, struct addr_summary *sum)
{
	if (st->angle_depth > 0 && st->angle_at)
		sum->mailboxes++;	/* "<a@b" left open at the end */
	else if (!st->has_angle && st->bare_at) {
		sum->mailboxes++;
		if (st->pending_ew != ADDR_NOWHERE)
			note_ew(sum, st->pending_ew);
	}
	start_address(st);
}

static inline void
summarize_special(struct addr_state *st, struct addr_summary *sum, char c)
{
	switch (c) {
	case '<':
		sum->angle_open++;
		if (++st->angle_depth > sum->max_angle_depth)
			sum->max_angle_depth = st->angle_depth;
		if (st->angle_depth == 1) {
			st->angle_at = false;
			st->has_angle = true;	/* "=?" before it: a display name */
		}
		break;
	case '>':
		sum->angle_close++;
		if (st->prev_open)
			sum->empty_angle_pairs++;
		if (st->angle_depth > 0 && --st->angle_depth == 0 &&
		    st->angle_at) {
			sum->mailboxes++;
			st->angle_at = false;
		}
		break;
	case '@':
		if (st->angle_depth > 0)
			st->angle_at = true;
		else
			st->bare_at = true;
		break;
	case ',':
		if (st->angle_depth == 0)
			end_address(st, sum);
		break;
	case ';':
		if (st->angle_depth == 0) {
			end_address(st, sum);
			st->in_group = false;
		}
		break;
	case ':':
		if (st->angle_depth == 0 && !st->in_group) {
			sum->groups++;
			st->in_group = true;
			start_address(st);	/* what came before is its name */
		}
		break;
	}
}

static void
summary_start(struct addr_summary *sum, struct addr_state *st)
{
	*sum = (struct addr_summary){ .ew_in_addrspec_at = ADDR_NOWHERE };
	*st = (struct addr_state){ .angle_depth = 0 };
	start_address(st);
}

void
addr_summarize_full(const char *s, size_t len, struct addr_summary *sum)
{
	struct addr_ctx ctx;
	struct addr_token t;
	struct addr_state st;

	summary_start(sum, &st);
	addr_init(&ctx, s, len);
	while (addr_next(&ctx, &t) == 1) {
		sum->tokens++;
		sum->backslashes += t.escapes;
		if (t.type == ADDR_COMMENT) {
			if (t.depth > sum->max_comment_depth)
				sum->max_comment_depth = t.depth;
			continue;
		}
		if (t.type == ADDR_SPECIAL) {
			summarize_special(&st, sum, t.special);
		} else {
			size_t at = find_ew(&t);

			if (at != ADDR_NOWHERE)
				summarize_ew(&st, sum, at);
		}
		st.prev_open = t.type == ADDR_SPECIAL && t.special == '<';
	}
	end_address(&st, sum);
	sum->error = addr_error(&ctx);
	sum->error_offset = addr_error_offset(&ctx);
	if (sum->error == err_depth)
		sum->max_comment_depth = ADDR_DEPTH_MAX + 1;
}

/* From s[i] up to the first byte of a class in stop, noting each "=?" on
   the way if A_EQUALS is in stop (an '=' is text); len if none.  In an
   atom (A_SPECIAL in stop), a special between two bytes of atom text is
   taken here, with its token and the next atom's, as addr_next() would
   give them. */
static inline __attribute__((always_inline)) size_t
fast_run(const char *s, size_t len, size_t i, unsigned stop,
	 struct addr_state *st, struct addr_summary *sum)
{
	for (;; i++) {
		while (i < len && (addr_class[(unsigned char)s[i]] & stop) == 0)
			i++;
		if (i == len)
			return i;
		if (s[i] == '=') {
			if (i + 1 < len && s[i + 1] == '?')
				summarize_ew(st, sum, i);
			continue;
		}
		if (i + 1 == len || (addr_class[(unsigned char)s[i]] & A_SPECIAL) == 0 ||
		    addr_class[(unsigned char)s[i + 1]] != 0)
			return i;
		sum->tokens += 2;
		summarize_special(st, sum, s[i]);
	}
}

/* The summary in one loop over the bytes, for atoms, specials, quoted
   strings and comments without a backslash, comments not nested.  False
   at the first byte outside that (with *sum and *st half done), or at an
   unterminated quoted string or comment: addr_summarize_full() then. */
static bool
summarize_fast(const char *s, size_t len, struct addr_summary *sum,
	       struct addr_state *st)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = addr_class[(unsigned char)s[i]];

		if ((c & (A_BLANK | A_SPECIAL | A_OPEN | A_ESCAPE)) == 0) {
			sum->tokens++;	/* an atom */
			st->prev_open = false;
			i = fast_run(s, len, i, A_ASTOP, st, sum);
		} else if (c & A_BLANK) {
			i++;
		} else if (c & A_SPECIAL) {
			sum->tokens++;
			summarize_special(st, sum, s[i]);
			st->prev_open = s[i++] == '<';
		} else if (s[i] == '"') {
			sum->tokens++;
			st->prev_open = false;
			i = fast_run(s, len, i + 1, A_QSTOP, st, sum);
			if (i == len || s[i] != '"')
				return false;
			i++;
		} else if (s[i] == '(') {	/* leaves prev_open alone */
			sum->tokens++;
			i = fast_run(s, len, i + 1, A_CSTOP, st, sum);
			if (i == len || s[i] != ')')
				return false;
			if (sum->max_comment_depth == 0)
				sum->max_comment_depth = 1;
			i++;
		} else {
			return false;	/* '[' or a backslash */
		}
	}
	return true;
}

void
addr_summarize(const char *s, size_t len, struct addr_summary *sum)
{
	struct addr_state st;

	summary_start(sum, &st);
	if (summarize_fast(s, len, sum, &st))
		end_address(&st, sum);
	else
		addr_summarize_full(s, len, sum);
}
