/*
 * sha256.h -- SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), our own
 *
 * The hash of each finding's value (finding.c) and the MAC of the audit
 * chain (chain.c).  Written here so that the daemon, milter-guard-audit and
 * milter-guard-replay need no libcrypto: its pages and its initialisation
 * were half of the daemon's idle memory.
 *
 * Pure: no I/O, no allocation, no failure.  Contexts are the caller's
 * (stack or struct); init, then update any number of times with any split
 * of the input, then final, which writes the result and wipes the context
 * (for HMAC it holds key material).  A context is not reused after final
 * without a new init.  tests/unit/test_sha256.c checks the FIPS 180-4 and
 * RFC 4231 examples and compares with OpenSSL over random lengths, splits
 * and keys.
 */
#ifndef MG_SHA256_H
#define MG_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN		32	/* digest and HMAC, octets */
#define SHA256_BLOCK_LEN	64	/* the block, and HMAC's key block */

struct sha256_ctx {
	uint32_t h[8];			/* the hash value H(i) */
	uint64_t len;			/* octets taken so far */
	unsigned char block[SHA256_BLOCK_LEN];	/* the partial block */
	size_t fill;			/* octets in block */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Pad, write the digest, wipe ctx. */
void sha256_final(struct sha256_ctx *ctx, unsigned char digest_r[SHA256_LEN]);

/* SHA-256 of data[0..len) in one call. */
void sha256_digest(const void *data, size_t len, unsigned char digest_r[SHA256_LEN]);

/* HMAC-SHA256: the inner hash already fed with K0 ^ ipad, the outer with
   K0 ^ opad (so both hold key material until final). */
struct sha256_hmac_ctx {
	struct sha256_ctx inner;
	struct sha256_ctx outer;
};

/* A key of any length (longer than a block: its hash is the key). */
void sha256_hmac_init(struct sha256_hmac_ctx *ctx, const void *key, size_t keylen);
void sha256_hmac_update(struct sha256_hmac_ctx *ctx, const void *data, size_t len);
/* Write the MAC, wipe ctx. */
void sha256_hmac_final(struct sha256_hmac_ctx *ctx, unsigned char mac_r[SHA256_LEN]);

/* One piece of a message given in pieces. */
struct sha256_part {
	const void *p;
	size_t len;
};

/* HMAC-SHA256(key, parts[0] || parts[1] || ... || parts[nparts - 1]). */
void sha256_hmac(const void *key, size_t keylen, const struct sha256_part *parts,
		 size_t nparts, unsigned char mac_r[SHA256_LEN]);

/* True if a[0..len) and b[0..len) are equal, in a time that depends on
   len only (not on where they differ): for checking a MAC. */
bool sha256_equal(const void *a, const void *b, size_t len);

#endif
