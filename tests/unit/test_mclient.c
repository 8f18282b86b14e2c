/*
 * NAME
 *	test_mclient 1
 * SUMMARY
 *	Check suite for the milter protocol client (src/client/mclient.c)
 * SYNOPSIS
 *	test_mclient [path/to/echo_milter]
 * DESCRIPTION
 *	Three kinds of cases:
 *	.IP \(bu
 *	against a real libmilter filter, tests/milter/echo_milter, started
 *	twice on unix sockets in a temporary directory (once plain, once
 *	with -N: SMFIP_NR_HDR and SMFIP_NOHELO); its path comes from argv[1]
 *	or $ECHO_MILTER, and a missing one is a failure, not a skip;
 *	.IP \(bu
 *	against a fake milter on a socketpair, to see the exact bytes the
 *	client sends;
 *	.IP \(bu
 *	against a hostile fake milter: huge lengths, truncated packets,
 *	unknown letters, silence. The client must return -1 with the exact
 *	error, never crash or hang.
 *	The milters are stopped with SIGKILL (libmilter needs ~5 s after
 *	SIGTERM).
 */

#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <libmilter/mfdef.h>

#include "client/mclient.h"

#define TIMEOUT_MS	5000

static char tmpdir[64];
static char spec_plain[128], spec_nr[128];
static char pidfile_plain[128], pidfile_nr[128];
static pid_t pid_plain = -1, pid_nr = -1;

/* SMFIC_OPTNEG as Postfix 3.7 sends it: version 6, 0x1ff, 0x1fffff. */
static const unsigned char optneg_v6[] =
	"\0\0\0\x0d" "O" "\0\0\0\x06" "\0\0\x01\xff" "\0\x1f\xff\xff";

/* ---- helpers --------------------------------------------------------- */

