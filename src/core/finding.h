/*
 * finding.h -- what a check found: rule, stage, field, measure, sample
 *
 * Checks append findings to a caller-owned list.  A list has fixed storage
 * (FINDING_LIST_MAX entries); findings past that are counted in `dropped`,
 * never written out of bounds, so a hostile message with ten thousand bad
 * recipients costs no more memory than one with ten.
 *
 * A finding keeps a window of the raw offending bytes around the offset
 * where the problem is (FINDING_SAMPLE_RAW bytes at most) and the SHA-256 of
 * the whole value; the event builder escapes and caps the sample.
 */
#ifndef MG_FINDING_H
#define MG_FINDING_H

#include <stddef.h>
#include <stdbool.h>

#include "rule.h"

#define FINDING_LIST_MAX	16
#define FINDING_SAMPLE_RAW	128	/* raw bytes kept around the offset */
#define FINDING_SAMPLE_LEAD	16	/* of which before the offset */
#define FINDING_FIELD_MAX	48
#define FINDING_SHA256_LEN	32

struct finding {
	enum rule_id rule;
	enum rule_stage stage;
	char field[FINDING_FIELD_MAX];	/* "helo", "sender", "recipient", "param:AUTH" */
	size_t length;			/* observed length or count */
	unsigned long limit;		/* the limit broken, RULE_NO_LIMIT if none */
	size_t offset;			/* where in the value the problem is */
	const char *detail;		/* static text: which shape, e.g. "${ expansion" */
	char sample[FINDING_SAMPLE_RAW];/* raw bytes value[sample_offset..] */
	size_t sample_len;
	size_t sample_offset;
	size_t value_len;		/* length of the whole value */
	unsigned char sha256[FINDING_SHA256_LEN];
	bool has_sha256;		/* the finding has a value: sha256 is its hash */
};

struct finding_list {
	struct finding items[FINDING_LIST_MAX];
	size_t count;
	size_t dropped;
	/* The rules of the dropped findings, one bit each: the policy counts
	   them, so padding a command with harmless findings cannot push the
	   one that refuses it out of the list. */
	unsigned char dropped_rule[(RULE_COUNT + 7) / 8];
};

void finding_list_init(struct finding_list *list);

/* Append a finding about value[0..value_len).  Returns the new entry, or
   NULL when the list is full (the finding is counted in list->dropped). */
struct finding *finding_add(struct finding_list *list, enum rule_id rule,
			    const char *field, const char *value,
			    size_t value_len, size_t offset, size_t length,
			    unsigned long limit, const char *detail);

/* A finding's field, prefix followed by name[0..len) escaped (esc.h),
   e.g. "param:AUTH": built the first time a finding needs it, so a value
   that passes costs no escaping.  Set up with finding_field_init(). */
struct finding_field {
	const char *prefix;	/* shorter than FINDING_FIELD_MAX */
	const char *name;
	size_t len;
	bool built;
	char buf[FINDING_FIELD_MAX];	/* left unset until built */
};

static inline void
finding_field_init(struct finding_field *field, const char *prefix,
		   const char *name, size_t len)
{
	field->prefix = prefix;
	field->name = name;
	field->len = len;
	field->built = false;
}

/* The field as text (built on the first call). */
const char *finding_field_name(struct finding_field *field);

/* Append every finding of src to dst (dropping past the cap). */
void finding_list_append(struct finding_list *dst,
			 const struct finding_list *src);

/* True if a finding of that rule was dropped past the cap. */
bool finding_list_dropped(const struct finding_list *list, enum rule_id rule);

/* True if the list has a finding of that rule. */
bool finding_list_has(const struct finding_list *list, enum rule_id rule);

#endif
