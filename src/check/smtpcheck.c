/*
 * smtpcheck.c -- milter-guard-check smtp HOST:PORT: what the MTA in front
 * of the milter shows and does
 *
 * The greeting (banner.h), EHLO, VRFY and EXPN, STARTTLS offered and, with
 * OpenSSL, the handshake (protocol, cipher, certificate expiry), and with
 * --overflow-test a 1,000-octet MAIL FROM and a RCPT in an injection shape
 * on a second connection, each of which must get a 5xx, after which the
 * server must still answer (RSET, QUIT).  Replies are read line by line
 * with a cap per line and per reply; what the server says is escaped
 * before it reaches the report (report.h).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_OPENSSL_SSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#endif

#include "banner.h"
#include "hostport.h"
#include "mgcheck.h"
#include "run.h"

#define LINE_MAX_SMTP 1024	/* a reply line kept (longer ones are cut) */
#define REPLY_LINES_MAX 100	/* lines in one reply */
#define OVERFLOW_ADDR_LEN 1000	/* the overlong sender address, octets */
#define OVERFLOW_DOMAIN "example.org"
#define OVERFLOW_RCPT "<\"${run{/bin/true}}\"@" OVERFLOW_DOMAIN ">"
#define PROBE_SENDER "<milter-guard-check@" OVERFLOW_DOMAIN ">"

static const char FIX_BANNER[] =
	"Postfix: smtpd_banner = $myhostname ESMTP; Sendmail: "
	"define(`confSMTP_BANNER', `$j ESMTP')";
static const char FIX_VRFY[] =
	"Postfix: disable_vrfy_command = yes; Sendmail: "
	"define(`confPRIVACY_FLAGS', `goaway')";
static const char FIX_EXPN[] =
	"Sendmail: define(`confPRIVACY_FLAGS', `goaway') (or noexpn); Postfix has no EXPN";
static const char FIX_STARTTLS[] =
	"Postfix: smtpd_tls_security_level = may with smtpd_tls_chain_files; "
	"Sendmail: confSERVER_CERT and confSERVER_KEY";
static const char FIX_TLS_VERSION[] =
	"Postfix: smtpd_tls_protocols = >=TLSv1.2; Sendmail: "
	"O CipherList and ServerSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1";
static const char FIX_CERT[] = "renew the server certificate";
static const char FIX_OVERFLOW[] =
	"attach milter-guard (smtpd_milters / INPUT_MAIL_FILTER) with its default "
	"policy, which rejects overlong paths and injection shapes";

struct conn {
	int fd;
	char in[4096];
	size_t in_len;
#ifdef HAVE_OPENSSL_SSL
	SSL_CTX *ctx;
	SSL *ssl;
#endif
};

struct reply {
	int code;			/* 0: no reply (connection lost) */
	size_t nlines;
	char first[LINE_MAX_SMTP];	/* first line, without CRLF */
	char lines[REPLY_LINES_MAX][80];	/* start of each line after the code */
};

