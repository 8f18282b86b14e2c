/*
 * NAME
 *	mclient 3
 * SUMMARY
 *	MTA side of the Sendmail 8 milter protocol
 * SYNOPSIS
 *	#include "client/mclient.h"
 * DESCRIPTION
 *	See mclient.h for the interface. Implementation notes:
 *
 *	The socket is non-blocking; every packet is written with send()
 *	and read with recv(), waiting in poll() against one deadline per
 *	packet, so a peer that trickles bytes cannot stretch a read past
 *	the timeout. SIGPIPE is suppressed with MSG_NOSIGNAL (or
 *	SO_NOSIGPIPE where that is what the system has).
 *
 *	Outgoing packets are built in one buffer (length word, command,
 *	data) and written with one call. Incoming packets are read into a
 *	buffer that grows up to limits.max_reply_len and is followed by a
 *	NUL, so string parsing can never run off the end; the parsers still
 *	check every terminator explicitly.
 *
 *	The reply rules follow Postfix milter8.c: decision letters carry no
 *	data, SMFIR_REPLYCODE text is checked for "[45]dd[ -][45]", edits
 *	come only after SMFIC_BODYEOB, SMFIR_QUARANTINE and SMFIR_PROGRESS
 *	may come at any time, and SMFIR_SKIP skips further events of the
 *	same type until another event is sent.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libmilter/mfdef.h>

#include "mclient.h"

#if defined(__GNUC__) || defined(__clang__)
#define MCLIENT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MCLIENT_PRINTF(f, a)
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* SO_NOSIGPIPE is set on the socket instead */
#endif

#define PACKET_HDR	5	/* length word + command byte */
#define OPTNEG_LEN	12	/* version, actions, protocol */
#define ERROR_SIZE	512

struct mclient {
	int fd;
	int timeout_ms;			/* per packet read or write */
	struct mclient_limits limits;
	int negotiated;			/* OPTNEG done */
	uint32_t offered_version;	/* version we offered in OPTNEG */
	uint32_t protocol;		/* SMFIP_* the milter asked for */
	char skip_cmd;			/* event answered with SKIP, or 0 */
	int broken;			/* out of sync after an error */
	char *symlist[MCLIENT_SYMLIST_STAGES];
	unsigned char *out;		/* packet being built */
	size_t out_len, out_size;
	int out_errno;			/* building failed: E2BIG or ENOMEM */
	unsigned char *in;		/* last packet read: cmd, data, NUL */
	size_t in_size;
	char error[ERROR_SIZE];
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
static _Thread_local char open_error[ERROR_SIZE];
#else
static __thread char open_error[ERROR_SIZE];
#endif

/* ---- names and formatting ---------------------------------------- */

static const struct {
	char cmd;
	const char *name;
} reply_names[] = {
	{ SMFIR_CONTINUE, "continue" }, { SMFIR_ACCEPT, "accept" },
	{ SMFIR_REJECT, "reject" }, { SMFIR_TEMPFAIL, "tempfail" },
	{ SMFIR_DISCARD, "discard" }, { SMFIR_REPLYCODE, "replycode" },
	{ SMFIR_SKIP, "skip" }, { SMFIR_SHUTDOWN, "shutdown" },
	{ SMFIR_CONN_FAIL, "connfail" }, { SMFIR_PROGRESS, "progress" },
	{ SMFIR_ADDHEADER, "addheader" }, { SMFIR_INSHEADER, "insheader" },
	{ SMFIR_CHGHEADER, "chgheader" }, { SMFIR_ADDRCPT, "addrcpt" },
	{ SMFIR_DELRCPT, "delrcpt" }, { SMFIR_ADDRCPT_PAR, "addrcpt_par" },
	{ SMFIR_CHGFROM, "chgfrom" }, { SMFIR_REPLBODY, "replbody" },
	{ SMFIR_QUARANTINE, "quarantine" }, { SMFIR_SETSYMLIST, "setsymlist" },
	{ SMFIC_OPTNEG, "optneg" }, { 'n', "not sent" }, { 0, "no reply" },
};

const char *mclient_reply_name(char cmd)
{
	size_t i;

	for (i = 0; i < sizeof reply_names / sizeof reply_names[0]; i++)
		if (reply_names[i].cmd == cmd)
			return reply_names[i].name;
	return "unknown";
}

static const char *cmd_name(char cmd)
{
	switch (cmd) {
	case SMFIC_ABORT: return "SMFIC_ABORT";
	case SMFIC_BODY: return "SMFIC_BODY";
	case SMFIC_CONNECT: return "SMFIC_CONNECT";
	case SMFIC_MACRO: return "SMFIC_MACRO";
	case SMFIC_BODYEOB: return "SMFIC_BODYEOB";
	case SMFIC_HELO: return "SMFIC_HELO";
	case SMFIC_QUIT_NC: return "SMFIC_QUIT_NC";
	case SMFIC_HEADER: return "SMFIC_HEADER";
	case SMFIC_MAIL: return "SMFIC_MAIL";
	case SMFIC_EOH: return "SMFIC_EOH";
	case SMFIC_OPTNEG: return "SMFIC_OPTNEG";
	case SMFIC_QUIT: return "SMFIC_QUIT";
	case SMFIC_RCPT: return "SMFIC_RCPT";
	case SMFIC_DATA: return "SMFIC_DATA";
	case SMFIC_UNKNOWN: return "SMFIC_UNKNOWN";
	default: return "SMFIC_(other)";
	}
}

/* A reply letter for a message: 'c' when printable, else 0x01. */
static const char *show_letter(unsigned char c, char buf[8])
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned int) c);
	return buf;
}

