/*
 * envelope.c -- checks of the SMTP envelope (see envelope.h)
 *
 * One pass per argument for the byte classes (controls, 0xFF, UTF-8), one
 * parse of the path, a table of injection shapes, a table of the ESMTP
 * parameters we know.  Each rule reports at most once per argument, at the
 * first offset where it applies.
 *
 * Cheap on clean input: a table gives each byte its classes, an argument's
 * classes are or-ed eight bytes a step, and a check whose bytes (a shape's
 * first byte, a control, ";") are not among them is not run.  A finding's
 * field name is escaped only when the finding is made.
 */
#include "envelope.h"

#include <string.h>

#include "utf8.h"

#define HELO_FIELD	"helo"

/* --- byte classes --------------------------------------------------------- */

/* What a byte is to the checks: one table lookup instead of a chain of
   comparisons.  The ranges are GNU C designated initialisers. */
enum env_class_bits {
	EC_CONTROL = 1 << 0,	/* C0 or DEL */
	EC_HIGH = 1 << 1,	/* 8-bit */
	EC_SHAPE = 1 << 2,	/* first byte of an expansion shape */
	EC_LOCAL_BAD = 1 << 3,	/* not allowed unquoted in a local part */
	EC_SQL = 1 << 4,	/* first byte of an SQL shape */
	EC_SEMICOLON = 1 << 5,	/* ";" (shell) */
	EC_KEYWORD = 1 << 6,	/* esmtp-keyword after its first byte */
	EC_ALNUM = 1 << 7,	/* esmtp-keyword's first byte */
	EC_SPACE = 1 << 8,	/* SP: outside an esmtp-value, like a control */
};

/* What scan_bytes() stops at. */
#define EC_SCAN (EC_CONTROL | EC_HIGH | EC_SHAPE)

static const unsigned short env_class[256] = {
	[0x00 ... 0x1f] = EC_CONTROL | EC_LOCAL_BAD,
	[0x7f] = EC_CONTROL | EC_LOCAL_BAD,
	[0x80 ... 0xff] = EC_HIGH,
	/* RFC 5322 specials and SP; not "@": the local part runs to the
	   last "@", and the ones before it are let through */
	[' '] = EC_LOCAL_BAD | EC_SPACE, ['('] = EC_LOCAL_BAD, [')'] = EC_LOCAL_BAD,
	['<'] = EC_LOCAL_BAD, ['>'] = EC_LOCAL_BAD, ['['] = EC_LOCAL_BAD,
	[']'] = EC_LOCAL_BAD, [':'] = EC_LOCAL_BAD,
	[';'] = EC_LOCAL_BAD | EC_SEMICOLON, ['\\'] = EC_LOCAL_BAD,
	[','] = EC_LOCAL_BAD, ['"'] = EC_LOCAL_BAD,
	/* the first bytes of expansion_shapes[] and of the SQL shapes of
	   find_sql() (both cases, should one start with a letter) */
	['$'] = EC_SHAPE, ['`'] = EC_SHAPE,
	['/'] = EC_SQL, ['*'] = EC_SQL, ['\''] = EC_SQL,
	['0' ... '9'] = EC_ALNUM | EC_KEYWORD,
	['A' ... 'Z'] = EC_ALNUM | EC_KEYWORD,
	['a' ... 'z'] = EC_ALNUM | EC_KEYWORD,
	['-'] = EC_KEYWORD,
};

struct env_bytes {
	size_t control_at;	/* first C0 or DEL, or SIZE_MAX */
	size_t ff_at;		/* first 0xFF */
	size_t bad_utf8_at;	/* first byte of an invalid UTF-8 sequence */
	size_t eight_bit_at;	/* first byte >= 0x80 */
	size_t shape_at;	/* first byte that may start an expansion shape */
	unsigned classes;	/* env_class bits of all bytes, or-ed */
};

#define NOWHERE ((size_t)-1)

/* The env_class bits of s[0..len), or-ed, eight bytes a step, then four:
   what the checks below need not look for. */
static unsigned
classes_of(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned m = 0;
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		m |= env_class[u[i]] | env_class[u[i + 1]] | env_class[u[i + 2]] |
			env_class[u[i + 3]] | env_class[u[i + 4]] |
			env_class[u[i + 5]] | env_class[u[i + 6]] |
			env_class[u[i + 7]];
	if (i + 4 <= len) {
		m |= env_class[u[i]] | env_class[u[i + 1]] | env_class[u[i + 2]] |
			env_class[u[i + 3]];
		i += 4;
	}
	switch (len - i) {
	case 3:
		m |= env_class[u[i + 2]];
		/* FALLTHROUGH */
	case 2:
		m |= env_class[u[i + 1]];
		/* FALLTHROUGH */
	case 1:
		m |= env_class[u[i]];
		break;
	}
	return m;
}

