/*
 * NAME
 *	mclient 3h
 * SUMMARY
 *	MTA side of the Sendmail 8 milter protocol
 * SYNOPSIS
 *	#include "client/mclient.h"
 * DESCRIPTION
 *	mclient talks to a milter the way Postfix and Sendmail do: it opens
 *	the socket, negotiates options with SMFIC_OPTNEG, sends one SMTP
 *	event per call and returns the milter's reply. It speaks the wire
 *	protocol itself (a 4-byte big-endian length, one command byte, the
 *	data) and does not link libmilter; the command, reply and flag
 *	letters come from <libmilter/mfdef.h>. It serves the protocol tests
 *	that drive the milter-guard daemon, the exposure probe and the
 *	benchmark.
 *
 *	mclient_open() connects to a socket given as "unix:/path",
 *	"local:/path", "/path", "inet:PORT@HOST" or "inet6:PORT@HOST". HOST
 *	is an address literal or a name (resolved with getaddrinfo(), which
 *	has no timeout of its own); "[::1]" is accepted. Without "@HOST" the
 *	loopback address is used. When mclient_open() fails, errno tells
 *	why (ECONNREFUSED, EACCES, ETIMEDOUT, ...), so a probe can tell a
 *	closed port from a refusal.
 *
 *	mclient_optneg() offers a version, actions (SMFIF_*) and protocol
 *	flags (SMFIP_*) and keeps the milter's answer. Postfix 3.7 offers
 *	version 6 with MCLIENT_POSTFIX_ACTIONS and MCLIENT_POSTFIX_PROTOCOL.
 *	Symbol lists in a longer reply (smfi_setsymlist()) are parsed and
 *	kept for mclient_symlist().
 *
 *	The step functions honour the negotiated flags as an MTA does:
 *	.IP \(bu
 *	SMFIP_NOCONNECT, NOHELO, NOMAIL, NORCPT, NOHDRS, NOEOH, NOBODY,
 *	NOUNKNOWN, NODATA: the step is not sent; the reply is 'n'. As in
 *	Postfix, SMFIC_UNKNOWN is not sent when the offered version is
 *	below 3 and SMFIC_DATA not below 4 (the event does not exist there).
 *	.IP \(bu
 *	SMFIP_NR_CONN, NR_HELO, NR_MAIL, NR_RCPT, NR_DATA, NR_UNKN, NR_HDR,
 *	NR_EOH, NR_BODY: the step is sent and no reply is read; the reply
 *	command is 0.
 *	.IP \(bu
 *	A SKIP reply ('s') stops further events of the same command until
 *	another command is sent (Postfix semantics); those calls report 's'
 *	and send nothing. For the body this means: stop sending chunks.
 *
 *	Strings travel NUL-terminated on the wire, so header names and
 *	values, addresses, ESMTP parameters, HELO names and macro values are
 *	C strings: they may hold any byte except NUL. Body data is raw and
 *	may hold NUL. The MTA sends body lines ending in CRLF and strips one
 *	leading space from header values unless SMFIP_HDR_LEADSPC was
 *	negotiated; mclient sends what it is given.
 *
 *	Replies are validated as strictly as Postfix does (milter8.c): a
 *	decision letter must carry no data, SMFIR_REPLYCODE text must look
 *	like "4xx 4..." or "5xx 5..." and be NUL-terminated, modification
 *	requests are accepted only after end of message (quarantine and
 *	progress at any time), anything else is an error. Every read and
 *	write is bounded by the timeout (per packet, not per byte); every
 *	reply length is capped by struct mclient_limits. After an I/O or
 *	protocol error the connection is out of sync: every later call fails
 *	and mclient_error() keeps the first error.
 * OWNERSHIP
 *	A struct mclient_reply belongs to the caller. Zero it before first
 *	use ("struct mclient_reply r = { 0 };"); each step clears it before
 *	filling it, so it can be reused, and mclient_reply_clear() frees it
 *	at the end. On error it is left cleared. Strings returned by
 *	mclient_error() and mclient_symlist() belong to the client and live
 *	until the next call on it.
 * THREADS
 *	One struct mclient must be used by one thread at a time. The error
 *	string of a failed mclient_open() is thread-local and lives until
 *	the next mclient_open() in that thread.
 * DIAGNOSTICS
 *	Functions return 0 on success and -1 on error; the message reads
 *	"subject: problem: detail", e.g. "SMFIC_MAIL reply: packet length
 *	16777215 exceeds limit 1048576".
 */

