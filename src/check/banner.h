/*
 * banner.h -- what an SMTP greeting tells about the software behind it
 *
 * The first line of a 220 greeting is split into words at blanks and at
 * "/();,[]"; the reply code and the host name (the first word after it) are
 * skipped.  A word that names mail software (a table: Postfix, Sendmail,
 * Exim, ...) or looks like a version number (digits '.' digits ...) is a
 * disclosure.  Pure: the shell reads the greeting.
 */
#ifndef MG_CHECK_BANNER_H
#define MG_CHECK_BANNER_H

#include <stddef.h>

#define BANNER_WORD_MAX 64

struct banner_info {
	char software[BANNER_WORD_MAX];	/* "Postfix", or "" */
	char version[BANNER_WORD_MAX];	/* "3.7.11", or "" */
};

/* Examine line[0..len) (one line, without CRLF); fills *info_r.  Returns 1
   if anything is disclosed, 0 if not. */
int banner_examine(const char *line, size_t len, struct banner_info *info_r);

#endif
