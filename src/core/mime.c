/*
 * mime.c -- parse a MIME Content-Type value (see mime.h)
 *
 * One left-to-right pass: CFWS skipping (comments nest through a counter,
 * not recursion), the type and subtype, then the parameter iterator.  The
 * boundary's RFC 2231 sections are noted in a fixed table during the pass
 * and assembled in section order after it; continued parameters are counted
 * in a fixed table of names.
 */
#include "mime.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "esc.h"

static bool
mime_is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 tspecials: ( ) < > @ , ; : \ " / [ ] ? = */
static bool
mime_is_tspecial(unsigned char c)
{
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';':
	case ':': case '\\': case '"': case '/': case '[': case ']': case '?':
	case '=':
		return true;
	default:
		return false;
	}
}

/* RFC 2045 token character (8-bit bytes tolerated). */
static bool
mime_is_token(unsigned char c)
{
	return c > 0x20 && c != 0x7f && !mime_is_tspecial(c);
}

/* bchars below 0x40: digits and ' ( ) + , - . / : = ? and space; from
   0x40 to 0x7f: letters and '_' (RFC 2046, 5.1.1). */
#define MIME_BIT(c) (1ULL << ((unsigned)(c) & 63))
static const uint64_t mime_bchars_low =
	(((1ULL << 10) - 1) << '0') | MIME_BIT('\'') | MIME_BIT('(') | MIME_BIT(')') |
	MIME_BIT('+') | MIME_BIT(',') | MIME_BIT('-') | MIME_BIT('.') | MIME_BIT('/') |
	MIME_BIT(':') | MIME_BIT('=') | MIME_BIT('?') | MIME_BIT(' ');

