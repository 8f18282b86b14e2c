/*
 * envelope.c -- checks of the SMTP envelope (see envelope.h)
 *
 * One pass per argument for the byte classes (controls, 0xFF, UTF-8), one
 * parse of the path, a table of injection shapes, a table of the ESMTP
 * parameters we know.  Each rule reports at most once per argument, at the
 * first offset where it applies.
 */
#include "envelope.h"

#include <string.h>
#include <strings.h>

#include "esc.h"
#include "utf8.h"

#define HELO_FIELD	"helo"

/* --- byte classes --------------------------------------------------------- */

struct env_bytes {
	size_t control_at;	/* first C0 or DEL, or SIZE_MAX */
	size_t ff_at;		/* first 0xFF */
	size_t bad_utf8_at;	/* first byte of an invalid UTF-8 sequence */
	size_t eight_bit_at;	/* first byte >= 0x80 */
};

#define NOWHERE ((size_t)-1)

static void
scan_bytes(const char *s, size_t len, struct env_bytes *b)
{
	const unsigned char *u = (const unsigned char *)s;

	b->control_at = b->ff_at = b->bad_utf8_at = b->eight_bit_at = NOWHERE;
	for (size_t i = 0; i < len;) {
		unsigned char c;

		while (i + sizeof(uint64_t) <= len && !utf8_word_outside(u + i, 0x20))
			i += sizeof(uint64_t);	/* plain US-ASCII */
		if (i == len)
			break;
		c = u[i];
		if (c < 0x20 || c == 0x7f) {
			if (b->control_at == NOWHERE)
				b->control_at = i;
			i++;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (b->eight_bit_at == NOWHERE)
			b->eight_bit_at = i;
		if (c == 0xff && b->ff_at == NOWHERE)
			b->ff_at = i;
		size_t n = utf8_seq_len(u + i, len - i);
		if (n == 0) {
			if (b->bad_utf8_at == NOWHERE)
				b->bad_utf8_at = i;
			n = 1;
		}
		i += n;
	}
}

/* Byte-class findings for one argument of an address stage. */
static void
check_bytes(const struct limits *lim, enum rule_id base, const char *field,
	    const char *s, size_t len, bool is_path, bool smtputf8,
	    struct finding_list *out)
{
	struct env_bytes b;

	(void)lim;
	scan_bytes(s, len, &b);
	if (b.control_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_CONTROL), field, s,
			    len, b.control_at, len, RULE_NO_LIMIT,
			    "control byte");
	if (b.ff_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_OCTET_FF), field, s,
			    len, b.ff_at, len, RULE_NO_LIMIT, "byte 0xff");
	if (b.bad_utf8_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_INVALID_UTF8), field,
			    s, len, b.bad_utf8_at, len, RULE_NO_LIMIT,
			    "invalid UTF-8");
	else if (is_path && !smtputf8 && b.eight_bit_at != NOWHERE)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_UTF8_WITHOUT_SMTPUTF8),
			    field, s, len, b.eight_bit_at, len, RULE_NO_LIMIT,
			    "UTF-8 without SMTPUTF8");
}

