/*
 * hdr.c -- checks of header fields (see hdr.h)
 *
 * Each field goes through the same steps: the name; the physical lines and
 * the value's length; one pass over the bytes (bare CR, bare LF, NUL,
 * controls, UTF-8); then what its name calls for (address tokenizer,
 * encoded-words, Content-Type parameters, DKIM/ARC tag-lists,
 * Authentication-Results).  Every rule reports at most once per field, at
 * the first offset where it applies.
 */
#include "hdr.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "ew.h"
#include "utf8.h"

#define NOWHERE ((size_t)-1)
#define EW_DECODE_MAX 512	/* decoded bytes examined per encoded-word */

/* Field names and what they call for. */
enum hdr_kind_bits {
	K_ADDRESS = 1 << 0,	/* address list: tokenizer, mailboxes */
	K_TEXT_EW = 1 << 1,	/* unstructured text whose encoded-words decode to display */
	K_CTYPE = 1 << 2,	/* Content-Type: boundary and parameters */
	K_PARAMS = 1 << 3,	/* parameters (RFC 2231) only: Content-Disposition */
	K_TAGLIST = 1 << 4,	/* DKIM / ARC tag-list */
	K_AUTHRES = 1 << 5,	/* Authentication-Results syntax */
};

struct hdr_name {
	const char *name;
	size_t len;
	unsigned kind;
	int singleton;		/* enum hdr_singleton or -1 */
	int auth;		/* enum hdr_auth or -1 */
};

#define HDR_NAME(s) s, sizeof(s) - 1

/* Every field's name is looked up, and most are not in the table: one
   hash of the length and three letters (first, middle, last; case folded)
   picks the only slot the name can be in.  A name's slot is written in
   the table below; hdr_names_misplaced() (a unit test) finds a name in the
   wrong slot and says where it belongs, and the compiler (-Woverride-init)
   refuses two names in one slot. */
#define HDR_SLOTS 64

static size_t
slot_of(const char *name, size_t len)
{
	unsigned f = (unsigned char)name[0] | 0x20, m = (unsigned char)name[len / 2] | 0x20,
		l = (unsigned char)name[len - 1] | 0x20;

	return (len * 24 + f * 6 + m * 7 + l) & (HDR_SLOTS - 1);
}

static const struct hdr_name hdr_names[HDR_SLOTS] = {
	[3] = { HDR_NAME("Content-Type"), K_CTYPE, -1, -1 },
	[8] = { HDR_NAME("Comments"), K_TEXT_EW, -1, -1 },
	[9] = { HDR_NAME("Date"), 0, HDR_S_DATE, -1 },
	[11] = { HDR_NAME("Content-Description"), K_TEXT_EW, -1, -1 },
	[13] = { HDR_NAME("Resent-From"), K_ADDRESS, -1, -1 },
	[16] = { HDR_NAME("ARC-Authentication-Results"), K_AUTHRES, -1, HDR_A_ARC_RESULTS },
	[17] = { HDR_NAME("Resent-Sender"), K_ADDRESS, -1, -1 },
	[18] = { HDR_NAME("References"), 0, HDR_S_REFERENCES, -1 },
	[23] = { HDR_NAME("ARC-Seal"), K_TAGLIST, -1, HDR_A_ARC_SEAL },
	[24] = { HDR_NAME("Disposition-Notification-To"), K_ADDRESS, -1, -1 },
	[26] = { HDR_NAME("Cc"), K_ADDRESS, HDR_S_CC, -1 },
	[30] = { HDR_NAME("DKIM-Signature"), K_TAGLIST, -1, HDR_A_DKIM },
	[32] = { HDR_NAME("To"), K_ADDRESS, HDR_S_TO, -1 },
	[38] = { HDR_NAME("ARC-Message-Signature"), K_TAGLIST, -1, HDR_A_ARC_MESSAGE },
	[39] = { HDR_NAME("Content-Disposition"), K_PARAMS, -1, -1 },
	[40] = { HDR_NAME("Authentication-Results"), K_AUTHRES, -1, HDR_A_AUTH_RESULTS },
	[41] = { HDR_NAME("Resent-Cc"), K_ADDRESS, -1, -1 },
	[42] = { HDR_NAME("Reply-To"), K_ADDRESS, HDR_S_REPLY_TO, -1 },
	[43] = { HDR_NAME("Resent-Bcc"), K_ADDRESS, -1, -1 },
	[44] = { HDR_NAME("Bcc"), K_ADDRESS, HDR_S_BCC, -1 },
	[48] = { HDR_NAME("Sender"), K_ADDRESS, HDR_S_SENDER, -1 },
	[49] = { HDR_NAME("Mail-Followup-To"), K_ADDRESS, -1, -1 },
	[51] = { HDR_NAME("Message-ID"), 0, HDR_S_MESSAGE_ID, -1 },
	[52] = { HDR_NAME("Subject"), K_TEXT_EW, HDR_S_SUBJECT, -1 },
	[53] = { HDR_NAME("Resent-To"), K_ADDRESS, -1, -1 },
	[54] = { HDR_NAME("Thread-Topic"), K_TEXT_EW, -1, -1 },
	[56] = { HDR_NAME("Mail-Reply-To"), K_ADDRESS, -1, -1 },
	[58] = { HDR_NAME("From"), K_ADDRESS, HDR_S_FROM, -1 },
	[61] = { HDR_NAME("In-Reply-To"), 0, HDR_S_IN_REPLY_TO, -1 },
	[62] = { HDR_NAME("Keywords"), K_TEXT_EW, -1, -1 },
};