/* The offsets of scan_bytes(), for an argument with an EC_SCAN byte.  A
   valid UTF-8 sequence is stepped over whole. */
static void
scan_offsets(const char *s, size_t len, struct env_bytes *b)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = u[i];
		size_t n;

		if ((env_class[c] & EC_SCAN) == 0)
			continue;
		if (env_class[c] & EC_CONTROL) {
			if (b->control_at == NOWHERE)
				b->control_at = i;
			continue;
		}
		if (env_class[c] & EC_SHAPE) {
			if (b->shape_at == NOWHERE)
				b->shape_at = i;
			continue;
		}
		if (b->eight_bit_at == NOWHERE)
			b->eight_bit_at = i;
		if (c == 0xff && b->ff_at == NOWHERE)
			b->ff_at = i;
		n = utf8_seq_len(u + i, len - i);
		if (n == 0) {
			if (b->bad_utf8_at == NOWHERE)
				b->bad_utf8_at = i;
			n = 1;
		}
		i += n - 1;
	}
}

/* The classes first; the offsets only if an EC_SCAN byte is there. */
static inline void
scan_bytes(const char *s, size_t len, struct env_bytes *b)
{
	b->control_at = b->ff_at = b->bad_utf8_at = b->eight_bit_at = NOWHERE;
	b->shape_at = NOWHERE;
	b->classes = classes_of(s, len);
	if ((b->classes & EC_SCAN) != 0)
		scan_offsets(s, len, b);
}

/* The findings of check_bytes(), for an argument with an EC_SCAN byte. */
static void
report_bytes(enum rule_id base, struct finding_field *field, const char *s,
	     size_t len, bool is_path, bool smtputf8, const struct env_bytes *b_r,
	     struct finding_list *out)
{
	if (b_r->control_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_CONTROL),
			    finding_field_name(field), s, len, b_r->control_at,
			    len, RULE_NO_LIMIT, "control byte");
	if (b_r->ff_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_OCTET_FF),
			    finding_field_name(field), s, len, b_r->ff_at, len,
			    RULE_NO_LIMIT, "byte 0xff");
	if (b_r->bad_utf8_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_INVALID_UTF8),
			    finding_field_name(field), s, len, b_r->bad_utf8_at,
			    len, RULE_NO_LIMIT, "invalid UTF-8");
	else if (is_path && !smtputf8 && b_r->eight_bit_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_UTF8_WITHOUT_SMTPUTF8),
			    finding_field_name(field), s, len, b_r->eight_bit_at,
			    len, RULE_NO_LIMIT, "UTF-8 without SMTPUTF8");
}

/* Byte-class findings for one argument of an address stage; *b_r keeps
   what the scan found for the shape checks. */
static inline void
check_bytes(enum rule_id base, struct finding_field *field, const char *s,
	    size_t len, bool is_path, bool smtputf8, struct env_bytes *b_r,
	    struct finding_list *out)
{
	scan_bytes(s, len, b_r);
	if ((b_r->classes & EC_SCAN) != 0)
		report_bytes(base, field, s, len, is_path, smtputf8, b_r, out);
}

/* --- words ------------------------------------------------------------- */

/* A keyword or value word and its length. */
struct env_word {
	const char *s;
	size_t len;
};

#define WORD(w) { w, sizeof(w) - 1 }

/* Does v[0..len) spell w, in any case?  The bytes as they are first:
   clients write keywords and values in capitals. */
static bool
word_is(const struct env_word *w, const char *v, size_t len)
{
	return w->len == len && (len == 0 ||
		(w->s[0] == v[0] && memcmp(w->s, v, len) == 0) ||
		utf8_ascii_ieq(w->s, v, len));
}

/* Does s[0..len) start with w, in any case? */
static bool
starts_with_word(const char *s, size_t len, const struct env_word *w)
{
	return w->len <= len && utf8_ascii_ieq(s, w->s, w->len);
}

/* --- paths ------------------------------------------------------------- */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Offset of the last "@" in m[from..len), or NOWHERE: memchr from one
   "@" to the next (an address has one). */
static size_t
last_at(const char *m, size_t from, size_t len)
{
	size_t at = NOWHERE;
	const char *p;

	while (from < len && (p = memchr(m + from, '@', len - from)) != NULL) {
		at = (size_t)(p - m);
		from = at + 1;
	}
	return at;
}

static void
path_error(struct env_path *p, const char *msg, size_t offset)
{
	if (p->syntax_error == NULL) {
		p->syntax_error = msg;
		p->syntax_offset = offset;
	}
}

/* Split the mailbox m[0..len) (at offset base in the argument) into local
   part and domain. */
