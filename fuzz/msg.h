/*
 * msg.h -- split a raw message into header fields and body, as an MTA
 * hands them to a milter
 *
 * Fields: the name (the bytes before the first ':'), and the value after
 * it with its leading white space kept, the CR of every CRLF dropped and
 * folded lines joined by "\n" followed by the continuation line.  A line
 * without ':' that is not a continuation is passed with an empty value
 * (the name checks judge it).  The header ends at the first empty line;
 * the body is what follows it.  Used by the header, body and message
 * harnesses and by the allocation-failure test; it never allocates: the
 * caller's buffer holds one value, and a longer value is cut to it (its
 * full length is still reported).
 */
#ifndef FUZZ_MSG_H
#define FUZZ_MSG_H

#include <stdbool.h>
#include <stddef.h>

struct fmsg {
	const char *s;
	size_t len;
	size_t pos;		/* start of the next line */
	bool in_body;
};

struct fmsg_field {
	const char *name;	/* into the message */
	size_t name_len;
	const char *value;	/* into the caller's buffer */
	size_t value_len;	/* bytes in the buffer */
	size_t value_total;	/* full unfolded length */
};

void fmsg_init(struct fmsg *m, const char *s, size_t len);

/* 1: *f_r is the next field; 0: end of the header.  buf[0..size) holds
   the value. */
int fmsg_next(struct fmsg *m, char *buf, size_t size, struct fmsg_field *f_r);

/* After fmsg_next() returned 0: the body. */
const char *fmsg_body(const struct fmsg *m, size_t *len_r);

#endif
