/*
 * test_lifecycle.c -- reloads, stops and crashes while mail flows
 *
 * LOAD_THREADS client threads play Postfix against the daemon: sessions of
 * MSGS_PER_SESSION messages, clean and injected in turn.  Every message's
 * final reply is checked (continue at end of message for a clean one,
 * "553 5.1.7" at MAIL for an injected one) and counted: ok, wrong (any
 * other reply) or dropped (an I/O error after MAIL was sent).  Meanwhile
 * the daemon takes 100 SIGHUPs and a broken config, a SIGTERM, or a
 * SIGKILL and a restart on the stale socket and pidfile.  No message may
 * get a wrong verdict, and none may be dropped except, at SIGKILL, the
 * ones in flight (at most one a thread).
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/mclient.h"
#include "mgd.h"

#define LOAD_THREADS		4
#define MSGS_PER_SESSION	5
#define PAUSE_MS		2	/* between messages: a load, not a CPU hog */
#define INJECTED	"<;sleep 66;>"
#define INJECTED_REPLY	"553 5.1.7 sender address rejected by policy (mail.injection)"

static struct mgd d;

/* --- the load ------------------------------------------------------------------ */

struct load {
	pthread_t t[LOAD_THREADS];
	atomic_bool stop;		/* finish the session, start no other */
	atomic_ulong ok, wrong, dropped;
	atomic_ulong sessions, refused;	/* refused: no session could start */
	char wrong_what[256];		/* the first wrong reply, for the message */
	pthread_mutex_t lock;
};

static struct load load;

static void
note_wrong(const char *what, const struct mclient_reply *r)
{
	pthread_mutex_lock(&load.lock);
	if (load.wrong_what[0] == '\0')
		snprintf(load.wrong_what, sizeof(load.wrong_what), "%s: '%c' %s", what,
			 r->cmd ? r->cmd : '0', r->text ? r->text : "");
	pthread_mutex_unlock(&load.lock);
	atomic_fetch_add(&load.wrong, 1);
}

/* One message; false if the connection failed under it. */
static bool
one_message(struct mclient *mc, unsigned n)
{
	const char *bad[] = { INJECTED, NULL }, *good[] = { "<alice@example.org>", NULL };
	const char *rcpt[] = { "<bob@example.com>", NULL }, *qid[] = { "i", "L1FE", NULL };
	struct mclient_reply r = { 0 };
	bool io = true;

	if (n % 2 == 1) {
		if (mclient_mail(mc, bad, &r) < 0)
			io = false;
		else if (r.cmd != 'y' || strcmp(r.text, INJECTED_REPLY) != 0)
			note_wrong("injected MAIL", &r);
		else
			atomic_fetch_add(&load.ok, 1);
		goto out;
	}
	if (mclient_mail(mc, good, &r) < 0 || mclient_rcpt(mc, rcpt, &r) < 0 ||
	    mclient_header(mc, "From", " alice@example.org", &r) < 0 ||
	    mclient_header(mc, "Date", " Mon, 23 Nov 2026 19:00:00 +0000", &r) < 0 ||
	    mclient_eoh(mc, &r) < 0 || mclient_body(mc, "hello\r\n", 7, &r) < 0 ||
	    mclient_macros(mc, SMFIC_BODYEOB, qid) < 0 || mclient_eom(mc, &r) < 0)
		io = false;
	else if (r.cmd != 'c' || r.nmods != 0)
		note_wrong("clean message", &r);
	else
		atomic_fetch_add(&load.ok, 1);
out:
	if (!io)
		atomic_fetch_add(&load.dropped, 1);
	mclient_reply_clear(&r);
	return io;
}

static void *
load_thread(void *arg)
{
	char spec[320];

	snprintf(spec, sizeof(spec), "unix:%s", d.sock);
	while (!atomic_load(&load.stop)) {
		struct mclient *mc;
		struct mclient_reply r = { 0 };
		const char *err;
		bool live = true;

		if (mclient_open(spec, 5000, &mc, &err) < 0) {
			atomic_fetch_add(&load.refused, 1);
			break;	/* the daemon is gone: stop */
		}
		if (mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
				   MCLIENT_POSTFIX_PROTOCOL, NULL) < 0 ||
		    mclient_connect(mc, "client.test.example", '4', 50123, "192.0.2.25", &r) < 0 ||
		    mclient_helo(mc, "client.test.example", &r) < 0) {
			atomic_fetch_add(&load.refused, 1);
			mclient_reply_clear(&r);
			mclient_close(&mc);
			break;
		}
		mclient_reply_clear(&r);
		atomic_fetch_add(&load.sessions, 1);
		for (unsigned n = 0; n < MSGS_PER_SESSION && live; n++) {
			live = one_message(mc, n);
			mgd_sleep_ms(PAUSE_MS);
		}
		if (live)
			mclient_quit(mc);
		mclient_close(&mc);
		if (!live)
			break;
	}
	return arg;
}