static void
parse_mailbox(const char *m, size_t len, size_t base, struct env_path *p)
{
	size_t at;

	if (len > 0 && m[0] == '"') {
		size_t i = 1;

		p->local_quoted = true;
		while (i < len && m[i] != '"')
			i += (m[i] == '\\' && i + 1 < len) ? 2 : 1;
		if (i >= len) {
			path_error(p, "unterminated quoted local part", base + len);
			p->local = m;
			p->local_len = len;
			return;
		}
		i++;		/* past the closing quote */
		if (i < len && m[i] != '@')
			path_error(p, "text after quoted local part", base + i);
		at = last_at(m, i, len);
		p->local = m;
		p->local_len = i;
		if (at != NOWHERE) {
			p->domain = m + at + 1;
			p->domain_len = len - at - 1;
		}
		return;
	}
	at = last_at(m, 0, len);
	p->local = m;
	p->local_len = at == NOWHERE ? len : at;
	if (at != NOWHERE) {
		p->domain = m + at + 1;
		p->domain_len = len - at - 1;
	}
	for (size_t i = 0; i < p->local_len; i++) {
		if (env_class[(unsigned char)m[i]] & EC_LOCAL_BAD) {
			path_error(p, "special character in unquoted local part",
				   base + i);
			break;
		}
	}
}

void
env_parse_path(const char *s, size_t len, struct env_path *p)
{
	size_t start = 0, end = len, inner_start, inner_end;

	memset(p, 0, sizeof(*p));
	while (start < end && is_space(s[start]))
		start++;
	while (end > start && is_space(s[end - 1]))
		end--;
	inner_start = start;
	inner_end = end;
	if (start < end && s[start] == '<') {
		p->bracketed = true;
		inner_start = start + 1;
		if (s[end - 1] == '>' && end - 1 >= inner_start)
			inner_end = end - 1;
		else
			path_error(p, "missing closing angle bracket", end);
	} else if (start < end && s[end - 1] == '>') {
		path_error(p, "missing opening angle bracket", start);
		inner_end = end - 1;
	}
	p->path_len = inner_end - inner_start + 2;
	if (inner_start == inner_end) {
		p->null_path = true;
		return;
	}
	if (s[inner_start] == '@') {
		size_t colon = NOWHERE;

		for (size_t i = inner_start; i < inner_end; i++) {
			if (s[i] == ':') {
				colon = i;
				break;
			}
		}
		if (colon == NOWHERE) {
			path_error(p, "source route without colon", inner_start);
			colon = inner_start;
		}
		p->route = s + inner_start;
		p->route_len = colon + 1 - inner_start;
		inner_start = colon + 1;
	}
	parse_mailbox(s + inner_start, inner_end - inner_start, inner_start, p);
	if (p->domain != NULL && p->domain_len == 0)
		path_error(p, "empty domain", inner_end);
	if (p->local_len == 0)
		path_error(p, "empty local part", inner_start);
}

/* --- injection shapes -------------------------------------------------- */

struct env_shape {
	const char *needle;	/* substring, matched case-insensitively */
	size_t needle_len;
	const char *detail;
};

#define SHAPE(needle, detail) { needle, sizeof(needle) - 1, detail }

/* Shapes that no legitimate address or HELO carries and known exploits do.
   Their first bytes are EC_SHAPE in env_class[]. */
static const struct env_shape expansion_shapes[] = {
	SHAPE("${", "${ expansion (Exim ${run{, ${sort, ${IFS})"),
	SHAPE("$(", "$( command substitution"),
	SHAPE("`", "backtick command substitution"),
};

static const char *
find_ci(const char *s, size_t len, const char *needle, size_t *at_r)
{
	size_t n = strlen(needle);
	unsigned char first = (unsigned char)needle[0];
	bool alpha = (first | 0x20) >= 'a' && (first | 0x20) <= 'z';

	/* Most shapes start with punctuation: memchr finds the candidates. */
	for (size_t i = 0; n <= len && i <= len - n; i++) {
		if (!alpha) {
			const char *p = memchr(s + i, first, len - n + 1 - i);

			if (p == NULL)
				return NULL;
			i = (size_t)(p - s);
		} else if (((unsigned char)s[i] | 0x20) != (first | 0x20)) {
			continue;
		}
		if (utf8_ascii_ieq(s + i, needle, n)) {
			*at_r = i;
			return s + i;
		}
	}
	return NULL;
}

/* First expansion shape in s, or NULL: from the first EC_SHAPE byte
   (from, NOWHERE if there is none) on, looking at the shapes only where
   an EC_SHAPE byte is. */
static inline const struct env_shape *
find_expansion(const char *s, size_t len, size_t from, size_t *at_r)
{
	*at_r = NOWHERE;
	if (from == NOWHERE)
		return NULL;
	for (size_t i = from; i < len; i++) {
		if ((env_class[(unsigned char)s[i]] & EC_SHAPE) == 0)
			continue;
		for (size_t k = 0; k < sizeof(expansion_shapes) / sizeof(expansion_shapes[0]); k++) {
			size_t n = expansion_shapes[k].needle_len;

			if (n <= len - i && utf8_ascii_ieq(s + i, expansion_shapes[k].needle, n)) {
				*at_r = i;
				return &expansion_shapes[k];
			}
		}
	}
	return NULL;
}