#define STEP(mc, call) \
	ck_assert_msg((call) == 0, "%s failed: %s", #call, mclient_error(mc))

static void expect_cmd(const struct mclient_reply *r, char want)
{
	ck_assert_msg(r->cmd == want, "reply '%c' (%s), expected '%c' (%s)",
		      r->cmd ? r->cmd : '0', mclient_reply_name(r->cmd),
		      want ? want : '0', mclient_reply_name(want));
}

struct want_mod {
	char cmd;
	uint32_t index;
	const char *a;
	size_t a_len;		/* 0: strlen(a) */
	const char *b;
};

static void expect_mods(const struct mclient_reply *r,
			const struct want_mod *w, size_t n)
{
	size_t i, len;

	ck_assert_uint_eq(r->nmods, n);
	for (i = 0; i < n; i++) {
		const struct mclient_mod *m = &r->mods[i];

		len = w[i].a_len ? w[i].a_len : strlen(w[i].a);
		ck_assert_msg(m->cmd == w[i].cmd, "mod %zu: '%c', want '%c'",
			      i, m->cmd, w[i].cmd);
		ck_assert_uint_eq(m->index, w[i].index);
		ck_assert_uint_eq(m->a_len, len);
		ck_assert_mem_eq(m->a, w[i].a, len);
		ck_assert_int_eq(m->a[len], '\0');
		if (w[i].b == NULL)
			ck_assert_ptr_null(m->b);
		else
			ck_assert_str_eq(m->b, w[i].b);
	}
}

static struct mclient *open_spec(const char *spec)
{
	struct mclient *mc;
	const char *err = NULL;

	ck_assert_msg(mclient_open(spec, TIMEOUT_MS, &mc, &err) == 0,
		      "open %s: %s", spec, err);
	return mc;
}

static struct mclient *open_v6(const char *spec, struct mclient_optneg *on)
{
	struct mclient *mc = open_spec(spec);

	STEP(mc, mclient_optneg(mc, 6, MCLIENT_POSTFIX_ACTIONS,
				MCLIENT_POSTFIX_PROTOCOL, on));
	return mc;
}

/* CONNECT, HELO, MAIL and RCPT, all expected to continue. */
static void envelope(struct mclient *mc, const char *from, const char *to)
{
	struct mclient_reply r = { 0 };
	const char *mail[] = { from, NULL };
	const char *rcpt[] = { to, NULL };

	STEP(mc, mclient_connect(mc, "client.example", '4', 40000,
				 "192.0.2.1", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_helo(mc, "client.example", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_rcpt(mc, rcpt, &r));
	expect_cmd(&r, 'c');
	mclient_reply_clear(&r);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A client on one end of a socketpair; the test plays the milter. */
static struct mclient *open_fake(int *peer_r, int timeout_ms)
{
	struct mclient *mc;
	const char *err = NULL;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_msg(mclient_open_fd(sv[0], timeout_ms, &mc, &err) == 0,
		      "open_fd: %s", err);
	*peer_r = sv[1];
	return mc;
}

static void peer_raw(int fd, const void *p, size_t n)
{
	ck_assert_int_eq(write(fd, p, n), (ssize_t) n);
}

/* Queue one reply packet from the fake milter. */
static void peer_reply(int fd, char cmd, const void *data, size_t len)
{
	unsigned char hdr[5];
	uint32_t n = htonl((uint32_t) len + 1);

	memcpy(hdr, &n, 4);
	hdr[4] = (unsigned char) cmd;
	peer_raw(fd, hdr, 5);
	if (len > 0)
		peer_raw(fd, data, len);
}

/* Read exactly what the client must have sent, and nothing more. */
static void peer_expect(int fd, const void *want, size_t len)
{
	unsigned char buf[512];
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t n;

	ck_assert_uint_le(len, sizeof buf);
	while (got < len) {
		ck_assert_int_eq(poll(&pfd, 1, 1000), 1);
		n = read(fd, buf + got, len - got);
		ck_assert_int_gt(n, 0);
		got += (size_t) n;
	}
	ck_assert_mem_eq(buf, want, len);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
}

/* A listening loopback socket; 0 when the family is not available. */
static uint16_t listening_port(int family, int *fd_r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd = socket(family, SOCK_STREAM, 0), rc;

	if (fd < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		return 0;
	ck_assert_int_ge(fd, 0);
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof *sin6;
	}
	rc = bind(fd, (struct sockaddr *) &ss, len);
	if (rc < 0 && family == AF_INET6 && errno == EADDRNOTAVAIL) {
		close(fd);
		return 0;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &ss, &len), 0);
	*fd_r = fd;
	return ntohs(family == AF_INET ?
		     ((struct sockaddr_in *) &ss)->sin_port :
		     ((struct sockaddr_in6 *) &ss)->sin6_port);
}

/* ---- against the real libmilter echo filter ------------------------------ */

START_TEST(negotiates_v6_with_symbol_list)
{
	struct mclient_optneg on;
	struct mclient *mc = open_v6(spec_plain, &on);

	ck_assert_uint_eq(on.version, 6);
	ck_assert_uint_eq(on.actions, MCLIENT_POSTFIX_ACTIONS);
	ck_assert_uint_eq(on.protocol, SMFIP_SKIP);
	/* 17 + (4 + "{client_addr} j\0") + (4 + "{auth_authen}\0") */
	ck_assert_uint_eq(on.reply_len, 17 + 20 + 18);
	ck_assert_str_eq(mclient_symlist(mc, 0), "{client_addr} j");
	ck_assert_ptr_null(mclient_symlist(mc, 1));
	ck_assert_str_eq(mclient_symlist(mc, 2), "{auth_authen}");
	ck_assert_ptr_null(mclient_symlist(mc, 7));
	mclient_close(&mc);
	ck_assert_ptr_null(mc);
}
END_TEST

START_TEST(negotiates_v2_with_classic_17_byte_reply)
{
	struct mclient_optneg on;
	struct mclient *mc = open_spec(spec_plain);

	STEP(mc, mclient_optneg(mc, 2, 0x3f, 0x7f, &on));
	ck_assert_uint_eq(on.version, 2);
	ck_assert_uint_eq(on.actions, 0x3f);
	ck_assert_uint_eq(on.protocol, 0);
	ck_assert_uint_eq(on.reply_len, 17);
	ck_assert_ptr_null(mclient_symlist(mc, 0));
	mclient_close(&mc);
}
END_TEST

START_TEST(continues_through_connect_helo_mail_rcpt_data)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<a@example.org>", "SIZE=100", "BODY=8BITMIME",
			       NULL };

	STEP(mc, mclient_connect(mc, "[192.0.2.1]", '4', 40000, "192.0.2.1",
				 &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_helo(mc, "client.example", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'c');
	ck_assert_ptr_null(r.text);
	mail[0] = "<b@example.org>";
	mail[1] = NULL;
	STEP(mc, mclient_rcpt(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_data(mc, &r));
	expect_cmd(&r, 'c');
	mclient_close(&mc);
}
END_TEST

START_TEST(rejects_sender_with_reply_text)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<reject@example.org>", NULL };

	STEP(mc, mclient_connect(mc, "client.example", '6', 40000,
				 "2001:db8::1", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'y');
	ck_assert_str_eq(r.text, "550 5.7.1 rejected sender");
	mclient_reply_clear(&r);
	ck_assert_ptr_null(r.text);
	mclient_close(&mc);
}
END_TEST

START_TEST(discards_sender_with_bare_letter)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<discard@example.org>", NULL };

	STEP(mc, mclient_connect(mc, "localhost", 'L', 0, "/run/x", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'd');
	mclient_close(&mc);
}
END_TEST

START_TEST(tempfails_recipient_without_text)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	const char *rcpt[] = { "<tempfail@example.org>", NULL };

	envelope(mc, "<a@example.org>", "<b@example.org>");
	STEP(mc, mclient_rcpt(mc, rcpt, &r));
	expect_cmd(&r, 't');
	ck_assert_ptr_null(r.text);
	rcpt[0] = "<reject@example.org>";
	STEP(mc, mclient_rcpt(mc, rcpt, &r));
	expect_cmd(&r, 'r');
	mclient_close(&mc);
}
END_TEST

START_TEST(answers_unknown_command_with_421_text)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };

	STEP(mc, mclient_connect(mc, "unknown", 'U', 0, NULL, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_unknown(mc, "XYZZY plugh", &r));
	expect_cmd(&r, 'y');
	ck_assert_str_eq(r.text, "421 4.7.0 unknown command refused");
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(returns_header_and_quarantine_edits_at_end_of_message)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "1 7" },
		{ 'q', 0, "held for review", 0, NULL },
	};
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };

	envelope(mc, "<a@example.org>", "<b@example.org>");
	STEP(mc, mclient_data(mc, &r));
	STEP(mc, mclient_header(mc, "Subject", "hi", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_header(mc, "X-Quarantine", "held for review", &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_eoh(mc, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_body(mc, "hello\r\n", 7, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	ck_assert_uint_eq(r.nmods, 0);
	ck_assert_ptr_null(r.mods);
	mclient_close(&mc);
}
END_TEST

START_TEST(parses_every_kind_of_edit_and_skips_progress)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "0 0" },
		{ 'i', 0, "X-First", 0, "1" },
		{ 'm', 1, "Subject", 0, "changed" },
		{ '+', 0, "<added@example.org>", 0, NULL },
		{ '-', 0, "<gone@example.org>", 0, NULL },
		{ '2', 0, "<par@example.org>", 0, "NOTIFY=NEVER" },
		{ 'e', 0, "<new@example.org>", 0, "SIZE=100" },
		{ 'b', 0, "new\0body\r\n", 10, NULL },
	};
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };

	envelope(mc, "<a@example.org>", "<b@example.org>");
	STEP(mc, mclient_header(mc, "X-Echo-Mods", "all", &r));
	STEP(mc, mclient_eoh(mc, &r));
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(sends_no_reply_for_headers_when_nr_hdr_negotiated)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "1 6" },
		{ 'q', 0, "nr", 0, NULL },
	};
	struct mclient_optneg on;
	struct mclient *mc = open_v6(spec_nr, &on);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<a@example.org>", NULL };

	ck_assert_uint_eq(on.protocol, SMFIP_SKIP | SMFIP_NR_HDR |
			  SMFIP_NOHELO);
	STEP(mc, mclient_connect(mc, "client.example", '4', 1, "192.0.2.1",
				 &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_rcpt(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_header(mc, "Subject", "one", &r));
	expect_cmd(&r, 0);
	STEP(mc, mclient_header(mc, "X-Quarantine", "nr", &r));
	expect_cmd(&r, 0);
	/* still in step: the next reply belongs to EOH */
	STEP(mc, mclient_eoh(mc, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_body(mc, "body\r\n", 6, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(skips_helo_when_nohelo_negotiated)
{
	struct mclient *mc = open_v6(spec_nr, NULL);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<a@example.org>", NULL };

	STEP(mc, mclient_connect(mc, "client.example", '4', 1, "192.0.2.1",
				 &r));
	STEP(mc, mclient_helo(mc, "client.example", &r));
	expect_cmd(&r, 'n');
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'c');
	mclient_close(&mc);
}
END_TEST

START_TEST(starts_second_message_after_abort)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "0 0" },
	};
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<second@example.org>", NULL };

	envelope(mc, "<first@example.org>", "<b@example.org>");
	STEP(mc, mclient_data(mc, &r));
	STEP(mc, mclient_header(mc, "X-Quarantine", "first only", &r));
	STEP(mc, mclient_abort(mc));
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_rcpt(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_data(mc, &r));
	STEP(mc, mclient_eoh(mc, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(passes_macros_to_the_milter)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "0 0" },
		{ 'h', 0, "X-Echo-Auth", 0, "alice" },
	};
	static const char *const macros[] = { "{auth_authen}", "alice",
					      "{auth_type}", "PLAIN", NULL };
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	const char *mail[] = { "<a@example.org>", NULL };

	STEP(mc, mclient_connect(mc, "client.example", '4', 1, "192.0.2.1",
				 &r));
	STEP(mc, mclient_macros(mc, 'M', macros));
	STEP(mc, mclient_mail(mc, mail, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_rcpt(mc, mail, &r));
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(splits_body_into_65535_byte_chunks)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "4 200000" },
	};
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	char *body = malloc(200000);

	ck_assert_ptr_nonnull(body);
	memset(body, 'a', 200000);
	envelope(mc, "<a@example.org>", "<b@example.org>");
	STEP(mc, mclient_eoh(mc, &r));
	STEP(mc, mclient_body(mc, body, 200000, &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_body(mc, body, 0, &r));
	expect_cmd(&r, 'n');
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	free(body);
	mclient_close(&mc);
}
END_TEST

START_TEST(stops_sending_body_after_skip)
{
	static const struct want_mod want[] = {
		{ 'h', 0, "X-Echo", 0, "yes" },
		{ 'h', 0, "X-Echo-Body", 0, "1 65535" },
	};
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };
	char *body = malloc(200000);

	ck_assert_ptr_nonnull(body);
	memset(body, 'b', 200000);
	memcpy(body, "SKIP", 4);
	envelope(mc, "<a@example.org>", "<b@example.org>");
	STEP(mc, mclient_eoh(mc, &r));
	STEP(mc, mclient_body(mc, body, 200000, &r));
	expect_cmd(&r, 's');
	STEP(mc, mclient_body(mc, body, 10, &r));	/* not sent */
	expect_cmd(&r, 's');
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	expect_mods(&r, want, sizeof want / sizeof want[0]);
	mclient_reply_clear(&r);
	free(body);
	mclient_close(&mc);
}
END_TEST

