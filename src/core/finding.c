/*
 * finding.c -- findings and their fixed-size lists (see finding.h)
 */
#include "finding.h"

#include <string.h>

#include "esc.h"
#include "sha256.h"

_Static_assert(FINDING_SHA256_LEN == SHA256_LEN, "a finding holds a SHA-256");

void
finding_list_init(struct finding_list *list)
{
	list->count = 0;
	list->dropped = 0;
	memset(list->dropped_rule, 0, sizeof(list->dropped_rule));
}

const char *
finding_field_name(struct finding_field *f)
{
	if (!f->built) {
		size_t p = strlen(f->prefix);

		memcpy(f->buf, f->prefix, p);
		esc_bytes(f->name, f->len, f->buf + p, sizeof(f->buf) - p, NULL);
		f->built = true;
	}
	return f->buf;
}

static void
drop(struct finding_list *list, enum rule_id rule)
{
	list->dropped++;
	list->dropped_rule[rule / 8] |= (unsigned char)(1u << (rule % 8));
}

bool
finding_list_dropped(const struct finding_list *list, enum rule_id rule)
{
	return (list->dropped_rule[rule / 8] & (1u << (rule % 8))) != 0;
}

struct finding *
finding_add(struct finding_list *list, enum rule_id rule, const char *field,
	    const char *value, size_t value_len, size_t offset, size_t length,
	    unsigned long limit, const char *detail)
{
	struct finding *f;
	size_t start;

	if (list->count >= FINDING_LIST_MAX) {
		drop(list, rule);
		return NULL;
	}
	f = &list->items[list->count++];
	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->stage = rule_table[rule].stage;
	strncpy(f->field, field, sizeof(f->field) - 1);
	f->length = length;
	f->limit = limit;
	f->offset = offset;
	f->detail = detail;
	f->value_len = value_len;
	if (value != NULL) {
		start = offset > FINDING_SAMPLE_LEAD ? offset - FINDING_SAMPLE_LEAD : 0;
		if (start > value_len)
			start = value_len;
		f->sample_offset = start;
		f->sample_len = value_len - start < FINDING_SAMPLE_RAW ?
			value_len - start : FINDING_SAMPLE_RAW;
		memcpy(f->sample, value + start, f->sample_len);
		sha256_digest(value, value_len, f->sha256);
		f->has_sha256 = true;
	}
	return f;
}

void
finding_list_append(struct finding_list *dst, const struct finding_list *src)
{
	for (size_t i = 0; i < src->count; i++) {
		if (dst->count >= FINDING_LIST_MAX) {
			drop(dst, src->items[i].rule);
			continue;
		}
		dst->items[dst->count++] = src->items[i];
	}
	dst->dropped += src->dropped;
	for (size_t i = 0; i < sizeof(dst->dropped_rule); i++)
		dst->dropped_rule[i] |= src->dropped_rule[i];
}

bool
finding_list_has(const struct finding_list *list, enum rule_id rule)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].rule == rule)
			return true;
	return false;
}
