/*
 * chain.h -- the tamper-evident chain over audit events (HMAC-SHA256)
 *
 * A chained event is one JSON object on one line whose last member is
 *     ,"mac":"<64 lower-case hex digits>"}
 * Its canonical bytes are the line without that member (and without the
 * newline): everything before ',"mac":' followed by '}'.  Its MAC is
 *     HMAC-SHA256(key, MAC of the previous event (32 raw bytes) || canonical)
 * with 32 zero bytes as the previous MAC of the first event of a chain.
 * Because the writer appends the members and computes the MAC over the
 * exact bytes it writes, a verifier needs no JSON re-serialisation: it cuts
 * the line and recomputes.  Events also carry "seq" (1, 2, ... over the
 * whole chain, across files, reopen and restarts) before "mac", and the
 * first event of each file or process a "chain" member naming the event it
 * continues from: {"prev_seq":N,"prev_mac":"hex","reason":"start|reopen|gap"}.
 *
 * Pure: no I/O.  The key is bytes; reading and checking the key file is the
 * shell's business.
 */
#ifndef MG_CHAIN_H
#define MG_CHAIN_H

#include <stddef.h>
#include <stdbool.h>

#define CHAIN_MAC_LEN 32
#define CHAIN_HEX_LEN (2 * CHAIN_MAC_LEN)
#define CHAIN_KEY_MIN 16		/* shortest key accepted, octets */
#define CHAIN_KEY_MAX 1024		/* longest key accepted, octets */
/* Room chain_seal_r() needs beyond the event itself. */
#define CHAIN_SEAL_EXTRA 256

/* Where a chain stands: the last event sealed (seq 0: none yet). */
struct chain_state {
	unsigned long long seq;
	unsigned char mac[CHAIN_MAC_LEN];
};

/* Why the first event of a file or process names its predecessor. */
enum chain_link {
	CHAIN_LINK_NONE,	/* an ordinary event: no "chain" member */
	CHAIN_LINK_START,	/* first event of this process */
	CHAIN_LINK_REOPEN,	/* first event of a reopened file */
	CHAIN_LINK_GAP		/* first event a failed sink took again */
};

/* HMAC-SHA256(key, prev || data[0..len)) into mac_r (src/core/sha256.c). */
void chain_mac_r(const unsigned char *key, size_t keylen,
		 const unsigned char prev[CHAIN_MAC_LEN],
		 const char *data, size_t len, unsigned char mac_r[CHAIN_MAC_LEN]);

/* Seal an event.  buf holds the unsealed event ev (a JSON object, with or
   without a trailing newline) in its first evlen bytes and has room for
   evlen + CHAIN_SEAL_EXTRA bytes.  Appends "seq", the "chain" member when
   link is not CHAIN_LINK_NONE, and "mac", ends the line with a newline,
   advances *st and returns the sealed length; returns 0 (and leaves *st) if
   ev is not a non-empty object or the members do not fit. */
size_t chain_seal_r(const unsigned char *key, size_t keylen,
		    struct chain_state *st, enum chain_link link,
		    char *buf, size_t evlen);

/* Cut a sealed line (newline optional): on success returns true, sets
   *canon_len_r to the length of the canonical bytes' prefix (the canonical
   bytes are line[0..*canon_len_r) followed by '}') and mac_r to the MAC the
   line carries. */
bool chain_split(const char *line, size_t len, size_t *canon_len_r,
		 unsigned char mac_r[CHAIN_MAC_LEN]);

/* Check a sealed line against prev: true if its MAC is
   HMAC(key, prev || canonical bytes). */
bool chain_check(const unsigned char *key, size_t keylen,
		 const unsigned char prev[CHAIN_MAC_LEN],
		 const char *line, size_t len);

/* Lower-case hex of a MAC into out (CHAIN_HEX_LEN + 1 bytes). */
void chain_hex(const unsigned char mac[CHAIN_MAC_LEN], char *out);

/* Parse CHAIN_HEX_LEN hex digits (either case); false if not hex. */
bool chain_unhex(const char *hex, size_t len, unsigned char mac_r[CHAIN_MAC_LEN]);

#endif