/* Peer bytes for a message: printable ASCII kept, the rest \xNN; cut
 * with "..." to fit. */
static const char *escape(const void *p, size_t len, char *out, size_t size)
{
	const unsigned char *s = p;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (o + 8 >= size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			out[o++] = (char) s[i];
		else
			o += (size_t) snprintf(out + o, size - o, "\\x%02x",
					       (unsigned int) s[i]);
	}
	out[o] = '\0';
	return out;
}

/* ---- errors ------------------------------------------------------------ */

/* Record an error. fatal: the stream is out of sync, refuse further use.
 * The first fatal error is kept. Always returns -1. */
static int set_error(struct mclient *mc, int fatal, const char *fmt, ...)
	MCLIENT_PRINTF(3, 4);

static int set_error(struct mclient *mc, int fatal, const char *fmt, ...)
{
	va_list ap;

	if (mc->broken)
		return -1;
	va_start(ap, fmt);
	vsnprintf(mc->error, sizeof mc->error, fmt, ap);
	va_end(ap);
	if (fatal)
		mc->broken = 1;
	return -1;
}

static int open_fail(const char **error_r, const char *fmt, ...)
	MCLIENT_PRINTF(2, 3);

static int open_fail(const char **error_r, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof open_error, fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = open_error;
	errno = saved;
	return -1;
}

const char *mclient_error(const struct mclient *mc)
{
	return mc->error;
}

/* ---- time and raw I/O ----------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int write_all(struct mclient *mc, char cmd, const unsigned char *p,
		     size_t len)
{
	long long deadline = now_ms() + mc->timeout_ms;
	ssize_t n;
	int rc;

	while (len > 0) {
		n = send(mc->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = wait_fd(mc->fd, POLLOUT, deadline);
			if (rc == 0)
				return set_error(mc, 1, "%s: write timed out "
						 "after %d ms", cmd_name(cmd),
						 mc->timeout_ms);
			if (rc < 0)
				return set_error(mc, 1, "%s: poll: %s",
						 cmd_name(cmd), strerror(errno));
			continue;
		}
		return set_error(mc, 1, "%s: write: %s", cmd_name(cmd),
				 n == 0 ? "no progress" : strerror(errno));
	}
	return 0;
}

/* Read exactly len bytes of a reply to cmd. done and total describe the
 * whole packet for the truncation message. */