bool
mime_is_bchar(unsigned char c)
{
	if (c < 0x40)
		return (mime_bchars_low >> c) & 1;
	return c < 0x80 && (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_');
}


static char
mime_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static void
iter_error(struct mime_param_iter *it, const char *msg, size_t offset)
{
	if (it->error == NULL) {
		it->error = msg;
		it->error_offset = offset;
	}
}

/* Skip white space, folding and comments from *pos.  Returns NULL, or
   "unterminated comment" with *err_at at its '(' (and *pos at the end). */
static const char *
skip_cfws(const char *s, size_t len, size_t *pos, size_t *err_at)
{
	size_t i = *pos;

	for (;;) {
		size_t open, depth = 0;

		while (i < len && mime_is_wsp(s[i]))
			i++;
		if (i >= len || s[i] != '(')
			break;
		open = i;
		while (i < len) {
			char c = s[i];

			if (c == '\\') {
				i += (i + 1 < len) ? 2 : 1;
				continue;
			}
			i++;
			if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
		}
		if (depth != 0) {
			*pos = len;
			*err_at = open;
			return "unterminated comment";
		}
	}
	*pos = i;
	return NULL;
}

/* Offset of the next ';' outside quoted strings, or len. */
static size_t
skip_to_semicolon(const char *s, size_t len, size_t i)
{
	bool quoted = false;

	for (; i < len; i++) {
		if (quoted && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == ';')
			break;
	}
	return i < len ? i : len;
}

/* Split the RFC 2231 suffix off p->name.  Returns false (and the offset of
   the bad suffix in *bad_r) if it is malformed. */
static bool
split_section(struct mime_param *p, size_t *bad_r)
{
	const char *star = memchr(p->name, '*', p->name_len);
	size_t base, n, sec = 0;

	if (star == NULL)
		return true;
	base = (size_t)(star - p->name);
	n = p->name_len - base - 1;	/* after the first '*' */
	*bad_r = p->name_offset + base;
	if (base == 0)
		return false;
	star++;
	if (n == 0) {
		p->extended = true;	/* name* */
		p->name_len = base;
		return true;
	}
	if (star[n - 1] == '*') {
		p->extended = true;	/* name*N* */
		n--;
	}
	if (n == 0 || n > 9 || (n > 1 && star[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (star[i] < '0' || star[i] > '9')
			return false;
		sec = sec * 10 + (size_t)(star[i] - '0');
	}
	p->has_section = true;
	p->section = sec;
	p->name_len = base;
	return true;
}

/* Work out p->text (and charset'lang' for an extended first section). */
static void
locate_text(struct mime_param_iter *it, struct mime_param *p, bool terminated)
{
	const char *t = p->raw;
	size_t n = p->raw_len;

	if (p->quoted) {
		t++;
		n -= terminated ? 2 : 1;
	}
	if (p->extended && (!p->has_section || p->section == 0)) {
		const char *q1 = memchr(t, '\'', n), *q2 = NULL;

		if (q1 != NULL)
			q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - t));
		if (q2 == NULL) {
			iter_error(it, "missing charset'language' in extended value",
				   p->raw_offset);
		} else {
			p->charset = t;
			p->charset_len = (size_t)(q1 - t);
			p->lang = q1 + 1;
			p->lang_len = (size_t)(q2 - q1 - 1);
			n -= (size_t)(q2 + 1 - t);
			t = q2 + 1;
		}
	}
	if (p->extended) {
		for (size_t i = 0; i < n; i++)
			if (t[i] == '%' && (i + 2 >= n ||
					    esc_hexval((unsigned char)t[i + 1]) < 0 ||
					    esc_hexval((unsigned char)t[i + 2]) < 0)) {
				iter_error(it, "bad %-escape in extended value",
					   (size_t)(t + i - it->s));
				break;
			}
	}
	p->text = t;
	p->text_len = n;
}

void
mime_param_init(struct mime_param_iter *it, const char *s, size_t len,
		size_t start)
{
	memset(it, 0, sizeof(*it));
	it->s = s;
	it->len = len;
	it->pos = start < len ? start : len;
}

bool
mime_param_next(struct mime_param_iter *it, struct mime_param *p)
{
	const char *s = it->s;
	size_t len = it->len;

	for (;;) {
		size_t i = it->pos, err_at = 0, start, bad = 0;
		const char *err;
		bool terminated = true;

		if ((err = skip_cfws(s, len, &i, &err_at)) != NULL)
			iter_error(it, err, err_at);
		it->pos = i;
		if (i >= len)
			return false;
		if (s[i] == ';') {
			it->pos = i + 1;
			it->separated = true;
			continue;
		}
		if (!it->separated)
			iter_error(it, "missing ';' before parameter", i);
		it->separated = false;
		memset(p, 0, sizeof(*p));

		/* name, with any RFC 2231 suffix ('*' is a token character) */
		start = i;
		while (i < len && mime_is_token((unsigned char)s[i]))
			i++;
		if (i == start) {
			iter_error(it, "unexpected character", i);
			it->pos = skip_to_semicolon(s, len, i);
			continue;
		}
		p->name = s + start;
		p->name_len = i - start;
		p->name_offset = start;
		if ((err = skip_cfws(s, len, &i, &err_at)) != NULL)
			iter_error(it, err, err_at);
		if (i >= len || s[i] != '=') {
			iter_error(it, "missing '=' after parameter name", i);
			it->pos = skip_to_semicolon(s, len, i);
			continue;
		}
		i++;
		if ((err = skip_cfws(s, len, &i, &err_at)) != NULL)
			iter_error(it, err, err_at);

		/* value: quoted-string or token (tolerant: '=', '/', ... allowed) */
		start = i;
		if (i < len && s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < len)
					i++;
			if (i >= len) {
				iter_error(it, "unterminated quoted string", start);
				terminated = false;
			} else {
				i++;
			}
			p->quoted = true;
		} else {
			while (i < len && !mime_is_wsp(s[i]) && s[i] != ';' &&
			       s[i] != '(' && s[i] != '"')
				i++;
			if (i == start)
				iter_error(it, "missing parameter value", i);
		}
		p->raw = s + start;
		p->raw_len = i - start;
		p->raw_offset = start;
		it->pos = i;
		if (!split_section(p, &bad)) {
			iter_error(it, "bad RFC 2231 section number", bad);
			continue;
		}
		locate_text(it, p, terminated);
		return true;
	}
}

/* --- value decoding ------------------------------------------------------- */

/* What decoding a value needs. */
struct mime_span {
	const char *text;
	size_t len;
	bool quoted, extended;
};

struct mime_dec {
	struct mime_span v;
	size_t i;
};

static struct mime_span
span_of(const struct mime_param *p)
{
	struct mime_span v = { p->text, p->text_len, p->quoted, p->extended };

	return v;
}

static void
dec_init(struct mime_dec *d, struct mime_span v)
{
	d->v = v;
	d->i = 0;
}

/* The next decoded byte, or -1 at the end. */
static int
dec_next(struct mime_dec *d)
{
	const char *s = d->v.text;

	while (d->i < d->v.len) {
		unsigned char c = (unsigned char)s[d->i++];

		if (d->v.quoted) {
			if (c == '\r' || c == '\n')
				continue;	/* unfold */
			if (c == '\\' && d->i < d->v.len)
				return (unsigned char)s[d->i++];
		}
		if (d->v.extended && c == '%' && d->i + 2 <= d->v.len) {
			int hi = esc_hexval((unsigned char)s[d->i]);
			int lo = esc_hexval((unsigned char)s[d->i + 1]);

			if (hi >= 0 && lo >= 0) {
				d->i += 2;
				return hi * 16 + lo;
			}
		}
		return c;
	}
	return -1;
}