START_TEST(skips_data_and_unknown_below_their_protocol_versions)
{
	struct mclient *mc = open_spec(spec_plain);
	struct mclient_reply r = { 0 };

	STEP(mc, mclient_optneg(mc, 2, 0x3f, 0x7f, NULL));
	envelope(mc, "<a@example.org>", "<b@example.org>");
	STEP(mc, mclient_unknown(mc, "XYZZY", &r));
	expect_cmd(&r, 'n');
	STEP(mc, mclient_data(mc, &r));
	expect_cmd(&r, 'n');
	STEP(mc, mclient_eom(mc, &r));
	expect_cmd(&r, 'a');
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(reconnects_after_quit_nc)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };

	/* libmilter's state table (engine.c) takes QUIT_NC only after an
	 * end of message answered with continue, or after an unknown
	 * command; echo_milter accepts at end of message */
	STEP(mc, mclient_connect(mc, "first.example", '4', 1, "192.0.2.1",
				 &r));
	STEP(mc, mclient_unknown(mc, "XYZZY", &r));
	expect_cmd(&r, 'y');
	STEP(mc, mclient_quit_nc(mc));
	STEP(mc, mclient_connect(mc, "second.example", '4', 2, "192.0.2.2",
				 &r));
	expect_cmd(&r, 'c');
	STEP(mc, mclient_helo(mc, "second.example", &r));
	expect_cmd(&r, 'c');
	mclient_reply_clear(&r);
	mclient_close(&mc);
}
END_TEST

