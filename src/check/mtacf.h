/*
 * mtacf.h -- which milter sockets an MTA is configured to use
 *
 * Postfix: the values of smtpd_milters and non_smtpd_milters as
 * "postconf -h" prints them: a list separated by blanks or commas, where an
 * entry is a socket or "{ socket, name=value ... }".  Postfix writes
 * unix:/path and inet:HOST:PORT.
 *
 * Sendmail: a sendmail.cf (the "O InputMailFilters=a,b" option and the
 * "Xname, S=socket, F=..." definitions) or a sendmail.mc
 * (INPUT_MAIL_FILTER(`name', `S=socket, ...'), MAIL_FILTER(...) and
 * define(`confINPUT_MAIL_FILTERS', `a,b')).  Sendmail writes libmilter's
 * unix:/path, local:/path, inet:PORT@HOST and inet6:PORT@HOST.
 *
 * An entry in the other MTA's syntax is marked (wrong_syntax) and still
 * understood, so the report can say both what is wrong and what was meant.
 * Pure: the shell runs postconf and reads the files.
 */
#ifndef MG_CHECK_MTACF_H
#define MG_CHECK_MTACF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sockspec.h"

#define MTACF_MAX 32			/* entries kept; more are counted */
#define MTACF_SPEC_MAX 300
#define MTACF_NAME_MAX 64

enum mtacf_mta {
	MTACF_POSTFIX,
	MTACF_SENDMAIL
};

struct mtacf_milter {
	enum mtacf_mta mta;
	char name[MTACF_NAME_MAX];	/* Sendmail filter name; "" for Postfix */
	char spec[MTACF_SPEC_MAX];	/* as written (escaped when shown) */
	bool used;			/* Sendmail: listed in InputMailFilters */
	bool wrong_syntax;		/* written in the other MTA's syntax */
	bool parsed;			/* sock holds what the entry means */
	struct sockspec sock;
};

struct mtacf_list {
	struct mtacf_milter m[MTACF_MAX];
	size_t n;
	size_t dropped;			/* entries past MTACF_MAX */
};

/* Append the entries of one Postfix milter list value. */
void mtacf_postfix(const char *value, size_t len, struct mtacf_list *l);
/* Append the filters of a sendmail.cf / a sendmail.mc. */
void mtacf_sendmail_cf(const char *buf, size_t len, struct mtacf_list *l);
void mtacf_sendmail_mc(const char *buf, size_t len, struct mtacf_list *l);

/* Would an MTA connecting to mta reach a milter listening on mg?  root,
   when not NULL, is the directory a chrooted MTA sees as "/" (Postfix's
   queue_directory): a unix path there also matches root + path. */
bool mtacf_same_socket(const struct sockspec *mg, const struct sockspec *mta,
		       const char *root);

/* The socket in the syntax of the given MTA, into buf. */
void mtacf_format(const struct sockspec *s, enum mtacf_mta mta, char *buf,
		  size_t size);

#endif