static void
load_start(void)
{
	memset(&load, 0, sizeof(load));
	pthread_mutex_init(&load.lock, NULL);
	for (int i = 0; i < LOAD_THREADS; i++)
		ck_assert_int_eq(pthread_create(&load.t[i], NULL, load_thread, NULL), 0);
	while (atomic_load(&load.ok) < 20 && atomic_load(&load.refused) == 0)
		mgd_sleep_ms(5);
}

static void
load_join(void)
{
	atomic_store(&load.stop, true);
	for (int i = 0; i < LOAD_THREADS; i++)
		pthread_join(load.t[i], NULL);
	pthread_mutex_destroy(&load.lock);
	fprintf(stderr, "lifecycle: %lu messages ok, %lu wrong, %lu dropped, %lu sessions, "
		"%lu refused\n", atomic_load(&load.ok), atomic_load(&load.wrong),
		atomic_load(&load.dropped), atomic_load(&load.sessions),
		atomic_load(&load.refused));
	ck_assert_msg(atomic_load(&load.wrong) == 0, "%lu wrong verdicts, the first %s",
		      atomic_load(&load.wrong), load.wrong_what);
}

static size_t
count_events(const char *type, size_t from)
{
	json_t *evs = mgd_events_since(&d, from), *ev;
	size_t i, n = 0;

	json_array_foreach(evs, i, ev)
		n += strcmp(mgd_str(ev, "type"), type) == 0;
	json_decref(evs);
	return n;
}

static void
wait_event(const char *type, size_t from, size_t n)
{
	for (int i = 0; i < 500 && count_events(type, from) < n; i++)
		mgd_sleep_ms(10);
	ck_assert_uint_ge(count_events(type, from), n);
}

/* --- the cases --------------------------------------------------------------- */

/* 100 SIGHUPs, between two configs that give the same verdicts, then a
   broken config: every message gets its verdict, the broken one is
   refused with a reload_failed event, and the old policy stays. */
START_TEST(serves_every_message_through_100_sighups_and_a_broken_reload)
{
	size_t before;
	long t0;

	mgd_start(&d, "AuditSampleLength 80");
	before = mgd_audit_lines(&d);
	load_start();
	t0 = mgd_now_ms();
	for (int i = 0; i < 100; i++) {
		mgd_write_config(&d, i % 2 ? "AuditSampleLength 80" : "AuditSampleLength 100");
		ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
		mgd_sleep_ms(10);
	}
	wait_event("reload", before, 1);
	fprintf(stderr, "lifecycle: 100 SIGHUPs in %ld ms, %zu reloads\n", mgd_now_ms() - t0,
		count_events("reload", before));
	mgd_write_config(&d, "Mode bogus");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	wait_event("reload_failed", before, 1);
	mgd_sleep_ms(200);	/* the load runs on under the old policy */
	load_join();
	ck_assert_uint_eq(atomic_load(&load.dropped), 0);
	ck_assert_uint_eq(atomic_load(&load.refused), 0);
	ck_assert_uint_eq(count_events("stop", before), 0);
	ck_assert_int_eq(kill(d.pid, 0), 0);
	mgd_kill(&d);
}
END_TEST

/* SIGTERM under load: the message in flight finishes, the daemon is
   gone within 2 s with its socket and pidfile, and nothing is dropped. */