START_TEST(quits_and_refuses_further_steps)
{
	struct mclient *mc = open_v6(spec_plain, NULL);
	struct mclient_reply r = { 0 };

	STEP(mc, mclient_connect(mc, "client.example", '4', 1, "192.0.2.1",
				 &r));
	STEP(mc, mclient_quit(mc));
	ck_assert_int_eq(mclient_helo(mc, "again", &r), -1);
	ck_assert_str_eq(mclient_error(mc), "session ended with SMFIC_QUIT");
	mclient_close(&mc);
}
END_TEST

/* ---- exact bytes on the wire (fake milter) ----------------------------- */

START_TEST(sends_connect_packet_in_wire_format)
{
	static const unsigned char want[] =
		"\0\0\0\x19" "C" "mx.example\0" "4" "\x09\xdd" "192.0.2.1";
	static const unsigned char want_u[] = "\0\0\0\x07" "C" "host\0" "U";
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 1000);

	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_connect(mc, "mx.example", '4', 2525, "192.0.2.1",
				 &r));
	expect_cmd(&r, 'c');
	peer_expect(peer, want, sizeof want);	/* incl. the final NUL */
	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_connect(mc, "host", 'U', 99, NULL, &r));
	peer_expect(peer, want_u, sizeof want_u - 1);
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(sends_optneg_macros_and_envelope_in_wire_format)
{
	static const unsigned char reply[] =
		"\0\0\0\x06" "\0\0\0\x01" "\0\0\0\0";
	static const unsigned char macro[] =
		"\0\0\0\x13" "D" "M" "{auth_authen}\0" "ab";
	static const unsigned char mail[] =
		"\0\0\0\x0e" "M" "<a@b>\0" "SIZE=1";
	static const unsigned char helo[] = "\0\0\0\x03" "H" "h";
	static const char *const macros[] = { "{auth_authen}", "ab", NULL };
	const char *argv[] = { "<a@b>", "SIZE=1", NULL };
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 1000);

	peer_reply(peer, 'O', reply, sizeof reply - 1);
	STEP(mc, mclient_optneg(mc, 6, MCLIENT_POSTFIX_ACTIONS,
				MCLIENT_POSTFIX_PROTOCOL, &on));
	peer_expect(peer, optneg_v6, sizeof optneg_v6 - 1);
	ck_assert_uint_eq(on.version, 6);
	ck_assert_uint_eq(on.actions, 1);
	ck_assert_uint_eq(on.protocol, 0);
	ck_assert_uint_eq(on.reply_len, 17);
	STEP(mc, mclient_macros(mc, 'M', macros));
	peer_expect(peer, macro, sizeof macro);
	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_mail(mc, argv, &r));
	peer_expect(peer, mail, sizeof mail);
	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_helo(mc, "h", &r));
	peer_expect(peer, helo, sizeof helo);
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(sends_body_in_chunks_of_the_configured_size)
{
	static const unsigned char want[] =
		"\0\0\0\x05" "Babcd" "\0\0\0\x05" "Befgh" "\0\0\0\x03" "Bij";
	struct mclient_limits limits;
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 1000);

	mclient_limits_default(&limits);
	limits.body_chunk = 4;
	STEP(mc, mclient_set_limits(mc, &limits));
	peer_reply(peer, 'c', NULL, 0);
	peer_reply(peer, 'c', NULL, 0);
	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_body(mc, "abcdefghij", 10, &r));
	expect_cmd(&r, 'c');
	peer_expect(peer, want, sizeof want - 1);
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(sends_raw_commands_for_robustness_tests)
{
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 1000);

	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_command(mc, 'X', "a\0b", 3, 1, &r));
	expect_cmd(&r, 'c');
	peer_expect(peer, "\0\0\0\x04" "Xa\0b", 8);
	STEP(mc, mclient_command(mc, 'B', NULL, 0, 0, NULL));
	peer_expect(peer, "\0\0\0\x01" "B", 5);
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(exchanges_raw_packets_without_judging_the_reply)
{
	unsigned char rcmd = 0;
	const unsigned char *data = NULL;
	size_t len = 0;
	int peer;
	struct mclient *mc = open_fake(&peer, 1000);

	/* a reply no step would accept: SMTP bytes as a packet */
	peer_reply(peer, '2', "20 hello", 8);
	STEP(mc, mclient_raw(mc, 'C', "localhost\0U", 11, &rcmd, &data, &len));
	peer_expect(peer, "\0\0\0\x0c" "Clocalhost\0U", 16);
	ck_assert_int_eq(rcmd, '2');
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(data, "20 hello", 9);	/* NUL-terminated */
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(tells_a_refused_connect_by_errno)
{
	char spec[64];
	struct mclient *mc;
	const char *err = NULL;
	int lfd;
	uint16_t port = listening_port(AF_INET, &lfd);

	close(lfd);
	snprintf(spec, sizeof spec, "inet:%u@127.0.0.1", (unsigned) port);
	errno = 0;
	ck_assert_int_eq(mclient_open(spec, 1000, &mc, &err), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	errno = 0;
	ck_assert_int_eq(mclient_open("unix:/nonexistent/mg.sock", 1000, &mc, &err), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(reads_no_reply_where_nr_flags_were_negotiated)
{
	static const unsigned char reply[] =
		"\0\0\0\x06" "\0\0\0\0" "\0\0\x30\x04";	/* NR_CONN|NR_HELO|NOMAIL */
	static const unsigned char want[] =
		"\0\0\0\x07" "C" "host\0" "U" "\0\0\0\x03" "H" "h";
	const char *argv[] = { "<a@b>", NULL };
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 300);

	peer_reply(peer, 'O', reply, sizeof reply - 1);
	STEP(mc, mclient_optneg(mc, 6, MCLIENT_POSTFIX_ACTIONS,
				MCLIENT_POSTFIX_PROTOCOL, NULL));
	peer_expect(peer, optneg_v6, sizeof optneg_v6 - 1);
	STEP(mc, mclient_connect(mc, "host", 'U', 0, NULL, &r));
	expect_cmd(&r, 0);
	STEP(mc, mclient_helo(mc, "h", &r));
	expect_cmd(&r, 0);
	STEP(mc, mclient_mail(mc, argv, &r));
	expect_cmd(&r, 'n');
	peer_expect(peer, want, sizeof want);
	mclient_close(&mc);
	close(peer);
}
END_TEST

/* ---- hostile milter --------------------------------------------------- */

/* Queue raw bytes as the milter's answer to HELO and check the error. */
static void helo_fails_with(const void *bytes, size_t len, int close_peer,
			    const char *error)
{
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 300);

	peer_raw(peer, bytes, len);
	if (close_peer)
		ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
	r.cmd = 'x';
	ck_assert_int_eq(mclient_helo(mc, "h", &r), -1);
	ck_assert_str_eq(mclient_error(mc), error);
	ck_assert_int_eq(r.cmd, 0);
	ck_assert_ptr_null(r.text);
	ck_assert_uint_eq(r.nmods, 0);
	/* out of sync now: every later call fails with the first error */
	ck_assert_int_eq(mclient_eoh(mc, &r), -1);
	ck_assert_int_eq(mclient_abort(mc), -1);
	ck_assert_str_eq(mclient_error(mc), error);
	mclient_close(&mc);
	close(peer);
}

START_TEST(refuses_reply_longer_than_the_limit)
{
	helo_fails_with("\0\xff\xff\xff" "c", 5, 0, "SMFIC_HELO reply: packet "
			"length 16777215 exceeds limit 1048576");
	helo_fails_with("\xff\xff\xff\xff" "c", 5, 0, "SMFIC_HELO reply: packet "
			"length 4294967295 exceeds limit 1048576");
}
END_TEST

START_TEST(refuses_zero_length_packet)
{
	helo_fails_with("\0\0\0\0", 4, 0,
			"SMFIC_HELO reply: bad packet length 0");
}
END_TEST

START_TEST(reports_truncated_packet)
{
	helo_fails_with("\0\0\0\x0a" "y550", 8, 1, "SMFIC_HELO reply: milter "
			"closed the connection after 8 of 14 bytes");
	helo_fails_with("\0\0", 2, 1, "SMFIC_HELO reply: milter closed the "
			"connection after 2 of 4 bytes");
	helo_fails_with("", 0, 1,
			"SMFIC_HELO reply: milter closed the connection");
}
END_TEST

START_TEST(reports_write_to_closed_milter_without_sigpipe)
{
	char want[128];
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 300);

	close(peer);
	snprintf(want, sizeof want, "SMFIC_HELO: write: %s", strerror(EPIPE));
	ck_assert_int_eq(mclient_helo(mc, "h", &r), -1);
	ck_assert_str_eq(mclient_error(mc), want);
	mclient_close(&mc);
}
END_TEST

START_TEST(refuses_unknown_reply_letter)
{
	helo_fails_with("\0\0\0\x01" "Z", 5, 0,
			"SMFIC_HELO reply: unknown reply command 'Z'");
	helo_fails_with("\0\0\0\x01" "\x01", 5, 0,
			"SMFIC_HELO reply: unknown reply command 0x01");
	helo_fails_with("\0\0\0\x0d" "O" "\0\0\0\x06\0\0\0\0\0\0\0\0", 17, 0,
			"SMFIC_HELO reply: unexpected reply 'O' (optneg)");
}
END_TEST

START_TEST(times_out_on_silent_milter)
{
	long long t0 = now_ms(), elapsed;

	helo_fails_with("", 0, 0, "SMFIC_HELO reply: timed out after 300 ms");
	helo_fails_with("\0\0\0\x0a" "y5", 6, 0,
			"SMFIC_HELO reply: timed out after 300 ms");
	elapsed = now_ms() - t0;
	ck_assert_msg(elapsed >= 550 && elapsed < 3000, "took %lld ms",
		      elapsed);
}
END_TEST

START_TEST(refuses_decision_that_carries_data)
{
	helo_fails_with("\0\0\0\x03" "cxy", 7, 0,
			"SMFIC_HELO reply: 'c' (continue) carries 2 data bytes");
	helo_fails_with("\0\0\0\x02" "p!", 6, 0,
			"SMFIC_HELO reply: 'p' (progress) carries 1 data bytes");
}
END_TEST

START_TEST(refuses_malformed_reply_text)
{
	helo_fails_with("\0\0\0\x05" "hA\0b\0", 9, 0,
			"SMFIC_HELO reply: unexpected reply 'h' (addheader) "
			"before end of message");
	helo_fails_with("\0\0\0\x07" "yhello\0", 11, 0,
			"SMFIC_HELO reply: malformed reply text \"hello\"");
	helo_fails_with("\0\0\0\x09" "y250 2.0\0", 13, 0,
			"SMFIC_HELO reply: malformed reply text \"250 2.0\"");
	helo_fails_with("\0\0\0\x09" "y550 4.0\0", 13, 0,
			"SMFIC_HELO reply: malformed reply text \"550 4.0\"");
	helo_fails_with("\0\0\0\x09" "y550 5.0\x01", 13, 0,
			"SMFIC_HELO reply: reply text is not NUL-terminated");
	helo_fails_with("\0\0\0\x09" "y550\0005.0\0", 13, 0,
			"SMFIC_HELO reply: reply text contains NUL");
}
END_TEST

/* Queue bytes as the answer to end of message and check the error. */
static void eom_fails_with(const struct mclient_limits *limits,
			   const void *bytes, size_t len, const char *error)
{
	struct mclient_reply r = { 0 };
	int peer;
	struct mclient *mc = open_fake(&peer, 300);

	if (limits != NULL)
		STEP(mc, mclient_set_limits(mc, limits));
	peer_raw(peer, bytes, len);
	ck_assert_int_eq(mclient_eom(mc, &r), -1);
	ck_assert_str_eq(mclient_error(mc), error);
	ck_assert_uint_eq(r.nmods, 0);
	ck_assert_ptr_null(r.mods);
	mclient_close(&mc);
	close(peer);
}

START_TEST(refuses_unterminated_or_padded_edits)
{
	eom_fails_with(NULL, "\0\0\0\x04" "hX\0y", 8, "SMFIC_BODYEOB reply: "
		       "'h' (addheader): string not NUL-terminated");
	eom_fails_with(NULL, "\0\0\0\x06" "hX\0y\0z", 10, "SMFIC_BODYEOB "
		       "reply: 'h' (addheader) has 1 bytes of trailing data");
	eom_fails_with(NULL, "\0\0\0\x03" "m\0\0", 7, "SMFIC_BODYEOB reply: "
		       "'m' (chgheader) too short for a header index");
	eom_fails_with(NULL, "\0\0\0\x04" "+a\0b", 8, "SMFIC_BODYEOB reply: "
		       "'+' (addrcpt) has 1 bytes of trailing data");
}
END_TEST

START_TEST(caps_the_number_of_edits_and_progress_packets)
{
	static const unsigned char three_h[] =
		"\0\0\0\x05" "hA\0b\0" "\0\0\0\x05" "hA\0b\0"
		"\0\0\0\x05" "hA\0b\0" "\0\0\0\x01" "a";
	static const unsigned char four_p[] =
		"\0\0\0\x01" "p" "\0\0\0\x01" "p" "\0\0\0\x01" "p"
		"\0\0\0\x01" "p" "\0\0\0\x01" "a";
	struct mclient_limits limits;

	mclient_limits_default(&limits);
	limits.max_mods = 2;
	eom_fails_with(&limits, three_h, sizeof three_h - 1, "SMFIC_BODYEOB "
		       "reply: more than 2 modification requests");
	mclient_limits_default(&limits);
	limits.max_mods_bytes = 7;
	eom_fails_with(&limits, three_h, sizeof three_h - 1, "SMFIC_BODYEOB "
		       "reply: modification data exceeds 7 bytes");
	mclient_limits_default(&limits);
	limits.max_progress = 3;
	eom_fails_with(&limits, four_p, sizeof four_p - 1, "SMFIC_BODYEOB "
		       "reply: more than 3 progress packets");
	mclient_limits_default(&limits);
	limits.max_reply_len = 100;
	eom_fails_with(&limits, "\0\0\0\x65" "b", 5, "SMFIC_BODYEOB reply: "
		       "packet length 101 exceeds limit 100");
}
END_TEST

/* Answer OPTNEG with bytes and check the error. */
static void optneg_fails_with(const void *bytes, size_t len, const char *error)
{
	int peer;
	struct mclient_optneg on;
	struct mclient *mc = open_fake(&peer, 300);

	peer_raw(peer, bytes, len);
	ck_assert_int_eq(mclient_optneg(mc, 6, MCLIENT_POSTFIX_ACTIONS,
					MCLIENT_POSTFIX_PROTOCOL, &on), -1);
	ck_assert_str_eq(mclient_error(mc), error);
	ck_assert_uint_eq(on.reply_len, 0);
	mclient_close(&mc);
	close(peer);
}

START_TEST(refuses_bad_optneg_replies)
{
	optneg_fails_with("\0\0\0\x01" "c", 5, "SMFIC_OPTNEG reply: "
			  "unexpected reply 'c' (continue)");
	optneg_fails_with("\0\0\0\x09" "O" "\0\0\0\x06\0\0\0\0", 13,
			  "SMFIC_OPTNEG reply: packet too short (8 data bytes, "
			  "need 12)");
	optneg_fails_with("\0\0\0\x0d" "O" "\0\0\0\x07\0\0\0\0\0\0\0\0", 17,
			  "SMFIC_OPTNEG reply: milter version 7 is higher than "
			  "offered 6");
	optneg_fails_with("\0\0\0\x0d" "O" "\0\0\0\x06\0\0\x02\x01\0\0\0\0",
			  17, "SMFIC_OPTNEG reply: milter requests actions "
			  "0x200 that were not offered (0x1ff)");
	optneg_fails_with("\0\0\0\x12" "O" "\0\0\0\x06\0\0\0\0\0\0\0\0"
			  "\0\0\0\0j", 22, "SMFIC_OPTNEG reply: symbol list 0 "
			  "is not NUL-terminated");
	optneg_fails_with("\0\0\0\x0f" "O" "\0\0\0\x06\0\0\0\0\0\0\0\0\0\0",
			  19, "SMFIC_OPTNEG reply: symbol list: 2 stray bytes");
}
END_TEST

START_TEST(keeps_unknown_symbol_list_stages_out)
{
	static const unsigned char reply[] =
		"\0\0\0\x06" "\0\0\0\0" "\0\0\0\0"
		"\0\0\0\x09" "x\0" "\0\0\0\x06" "j k";
	int peer;
	struct mclient_optneg on;
	struct mclient *mc = open_fake(&peer, 300);

	peer_reply(peer, 'O', reply, sizeof reply);
	STEP(mc, mclient_optneg(mc, 6, 0x1ff, 0, &on));
	ck_assert_uint_eq(on.reply_len, 5 + sizeof reply);
	ck_assert_str_eq(mclient_symlist(mc, 6), "j k");
	ck_assert_ptr_null(mclient_symlist(mc, 0));
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(refuses_bad_arguments_without_breaking_the_session)
{
	static const char *const odd[] = { "j", NULL };
	struct mclient_limits limits;
	struct mclient_reply r = { 0 };
	const char *empty[] = { NULL };
	char big[64];
	int peer;
	struct mclient *mc = open_fake(&peer, 300);

	ck_assert_int_eq(mclient_mail(mc, empty, &r), -1);
	ck_assert_str_eq(mclient_error(mc),
			 "SMFIC_MAIL: argv needs at least the address");
	ck_assert_int_eq(mclient_connect(mc, "h", 'X', 0, "a", &r), -1);
	ck_assert_str_eq(mclient_error(mc),
			 "SMFIC_CONNECT: unknown address family 0x58");
	ck_assert_int_eq(mclient_macros(mc, 'C', odd), -1);
	ck_assert_str_eq(mclient_error(mc), "SMFIC_MACRO: odd number of "
			 "strings in the name/value list");
	mclient_limits_default(&limits);
	limits.max_send_len = 16;
	limits.body_chunk = 8;
	STEP(mc, mclient_set_limits(mc, &limits));
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(mclient_header(mc, "Subject", big, &r), -1);
	ck_assert_str_eq(mclient_error(mc),
			 "SMFIC_HEADER: packet larger than max_send_len 16");
	limits.body_chunk = 16;
	ck_assert_int_eq(mclient_set_limits(mc, &limits), -1);
	ck_assert_int_eq(mclient_set_timeout(mc, 0), -1);
	/* nothing was sent; the session still works */
	peer_reply(peer, 'c', NULL, 0);
	STEP(mc, mclient_helo(mc, "h", &r));
	expect_cmd(&r, 'c');
	peer_expect(peer, "\0\0\0\x03" "Hh", 7);
	mclient_close(&mc);
	close(peer);
}
END_TEST

START_TEST(names_reply_letters)
{
	ck_assert_str_eq(mclient_reply_name('c'), "continue");
	ck_assert_str_eq(mclient_reply_name('r'), "reject");
	ck_assert_str_eq(mclient_reply_name('y'), "replycode");
	ck_assert_str_eq(mclient_reply_name('q'), "quarantine");
	ck_assert_str_eq(mclient_reply_name('n'), "not sent");
	ck_assert_str_eq(mclient_reply_name(0), "no reply");
	ck_assert_str_eq(mclient_reply_name('Z'), "unknown");
}
END_TEST

/* ---- opening sockets ----------------------------------------------------- */

static void open_fails_with(const char *spec, const char *error)
{
	struct mclient *mc = (struct mclient *) &mc;	/* must become NULL */
	const char *err = NULL;

	ck_assert_int_eq(mclient_open(spec, 300, &mc, &err), -1);
	ck_assert_ptr_null(mc);
	ck_assert_str_eq(err, error);
}

START_TEST(refuses_bad_socket_specs)
{
	char path[300], spec[320], want[400];

	open_fails_with("tcp:1@x", "socket spec \"tcp:1@x\": unknown type "
			"(expected unix:/path, local:/path, inet:PORT@HOST or "
			"inet6:PORT@HOST)");
	open_fails_with("inet:localhost:8891", "socket spec "
			"\"inet:localhost:8891\": bad port (the syntax is "
			"inet:PORT@HOST)");
	open_fails_with("inet:0@127.0.0.1", "socket spec \"inet:0@127.0.0.1\": "
			"bad port (the syntax is inet:PORT@HOST)");
	open_fails_with("inet6:70000@[::1]", "socket spec "
			"\"inet6:70000@[::1]\": bad port (the syntax is "
			"inet6:PORT@HOST)");
	open_fails_with("inet:25@", "socket spec \"inet:25@\": bad host");
	open_fails_with("unix:", "socket spec \"unix:\": empty path");
	memset(path, 'x', 200);
	path[0] = '/';
	path[200] = '\0';
	snprintf(spec, sizeof spec, "unix:%s", path);
	snprintf(want, sizeof want, "socket spec \"%s\": path too long (200 "
		 "bytes, limit 107)", spec);
	open_fails_with(spec, want);
	snprintf(want, sizeof want, "connect to local:/nonexistent/x.sock: %s",
		 strerror(ENOENT));
	open_fails_with("local:/nonexistent/x.sock", want);
}
END_TEST

START_TEST(opens_inet_and_inet6_specs)
{
	char spec[64], want[128];
	struct mclient *mc;
	int lfd;
	uint16_t port = listening_port(AF_INET, &lfd);

	snprintf(spec, sizeof spec, "inet:%u@127.0.0.1", (unsigned) port);
	mc = open_spec(spec);
	mclient_close(&mc);
	snprintf(spec, sizeof spec, "inet:%u", (unsigned) port);
	mc = open_spec(spec);
	mclient_close(&mc);
	snprintf(spec, sizeof spec, "inet:%u@localhost", (unsigned) port);
	mc = open_spec(spec);
	mclient_close(&mc);
	close(lfd);
	snprintf(spec, sizeof spec, "inet:%u@127.0.0.1", (unsigned) port);
	snprintf(want, sizeof want, "connect to %s: %s", spec,
		 strerror(ECONNREFUSED));
	open_fails_with(spec, want);

	port = listening_port(AF_INET6, &lfd);
	if (port == 0) {
		/* said aloud, not a silent pass: the host has no ::1 */
		fprintf(stderr, "test_mclient: no IPv6 loopback here, "
			"inet6 spec not connected\n");
		return;
	}
	snprintf(spec, sizeof spec, "inet6:%u@[::1]", (unsigned) port);
	mc = open_spec(spec);
	mclient_close(&mc);
	snprintf(spec, sizeof spec, "inet6:%u@::1", (unsigned) port);
	mc = open_spec(spec);
	mclient_close(&mc);
	close(lfd);
}
END_TEST

/* ---- suite and fixture --------------------------------------------------- */

static Suite *mclient_suite(void)
{
	Suite *s = suite_create("mclient");
	TCase *tc = tcase_create("echo_milter");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, negotiates_v6_with_symbol_list);
	tcase_add_test(tc, negotiates_v2_with_classic_17_byte_reply);
	tcase_add_test(tc, continues_through_connect_helo_mail_rcpt_data);
	tcase_add_test(tc, rejects_sender_with_reply_text);
	tcase_add_test(tc, discards_sender_with_bare_letter);
	tcase_add_test(tc, tempfails_recipient_without_text);
	tcase_add_test(tc, answers_unknown_command_with_421_text);
	tcase_add_test(tc, returns_header_and_quarantine_edits_at_end_of_message);
	tcase_add_test(tc, parses_every_kind_of_edit_and_skips_progress);
	tcase_add_test(tc, sends_no_reply_for_headers_when_nr_hdr_negotiated);
	tcase_add_test(tc, skips_helo_when_nohelo_negotiated);
	tcase_add_test(tc, starts_second_message_after_abort);
	tcase_add_test(tc, passes_macros_to_the_milter);
	tcase_add_test(tc, splits_body_into_65535_byte_chunks);
	tcase_add_test(tc, stops_sending_body_after_skip);
	tcase_add_test(tc, skips_data_and_unknown_below_their_protocol_versions);
	tcase_add_test(tc, reconnects_after_quit_nc);
	tcase_add_test(tc, quits_and_refuses_further_steps);
	suite_add_tcase(s, tc);

	tc = tcase_create("wire");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sends_connect_packet_in_wire_format);
	tcase_add_test(tc, sends_optneg_macros_and_envelope_in_wire_format);
	tcase_add_test(tc, sends_body_in_chunks_of_the_configured_size);
	tcase_add_test(tc, sends_raw_commands_for_robustness_tests);
	tcase_add_test(tc, exchanges_raw_packets_without_judging_the_reply);
	tcase_add_test(tc, tells_a_refused_connect_by_errno);
	tcase_add_test(tc, reads_no_reply_where_nr_flags_were_negotiated);
	tcase_add_test(tc, keeps_unknown_symbol_list_stages_out);
	tcase_add_test(tc, names_reply_letters);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, refuses_reply_longer_than_the_limit);
	tcase_add_test(tc, refuses_zero_length_packet);
	tcase_add_test(tc, reports_truncated_packet);
	tcase_add_test(tc, reports_write_to_closed_milter_without_sigpipe);
	tcase_add_test(tc, refuses_unknown_reply_letter);
	tcase_add_test(tc, times_out_on_silent_milter);
	tcase_add_test(tc, refuses_decision_that_carries_data);
	tcase_add_test(tc, refuses_malformed_reply_text);
	tcase_add_test(tc, refuses_unterminated_or_padded_edits);
	tcase_add_test(tc, caps_the_number_of_edits_and_progress_packets);
	tcase_add_test(tc, refuses_bad_optneg_replies);
	tcase_add_test(tc, refuses_bad_arguments_without_breaking_the_session);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, refuses_bad_socket_specs);
	tcase_add_test(tc, opens_inet_and_inet6_specs);
	suite_add_tcase(s, tc);
	return s;
}

