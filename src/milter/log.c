/*
 * log.c -- operational messages: syslog, or stderr with -f
 *
 * One printf-checked entry point.  Messages read "subject: problem:
 * detail"; callers escape every attacker byte before it gets here.
 *
 * On stderr (-f: systemd's journal, a container's log collector) a line
 * waits at most LOG_WAIT_MS for a reader that has stopped reading; lines
 * that could not wait are counted (once one could not, the next ones only
 * look whether stderr reads again, without waiting) and the count is
 * logged when stderr takes lines again.  A thread that logs while
 * holding a lock (the audit sinks) thus never holds it for long.
 */
#include "mg.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_WAIT_MS	200	/* a stalled reader of stderr, at most */
#define LINES_PIECE	4096	/* a pipe that polls writable takes this */
#define LOG_LINE_MAX	2048

static bool log_stderr;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* One writer at a time on any descriptor: stdout and stderr may be one
   pipe, and poll() saying it takes a piece holds only if nobody else
   writes in between.  Innermost: nothing logs under it. */
static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mg_lines log_err = { STDERR_FILENO, false };
static unsigned long log_dropped;	/* lines stderr did not take */

long long
mg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write until the deadline: each piece only when poll() says fd takes it,
   and no larger than a pipe then takes without blocking. */
static int
put_within(int fd, const char *buf, size_t len, long long deadline, size_t *done_r)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long long left = deadline - mg_mono_ms();
		size_t piece = len - done < LINES_PIECE ? len - done : LINES_PIECE;
		ssize_t n;
		int r;

		r = poll(&p, 1, left > 0 ? (int)left : 0);	/* past it: a look */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			break;
		}
		n = write(fd, buf + done, piece);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			break;
		}
		done += (size_t)n;
	}
	*done_r = done;
	return done == len ? 0 : -1;
}

int
mg_lines_put(struct mg_lines *w, const char *buf, size_t len, int wait_ms)
{
	long long deadline = mg_mono_ms() + wait_ms;
	size_t done;
	int rc = -1;

	pthread_mutex_lock(&lines_lock);
	if (w->partial) {
		if (put_within(w->fd, "\n", 1, deadline, &done) < 0)
			goto out;
		w->partial = false;
	}
	if (put_within(w->fd, buf, len, deadline, &done) == 0)
		rc = 0;
	else
		w->partial = done > 0;
out:
	pthread_mutex_unlock(&lines_lock);
	return rc;
}

static const struct {
	const char *name;
	int facility;
} facility_table[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
mg_log_facility(const char *name)
{
	for (size_t i = 0; name && i < sizeof(facility_table) / sizeof(facility_table[0]); i++)
		if (strcmp(facility_table[i].name, name) == 0)
			return facility_table[i].facility;
	return LOG_MAIL;
}

void
mg_log_open(bool to_stderr, const char *facility)
{
	log_stderr = to_stderr;
	if (to_stderr)
		return;
	openlog(MG_NAME, LOG_PID | LOG_NDELAY, mg_log_facility(facility));
}

void
mg_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_stderr) {
		static const char *const level[] = {
			"emerg", "alert", "crit", "error", "warning", "notice",
			"info", "debug"
		};
		char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 64], note[128];
		int n, k;

		vsnprintf(msg, sizeof(msg), fmt, ap);
		n = snprintf(line, sizeof(line), "%s: %s: %s\n", MG_NAME, level[prio & 7], msg);
		pthread_mutex_lock(&log_lock);
		if (log_dropped > 0) {
			/* stalled: a look, no wait, until it reads again */
			k = snprintf(note, sizeof(note), "%s: warning: %lu log lines were "
				     "dropped: stderr was not read\n", MG_NAME, log_dropped);
			if (mg_lines_put(&log_err, note, (size_t)k, 0) == 0)
				log_dropped = 0;
		}
		if (log_dropped > 0 ||
		    mg_lines_put(&log_err, line, (size_t)n, LOG_WAIT_MS) < 0)
			log_dropped++;
		pthread_mutex_unlock(&log_lock);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}