static int read_exact(struct mclient *mc, char cmd, unsigned char *p,
		      size_t len, size_t done, size_t total,
		      long long deadline)
{
	size_t got = 0;
	ssize_t n;
	int rc;

	while (got < len) {
		n = recv(mc->fd, p + got, len - got, 0);
		if (n > 0) {
			got += (size_t) n;
			continue;
		}
		if (n == 0 && done + got == 0)
			return set_error(mc, 1, "%s reply: milter closed the "
					 "connection", cmd_name(cmd));
		if (n == 0)
			return set_error(mc, 1, "%s reply: milter closed the "
					 "connection after %zu of %zu bytes",
					 cmd_name(cmd), done + got, total);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return set_error(mc, 1, "%s reply: read: %s",
					 cmd_name(cmd), strerror(errno));
		rc = wait_fd(mc->fd, POLLIN, deadline);
		if (rc == 0)
			return set_error(mc, 1, "%s reply: timed out after %d "
					 "ms", cmd_name(cmd), mc->timeout_ms);
		if (rc < 0)
			return set_error(mc, 1, "%s reply: poll: %s",
					 cmd_name(cmd), strerror(errno));
	}
	return 0;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
	       (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

/* Read one packet replying to cmd. On success mc->in holds the command
 * byte, *len_r data bytes and a NUL. */
static int read_packet(struct mclient *mc, char cmd, unsigned char *rcmd_r,
		       size_t *len_r)
{
	long long deadline = now_ms() + mc->timeout_ms;
	unsigned char hdr[4];
	unsigned char *nin;
	uint32_t n;

	if (read_exact(mc, cmd, hdr, 4, 0, 4, deadline) < 0)
		return -1;
	n = get32(hdr);
	if (n == 0)
		return set_error(mc, 1, "%s reply: bad packet length 0",
				 cmd_name(cmd));
	if (n > mc->limits.max_reply_len)
		return set_error(mc, 1, "%s reply: packet length %lu exceeds "
				 "limit %zu", cmd_name(cmd), (unsigned long) n,
				 mc->limits.max_reply_len);
	if (mc->in_size < (size_t) n + 1) {
		nin = realloc(mc->in, (size_t) n + 1);
		if (nin == NULL)
			return set_error(mc, 1, "%s reply: out of memory for "
					 "%lu bytes", cmd_name(cmd),
					 (unsigned long) n);
		mc->in = nin;
		mc->in_size = (size_t) n + 1;
	}
	if (read_exact(mc, cmd, mc->in, n, 4, 4 + (size_t) n, deadline) < 0)
		return -1;
	mc->in[n] = '\0';
	*rcmd_r = mc->in[0];
	*len_r = (size_t) n - 1;
	return 0;
}

/* ---- building packets ------------------------------------------------ */

static void out_start(struct mclient *mc)
{
	mc->out_len = PACKET_HDR;
	mc->out_errno = 0;
}

static void out_add(struct mclient *mc, const void *p, size_t n)
{
	unsigned char *nout;
	size_t size;

	if (mc->out_errno != 0)
		return;
	/* out_len - 4 is the packet length so far (command byte + data) */
	if (n > mc->limits.max_send_len - (mc->out_len - 4)) {
		mc->out_errno = E2BIG;
		return;
	}
	if (mc->out_len + n > mc->out_size) {
		size = mc->out_size < 256 ? 256 : mc->out_size;
		while (size < mc->out_len + n)
			size = size > (size_t) -1 / 2 ? mc->out_len + n
						      : size * 2;
		nout = realloc(mc->out, size);
		if (nout == NULL) {
			mc->out_errno = ENOMEM;
			return;
		}
		mc->out = nout;
		mc->out_size = size;
	}
	if (n > 0)
		memcpy(mc->out + mc->out_len, p, n);
	mc->out_len += n;
}

static void out_str(struct mclient *mc, const char *s)
{
	out_add(mc, s, strlen(s) + 1);
}

static void out_u32(struct mclient *mc, uint32_t v)
{
	unsigned char b[4] = { (unsigned char) (v >> 24),
			       (unsigned char) (v >> 16),
			       (unsigned char) (v >> 8), (unsigned char) v };

	out_add(mc, b, 4);
}

/* Finish the packet built since out_start() and write it. */
static int out_send(struct mclient *mc, char cmd)
{
	uint32_t n;

	out_add(mc, "", 0);	/* make sure the header space exists */
	if (mc->out_errno == E2BIG)
		return set_error(mc, 0, "%s: packet larger than max_send_len "
				 "%zu", cmd_name(cmd), mc->limits.max_send_len);
	if (mc->out_errno != 0)
		return set_error(mc, 0, "%s: out of memory", cmd_name(cmd));
	n = (uint32_t) (mc->out_len - 4);
	mc->out[0] = (unsigned char) (n >> 24);
	mc->out[1] = (unsigned char) (n >> 16);
	mc->out[2] = (unsigned char) (n >> 8);
	mc->out[3] = (unsigned char) n;
	mc->out[4] = (unsigned char) cmd;
	return write_all(mc, cmd, mc->out, mc->out_len);
}

/* ---- parsing replies -------------------------------------------------- */

/* Take one NUL-terminated string from *p; 0, or -1 when unterminated. */
static int take_str(const unsigned char **p, size_t *left, const char **s_r,
		    size_t *len_r)
{
	const unsigned char *nul = memchr(*p, '\0', *left);

	if (nul == NULL)
		return -1;
	*s_r = (const char *) *p;
	*len_r = (size_t) (nul - *p);
	*left -= *len_r + 1;
	*p = nul + 1;
	return 0;
}

static char *memdup_z(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		if (len > 0)
			memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static void mod_free(struct mclient_mod *m)
{
	free(m->a);
	free(m->b);
	m->a = m->b = NULL;
}

void mclient_reply_clear(struct mclient_reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nmods; i++)
		mod_free(&r->mods[i]);
	free(r->mods);
	free(r->text);
	memset(r, 0, sizeof *r);
}

/* Parse one modification request (rc) replying to cmd into r. */
static int add_mod(struct mclient *mc, char cmd, unsigned char rc,
		   const unsigned char *p, size_t left,
		   struct mclient_reply *r, size_t *bytes)
{
	struct mclient_mod m;
	struct mclient_mod *nmods;
	const char *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0, len = left, cap;
	char lb[8];
	int bad = 0;

	memset(&m, 0, sizeof m);
	m.cmd = (char) rc;
	if (r->nmods >= mc->limits.max_mods)
		return set_error(mc, 1, "%s reply: more than %zu modification "
				 "requests", cmd_name(cmd), mc->limits.max_mods);
	if (len > mc->limits.max_mods_bytes - *bytes)
		return set_error(mc, 1, "%s reply: modification data exceeds "
				 "%zu bytes", cmd_name(cmd),
				 mc->limits.max_mods_bytes);
	switch (rc) {
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		if (left < 4)
			return set_error(mc, 1, "%s reply: %s (%s) too short "
					 "for a header index", cmd_name(cmd),
					 show_letter(rc, lb),
					 mclient_reply_name((char) rc));
		m.index = get32(p);
		p += 4;
		left -= 4;
		/* FALLTHROUGH */
	case SMFIR_ADDHEADER:
		bad = take_str(&p, &left, &a, &a_len) < 0 ||
		      take_str(&p, &left, &b, &b_len) < 0;
		break;
	case SMFIR_ADDRCPT:
	case SMFIR_DELRCPT:
	case SMFIR_QUARANTINE:
		bad = take_str(&p, &left, &a, &a_len) < 0;
		break;
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_CHGFROM:
		bad = take_str(&p, &left, &a, &a_len) < 0 ||
		      (left > 0 && take_str(&p, &left, &b, &b_len) < 0);
		break;
	case SMFIR_REPLBODY:
		a = (const char *) p;
		a_len = left;
		left = 0;
		break;
	default:
		return set_error(mc, 1, "%s reply: no parser for %s",
				 cmd_name(cmd), show_letter(rc, lb));
	}
	if (bad)
		return set_error(mc, 1, "%s reply: %s (%s): string not "
				 "NUL-terminated", cmd_name(cmd),
				 show_letter(rc, lb),
				 mclient_reply_name((char) rc));
	if (left != 0)
		return set_error(mc, 1, "%s reply: %s (%s) has %zu bytes of "
				 "trailing data", cmd_name(cmd),
				 show_letter(rc, lb),
				 mclient_reply_name((char) rc), left);
	m.a = memdup_z(a, a_len);
	m.a_len = a_len;
	m.b = b != NULL ? memdup_z(b, b_len) : NULL;
	if (m.a == NULL || (b != NULL && m.b == NULL)) {
		mod_free(&m);
		return set_error(mc, 1, "%s reply: out of memory",
				 cmd_name(cmd));
	}
	if ((r->nmods & (r->nmods - 1)) == 0) {	/* full at 0, 1, 2, 4, ... */
		cap = r->nmods == 0 ? 1 : r->nmods * 2;
		nmods = realloc(r->mods, cap * sizeof *nmods);
		if (nmods == NULL) {
			mod_free(&m);
			return set_error(mc, 1, "%s reply: out of memory",
					 cmd_name(cmd));
		}
		r->mods = nmods;
	}
	r->mods[r->nmods++] = m;
	*bytes += len;
	return 0;
}

/* SMFIR_REPLYCODE: NUL-terminated, "[45]dd[ -][45]..." as Postfix
 * checks it (the enhanced code's class must match the reply's). */
static int parse_replycode(struct mclient *mc, char cmd,
			   const unsigned char *p, size_t len,
			   struct mclient_reply *r)
{
	char esc[80];
	const char *t = (const char *) p;

	if (len == 0 || p[len - 1] != '\0')
		return set_error(mc, 1, "%s reply: reply text is not "
				 "NUL-terminated", cmd_name(cmd));
	if (memchr(p, '\0', len) != p + len - 1)
		return set_error(mc, 1, "%s reply: reply text contains NUL",
				 cmd_name(cmd));
	if (len - 1 < 5 || (t[0] != '4' && t[0] != '5') ||
	    t[1] < '0' || t[1] > '9' || t[2] < '0' || t[2] > '9' ||
	    (t[3] != ' ' && t[3] != '-') || t[4] != t[0])
		return set_error(mc, 1, "%s reply: malformed reply text "
				 "\"%s\"", cmd_name(cmd),
				 escape(p, len - 1, esc, sizeof esc));
	r->text = memdup_z(p, len - 1);
	if (r->text == NULL)
		return set_error(mc, 1, "%s reply: out of memory",
				 cmd_name(cmd));
	r->cmd = SMFIR_REPLYCODE;
	return 0;
}

/* Read replies to cmd until a final one; collect edits into r. */
static int read_reply(struct mclient *mc, char cmd, struct mclient_reply *r)
{
	unsigned int progress = 0;
	size_t len, mod_bytes = 0;
	unsigned char rc;
	char lb[8];

	for (;;) {
		if (read_packet(mc, cmd, &rc, &len) < 0)
			goto fail;
		switch (rc) {
		case SMFIR_PROGRESS:
			if (len != 0)
				break;
			if (++progress > mc->limits.max_progress) {
				set_error(mc, 1, "%s reply: more than %u "
					  "progress packets", cmd_name(cmd),
					  mc->limits.max_progress);
				goto fail;
			}
			continue;
		case SMFIR_CONTINUE: case SMFIR_ACCEPT: case SMFIR_REJECT:
		case SMFIR_TEMPFAIL: case SMFIR_DISCARD: case SMFIR_SKIP:
		case SMFIR_SHUTDOWN: case SMFIR_CONN_FAIL:
			if (len != 0)
				break;
			r->cmd = (char) rc;
			if (rc == SMFIR_SKIP)
				mc->skip_cmd = cmd;
			return 0;
		case SMFIR_REPLYCODE:
			if (parse_replycode(mc, cmd, mc->in + 1, len, r) < 0)
				goto fail;
			return 0;
		case SMFIR_QUARANTINE:
			if (add_mod(mc, cmd, rc, mc->in + 1, len, r,
				    &mod_bytes) < 0)
				goto fail;
			continue;
		case SMFIR_ADDHEADER: case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER: case SMFIR_ADDRCPT: case SMFIR_DELRCPT:
		case SMFIR_ADDRCPT_PAR: case SMFIR_CHGFROM:
		case SMFIR_REPLBODY:
			if (cmd != SMFIC_BODYEOB) {
				set_error(mc, 1, "%s reply: unexpected reply "
					  "%s (%s) before end of message",
					  cmd_name(cmd), show_letter(rc, lb),
					  mclient_reply_name((char) rc));
				goto fail;
			}
			if (add_mod(mc, cmd, rc, mc->in + 1, len, r,
				    &mod_bytes) < 0)
				goto fail;
			continue;
		default:
			if (rc == SMFIC_OPTNEG || rc == SMFIR_SETSYMLIST)
				set_error(mc, 1, "%s reply: unexpected reply "
					  "%s (%s)", cmd_name(cmd),
					  show_letter(rc, lb),
					  mclient_reply_name((char) rc));
			else
				set_error(mc, 1, "%s reply: unknown reply "
					  "command %s", cmd_name(cmd),
					  show_letter(rc, lb));
			goto fail;
		}
		/* only the "if (len != 0) break;" cases get here */
		set_error(mc, 1, "%s reply: %s (%s) carries %zu data bytes",
			  cmd_name(cmd), show_letter(rc, lb),
			  mclient_reply_name((char) rc), len);
		goto fail;
	}
fail:
	mclient_reply_clear(r);
	return -1;
}

/* ---- steps ------------------------------------------------------------ */

/* Common start of every call: clear r, refuse a broken connection. */
static int start(struct mclient *mc, struct mclient_reply *r)
{
	mclient_reply_clear(r);
	if (mc->broken)
		return -1;
	if (r == NULL)
		return set_error(mc, 0, "reply pointer is NULL");
	return 0;
}

/* Decide whether an event is sent: 1 send (packet started), 0 not sent
 * (r->cmd says why). Order as in Postfix milter8_event(). */
static int want_step(struct mclient *mc, char cmd, uint32_t no_bit,
		     uint32_t min_version, struct mclient_reply *r)
{
	if (mc->negotiated && mc->offered_version < min_version) {
		r->cmd = 'n';
		return 0;
	}
	if (mc->skip_cmd != 0) {
		if (mc->skip_cmd == cmd) {
			r->cmd = SMFIR_SKIP;
			return 0;
		}
		mc->skip_cmd = 0;
	}
	if ((mc->protocol & no_bit) != 0) {
		r->cmd = 'n';
		return 0;
	}
	out_start(mc);
	return 1;
}

/* Send the packet built since want_step(); read the reply unless the
 * milter negotiated "no reply" (nr_bit) for this event. */
static int exchange(struct mclient *mc, char cmd, uint32_t nr_bit,
		    struct mclient_reply *r)
{
	if (out_send(mc, cmd) < 0)
		return -1;
	if (nr_bit != 0 && (mc->protocol & nr_bit) != 0) {
		r->cmd = 0;
		return 0;
	}
	return read_reply(mc, cmd, r);
}

static void free_symlists(struct mclient *mc)
{
	int i;

	for (i = 0; i < MCLIENT_SYMLIST_STAGES; i++) {
		free(mc->symlist[i]);
		mc->symlist[i] = NULL;
	}
}

int mclient_optneg(struct mclient *mc, uint32_t version, uint32_t actions,
		   uint32_t protocol, struct mclient_optneg *on_r)
{
	const unsigned char *p;
	uint32_t v, a, pr, type;
	size_t len, left, slen;
	unsigned char rc;
	const char *s;
	char lb[8];

	if (on_r != NULL)
		memset(on_r, 0, sizeof *on_r);
	if (mc->broken)
		return -1;
	out_start(mc);
	out_u32(mc, version);
	out_u32(mc, actions);
	out_u32(mc, protocol);
	if (out_send(mc, SMFIC_OPTNEG) < 0 ||
	    read_packet(mc, SMFIC_OPTNEG, &rc, &len) < 0)
		return -1;
	if (rc != SMFIC_OPTNEG)
		return set_error(mc, 1, "SMFIC_OPTNEG reply: unexpected reply "
				 "%s (%s)", show_letter(rc, lb),
				 mclient_reply_name((char) rc));
	if (len < OPTNEG_LEN)
		return set_error(mc, 1, "SMFIC_OPTNEG reply: packet too short "
				 "(%zu data bytes, need %d)", len, OPTNEG_LEN);
	p = mc->in + 1;
	v = get32(p);
	a = get32(p + 4);
	pr = get32(p + 8);
	if (v > version)
		return set_error(mc, 1, "SMFIC_OPTNEG reply: milter version "
				 "%lu is higher than offered %lu",
				 (unsigned long) v, (unsigned long) version);
	if ((a & ~actions) != 0)
		return set_error(mc, 1, "SMFIC_OPTNEG reply: milter requests "
				 "actions 0x%lx that were not offered (0x%lx)",
				 (unsigned long) (a & ~actions),
				 (unsigned long) actions);
	/* Symbol lists: { uint32 stage, "name name ...\0" }... */
	free_symlists(mc);
	p += OPTNEG_LEN;
	left = len - OPTNEG_LEN;
	while (left > 0) {
		if (left < 4)
			return set_error(mc, 1, "SMFIC_OPTNEG reply: symbol "
					 "list: %zu stray bytes", left);
		type = get32(p);
		p += 4;
		left -= 4;
		if (take_str(&p, &left, &s, &slen) < 0)
			return set_error(mc, 1, "SMFIC_OPTNEG reply: symbol "
					 "list %lu is not NUL-terminated",
					 (unsigned long) type);
		if (type >= MCLIENT_SYMLIST_STAGES)
			continue;	/* Postfix ignores unknown stages */
		free(mc->symlist[type]);
		if ((mc->symlist[type] = memdup_z(s, slen)) == NULL)
			return set_error(mc, 1, "SMFIC_OPTNEG reply: out of "
					 "memory");
	}
	mc->negotiated = 1;
	mc->offered_version = version;
	mc->protocol = pr;
	mc->skip_cmd = 0;
	if (on_r != NULL) {
		on_r->version = v;
		on_r->actions = a;
		on_r->protocol = pr;
		on_r->reply_len = 4 + 1 + len;
	}
	return 0;
}

const char *mclient_symlist(const struct mclient *mc, unsigned int stage)
{
	return stage < MCLIENT_SYMLIST_STAGES ? mc->symlist[stage] : NULL;
}

int mclient_macros(struct mclient *mc, char stage_cmd,
		   const char *const *pairs)
{
	size_t n;

	if (mc->broken)
		return -1;
	if (pairs == NULL)
		return set_error(mc, 0, "SMFIC_MACRO: name/value list is NULL");
	for (n = 0; pairs[n] != NULL; n++)
		;
	if (n % 2 != 0)
		return set_error(mc, 0, "SMFIC_MACRO: odd number of strings "
				 "in the name/value list");
	out_start(mc);
	out_add(mc, &stage_cmd, 1);
	for (n = 0; pairs[n] != NULL; n++)
		out_str(mc, pairs[n]);
	return out_send(mc, SMFIC_MACRO);
}

int mclient_connect(struct mclient *mc, const char *hostname, char family,
		    uint16_t port, const char *addr, struct mclient_reply *r)
{
	unsigned char nport[2];

	if (start(mc, r) < 0)
		return -1;
	if (family != SMFIA_INET && family != SMFIA_INET6 &&
	    family != SMFIA_UNIX && family != SMFIA_UNKNOWN)
		return set_error(mc, 0, "SMFIC_CONNECT: unknown address family "
				 "0x%02x", (unsigned int) (unsigned char) family);
	if (hostname == NULL || (addr == NULL && family != SMFIA_UNKNOWN))
		return set_error(mc, 0, "SMFIC_CONNECT: hostname or address "
				 "is NULL");
	if (!want_step(mc, SMFIC_CONNECT, SMFIP_NOCONNECT, 0, r))
		return 0;
	out_str(mc, hostname);
	out_add(mc, &family, 1);
	if (family != SMFIA_UNKNOWN) {
		if (family == SMFIA_UNIX)
			port = 0;
		nport[0] = (unsigned char) (port >> 8);
		nport[1] = (unsigned char) port;
		out_add(mc, nport, 2);
		out_str(mc, addr);
	}
	return exchange(mc, SMFIC_CONNECT, SMFIP_NR_CONN, r);
}

int mclient_helo(struct mclient *mc, const char *helo,
		 struct mclient_reply *r)
{
	if (start(mc, r) < 0)
		return -1;
	if (helo == NULL)
		return set_error(mc, 0, "SMFIC_HELO: name is NULL");
	if (!want_step(mc, SMFIC_HELO, SMFIP_NOHELO, 0, r))
		return 0;
	out_str(mc, helo);
	return exchange(mc, SMFIC_HELO, SMFIP_NR_HELO, r);
}

/* MAIL and RCPT: argv as NUL-terminated strings. */
static int envelope(struct mclient *mc, char cmd, uint32_t no_bit,
		    uint32_t nr_bit, const char *const *argv,
		    struct mclient_reply *r)
{
	size_t i;

	if (start(mc, r) < 0)
		return -1;
	if (argv == NULL || argv[0] == NULL)
		return set_error(mc, 0, "%s: argv needs at least the address",
				 cmd_name(cmd));
	if (!want_step(mc, cmd, no_bit, 0, r))
		return 0;
	for (i = 0; argv[i] != NULL; i++)
		out_str(mc, argv[i]);
	return exchange(mc, cmd, nr_bit, r);
}

int mclient_mail(struct mclient *mc, const char *const *argv,
		 struct mclient_reply *r)
{
	return envelope(mc, SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, argv, r);
}

int mclient_rcpt(struct mclient *mc, const char *const *argv,
		 struct mclient_reply *r)
{
	return envelope(mc, SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, argv, r);
}

int mclient_data(struct mclient *mc, struct mclient_reply *r)
{
	if (start(mc, r) < 0)
		return -1;
	if (!want_step(mc, SMFIC_DATA, SMFIP_NODATA, 4, r))
		return 0;
	return exchange(mc, SMFIC_DATA, SMFIP_NR_DATA, r);
}

int mclient_unknown(struct mclient *mc, const char *line,
		    struct mclient_reply *r)
{
	if (start(mc, r) < 0)
		return -1;
	if (line == NULL)
		return set_error(mc, 0, "SMFIC_UNKNOWN: line is NULL");
	if (!want_step(mc, SMFIC_UNKNOWN, SMFIP_NOUNKNOWN, 3, r))
		return 0;
	out_str(mc, line);
	return exchange(mc, SMFIC_UNKNOWN, SMFIP_NR_UNKN, r);
}

int mclient_header(struct mclient *mc, const char *name, const char *value,
		   struct mclient_reply *r)
{
	if (start(mc, r) < 0)
		return -1;
	if (name == NULL || value == NULL)
		return set_error(mc, 0, "SMFIC_HEADER: name or value is NULL");
	if (!want_step(mc, SMFIC_HEADER, SMFIP_NOHDRS, 0, r))
		return 0;
	out_str(mc, name);
	out_str(mc, value);
	return exchange(mc, SMFIC_HEADER, SMFIP_NR_HDR, r);
}

int mclient_eoh(struct mclient *mc, struct mclient_reply *r)
{
	if (start(mc, r) < 0)
		return -1;
	if (!want_step(mc, SMFIC_EOH, SMFIP_NOEOH, 0, r))
		return 0;
	return exchange(mc, SMFIC_EOH, SMFIP_NR_EOH, r);
}

int mclient_body(struct mclient *mc, const void *buf, size_t len,
		 struct mclient_reply *r)
{
	const unsigned char *p = buf;
	size_t n;

	if (start(mc, r) < 0)
		return -1;
	if (buf == NULL && len > 0)
		return set_error(mc, 0, "SMFIC_BODY: buffer is NULL");
	if (!want_step(mc, SMFIC_BODY, SMFIP_NOBODY, 0, r))
		return 0;
	if (len == 0) {
		r->cmd = 'n';
		return 0;
	}
	while (len > 0) {
		n = len < mc->limits.body_chunk ? len : mc->limits.body_chunk;
		out_start(mc);
		out_add(mc, p, n);
		if (exchange(mc, SMFIC_BODY, SMFIP_NR_BODY, r) < 0)
			return -1;
		p += n;
		len -= n;
		/* Stop at the first decision; SKIP also ends the body. */
		if (r->cmd != 0 && r->cmd != SMFIR_CONTINUE)
			break;
	}
	return 0;
}

int mclient_eom(struct mclient *mc, struct mclient_reply *r)
{
	if (start(mc, r) < 0)
		return -1;
	if (!want_step(mc, SMFIC_BODYEOB, 0, 0, r))
		return 0;
	return exchange(mc, SMFIC_BODYEOB, 0, r);
}

int mclient_abort(struct mclient *mc)
{
	if (mc->broken)
		return -1;
	mc->skip_cmd = 0;
	out_start(mc);
	return out_send(mc, SMFIC_ABORT);
}

int mclient_quit(struct mclient *mc)
{
	if (mc->broken)
		return -1;
	out_start(mc);
	if (out_send(mc, SMFIC_QUIT) < 0)
		return -1;
	/* libmilter closes the session after QUIT: nothing more to say. */
	(void) set_error(mc, 1, "session ended with SMFIC_QUIT");
	return 0;
}

int mclient_quit_nc(struct mclient *mc)
{
	if (mc->broken)
		return -1;
	mc->skip_cmd = 0;
	out_start(mc);
	return out_send(mc, SMFIC_QUIT_NC);
}

int mclient_command(struct mclient *mc, char cmd, const void *data,
		    size_t len, int want_reply, struct mclient_reply *r)
{
	mclient_reply_clear(r);
	if (mc->broken)
		return -1;
	if ((data == NULL && len > 0) || (want_reply && r == NULL))
		return set_error(mc, 0, "%s: data or reply pointer is NULL",
				 cmd_name(cmd));
	out_start(mc);
	out_add(mc, data, len);
	if (out_send(mc, cmd) < 0)
		return -1;
	return want_reply ? read_reply(mc, cmd, r) : 0;
}

int mclient_raw(struct mclient *mc, char cmd, const void *data, size_t len,
		unsigned char *rcmd_r, const unsigned char **data_r,
		size_t *len_r)
{
	if (mc->broken)
		return -1;
	if (data == NULL && len > 0)
		return set_error(mc, 0, "%s: data pointer is NULL",
				 cmd_name(cmd));
	out_start(mc);
	out_add(mc, data, len);
	if (out_send(mc, cmd) < 0 || read_packet(mc, cmd, rcmd_r, len_r) < 0)
		return -1;
	*data_r = mc->in + 1;
	return 0;
}

/* ---- limits and timeout ------------------------------------------------ */

void mclient_limits_default(struct mclient_limits *limits_r)
{
	limits_r->max_reply_len = MCLIENT_DEFAULT_MAX_REPLY_LEN;
	limits_r->max_mods = MCLIENT_DEFAULT_MAX_MODS;
	limits_r->max_mods_bytes = MCLIENT_DEFAULT_MAX_MODS_BYTES;
	limits_r->max_progress = MCLIENT_DEFAULT_MAX_PROGRESS;
	limits_r->body_chunk = MCLIENT_DEFAULT_BODY_CHUNK;
	limits_r->max_send_len = MCLIENT_DEFAULT_MAX_SEND_LEN;
}

int mclient_set_limits(struct mclient *mc, const struct mclient_limits *l)
{
	const size_t u32 = 0xffffffffU;

	if (l->max_reply_len < 1 + OPTNEG_LEN || l->max_reply_len > u32 - 1)
		return set_error(mc, 0, "limits: max_reply_len must be "
				 "between %d and %zu", 1 + OPTNEG_LEN, u32 - 1);
	if (l->max_send_len < 2 || l->max_send_len > u32)
		return set_error(mc, 0, "limits: max_send_len must be between "
				 "2 and %zu", u32);
	if (l->body_chunk < 1 || l->body_chunk > l->max_send_len - 1)
		return set_error(mc, 0, "limits: body_chunk must be between 1 "
				 "and max_send_len - 1");
	if (l->max_mods > (size_t) -1 / (2 * sizeof(struct mclient_mod)))
		return set_error(mc, 0, "limits: max_mods is too large");
	mc->limits = *l;
	return 0;
}

int mclient_set_timeout(struct mclient *mc, int timeout_ms)
{
	if (timeout_ms <= 0)
		return set_error(mc, 0, "timeout must be positive, not %d",
				 timeout_ms);
	mc->timeout_ms = timeout_ms;
	return 0;
}

/* ---- opening and closing ---------------------------------------------- */

static int set_fd_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
#ifdef SO_NOSIGPIPE
	{
		int one = 1;

		(void) setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one,
				  sizeof one);
	}
#endif
	return 0;
}

