/*
 * reply.h -- the SMTP replies milter-guard gives, from one table
 *
 * A reply is chosen by action, stage and rule: the most specific entry of
 * reply_table wins.  Texts name the rule ("%r"); a postmaster may replace
 * the text of every reject or tempfail reply (RejectText, TempfailText).
 * The result is printable US-ASCII with any "%" doubled, as
 * smfi_setreply() requires.
 */
#ifndef MG_REPLY_H
#define MG_REPLY_H

#include <stdbool.h>

#include "policy.h"
#include "rule.h"

#define REPLY_TEXT_MAX 256

struct reply {
	char code[4];		/* "550" */
	char xcode[10];		/* "5.7.1" */
	char text[REPLY_TEXT_MAX];	/* ready for smfi_setreply() */
};

/* The reply for action at stage, decided by rule (has_rule false for an
   internal error).  Returns false for actions that send no reply (log,
   tag, quarantine, accept, discard). */
bool rpl_build(const struct policy *pol, enum rule_action action,
	       enum rule_stage stage, bool has_rule, enum rule_id rule,
	       struct reply *r_r);

/* True if text may stand as a configured reply text: printable US-ASCII,
   "%" only in "%r" or "%%", at most POL_TEXT_MAX - 1 octets.  *why_r says
   what is wrong. */
bool rpl_text_valid(const char *text, size_t len, const char **why_r);

#endif