/* Start exe on a unix socket in tmpdir; wait for its pidfile. */
static pid_t start_milter(const char *exe, const char *name, int nr,
			  char *spec, size_t spec_size, char *pidfile,
			  size_t pidfile_size)
{
	long long deadline = now_ms() + 10000;
	int status;
	pid_t pid;

	snprintf(spec, spec_size, "unix:%s/%s.sock", tmpdir, name);
	snprintf(pidfile, pidfile_size, "%s/%s.pid", tmpdir, name);
	if ((pid = fork()) < 0) {
		perror("test_mclient: fork");
		return -1;
	}
	if (pid == 0) {
		execl(exe, exe, "-p", spec, "-P", pidfile,
		      nr ? "-N" : (char *) NULL, (char *) NULL);
		fprintf(stderr, "test_mclient: exec %s: %s\n", exe,
			strerror(errno));
		_exit(127);
	}
	while (access(pidfile, F_OK) != 0) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "test_mclient: %s exited early "
				"(status %d)\n", exe, status);
			return -1;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "test_mclient: %s did not start\n",
				exe);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		(void) poll(NULL, 0, 10);
	}
	return pid;
}

static void stop_milter(pid_t pid, const char *spec, const char *pidfile)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (spec[0] != '\0')
		unlink(spec + strlen("unix:"));
	if (pidfile[0] != '\0')
		unlink(pidfile);
}

int main(int argc, char **argv)
{
	const char *exe = argc > 1 ? argv[1] : getenv("ECHO_MILTER");
	SRunner *sr;
	int failed = 1;

	if (exe == NULL || exe[0] == '\0') {
		fprintf(stderr, "test_mclient: give the echo_milter path as "
			"argv[1] or in ECHO_MILTER\n");
		return EXIT_FAILURE;
	}
	snprintf(tmpdir, sizeof tmpdir, "/tmp/mclient-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("test_mclient: mkdtemp");
		return EXIT_FAILURE;
	}
	pid_plain = start_milter(exe, "plain", 0, spec_plain,
				 sizeof spec_plain, pidfile_plain,
				 sizeof pidfile_plain);
	if (pid_plain > 0)
		pid_nr = start_milter(exe, "nr", 1, spec_nr, sizeof spec_nr,
				      pidfile_nr, sizeof pidfile_nr);
	if (pid_plain > 0 && pid_nr > 0) {
		sr = srunner_create(mclient_suite());
		srunner_run_all(sr, CK_NORMAL);
		failed = srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	stop_milter(pid_plain, spec_plain, pidfile_plain);
	stop_milter(pid_nr, spec_nr, pidfile_nr);
	rmdir(tmpdir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