/* Non-blocking connect bounded by deadline; 0 or -1 with errno set. */
static int connect_by(int fd, const struct sockaddr *sa, socklen_t salen,
		      long long deadline)
{
	socklen_t elen = sizeof(int);
	int err = 0, rc;

	if (set_fd_flags(fd) < 0)
		return -1;
	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return 0;
		if (errno == EINTR || errno == EINPROGRESS)
			break;
		/* A full unix-socket backlog: retry until the deadline. */
		if (errno != EAGAIN || now_ms() >= deadline)
			return -1;
		(void) poll(NULL, 0, 10);
	}
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc == 0)
		errno = ETIMEDOUT;
	if (rc <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static int close_keep_errno(int fd)
{
	int saved = errno, rc = close(fd);

	errno = saved;
	return rc;
}

static int open_unix(const char *spec, const char *path, int timeout_ms,
		     int *fd_r, const char **error_r)
{
	struct sockaddr_un sun;
	int fd;

	if (*path == '\0')
		return open_fail(error_r, "socket spec \"%s\": empty path",
				 spec);
	if (strlen(path) >= sizeof sun.sun_path)
		return open_fail(error_r, "socket spec \"%s\": path too long "
				 "(%zu bytes, limit %zu)", spec, strlen(path),
				 sizeof sun.sun_path - 1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return open_fail(error_r, "socket: %s", strerror(errno));
	if (connect_by(fd, (struct sockaddr *) &sun, sizeof sun,
		       now_ms() + timeout_ms) < 0) {
		open_fail(error_r, "connect to %s: %s", spec, strerror(errno));
		(void) close_keep_errno(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* rest is "PORT" or "PORT@HOST"; HOST may be "[v6-literal]". */
static int open_inet(const char *spec, const char *rest, int family,
		     int timeout_ms, int *fd_r, const char **error_r)
{
	long long deadline = now_ms() + timeout_ms;
	struct addrinfo hints, *res, *ai;
	char port[6], host[256];
	const char *at = strchr(rest, '@');
	size_t plen = at != NULL ? (size_t) (at - rest) : strlen(rest);
	size_t hlen, i;
	int fd = -1, rc, err = 0, one = 1;
	long pnum = 0;

	for (i = 0; i < plen; i++)
		if (rest[i] < '0' || rest[i] > '9')
			break;
	if (plen >= 1 && plen <= 5 && i == plen) {
		memcpy(port, rest, plen);
		port[plen] = '\0';
		pnum = strtol(port, NULL, 10);
	}
	if (pnum < 1 || pnum > 65535)
		return open_fail(error_r, "socket spec \"%s\": bad port (the "
				 "syntax is %s:PORT@HOST)", spec,
				 family == AF_INET6 ? "inet6" : "inet");
	if (at == NULL) {
		strcpy(host, family == AF_INET6 ? "::1" : "127.0.0.1");
	} else {
		at++;
		hlen = strlen(at);
		if (hlen >= 2 && at[0] == '[' && at[hlen - 1] == ']') {
			at++;
			hlen -= 2;
		}
		if (hlen == 0 || hlen >= sizeof host)
			return open_fail(error_r, "socket spec \"%s\": bad "
					 "host", spec);
		memcpy(host, at, hlen);
		host[hlen] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return open_fail(error_r, "socket spec \"%s\": host \"%s\": %s",
				 spec, host, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
				 ai->ai_protocol)) < 0) {
			err = errno;
			continue;
		}
		if (connect_by(fd, ai->ai_addr, ai->ai_addrlen, deadline) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = err;
		return open_fail(error_r, "connect to %s: %s", spec,
				 strerror(err));
	}
	/* Request and reply are whole packets: do not let Nagle hold them. */
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	*fd_r = fd;
	return 0;
}

int mclient_open(const char *spec, int timeout_ms, struct mclient **mc_r,
		 const char **error_r)
{
	char esc[128];
	int fd, rc;

	*mc_r = NULL;
	if (spec == NULL)
		return open_fail(error_r, "socket spec is NULL");
	if (timeout_ms <= 0)
		return open_fail(error_r, "timeout must be positive, not %d",
				 timeout_ms);
	if (strncmp(spec, "unix:", 5) == 0)
		rc = open_unix(spec, spec + 5, timeout_ms, &fd, error_r);
	else if (strncmp(spec, "local:", 6) == 0)
		rc = open_unix(spec, spec + 6, timeout_ms, &fd, error_r);
	else if (spec[0] == '/')
		rc = open_unix(spec, spec, timeout_ms, &fd, error_r);
	else if (strncmp(spec, "inet:", 5) == 0)
		rc = open_inet(spec, spec + 5, AF_INET, timeout_ms, &fd,
			       error_r);
	else if (strncmp(spec, "inet6:", 6) == 0)
		rc = open_inet(spec, spec + 6, AF_INET6, timeout_ms, &fd,
			       error_r);
	else
		return open_fail(error_r, "socket spec \"%s\": unknown type "
				 "(expected unix:/path, local:/path, "
				 "inet:PORT@HOST or inet6:PORT@HOST)",
				 escape(spec, strlen(spec), esc, sizeof esc));
	if (rc < 0)
		return -1;
	return mclient_open_fd(fd, timeout_ms, mc_r, error_r);
}

int mclient_open_fd(int fd, int timeout_ms, struct mclient **mc_r,
		    const char **error_r)
{
	struct mclient *mc;

	*mc_r = NULL;
	if (timeout_ms <= 0) {
		close(fd);
		return open_fail(error_r, "timeout must be positive, not %d",
				 timeout_ms);
	}
	if (set_fd_flags(fd) < 0) {
		open_fail(error_r, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if ((mc = calloc(1, sizeof *mc)) == NULL) {
		close(fd);
		return open_fail(error_r, "out of memory");
	}
	mc->fd = fd;
	mc->timeout_ms = timeout_ms;
	mclient_limits_default(&mc->limits);
	*mc_r = mc;
	return 0;
}

void mclient_close(struct mclient **mcp)
{
	struct mclient *mc = *mcp;

	if (mc == NULL)
		return;
	*mcp = NULL;
	if (mc->fd >= 0)
		close(mc->fd);
	free_symlists(mc);
	free(mc->out);
	free(mc->in);
	free(mc);
}
