/*
 * rule.c -- the rule catalogue
 *
 * Shipped defaults follow one principle (DESIGN.md, Policy): a standard's
 * limit that legitimate senders exceed in practice is logged, not refused;
 * refusals sit where no legitimate sender goes and every known attack does.
 */
#include "rule.h"

#include <string.h>
#include <strings.h>

/* Limits on limits: a configured value outside [min, max] is refused. */
#define LIM_MAX_OCTETS		1000000UL
#define LIM_MAX_COUNT		1000000UL

#define ADDRESS_RULES(P, STAGE, LINE_STD)				\
	{ P ".local_part_length", STAGE, ACTION_LOG, 64, 1, LIM_MAX_OCTETS,	\
	  "RFC 5321 4.5.3.1.1",						\
	  "local part longer than the limit (VERP senders exceed 64; logged)" }, \
	{ P ".domain_length", STAGE, ACTION_REJECT, 255, 1, LIM_MAX_OCTETS,	\
	  "RFC 5321 4.5.3.1.2", "domain longer than the limit" },	\
	{ P ".label_length", STAGE, ACTION_REJECT, 63, 1, LIM_MAX_OCTETS,	\
	  "RFC 1035 2.3.4", "DNS label longer than the limit" },	\
	{ P ".path_length", STAGE, ACTION_REJECT, 256, 1, LIM_MAX_OCTETS,	\
	  "RFC 5321 4.5.3.1.3",						\
	  "path (angle brackets included) longer than the limit" },	\
	{ P ".line_length", STAGE, ACTION_LOG, 512, 1, LIM_MAX_OCTETS,	\
	  LINE_STD,							\
	  "command line longer than the limit plus the allowances of the extensions in use" }, \
	{ P ".syntax", STAGE, ACTION_LOG, RULE_NO_LIMIT, 0, 0,		\
	  "RFC 5321 4.1.2", "address that does not parse as a path" },	\
	{ P ".param_count", STAGE, ACTION_REJECT, 16, 1, LIM_MAX_COUNT,	\
	  "RFC 5321 4.1.2", "more ESMTP parameters than the limit" },	\
	{ P ".param_syntax", STAGE, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,	\
	  "RFC 5321 4.1.2", "ESMTP parameter outside the keyword=value grammar" }, \
	{ P ".param_duplicate", STAGE, ACTION_REJECT, RULE_NO_LIMIT, 0, 0, \
	  "RFC 5321 4.1.2", "the same ESMTP parameter twice" },	\
	{ P ".param_value_length", STAGE, ACTION_REJECT, 500, 1, LIM_MAX_OCTETS, \
	  "RFC 4954 5, RFC 3461 4; CVE-2020-28021",			\
	  "ESMTP parameter value longer than the limit" },		\
	{ P ".param_value", STAGE, ACTION_LOG, RULE_NO_LIMIT, 0, 0,	\
	  "RFC 1870, RFC 3461, RFC 4954, RFC 6152",			\
	  "value not valid for its keyword (digits, enumeration, xtext, RFC cap)" }, \
	{ P ".control", STAGE, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,	\
	  "RFC 5321 2.3.8; CVE-2015-9097, CVE-2020-28021",		\
	  "control byte (NUL, CR, LF, other C0, DEL) in the address or a parameter" }, \
	{ P ".octet_ff", STAGE, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,	\
	  "CVE-2003-0161", "byte 0xFF (the Sendmail prescan shape)" },	\
	{ P ".invalid_utf8", STAGE, ACTION_LOG, RULE_NO_LIMIT, 0, 0,	\
	  "RFC 6531 3.3", "8-bit bytes that are not valid UTF-8" },	\
	{ P ".utf8_without_smtputf8", STAGE, ACTION_LOG, RULE_NO_LIMIT, 0, 0, \
	  "RFC 6531 3.4", "UTF-8 address in a transaction without SMTPUTF8" }, \
	{ P ".injection", STAGE, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,	\
	  "CVE-2019-10149, CVE-2020-7247, CVE-2024-45519, CVE-2016-10033, CVE-2025-26794", \
	  "shell, expansion, SQL or sendmail-option injection shape" }

const struct rule_def rule_table[RULE_COUNT] = {
	{ "helo.length", STAGE_HELO, ACTION_REJECT, 255, 1, LIM_MAX_OCTETS,
	  "RFC 5321 4.5.3.1.2; CVE-2019-16928",
	  "HELO/EHLO argument longer than the limit" },
	{ "helo.control", STAGE_HELO, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "RFC 5321 4.1.1.1; CVE-2003-0743",
	  "control byte (NUL, CR, LF, other C0, DEL) in the HELO argument" },
	{ "helo.8bit", STAGE_HELO, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 6531 3.7.1", "8-bit byte in the HELO argument" },
	{ "helo.injection", STAGE_HELO, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "CVE-2026-73570", "backtick or shell expansion in the HELO argument" },
	ADDRESS_RULES("mail", STAGE_MAIL, "RFC 5321 4.5.3.1.4"),
	ADDRESS_RULES("rcpt", STAGE_RCPT, "RFC 5321 4.5.3.1.4"),
	{ "rcpt.count", STAGE_RCPT, ACTION_TEMPFAIL, 1000, 100, LIM_MAX_COUNT,
	  "RFC 5321 4.5.3.1.8, 4.5.3.1.10; CVE-2020-28017",
	  "more recipients in one message than the limit (452, the sender retries the rest)" },
	{ "unknown.count", STAGE_UNKNOWN, ACTION_TEMPFAIL, 3, 1, LIM_MAX_COUNT,
	  "RFC 5321 4.2.4",
	  "more unknown SMTP commands in one connection than the limit" },
};

static const char *const stage_names[STAGE_COUNT] = {
	"connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body",
	"eom", "unknown", "abort", "close",
};

static const char *const action_names[ACTION_COUNT] = {
	"accept", "log", "tag", "quarantine", "tempfail", "discard", "reject",
};

int
rule_lookup(const char *name, size_t len, enum rule_id *id_r)
{
	for (size_t i = 0; i < RULE_COUNT; i++) {
		if (strlen(rule_table[i].name) == len &&
		    memcmp(rule_table[i].name, name, len) == 0) {
			*id_r = (enum rule_id)i;
			return 0;
		}
	}
	return -1;
}

const char *
rule_stage_name(enum rule_stage stage)
{
	return stage < STAGE_COUNT ? stage_names[stage] : "invalid";
}

const char *
rule_action_name(enum rule_action action)
{
	return action < ACTION_COUNT ? action_names[action] : "invalid";
}

int
rule_action_parse(const char *s, size_t len, enum rule_action *action_r)
{
	for (size_t i = 0; i < ACTION_COUNT; i++) {
		if (strlen(action_names[i]) == len &&
		    strncasecmp(action_names[i], s, len) == 0) {
			*action_r = (enum rule_action)i;
			return 0;
		}
	}
	return -1;
}