static const struct hdr_name *
lookup(const char *name, size_t len)
{
	const struct hdr_name *n;

	if (len == 0)
		return NULL;
	n = &hdr_names[slot_of(name, len)];
	if (n->len != len ||
	    (memcmp(n->name, name, len) != 0 &&	/* as spelt */
	     !utf8_ascii_ieq(n->name, name, len)))
		return NULL;
	return n;
}

size_t
hdr_names_misplaced(char *name_r, size_t size, size_t *slot_r)
{
	size_t bad = 0;

	for (size_t i = 0; i < HDR_SLOTS; i++) {
		const struct hdr_name *n = &hdr_names[i];

		if (n->name == NULL || slot_of(n->name, n->len) == i)
			continue;
		if (bad++ == 0 && size > 0) {
			snprintf(name_r, size, "%s", n->name);
			*slot_r = slot_of(n->name, n->len);
		}
	}
	return bad;
}

void
hdr_init(struct hdr_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void
over_limit(const struct limits *lim, enum rule_id rule, struct finding_field *field,
	   const char *s, size_t len, size_t measured, size_t offset,
	   struct finding_list *out)
{
	unsigned long limit = lim->limit[rule];

	if (limit != RULE_NO_LIMIT && measured > limit)
		finding_add(out, rule, finding_field_name(field), s, len, offset, measured, limit, NULL);
}

static void
check_name(const struct limits *lim, struct finding_field *field, const char *name,
	   size_t len, struct finding_list *out)
{
	/* printable US-ASCII without ':' is skipped 16 octets at a time */
	size_t i = utf8_plain_span(name, len, 0x21, ':');

	if (i < len)
		finding_add(out, RULE_HEADER_NAME_CHARSET, finding_field_name(field), name, len, i,
			    len, RULE_NO_LIMIT, "byte outside printable US-ASCII");
	if (len == 0)
		finding_add(out, RULE_HEADER_NAME_CHARSET, finding_field_name(field), name, len, 0, 0,
			    RULE_NO_LIMIT, "empty field name");
	over_limit(lim, RULE_HEADER_NAME_LENGTH, field, name, len, len, 0, out);
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* One pass over the value: its physical lines (the first is "name:" plus
   the value up to the first "\n"; the others are the folded
   continuations), then its length, then its bytes (bare CR, bare LF, NUL,
   controls, UTF-8).  Only the octets outside printable US-ASCII are looked
   at, found 64 at a time (utf8_odd_mask64()). */
static void
check_value(const struct limits *lim, struct finding_field *field, size_t name_len,
	    const char *v, size_t len, size_t total, struct finding_list *out)
{
	const unsigned char *u = (const unsigned char *)v;
	size_t cr = NOWHERE, lf = NOWHERE, nul = NOWHERE, ctl = NOWHERE, bad = NOWHERE;
	size_t start = 0, line, longest = 0, longest_at = 0;

	size_t skip = 0;	/* octets before it are part of a UTF-8 sequence */

	/* 64 octets a block: a mask of the odd ones, then only those */
	for (size_t base = 0; base < len; base += 64) {
		size_t bn = len - base < 64 ? len - base : 64;
		uint64_t m = utf8_odd_mask64(v + base, bn, base, 0x20, 0);

		if (skip > base)
			m = skip - base >= 64 ? 0 : m & (~0ULL << (skip - base));
		while (m != 0) {
			size_t i = base + (size_t)__builtin_ctzll(m);
			unsigned char c = u[i];

			m &= m - 1;
			if (c == '\r') {
				if (cr == NOWHERE && !(i + 1 < len && v[i + 1] == '\n'))
					cr = i;
			} else if (c == '\n') {
				line = i - start + (start == 0 ? name_len + 1 : 0);
				if (line > longest) {
					longest = line;
					longest_at = start;
				}
				start = i + 1;
				if (lf == NOWHERE && !(i + 1 < len && is_wsp(v[i + 1])))
					lf = i;
			} else if (c == 0) {
				if (nul == NOWHERE)
					nul = i;
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				if (ctl == NOWHERE)
					ctl = i;
			} else if (c >= 0x80) {
				size_t n = utf8_seq_len(u + i, len - i);

				if (n == 0) {
					if (bad == NOWHERE)
						bad = i;
				} else if (n > 1) {
					/* the continuation octets are not looked at again */
					skip = i + n;
					m = skip - base >= 64 ? 0 : m & (~0ULL << (skip - base));
				}
			}
		}
	}
	line = len - start + (start == 0 ? name_len + 1 : 0);
	if (line > longest) {
		longest = line;
		longest_at = start;
	}
	/* Both tiers report: switching the hard one off leaves the other. */
	over_limit(lim, RULE_HEADER_LINE_LENGTH, field, v, len, longest, longest_at, out);
	over_limit(lim, RULE_HEADER_LINE_LENGTH_HARD, field, v, len, longest,
		   longest_at, out);
	over_limit(lim, RULE_HEADER_VALUE_LENGTH, field, v, len, total, 0, out);
	if (cr != NOWHERE)
		finding_add(out, RULE_HEADER_BARE_CR, finding_field_name(field), v, len, cr, len, RULE_NO_LIMIT, NULL);
	if (lf != NOWHERE)
		finding_add(out, RULE_HEADER_BARE_LF, finding_field_name(field), v, len, lf, len, RULE_NO_LIMIT,
			    "line break not followed by white space");
	if (nul != NOWHERE)
		finding_add(out, RULE_HEADER_NUL, finding_field_name(field), v, len, nul, len, RULE_NO_LIMIT, NULL);
	if (ctl != NOWHERE)
		finding_add(out, RULE_HEADER_CONTROL, finding_field_name(field), v, len, ctl, len, RULE_NO_LIMIT, NULL);
	if (bad != NOWHERE)
		finding_add(out, RULE_HEADER_INVALID_UTF8, finding_field_name(field), v, len, bad, len,
			    RULE_NO_LIMIT, NULL);
}

static void
check_address(const struct limits *lim, struct finding_field *field, const char *v,
	      size_t len, size_t *mailboxes_r, struct finding_list *out)
{
	struct addr_summary sum;
	size_t excess;

	addr_summarize(v, len, &sum);
	*mailboxes_r = sum.mailboxes;
	over_limit(lim, RULE_HEADER_ADDRESS_COMMENT_DEPTH, field, v, len,
		   sum.max_comment_depth, 0, out);
	excess = (sum.angle_open > sum.mailboxes ? sum.angle_open - sum.mailboxes : 0) +
		(sum.angle_close > sum.angle_open ? sum.angle_close - sum.angle_open : 0) +
		(sum.max_angle_depth > 1 ? sum.max_angle_depth - 1 : 0);
	over_limit(lim, RULE_HEADER_ADDRESS_ANGLE_BRACKETS, field, v, len, excess, 0, out);
	over_limit(lim, RULE_HEADER_ADDRESS_BACKSLASHES, field, v, len, sum.backslashes, 0, out);
	over_limit(lim, RULE_HEADER_ADDRESS_TOKENS, field, v, len, sum.tokens, 0, out);
	if (sum.error != NULL)
		finding_add(out, RULE_HEADER_ADDRESS_SYNTAX, finding_field_name(field), v, len,
			    sum.error_offset, len, RULE_NO_LIMIT, sum.error);
	if (sum.ew_in_addrspec_at != ADDR_NOWHERE)
		finding_add(out, RULE_HEADER_ENCODED_WORD_IN_ADDRESS, finding_field_name(field), v, len,
			    sum.ew_in_addrspec_at, len, RULE_NO_LIMIT, NULL);
}

/* True if the decoded bytes hold NUL, CR, LF or another control.  HTAB is
   text; ESC, SO and SI are how the ISO-2022 charsets (Japanese, Korean,
   Chinese mail) switch character sets, so they count only elsewhere. */
static bool
has_control(const char *s, size_t len, bool iso2022)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t' || (iso2022 && (c == 0x1b || c == 0x0e || c == 0x0f)))
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

static void
check_encoded_words(const struct limits *lim, struct finding_field *field, const char *v,
		    size_t len, bool displayed, struct finding_list *out)
{
	struct ew_scan sc;
	struct ew_word w;
	bool long_seen = false, bad_seen = false, ctl_seen = false;
	char decoded[EW_DECODE_MAX];

	ew_scan_init(&sc, v, len);
	while (ew_scan_next(&sc, &w) == 1) {
		if (!long_seen && lim->limit[RULE_HEADER_ENCODED_WORD_LENGTH] != RULE_NO_LIMIT &&
		    w.len > lim->limit[RULE_HEADER_ENCODED_WORD_LENGTH]) {
			long_seen = true;
			finding_add(out, RULE_HEADER_ENCODED_WORD_LENGTH, finding_field_name(field), v, len,
				    w.offset, w.len,
				    lim->limit[RULE_HEADER_ENCODED_WORD_LENGTH], NULL);
		}
		if (w.malformed != NULL) {
			if (!bad_seen)
				finding_add(out, RULE_HEADER_ENCODED_WORD_MALFORMED, finding_field_name(field), v,
					    len, w.offset, w.len, RULE_NO_LIMIT, w.malformed);
			bad_seen = true;
			if (w.encoding == 0)
				continue;	/* no B or Q text to decode */
			/* bad B or Q text: mail readers decode it leniently, and
			   so does ew_decode(), so the control check still runs */
		}
		if (displayed && !ctl_seen) {
			size_t n = 0;
			bool truncated = false;
			const char *err = NULL;

			bool iso2022 = w.charset_len >= 8 &&
				strncasecmp(w.charset, "ISO-2022", 8) == 0;
			bool wide =	/* NUL in every ASCII character */
				(w.charset_len >= 6 && (strncasecmp(w.charset, "UTF-16", 6) == 0 ||
							strncasecmp(w.charset, "UTF-32", 6) == 0)) ||
				(w.charset_len >= 4 && strncasecmp(w.charset, "UCS-", 4) == 0);

			if (!wide && (ew_decode(&w, decoded, sizeof(decoded), &n, &truncated, &err) == 0 ||
				      w.malformed != NULL) &&
			    has_control(decoded, n, iso2022)) {
				ctl_seen = true;
				finding_add(out, RULE_HEADER_ENCODED_WORD_CONTROL, finding_field_name(field), v,
					    len, w.offset, w.len, RULE_NO_LIMIT,
					    "decodes to a control byte");
			}
		}
	}
}

static void
check_params(const struct limits *lim, struct finding_field *field, const char *v,
	     size_t len, bool content_type, const struct mime_ct *ct_r,
	     struct finding_list *out)
{
	if (content_type && ct_r->has_boundary) {
		over_limit(lim, RULE_MIME_BOUNDARY_LENGTH, field, v, len,
			   ct_r->boundary_len, 0, out);
		over_limit(lim, RULE_MIME_BOUNDARY_LENGTH_HARD, field, v, len,
			   ct_r->boundary_len, 0, out);
		if (ct_r->boundary_bad_at != MIME_NOWHERE)
			finding_add(out, RULE_MIME_BOUNDARY_CHARSET, finding_field_name(field), v, len, 0,
				    ct_r->boundary_len, RULE_NO_LIMIT, NULL);
	}
	over_limit(lim, RULE_MIME_RFC2231_CONTINUATIONS, field, v, len,
		   ct_r->max_continuations, 0, out);
	over_limit(lim, RULE_MIME_RFC2231_LENGTH, field, v, len,
		   ct_r->max_continued_len, 0, out);
	if (content_type && ct_r->error != NULL)
		finding_add(out, RULE_MIME_SYNTAX, finding_field_name(field), v, len, ct_r->error_offset,
			    len, RULE_NO_LIMIT, ct_r->error);
}

/* DKIM-Signature and ARC-Seal / ARC-Message-Signature: tag=value; ... */
static void
check_taglist(const struct limits *lim, struct finding_field *field, const char *v,
	      size_t len, struct finding_list *out)
{
	size_t start = 0, longest = 0, longest_at = 0;
	bool syntax_seen = false;

	for (size_t i = 0; i <= len; i++) {
		size_t a, b;
		const char *eq, *semi;

		if (i < len) {	/* to the next ';' or the end */
			semi = memchr(v + i, ';', len - i);
			i = semi != NULL ? (size_t)(semi - v) : len;
		}
		a = start;
		b = i;
		start = i + 1;
		while (a < b && (is_wsp(v[a]) || v[a] == '\r' || v[a] == '\n'))
			a++;
		while (b > a && (is_wsp(v[b - 1]) || v[b - 1] == '\r' || v[b - 1] == '\n'))
			b--;
		if (a == b)
			continue;	/* empty, e.g. after a trailing ";" */
		eq = memchr(v + a, '=', b - a);
		if (eq == NULL || eq == v + a) {
			if (!syntax_seen)
				finding_add(out, RULE_AUTH_TAG_SYNTAX, finding_field_name(field), v, len, a,
					    b - a, RULE_NO_LIMIT,
					    eq ? "tag without a name" : "tag without \"=\"");
			syntax_seen = true;
			continue;
		}
		if ((size_t)(v + b - eq - 1) > longest) {
			longest = (size_t)(v + b - eq - 1);
			longest_at = a;
		}
	}
	over_limit(lim, RULE_AUTH_TAG_LENGTH, field, v, len, longest, longest_at, out);
}

/* Authentication-Results: the shapes that crashed or fooled OpenDMARC:
   a method with no name ("; =pass") or "(null)=". */
static void
check_authres(struct finding_field *field, const char *v, size_t len, struct finding_list *out)
{
	size_t at;

	for (size_t i = 0; i < len; i++) {
		const char *semi = memchr(v + i, ';', len - i);
		size_t j;

		if (semi == NULL)
			break;
		i = (size_t)(semi - v);
		j = i + 1;
		while (j < len && (is_wsp(v[j]) || v[j] == '\n' || v[j] == '\r'))
			j++;
		if (j < len && v[j] == '=') {
			finding_add(out, RULE_AUTH_TAG_SYNTAX, finding_field_name(field), v, len, j, len,
				    RULE_NO_LIMIT, "method without a name");
			return;
		}
	}
	for (at = 0; at + 7 <= len; at++) {
		const char *paren = memchr(v + at, '(', len - 6 - at);

		if (paren == NULL)
			break;
		at = (size_t)(paren - v);
		if (strncasecmp(v + at, "(null)=", 7) == 0) {
			finding_add(out, RULE_AUTH_TAG_SYNTAX, finding_field_name(field), v, len, at, len,
				    RULE_NO_LIMIT, "(null) method");
			return;
		}
	}
}

/* The checks every field gets, message or part; returns its kind.  A
   Content-Type or Content-Disposition is parsed into *ct_r, unless parsed
   (a Content-Type parsed already) is given. */
static const struct hdr_name *
check_common(const struct limits *lim, struct finding_field *field, const char *name,
	     size_t name_len, const char *v, size_t len, size_t total,
	     size_t *mailboxes_r, const struct mime_ct *parsed, struct mime_ct *ct_r,
	     struct finding_list *out)
{
	const struct hdr_name *n = lookup(name, name_len);
	unsigned kind = n ? n->kind : 0;

	check_name(lim, field, name, name_len, out);
	check_value(lim, field, name_len, v, len, total, out);
	*mailboxes_r = 0;
	if (kind & K_ADDRESS)
		check_address(lim, field, v, len, mailboxes_r, out);
	if (kind & (K_ADDRESS | K_TEXT_EW))
		check_encoded_words(lim, field, v, len, true, out);
	if (kind & (K_CTYPE | K_PARAMS)) {
		if (parsed == NULL || !(kind & K_CTYPE)) {
			mime_parse_content_type(v, len, ct_r);
			parsed = ct_r;
		}
		check_params(lim, field, v, len, (kind & K_CTYPE) != 0, parsed, out);
	}
	if (kind & K_TAGLIST)
		check_taglist(lim, field, v, len, out);
	if (kind & K_AUTHRES)
		check_authres(field, v, len, out);
	return n;
}

void
hdr_check_field(const struct limits *lim, struct hdr_state *st, const char *name,
		size_t name_len, const char *value, size_t value_len,
		struct finding_list *out)
{
	struct finding_field f;	/* buf is written only for a finding */
	struct finding_field *field = &f;
	struct mime_ct ct;
	size_t mailboxes;
	const struct hdr_name *n;
	unsigned long long before = st->block_len;

	finding_field_init(&f, "header:", name, name_len);
	st->count++;
	st->block_len += name_len + 1 + value_len + 2;
	if (st->count == lim->limit[RULE_HEADER_COUNT] + 1)
		over_limit(lim, RULE_HEADER_COUNT, field, name, name_len, st->count, 0, out);
	if (before <= lim->limit[RULE_HEADER_BLOCK_LENGTH] &&
	    st->block_len > lim->limit[RULE_HEADER_BLOCK_LENGTH])
		over_limit(lim, RULE_HEADER_BLOCK_LENGTH, field, name, name_len,
			   (size_t)st->block_len, 0, out);
	n = check_common(lim, field, name, name_len, value, value_len, value_len,
			 &mailboxes, NULL, &ct, out);
	if (name_len == sizeof(HDR_TAG_NAME) - 1 &&
	    strncasecmp(name, HDR_TAG_NAME, name_len) == 0)
		st->forged_tags++;
	if (n == NULL)
		return;
	if ((n->kind & K_CTYPE) && !st->ct_seen) {
		st->ct = ct;
		st->ct_seen = true;
	}
	if (n->singleton == HDR_S_FROM)
		st->from_mailboxes += mailboxes;
	if (n->singleton >= 0 && ++st->singleton[n->singleton] == 2)
		finding_add(out, n->singleton == HDR_S_FROM ? RULE_HEADER_FROM_REPEATED :
			    RULE_HEADER_SINGLETON_REPEATED, finding_field_name(field), value, value_len, 0, 2,
			    RULE_NO_LIMIT, NULL);
	if (n->auth >= 0 && ++st->auth[n->auth] == lim->limit[RULE_AUTH_COUNT] + 1)
		over_limit(lim, RULE_AUTH_COUNT, field, value, value_len,
			   st->auth[n->auth], 0, out);
}

void
hdr_check_part_field(const struct limits *lim, const char *name, size_t name_len,
		     const char *value, size_t value_len, size_t value_total,
		     const struct mime_ct *parsed, struct finding_list *out)
{
	struct finding_field f;
	struct mime_ct ct;
	size_t mailboxes;

	finding_field_init(&f, "part:", name, name_len);
	check_common(lim, &f, name, name_len, value, value_len, value_total,
		     &mailboxes, parsed, &ct, out);
}

void
hdr_check_end(const struct limits *lim, const struct hdr_state *st,
	      struct finding_list *out)
{
	(void)lim;
	if (st->singleton[HDR_S_FROM] == 0)
		finding_add(out, RULE_HEADER_FROM_MISSING, "header:From", NULL, 0, 0,
			    0, RULE_NO_LIMIT, NULL);
	if (st->singleton[HDR_S_DATE] == 0)
		finding_add(out, RULE_HEADER_DATE_MISSING, "header:Date", NULL, 0, 0,
			    0, RULE_NO_LIMIT, NULL);
	if (st->from_mailboxes > 1 && st->singleton[HDR_S_SENDER] == 0)
		finding_add(out, RULE_HEADER_FROM_MULTIPLE, "header:From", NULL, 0, 0,
			    st->from_mailboxes, RULE_NO_LIMIT, "no Sender field");
}