static int
conn_open(const struct hostport *hp, int timeout_ms, struct conn *c, char *err,
	  size_t errsize)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char port[8];
	int rc, e = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", hp->port);
	if ((rc = getaddrinfo(hp->host, port, &hints, &res)) != 0) {
		snprintf(err, errsize, "%s: %s", hp->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd < 0) {
			e = errno;
			continue;
		}
		/* Linux bounds connect() by the send timeout too */
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0) {
		snprintf(err, errsize, "connect to %s:%u: %s", hp->host, hp->port,
			 strerror(e == EINPROGRESS ? ETIMEDOUT : e));
		return -1;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
#ifdef HAVE_OPENSSL_SSL
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	c->ssl = NULL;
	c->ctx = NULL;
#endif
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static ssize_t
conn_read(struct conn *c, void *buf, size_t n)
{
	ssize_t got;

#ifdef HAVE_OPENSSL_SSL
	if (c->ssl != NULL) {
		int k = SSL_read(c->ssl, buf, n > 65536 ? 65536 : (int)n);

		return k > 0 ? k : -1;
	}
#endif
	do
		got = recv(c->fd, buf, n, 0);
	while (got < 0 && errno == EINTR);
	return got;
}

static int
conn_write(struct conn *c, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
#ifdef HAVE_OPENSSL_SSL
		if (c->ssl != NULL)
			w = SSL_write(c->ssl, s, n > 65536 ? 65536 : (int)n);
		else
#endif
			w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line into line (cut at size - 1, the rest skipped); -1 at EOF. */
static int
read_line(struct conn *c, char *line, size_t size)
{
	size_t kept = 0, i;
	ssize_t n;
	char *nl;

	for (;;) {
		nl = memchr(c->in, '\n', c->in_len);
		i = nl != NULL ? (size_t)(nl - c->in) + 1 : c->in_len;
		{
			size_t take = i, room = size - 1 - kept;

			if (take > room)
				take = room;
			memcpy(line + kept, c->in, take);
			kept += take;
		}
		memmove(c->in, c->in + i, c->in_len - i);
		c->in_len -= i;
		if (nl != NULL)
			break;
		n = conn_read(c, c->in, sizeof(c->in));
		if (n <= 0)
			return -1;
		c->in_len = (size_t)n;
	}
	while (kept > 0 && (line[kept - 1] == '\n' || line[kept - 1] == '\r'))
		kept--;
	line[kept] = '\0';
	return 0;
}

static int
read_reply(struct conn *c, struct reply *r)
{
	char line[LINE_MAX_SMTP];
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < REPLY_LINES_MAX * 10; i++) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
			return -1;
		if (r->nlines == 0) {
			snprintf(r->first, sizeof(r->first), "%s", line);
			r->code = atoi(line);
		}
		if (r->nlines < REPLY_LINES_MAX)
			snprintf(r->lines[r->nlines++], sizeof(r->lines[0]), "%.*s",
				 (int)sizeof(r->lines[0]) - 1, line[3] != '\0' ? line + 4 : "");
		if (line[3] != '-')
			return 0;
	}
	return -1;
}

