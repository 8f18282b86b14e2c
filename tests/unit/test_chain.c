/*
 * test_chain.c -- the HMAC-SHA256 chain over audit events
 *
 * The expected lines in tests/data/chain/vectors.txt were computed with the
 * openssl command line, not with this code.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chain.h"
#include "tu.h"

struct vectors {
	char *text;
	const char *key;
	const char *line[2];
};

static void
load_vectors(struct vectors *v)
{
	size_t len, n = 0;
	char *save = NULL;

	v->text = tu_read(tu_data_path("chain/vectors.txt"), &len);
	v->key = NULL;
	for (char *l = strtok_r(v->text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		if (l[0] == '#')
			continue;
		if (v->key == NULL)
			v->key = l;
		else if (n < 2)
			v->line[n++] = l;
	}
	ck_assert_uint_eq(n, 2);
}

static size_t
seal(const char *key, struct chain_state *st, enum chain_link link,
     const char *ev, char *buf, size_t size)
{
	size_t len = strlen(ev);

	ck_assert_uint_le(len + CHAIN_SEAL_EXTRA, size);
	memcpy(buf, ev, len);
	return chain_seal_r((const unsigned char *)key, strlen(key), st, link, buf, len);
}

START_TEST(seals_events_exactly_as_the_openssl_cli_computes)
{
	struct vectors v;
	struct chain_state st = { 0 };
	char buf[1024];
	size_t n;

	load_vectors(&v);
	n = seal(v.key, &st, CHAIN_LINK_NONE, "{\"a\":1}\n", buf, sizeof(buf));
	ck_assert_uint_eq(n, strlen(v.line[0]) + 1);
	ck_assert(memcmp(buf, v.line[0], n - 1) == 0 && buf[n - 1] == '\n');
	ck_assert_uint_eq(st.seq, 1);
	n = seal(v.key, &st, CHAIN_LINK_REOPEN, "{\"b\":2}", buf, sizeof(buf));
	ck_assert_uint_eq(n, strlen(v.line[1]) + 1);
	ck_assert(memcmp(buf, v.line[1], n - 1) == 0);
	ck_assert_uint_eq(st.seq, 2);
	free(v.text);
}
END_TEST

START_TEST(checks_a_line_against_the_previous_mac)
{
	struct vectors v;
	unsigned char zero[CHAIN_MAC_LEN] = { 0 }, first[CHAIN_MAC_LEN];
	size_t canon;
	size_t keylen;

	load_vectors(&v);
	keylen = strlen(v.key);
	ck_assert(chain_split(v.line[0], strlen(v.line[0]), &canon, first));
	ck_assert(chain_check((const unsigned char *)v.key, keylen, zero,
			      v.line[0], strlen(v.line[0])));
	ck_assert(chain_check((const unsigned char *)v.key, keylen, first,
			      v.line[1], strlen(v.line[1])));
	/* out of order: the second line does not follow the zero MAC */
	ck_assert(!chain_check((const unsigned char *)v.key, keylen, zero,
			       v.line[1], strlen(v.line[1])));
	/* another key */
	ck_assert(!chain_check((const unsigned char *)"fedcba9876543210", 16,
			       zero, v.line[0], strlen(v.line[0])));
	free(v.text);
}
END_TEST

START_TEST(rejects_a_line_with_any_one_byte_changed)
{
	struct vectors v;
	unsigned char zero[CHAIN_MAC_LEN] = { 0 };
	size_t len;
	char *copy;

	load_vectors(&v);
	len = strlen(v.line[0]);
	copy = strdup(v.line[0]);
	for (size_t i = 0; i < len; i++) {
		char saved = copy[i];

		copy[i] = (char)(saved ^ 0x01);
		ck_assert_msg(!chain_check((const unsigned char *)v.key, strlen(v.key),
					   zero, copy, len), "byte %zu", i);
		copy[i] = saved;
	}
	free(copy);
	free(v.text);
}
END_TEST

START_TEST(splits_only_lines_that_end_in_a_mac_member)
{
	unsigned char mac[CHAIN_MAC_LEN];
	size_t canon;
	const char *bad[] = {
		"{\"a\":1}",
		"{\"a\":1,\"mac\":\"00\"}",
		"{\"a\":1,\"mac\":\"zz00000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"a\":1,\"mac\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"b\":2}",
		"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!chain_split(bad[i], strlen(bad[i]), &canon, mac), "%s", bad[i]);
	const char *ok = "{\"a\":1,\"mac\":\"00000000000000000000000000000000000000000000000000000000000000ff\"}\n";
	ck_assert(chain_split(ok, strlen(ok), &canon, mac));
	ck_assert_uint_eq(canon, strlen("{\"a\":1"));
	ck_assert_uint_eq(mac[31], 0xff);
}
END_TEST

START_TEST(refuses_to_seal_what_is_not_an_object)
{
	struct chain_state st = { 0 };
	char buf[512];

	ck_assert_uint_eq(seal("0123456789abcdef", &st, CHAIN_LINK_NONE, "[1]", buf, sizeof(buf)), 0);
	ck_assert_uint_eq(seal("0123456789abcdef", &st, CHAIN_LINK_NONE, "{}", buf, sizeof(buf)), 0);
	ck_assert_uint_eq(st.seq, 0);
}
END_TEST

START_TEST(a_start_link_names_the_previous_event)
{
	struct chain_state st = { .seq = 41 };
	char buf[512], expect[512], hex[CHAIN_HEX_LEN + 1];
	size_t n;

	memset(st.mac, 0xab, sizeof(st.mac));
	chain_hex(st.mac, hex);
	n = seal("0123456789abcdef", &st, CHAIN_LINK_START, "{\"x\":0}", buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	snprintf(expect, sizeof(expect),
		 "{\"x\":0,\"seq\":42,\"chain\":{\"prev_seq\":41,\"prev_mac\":\"%s\",\"reason\":\"start\"},\"mac\":\"",
		 hex);
	ck_assert(strncmp(buf, expect, strlen(expect)) == 0);
	ck_assert_uint_eq(st.seq, 42);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("chain");

	tcase_add_test(tc, seals_events_exactly_as_the_openssl_cli_computes);
	tcase_add_test(tc, checks_a_line_against_the_previous_mac);
	tcase_add_test(tc, rejects_a_line_with_any_one_byte_changed);
	tcase_add_test(tc, splits_only_lines_that_end_in_a_mac_member);
	tcase_add_test(tc, refuses_to_seal_what_is_not_an_object);
	tcase_add_test(tc, a_start_link_names_the_previous_event);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
