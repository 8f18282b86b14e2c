/*
 * NAME
 *	loadgen 1 - drive a milter as Postfix does, and measure it
 * SYNOPSIS
 *	loadgen -s SOCKET [-c CONNS] [-m MSGS] [-n PER_SESSION] [-H HEADERS]
 *		[-b BODY] [-k CHUNK] [-r RCPTS] [-x HOSTILE%] [-p PID]
 *		[-T SECONDS] [-t TIMEOUT_MS] [-S SEED] [-w HOLD_SECONDS]
 *		[-R RSS_EVERY] [-N] [-l LABEL]
 * DESCRIPTION
 *	loadgen plays the MTA side of the milter protocol (version 6, through
 *	src/client/mclient) against the milter at SOCKET. CONNS threads each
 *	send MSGS messages, PER_SESSION messages per milter session, the way
 *	Postfix does: OPTNEG, macros and CONNECT, HELO, then per message
 *	MAIL (with SIZE and BODY parameters), RCPT per recipient, DATA,
 *	HEADERS fields (a Received chain, a folded DKIM-Signature of about
 *	700 bytes, From, To, Subject, Date, Message-ID, MIME-Version,
 *	Content-Type, then list and X- fields), end of headers, a text body
 *	of BODY octets in CRLF lines sent in CHUNK-octet chunks, end of
 *	message; QUIT at the end of the session.
 *
 *	Every negotiated flag and reply type is honoured (mclient does the
 *	flags): a refused MAIL ends the message and is followed by ABORT, as
 *	in Postfix; a refused RCPT drops that recipient, and a message left
 *	without recipients is aborted; accept, discard, reject, tempfail
 *	and a reply code at any later stage end the message with that reply;
 *	SHUTDOWN and connection failure end the session, a new one starts.
 *	Header values are sent with their leading space when
 *	SMFIP_HDR_LEADSPC was negotiated and without it otherwise.
 *
 *	HOSTILE% of the messages (chosen by a seeded generator, the same in
 *	every run) take one of four shapes in turn: a 2,000-octet MAIL FROM;
 *	an injection-shaped RCPT <${run{\x2Fbin\x2Fsh\t-c\t\x22id\x22}}@localhost>
 *	as the only recipient; a crackaddr-shaped To (nested comments and
 *	angle brackets); 500 extra header fields (so more than 500 in all).
 *
 *	It prints what it measured: messages/s, latency percentiles (MAIL
 *	sent to final reply), final replies by type, modification requests
 *	by type, errors and, with -p, the milter's CPU time per message
 *	(utime + stime of /proc/PID/stat, all threads, before and after)
 *	and its peak RSS (VmHWM of /proc/PID/status) and threads. The last
 *	line, "RESULT key=value ...", is for scripts.
 * OPTIONS
 *	-s SOCKET	unix:/path or inet:PORT@127.0.0.1 (loopback only)
 *	-c CONNS	concurrent connections, one thread each (1)
 *	-m MSGS		messages per connection (1000)
 *	-n PER_SESSION	messages per milter session (10)
 *	-H HEADERS	header fields per clean message, at least 10 (10)
 *	-b BODY		body octets (2048)
 *	-k CHUNK	largest SMFIC_BODY chunk (65535, as Postfix)
 *	-r RCPTS	recipients per message (1)
 *	-x PERCENT	hostile messages, 0-100 (0)
 *	-p PID		the milter's process id, for CPU and memory
 *	-T SECONDS	stop sending new messages after this long (600)
 *	-t MS		timeout of every packet (10000)
 *	-S SEED		seed of the hostile choice (1)
 *	-w SECONDS	open every connection (OPTNEG, CONNECT, HELO), wait until
 *			all are open, sample the milter, hold them this long,
 *			sample again, then send the messages
 *	-R N		print the milter's RSS every N messages (and at the end)
 *	-N		send no macros (default: those Postfix sends)
 *	-l LABEL	label for the RESULT line
 * EXIT STATUS
 *	0 if every message got a final reply, 1 if there were errors, 2 on
 *	bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "client/mclient.h"

#define LG_STACK	(256 * 1024)	/* thread stack: 1,000 threads stay small */
#define LG_HOSTILE_HDRS	500
#define LG_LINE		76		/* body line length without CRLF */

