/*
 * test_net.c -- CIDR networks, exemptions and country or ASN overrides
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/client.h"
#include "core/net.h"
#include "tu.h"

static struct net
addr(const char *s)
{
	struct net a;

	ck_assert_msg(net_parse_addr(s, &a) == 0, "%s", s);
	return a;
}

static struct net
cidr(const char *s)
{
	struct net n;
	char err[200];

	ck_assert_msg(net_parse(s, strlen(s), &n, err, sizeof(err)) == 0, "%s: %s", s, err);
	return n;
}

START_TEST(matches_ipv4_networks_and_their_mapped_form)
{
	struct net n = cidr("10.0.0.0/8");

	ck_assert(net_contains(&n, addr("10.200.3.4").addr));
	ck_assert(net_contains(&n, addr("::ffff:10.1.2.3").addr));
	ck_assert(!net_contains(&n, addr("11.0.0.1").addr));
	ck_assert(!net_contains(&n, addr("2001:db8::1").addr));
}
END_TEST

START_TEST(matches_ipv6_networks_at_odd_prefixes)
{
	struct net n = cidr("2001:db8:8000::/33");

	ck_assert(net_contains(&n, addr("2001:db8:ffff::1").addr));
	ck_assert(!net_contains(&n, addr("2001:db8:7fff::1").addr));
	n = cidr("[::1]");
	ck_assert(net_contains(&n, addr("::1").addr));
	n = cidr("0.0.0.0/0");
	ck_assert(net_contains(&n, addr("203.0.113.9").addr));
	ck_assert(!net_contains(&n, addr("2001:db8::1").addr));
}
END_TEST

START_TEST(refuses_host_bits_naming_the_network_meant)
{
	struct net n;
	char err[200];

	ck_assert_int_eq(net_parse("10.0.0.1/8", 10, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"10.0.0.1/8\" has host bits set (did you mean 10.0.0.0/8?)");
	ck_assert_int_eq(net_parse("2001:db8::1/32", 14, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"2001:db8::1/32\" has host bits set (did you mean 2001:db8::/32?)");
	ck_assert_int_eq(net_parse("10.0.0.0/33", 11, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(net_parse("example.org", 11, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"example.org\" is not an address or network (a.b.c.d/n or x:y::z/n)");
}
END_TEST

START_TEST(rule_sets_take_ids_prefixes_and_all)
{
	struct rule_set s;
	char err[200];

	ck_assert_int_eq(rule_set_parse("header.*,mail.injection", 23, &s, err, sizeof(err)), 0);
	ck_assert(rule_set_has(&s, RULE_HEADER_COUNT));
	ck_assert(rule_set_has(&s, RULE_MAIL_INJECTION));
	ck_assert(!rule_set_has(&s, RULE_RCPT_INJECTION));
	ck_assert_int_eq(rule_set_parse("all", 3, &s, err, sizeof(err)), 0);
	ck_assert(rule_set_has(&s, RULE_BODY_SMUGGLING));
	ck_assert_int_eq(rule_set_parse("mail.nope", 9, &s, err, sizeof(err)), -1);
}
END_TEST

/* What a GeoIP database gives as country.iso_code is taken only when it
   is a country code: two letters A-Z.  Anything else is no country. */
