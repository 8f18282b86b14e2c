/*
 * mime.h -- parse a MIME Content-Type value: type, subtype, parameters,
 * RFC 2231 continuations and extended values, and the multipart boundary
 *
 * The input is a field value as the MTA hands it to a milter: original
 * leading white space, folded lines joined by "\n" followed by SP or HTAB.
 * It is a byte string with a length: NUL, CR, LF and 8-bit bytes are data.
 *
 * The parser is tolerant of real mail: comments "(...)" (nested, with
 * quoted-pairs) and folding wherever RFC 2045 allows white space, upper-case
 * names, a trailing ";" or several, unquoted values holding '=' or '/' (as
 * in boundary=----=_NextPart_000), quoted extended values.  What is truly
 * malformed sets error to a static reason and error_offset to the offset of
 * the offending byte in the input; parsing then goes on at the next ';' so
 * that a boundary after the damage is still found.  Only the first error is
 * kept.
 *
 * Boundary: the first "boundary" parameter wins, whether plain (boundary=),
 * extended (boundary*=) or continued (boundary*0=, boundary*1=, ...; the
 * sections are assembled in section order, whatever their order in the
 * field).  Every later boundary parameter, and a repeated section, is
 * ignored and counted in boundary_dups.  The first MIME_BOUNDARY_KEEP bytes
 * are kept; boundary_len is always the full decoded length.  Only sections
 * 0 to MIME_BOUNDARY_SECTIONS - 1 are kept and checked for bchars: a
 * boundary with a later section is measured, not kept (boundary_kept is
 * false).
 *
 * Continuations: max_continuations and max_continued_len are taken over
 * each parameter name (compared without regard to case); lengths are
 * decoded lengths, with quotes, quoted-pairs, folding, the charset'language'
 * prefix and %XX escapes removed.  Past MIME_TRACK_NAMES continued names the
 * others are counted together, so the maxima can only grow.  Sections that
 * are missing or repeated (their count is not the highest number + 1) are
 * an error.
 *
 * Nothing here allocates, logs or recurses; time is linear in the input,
 * stack use about 8 KB.
 */
#ifndef MG_MIME_H
#define MG_MIME_H

#include <stdbool.h>
#include <stddef.h>

/* Boundary bytes kept; a longer boundary is measured. */
#define MIME_BOUNDARY_KEEP	256
/* RFC 2231 sections of the boundary assembled; later ones are measured. */
#define MIME_BOUNDARY_SECTIONS	256
/* Continued parameters counted apart; further names share one count. */
#define MIME_TRACK_NAMES	16
#define MIME_NOWHERE		((size_t)-1)

/* One parameter.  Pointers point into the parsed string. */
struct mime_param {
	const char *name;	/* without the RFC 2231 "*N*" suffix */
	size_t name_len;
	size_t name_offset;
	bool has_section;	/* name*N or name*N* */
	size_t section;
	bool extended;		/* name* or name*N*: %XX escapes */
	const char *raw;	/* the value as written: quotes, quoted-pairs, folding */
	size_t raw_len;
	size_t raw_offset;
	bool quoted;
	const char *charset;	/* extended section 0 (or no section): charset'lang'; */
	size_t charset_len;	/* NULL when absent */
	const char *lang;
	size_t lang_len;
	const char *text;	/* what mime_param_value() decodes: inside the quotes, */
	size_t text_len;	/* after charset'lang' */
};

struct mime_param_iter {
	const char *s;
	size_t len;
	size_t pos;
	bool separated;		/* a ';' came since the last parameter */
	const char *error;	/* first error, static, or NULL */
	size_t error_offset;
};

struct mime_ct {
	char type[32];			/* lowercased; cut at 31 bytes if longer */
	char subtype[64];		/* lowercased; cut at 63 bytes if longer */
	bool multipart;			/* type is "multipart" (full comparison) */
	bool has_boundary;		/* a boundary parameter, any type */
	char boundary[MIME_BOUNDARY_KEEP + 1];	/* NUL-terminated; may hold NULs */
	size_t boundary_len;		/* full decoded length */
	bool boundary_kept;		/* boundary[] holds all of it */
	size_t boundary_bad_at;		/* first byte outside RFC 2046 bchars,
					   a trailing space, 0 for an empty
					   boundary, or MIME_NOWHERE */
	size_t boundary_dups;		/* boundary parameters or sections ignored */
	size_t params;			/* parameters seen (each section counts) */
	size_t max_continuations;	/* most sections of any one parameter */
	size_t max_continued_len;	/* longest decoded continued value */
	const char *error;		/* NULL, or a static reason */
	size_t error_offset;		/* in the input */
};

/* Parse s[0..len) into *ct_r.  Never fails: what could not be parsed is
   reported in ct_r->error. */
void mime_parse_content_type(const char *s, size_t len, struct mime_ct *ct_r);

/* Iterate over the parameters of s[0..len) from offset start, just after
   the type/subtype (or disposition type): every parameter must follow a ';'.
   A parameter that cannot be parsed is skipped and recorded in it->error. */
void mime_param_init(struct mime_param_iter *it, const char *s, size_t len,
		     size_t start);
bool mime_param_next(struct mime_param_iter *it, struct mime_param *p_r);

/* Decode p's value (quoted-pairs, folding, %XX when extended) into
   buf[0..size), not NUL-terminated; buf may be NULL when size is 0.
   Returns the full decoded length, which may exceed size. */
size_t mime_param_value(const struct mime_param *p, char *buf, size_t size);

/* True if c is an RFC 2046 bchar (bcharsnospace or space). */
bool mime_is_bchar(unsigned char c);

#endif