/* What may follow a quote that closes an SQL string literal. */
static const struct env_word sql_after_quote[] = {
	WORD("--"), WORD("#"), WORD(";"), WORD("or "), WORD("and "),
	WORD("union "), WORD("union/"), WORD("or/"), WORD("and/"),
};

/* SQL shapes (CVE-2025-26794, CVE-2025-67896): comment markers, or a
   quote followed (after blanks or a parenthesis) by a line comment, a
   statement end or OR/AND/UNION -- not a quote alone, which is atext
   (o'brien--list@example.ie is a real address). */
static const char *
find_sql(const char *s, size_t len, size_t *at_r)
{
	size_t at;

	if (find_ci(s, len, "/*", &at) != NULL || find_ci(s, len, "*/", &at) != NULL) {
		*at_r = at;
		return "SQL comment";
	}
	for (size_t q = 0; q < len; q++) {
		size_t i = q + 1;

		if (s[q] != '\'')
			continue;
		while (i < len && (s[i] == ' ' || s[i] == ')'))
			i++;
		for (size_t k = 0; k < sizeof(sql_after_quote) / sizeof(sql_after_quote[0]); k++) {
			if (starts_with_word(s + i, len - i, &sql_after_quote[k])) {
				*at_r = q;
				return "SQL quote followed by an operator or comment";
			}
		}
	}
	return NULL;
}

/* Sendmail option injection (CVE-2016-10033): a quoted local part that
   carries a blank followed by "-" and a letter, as in
   "a\" -oQ/tmp/ -X/var/www/x.php b"@example.com. */
static const char *
find_option_injection(const struct env_path *p, size_t local_off, size_t *at_r)
{
	if (!p->local_quoted)
		return NULL;
	for (size_t i = 0; i + 2 < p->local_len; i++) {
		unsigned char c = (unsigned char)p->local[i + 2];

		if (is_space(p->local[i]) && p->local[i + 1] == '-' &&
		    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
			*at_r = local_off + i;
			return "sendmail option in quoted local part";
		}
	}
	return NULL;
}

/* Shell metacharacters in the local part (CVE-2020-7247): a leading ";" or
   "|" (after an opening quote too), or a ";" outside quotes.  classes:
   env_class bits of at least the local part's bytes, or-ed. */
static const char *
find_shell_meta(const struct env_path *p, size_t local_off,
		unsigned classes, size_t *at_r)
{
	size_t first = p->local_quoted ? 1 : 0;

	if (p->local_len > first &&
	    (p->local[first] == ';' || p->local[first] == '|')) {
		*at_r = local_off + first;
		return "leading shell metacharacter in local part";
	}
	if (!p->local_quoted && (classes & EC_SEMICOLON) != 0) {
		for (size_t i = 0; i < p->local_len; i++) {
			if (p->local[i] == ';') {
				*at_r = local_off + i;
				return "semicolon in unquoted local part";
			}
		}
	}
	return NULL;
}

/* b: what scan_bytes() found in s.  A class absent from the whole path
   is absent from its local part. */
static void
check_path_injection(enum rule_id base, struct finding_field *field,
		     const char *s, size_t len, const struct env_bytes *b,
		     const struct env_path *p, struct finding_list *out)
{
	enum rule_id rule = RULE_ADDR(base, RULE_MAIL_INJECTION);
	const struct env_shape *shape;
	const char *detail;
	size_t at = 0, local_off;

	shape = find_expansion(s, len, b->shape_at, &at);
	if (shape != NULL) {
		finding_add(out, rule, finding_field_name(field), s, len, at,
			    len, RULE_NO_LIMIT, shape->detail);
		return;
	}
	if (p->local == NULL)
		return;
	local_off = (size_t)(p->local - s);
	detail = find_shell_meta(p, local_off, b->classes, &at);
	if (detail == NULL)
		detail = find_option_injection(p, local_off, &at);
	if (detail == NULL && (b->classes & EC_SQL) != 0) {
		detail = find_sql(p->local, p->local_len, &at);
		at += local_off;
	}
	if (detail != NULL)
		finding_add(out, rule, finding_field_name(field), s, len, at,
			    len, RULE_NO_LIMIT, detail);
}

/* --- lengths ------------------------------------------------------------ */

static void
check_limit(const struct limits *lim, enum rule_id rule,
	    struct finding_field *field, const char *s, size_t len,
	    size_t measured, size_t offset, struct finding_list *out)
{
	unsigned long limit = lim->limit[rule];

	if (limit != RULE_NO_LIMIT && measured > limit)
		finding_add(out, rule, finding_field_name(field), s, len,
			    offset, measured, limit, NULL);
}