struct lg_opts {
	const char *sock;
	unsigned conns, msgs, per_session, headers, rcpts;
	size_t body, chunk;
	unsigned hostile_pct;
	long pid;
	double max_secs;
	int timeout_ms;
	unsigned seed;
	double hold_secs;
	unsigned long rss_every;
	bool macros;
	const char *label;
};

/* Reply letters counted: every byte value. */
struct lg_counts {
	unsigned long final[256];	/* final reply of each message */
	unsigned long mods[256];	/* modification requests at end of message */
	unsigned long msgs;		/* messages that got a final reply */
	unsigned long hostile;		/* of which hostile */
	unsigned long errors;		/* I/O or protocol errors */
	unsigned long sessions;
	unsigned long rcpt_refused;
};

struct lg_thread {
	pthread_t tid;
	unsigned id;
	const struct lg_opts *o;
	uint64_t *lat_ns;		/* one per message with a final reply */
	size_t nlat;
	struct lg_counts n;
	char first_error[256];
	uint64_t rng;
};

/* Shared, read-only after setup. */
static char *g_body;
static char g_dkim[1024];
static char g_long_sender[2100];
static char g_crackaddr[1024];

/* Progress, for -w and -R. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static unsigned g_open;			/* connections open (for -w) */
static unsigned g_failed_open;
static bool g_go;			/* -w: start sending */
static volatile unsigned long g_done;	/* messages done, all threads */
static volatile int g_stop;		/* -T reached */
static double g_t0;

static const char *const hostile_rcpt =
	"<${run{\\x2Fbin\\x2Fsh\\t-c\\t\\x22id\\x22}}@localhost>";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64: the same sequence on every machine */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* --- /proc of the milter -------------------------------------------------- */

