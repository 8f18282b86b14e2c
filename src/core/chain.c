/*
 * chain.c -- the tamper-evident chain over audit events (see chain.h)
 */
#include "chain.h"
#include "esc.h"
#include "sha256.h"

#include <stdio.h>
#include <string.h>

_Static_assert(CHAIN_MAC_LEN == SHA256_LEN, "the chain's MAC is an HMAC-SHA256");

static const char mac_member[] = ",\"mac\":\"";
#define MAC_MEMBER_LEN (sizeof(mac_member) - 1)
/* ,"mac":"<hex>"} */
#define MAC_TAIL_LEN (MAC_MEMBER_LEN + CHAIN_HEX_LEN + 2)

void
chain_mac_r(const unsigned char *key, size_t keylen,
	    const unsigned char prev[CHAIN_MAC_LEN], const char *data,
	    size_t len, unsigned char mac_r[CHAIN_MAC_LEN])
{
	struct sha256_part parts[] = { { prev, CHAIN_MAC_LEN }, { data, len } };

	sha256_hmac(key, keylen, parts, 2, mac_r);
}

void
chain_hex(const unsigned char mac[CHAIN_MAC_LEN], char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < CHAIN_MAC_LEN; i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 0x0f];
	}
	out[CHAIN_HEX_LEN] = '\0';
}


bool
chain_unhex(const char *hex, size_t len, unsigned char mac_r[CHAIN_MAC_LEN])
{
	if (len != CHAIN_HEX_LEN)
		return false;
	for (size_t i = 0; i < CHAIN_MAC_LEN; i++) {
		int hi = esc_hexval((unsigned char)hex[2 * i]);
		int lo = esc_hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		mac_r[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static const char *const link_reason[] = {
	[CHAIN_LINK_START] = "start",
	[CHAIN_LINK_REOPEN] = "reopen",
	[CHAIN_LINK_GAP] = "gap",
};

size_t
chain_seal_r(const unsigned char *key, size_t keylen, struct chain_state *st,
	     enum chain_link link, char *buf, size_t evlen)
{
	char prevhex[CHAIN_HEX_LEN + 1], machex[CHAIN_HEX_LEN + 1];
	unsigned char mac[CHAIN_MAC_LEN];
	size_t len = evlen, room = evlen + CHAIN_SEAL_EXTRA;
	int n;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	/* an object, and not an empty one: members are appended after a comma */
	if (len < 3 || buf[0] != '{' || buf[len - 1] != '}')
		return 0;
	len--;			/* drop the closing brace */
	if (link != CHAIN_LINK_NONE) {
		chain_hex(st->mac, prevhex);
		n = snprintf(buf + len, room - len,
			     ",\"seq\":%llu,\"chain\":{\"prev_seq\":%llu,"
			     "\"prev_mac\":\"%s\",\"reason\":\"%s\"}}",
			     st->seq + 1, st->seq, prevhex, link_reason[link]);
	} else {
		n = snprintf(buf + len, room - len, ",\"seq\":%llu}", st->seq + 1);
	}
	if (n < 0 || (size_t)n >= room - len)
		return 0;
	len += (size_t)n;	/* canonical bytes: buf[0..len) */
	chain_mac_r(key, keylen, st->mac, buf, len, mac);
	chain_hex(mac, machex);
	len--;			/* replace the closing brace */
	n = snprintf(buf + len, room - len, "%s%s\"}\n", mac_member, machex);
	if (n < 0 || (size_t)n >= room - len)
		return 0;
	st->seq++;
	memcpy(st->mac, mac, CHAIN_MAC_LEN);
	return len + (size_t)n;
}

bool
chain_split(const char *line, size_t len, size_t *canon_len_r,
	    unsigned char mac_r[CHAIN_MAC_LEN])
{
	size_t at;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len < MAC_TAIL_LEN + 1 || line[0] != '{')
		return false;
	at = len - MAC_TAIL_LEN;
	if (memcmp(line + at, mac_member, MAC_MEMBER_LEN) != 0 ||
	    line[len - 2] != '"' || line[len - 1] != '}')
		return false;
	if (!chain_unhex(line + at + MAC_MEMBER_LEN, CHAIN_HEX_LEN, mac_r))
		return false;
	*canon_len_r = at;
	return true;
}

bool
chain_check(const unsigned char *key, size_t keylen,
	    const unsigned char prev[CHAIN_MAC_LEN], const char *line, size_t len)
{
	unsigned char carried[CHAIN_MAC_LEN], mac[CHAIN_MAC_LEN];
	size_t canon;

	if (!chain_split(line, len, &canon, carried))
		return false;
	struct sha256_part parts[] = {
		{ prev, CHAIN_MAC_LEN }, { line, canon }, { "}", 1 }
	};
	sha256_hmac(key, keylen, parts, 3, mac);
	return sha256_equal(mac, carried, CHAIN_MAC_LEN);
}