static void
check_domain(const struct limits *lim, enum rule_id base,
	     struct finding_field *field, const char *s, size_t len,
	     const struct env_path *p, struct finding_list *out)
{
	size_t off = (size_t)(p->domain - s), label_start = 0;
	unsigned long limit = lim->limit[RULE_ADDR(base, RULE_MAIL_LABEL_LENGTH)];

	check_limit(lim, RULE_ADDR(base, RULE_MAIL_DOMAIN_LENGTH), field, s,
		    len, p->domain_len, off, out);
	if (p->domain_len > 0 && p->domain[0] == '[')
		return;		/* address literal: no labels */
	if (p->domain_len <= limit)
		return;		/* no label is longer than the domain */
	for (size_t i = 0; i <= p->domain_len; i++) {
		if (i == p->domain_len || p->domain[i] == '.') {
			size_t label_len = i - label_start;

			if (label_len > limit) {
				check_limit(lim, RULE_ADDR(base, RULE_MAIL_LABEL_LENGTH),
					    field, s, len, label_len,
					    off + label_start, out);
				return;
			}
			label_start = i + 1;
		}
	}
}

/* --- ESMTP parameters ----------------------------------------------------- */

enum env_value_kind {
	PV_NONE,	/* keyword only */
	PV_DIGITS,
	PV_ENUM,	/* one of a list of words, case-insensitive */
	PV_NOTIFY,	/* NEVER, or a comma list of SUCCESS, FAILURE, DELAY */
	PV_XTEXT,
	PV_AUTH,	/* xtext or "<>" */
	PV_ORCPT,	/* addr-type ";" xtext */
	PV_PRIORITY,	/* -9 .. 9 */
};

/* Allowance groups: each adds to the command line budget once. */
enum env_allowance {
	ALLOW_NONE,
	ALLOW_SIZE,
	ALLOW_BODY,
	ALLOW_SMTPUTF8,
	ALLOW_DSN_MAIL,
	ALLOW_DSN_RCPT,
	ALLOW_AUTH,
	ALLOW_COUNT
};

static const unsigned long allowance_octets[ALLOW_COUNT] = {
	[ALLOW_SIZE] = 26,	/* RFC 1870 4(5) */
	[ALLOW_BODY] = 16,	/* RFC 1652 3(6) */
	[ALLOW_SMTPUTF8] = 10,	/* RFC 6531 3.1(5) */
	[ALLOW_DSN_MAIL] = 100,	/* RFC 3461 4 */
	[ALLOW_DSN_RCPT] = 500,	/* RFC 3461 4 */
	[ALLOW_AUTH] = 500,	/* RFC 4954 5 */
};

/* The value words, each list ending in { NULL, 0 }. */
static const struct env_word body_values[] = {
	WORD("7BIT"), WORD("8BITMIME"), WORD("BINARYMIME"), { NULL, 0 },
};
static const struct env_word ret_values[] = {
	WORD("FULL"), WORD("HDRS"), { NULL, 0 },
};
static const struct env_word notify_never[] = { WORD("NEVER"), { NULL, 0 } };
static const struct env_word notify_values[] = {
	WORD("SUCCESS"), WORD("FAILURE"), WORD("DELAY"), { NULL, 0 },
};

struct env_param_def {
	struct env_word keyword;
	enum env_value_kind kind;
	const struct env_word *values;	/* PV_ENUM */
	size_t max_len;		/* RFC cap on the value, 0 if none */
	enum env_allowance allowance;
};

/* Each keyword is a well-formed esmtp-keyword (a letter, then letters,
   digits and "-"): param_grammar_bad_at() relies on it. */
static const struct env_param_def param_defs[] = {
	{ WORD("SIZE"), PV_DIGITS, NULL, 20, ALLOW_SIZE },
	{ WORD("BODY"), PV_ENUM, body_values, 0, ALLOW_BODY },
	{ WORD("SMTPUTF8"), PV_NONE, NULL, 0, ALLOW_SMTPUTF8 },
	{ WORD("RET"), PV_ENUM, ret_values, 0, ALLOW_DSN_MAIL },
	{ WORD("ENVID"), PV_XTEXT, NULL, 100, ALLOW_DSN_MAIL },
	{ WORD("AUTH"), PV_AUTH, NULL, 500, ALLOW_AUTH },
	{ WORD("NOTIFY"), PV_NOTIFY, NULL, 0, ALLOW_DSN_RCPT },
	{ WORD("ORCPT"), PV_ORCPT, NULL, 500, ALLOW_DSN_RCPT },
	{ WORD("REQUIRETLS"), PV_NONE, NULL, 0, ALLOW_NONE },
	{ WORD("MT-PRIORITY"), PV_PRIORITY, NULL, 0, ALLOW_NONE },
};

