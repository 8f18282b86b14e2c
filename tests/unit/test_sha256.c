/*
 * test_sha256.c -- our SHA-256 and HMAC-SHA256 (src/core/sha256.c)
 *
 * Against the published examples (tests/data/sha256/: FIPS 180-4's, RFC
 * 4231's, keys at the block's length checked with the openssl command line)
 * whole and in pieces, and against OpenSSL itself (EVP_Digest, HMAC through
 * EVP_MAC) for every message length from 0 to 300 octets (the padding turns
 * at 55/56 and 64 octets), split at random points, and every key length from
 * 0 to 200 octets.  The random bytes come from a fixed seed, so a failure
 * names a case that fails again.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/sha256.h"
#include "tu.h"

#define MSG_MAX 300	/* longest message of the comparison with OpenSSL */
#define KEY_MAX 200	/* longest key of the comparison with OpenSSL */
#define SPLITS_MAX 3	/* update calls a message is cut into, at most + 1 */

static void
hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The first strlen(want) hex digits of got[] are want. */
static void
assert_hex(const unsigned char got[SHA256_LEN], const char *want, unsigned line)
{
	char h[2 * SHA256_LEN + 1];

	hex(got, SHA256_LEN, h);
	ck_assert_msg(strlen(want) <= 2 * SHA256_LEN &&
		      strncmp(h, want, strlen(want)) == 0,
		      "case at line %u: got %s, want %s", line, h, want);
}

/* xorshift64*: the same bytes on every run */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void
rng_fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rng() >> 56);
}

/* Up to SPLITS_MAX sorted cut points in [0, len]; returns how many. */
static size_t
rng_cuts(size_t len, size_t cut[SPLITS_MAX])
{
	size_t n = rng() % (SPLITS_MAX + 1);

	for (size_t i = 0; i < n; i++)
		cut[i] = rng() % (len + 1);
	for (size_t i = 1; i < n; i++)	/* insertion sort */
		for (size_t j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			size_t t = cut[j];

			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	return n;
}

/* msg[0..len) hashed through update calls cut at cut[0..ncut). */
static void
digest_cut(const unsigned char *msg, size_t len, const size_t *cut, size_t ncut,
	   unsigned char out[SHA256_LEN])
{
	struct sha256_ctx ctx;
	size_t at = 0;

	sha256_init(&ctx);
	for (size_t i = 0; i < ncut; i++) {
		sha256_update(&ctx, msg + at, cut[i] - at);
		at = cut[i];
	}
	sha256_update(&ctx, msg + at, len - at);
	sha256_final(&ctx, out);
}

static void
hmac_cut(const unsigned char *key, size_t keylen, const unsigned char *msg,
	 size_t len, const size_t *cut, size_t ncut, unsigned char out[SHA256_LEN])
{
	struct sha256_hmac_ctx ctx;
	size_t at = 0;

	sha256_hmac_init(&ctx, key, keylen);
	for (size_t i = 0; i < ncut; i++) {
		sha256_hmac_update(&ctx, msg + at, cut[i] - at);
		at = cut[i];
	}
	sha256_hmac_update(&ctx, msg + at, len - at);
	sha256_hmac_final(&ctx, out);
}

/* Odd piece sizes, on both sides of the block's 64 octets. */
static const size_t piece[] = { 1, 3, 7, 13, 55, 57, 63, 65, 127, 129, 999, 4097 };
#define NPIECES (sizeof(piece) / sizeof(piece[0]))

START_TEST(hashes_the_fips_180_4_examples_whole_and_in_odd_pieces)
{
	struct tu_case *c;
	size_t n = tu_cases(tu_data_path("sha256/digests.tsv"), &c);

	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		unsigned long rep = strtoul(c[i].col[1].s, NULL, 10);
		size_t unit = c[i].col[0].len, len = unit * rep;
		unsigned char *msg = malloc(len + 1), d[SHA256_LEN];
		struct sha256_ctx ctx;

		ck_assert_uint_eq(c[i].ncols, 3);
		ck_assert_ptr_nonnull(msg);
		for (size_t r = 0; r < rep; r++)
			memcpy(msg + r * unit, c[i].col[0].s, unit);
		sha256_digest(msg, len, d);
		assert_hex(d, c[i].col[2].s, c[i].line);
		for (size_t first = 0; first < NPIECES; first++) {
			size_t at = 0, k = first;

			sha256_init(&ctx);
			while (at < len) {
				size_t step = piece[k++ % NPIECES];

				if (step > len - at)
					step = len - at;
				sha256_update(&ctx, msg + at, step);
				at += step;
			}
			sha256_final(&ctx, d);
			assert_hex(d, c[i].col[2].s, c[i].line);
		}
		free(msg);
	}
	tu_cases_free(c, n);
}
END_TEST

START_TEST(macs_the_rfc_4231_cases_whole_and_split_at_every_octet)
{
	struct tu_case *c;
	size_t n = tu_cases(tu_data_path("sha256/hmac.tsv"), &c);

	ck_assert_uint_eq(n, 9);
	for (size_t i = 0; i < n; i++) {
		const struct tu_col *key = &c[i].col[0], *msg = &c[i].col[1];
		unsigned char m[SHA256_LEN];

		ck_assert_uint_eq(c[i].ncols, 3);
		{
			struct sha256_part one = { msg->s, msg->len };

			sha256_hmac(key->s, key->len, &one, 1, m);
			assert_hex(m, c[i].col[2].s, c[i].line);
		}
		for (size_t cut = 0; cut <= msg->len; cut++) {
			struct sha256_part two[] = {
				{ msg->s, cut }, { msg->s + cut, msg->len - cut }
			};

			sha256_hmac(key->s, key->len, two, 2, m);
			assert_hex(m, c[i].col[2].s, c[i].line);
		}
	}
	tu_cases_free(c, n);
}
END_TEST

