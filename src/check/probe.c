/*
 * probe.c -- does a socket answer the milter protocol? (see probe.h)
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libmilter/mfdef.h>

#include "client/mclient.h"
#include "core/esc.h"
#include "probe.h"

/* What the scanner sends and expects. */
#define SCANNER_VERSION		2
#define SCANNER_ACTIONS		0x7fU
#define SCANNER_PROTOCOL	0U
#define SCANNER_HOST		"localhost"
#define SCANNER_OPTNEG_REPLY	17	/* whole packet, length word included */
#define SCANNER_CONNECT_REPLY	5
#define SCANNER_LETTERS		"acprt"

static const char *const result_names[] = {
	[PROBE_MILTER] = "milter",
	[PROBE_NOT_MILTER] = "not a milter",
	[PROBE_REFUSED] = "connection refused",
	[PROBE_NO_ANSWER] = "no answer",
	[PROBE_ERROR] = "error",
};

const char *
probe_result_name(enum probe_result r)
{
	return r <= PROBE_ERROR ? result_names[r] : "error";
}

static void
set(struct probe_outcome *o, enum probe_result r, const char *detail)
{
	o->result = r;
	esc_bytes(detail, strlen(detail), o->detail, sizeof(o->detail), NULL);
}

/* Open spec; on failure classify why into o and return NULL. */
static struct mclient *
open_or_classify(const char *spec, int timeout_ms, struct probe_outcome *o)
{
	struct mclient *mc;
	const char *err = "";
	int e;

	memset(o, 0, sizeof(*o));
	if (mclient_open(spec, timeout_ms, &mc, &err) == 0)
		return mc;
	e = errno;
	if (e == ECONNREFUSED || e == ENOENT)
		set(o, PROBE_REFUSED, err);
	else if (e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH)
		set(o, PROBE_NO_ANSWER, err);
	else
		set(o, PROBE_ERROR, err);
	return NULL;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void
probe_scanner(const char *spec, int timeout_ms, struct probe_outcome *o)
{
	static const char connect[] = SCANNER_HOST "\0" "U";
	unsigned char optneg[12], rcmd;
	const unsigned char *data;
	char msg[PROBE_DETAIL_MAX];
	struct mclient *mc;
	size_t len;

	if ((mc = open_or_classify(spec, timeout_ms, o)) == NULL)
		return;
	put32(optneg, SCANNER_VERSION);
	put32(optneg + 4, SCANNER_ACTIONS);
	put32(optneg + 8, SCANNER_PROTOCOL);
	if (mclient_raw(mc, SMFIC_OPTNEG, optneg, sizeof(optneg), &rcmd, &data, &len) < 0) {
		set(o, PROBE_NOT_MILTER, mclient_error(mc));
		goto out;
	}
	if (4 + 1 + len != SCANNER_OPTNEG_REPLY || rcmd != SMFIC_OPTNEG) {
		snprintf(msg, sizeof(msg), "SMFIC_OPTNEG (version 2) reply: %zu bytes, "
			 "command 0x%02x; a milter sends 17 bytes, command 'O'",
			 4 + 1 + len, rcmd);
		set(o, PROBE_NOT_MILTER, msg);
		goto out;
	}
	o->version = (unsigned)data[0] << 24 | (unsigned)data[1] << 16 |
		     (unsigned)data[2] << 8 | data[3];
	if (mclient_raw(mc, SMFIC_CONNECT, connect, sizeof(connect) - 1, &rcmd, &data,
			&len) < 0) {
		set(o, PROBE_NOT_MILTER, mclient_error(mc));
		goto out;
	}
	if (len != SCANNER_CONNECT_REPLY - 5 || rcmd == 0 ||
	    strchr(SCANNER_LETTERS, rcmd) == NULL) {
		snprintf(msg, sizeof(msg), "SMFIC_CONNECT reply: %zu bytes, command "
			 "0x%02x; a milter sends 5 bytes, one of a, c, p, r, t",
			 4 + 1 + len, rcmd);
		set(o, PROBE_NOT_MILTER, msg);
		goto out;
	}
	snprintf(msg, sizeof(msg), "answered SMFIC_OPTNEG at version 2 (milter "
		 "version %u) and SMFIC_CONNECT with '%c'", o->version, rcmd);
	set(o, PROBE_MILTER, msg);
out:
	mclient_close(&mc);
}

void
probe_v6(const char *spec, int timeout_ms, struct probe_outcome *o)
{
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	char msg[PROBE_DETAIL_MAX];
	struct mclient *mc;

	if ((mc = open_or_classify(spec, timeout_ms, o)) == NULL)
		return;
	if (mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
			   MCLIENT_POSTFIX_PROTOCOL, &on) < 0) {
		set(o, PROBE_NOT_MILTER, mclient_error(mc));
		goto out;
	}
	o->version = on.version;
	if (mclient_connect(mc, SCANNER_HOST, SMFIA_UNKNOWN, 0, NULL, &r) < 0) {
		set(o, PROBE_NOT_MILTER, mclient_error(mc));
		goto out;
	}
	snprintf(msg, sizeof(msg), "answered SMFIC_OPTNEG at version 6 (milter "
		 "version %u) and SMFIC_CONNECT with %s", on.version,
		 mclient_reply_name(r.cmd));
	set(o, PROBE_MILTER, msg);
	(void)mclient_quit(mc);
out:
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