static const struct env_param_def *
param_def(const char *kw, size_t len)
{
	for (size_t i = 0; i < sizeof(param_defs) / sizeof(param_defs[0]); i++)
		if (word_is(&param_defs[i].keyword, kw, len))
			return &param_defs[i];
	return NULL;
}

/* strncasecmp(a, b, n) == 0 in the C locale, without the call: ASCII
   case folded, and equal at a NUL both hold at the same place. */
static bool
keyword_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!utf8_ascii_ieq(a + i, b + i, 1))
			return false;
		if (a[i] == '\0')
			return true;
	}
	return true;
}

static bool
is_hexupper(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* RFC 3461 4: xtext = *( xchar / "+" 2HEXDIG-uppercase ); returns the
   offset of the first bad byte or NOWHERE. */
static size_t
xtext_bad_at(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '+') {
			if (i + 2 >= len || !is_hexupper((unsigned char)v[i + 1]) ||
			    !is_hexupper((unsigned char)v[i + 2]))
				return i;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return i;
		}
	}
	return NOWHERE;
}

static bool
enum_match(const struct env_word *list, const char *v, size_t len)
{
	for (const struct env_word *w = list; w->s != NULL; w++)
		if (word_is(w, v, len))
			return true;
	return false;
}

/* NULL if the value suits its keyword, else what is wrong. */
static const char *
param_value_problem(const struct env_param_def *def, const char *v,
		    size_t len, bool has_value)
{
	if (def->kind == PV_NONE)
		return has_value ? "keyword takes no value" : NULL;
	if (!has_value)
		return "keyword needs a value";
	if (def->max_len > 0 && len > def->max_len)
		return "value longer than its RFC cap";
	switch (def->kind) {
	case PV_DIGITS:
		for (size_t i = 0; i < len; i++)
			if (v[i] < '0' || v[i] > '9')
				return "value is not a number";
		return NULL;
	case PV_ENUM:
		return enum_match(def->values, v, len) ? NULL :
			"value is not one of the defined keywords";
	case PV_NOTIFY:
		if (enum_match(notify_never, v, len))
			return NULL;
		for (size_t i = 0; i < len;) {
			size_t n = 0;

			while (i + n < len && v[i + n] != ',')
				n++;
			if (!enum_match(notify_values, v + i, n))
				return "NOTIFY value is not NEVER or SUCCESS,FAILURE,DELAY";
			i += n + 1;
		}
		return NULL;
	case PV_AUTH:
		if (len == 2 && v[0] == '<' && v[1] == '>')
			return NULL;
		return xtext_bad_at(v, len) == NOWHERE ? NULL :
			"value is not xtext";
	case PV_XTEXT:
		return xtext_bad_at(v, len) == NOWHERE ? NULL :
			"value is not xtext";
	case PV_ORCPT: {
		const char *semi = memchr(v, ';', len);

		if (semi == NULL || semi == v)
			return "ORCPT value is not addr-type;xtext";
		return xtext_bad_at(semi + 1, len - (size_t)(semi + 1 - v)) == NOWHERE ?
			NULL : "ORCPT address is not xtext";
	}
	case PV_PRIORITY: {
		size_t i = (len > 0 && (v[0] == '-' || v[0] == '+')) ? 1 : 0;

		return (len == i + 1 && v[i] >= '0' && v[i] <= '9') ? NULL :
			"MT-PRIORITY is not an integer from -9 to 9";
	}
	case PV_NONE:
		break;
	}
	return NULL;
}

/* Offset of the first byte outside the RFC 5321 4.1.2 grammar, or NOWHERE.
   Bytes >= 0x80 are left to the UTF-8 checks (RFC 6531 extends
   esmtp-value with UTF8-non-ascii).  RFC 5321 also excludes "=" from a
   value, but senders put raw "=" in ORCPT and ENVID (VERP addresses), so
   that is left to the xtext check of param_value, which only logs.
   known: the keyword is one of param_defs[] (well-formed, in any case);
   classes: the env_class bits of s, or-ed. */
static size_t
param_grammar_bad_at(const char *s, size_t len, size_t kw_len, bool has_value,
		     bool known, unsigned classes)
{
	if (!known && (kw_len == 0 || (env_class[(unsigned char)s[0]] & EC_ALNUM) == 0))
		return 0;
	for (size_t i = 1; !known && i < kw_len; i++)
		if ((env_class[(unsigned char)s[i]] & EC_KEYWORD) == 0)
			return i;
	if (!has_value)
		return NOWHERE;
	if (kw_len + 1 == len)
		return kw_len;	/* "KEY=" with an empty value */
	if ((classes & (EC_CONTROL | EC_SPACE)) == 0)
		return NOWHERE;
	for (size_t i = kw_len + 1; i < len; i++)
		if (env_class[(unsigned char)s[i]] & (EC_CONTROL | EC_SPACE))
			return i;
	return NOWHERE;
}