START_TEST(keeps_only_a_two_letter_country)
{
	static const struct { const char *s; size_t len; bool valid; } cases[] = {
		{ "GB", 2, true }, { "ZA", 2, true }, { "gb", 2, false },
		{ "G", 1, false }, { "GBR", 3, false }, { "", 0, false },
		{ "\x1b[", 2, false }, { "G\x1b", 2, false }, { "G\0", 2, false },
		{ "\xc3\x85", 2, false }, { "G1", 2, false }, { "@[", 2, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(client_country_valid(cases[i].s, cases[i].len) == cases[i].valid,
			      "case %zu", i);
}
END_TEST

static struct cfg *
load(const char *text)
{
	struct cfg *cfg;
	struct cfg_error err;
	char msg[600];

	if (cfg_load(text, strlen(text), "t.conf", NULL, &cfg, &err) < 0) {
		cfg_error_format(&err, msg, sizeof(msg));
		ck_abort_msg("%s", msg);
	}
	return cfg;
}

START_TEST(a_trusted_network_switches_the_exempted_rules_off)
{
	struct cfg *cfg = load("TrustedNetworks 192.0.2.0/24, 2001:db8::/32\n"
			       "TrustedExempt mail.*\n");
	struct client cl = { .has_addr = true };
	struct client_applied ap;
	struct policy pol = cfg->policy;

	memcpy(cl.addr, addr("192.0.2.77").addr, 16);
	client_apply(&cfg->clients, &cl, &pol, &ap);
	ck_assert(ap.trusted);
	ck_assert_int_eq(pol.rule[RULE_MAIL_INJECTION].action, ACTION_ACCEPT);
	ck_assert_int_eq(pol.rule[RULE_RCPT_INJECTION].action, ACTION_REJECT);
	pol = cfg->policy;
	memcpy(cl.addr, addr("198.51.100.1").addr, 16);
	client_apply(&cfg->clients, &cl, &pol, &ap);
	ck_assert(!ap.trusted);
	ck_assert_int_eq(pol.rule[RULE_MAIL_INJECTION].action, ACTION_REJECT);
	cfg_free(&cfg);
}
END_TEST

START_TEST(an_authenticated_client_is_exempt_only_when_asked)
{
	struct cfg *cfg = load("ExemptAuthenticated yes\nAuthenticatedExempt header.*\n");
	struct client cl = { .authenticated = true };
	struct client_applied ap;
	struct policy pol = cfg->policy;

	client_apply(&cfg->clients, &cl, &pol, &ap);
	ck_assert(ap.authenticated);
	ck_assert_int_eq(pol.rule[RULE_HEADER_BARE_LF].action, ACTION_ACCEPT);
	ck_assert_int_eq(pol.rule[RULE_MAIL_INJECTION].action, ACTION_REJECT);
	cfg_free(&cfg);
}
END_TEST

START_TEST(a_country_override_changes_action_and_limit_for_that_country_only)
{
	struct cfg *cfg = load("Override country:GB,ru mail.local_part_length action=reject\n"
			       "Override asn:AS1221 unknown.count limit=1 mode=monitor\n");
	struct client cl = { 0 };
	struct client_applied ap;
	struct policy pol = cfg->policy;

	strcpy(cl.country, "GB");
	client_apply(&cfg->clients, &cl, &pol, &ap);
	ck_assert_uint_eq(ap.noverrides, 1);
	ck_assert_int_eq(pol.rule[RULE_MAIL_LOCAL_PART_LENGTH].action, ACTION_REJECT);
	ck_assert_str_eq(cfg->clients.override[ap.override[0]].text,
			 "country:GB,ru mail.local_part_length action=reject");
	pol = cfg->policy;
	strcpy(cl.country, "SE");
	cl.asn = 1221;
	client_apply(&cfg->clients, &cl, &pol, &ap);
	ck_assert_uint_eq(ap.noverrides, 1);
	ck_assert_int_eq(pol.rule[RULE_MAIL_LOCAL_PART_LENGTH].action, ACTION_LOG);
	ck_assert_uint_eq(pol.limits.limit[RULE_UNKNOWN_COUNT], 1);
	ck_assert(pol.rule[RULE_UNKNOWN_COUNT].monitor);
	cfg_free(&cfg);
}
END_TEST

static Suite *
net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("clients");

	tcase_add_test(tc, matches_ipv4_networks_and_their_mapped_form);
	tcase_add_test(tc, matches_ipv6_networks_at_odd_prefixes);
	tcase_add_test(tc, refuses_host_bits_naming_the_network_meant);
	tcase_add_test(tc, keeps_only_a_two_letter_country);
	tcase_add_test(tc, rule_sets_take_ids_prefixes_and_all);
	tcase_add_test(tc, a_trusted_network_switches_the_exempted_rules_off);
	tcase_add_test(tc, an_authenticated_client_is_exempt_only_when_asked);
	tcase_add_test(tc, a_country_override_changes_action_and_limit_for_that_country_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(net_suite());
}
