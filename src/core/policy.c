/*
 * policy.c -- from findings to one verdict (see policy.h)
 */
#include "policy.h"

#include <string.h>

void
pol_init(struct policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->mode = MODE_ENFORCE;
	for (size_t i = 0; i < RULE_COUNT; i++) {
		pol->rule[i].action = rule_table[i].action;
		pol->rule[i].monitor = false;
	}
	limits_init(&pol->limits);
	pol->on_internal_error = ACTION_TEMPFAIL;
}

enum rule_action
pol_rule_action(const struct policy *pol, enum rule_id rule, bool *monitored_r)
{
	*monitored_r = pol->mode == MODE_MONITOR || pol->rule[rule].monitor;
	return pol->rule[rule].action;
}

static void
count_rule(const struct policy *pol, enum rule_id rule, struct pol_verdict *v)
{
	bool monitored;
	enum rule_action a = pol_rule_action(pol, rule, &monitored);
	enum rule_action done = monitored && a > ACTION_LOG ? ACTION_LOG : a;

	if (a == ACTION_ACCEPT)
		return;
	v->counted++;
	if (!v->has_rule || a > v->intended) {
		v->intended = a;
		v->rule = rule;
	}
	if (!v->has_rule || done > v->action) {
		v->action = done;
		v->applied_rule = rule;
	}
	v->has_rule = true;
}

void
pol_decide(const struct policy *pol, const struct finding_list *findings,
	   struct pol_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = ACTION_ACCEPT;
	v->intended = ACTION_ACCEPT;
	for (size_t i = 0; i < findings->count; i++)
		count_rule(pol, findings->items[i].rule, v);
	if (findings->dropped == 0)
		return;
	for (size_t r = 0; r < RULE_COUNT; r++)
		if (finding_list_dropped(findings, (enum rule_id)r))
			count_rule(pol, (enum rule_id)r, v);
}

bool
pol_is_immediate(enum rule_action action)
{
	return action == ACTION_REJECT || action == ACTION_TEMPFAIL ||
		action == ACTION_DISCARD;
}

const char *
pol_mode_name(enum pol_mode mode)
{
	return mode == MODE_MONITOR ? "monitor" : "enforce";
}