/* Check the parameters args[1..nargs); returns the line allowance the
   extensions in use give. */
static unsigned long
check_params(const struct limits *lim, enum rule_id base,
	     const struct env_arg *args, size_t nargs, bool smtputf8,
	     struct finding_list *out)
{
	bool allowed[ALLOW_COUNT] = { false };
	unsigned long allowance = 0;

	if (nargs > 1) {
		struct finding_field params;

		finding_field_init(&params, "params", "", 0);
		check_limit(lim, RULE_ADDR(base, RULE_MAIL_PARAM_COUNT),
			    &params, args[1].s, args[1].len, nargs - 1, 0, out);
	}
	for (size_t i = 1; i < nargs; i++) {
		const char *s = args[i].s, *eq = memchr(s, '=', args[i].len);
		size_t len = args[i].len, kw_len = eq ? (size_t)(eq - s) : len;
		size_t vlen = eq ? len - kw_len - 1 : 0, bad, at;
		const struct env_param_def *def = param_def(s, kw_len);
		struct finding_field field;
		const struct env_shape *shape;
		struct env_bytes b;

		finding_field_init(&field, "param:", s, kw_len);

		check_bytes(base, &field, s, len, false, smtputf8, &b, out);
		bad = param_grammar_bad_at(s, len, kw_len, eq != NULL, def != NULL,
					   b.classes);
		if (bad != NOWHERE)
			finding_add(out, RULE_ADDR(base, RULE_MAIL_PARAM_SYNTAX),
				    finding_field_name(&field), s, len, bad, len,
				    RULE_NO_LIMIT, "outside keyword=value grammar");
		for (size_t j = 1; j < i; j++) {
			const char *o = args[j].s, *oeq;
			size_t o_kw;

			if (kw_len > 0 && (args[j].len == 0 || !utf8_ascii_ieq(o, s, 1)))
				continue;	/* keyword_ieq() fails at the first byte */
			oeq = memchr(o, '=', args[j].len);
			o_kw = oeq ? (size_t)(oeq - o) : args[j].len;
			if (o_kw == kw_len && keyword_ieq(o, s, kw_len)) {
				finding_add(out, RULE_ADDR(base, RULE_MAIL_PARAM_DUPLICATE),
					    finding_field_name(&field), s, len, 0, 2,
					    RULE_NO_LIMIT, "duplicate keyword");
				break;
			}
		}
		check_limit(lim, RULE_ADDR(base, RULE_MAIL_PARAM_VALUE_LENGTH),
			    &field, s, len, vlen, kw_len + 1, out);
		shape = find_expansion(s, len, b.shape_at, &at);
		if (shape != NULL)	/* e.g. ORCPT=rfc822;${run{...}} */
			finding_add(out, RULE_ADDR(base, RULE_MAIL_INJECTION),
				    finding_field_name(&field), s, len, at, len,
				    RULE_NO_LIMIT, shape->detail);
		if (def == NULL)
			continue;
		const char *problem = param_value_problem(def, eq ? eq + 1 : s,
							  vlen, eq != NULL);
		if (problem != NULL)
			finding_add(out, RULE_ADDR(base, RULE_MAIL_PARAM_VALUE),
				    finding_field_name(&field), s, len, kw_len,
				    vlen, def->max_len, problem);
		if (!allowed[def->allowance]) {
			allowed[def->allowance] = true;
			allowance += allowance_octets[def->allowance];
		}
	}
	return allowance;
}

static bool
has_keyword(const struct env_arg *args, size_t nargs, const char *kw)
{
	size_t n = strlen(kw);

	for (size_t i = 1; i < nargs; i++)
		if ((args[i].len == n || (args[i].len > n && args[i].s[n] == '=')) &&
		    utf8_ascii_ieq(args[i].s, kw, n))
			return true;
	return false;
}

/* --- the stages ------------------------------------------------------------ */

/* What differs between MAIL FROM and RCPT TO. */
struct env_stage {
	enum rule_id base;	/* RULE_MAIL_... or RULE_RCPT_LOCAL_PART_LENGTH */
	const char *field;
	size_t verb_len;	/* "MAIL FROM:", counted in the line length */
	bool null_allowed;	/* "<>" is a valid path */
};

#define VERB_LEN(verb) (sizeof(verb) - 1)

static const struct env_stage stage_mail = {
	RULE_MAIL_LOCAL_PART_LENGTH, "sender", VERB_LEN("MAIL FROM:"), true,
};
static const struct env_stage stage_rcpt = {
	RULE_RCPT_LOCAL_PART_LENGTH, "recipient", VERB_LEN("RCPT TO:"), false,
};

