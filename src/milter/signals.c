/*
 * signals.c -- our own signal thread
 *
 * SIGHUP, SIGTERM and SIGINT are blocked in every thread (the mask is set
 * before any thread starts) and taken here with sigwaitinfo(): SIGHUP
 * reloads the config and reopens the audit log; SIGTERM and SIGINT remove
 * the unix socket (no new sessions), give the sessions in flight up to
 * STOP_GRACE_MS to end while libmilter still serves them, and shut down as
 * soon as they have.  (smfi_stop() would not do: libmilter's worker pool
 * stops reading every session at once, so a message in flight would hang
 * until the grace ran out and then be lost.)  sigwait.c keeps libmilter's own signal thread off them.
 */
#include "mg.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define STOP_GRACE_MS 1500	/* + shutdown: out within 2 s of SIGTERM */
#define STOP_POLL_MS 10

static sigset_t mg_sigs;
static const struct mg_options *sig_opt;
static void (*sig_shutdown)(const char *why);

int
mg_signals_block(void)
{
	sigemptyset(&mg_sigs);
	sigaddset(&mg_sigs, SIGHUP);
	sigaddset(&mg_sigs, SIGTERM);
	sigaddset(&mg_sigs, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, &mg_sigs, NULL) == 0 ? 0 : -1;
}

static long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* By the clock, not by counting naps: a loaded host oversleeps. */
static void
wait_for_sessions(void)
{
	struct timespec pause = { 0, STOP_POLL_MS * 1000000L };
	long deadline = monotonic_ms() + STOP_GRACE_MS;

	while (mg_active_sessions() > 0 && monotonic_ms() < deadline)
		nanosleep(&pause, NULL);
	if (mg_active_sessions() > 0)
		mg_log(LOG_WARNING, "stop: %lu sessions still open after %d ms; "
		       "closing them (the MTA applies its milter default action)",
		       mg_active_sessions(), STOP_GRACE_MS);
}

static void *
signal_thread(void *arg)
{
	for (;;) {
		int sig = sigwaitinfo(&mg_sigs, NULL);

		if (sig < 0)
			continue;	/* EINTR */
		if (sig == SIGHUP) {
			mg_log(LOG_INFO, "SIGHUP: reloading %s", sig_opt->config_shown);
			mg_reload(sig_opt);
			continue;
		}
		mg_log(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		mg_stop_requested(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		wait_for_sessions();
		sig_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return NULL;
	}
}

int
mg_signals_start(const struct mg_options *opt, void (*shutdown)(const char *why))
{
	pthread_t t;
	int r;

	sig_opt = opt;
	sig_shutdown = shutdown;
	r = pthread_create(&t, NULL, signal_thread, NULL);
	if (r != 0) {
		mg_log(LOG_ERR, "cannot start the signal thread: %s", strerror(r));
		return -1;
	}
	pthread_detach(t);
	return 0;
}