/* utime + stime of the whole process, in seconds; -1 on error. */
static double
proc_cpu(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces: fields count from its ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ")": state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Key:   123 kB" line of /proc/PID/status, in kB; -1 if absent. */
static long
proc_status(long pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void
print_mem(const struct lg_opts *o, const char *when)
{
	if (o->pid <= 0)
		return;
	printf("milter at %s: VmRSS %ld kB, VmHWM %ld kB, threads %ld\n", when,
	       proc_status(o->pid, "VmRSS"), proc_status(o->pid, "VmHWM"),
	       proc_status(o->pid, "Threads"));
	fflush(stdout);
}

/* --- message content ---------------------------------------------------- */

static void
build_shared(const struct lg_opts *o)
{
	size_t i, n;
	char *p;

	/* Body: text lines of LG_LINE octets and CRLF, the last one cut. */
	g_body = malloc(o->body + 1);
	if (g_body == NULL) {
		perror("loadgen: malloc");
		exit(2);
	}
	for (i = 0; i < o->body; i++) {
		size_t col = i % (LG_LINE + 2);

		g_body[i] = col == LG_LINE ? '\r' : col == LG_LINE + 1 ? '\n' :
			"the quick brown fox jumps over the lazy dog 0123456789 "[col % 55];
	}
	if (o->body >= 2) {
		g_body[o->body - 2] = '\r';
		g_body[o->body - 1] = '\n';
	}
	g_body[o->body] = '\0';

	/* A DKIM-Signature of about 700 octets, folded as real signers do. */
	p = g_dkim;
	p += sprintf(p, " v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\n"
		     "\ts=selector1; t=1718000000; x=1718604800;\n"
		     "\th=from:to:subject:date:message-id:mime-version:content-type;\n"
		     "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n\tb=");
	for (n = 0; n < 5; n++) {
		for (i = 0; i < 76; i++)
			*p++ = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(i * 7 + n * 13) % 64];
		if (n < 4) {
			*p++ = '\n';
			*p++ = '\t';
		}
	}
	strcpy(p, "==");

	/* 2,000-octet MAIL FROM path, brackets included. */
	p = g_long_sender;
	*p++ = '<';
	for (i = 0; i < 2000 - 2 - strlen("@example.com"); i++)
		*p++ = 'a' + (char)(i % 26);
	strcpy(p, "@example.com>");

	/* crackaddr shape: deep comments and a run of angle brackets. */
	p = g_crackaddr;
	p += sprintf(p, " ");
	for (i = 0; i < 40; i++)
		*p++ = '(';
	p += sprintf(p, "x");
	for (i = 0; i < 40; i++)
		*p++ = ')';
	for (i = 0; i < 60; i++)
		p += sprintf(p, "<>");
	strcpy(p, " <victim@example.org>");
}

struct lg_hdr {
	const char *name;
	char value[1100];	/* with its leading space */
};

/* The header of message `no` of connection `id`: count fields. */
static size_t
build_headers(struct lg_hdr *h, size_t max, unsigned id, unsigned long no,
	      unsigned count, bool crackaddr)
{
	static const char *const extra_names[] = {
		"Received", "X-Mailer", "List-Id", "List-Unsubscribe",
		"X-Spam-Status", "Authentication-Results", "X-Originating-IP",
		"Precedence", "Thread-Topic", "Thread-Index", "X-MS-Has-Attach",
		"Accept-Language", "Content-Language", "X-Priority",
	};
	size_t n = 0;
	unsigned i;

#define H(nm, ...) do { if (n < max) { h[n].name = nm; \
	snprintf(h[n].value, sizeof(h[n].value), __VA_ARGS__); n++; } } while (0)
	H("Received", " from mail.sender.example (mail.sender.example [192.0.2.10])\n"
	  "\tby mx.example.org (Postfix) with ESMTPS id 4W%04X%06lX\n"
	  "\tfor <user%u@example.org>; Mon, 10 Jun 2024 12:00:%02lu +0000 (UTC)",
	  id & 0xffff, no & 0xffffff, id, no % 60);
	H("Received", " from internal.sender.example (internal.sender.example [10.0.0.5])\n"
	  "\tby mail.sender.example (Postfix) with ESMTP id 3V%04X%06lX;\n"
	  "\tMon, 10 Jun 2024 11:59:59 +0000 (UTC)", id & 0xffff, no & 0xffffff);
	H("Received", " by internal.sender.example (Postfix, from userid 1000)\n"
	  "\tid 2U%04X%06lX; Mon, 10 Jun 2024 11:59:58 +0000 (UTC)",
	  id & 0xffff, no & 0xffffff);
	H("DKIM-Signature", "%s", g_dkim);
	H("From", " \"Alice Example\" <alice@sender.example>");
	if (crackaddr)
		H("To", "%s", g_crackaddr);
	else
		H("To", " \"Bob Example\" <user%u@example.org>", id);
	H("Subject", " Quarterly report %lu: figures for review", no);
	H("Date", " Mon, 10 Jun 2024 11:59:58 +0000");
	H("Message-ID", " <%lu.%u.bench@sender.example>", no, id);
	H("MIME-Version", " 1.0");
	if (count > 10)
		H("Content-Type", " text/plain; charset=utf-8; format=flowed");
	for (i = 0; n < count && n < max; i++) {
		const char *nm = extra_names[i % (sizeof(extra_names) / sizeof(extra_names[0]))];

		if (i >= sizeof(extra_names) / sizeof(extra_names[0]))
			H("X-Bench-Field", " value %u of message %lu, some ordinary "
			  "text of an ordinary length", i, no);
		else if (strcmp(nm, "Received") == 0)
			H(nm, " from relay%u.example.net (relay%u.example.net "
			  "[198.51.100.%u])\n\tby mail.sender.example (Postfix) with "
			  "ESMTP id 1T%06lX;\n\tMon, 10 Jun 2024 11:59:57 +0000 (UTC)",
			  i, i, i % 250, no & 0xffffff);
		else if (strcmp(nm, "Authentication-Results") == 0)
			H(nm, " mx.example.org; dkim=pass header.d=example.com "
			  "header.s=selector1 header.b=AbCdEfGh; spf=pass "
			  "smtp.mailfrom=sender.example");
		else if (strcmp(nm, "List-Unsubscribe") == 0)
			H(nm, " <mailto:unsubscribe@lists.example.com?subject=unsub>,\n"
			  "\t<https://lists.example.com/unsub?u=%u>", id);
		else
			H(nm, " ordinary value of %s", nm);
	}
