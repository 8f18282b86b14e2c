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
	{ P ".param_count", STAGE, ACTION_REJECT, 16, 1, 60,		\
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

	{ "header.name_charset", STAGE_HEADER, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 2.2", "field name with a byte outside printable US-ASCII" },
	{ "header.name_length", STAGE_HEADER, ACTION_REJECT, 256, 1, LIM_MAX_OCTETS,
	  "RFC 5322 2.2", "field name longer than the limit" },
	{ "header.line_length", STAGE_HEADER, ACTION_LOG, 998, 78, LIM_MAX_OCTETS,
	  "RFC 5322 2.1.1",
	  "physical header line longer than the limit (real bounces carry 1,242; logged)" },
	{ "header.line_length_hard", STAGE_HEADER, ACTION_REJECT, 4096, 998, LIM_MAX_OCTETS,
	  "RFC 5322 2.1.1; CVE-2020-28020",
	  "physical header line longer than any legitimate sender writes" },
	{ "header.value_length", STAGE_HEADER, ACTION_REJECT, 32768, 998, LIM_MAX_OCTETS,
	  "RFC 5322 2.2.3; CVE-2020-28020",
	  "unfolded field value longer than the limit" },
	{ "header.block_length", STAGE_HEADER, ACTION_REJECT, 65536, 1024, 16UL * LIM_MAX_OCTETS,
	  "OpenDKIM MaximumHeaders; CVE-2010-4344",
	  "header block longer than the limit" },
	{ "header.count", STAGE_HEADER, ACTION_REJECT, 500, 10, LIM_MAX_COUNT,
	  "RFC 5322 3.6", "more header fields than the limit" },
	{ "header.bare_cr", STAGE_HEADER, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 2.2", "CR not followed by LF in a field" },
	{ "header.bare_lf", STAGE_HEADER, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 2.2.3; CVE-2015-9097",
	  "LF not followed by SP or HTAB: a header injected into a field" },
	{ "header.nul", STAGE_HEADER, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 4.1", "NUL byte in a field (visible in MIME part headers)" },
	{ "header.control", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.2.5", "control byte other than HTAB, CR, LF or NUL in a field" },
	{ "header.invalid_utf8", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 6532 3.2",
	  "8-bit bytes that are not UTF-8 (raw Latin-1 or Big5 in old mail; logged)" },
	{ "header.singleton_repeated", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.6",
	  "a field allowed once (Date, To, Cc, Message-ID, Subject...) occurs again (old lists add a second Date; logged)" },
	{ "header.from_repeated", STAGE_HEADER, ACTION_QUARANTINE, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.6; CVE-2019-16378",
	  "a second From field (readers and DMARC disagree on which counts)" },
	{ "header.address_comment_depth", STAGE_HEADER, ACTION_REJECT, 8, 1, LIM_MAX_COUNT,
	  "CVE-2002-1337 (crackaddr)", "comments nested deeper than the limit in an address field" },
	{ "header.address_angle_brackets", STAGE_HEADER, ACTION_REJECT, 8, 1, LIM_MAX_COUNT,
	  "CVE-2002-1337 (crackaddr)",
	  "angle brackets beyond one pair per mailbox, empty pairs and nesting, over the limit" },
	{ "header.address_backslashes", STAGE_HEADER, ACTION_REJECT, 64, 1, LIM_MAX_COUNT,
	  "CVE-2003-1302, CVE-2003-0161 (prescan)", "more quoted-pairs than the limit in an address field" },
	{ "header.address_tokens", STAGE_HEADER, ACTION_REJECT, 4096, 64, LIM_MAX_COUNT,
	  "Postfix header_address_token_limit; CVE-2002-1365",
	  "more tokens than the limit in an address field" },
	{ "header.address_syntax", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.4", "address field that does not tokenize (unterminated quote, comment or literal)" },
	{ "header.encoded_word_length", STAGE_HEADER, ACTION_LOG, 75, 10, LIM_MAX_OCTETS,
	  "RFC 2047 2", "encoded-word longer than the limit (real mail has 76-149; logged)" },
	{ "header.encoded_word_malformed", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 2047 2, 4", "encoded-word with an unknown encoding or invalid B or Q text" },
	{ "header.encoded_word_in_address", STAGE_HEADER, ACTION_QUARANTINE, RULE_NO_LIMIT, 0, 0,
	  "RFC 2047 5(3); CVE-2017-7829 (Mailsploit)", "encoded-word inside an addr-spec" },
	{ "header.encoded_word_control", STAGE_HEADER, ACTION_REJECT, RULE_NO_LIMIT, 0, 0,
	  "CVE-2017-7829 (Mailsploit)",
	  "encoded-word in an address field or Subject that decodes to NUL, CR, LF or another control" },
	{ "mime.boundary_length", STAGE_HEADER, ACTION_LOG, 70, 1, LIM_MAX_OCTETS,
	  "RFC 2046 5.1.1", "MIME boundary longer than the limit (real mail has 71; logged)" },
	{ "mime.boundary_length_hard", STAGE_HEADER, ACTION_REJECT, 128, 70, LIM_MAX_OCTETS,
	  "RFC 2046 5.1.1", "MIME boundary longer than any legitimate sender writes" },
	{ "mime.boundary_charset", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 2046 5.1.1", "MIME boundary with a character outside bchars" },
	{ "mime.rfc2231_continuations", STAGE_HEADER, ACTION_REJECT, 64, 2, LIM_MAX_COUNT,
	  "RFC 2231 3; CVE-2024-39929", "more RFC 2231 continuations of one parameter than the limit" },
	{ "mime.rfc2231_length", STAGE_HEADER, ACTION_REJECT, 4096, 64, LIM_MAX_OCTETS,
	  "RFC 2231 3; CVE-2024-39929", "continued parameter value longer than the limit" },
	{ "mime.syntax", STAGE_HEADER, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 2045 5.1", "Content-Type that does not parse" },
	{ "auth.count", STAGE_HEADER, ACTION_QUARANTINE, 20, 2, LIM_MAX_COUNT,
	  "CVE-2022-48521; RFC 8617 4.2.1",
	  "more Authentication-Results, DKIM-Signature or ARC-* fields of one name than the limit" },
	{ "auth.tag_length", STAGE_HEADER, ACTION_REJECT, 8192, 512, LIM_MAX_OCTETS,
	  "OpenDKIM issue 433; CVE-2024-25768",
	  "DKIM-Signature or ARC tag value longer than the limit" },
	{ "auth.tag_syntax", STAGE_HEADER, ACTION_QUARANTINE, RULE_NO_LIMIT, 0, 0,
	  "RFC 6376 3.2, RFC 8601 2.2; CVE-2020-12272, OpenDMARC 183 186 236",
	  "tag without \"=\" in a DKIM or ARC tag-list, or an empty or (null) method in Authentication-Results" },

	{ "header.from_missing", STAGE_EOH, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.6", "no From field" },
	{ "header.date_missing", STAGE_EOH, ACTION_LOG, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.6", "no Date field" },
	{ "header.from_multiple", STAGE_EOH, ACTION_QUARANTINE, RULE_NO_LIMIT, 0, 0,
	  "RFC 5322 3.6.2; CVE-2019-16378, CVE-2024-49040",
	  "several mailboxes in From without a Sender field" },

	{ "mime.nesting_depth", STAGE_BODY, ACTION_REJECT, 30, 2, 64,	/* BODY_DEPTH_MAX */
	  "CVE-2006-1173", "multipart nesting deeper than the limit" },
	{ "body.smuggling", STAGE_BODY, ACTION_QUARANTINE, RULE_NO_LIMIT, 0, 0,
	  "CVE-2023-51764, CVE-2023-51765, CVE-2023-51766",
	  "a line holding only \".\" followed by a line that starts an SMTP command" },
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
