/*
 * ew.c -- RFC 2047 encoded-words: scanner and B/Q decoder (see ew.h)
 *
 * The scanner never moves backwards past the start of what it has
 * reported: a candidate that is not word-shaped is left at the byte that
 * broke its shape, a word at its end.  The decoder is one loop per
 * encoding that writes through a capped sink.
 */
#include "ew.h"

#include <string.h>

#include "esc.h"

static const char mal_unterminated[] = "unterminated";
static const char mal_empty_charset[] = "empty charset";
static const char mal_charset[] = "charset is not a token";
static const char mal_encoding[] = "unknown encoding";
static const char err_base64[] = "bad base64";
static const char err_q[] = "bad Q-encoding";

/* --- scanner ------------------------------------------------------------- */

/* Bytes of a charset or encoding run. */
static bool
in_run(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '?' && c != '=';
}

/* RFC 2047 2: token = 1*<any CHAR except SPACE, CTLs, and especials>. */
static bool
is_token(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || strchr("()<>@,;:\"/[].", c) != NULL)
			return false;
	}
	return true;
}

static size_t
run_end(const char *s, size_t len, size_t i)
{
	while (i < len && in_run((unsigned char)s[i]))
		i++;
	return i;
}

void
ew_scan_init(struct ew_scan *sc, const char *s, size_t len)
{
	sc->s = s;
	sc->len = len;
	sc->pos = 0;
}

/* Fill in w's reason once its fields are known. */
static void
judge(struct ew_word *w, bool terminated)
{
	size_t outlen;
	bool truncated;
	const char *error;

	if (!terminated)
		w->malformed = mal_unterminated;
	else if (w->charset_len == 0)
		w->malformed = mal_empty_charset;
	else if (!is_token(w->charset, w->charset_len))
		w->malformed = mal_charset;
	else if (w->encoding == 0)
		w->malformed = mal_encoding;
	else if (ew_decode(w, NULL, 0, &outlen, &truncated, &error) < 0)
		w->malformed = error;
}

int
ew_scan_next(struct ew_scan *sc, struct ew_word *w)
{
	const char *s = sc->s;
	size_t len = sc->len, i = sc->pos;

	while (i + 1 < len) {
		const char *eq = memchr(s + i, '=', len - i - 1);
		size_t cs, ce, es, ee, ts, te;
		bool terminated;

		if (eq == NULL)
			break;
		i = (size_t)(eq - s);
		if (s[i + 1] != '?') {
			i++;
			continue;
		}
		cs = i + 2;
		ce = run_end(s, len, cs);
		if (ce == len || s[ce] != '?') {
			i = ce;		/* no "=?" in between: runs hold no "=" */
			continue;
		}
		es = ce + 1;
		ee = run_end(s, len, es);
		if (ee == len || s[ee] != '?') {
			i = ee;
			continue;
		}
		ts = ee + 1;
		for (te = ts; te < len && s[te] != '?' && s[te] != '\r' &&
			     s[te] != '\n'; te++)
			;
		terminated = te + 1 < len && s[te] == '?' && s[te + 1] == '=';
		if (!terminated && te > ts && s[te - 1] == '=')
			te--;		/* it may start the next word */

		memset(w, 0, sizeof(*w));
		w->offset = i;
		w->len = (terminated ? te + 2 : te) - i;
		w->charset = s + cs;
		w->charset_len = ce - cs;
		if (ee - es == 1 && (s[es] == 'B' || s[es] == 'b'))
			w->encoding = 'B';
		else if (ee - es == 1 && (s[es] == 'Q' || s[es] == 'q'))
			w->encoding = 'Q';
		w->text = s + ts;
		w->text_len = te - ts;
		judge(w, terminated);
		sc->pos = i + w->len;
		return 1;
	}
	sc->pos = len;
	return 0;
}

/* --- decoder ------------------------------------------------------------- */

struct ew_sink {
	char *out;
	size_t size;
	size_t len;
	bool truncated;
};

static void
put(struct ew_sink *k, unsigned char c)
{
	if (k->len < k->size)
		k->out[k->len++] = (char)c;
	else
		k->truncated = true;
}


static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 2047 4.2. */
static bool
decode_q(const char *t, size_t len, struct ew_sink *k)
{
	bool ok = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		int hi, lo;

		if (c == '_') {
			put(k, ' ');
		} else if (c == '=' && i + 2 < len &&
			   (hi = esc_hexval((unsigned char)t[i + 1])) >= 0 &&
			   (lo = esc_hexval((unsigned char)t[i + 2])) >= 0) {
			put(k, (unsigned char)(hi << 4 | lo));
			i += 2;
		} else {
			if (c == '=' || c <= 0x20 || c >= 0x7f || c == '?')
				ok = false;
			put(k, c);
		}
	}
	return ok;
}

/* Emit the n (0-3) sextets of a last or padded group in acc; false if
   they cannot make a byte. */
static bool
flush_group(unsigned long acc, unsigned n, struct ew_sink *k)
{
	if (n == 2) {
		put(k, (unsigned char)(acc >> 4));
	} else if (n == 3) {
		put(k, (unsigned char)(acc >> 10));
		put(k, (unsigned char)(acc >> 2));
	}
	return n != 1;
}

/* RFC 2047 4.1, RFC 2045 6.8. */
static bool
decode_b(const char *t, size_t len, struct ew_sink *k)
{
	unsigned long acc = 0;
	unsigned n = 0, pads = 0;	/* sextets in the group, "=" after them */
	bool ok = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		int v = b64val(c);

		if (c == '=') {
			if (pads == 0 && !flush_group(acc, n, k))
				ok = false;
			if (++pads > (n == 0 ? 0u : 4 - n))
				ok = false;
			continue;
		}
		if (v < 0) {
			ok = false;
			continue;
		}
		if (pads > 0) {		/* data after padding: a new group */
			ok = false;
			acc = 0;
			n = pads = 0;
		}
		acc = acc << 6 | (unsigned long)v;
		if (++n == 4) {
			put(k, (unsigned char)(acc >> 16));
			put(k, (unsigned char)(acc >> 8));
			put(k, (unsigned char)acc);
			acc = 0;
			n = 0;
		}
	}
	if (pads == 0 && !flush_group(acc, n, k))
		ok = false;
	return ok;
}

int
ew_decode(const struct ew_word *w, char *out, size_t outsize,
	  size_t *outlen_r, bool *truncated_r, const char **error_r)
{
	struct ew_sink k = { out, out == NULL ? 0 : outsize, 0, false };
	const char *error = NULL;

	if (w->encoding == 'Q') {
		if (!decode_q(w->text, w->text_len, &k))
			error = err_q;
	} else if (w->encoding == 'B') {
		if (!decode_b(w->text, w->text_len, &k))
			error = err_base64;
	} else {
		error = mal_encoding;
	}
	*outlen_r = k.len;
	*truncated_r = k.truncated;
	*error_r = error;
	return error == NULL ? 0 : -1;
}
