/*
 * policy.h -- from findings to one verdict
 *
 * The policy is data: a global mode, one {action, monitor} pair and one
 * limit per rule, the action for internal errors, and the reply texts.
 * pol_decide() picks the strongest action among the findings; a finding of
 * a monitored rule (or any finding in global monitor mode) counts only as
 * "log" for what is done, while the verdict remembers what the policy would
 * have done, so the audit event can say so.
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include <stdbool.h>

#include "finding.h"
#include "limits.h"
#include "rule.h"

#define POL_TEXT_MAX 200

enum pol_mode {
	MODE_ENFORCE,
	MODE_MONITOR
};

struct pol_rule {
	enum rule_action action;	/* ACTION_ACCEPT: the rule is off */
	bool monitor;			/* log what it would do, do nothing */
};

struct policy {
	enum pol_mode mode;
	struct pol_rule rule[RULE_COUNT];
	struct limits limits;
	enum rule_action on_internal_error;	/* accept, tempfail or reject */
	char reject_text[POL_TEXT_MAX];		/* "" = the reply table's own */
	char tempfail_text[POL_TEXT_MAX];
};

struct pol_verdict {
	enum rule_action action;	/* what milter-guard does */
	enum rule_action intended;	/* what the policy says, monitoring aside */
	enum rule_id rule;		/* the finding that decided `intended` */
	bool has_rule;			/* false if no finding counted */
	enum rule_id applied_rule;	/* the finding that decided `action` (names the reply) */
	size_t counted;			/* findings of rules that are on */
};

void pol_init(struct policy *pol);

/* The action a finding of that rule has under pol, and whether it is only
   monitored. */
enum rule_action pol_rule_action(const struct policy *pol, enum rule_id rule,
				 bool *monitored_r);

void pol_decide(const struct policy *pol, const struct finding_list *findings,
		struct pol_verdict *v_r);

/* Actions that take effect at the stage they are decided in (the others
   wait for the end of the message). */
bool pol_is_immediate(enum rule_action action);

const char *pol_mode_name(enum pol_mode mode);

#endif
