/*
 * probe.h -- does a socket answer the milter protocol?
 *
 * probe_scanner() speaks exactly as the classic "Milter Detection" scanner
 * plugin does: SMFIC_OPTNEG at version 2 with actions 0x7f and protocol 0
 * (a 17-byte packet), expecting a 17-byte SMFIC_OPTNEG reply; then
 * SMFIC_CONNECT for host "localhost" with family 'U' and no address,
 * expecting a one-letter reply (a, c, p, r or t) and nothing more.  It
 * sends nothing else and closes, so what a scanner sees, this sees.
 *
 * probe_v6() negotiates as Postfix 3.7 does (version 6, every action and
 * protocol flag) and sends the same CONNECT, then SMFIC_QUIT: some milters
 * refuse versions below 6.
 */
#ifndef MG_CHECK_PROBE_H
#define MG_CHECK_PROBE_H

#define PROBE_DETAIL_MAX 256

enum probe_result {
	PROBE_MILTER,		/* it answered as a milter */
	PROBE_NOT_MILTER,	/* something answered, but not the protocol */
	PROBE_REFUSED,		/* connection refused: nothing listens there */
	PROBE_NO_ANSWER,	/* connect timed out or unreachable */
	PROBE_ERROR		/* any other failure (detail says) */
};

struct probe_outcome {
	enum probe_result result;
	unsigned version;	/* PROBE_MILTER: the milter's version */
	char detail[PROBE_DETAIL_MAX];	/* why, in words (may quote peer bytes,
					   escaped) */
};

/* spec: a socket in libmilter's syntax ("inet:PORT@ADDR", "unix:/p"). */
void probe_scanner(const char *spec, int timeout_ms, struct probe_outcome *o);
void probe_v6(const char *spec, int timeout_ms, struct probe_outcome *o);

const char *probe_result_name(enum probe_result r);

#endif