START_TEST(sigterm_lets_the_message_in_flight_finish_and_exits_within_2_s)
{
	struct mclient *mc;
	struct mclient_reply r = { 0 };
	const char *good[] = { "<alice@example.org>", NULL }, *rcpt[] = { "<b@example.com>", NULL };
	const char *qid[] = { "i", "T3RM", NULL };
	struct stat st;
	int status;
	long t0, exit_ms;
	pid_t pid;

	mgd_start(&d, "");
	load_start();
	mc = mgd_session(&d);
	ck_assert_int_eq(mclient_mail(mc, good, &r), 0);
	ck_assert_int_eq(mclient_rcpt(mc, rcpt, &r), 0);
	ck_assert_int_eq(mclient_header(mc, "From", " alice@example.org", &r), 0);
	ck_assert_int_eq(mclient_eoh(mc, &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	pid = d.pid;
	t0 = mgd_now_ms();
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	mgd_sleep_ms(300);	/* the MTA is slow with the rest */
	ck_assert_int_eq(mclient_body(mc, "the rest\r\n", 10, &r), 0);
	ck_assert_int_eq(mclient_macros(mc, SMFIC_BODYEOB, qid), 0);
	ck_assert_msg(mclient_eom(mc, &r) == 0, "%s", mclient_error(mc));
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	mclient_quit(mc);
	mclient_close(&mc);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	exit_ms = mgd_now_ms() - t0;
	d.pid = 0;
	load_join();
	fprintf(stderr, "lifecycle: SIGTERM under load: exit after %ld ms\n", exit_ms);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_lt(exit_ms, 2000);
	ck_assert_uint_eq(atomic_load(&load.dropped), 0);
	ck_assert_int_ne(stat(d.sock, &st), 0);
	ck_assert_int_ne(stat(d.pidfile, &st), 0);
	ck_assert_uint_eq(count_events("stop", 0), 1);
	mgd_kill(&d);
}
END_TEST

/* A session that never ends (an MTA's idle SMTP client) holds the stop
   for the grace only: out within 2 s all the same. */
START_TEST(sigterm_exits_within_2_s_beside_a_session_that_never_ends)
{
	struct mclient *idle;
	struct stat st;
	long t0, exit_ms;
	int status;

	mgd_start(&d, "");
	idle = mgd_session(&d);
	t0 = mgd_now_ms();
	status = mgd_stop(&d, SIGTERM);
	exit_ms = mgd_now_ms() - t0;
	mclient_close(&idle);
	fprintf(stderr, "lifecycle: SIGTERM beside an idle session: exit after %ld ms\n",
		exit_ms);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_ge(exit_ms, 1400);	/* it did wait for the session */
	ck_assert_int_lt(exit_ms, 2000);
	ck_assert_int_ne(stat(d.sock, &st), 0);
	ck_assert_int_ne(stat(d.pidfile, &st), 0);
	mgd_kill(&d);
}
END_TEST

/* SIGKILL under load leaves the socket and the pidfile; a restart takes
   them over, and the load is served again.  Only the messages in flight
   at the kill are lost. */
START_TEST(restarts_over_the_stale_socket_and_pidfile_of_a_sigkill)
{
	struct stat st;
	unsigned long dropped;
	struct mclient *mc;

	mgd_start(&d, "");
	load_start();
	mgd_stop(&d, SIGKILL);
	load_join();
	dropped = atomic_load(&load.dropped);
	fprintf(stderr, "lifecycle: SIGKILL: %lu messages dropped (%d threads, one "
		"message each at most)\n", dropped, LOAD_THREADS);
	ck_assert_uint_le(dropped, LOAD_THREADS);
	ck_assert_int_eq(stat(d.sock, &st), 0);		/* stale, left by the crash */
	ck_assert_int_eq(stat(d.pidfile, &st), 0);
	mgd_restart(&d);
	load_start();
	mgd_sleep_ms(200);
	load_join();
	ck_assert_uint_eq(atomic_load(&load.dropped), 0);
	ck_assert_uint_eq(atomic_load(&load.refused), 0);
	ck_assert_uint_gt(atomic_load(&load.ok), 20);
	mc = mgd_session(&d);
	mclient_close(&mc);
	mgd_kill(&d);
}
END_TEST

/* A second daemon on a live socket leaves it alone and exits 69. */
START_TEST(a_second_daemon_does_not_take_over_a_live_socket)
{
	int status;
	size_t before;

	mgd_start(&d, "");
	before = mgd_audit_lines(&d);
	status = mgd_start_again(&d);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 69);	/* EX_UNAVAILABLE */
	ck_assert_uint_eq(mgd_audit_lines(&d), before);
	load_start();
	load_join();
	ck_assert_uint_eq(atomic_load(&load.dropped), 0);
	mgd_kill(&d);
}
END_TEST

static Suite *
lifecycle_suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("load");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, serves_every_message_through_100_sighups_and_a_broken_reload);
	tcase_add_test(tc, sigterm_lets_the_message_in_flight_finish_and_exits_within_2_s);
	tcase_add_test(tc, sigterm_exits_within_2_s_beside_a_session_that_never_ends);
	tcase_add_test(tc, restarts_over_the_stale_socket_and_pidfile_of_a_sigkill);
	tcase_add_test(tc, a_second_daemon_does_not_take_over_a_live_socket);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return mgd_run(lifecycle_suite());
}
