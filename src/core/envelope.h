/*
 * envelope.h -- checks of the SMTP envelope: HELO, MAIL FROM, RCPT TO,
 * their ESMTP parameters, recipient counts and unknown commands
 *
 * Every argument is a byte string with a length: NUL, CR, LF and 8-bit bytes
 * are data and are measured, never terminators.  Lengths are measured on
 * the original argument as the MTA handed it over.  Addresses arrive with or
 * without angle brackets, or as "<>"; the path length counts the brackets
 * whether or not the client sent them (RFC 5321 4.5.3.1.3).
 *
 * The checks append findings to a caller-owned list and never allocate.
 */
#ifndef MG_ENVELOPE_H
#define MG_ENVELOPE_H

#include <stddef.h>
#include <stdbool.h>

#include "finding.h"
#include "limits.h"

struct env_arg {
	const char *s;
	size_t len;
};

/* A path split into its parts; pointers point into the argument. */
struct env_path {
	bool bracketed;		/* the client sent <...> */
	bool null_path;		/* <> */
	const char *route;	/* "@a,@b:" source route, or NULL */
	size_t route_len;
	const char *local;	/* local part as sent, quotes included */
	size_t local_len;
	bool local_quoted;
	const char *domain;	/* NULL if the path has no "@" */
	size_t domain_len;
	size_t path_len;	/* octets of "<" route mailbox ">" */
	const char *syntax_error; /* NULL if the path parses */
	size_t syntax_offset;
};

/* What the MAIL FROM check learned that later stages need. */
struct env_mail_info {
	bool smtputf8;		/* SMTPUTF8 parameter given */
	bool null_sender;
};

void env_parse_path(const char *s, size_t len, struct env_path *path_r);

void env_check_helo(const struct limits *lim, const char *helo, size_t len,
		    struct finding_list *out);

/* args[0] is the reverse-path, args[1..nargs) the ESMTP parameters. */
void env_check_mail(const struct limits *lim, const struct env_arg *args,
		    size_t nargs, struct finding_list *out,
		    struct env_mail_info *info_r);

/* args[0] is the forward-path; mail is what env_check_mail() learned.
   rcpt_no is this recipient's number in the message, from 1. */
void env_check_rcpt(const struct limits *lim, const struct env_arg *args,
		    size_t nargs, const struct env_mail_info *mail,
		    unsigned long rcpt_no, struct finding_list *out);

/* count is the number of unknown commands so far in the connection,
   this one included. */
void env_check_unknown(const struct limits *lim, const char *cmd, size_t len,
		       unsigned long count, struct finding_list *out);

#endif
