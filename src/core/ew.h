/*
 * ew.h -- RFC 2047 encoded-words: scanner and B/Q decoder
 *
 * The scanner walks a header value (any bytes: NUL, CR, LF and 8-bit are
 * data) and reports every "=?" that starts something shaped like an
 * encoded-word, well formed or not, so that malformed words are findings.
 * It looks at each byte a bounded number of times (linear time, no
 * recursion, no allocation).  The caller picks the fields worth scanning
 * (Subject, Comments, display names and comments of address headers,
 * unstructured X- fields); a field that is not text, such as a raw
 * X-Face, may hold an "=?" by chance.
 *
 * Shape.  A word starts at "=?" followed by a charset, "?", an encoding
 * and "?".  Charset and encoding are runs of bytes other than "?", "=",
 * SP, CTLs and DEL (8-bit and other RFC 2047 especials are taken, and make
 * the word malformed).  If either run ends on anything but "?", nothing is
 * reported and the scan goes on from that byte; since neither run holds a
 * "=", no "=?" is ever skipped.  The encoded text runs to the next "?",
 * CR, LF or the end of the input.  "?=" there ends the word; anything else
 * leaves it unterminated: the word and its text stop at that "?", CR, LF
 * or end, less one trailing "=" (which may start the next word, as in
 * "=?a?q?x=?b?q?y?=").  So a word cut short reports the same way wherever
 * the input is cut.
 * Blanks and other bytes inside the text are kept and judged by the
 * decoder.  Words need no blank between them: "?==?" holds two words.
 *
 * Malformed, in this order of precedence (w.malformed is the first that
 * applies, as a static string):
 *   "unterminated"            no "?=" before CR, LF, "?" or the end
 *   "empty charset"           "=??Q?...?="
 *   "charset is not a token"  8-bit bytes or ( ) < > @ , ; : " / [ ] .
 *   "unknown encoding"        anything but one B, b, Q or q
 *   "bad base64", "bad Q-encoding"   see ew_decode()
 * Not malformed: an empty encoded text (RFC 2047 asks for one byte, but
 * some generators write "=?UTF-8?B??=" for an empty name, and it decodes
 * to nothing); lowercase hex in Q; missing base64 padding; a word longer than
 * 75 octets (the caller compares w.len with its limit); a charset with an
 * RFC 2231 "*language" suffix, which w.charset keeps as sent
 * ("iso-8859-1*sv": everything up to the first "*" is the charset name).
 *
 * Decoded bytes are charset bytes, not characters: ISO-2022-JP text holds
 * ESC (the ham corpus has some), UTF-16 text holds NUL for every ASCII
 * character.  A check for control bytes must allow for the charset.
 *
 * Pointers in struct ew_word point into the scanned input.
 */
#ifndef MG_EW_H
#define MG_EW_H

#include <stddef.h>
#include <stdbool.h>

struct ew_word {
	size_t offset;		/* of the "=?" in the input */
	size_t len;		/* through "?=", or to where an unterminated
				   word stops */
	const char *charset;	/* raw, "*language" suffix included */
	size_t charset_len;
	char encoding;		/* 'B' or 'Q' (uppercased); 0 if unknown */
	const char *text;	/* the encoded text */
	size_t text_len;
	const char *malformed;	/* NULL if well formed, else a reason */
};

/* Caller-owned; the fields are private. */
struct ew_scan {
	const char *s;
	size_t len;
	size_t pos;
};

void ew_scan_init(struct ew_scan *sc, const char *s, size_t len);

/* 1: *w_r is the next word (well formed or not); 0: no more. */
int ew_scan_next(struct ew_scan *sc, struct ew_word *w_r);

/*
 * Decode w's text by w's encoding into out[0..outsize) (not NUL-terminated:
 * a decoded NUL is data).  out may be NULL when outsize is 0, to validate
 * only.  *outlen_r gets the bytes written; *truncated_r whether more would
 * have followed.  Returns 0, or -1 with a static reason in *error_r:
 *   "unknown encoding"  w->encoding is neither 'B' nor 'Q'
 *   "bad Q-encoding"    "=" not followed by two hex digits (either case),
 *                       or a byte outside printable US-ASCII, or "?"
 *   "bad base64"        a byte outside the base64 alphabet, data after
 *                       "=" padding, more padding than the last group
 *                       needs, or a last group of a single character
 * Missing or short padding and non-zero unused bits are accepted.  The
 * output is a lenient decoding even on -1 (bad Q sequences and bytes are
 * copied as they are, bad base64 characters skipped, data after padding
 * decoded as a new group), so a caller can still look for NUL in it.
 */
int ew_decode(const struct ew_word *w, char *out, size_t outsize,
	      size_t *outlen_r, bool *truncated_r, const char **error_r);

#endif