size_t
mime_param_value(const struct mime_param *p, char *buf, size_t size)
{
	struct mime_dec d;
	size_t n = 0;
	int c;

	dec_init(&d, span_of(p));
	while ((c = dec_next(&d)) >= 0) {
		if (n < size)
			buf[n] = (char)c;
		n++;
	}
	return n;
}

/* --- Content-Type --------------------------------------------------------- */

struct mime_cont {
	const char *name;	/* NULL: the shared count past MIME_TRACK_NAMES */
	size_t name_len;
	size_t sections;
	size_t max_section;
	size_t total;
	size_t first_at;
};

struct mime_state {
	struct mime_cont cont[MIME_TRACK_NAMES + 1];
	size_t ncont;
	enum { B_NONE, B_PLAIN, B_SECTIONS } bform;
	struct mime_span slot[MIME_BOUNDARY_SECTIONS];
	bool used[MIME_BOUNDARY_SECTIONS];
	size_t late_len;	/* decoded bytes of sections past the table */
	bool late;
	int last;		/* last boundary byte appended, or -1 */
};

static void
ct_error(struct mime_ct *ct, const char *msg, size_t offset)
{
	if (ct->error == NULL) {
		ct->error = msg;
		ct->error_offset = offset;
	}
}

/* Append p's decoded value to the boundary, checking bchars. */
static void
boundary_append(struct mime_ct *ct, struct mime_state *st, struct mime_span v)
{
	struct mime_dec d;
	int c;
	size_t bad = MIME_NOWHERE, keep;

	/* Most boundaries need no decoding (no quoted-pair or folding in a
	   quoted string, no %XX in an extended value): copy those at once. */
	for (size_t i = 0; i < v.len; i++) {
		unsigned char b = (unsigned char)v.text[i];

		if ((v.quoted && (b == '\\' || b == '\r' || b == '\n')) ||
		    (v.extended && b == '%'))
			goto decode;
		if (bad == MIME_NOWHERE && !mime_is_bchar(b))
			bad = i;
	}
	keep = ct->boundary_len < MIME_BOUNDARY_KEEP ? MIME_BOUNDARY_KEEP - ct->boundary_len : 0;
	if (keep > 0 && v.len > 0)
		memcpy(ct->boundary + ct->boundary_len, v.text, v.len < keep ? v.len : keep);
	if (bad != MIME_NOWHERE && ct->boundary_bad_at == MIME_NOWHERE)
		ct->boundary_bad_at = ct->boundary_len + bad;
	ct->boundary_len += v.len;
	if (v.len > 0)
		st->last = (unsigned char)v.text[v.len - 1];
	return;
decode:
	dec_init(&d, v);
	while ((c = dec_next(&d)) >= 0) {
		if (ct->boundary_len < MIME_BOUNDARY_KEEP)
			ct->boundary[ct->boundary_len] = (char)c;
		if (!mime_is_bchar((unsigned char)c) &&
		    ct->boundary_bad_at == MIME_NOWHERE)
			ct->boundary_bad_at = ct->boundary_len;
		ct->boundary_len++;
		st->last = c;
	}
}

static void
count_continuation(struct mime_ct *ct, struct mime_state *st,
		   const struct mime_param *p)
{
	struct mime_cont *e = NULL;

	for (size_t i = 0; i < st->ncont && e == NULL; i++)
		if (st->cont[i].name_len == p->name_len &&
		    strncasecmp(st->cont[i].name, p->name, p->name_len) == 0)
			e = &st->cont[i];
	if (e == NULL && st->ncont < MIME_TRACK_NAMES) {
		e = &st->cont[st->ncont++];
		e->name = p->name;
		e->name_len = p->name_len;
		e->first_at = p->name_offset;
		e->sections = e->max_section = e->total = 0;
	} else if (e == NULL) {
		e = &st->cont[MIME_TRACK_NAMES];	/* shared, name NULL */
	}
	e->sections++;
	if (p->section > e->max_section)
		e->max_section = p->section;
	e->total += mime_param_value(p, NULL, 0);
	if (e->sections > ct->max_continuations)
		ct->max_continuations = e->sections;
	if (e->total > ct->max_continued_len)
		ct->max_continued_len = e->total;
}