/* --- paths ------------------------------------------------------------- */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 specials and SP: not allowed unquoted in a local part. */
static bool
is_local_special(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || strchr("()<>[]:;@\\,\"", c) != NULL;
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
	size_t at = NOWHERE;

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
		for (size_t j = i; j < len; j++)
			if (m[j] == '@')
				at = j;
		p->local = m;
		p->local_len = i;
		if (at != NOWHERE) {
			p->domain = m + at + 1;
			p->domain_len = len - at - 1;
		}
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (m[i] == '@')
			at = i;
	p->local = m;
	p->local_len = at == NOWHERE ? len : at;
	if (at != NOWHERE) {
		p->domain = m + at + 1;
		p->domain_len = len - at - 1;
	}
	for (size_t i = 0; i < p->local_len; i++) {
		if (is_local_special((unsigned char)m[i]) && m[i] != '@') {
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
	const char *detail;
};

/* Shapes that no legitimate address or HELO carries and known exploits do. */
static const struct env_shape expansion_shapes[] = {
	{ "${", "${ expansion (Exim ${run{, ${sort, ${IFS})" },
	{ "$(", "$( command substitution" },
	{ "`", "backtick command substitution" },
};

/* The first bytes of the needles above (both cases of a letter): where
   find_expansion() looks at them. */
static const bool expansion_starts[256] = { ['$'] = true, ['`'] = true };

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

/* First expansion shape in s, or NULL: one pass over s, looking at the
   shapes only where a byte of expansion_starts is. */
static const struct env_shape *
find_expansion(const char *s, size_t len, size_t *at_r)
{
	for (size_t i = 0; i < len; i++) {
		if (!expansion_starts[(unsigned char)s[i]])
			continue;
		for (size_t k = 0; k < sizeof(expansion_shapes) / sizeof(expansion_shapes[0]); k++) {
			size_t n = strlen(expansion_shapes[k].needle);

			if (n <= len - i && utf8_ascii_ieq(s + i, expansion_shapes[k].needle, n)) {
				*at_r = i;
				return &expansion_shapes[k];
			}
		}
	}
	*at_r = NOWHERE;
	return NULL;
}

/* What may follow a quote that closes an SQL string literal. */
static const char *const sql_after_quote[] = {
	"--", "#", ";", "or ", "and ", "union ", "union/", "or/", "and/",
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
			size_t n = strlen(sql_after_quote[k]);

			if (len - i >= n && strncasecmp(s + i, sql_after_quote[k], n) == 0) {
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
   "|" (after an opening quote too), or a ";" outside quotes. */
static const char *
find_shell_meta(const struct env_path *p, size_t local_off, size_t *at_r)
{
	size_t first = p->local_quoted ? 1 : 0;

	if (p->local_len > first &&
	    (p->local[first] == ';' || p->local[first] == '|')) {
		*at_r = local_off + first;
		return "leading shell metacharacter in local part";
	}
	if (!p->local_quoted) {
		for (size_t i = 0; i < p->local_len; i++) {
			if (p->local[i] == ';') {
				*at_r = local_off + i;
				return "semicolon in unquoted local part";
			}
		}
	}
	return NULL;
}

static void
check_path_injection(enum rule_id base, const char *field, const char *s,
		     size_t len, const struct env_path *p,
		     struct finding_list *out)
{
	enum rule_id rule = RULE_ADDR(base, RULE_MAIL_INJECTION);
	const struct env_shape *shape;
	const char *detail;
	size_t at = 0, local_off;

	shape = find_expansion(s, len, &at);
	if (shape != NULL) {
		finding_add(out, rule, field, s, len, at, len, RULE_NO_LIMIT,
			    shape->detail);
		return;
	}
	if (p->local == NULL)
		return;
	local_off = (size_t)(p->local - s);
	detail = find_shell_meta(p, local_off, &at);
	if (detail == NULL)
		detail = find_option_injection(p, local_off, &at);
	if (detail == NULL) {
		detail = find_sql(p->local, p->local_len, &at);
		at += local_off;
	}
	if (detail != NULL)
		finding_add(out, rule, field, s, len, at, len, RULE_NO_LIMIT,
			    detail);
}

/* --- lengths ------------------------------------------------------------ */

static void
check_limit(const struct limits *lim, enum rule_id rule, const char *field,
	    const char *s, size_t len, size_t measured, size_t offset,
	    struct finding_list *out)
{
	unsigned long limit = lim->limit[rule];

	if (limit != RULE_NO_LIMIT && measured > limit)
		finding_add(out, rule, field, s, len, offset, measured, limit,
			    NULL);
}

static void
check_domain(const struct limits *lim, enum rule_id base, const char *field,
	     const char *s, size_t len, const struct env_path *p,
	     struct finding_list *out)
{
	size_t off = (size_t)(p->domain - s), label_start = 0;

	check_limit(lim, RULE_ADDR(base, RULE_MAIL_DOMAIN_LENGTH), field, s,
		    len, p->domain_len, off, out);
	if (p->domain_len > 0 && p->domain[0] == '[')
		return;		/* address literal: no labels */
	for (size_t i = 0; i <= p->domain_len; i++) {
		if (i == p->domain_len || p->domain[i] == '.') {
			size_t label_len = i - label_start;
			unsigned long limit =
				lim->limit[RULE_ADDR(base, RULE_MAIL_LABEL_LENGTH)];

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
	PV_ENUM,	/* one of a "|"-separated list, case-insensitive */
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

struct env_param_def {
	const char *keyword;
	enum env_value_kind kind;
	const char *values;	/* PV_ENUM */
	size_t max_len;		/* RFC cap on the value, 0 if none */
	enum env_allowance allowance;
};

static const struct env_param_def param_defs[] = {
	{ "SIZE", PV_DIGITS, NULL, 20, ALLOW_SIZE },
	{ "BODY", PV_ENUM, "7BIT|8BITMIME|BINARYMIME", 0, ALLOW_BODY },
	{ "SMTPUTF8", PV_NONE, NULL, 0, ALLOW_SMTPUTF8 },
	{ "RET", PV_ENUM, "FULL|HDRS", 0, ALLOW_DSN_MAIL },
	{ "ENVID", PV_XTEXT, NULL, 100, ALLOW_DSN_MAIL },
	{ "AUTH", PV_AUTH, NULL, 500, ALLOW_AUTH },
	{ "NOTIFY", PV_NOTIFY, NULL, 0, ALLOW_DSN_RCPT },
	{ "ORCPT", PV_ORCPT, NULL, 500, ALLOW_DSN_RCPT },
	{ "REQUIRETLS", PV_NONE, NULL, 0, ALLOW_NONE },
	{ "MT-PRIORITY", PV_PRIORITY, NULL, 0, ALLOW_NONE },
};

static const struct env_param_def *
param_def(const char *kw, size_t len)
{
	for (size_t i = 0; i < sizeof(param_defs) / sizeof(param_defs[0]); i++)
		if (strlen(param_defs[i].keyword) == len &&
		    strncasecmp(param_defs[i].keyword, kw, len) == 0)
			return &param_defs[i];
	return NULL;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
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
enum_match(const char *list, const char *v, size_t len)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, "|");

		if (n == len && strncasecmp(p, v, len) == 0)
			return true;
		p += n;
		if (*p == '|')
			p++;
	}
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
		if (len == 5 && strncasecmp(v, "NEVER", 5) == 0)
			return NULL;
		for (size_t i = 0; i < len;) {
			size_t n = 0;

			while (i + n < len && v[i + n] != ',')
				n++;
			if (!enum_match("SUCCESS|FAILURE|DELAY", v + i, n))
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
   that is left to the xtext check of param_value, which only logs. */
static size_t
param_grammar_bad_at(const char *s, size_t len, size_t kw_len, bool has_value)
{
	if (kw_len == 0 || !is_alnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < kw_len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '-')
			return i;
	if (!has_value)
		return NOWHERE;
	if (kw_len + 1 == len)
		return kw_len;	/* "KEY=" with an empty value */
	for (size_t i = kw_len + 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80 && (c < 33 || c > 126))
			return i;
	}
	return NOWHERE;
}

static void
param_field(char *field, size_t size, const char *kw, size_t kw_len)
{
	static const char prefix[] = "param:";

	memcpy(field, prefix, sizeof(prefix));
	esc_bytes(kw, kw_len, field + sizeof(prefix) - 1,
		  size - (sizeof(prefix) - 1), NULL);
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
	char field[FINDING_FIELD_MAX];

	if (nargs > 1)
		check_limit(lim, RULE_ADDR(base, RULE_MAIL_PARAM_COUNT),
			    "params", args[1].s, args[1].len, nargs - 1, 0, out);
	for (size_t i = 1; i < nargs; i++) {
		const char *s = args[i].s, *eq = memchr(s, '=', args[i].len);
		size_t len = args[i].len, kw_len = eq ? (size_t)(eq - s) : len;
		size_t vlen = eq ? len - kw_len - 1 : 0, bad;
		const struct env_param_def *def = param_def(s, kw_len);

		param_field(field, sizeof(field), s, kw_len);
		check_bytes(lim, base, field, s, len, false, smtputf8, out);
		bad = param_grammar_bad_at(s, len, kw_len, eq != NULL);
		if (bad != NOWHERE)
			finding_add(out, RULE_ADDR(base, RULE_MAIL_PARAM_SYNTAX),
				    field, s, len, bad, len, RULE_NO_LIMIT,
				    "outside keyword=value grammar");
		for (size_t j = 1; j < i; j++) {
			const char *o = args[j].s, *oeq = memchr(o, '=', args[j].len);
			size_t o_kw = oeq ? (size_t)(oeq - o) : args[j].len;

			if (o_kw == kw_len && strncasecmp(o, s, kw_len) == 0) {
				finding_add(out, RULE_ADDR(base, RULE_MAIL_PARAM_DUPLICATE),
					    field, s, len, 0, 2, RULE_NO_LIMIT,
					    "duplicate keyword");
				break;
			}
		}
		check_limit(lim, RULE_ADDR(base, RULE_MAIL_PARAM_VALUE_LENGTH),
			    field, s, len, vlen, kw_len + 1, out);
		{
			size_t at;
			const struct env_shape *shape = find_expansion(s, len, &at);

			if (shape != NULL)	/* e.g. ORCPT=rfc822;${run{...}} */
				finding_add(out, RULE_ADDR(base, RULE_MAIL_INJECTION), field,
					    s, len, at, len, RULE_NO_LIMIT, shape->detail);
		}
		if (def == NULL)
			continue;
		const char *problem = param_value_problem(def, eq ? eq + 1 : s,
							  vlen, eq != NULL);
		if (problem != NULL)
			finding_add(out, RULE_ADDR(base, RULE_MAIL_PARAM_VALUE),
				    field, s, len, kw_len, vlen, def->max_len,
				    problem);
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
		    strncasecmp(args[i].s, kw, n) == 0)
			return true;
	return false;
}

/* --- the stages ------------------------------------------------------------ */

static void
check_address(const struct limits *lim, enum rule_id base, const char *field,
	      const char *verb, const struct env_arg *args, size_t nargs,
	      bool smtputf8, bool null_allowed, struct finding_list *out)
{
	const char *s = args[0].s;
	size_t len = args[0].len;
	struct env_path p;
	unsigned long allowance, line_len, line_limit;

	env_parse_path(s, len, &p);
	check_bytes(lim, base, field, s, len, true, smtputf8, out);
	if (p.syntax_error != NULL || (p.null_path && !null_allowed))
		finding_add(out, RULE_ADDR(base, RULE_MAIL_SYNTAX), field, s, len,
			    p.syntax_error ? p.syntax_offset : 0, len,
			    RULE_NO_LIMIT,
			    p.syntax_error ? p.syntax_error : "null path");
	check_limit(lim, RULE_ADDR(base, RULE_MAIL_PATH_LENGTH), field, s, len,
		    p.path_len, 0, out);
	if (p.local != NULL)
		check_limit(lim, RULE_ADDR(base, RULE_MAIL_LOCAL_PART_LENGTH),
			    field, s, len, p.local_len,
			    (size_t)(p.local - s), out);
	if (p.domain != NULL)
		check_domain(lim, base, field, s, len, &p, out);
	check_path_injection(base, field, s, len, &p, out);

	allowance = check_params(lim, base, args, nargs, smtputf8, out);
	line_len = strlen(verb) + p.path_len + 2;
	for (size_t i = 1; i < nargs; i++)
		line_len += 1 + args[i].len;
	line_limit = lim->limit[RULE_ADDR(base, RULE_MAIL_LINE_LENGTH)];
	if (line_limit != RULE_NO_LIMIT && line_len > line_limit + allowance)
		finding_add(out, RULE_ADDR(base, RULE_MAIL_LINE_LENGTH), field,
			    s, len, 0, line_len, line_limit + allowance, NULL);
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
	env_parse_path(args[0].s, args[0].len, &p);
	info_r->null_sender = p.null_path;
	check_address(lim, RULE_MAIL_LOCAL_PART_LENGTH, "sender", "MAIL FROM:",
		      args, nargs, info_r->smtputf8, true, out);
}

void
env_check_rcpt(const struct limits *lim, const struct env_arg *args,
	       size_t nargs, const struct env_mail_info *mail,
	       unsigned long rcpt_no, struct finding_list *out)
{
	if (nargs == 0)
		return;
	check_address(lim, RULE_RCPT_LOCAL_PART_LENGTH, "recipient", "RCPT TO:",
		      args, nargs, mail->smtputf8, false, out);
	check_limit(lim, RULE_RCPT_COUNT, "recipient", args[0].s, args[0].len,
		    rcpt_no, 0, out);
}

void
env_check_helo(const struct limits *lim, const char *helo, size_t len,
	       struct finding_list *out)
{
	struct env_bytes b;
	const struct env_shape *shape;
	size_t at;

	check_limit(lim, RULE_HELO_LENGTH, HELO_FIELD, helo, len, len, 0, out);
	scan_bytes(helo, len, &b);
	if (b.control_at != NOWHERE)
		finding_add(out, RULE_HELO_CONTROL, HELO_FIELD, helo, len,
			    b.control_at, len, RULE_NO_LIMIT, "control byte");
	if (b.eight_bit_at != NOWHERE)
		finding_add(out, RULE_HELO_8BIT, HELO_FIELD, helo, len,
			    b.eight_bit_at, len, RULE_NO_LIMIT, "8-bit byte");
	shape = find_expansion(helo, len, &at);
	if (shape != NULL)
		finding_add(out, RULE_HELO_INJECTION, HELO_FIELD, helo, len, at,
			    len, RULE_NO_LIMIT, shape->detail);
}

void
env_check_unknown(const struct limits *lim, const char *cmd, size_t len,
		  unsigned long count, struct finding_list *out)
{
	check_limit(lim, RULE_UNKNOWN_COUNT, "command", cmd, len, count, 0, out);
}