#undef H
	return n;
}

/* --- one connection ------------------------------------------------------- */

static void
note_error(struct lg_thread *t, struct mclient *mc, const char *what)
{
	t->n.errors++;
	if (t->first_error[0] == '\0')
		snprintf(t->first_error, sizeof(t->first_error), "conn %u: %s: %s",
			 t->id, what, mc ? mclient_error(mc) : "");
}

static bool
is_final(char c)
{
	return c == SMFIR_ACCEPT || c == SMFIR_REJECT || c == SMFIR_TEMPFAIL ||
	       c == SMFIR_DISCARD || c == SMFIR_REPLYCODE || c == SMFIR_SHUTDOWN ||
	       c == SMFIR_CONN_FAIL;
}

static int
session_open(struct lg_thread *t, struct mclient **mc_r, bool *leadspc_r)
{
	const struct lg_opts *o = t->o;
	static const char *const conn_macros[] = { "j", "mx.example.org",
		"{daemon_name}", "mx.example.org", "v", "Postfix 3.7.11", NULL };
	static const char *const helo_macros[] = { "{tls_version}", "TLSv1.3",
		"{cipher}", "TLS_AES_256_GCM_SHA384", NULL };
	struct mclient_reply r = { 0 };
	struct mclient_limits lim;
	struct mclient_optneg on;
	struct mclient *mc;
	const char *err;

	if (mclient_open(o->sock, o->timeout_ms, &mc, &err) < 0) {
		t->n.errors++;
		if (t->first_error[0] == '\0')
			snprintf(t->first_error, sizeof(t->first_error),
				 "conn %u: open: %s", t->id, err);
		return -1;
	}
	mclient_limits_default(&lim);
	lim.body_chunk = o->chunk;
	if (mclient_set_limits(mc, &lim) < 0 ||
	    mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
			   MCLIENT_POSTFIX_PROTOCOL, &on) < 0 ||
	    (o->macros && mclient_macros(mc, SMFIC_CONNECT, conn_macros) < 0) ||
	    mclient_connect(mc, "mail.sender.example", '4', 40000 + (uint16_t)(t->id % 20000),
			    "192.0.2.10", &r) < 0)
		goto fail;
	if (r.cmd != SMFIR_CONTINUE && r.cmd != 0 && r.cmd != 'n') {
		note_error(t, NULL, "CONNECT not continued");
		goto fail_quiet;
	}
	if ((o->macros && mclient_macros(mc, SMFIC_HELO, helo_macros) < 0) ||
	    mclient_helo(mc, "mail.sender.example", &r) < 0)
		goto fail;
	if (r.cmd != SMFIR_CONTINUE && r.cmd != 0 && r.cmd != 'n') {
		note_error(t, NULL, "HELO not continued");
		goto fail_quiet;
	}
	mclient_reply_clear(&r);
	t->n.sessions++;
	*leadspc_r = (on.protocol & SMFIP_HDR_LEADSPC) != 0;
	*mc_r = mc;
	return 0;
fail:
	note_error(t, mc, "session");
fail_quiet:
	mclient_reply_clear(&r);
	mclient_close(&mc);
	return -1;
}

enum lg_hostile { LG_CLEAN, LG_LONG_SENDER, LG_INJECT_RCPT, LG_CRACKADDR,
	LG_MANY_HEADERS };

/* One message. Returns the final reply letter, or -1 on an I/O error (the
   session is then unusable). */