static void
note_boundary(struct mime_ct *ct, struct mime_state *st,
	      const struct mime_param *p)
{
	if (!p->has_section) {
		if (st->bform != B_NONE) {
			ct->boundary_dups++;
			return;
		}
		st->bform = B_PLAIN;
		boundary_append(ct, st, span_of(p));
		return;
	}
	if (st->bform == B_PLAIN) {
		ct->boundary_dups++;
		return;
	}
	st->bform = B_SECTIONS;
	if (p->section >= MIME_BOUNDARY_SECTIONS) {
		st->late = true;
		st->late_len += mime_param_value(p, NULL, 0);
	} else if (st->used[p->section]) {
		ct->boundary_dups++;
	} else {
		st->used[p->section] = true;
		st->slot[p->section] = span_of(p);
	}
}

/* Copy a token, lowercased, into out[0..size-1); returns its full length. */
static size_t
take_token(const char *s, size_t len, size_t *pos, char *out, size_t size)
{
	size_t i = *pos, n = 0;

	while (i < len && mime_is_token((unsigned char)s[i])) {
		if (n < size - 1)
			out[n] = mime_lower(s[i]);
		n++;
		i++;
	}
	out[n < size - 1 ? n : size - 1] = '\0';
	*pos = i;
	return n;
}

void
mime_parse_content_type(const char *s, size_t len, struct mime_ct *ct)
{
	struct mime_state st;
	struct mime_param_iter it;
	struct mime_param p;
	size_t i = 0, err_at = 0, type_len;
	const char *err;

	memset(ct, 0, sizeof(*ct));
	/* not all of st: cont[] and slot[] are written before they are read */
	memset(&st.cont[MIME_TRACK_NAMES], 0, sizeof(st.cont[MIME_TRACK_NAMES]));
	memset(st.used, 0, sizeof(st.used));
	st.ncont = 0;
	st.bform = B_NONE;
	st.late_len = 0;
	st.late = false;
	st.last = -1;
	ct->boundary_bad_at = MIME_NOWHERE;

	if ((err = skip_cfws(s, len, &i, &err_at)) != NULL)
		ct_error(ct, err, err_at);
	type_len = take_token(s, len, &i, ct->type, sizeof(ct->type));
	ct->multipart = type_len == 9 && strcmp(ct->type, "multipart") == 0;
	if (type_len == 0) {
		ct_error(ct, "missing type", i);
	} else {
		if ((err = skip_cfws(s, len, &i, &err_at)) != NULL)
			ct_error(ct, err, err_at);
		if (i < len && s[i] == '/') {
			i++;
			if ((err = skip_cfws(s, len, &i, &err_at)) != NULL)
				ct_error(ct, err, err_at);
			if (take_token(s, len, &i, ct->subtype, sizeof(ct->subtype)) == 0)
				ct_error(ct, "missing subtype", i);
		} else {
			ct_error(ct, "missing '/' after type", i);
		}
	}

	mime_param_init(&it, s, len, i);
	while (mime_param_next(&it, &p)) {
		ct->params++;
		if (p.has_section)
			count_continuation(ct, &st, &p);
		if (p.name_len == 8 && strncasecmp(p.name, "boundary", 8) == 0)
			note_boundary(ct, &st, &p);
	}
	if (it.error != NULL)
		ct_error(ct, it.error, it.error_offset);

	for (size_t k = 0; k < st.ncont; k++)
		if (st.cont[k].sections != st.cont[k].max_section + 1)
			ct_error(ct, "RFC 2231 sections missing or repeated",
				 st.cont[k].first_at);

	if (st.bform == B_SECTIONS) {
		for (size_t k = 0; k < MIME_BOUNDARY_SECTIONS; k++)
			if (st.used[k])
				boundary_append(ct, &st, st.slot[k]);
		ct->boundary_len += st.late_len;
	}
	if (st.bform != B_NONE) {
		size_t kept = ct->boundary_len < MIME_BOUNDARY_KEEP ?
			      ct->boundary_len : MIME_BOUNDARY_KEEP;

		ct->has_boundary = true;
		ct->boundary_kept = ct->boundary_len <= MIME_BOUNDARY_KEEP && !st.late;
		ct->boundary[kept] = '\0';
		if (ct->boundary_len == 0)
			ct->boundary_bad_at = 0;
		else if (ct->boundary_bad_at == MIME_NOWHERE && !st.late &&
			 st.last == ' ')
			ct->boundary_bad_at = ct->boundary_len - 1;
	}
}
