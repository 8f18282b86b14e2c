/*
 * limits.c -- per-rule limits (see limits.h)
 */
#include "limits.h"

void
limits_init(struct limits *lim)
{
	for (size_t i = 0; i < RULE_COUNT; i++)
		lim->limit[i] = rule_table[i].limit;
}