static int
one_message(struct lg_thread *t, struct mclient *mc, bool leadspc,
	    unsigned long no, enum lg_hostile kind, struct lg_hdr *hdrs,
	    size_t hdrs_max)
{
	const struct lg_opts *o = t->o;
	struct mclient_reply r = { 0 };
	char size_arg[32], qid[32], rcpt[128], mail_addr[64];
	const char *mail_argv[4], *rcpt_argv[2];
	const char *mail_macros[] = { "i", qid, "{mail_addr}", mail_addr,
		"{auth_type}", "", NULL };
	const char *rcpt_macros[] = { "{rcpt_addr}", rcpt, NULL };
	const char *eom_macros[] = { "i", qid, NULL };
	unsigned accepted = 0, count;
	size_t nh, i;
	int final = -1;

	snprintf(qid, sizeof(qid), "4W%04X%06lX", t->id & 0xffff, no & 0xffffff);
	snprintf(size_arg, sizeof(size_arg), "SIZE=%zu", o->body + 2000);
	snprintf(mail_addr, sizeof(mail_addr), "alice@sender.example");
	mail_argv[0] = kind == LG_LONG_SENDER ? g_long_sender : "<alice@sender.example>";
	mail_argv[1] = size_arg;
	mail_argv[2] = "BODY=8BITMIME";
	mail_argv[3] = NULL;
	if ((o->macros && mclient_macros(mc, SMFIC_MAIL, mail_macros) < 0) ||
	    mclient_mail(mc, mail_argv, &r) < 0)
		goto io;
	if (is_final(r.cmd)) {
		final = r.cmd;
		goto aborted;
	}
	for (i = 0; i < o->rcpts; i++) {
		if (kind == LG_INJECT_RCPT)
			snprintf(rcpt, sizeof(rcpt), "%s", hostile_rcpt);
		else
			snprintf(rcpt, sizeof(rcpt), "<user%u.%zu@example.org>", t->id, i);
		rcpt_argv[0] = rcpt;
		rcpt_argv[1] = NULL;
		if ((o->macros && mclient_macros(mc, SMFIC_RCPT, rcpt_macros) < 0) ||
		    mclient_rcpt(mc, rcpt_argv, &r) < 0)
			goto io;
		if (r.cmd == SMFIR_SHUTDOWN || r.cmd == SMFIR_CONN_FAIL ||
		    r.cmd == SMFIR_ACCEPT || r.cmd == SMFIR_DISCARD) {
			final = r.cmd;
			goto aborted;
		}
		if (is_final(r.cmd))
			t->n.rcpt_refused++;	/* this recipient only */
		else
			accepted++;
	}
	if (accepted == 0) {
		final = r.cmd;		/* the last refusal */
		goto aborted;
	}
	if (mclient_data(mc, &r) < 0)
		goto io;
	if (is_final(r.cmd)) {
		final = r.cmd;
		goto aborted;
	}
	count = kind == LG_MANY_HEADERS ? o->headers + LG_HOSTILE_HDRS : o->headers;
	nh = build_headers(hdrs, hdrs_max, t->id, no, count, kind == LG_CRACKADDR);
	for (i = 0; i < nh; i++) {
		const char *v = hdrs[i].value;

		if (!leadspc && *v == ' ')
			v++;
		if (mclient_header(mc, hdrs[i].name, v, &r) < 0)
			goto io;
		if (r.cmd == SMFIR_SKIP)
			break;
		if (is_final(r.cmd)) {
			final = r.cmd;
			goto aborted;
		}
	}
	if (mclient_eoh(mc, &r) < 0)
		goto io;
	if (is_final(r.cmd)) {
		final = r.cmd;
		goto aborted;
	}
	if (mclient_body(mc, g_body, o->body, &r) < 0)
		goto io;
	if (is_final(r.cmd)) {
		final = r.cmd;
		goto aborted;
	}
	if ((o->macros && mclient_macros(mc, SMFIC_BODYEOB, eom_macros) < 0) ||
	    mclient_eom(mc, &r) < 0)
		goto io;
	final = r.cmd;
	for (i = 0; i < r.nmods; i++)
		t->n.mods[(unsigned char)r.mods[i].cmd]++;
	mclient_reply_clear(&r);
	return final;
aborted:
	/* The MTA ends the transaction; the milter hears ABORT (not after a
	   final accept or discard of the whole connection). */
	mclient_reply_clear(&r);
	if (final != SMFIR_SHUTDOWN && final != SMFIR_CONN_FAIL &&
	    mclient_abort(mc) < 0)
		goto io;
	return final;
io:
	mclient_reply_clear(&r);
	note_error(t, mc, "message");
	return -1;
}

