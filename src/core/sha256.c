/*
 * sha256.c -- SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) (see sha256.h)
 *
 * Section numbers are FIPS 180-4's unless RFC 2104 is named.
 */
#include "sha256.h"

#include <string.h>

/* 4.2.2: the first 32 bits of the fractional parts of the cube roots of
   the first 64 primes. */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* 5.3.3: the first 32 bits of the fractional parts of the square roots of
   the first 8 primes. */
static const uint32_t sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* RFC 2104 section 2: the inner and outer pad octets. */
#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c

/* memset through a volatile pointer: the compiler cannot know it is
   memset, so it cannot drop a wipe of memory that is not read again. */
static void *(*const volatile sha256_memset)(void *, int, size_t) = memset;

/* Set p[0..len) to zero in a way the compiler cannot drop. */
static void
sha256_wipe(void *p, size_t len)
{
	sha256_memset(p, 0, len);
}

/* 3.2: rotate right; 4.1.2: the six functions (Sigma0, Sigma1 as BSIG0,
   BSIG1; sigma0, sigma1 as SSIG0, SSIG1, the names of RFC 6234). */
static inline uint32_t
rotr(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

/* Ch and Maj as FIPS 180-4 4.1.2 writes them are
     Ch(x, y, z)  = (x AND y) XOR (NOT x AND z)
     Maj(x, y, z) = (x AND y) XOR (x AND z) XOR (y AND z)
   the forms below give the same bits with fewer operations (Ch: where x
   is 1 take y, else z; Maj: y, unless x and y differ and y and z differ,
   then not y).  In Maj, y ^ z is the previous round's x ^ y (the
   variables shift by one a round), which the compiler keeps. */
#define CH(x, y, z)	((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z)	((y) ^ (((x) ^ (y)) & ((y) ^ (z))))
/* Sigma0(x) = ROTR2(x) ^ ROTR13(x) ^ ROTR22(x) and
   Sigma1(x) = ROTR6(x) ^ ROTR11(x) ^ ROTR25(x), with the rotations nested
   (ROTR distributes over XOR) so that x is copied once, not three times. */
#define BSIG0(x)	rotr((x) ^ rotr((x) ^ rotr(x, 9), 11), 2)
#define BSIG1(x)	rotr((x) ^ rotr((x) ^ rotr(x, 14), 5), 6)
#define SSIG0(x)	(rotr(x, 7) ^ rotr(x, 18) ^ ((x) >> 3))
#define SSIG1(x)	(rotr(x, 17) ^ rotr(x, 19) ^ ((x) >> 10))

static inline uint32_t
load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* 6.2.2 step 3, one round t, with the working variables named where they
   stand this round: instead of moving h <- g <- f ... each round, the next
   round is called with the names rotated by one, so after eight rounds
   they are back in place.  T2 goes straight into h, which is the next
   round's a. */
#define ROUND(a, b, c, d, e, f, g, h, t) do { \
		uint32_t t1 = (h) + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t]; \
		(d) += t1; \
		(h) = t1 + BSIG0(a) + MAJ(a, b, c); \
	} while (0)

/* 6.2.2: the hash computation over nblocks blocks of 64 octets. */
static void
sha256_blocks(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
	uint32_t w[64];

	for (; nblocks > 0; nblocks--, p += SHA256_BLOCK_LEN) {
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
		uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];

		/* 1. the message schedule */
		for (unsigned t = 0; t < 16; t++)
			w[t] = load_be32(p + 4 * t);
		for (unsigned t = 16; t < 64; t++)
			w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
		/* 2.-3. the working variables, 64 rounds, 8 at a time */
		for (unsigned t = 0; t < 64; t += 8) {
			ROUND(a, b, c, d, e, f, g, hh, t);
			ROUND(hh, a, b, c, d, e, f, g, t + 1);
			ROUND(g, hh, a, b, c, d, e, f, t + 2);
			ROUND(f, g, hh, a, b, c, d, e, t + 3);
			ROUND(e, f, g, hh, a, b, c, d, t + 4);
			ROUND(d, e, f, g, hh, a, b, c, t + 5);
			ROUND(c, d, e, f, g, hh, a, b, t + 6);
			ROUND(b, c, d, e, f, g, hh, a, t + 7);
		}
		/* 4. the intermediate hash value */
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += hh;
	}
	sha256_wipe(w, sizeof(w));
}

