/*
 * client.h -- who is sending: exemptions and country or ASN overrides
 *
 * At connect the daemon knows the client's address and, with GeoIP
 * databases, its country and autonomous system; at MAIL it may learn that
 * the client authenticated.  client_apply() turns the configured policy
 * into the session's: overrides for matching countries or ASNs first
 * (another action, limit or mode for some or all rules), then exemptions
 * (trusted networks, authenticated clients), which switch the named rules
 * off.  What applied is kept so that every event can say so.
 */
#ifndef MG_CLIENT_H
#define MG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "net.h"
#include "policy.h"

#define CLIENT_OVERRIDES_MAX 64
#define CLIENT_VALUES_MAX 32
#define CLIENT_OVERRIDE_TEXT 200

struct rule_set {
	unsigned char bit[(RULE_COUNT + 7) / 8];
};

enum client_match { MATCH_COUNTRY, MATCH_ASN };

struct client_override {
	enum client_match match;
	char country[CLIENT_VALUES_MAX][3];	/* ISO 3166 alpha-2, upper case */
	unsigned long asn[CLIENT_VALUES_MAX];
	size_t nvalues;
	struct rule_set rules;
	bool has_action;
	enum rule_action action;
	bool has_limit;
	unsigned long limit;
	bool has_mode;
	bool monitor;
	char text[CLIENT_OVERRIDE_TEXT];	/* as written, for events */
};

/* The configured client rules (part of struct cfg). */
struct client_rules {
	struct net_list trusted;
	struct rule_set trusted_exempt;
	bool exempt_authenticated;
	struct rule_set authenticated_exempt;
	struct client_override override[CLIENT_OVERRIDES_MAX];
	size_t noverrides;
};

/* What is known of one client. */
struct client {
	bool has_addr;
	unsigned char addr[16];		/* net.h form: IPv4 as mapped */
	char country[3];		/* "" if unknown */
	unsigned long asn;		/* 0 if unknown */
	bool authenticated;
};

/* What client_apply() did, for the events. */
struct client_applied {
	bool trusted;
	bool authenticated;
	size_t override[CLIENT_OVERRIDES_MAX];	/* indexes into client_rules */
	size_t noverrides;
};

void rule_set_all(struct rule_set *s);
bool rule_set_has(const struct rule_set *s, enum rule_id rule);
/* "all", "*", or rule ids and prefixes ("header.*") separated by commas or
   blanks.  Returns 0, or -1 with a message. */
int rule_set_parse(const char *s, size_t len, struct rule_set *s_r, char *err, size_t errsize);

/* True if s[0..len) is a country as a GeoIP database should give it:
   two letters A-Z (ISO 3166 alpha-2).  Anything else is no country. */
bool client_country_valid(const char *s, size_t len);

/* pol: the configured policy in, the session's policy out. */
void client_apply(const struct client_rules *cr, const struct client *cl,
		  struct policy *pol, struct client_applied *applied_r);

#endif