static void *
worker(void *arg)
{
	struct lg_thread *t = arg;
	const struct lg_opts *o = t->o;
	size_t hdrs_max = o->headers + LG_HOSTILE_HDRS + 16;
	struct lg_hdr *hdrs = calloc(hdrs_max, sizeof(*hdrs));
	struct mclient *mc = NULL;
	bool leadspc = false;
	unsigned long sent = 0, in_session = 0, local_fail = 0;
	unsigned hostile_turn = t->id;

	t->lat_ns = malloc(sizeof(*t->lat_ns) * (o->msgs ? o->msgs : 1));
	if (hdrs == NULL || t->lat_ns == NULL) {
		note_error(t, NULL, "out of memory");
		return NULL;
	}
	if (o->hold_secs > 0) {
		int rc = session_open(t, &mc, &leadspc);

		pthread_mutex_lock(&g_lock);
		if (rc < 0)
			g_failed_open++;
		else
			g_open++;
		pthread_cond_broadcast(&g_cond);
		while (!g_go)
			pthread_cond_wait(&g_cond, &g_lock);
		pthread_mutex_unlock(&g_lock);
	}
	while (sent < o->msgs && !g_stop) {
		enum lg_hostile kind = LG_CLEAN;
		uint64_t t0;
		int final;

		if (mc == NULL) {
			if (session_open(t, &mc, &leadspc) < 0) {
				if (++local_fail > 10)
					break;
				continue;
			}
			in_session = 0;
		}
		if (o->hostile_pct > 0 && rng_next(&t->rng) % 100 < o->hostile_pct) {
			kind = (enum lg_hostile)(LG_LONG_SENDER + hostile_turn++ % 4);
			t->n.hostile++;
		}
		t0 = now_ns();
		final = one_message(t, mc, leadspc, sent, kind, hdrs, hdrs_max);
		sent++;
		__atomic_add_fetch(&g_done, 1, __ATOMIC_RELAXED);
		if (final < 0 || final == SMFIR_SHUTDOWN || final == SMFIR_CONN_FAIL) {
			if (final >= 0) {
				t->n.final[(unsigned char)final]++;
				t->n.msgs++;
			}
			mclient_close(&mc);
			continue;
		}
		t->lat_ns[t->nlat++] = now_ns() - t0;
		t->n.final[(unsigned char)final]++;
		t->n.msgs++;
		if (++in_session >= o->per_session) {
			mclient_quit(mc);
			mclient_close(&mc);
		}
	}
	if (mc != NULL) {
		mclient_quit(mc);
		mclient_close(&mc);
	}
	free(hdrs);
	return NULL;
}

/* --- main ----------------------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e3;	/* µs */
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen -s SOCKET [-c CONNS] [-m MSGS] [-n PER_SESSION] "
		"[-H HEADERS] [-b BODY] [-k CHUNK] [-r RCPTS] [-x HOSTILE%%] [-p PID] "
		"[-T SECONDS] [-t TIMEOUT_MS] [-S SEED] [-w HOLD_SECONDS] [-R N] [-N] "
		"[-l LABEL]\n");
	exit(2);
}

static unsigned long
num(const char *s, unsigned long min, unsigned long max, int opt)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "loadgen: -%c %s: not a number in [%lu, %lu]\n",
			opt, s, min, max);
		exit(2);
	}
	return v;
}

