/*
 * limits.h -- the per-rule limits, one struct for the whole policy
 *
 * limit[rule] is the limit the rule compares against (an octet length or a
 * count, as rule_table[rule].summary says).  Defaults come from
 * rule_table[].limit; a configured value must lie within
 * [limit_min, limit_max] of the same entry.  Rules without a limit keep
 * RULE_NO_LIMIT.
 */
#ifndef MG_LIMITS_H
#define MG_LIMITS_H

#include "rule.h"

struct limits {
	unsigned long limit[RULE_COUNT];
};

void limits_init(struct limits *lim);

#endif