/* Send a command line and read the reply; code 0 if the server went away. */
static int
command(struct conn *c, const char *cmd, struct reply *r)
{
	char line[2 * OVERFLOW_ADDR_LEN];

	snprintf(line, sizeof(line), "%s\r\n", cmd);
	if (conn_write(c, line, strlen(line)) < 0 || read_reply(c, r) < 0) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

static int
has_keyword(const struct reply *r, const char *kw)
{
	size_t i, n = strlen(kw);

	for (i = 1; i < r->nlines; i++)
		if (strncasecmp(r->lines[i], kw, n) == 0 &&
		    (r->lines[i][n] == '\0' || r->lines[i][n] == ' '))
			return 1;
	return 0;
}

/* Connect, read the greeting and say EHLO; -1 after reporting. */
static int
start_session(const struct hostport *hp, const struct mgcheck_opts *o, struct conn *c,
	      struct reply *greet, struct reply *ehlo, struct report *r, const char *id)
{
	char err[300], cmd[300];

	if (conn_open(hp, o->timeout_ms, c, err, sizeof(err)) < 0) {
		report_add(r, REPORT_CRITICAL, id, NULL, "%s", err);
		return -1;
	}
	if (read_reply(c, greet) < 0 || greet->code != 220) {
		report_add(r, REPORT_CRITICAL, id, NULL, "no 220 greeting: %s",
			   greet->code != 0 ? greet->first : "connection closed or timed out");
		conn_close(c);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s", o->helo);
	if (command(c, cmd, ehlo) < 0 || ehlo->code != 250) {
		report_add(r, REPORT_CRITICAL, id, NULL, "EHLO refused: %s",
			   ehlo->code != 0 ? ehlo->first : "connection lost");
		conn_close(c);
		return -1;
	}
	return 0;
}

static void
check_banner(const struct reply *greet, struct report *r)
{
	struct banner_info bi;

	if (banner_examine(greet->first, strlen(greet->first), &bi) == 0) {
		report_add(r, REPORT_OK, "smtp.banner", NULL,
			   "the greeting names no software or version: %s", greet->first);
		return;
	}
	report_add(r, REPORT_WARNING, "smtp.banner", FIX_BANNER,
		   "the greeting discloses %s%s%s%s%s: %s",
		   bi.software[0] ? "the software " : "", bi.software,
		   bi.software[0] && bi.version[0] ? " and " : "",
		   bi.version[0] ? "the version " : "", bi.version, greet->first);
}

/* VRFY or EXPN: 500, 502 and 504 mean off; anything else answers. */
static void
check_verb(struct conn *c, const char *verb, const char *fix, struct report *r)
{
	struct reply rep;
	char cmd[64], id[32];

	snprintf(cmd, sizeof(cmd), "%s postmaster", verb);
	snprintf(id, sizeof(id), "smtp.%s", verb[0] == 'V' ? "vrfy" : "expn");
	if (command(c, cmd, &rep) < 0) {
		report_add(r, REPORT_UNKNOWN, id, NULL, "%s: connection lost", verb);
		return;
	}
	if (rep.code == 500 || rep.code == 502 || rep.code == 504)
		report_add(r, REPORT_OK, id, NULL, "%s is disabled: %s", verb, rep.first);
	else
		report_add(r, REPORT_WARNING, id, fix,
			   "%s is enabled (it tells who has a mailbox): %s", verb, rep.first);
}

#ifdef HAVE_OPENSSL_SSL
static void
tls_report(SSL *ssl, struct report *r)
{
	const char *proto = SSL_get_version(ssl);
	int version = SSL_version(ssl), days = 0, secs = 0;
	X509 *cert = SSL_get1_peer_certificate(ssl);

	if (version < TLS1_2_VERSION)
		report_add(r, REPORT_WARNING, "smtp.tls.protocol", FIX_TLS_VERSION,
			   "STARTTLS negotiated %s, below TLS 1.2", proto);
	else
		report_add(r, REPORT_OK, "smtp.tls.protocol", NULL, "STARTTLS negotiated %s, %s",
			   proto, SSL_get_cipher_name(ssl));
	if (cert == NULL) {
		report_add(r, REPORT_WARNING, "smtp.tls.cert", FIX_CERT,
			   "the server sent no certificate");
		return;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) != 1)
		report_add(r, REPORT_UNKNOWN, "smtp.tls.cert", NULL,
			   "the certificate's expiry date does not parse");
	else if (days < 0 || (days == 0 && secs < 0))
		report_add(r, REPORT_CRITICAL, "smtp.tls.cert", FIX_CERT,
			   "the certificate expired %d days ago", -days);
	else if (days < MGCHECK_CERT_WARN_DAYS)
		report_add(r, REPORT_WARNING, "smtp.tls.cert", FIX_CERT,
			   "the certificate expires in %d days", days);
	else
		report_add(r, REPORT_OK, "smtp.tls.cert", NULL,
			   "the certificate is valid for %d more days", days);
	report_perf(r, "cert_days", days, "");
	X509_free(cert);
}

static void
check_tls(struct conn *c, const struct hostport *hp, struct report *r)
{
	struct reply rep;
	unsigned long e;
	char err[256];

	if (command(c, "STARTTLS", &rep) < 0 || rep.code != 220) {
		report_add(r, REPORT_WARNING, "smtp.tls", FIX_STARTTLS,
			   "STARTTLS offered but refused: %s",
			   rep.code != 0 ? rep.first : "connection lost");
		return;
	}
	c->in_len = 0;
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (c->ssl = SSL_new(c->ctx)) == NULL) {
		report_add(r, REPORT_UNKNOWN, "smtp.tls", NULL, "OpenSSL: out of memory");
		return;
	}
	/* see what the server really negotiates, old protocols included */
	SSL_CTX_set_min_proto_version(c->ctx, 0);
	(void)SSL_set_cipher_list(c->ssl, "DEFAULT:@SECLEVEL=0");
	SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	/* SNI carries a name, never an address literal (RFC 6066 3) */
	if (!hp->v6 && strspn(hp->host, "0123456789.") != strlen(hp->host))
		(void)SSL_set_tlsext_host_name(c->ssl, hp->host);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1) {
		e = ERR_get_error();
		ERR_error_string_n(e, err, sizeof(err));
		report_add(r, REPORT_CRITICAL, "smtp.tls", FIX_STARTTLS,
			   "STARTTLS handshake failed: %s", e != 0 ? err : "connection closed");
		SSL_free(c->ssl);
		c->ssl = NULL;
		return;
	}
	tls_report(c->ssl, r);
}
#endif

