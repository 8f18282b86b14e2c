/*
 * reply.c -- the SMTP replies (see reply.h)
 */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#define ANY_STAGE STAGE_COUNT
#define ANY_RULE RULE_COUNT
#define INTERNAL (RULE_COUNT + 1)	/* no rule: an internal error */

struct rpl_entry {
	enum rule_action action;
	unsigned stage;
	unsigned rule;
	const char *code;
	const char *xcode;
	const char *text;
};

/* Most specific first: the first match wins. */
static const struct rpl_entry reply_table[] = {
	{ ACTION_TEMPFAIL, STAGE_RCPT, RULE_RCPT_COUNT, "452", "4.5.3",
	  "too many recipients, send the rest later (%r)" },
	{ ACTION_TEMPFAIL, STAGE_UNKNOWN, ANY_RULE, "421", "4.7.0",
	  "too many unknown commands, closing connection (%r)" },
	{ ACTION_TEMPFAIL, ANY_STAGE, INTERNAL, "451", "4.3.0",
	  "temporary local problem, try again later" },
	{ ACTION_REJECT, ANY_STAGE, INTERNAL, "550", "5.3.0",
	  "local problem, message not accepted" },
	{ ACTION_REJECT, STAGE_MAIL, RULE_MAIL_PARAM_SYNTAX, "555", "5.5.4",
	  "MAIL parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_MAIL, RULE_MAIL_PARAM_DUPLICATE, "555", "5.5.4",
	  "MAIL parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_MAIL, RULE_MAIL_PARAM_COUNT, "555", "5.5.4",
	  "MAIL parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_MAIL, RULE_MAIL_PARAM_VALUE_LENGTH, "555", "5.5.4",
	  "MAIL parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_RCPT, RULE_RCPT_PARAM_SYNTAX, "555", "5.5.4",
	  "RCPT parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_RCPT, RULE_RCPT_PARAM_DUPLICATE, "555", "5.5.4",
	  "RCPT parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_RCPT, RULE_RCPT_PARAM_COUNT, "555", "5.5.4",
	  "RCPT parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_RCPT, RULE_RCPT_PARAM_VALUE_LENGTH, "555", "5.5.4",
	  "RCPT parameters rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_HELO, ANY_RULE, "550", "5.7.1",
	  "HELO rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_MAIL, ANY_RULE, "553", "5.1.7",
	  "sender address rejected by policy (%r)" },
	{ ACTION_REJECT, STAGE_RCPT, ANY_RULE, "553", "5.1.3",
	  "recipient address rejected by policy (%r)" },
	{ ACTION_REJECT, ANY_STAGE, ANY_RULE, "550", "5.7.1",
	  "message rejected by policy (%r)" },
	{ ACTION_TEMPFAIL, ANY_STAGE, ANY_RULE, "451", "4.7.1",
	  "temporarily refused by policy, try again later (%r)" },
};

static bool
entry_matches(const struct rpl_entry *e, enum rule_action action,
	      enum rule_stage stage, unsigned rule)
{
	return e->action == action &&
		(e->stage == ANY_STAGE || e->stage == (unsigned)stage) &&
		(e->rule == rule || (e->rule == ANY_RULE && rule != INTERNAL));
}

/* Copy text to out, replacing "%r" with the rule id and doubling other
   "%" signs (smfi_setreply() reads "%" like printf). */
static void
format_text(const char *text, const char *rule_name, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = text; *p != '\0' && o + 1 < size; p++) {
		if (p[0] == '%' && p[1] == 'r') {
			for (const char *q = rule_name; *q != '\0' && o + 1 < size; q++)
				out[o++] = *q;
			p++;
		} else if (p[0] == '%') {
			if (o + 2 >= size)
				break;
			out[o++] = '%';
			out[o++] = '%';
			if (p[1] == '%')
				p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

bool
rpl_build(const struct policy *pol, enum rule_action action,
	  enum rule_stage stage, bool has_rule, enum rule_id rule,
	  struct reply *r)
{
	unsigned key = has_rule ? (unsigned)rule : INTERNAL;
	const char *text;

	memset(r, 0, sizeof(*r));
	if (action != ACTION_REJECT && action != ACTION_TEMPFAIL)
		return false;
	for (size_t i = 0; i < sizeof(reply_table) / sizeof(reply_table[0]); i++) {
		const struct rpl_entry *e = &reply_table[i];

		if (!entry_matches(e, action, stage, key))
			continue;
		text = e->text;
		if (has_rule && action == ACTION_REJECT && pol->reject_text[0] != '\0')
			text = pol->reject_text;
		if (has_rule && action == ACTION_TEMPFAIL && pol->tempfail_text[0] != '\0' &&
		    e->code[0] == '4' && strcmp(e->code, "421") != 0)
			text = pol->tempfail_text;
		snprintf(r->code, sizeof(r->code), "%s", e->code);
		snprintf(r->xcode, sizeof(r->xcode), "%s", e->xcode);
		format_text(text, has_rule ? rule_table[rule].name : "internal",
			    r->text, sizeof(r->text));
		return true;
	}
	return false;
}

bool
rpl_text_valid(const char *text, size_t len, const char **why_r)
{
	if (len >= POL_TEXT_MAX) {
		*why_r = "reply text too long (at most 199 octets)";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c > 0x7e) {
			*why_r = "reply text must be printable US-ASCII";
			return false;
		}
		if (c == '%') {
			if (i + 1 < len && (text[i + 1] == 'r' || text[i + 1] == '%')) {
				i++;
				continue;
			}
			*why_r = "reply text may use \"%\" only as \"%r\" (the rule) or \"%%\"";
			return false;
		}
	}
	return true;
}
