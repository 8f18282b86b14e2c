/*
 * rule.h -- the rule catalogue: stable ids, stages, default actions
 *
 * Every check milter-guard performs has one entry in rule_table[]: a stable
 * dotted id (the name postmasters write in milter-guard.conf and read in the
 * audit log), the stage it fires in, its default action and limit, the range
 * a configured limit may take, and the standard or exploit it comes from.
 * Nothing else in the code carries a default: the table is the catalogue,
 * and docs/rules.md describes the same entries.
 *
 * Actions are ordered by severity, so that the strongest of several findings
 * is simply the largest value.
 */
#ifndef MG_RULE_H
#define MG_RULE_H

#include <stddef.h>
#include <stdbool.h>

enum rule_stage {
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_HEADER,
	STAGE_EOH,
	STAGE_BODY,
	STAGE_EOM,
	STAGE_UNKNOWN,
	STAGE_ABORT,
	STAGE_CLOSE,
	STAGE_COUNT
};

/* Ordered by severity: the strongest action of several findings wins. */
enum rule_action {
	ACTION_ACCEPT,		/* no finding, or an exempted one */
	ACTION_LOG,		/* write the event, nothing else */
	ACTION_TAG,		/* add a header naming the findings (end of message) */
	ACTION_QUARANTINE,	/* hold the message (end of message) */
	ACTION_TEMPFAIL,	/* 4xx at the earliest stage that can carry it */
	ACTION_DISCARD,		/* accept and drop silently */
	ACTION_REJECT,		/* 5xx at the earliest stage that can carry it */
	ACTION_COUNT
};

/* The rules every address (MAIL FROM, RCPT TO) is checked against, in the
   same order for both stages. */
#define RULE_ADDRESS_IDS(P) \
	P##_LOCAL_PART_LENGTH, \
	P##_DOMAIN_LENGTH, \
	P##_LABEL_LENGTH, \
	P##_PATH_LENGTH, \
	P##_LINE_LENGTH, \
	P##_SYNTAX, \
	P##_PARAM_COUNT, \
	P##_PARAM_SYNTAX, \
	P##_PARAM_DUPLICATE, \
	P##_PARAM_VALUE_LENGTH, \
	P##_PARAM_VALUE, \
	P##_CONTROL, \
	P##_OCTET_FF, \
	P##_INVALID_UTF8, \
	P##_UTF8_WITHOUT_SMTPUTF8, \
	P##_INJECTION

enum rule_id {
	RULE_HELO_LENGTH,
	RULE_HELO_CONTROL,
	RULE_HELO_8BIT,
	RULE_HELO_INJECTION,
	RULE_ADDRESS_IDS(RULE_MAIL),
	RULE_ADDRESS_IDS(RULE_RCPT),
	RULE_RCPT_COUNT,
	RULE_UNKNOWN_COUNT,

	/* header fields, as the MTA hands them over (stage header) */
	RULE_HEADER_NAME_CHARSET,
	RULE_HEADER_NAME_LENGTH,
	RULE_HEADER_LINE_LENGTH,
	RULE_HEADER_LINE_LENGTH_HARD,
	RULE_HEADER_VALUE_LENGTH,
	RULE_HEADER_BLOCK_LENGTH,
	RULE_HEADER_COUNT,
	RULE_HEADER_BARE_CR,
	RULE_HEADER_BARE_LF,
	RULE_HEADER_NUL,
	RULE_HEADER_CONTROL,
	RULE_HEADER_INVALID_UTF8,
	RULE_HEADER_SINGLETON_REPEATED,
	RULE_HEADER_FROM_REPEATED,
	RULE_HEADER_ADDRESS_COMMENT_DEPTH,
	RULE_HEADER_ADDRESS_ANGLE_BRACKETS,
	RULE_HEADER_ADDRESS_BACKSLASHES,
	RULE_HEADER_ADDRESS_TOKENS,
	RULE_HEADER_ADDRESS_SYNTAX,
	RULE_HEADER_ENCODED_WORD_LENGTH,
	RULE_HEADER_ENCODED_WORD_MALFORMED,
	RULE_HEADER_ENCODED_WORD_IN_ADDRESS,
	RULE_HEADER_ENCODED_WORD_CONTROL,
	RULE_MIME_BOUNDARY_LENGTH,
	RULE_MIME_BOUNDARY_LENGTH_HARD,
	RULE_MIME_BOUNDARY_CHARSET,
	RULE_MIME_RFC2231_CONTINUATIONS,
	RULE_MIME_RFC2231_LENGTH,
	RULE_MIME_SYNTAX,
	RULE_AUTH_COUNT,
	RULE_AUTH_TAG_LENGTH,
	RULE_AUTH_TAG_SYNTAX,

	/* the header block as a whole (stage eoh) */
	RULE_HEADER_FROM_MISSING,
	RULE_HEADER_DATE_MISSING,
	RULE_HEADER_FROM_MULTIPLE,

	/* the body, streamed (stage body) */
	RULE_MIME_NESTING_DEPTH,
	RULE_BODY_SMUGGLING,
	RULE_COUNT
};

/* The rule of an address stage: RULE_ADDR(RULE_RCPT_LOCAL_PART_LENGTH,
   RULE_MAIL_INJECTION) is RULE_RCPT_INJECTION. */
#define RULE_ADDR(base, mail_id) \
	((enum rule_id)((base) + ((mail_id) - RULE_MAIL_LOCAL_PART_LENGTH)))

#define RULE_NO_LIMIT 0UL

struct rule_def {
	const char *name;		/* stable dotted id */
	enum rule_stage stage;
	enum rule_action action;	/* shipped default */
	unsigned long limit;		/* shipped default, RULE_NO_LIMIT if none */
	unsigned long limit_min;	/* range a configured limit may take */
	unsigned long limit_max;
	const char *standard;		/* RFC section or CVE the rule comes from */
	const char *summary;		/* one line, as in docs/rules.md */
};

extern const struct rule_def rule_table[RULE_COUNT];

/* Look a rule up by its dotted id; returns -1 if there is none. */
int rule_lookup(const char *name, size_t len, enum rule_id *id_r);

const char *rule_stage_name(enum rule_stage stage);
const char *rule_action_name(enum rule_action action);
/* Parse an action name (reject, tempfail, discard, quarantine, tag, log,
   accept); returns -1 if unknown. */
int rule_action_parse(const char *s, size_t len, enum rule_action *action_r);

#endif