static void
overflow_test(const struct hostport *hp, const struct mgcheck_opts *o, struct report *r)
{
	char cmd[2 * OVERFLOW_ADDR_LEN], addr[OVERFLOW_ADDR_LEN + 1];
	struct reply greet, ehlo, rep;
	size_t local = OVERFLOW_ADDR_LEN - 1 - strlen(OVERFLOW_DOMAIN);
	struct conn c;

	if (start_session(hp, o, &c, &greet, &ehlo, r, "smtp.overflow") < 0)
		return;
	memset(addr, 'a', local);
	snprintf(addr + local, sizeof(addr) - local, "@%s", OVERFLOW_DOMAIN);
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>", addr);
	if (command(&c, cmd, &rep) < 0) {
		report_add(r, REPORT_CRITICAL, "smtp.overflow.mail", FIX_OVERFLOW,
			   "the server dropped the connection after a %d-octet MAIL FROM",
			   OVERFLOW_ADDR_LEN);
		conn_close(&c);
		return;
	}
	report_add(r, rep.code >= 500 ? REPORT_OK : rep.code >= 400 ? REPORT_WARNING
								    : REPORT_CRITICAL,
		   "smtp.overflow.mail", rep.code >= 500 ? NULL : FIX_OVERFLOW,
		   "a %d-octet MAIL FROM address got: %s", OVERFLOW_ADDR_LEN, rep.first);
	if (rep.code < 400)
		(void)command(&c, "RSET", &rep);
	if (command(&c, "MAIL FROM:" PROBE_SENDER, &rep) < 0 || rep.code != 250) {
		report_add(r, REPORT_UNKNOWN, "smtp.overflow.rcpt", NULL,
			   "a plain MAIL FROM was not accepted, so RCPT was not tried: %s",
			   rep.code != 0 ? rep.first : "connection lost");
	} else if (command(&c, "RCPT TO:" OVERFLOW_RCPT, &rep) < 0) {
		report_add(r, REPORT_CRITICAL, "smtp.overflow.rcpt", FIX_OVERFLOW,
			   "the server dropped the connection after RCPT TO:%s", OVERFLOW_RCPT);
	} else {
		report_add(r, rep.code >= 500 ? REPORT_OK : rep.code >= 400 ? REPORT_WARNING
									    : REPORT_CRITICAL,
			   "smtp.overflow.rcpt", rep.code >= 500 ? NULL : FIX_OVERFLOW,
			   "RCPT TO:%s got: %s", OVERFLOW_RCPT, rep.first);
	}
	if (command(&c, "RSET", &rep) < 0 || rep.code != 250)
		report_add(r, REPORT_CRITICAL, "smtp.overflow.alive", NULL,
			   "the server does not answer after the test: %s",
			   rep.code != 0 ? rep.first : "connection lost");
	else
		report_add(r, REPORT_OK, "smtp.overflow.alive", NULL,
			   "the server still answers after the test (RSET: %s)", rep.first);
	(void)command(&c, "QUIT", &rep);
	conn_close(&c);
}

void
smtpcheck_run(const struct mgcheck_opts *o, struct report *r)
{
	struct reply greet, ehlo, rep;
	struct hostport hp;
	struct conn c;
	char err[200];
	long long t0;

	if (o->target == NULL ||
	    hostport_parse(o->target, strlen(o->target), &hp, err, sizeof(err)) < 0) {
		report_add(r, REPORT_UNKNOWN, "smtp", NULL, "smtp HOST:PORT: %s",
			   o->target == NULL ? "missing" : err);
		return;
	}
	t0 = run_now_ms();
	if (start_session(&hp, o, &c, &greet, &ehlo, r, "smtp.greeting") < 0)
		return;
	report_perf(r, "time", (double)(run_now_ms() - t0) / 1000.0, "s");
	check_banner(&greet, r);
	check_verb(&c, "VRFY", FIX_VRFY, r);
	check_verb(&c, "EXPN", FIX_EXPN, r);
	if (!has_keyword(&ehlo, "STARTTLS")) {
		report_add(r, REPORT_WARNING, "smtp.tls", FIX_STARTTLS,
			   "STARTTLS is not offered: mail to this server travels in clear text");
	} else {
		report_add(r, REPORT_OK, "smtp.tls", NULL, "STARTTLS is offered");
#ifdef HAVE_OPENSSL_SSL
		check_tls(&c, &hp, r);
#endif
	}
	(void)command(&c, "QUIT", &rep);
	conn_close(&c);
	if (o->overflow_test)
		overflow_test(&hp, o, r);
}