static void *
monitor(void *arg)
{
	const struct lg_opts *o = arg;
	unsigned long next = o->rss_every;

	while (!g_stop) {
		unsigned long d = __atomic_load_n(&g_done, __ATOMIC_RELAXED);

		if (o->rss_every > 0 && d >= next) {
			char when[64];

			snprintf(when, sizeof(when), "%lu messages", d);
			print_mem(o, when);
			while (next <= d)
				next += o->rss_every;
		}
		if (now_s() - g_t0 > o->max_secs)
			g_stop = 1;
		usleep(20000);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct lg_opts o = { NULL, 1, 1000, 10, 10, 1, 2048, 65535, 0, 0, 600,
		10000, 1, 0, 0, true, "run" };
	struct lg_counts tot;
	struct lg_thread *th;
	pthread_attr_t attr;
	pthread_t mon;
	double cpu0 = -1, cpu1 = -1, t_start, t_end, secs, hold_cpu = 0;
	uint64_t *lat;
	size_t nlat = 0;
	int ch;
	unsigned i, c;

	while ((ch = getopt(argc, argv, "s:c:m:n:H:b:k:r:x:p:T:t:S:w:R:Nl:")) != -1) {
		switch (ch) {
		case 's': o.sock = optarg; break;
		case 'c': o.conns = (unsigned)num(optarg, 1, 100000, ch); break;
		case 'm': o.msgs = (unsigned)num(optarg, 0, 100000000, ch); break;
		case 'n': o.per_session = (unsigned)num(optarg, 1, 100000000, ch); break;
		case 'H': o.headers = (unsigned)num(optarg, 10, 10000, ch); break;
		case 'b': o.body = num(optarg, 0, 64UL << 20, ch); break;
		case 'k': o.chunk = num(optarg, 1, 65535, ch); break;
		case 'r': o.rcpts = (unsigned)num(optarg, 1, 100000, ch); break;
		case 'x': o.hostile_pct = (unsigned)num(optarg, 0, 100, ch); break;
		case 'p': o.pid = (long)num(optarg, 1, 1UL << 30, ch); break;
		case 'T': o.max_secs = (double)num(optarg, 1, 86400, ch); break;
		case 't': o.timeout_ms = (int)num(optarg, 1, 3600000, ch); break;
		case 'S': o.seed = (unsigned)num(optarg, 0, 0xffffffffUL, ch); break;
		case 'w': o.hold_secs = (double)num(optarg, 1, 3600, ch); break;
		case 'R': o.rss_every = num(optarg, 1, 1UL << 40, ch); break;
		case 'N': o.macros = false; break;
		case 'l': o.label = optarg; break;
		default: usage();
		}
	}
	if (o.sock == NULL || optind != argc)
		usage();
	if (strncmp(o.sock, "inet", 4) == 0 && strstr(o.sock, "@127.") == NULL &&
	    strstr(o.sock, "@[::1]") == NULL && strstr(o.sock, "@localhost") == NULL &&
	    strchr(o.sock, '@') != NULL) {
		fprintf(stderr, "loadgen: %s: only loopback addresses\n", o.sock);
		return 2;
	}
	build_shared(&o);
	th = calloc(o.conns, sizeof(*th));
	if (th == NULL) {
		perror("loadgen: calloc");
		return 2;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LG_STACK);

	g_t0 = now_s();
	if (o.pid > 0 && o.hold_secs <= 0)
		cpu0 = proc_cpu(o.pid);
	t_start = now_s();
	for (i = 0; i < o.conns; i++) {
		th[i].id = i;
		th[i].o = &o;
		th[i].rng = (uint64_t)o.seed * 1000003u + i;
		if (pthread_create(&th[i].tid, &attr, worker, &th[i]) != 0) {
			fprintf(stderr, "loadgen: pthread_create %u: %s\n", i, strerror(errno));
			return 2;
		}
	}
	if (o.hold_secs > 0) {
		double h0;

		pthread_mutex_lock(&g_lock);
		while (g_open + g_failed_open < o.conns)
			pthread_cond_wait(&g_cond, &g_lock);
		pthread_mutex_unlock(&g_lock);
		printf("connections open: %u, failed: %u (%.2f s)\n", g_open,
		       g_failed_open, now_s() - t_start);
		print_mem(&o, "all connections open");
		h0 = o.pid > 0 ? proc_cpu(o.pid) : 0;
		usleep((useconds_t)(o.hold_secs * 1e6));
		if (o.pid > 0)
			hold_cpu = proc_cpu(o.pid) - h0;
		print_mem(&o, "end of hold");
		if (o.pid > 0)
			printf("milter CPU while holding idle connections: %.3f s\n", hold_cpu);
		g_t0 = now_s();
		if (o.pid > 0)
			cpu0 = proc_cpu(o.pid);
		t_start = now_s();
		pthread_mutex_lock(&g_lock);
		g_go = true;
		pthread_cond_broadcast(&g_cond);
		pthread_mutex_unlock(&g_lock);
	}
	pthread_create(&mon, NULL, monitor, &o);
	for (i = 0; i < o.conns; i++)
		pthread_join(th[i].tid, NULL);
	t_end = now_s();
	if (o.pid > 0)
		cpu1 = proc_cpu(o.pid);
	g_stop = 1;
	pthread_join(mon, NULL);

	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < o.conns; i++) {
		tot.msgs += th[i].n.msgs;
		tot.hostile += th[i].n.hostile;
		tot.errors += th[i].n.errors;
		tot.sessions += th[i].n.sessions;
		tot.rcpt_refused += th[i].n.rcpt_refused;
		for (c = 0; c < 256; c++) {
			tot.final[c] += th[i].n.final[c];
			tot.mods[c] += th[i].n.mods[c];
		}
		nlat += th[i].nlat;
	}
	lat = malloc(sizeof(*lat) * (nlat ? nlat : 1));
	nlat = 0;
	for (i = 0; i < o.conns; i++) {
		if (th[i].lat_ns != NULL)
			memcpy(lat + nlat, th[i].lat_ns, th[i].nlat * sizeof(*lat));
		nlat += th[i].nlat;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	secs = t_end - t_start;

	printf("%s: %u connections x %u messages, %u per session, %u headers, "
	       "%zu-octet body in %zu-octet chunks, %u rcpt, %u%% hostile\n",
	       o.label, o.conns, o.msgs, o.per_session, o.headers, o.body, o.chunk,
	       o.rcpts, o.hostile_pct);
	printf("messages %lu (hostile %lu) in %.3f s: %.1f msgs/s; sessions %lu%s\n",
	       tot.msgs, tot.hostile, secs, (double)tot.msgs / secs, tot.sessions,
	       g_stop && t_end - g_t0 > o.max_secs ? " (stopped by -T)" : "");
	printf("latency MAIL..final reply: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n",
	       pct(lat, nlat, 0.50), pct(lat, nlat, 0.99), pct(lat, nlat, 0.999),
	       pct(lat, nlat, 1.0));
	printf("final replies:");
	for (c = 0; c < 256; c++)
		if (tot.final[c] > 0)
			printf(" %s=%lu", mclient_reply_name((char)c), tot.final[c]);
	printf("; refused recipients %lu\nmodifications:", tot.rcpt_refused);
	for (c = 0; c < 256; c++)
		if (tot.mods[c] > 0)
			printf(" %c=%lu", (char)c, tot.mods[c]);
	printf("\nerrors: %lu\n", tot.errors);
	for (i = 0; i < o.conns; i++)
		if (th[i].first_error[0] != '\0') {
			printf("first error: %s\n", th[i].first_error);
			break;
		}
	if (o.pid > 0) {
		printf("milter CPU: %.3f s, %.1f us/msg; VmHWM %ld kB, VmRSS %ld kB, threads %ld\n",
		       cpu1 - cpu0, tot.msgs ? (cpu1 - cpu0) * 1e6 / (double)tot.msgs : 0,
		       proc_status(o.pid, "VmHWM"), proc_status(o.pid, "VmRSS"),
		       proc_status(o.pid, "Threads"));
	}
	printf("RESULT label=%s conns=%u msgs=%lu secs=%.4f rate=%.1f p50_us=%.0f "
	       "p99_us=%.0f p999_us=%.0f errors=%lu cpu_s=%.3f cpu_us_msg=%.2f "
	       "hwm_kb=%ld rss_kb=%ld threads=%ld",
	       o.label, o.conns, tot.msgs, secs, (double)tot.msgs / secs,
	       pct(lat, nlat, 0.50), pct(lat, nlat, 0.99), pct(lat, nlat, 0.999),
	       tot.errors, o.pid > 0 ? cpu1 - cpu0 : 0,
	       o.pid > 0 && tot.msgs ? (cpu1 - cpu0) * 1e6 / (double)tot.msgs : 0,
	       o.pid > 0 ? proc_status(o.pid, "VmHWM") : 0,
	       o.pid > 0 ? proc_status(o.pid, "VmRSS") : 0,
	       o.pid > 0 ? proc_status(o.pid, "Threads") : 0);
	for (c = 0; c < 256; c++)
		if (tot.final[c] > 0)
			printf(" final_%s=%lu", mclient_reply_name((char)c), tot.final[c]);
	printf("\n");
	for (i = 0; i < o.conns; i++)
		free(th[i].lat_ns);
	free(th);
	free(lat);
	free(g_body);
	return tot.errors > 0 ? 1 : 0;
}