START_TEST(agrees_with_openssl_on_every_length_to_300_split_anywhere)
{
	unsigned char msg[MSG_MAX], ours[SHA256_LEN], theirs[SHA256_LEN];
	size_t cut[SPLITS_MAX];

	rng_state = 0x5eed5a256;
	for (size_t len = 0; len <= MSG_MAX; len++) {
		for (int round = 0; round < 4; round++) {
			unsigned int outlen = 0;
			size_t ncut = rng_cuts(len, cut);

			rng_fill(msg, len);
			ck_assert_int_eq(EVP_Digest(msg, len, theirs, &outlen,
						    EVP_sha256(), NULL), 1);
			ck_assert_uint_eq(outlen, SHA256_LEN);
			sha256_digest(msg, len, ours);
			ck_assert_msg(memcmp(ours, theirs, SHA256_LEN) == 0,
				      "length %zu round %d: one-shot differs", len, round);
			digest_cut(msg, len, cut, ncut, ours);
			ck_assert_msg(memcmp(ours, theirs, SHA256_LEN) == 0,
				      "length %zu round %d, %zu cuts (first at %zu): differs",
				      len, round, ncut, ncut > 0 ? cut[0] : 0);
		}
	}
}
END_TEST

static void
openssl_hmac(EVP_MAC *mac, const unsigned char *key, size_t keylen,
	     const unsigned char *msg, size_t len, unsigned char out[SHA256_LEN])
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[2];
	size_t outlen = 0;

	ck_assert_ptr_nonnull(ctx);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ck_assert_int_eq(EVP_MAC_init(ctx, key, keylen, params), 1);
	ck_assert_int_eq(EVP_MAC_update(ctx, msg, len), 1);
	ck_assert_int_eq(EVP_MAC_final(ctx, out, &outlen, SHA256_LEN), 1);
	ck_assert_uint_eq(outlen, SHA256_LEN);
	EVP_MAC_CTX_free(ctx);
}

/* Message lengths at the padding's turns (55/56, 64) for the key sweep. */
static const size_t turn[] = { 0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128 };
#define NTURNS (sizeof(turn) / sizeof(turn[0]))

START_TEST(agrees_with_openssl_hmac_on_every_key_length_to_200)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	unsigned char key[KEY_MAX + 1], msg[MSG_MAX], ours[SHA256_LEN], theirs[SHA256_LEN];
	size_t cut[SPLITS_MAX];

	ck_assert_ptr_nonnull(mac);
	rng_state = 0x4a3c5eed;
	for (size_t keylen = 0; keylen <= KEY_MAX; keylen++) {
		for (int round = 0; round < 3; round++) {
			size_t len = round == 0 ? turn[keylen % NTURNS] : rng() % (MSG_MAX + 1);
			size_t ncut = rng_cuts(len, cut);

			rng_fill(key, keylen);
			rng_fill(msg, len);
			openssl_hmac(mac, key, keylen, msg, len, theirs);
			hmac_cut(key, keylen, msg, len, cut, ncut, ours);
			ck_assert_msg(memcmp(ours, theirs, SHA256_LEN) == 0,
				      "key %zu octets, message %zu, %zu cuts: differs",
				      keylen, len, ncut);
		}
	}
	EVP_MAC_free(mac);
}
END_TEST

static void
assert_zero(const void *p, size_t n, const char *what)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		ck_assert_msg(b[i] == 0, "%s: octet %zu is not wiped", what, i);
}

START_TEST(final_wipes_the_context_and_its_key)
{
	struct sha256_hmac_ctx h;
	struct sha256_ctx s;
	unsigned char out[SHA256_LEN];

	sha256_hmac_init(&h, "a secret key", 12);
	sha256_hmac_update(&h, "some data", 9);
	sha256_hmac_final(&h, out);
	assert_zero(&h, sizeof(h), "HMAC context");
	sha256_init(&s);
	sha256_update(&s, "a partial block", 15);
	sha256_final(&s, out);
	assert_zero(&s, sizeof(s), "SHA-256 context");
}
END_TEST

START_TEST(equal_finds_a_difference_at_any_octet)
{
	unsigned char a[SHA256_LEN], b[SHA256_LEN];

	for (size_t i = 0; i < SHA256_LEN; i++)
		a[i] = (unsigned char)(i * 7 + 1);
	memcpy(b, a, sizeof(a));
	ck_assert(sha256_equal(a, b, SHA256_LEN));
	ck_assert(sha256_equal(a, b, 0));
	for (size_t i = 0; i < SHA256_LEN; i++)
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			ck_assert_msg(!sha256_equal(a, b, SHA256_LEN),
				      "octet %zu bit %u flipped: still equal", i, bit);
			b[i] ^= (unsigned char)(1u << bit);
		}
	ck_assert(sha256_equal(a, b, SHA256_LEN));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("sha256");

	tcase_add_test(tc, hashes_the_fips_180_4_examples_whole_and_in_odd_pieces);
	tcase_add_test(tc, macs_the_rfc_4231_cases_whole_and_split_at_every_octet);
	tcase_add_test(tc, agrees_with_openssl_on_every_length_to_300_split_anywhere);
	tcase_add_test(tc, agrees_with_openssl_hmac_on_every_key_length_to_200);
	tcase_add_test(tc, final_wipes_the_context_and_its_key);
	tcase_add_test(tc, equal_finds_a_difference_at_any_octet);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