void
sha256_init(struct sha256_ctx *ctx)
{
	memcpy(ctx->h, sha256_h0, sizeof(ctx->h));
	ctx->len = 0;
	ctx->fill = 0;
}

void
sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t n;

	ctx->len += len;
	if (ctx->fill > 0) {
		n = SHA256_BLOCK_LEN - ctx->fill;
		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->fill, p, n);
		ctx->fill += n;
		p += n;
		len -= n;
		if (ctx->fill < SHA256_BLOCK_LEN)
			return;
		sha256_blocks(ctx->h, ctx->block, 1);
		ctx->fill = 0;
	}
	n = len / SHA256_BLOCK_LEN;
	if (n > 0) {
		sha256_blocks(ctx->h, p, n);
		p += n * SHA256_BLOCK_LEN;
		len -= n * SHA256_BLOCK_LEN;
	}
	if (len > 0) {
		memcpy(ctx->block, p, len);
		ctx->fill = len;
	}
}

void
sha256_final(struct sha256_ctx *ctx, unsigned char digest_r[SHA256_LEN])
{
	/* 5.1.1: a 1 bit, zeros to 56 octets mod 64, the length in bits as
	   64 bits big-endian (the length is taken mod 2^64, as the standard
	   allows messages under 2^64 bits only) */
	uint64_t bits = ctx->len * 8;
	size_t fill = ctx->fill;

	ctx->block[fill++] = 0x80;
	if (fill > SHA256_BLOCK_LEN - 8) {
		memset(ctx->block + fill, 0, SHA256_BLOCK_LEN - fill);
		sha256_blocks(ctx->h, ctx->block, 1);
		fill = 0;
	}
	memset(ctx->block + fill, 0, SHA256_BLOCK_LEN - 8 - fill);
	store_be32(ctx->block + SHA256_BLOCK_LEN - 8, (uint32_t)(bits >> 32));
	store_be32(ctx->block + SHA256_BLOCK_LEN - 4, (uint32_t)bits);
	sha256_blocks(ctx->h, ctx->block, 1);
	for (unsigned i = 0; i < 8; i++)
		store_be32(digest_r + 4 * i, ctx->h[i]);
	sha256_wipe(ctx, sizeof(*ctx));
}

void
sha256_digest(const void *data, size_t len, unsigned char digest_r[SHA256_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, digest_r);
}

void
sha256_hmac_init(struct sha256_hmac_ctx *ctx, const void *key, size_t keylen)
{
	unsigned char k0[SHA256_BLOCK_LEN], pad[SHA256_BLOCK_LEN];

	/* RFC 2104 section 2: a key longer than the block is hashed; K0 is
	   the key (or its hash) followed by zeros to the block length */
	memset(k0, 0, sizeof(k0));
	if (keylen > SHA256_BLOCK_LEN)
		sha256_digest(key, keylen, k0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);
	for (size_t i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = k0[i] ^ HMAC_IPAD;
	sha256_init(&ctx->inner);
	sha256_update(&ctx->inner, pad, SHA256_BLOCK_LEN);
	for (size_t i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = k0[i] ^ HMAC_OPAD;
	sha256_init(&ctx->outer);
	sha256_update(&ctx->outer, pad, SHA256_BLOCK_LEN);
	sha256_wipe(k0, sizeof(k0));
	sha256_wipe(pad, sizeof(pad));
}

void
sha256_hmac_update(struct sha256_hmac_ctx *ctx, const void *data, size_t len)
{
	sha256_update(&ctx->inner, data, len);
}

void
sha256_hmac_final(struct sha256_hmac_ctx *ctx, unsigned char mac_r[SHA256_LEN])
{
	unsigned char inner[SHA256_LEN];

	/* H((K0 ^ opad) || H((K0 ^ ipad) || text)); both finals wipe */
	sha256_final(&ctx->inner, inner);
	sha256_update(&ctx->outer, inner, SHA256_LEN);
	sha256_final(&ctx->outer, mac_r);
	sha256_wipe(inner, sizeof(inner));
}

void
sha256_hmac(const void *key, size_t keylen, const struct sha256_part *parts,
	    size_t nparts, unsigned char mac_r[SHA256_LEN])
{
	struct sha256_hmac_ctx ctx;

	sha256_hmac_init(&ctx, key, keylen);
	for (size_t i = 0; i < nparts; i++)
		sha256_hmac_update(&ctx, parts[i].p, parts[i].len);
	sha256_hmac_final(&ctx, mac_r);
}

bool
sha256_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	/* every octet is read and folded in, whatever came before */
	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