#ifndef MCLIENT_H
#define MCLIENT_H

#include <stddef.h>
#include <stdint.h>

/* What Postfix 3.7 offers at protocol version 6 (milter8.c). */
#define MCLIENT_POSTFIX_VERSION		6
#define MCLIENT_POSTFIX_ACTIONS		0x000001ffU	/* all SMFIF_* */
#define MCLIENT_POSTFIX_PROTOCOL	0x001fffffU	/* all SMFIP_* up to HDR_LEADSPC */

/* Defaults for struct mclient_limits. */
#define MCLIENT_DEFAULT_MAX_REPLY_LEN	(1024U * 1024U)
#define MCLIENT_DEFAULT_MAX_MODS	1024U
#define MCLIENT_DEFAULT_MAX_MODS_BYTES	(16U * 1024U * 1024U)
#define MCLIENT_DEFAULT_MAX_PROGRESS	10000U
#define MCLIENT_DEFAULT_BODY_CHUNK	65535U		/* MILTER_CHUNK_SIZE */
#define MCLIENT_DEFAULT_MAX_SEND_LEN	(16U * 1024U * 1024U)

/* Number of symbol-list stages (SMFIM_CONNECT 0 .. SMFIM_EOH 6). */
#define MCLIENT_SYMLIST_STAGES		7

struct mclient;

struct mclient_limits {
	/* Largest reply packet accepted, as the value of its length word
	 * (command byte plus data). Larger ones are refused unread. */
	size_t max_reply_len;
	/* Most modification requests collected for one end of message. */
	size_t max_mods;
	/* Most bytes of modification data kept for one end of message. */
	size_t max_mods_bytes;
	/* Most SMFIR_PROGRESS packets tolerated while waiting for one reply
	 * (each one restarts the timeout, as in an MTA). */
	unsigned int max_progress;
	/* Largest SMFIC_BODY chunk sent; mclient_body() splits at this. */
	size_t body_chunk;
	/* Largest packet mclient sends (command byte plus data). */
	size_t max_send_len;
};

/* What the milter answered to SMFIC_OPTNEG. */
struct mclient_optneg {
	uint32_t version;	/* milter's protocol version */
	uint32_t actions;	/* SMFIF_* the milter will use */
	uint32_t protocol;	/* SMFIP_* the milter asked for */
	size_t reply_len;	/* bytes of the reply packet incl. length word */
};

/* One modification request received before the final reply. */
struct mclient_mod {
	char cmd;		/* 'h' add header, 'i' insert header, 'm'
				 * change header, '+' add rcpt, '-' delete
				 * rcpt, '2' add rcpt with args, 'e' change
				 * sender, 'b' replace body, 'q' quarantine */
	uint32_t index;		/* 'i' and 'm': header index as sent */
	char *a;		/* header name, recipient, sender, reason, or
				 * body bytes ('b'); always NUL-terminated */
	size_t a_len;		/* bytes in a (for 'b' it may contain NUL) */
	char *b;		/* header value, or ESMTP args of '2'/'e';
				 * NULL when absent */
};

struct mclient_reply {
	char cmd;		/* 'c' continue, 'a' accept, 'r' reject,
				 * 't' tempfail, 'd' discard, 'y' reply code,
				 * 's' skip, '4' shutdown, 'f' connection
				 * failure; 0 = sent, no reply expected
				 * (SMFIP_NR_*); 'n' = not sent (SMFIP_NO*,
				 * event outside the offered version, or an
				 * empty body) */
	char *text;		/* 'y': the reply text as sent, without its
				 * NUL, e.g. "550 5.7.1 rejected sender";
				 * NULL otherwise */
	size_t nmods;		/* modification requests, in arrival order */
	struct mclient_mod *mods;
};

