/*
 * sigwait.c -- keep SIGHUP away from libmilter's signal thread
 *
 * smfi_main() starts a thread that calls sigwait() on SIGHUP, SIGTERM and
 * SIGINT and stops the milter on any of them.  A milter that reloads on
 * SIGHUP (what logrotate and every init system send) would then race
 * libmilter for each SIGHUP, and lose some: the daemon would stop instead
 * of reloading.  This definition of sigwait() in the executable takes the
 * place of the C library's for libmilter, and leaves SIGHUP, SIGTERM and
 * SIGINT out of the set it waits for, so only our signal thread
 * (signals.c, which uses sigwaitinfo()) receives them: it reloads on
 * SIGHUP, and on SIGTERM or SIGINT removes the socket and exits as
 * soon as the sessions in flight are done (libmilter alone takes five
 * seconds to notice).  Nobody else in the process calls sigwait().
 *
 * tests/milter proves it with a storm of SIGHUPs against a live daemon.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>

int sigwait(const sigset_t *set, int *sig);

int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t others = *set;
	int r;

	sigdelset(&others, SIGHUP);
	sigdelset(&others, SIGTERM);
	sigdelset(&others, SIGINT);
	for (;;) {
		r = sigwaitinfo(&others, NULL);
		if (r >= 0) {
			*sig = r;
			return 0;
		}
		if (errno != EINTR)
			return errno;
	}
}