static void
check_address(const struct limits *lim, const struct env_stage *st,
	      const struct env_arg *args, size_t nargs, bool smtputf8,
	      struct env_path *p, struct finding_list *out)
{
	enum rule_id base = st->base;
	struct finding_field field;
	const char *s = args[0].s;
	size_t len = args[0].len;
	struct env_bytes b;
	unsigned long allowance, line_len, line_limit;

	finding_field_init(&field, st->field, "", 0);

	env_parse_path(s, len, p);
	check_bytes(base, &field, s, len, true, smtputf8, &b, out);
	if (p->syntax_error != NULL || (p->null_path && !st->null_allowed))
		finding_add(out, RULE_ADDR(base, RULE_MAIL_SYNTAX),
			    finding_field_name(&field), s, len,
			    p->syntax_error ? p->syntax_offset : 0, len,
			    RULE_NO_LIMIT,
			    p->syntax_error ? p->syntax_error : "null path");
	check_limit(lim, RULE_ADDR(base, RULE_MAIL_PATH_LENGTH), &field, s,
		    len, p->path_len, 0, out);
	if (p->local != NULL)
		check_limit(lim, RULE_ADDR(base, RULE_MAIL_LOCAL_PART_LENGTH),
			    &field, s, len, p->local_len,
			    (size_t)(p->local - s), out);
	if (p->domain != NULL)
		check_domain(lim, base, &field, s, len, p, out);
	check_path_injection(base, &field, s, len, &b, p, out);

	allowance = check_params(lim, base, args, nargs, smtputf8, out);
	line_len = st->verb_len + p->path_len + 2;
	for (size_t i = 1; i < nargs; i++)
		line_len += 1 + args[i].len;
	line_limit = lim->limit[RULE_ADDR(base, RULE_MAIL_LINE_LENGTH)];
	if (line_limit != RULE_NO_LIMIT && line_len > line_limit + allowance)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_LINE_LENGTH),
			    finding_field_name(&field), s, len, 0, line_len,
			    line_limit + allowance, NULL);
}

void
env_check_mail(const struct limits *lim, const struct env_arg *args,
	       size_t nargs, struct finding_list *out,
	       struct env_mail_info *info_r)
{
	struct env_path p;

	memset(info_r, 0, sizeof(*info_r));
	if (nargs == 0)
		return;
	info_r->smtputf8 = has_keyword(args, nargs, "SMTPUTF8");
	check_address(lim, &stage_mail, args, nargs, info_r->smtputf8, &p, out);
	info_r->null_sender = p.null_path;
}

void
env_check_rcpt(const struct limits *lim, const struct env_arg *args,
	       size_t nargs, const struct env_mail_info *mail,
	       unsigned long rcpt_no, struct finding_list *out)
{
	struct env_path p;

	if (nargs == 0)
		return;
	check_address(lim, &stage_rcpt, args, nargs, mail->smtputf8, &p, out);
	if (lim->limit[RULE_RCPT_COUNT] != RULE_NO_LIMIT &&
	    rcpt_no > lim->limit[RULE_RCPT_COUNT]) {
		struct finding_field field;

		finding_field_init(&field, stage_rcpt.field, "", 0);
		check_limit(lim, RULE_RCPT_COUNT, &field, args[0].s,
			    args[0].len, rcpt_no, 0, out);
	}
}

void
env_check_helo(const struct limits *lim, const char *helo, size_t len,
	       struct finding_list *out)
{
	struct finding_field field;
	struct env_bytes b;
	const struct env_shape *shape;
	size_t at;

	finding_field_init(&field, HELO_FIELD, "", 0);

	check_limit(lim, RULE_HELO_LENGTH, &field, helo, len, len, 0, out);
	scan_bytes(helo, len, &b);
	if (b.control_at != NOWHERE)
		finding_add(out, RULE_HELO_CONTROL, HELO_FIELD, helo, len,
			    b.control_at, len, RULE_NO_LIMIT, "control byte");
	if (b.eight_bit_at != NOWHERE)
		finding_add(out, RULE_HELO_8BIT, HELO_FIELD, helo, len,
			    b.eight_bit_at, len, RULE_NO_LIMIT, "8-bit byte");
	shape = find_expansion(helo, len, b.shape_at, &at);
	if (shape != NULL)
		finding_add(out, RULE_HELO_INJECTION, HELO_FIELD, helo, len, at,
			    len, RULE_NO_LIMIT, shape->detail);
}

void
env_check_unknown(const struct limits *lim, const char *cmd, size_t len,
		  unsigned long count, struct finding_list *out)
{
	struct finding_field field;

	finding_field_init(&field, "command", "", 0);
	check_limit(lim, RULE_UNKNOWN_COUNT, &field, cmd, len, count, 0, out);
}
