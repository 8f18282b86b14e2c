/*
 * addr.h -- tokenizer and one-pass summary of RFC 5322 address headers
 * (From, To, Cc, Bcc, Sender, Reply-To, Resent-*)
 *
 * The input is a header value exactly as the MTA hands it over: it may
 * begin with a blank, folded lines are joined by "\n" followed by SP or
 * HTAB, and every byte is data (NUL, CR, LF and 8-bit bytes included).
 *
 * Tokens (RFC 5322 3.2):
 *   ADDR_QUOTED   "..." with its quotes; a backslash escapes the next byte.
 *   ADDR_COMMENT  (...) with its parentheses; comments nest, a backslash
 *                 escapes the next byte, a '"' inside is plain text.
 *   ADDR_LITERAL  [...] with its brackets; a backslash escapes the next
 *                 byte, a '[' inside is plain text.
 *   ADDR_SPECIAL  one of < > @ , ; : .
 *   ADDR_ATOM     a run of any other bytes up to a blank, a special or one
 *                 of " ( [.  That is more than RFC 5322 atext on purpose:
 *                 raw 8-bit display names, NUL, a ')' or ']' without its
 *                 opening partner, and a backslash (which escapes the next
 *                 byte, as in Sendmail's prescan) are atom text, so real
 *                 mail tokenizes and hostile bytes are still counted.
 * SP, HTAB, CR and LF separate tokens and are skipped.
 *
 * Errors: an unterminated quoted string, comment or domain literal (the
 * offset is its opening byte), or a comment nested deeper than
 * ADDR_DEPTH_MAX (the offset is the '(' that goes past the cap).  Nesting
 * is a counter, never recursion.  An error is final: addr_next() returns
 * -1 from then on.
 *
 * Nothing is allocated or copied: token pointers point into the input,
 * which the caller keeps alive.
 */
#ifndef MG_ADDR_H
#define MG_ADDR_H

#include <stddef.h>

/* Comment nesting past this is an error, not a token. */
#define ADDR_DEPTH_MAX	1000

/* "No offset": ew_in_addrspec_at when no encoded-word is in an addr-spec. */
#define ADDR_NOWHERE	((size_t)-1)

enum addr_token_type {
	ADDR_ATOM,
	ADDR_QUOTED,		/* "..." */
	ADDR_COMMENT,		/* (...) with nesting */
	ADDR_LITERAL,		/* [...] */
	ADDR_SPECIAL,		/* one of < > @ , ; : . */
};

struct addr_token {
	enum addr_token_type type;
	const char *s;		/* into the input, delimiters included */
	size_t len;
	size_t offset;		/* of s in the input */
	unsigned depth;		/* COMMENT: deepest nesting inside it (1 = no
				   nesting); 0 for the other types */
	char special;		/* SPECIAL: the byte; else 0 */
	size_t escapes;		/* backslash escapes (quoted-pairs) in it; a
				   lone backslash ending an atom counts */
};

/* Caller-owned; the fields are private. */
struct addr_ctx {
	const char *s;
	size_t len;
	size_t pos;
	const char *error;
	size_t error_offset;
};

void addr_init(struct addr_ctx *ctx, const char *s, size_t len);

/* 1: *tok_r is the next token; 0: end of input; -1: error. */
int addr_next(struct addr_ctx *ctx, struct addr_token *tok_r);

/* After -1: a static message, and the offset it applies to. */
const char *addr_error(const struct addr_ctx *ctx);
size_t addr_error_offset(const struct addr_ctx *ctx);

/*
 * What the header rules measure, in one pass.  Angle brackets, '@', ',',
 * ';' and ':' count only as specials, never inside quotes, comments or
 * literals.  The counters cover the input up to an error, if any; the
 * error is itself something to report.
 */
struct addr_summary {
	size_t tokens;		/* all tokens, comments included */
	unsigned max_comment_depth; /* deepest comment nesting; over the
				   cap it reads ADDR_DEPTH_MAX + 1 */
	size_t angle_open;	/* '<' specials */
	size_t angle_close;	/* '>' specials, stray ones included */
	size_t empty_angle_pairs; /* "<>" with nothing but blanks and
				   comments inside (crackaddr) */
	size_t max_angle_depth;	/* '<' inside '<' makes it 2 or more */
	size_t backslashes;	/* backslash escapes anywhere */
	size_t mailboxes;	/* <...> containing an '@' (closed, or still
				   open at the end), or a bare local@domain
				   between commas; inside groups too.  An '@'
				   beside an <...> (in its display name) is
				   not a mailbox. */
	size_t groups;		/* "display-name:" at angle depth 0 outside
				   a group, whether or not its ';' follows */
	size_t ew_in_addrspec_at; /* first "=?" in an atom, quoted string or
				   literal inside <...>, or in a bare
				   local@domain; never in a display name
				   or a comment.  ADDR_NOWHERE if none. */
	const char *error;	/* NULL if the value tokenized cleanly */
	size_t error_offset;
};

void addr_summarize(const char *s, size_t len, struct addr_summary *sum_r);

/*
 * The same summary, always through addr_next(): the reference that
 * addr_summarize() falls back on for the rarer shapes (a backslash, a
 * domain literal, a nested or unterminated comment or quoted string) and
 * that test_addr and fuzz_addr compare it with on every input.  Slower;
 * the checks call addr_summarize().
 */
void addr_summarize_full(const char *s, size_t len, struct addr_summary *sum_r);

#endif
