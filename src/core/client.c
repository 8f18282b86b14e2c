/*
 * client.c -- exemptions and country or ASN overrides (see client.h)
 */
#include "client.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "esc.h"

void
rule_set_all(struct rule_set *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < RULE_COUNT; i++)
		s->bit[i / 8] |= (unsigned char)(1u << (i % 8));
}

bool
rule_set_has(const struct rule_set *s, enum rule_id rule)
{
	return (s->bit[rule / 8] & (1u << (rule % 8))) != 0;
}

/* Add the rules a word names: an id, or a prefix ending in "*". */
static int
add_word(struct rule_set *s, const char *w, size_t len)
{
	bool prefix = len > 0 && w[len - 1] == '*';
	size_t n = prefix ? len - 1 : len;
	bool found = false;

	for (size_t i = 0; i < RULE_COUNT; i++) {
		const char *name = rule_table[i].name;

		if (prefix ? strncmp(name, w, n) == 0 :
		    (strlen(name) == n && strncmp(name, w, n) == 0)) {
			s->bit[i / 8] |= (unsigned char)(1u << (i % 8));
			found = true;
		}
	}
	return found ? 0 : -1;
}

int
rule_set_parse(const char *s, size_t len, struct rule_set *set, char *err, size_t errsize)
{
	size_t i = 0;

	memset(set, 0, sizeof(*set));
	if ((len == 3 && strncasecmp(s, "all", 3) == 0) || (len == 1 && s[0] == '*')) {
		rule_set_all(set);
		return 0;
	}
	while (i < len) {
		size_t n = 0;

		while (i < len && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
			i++;
		while (i + n < len && s[i + n] != ',' && s[i + n] != ' ' && s[i + n] != '\t')
			n++;
		if (n == 0)
			break;
		if (add_word(set, s + i, n) < 0) {
			char shown[4 * 60 + 1];

			snprintf(err, errsize, "\"%s\" names no rule (a rule id, a prefix "
				 "such as header.*, or all)",
				 esc_text(s + i, n > 60 ? 60 : n, shown, sizeof(shown)));
			return -1;
		}
		i += n;
	}
	for (size_t b = 0; b < sizeof(set->bit); b++)
		if (set->bit[b] != 0)
			return 0;
	snprintf(err, errsize, "no rule named");
	return -1;
}

bool
client_country_valid(const char *s, size_t len)
{
	return len == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

static bool
override_matches(const struct client_override *o, const struct client *cl)
{
	for (size_t i = 0; i < o->nvalues; i++) {
		if (o->match == MATCH_COUNTRY && cl->country[0] != '\0' &&
		    strcasecmp(o->country[i], cl->country) == 0)
			return true;
		if (o->match == MATCH_ASN && cl->asn != 0 && o->asn[i] == cl->asn)
			return true;
	}
	return false;
}

static void
switch_off(struct policy *pol, const struct rule_set *rules)
{
	for (size_t r = 0; r < RULE_COUNT; r++)
		if (rule_set_has(rules, (enum rule_id)r))
			pol->rule[r].action = ACTION_ACCEPT;
}

void
client_apply(const struct client_rules *cr, const struct client *cl,
	     struct policy *pol, struct client_applied *ap)
{
	memset(ap, 0, sizeof(*ap));
	for (size_t i = 0; i < cr->noverrides; i++) {
		const struct client_override *o = &cr->override[i];

		if (!override_matches(o, cl))
			continue;
		for (size_t r = 0; r < RULE_COUNT; r++) {
			if (!rule_set_has(&o->rules, (enum rule_id)r))
				continue;
			if (o->has_action)
				pol->rule[r].action = o->action;
			if (o->has_mode)
				pol->rule[r].monitor = o->monitor;
			if (o->has_limit && rule_table[r].limit != RULE_NO_LIMIT)
				pol->limits.limit[r] = o->limit;
		}
		ap->override[ap->noverrides++] = i;
	}
	if (cl->has_addr && net_list_contains(&cr->trusted, cl->addr)) {
		switch_off(pol, &cr->trusted_exempt);
		ap->trusted = true;
	}
	if (cl->authenticated && cr->exempt_authenticated) {
		switch_off(pol, &cr->authenticated_exempt);
		ap->authenticated = true;
	}
}