/* Connect to the milter at spec; timeout_ms (> 0) bounds the connect and
 * every later packet read or write. */
int mclient_open(const char *spec, int timeout_ms, struct mclient **mc_r,
		 const char **error_r);
/* Wrap a connected stream socket; the client owns fd from now on, also
 * on error (it is closed). */
int mclient_open_fd(int fd, int timeout_ms, struct mclient **mc_r,
		    const char **error_r);
void mclient_close(struct mclient **mc);

void mclient_limits_default(struct mclient_limits *limits_r);
int mclient_set_limits(struct mclient *mc, const struct mclient_limits *limits);
int mclient_set_timeout(struct mclient *mc, int timeout_ms);

/* Send SMFIC_OPTNEG and read the answer; on_r may be NULL. */
int mclient_optneg(struct mclient *mc, uint32_t version, uint32_t actions,
		   uint32_t protocol, struct mclient_optneg *on_r);
/* Macro names the milter asked for at stage (SMFIM_*), or NULL. */
const char *mclient_symlist(const struct mclient *mc, unsigned int stage);

/* SMFIC_MACRO for the command stage_cmd ('C', 'H', 'M', 'R', 'T', 'N',
 * 'E', ...); pairs is NULL-terminated: name, value, name, value, ... */
int mclient_macros(struct mclient *mc, char stage_cmd,
		   const char *const *pairs);

/* family: '4', '6', 'L' (unix; port unused) or 'U' (unknown; port and
 * addr unused, addr may be NULL). */
int mclient_connect(struct mclient *mc, const char *hostname, char family,
		    uint16_t port, const char *addr, struct mclient_reply *r);
int mclient_helo(struct mclient *mc, const char *helo,
		 struct mclient_reply *r);
/* argv[0] is the address as the client typed it ("<a@b>"), argv[1..] the
 * ESMTP parameters; NULL-terminated, at least argv[0]. */
int mclient_mail(struct mclient *mc, const char *const *argv,
		 struct mclient_reply *r);
int mclient_rcpt(struct mclient *mc, const char *const *argv,
		 struct mclient_reply *r);
int mclient_data(struct mclient *mc, struct mclient_reply *r);
int mclient_unknown(struct mclient *mc, const char *line,
		    struct mclient_reply *r);
int mclient_header(struct mclient *mc, const char *name, const char *value,
		   struct mclient_reply *r);
int mclient_eoh(struct mclient *mc, struct mclient_reply *r);
/* Sent in chunks of at most limits.body_chunk bytes; stops at the first
 * reply other than continue and returns it. len 0 sends nothing ('n'). */
int mclient_body(struct mclient *mc, const void *buf, size_t len,
		 struct mclient_reply *r);
/* SMFIC_BODYEOB: collects modification requests until the final reply;
 * SMFIR_PROGRESS is skipped. */
int mclient_eom(struct mclient *mc, struct mclient_reply *r);
/* SMFIC_ABORT, SMFIC_QUIT, SMFIC_QUIT_NC: no reply. After QUIT every
 * call fails; after QUIT_NC a new SMFIC_CONNECT may follow. */
int mclient_abort(struct mclient *mc);
int mclient_quit(struct mclient *mc);
int mclient_quit_nc(struct mclient *mc);

/* Send any command with any data, ignoring the negotiated flags (for
 * robustness tests); read a reply like the steps do if want_reply. */
int mclient_command(struct mclient *mc, char cmd, const void *data,
		    size_t len, int want_reply, struct mclient_reply *r);

/* Send one packet (cmd, data) as given and read one reply packet without
 * judging it: *rcmd_r is its command byte, *data_r and *len_r its data
 * (NUL-terminated; owned by the client until the next call). For probes
 * that must speak exactly as a given peer does (the scanner's exchange). */
int mclient_raw(struct mclient *mc, char cmd, const void *data, size_t len,
		unsigned char *rcmd_r, const unsigned char **data_r,
		size_t *len_r);

const char *mclient_error(const struct mclient *mc);
void mclient_reply_clear(struct mclient_reply *r);
/* "continue", "reject", "addheader", ... ; "unknown" for others. */
const char *mclient_reply_name(char cmd);

#endif
