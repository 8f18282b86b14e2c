/*
 * guard.c -- limits at the door: connections, idle peers, descriptors,
 * root, a socket left by a crash, unsafe files
 *
 * What a hostile or broken peer on the milter socket, or a careless
 * install on the host, could use against the daemon, and what stops it:
 *
 *   mg_guard_admit()   MaxConnections: a session past the cap gets
 *                      "421 4.3.2" at CONNECT, so the MTA tells its SMTP
 *                      client to come back later (a tempfail, never a
 *                      silent pass and never a reject); the session still
 *                      counts until it closes, so a flood cannot grow
 *                      past the cap by ignoring the reply.
 *   mg_guard_start()   IdleTimeout as libmilter's read timeout; the file
 *                      descriptor limit raised to fit MaxConnections (a
 *                      full descriptor table makes libmilter's listener
 *                      spin on accept()).
 *   mg_guard_socket()  a unix socket left by a crash (SIGKILL) is stale
 *                      and may go; one with a live milter behind it is
 *                      not taken over (libmilter would unlink it).
 *   mg_guard_root()    still root after the privilege drop: refused
 *                      unless RunAsRoot yes.
 *   mg_guard_file()    a config (or key) file that others could write
 *                      (or, for a key, read) is refused.
 *
 * docs/security.md has the threat model and the figures.
 */
#include "mg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define GUARD_FD_RESERVE	64	/* listener, audit, GeoIP, syslog, pipes */
#define GUARD_LOG_EVERY		10	/* seconds between overload messages */

static const char guard_busy_text[] =
	"mail filter busy (too many connections), try again later";

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t guard_logged;
static unsigned long guard_refused;

sfsistat
mg_guard_admit(SMFICTX *ctx, const struct cfg *cfg, unsigned long active,
	       const char *session)
{
	time_t now;
	unsigned long refused;
	bool say;

	if (active <= cfg->max_connections)
		return SMFIS_CONTINUE;
	now = time(NULL);
	pthread_mutex_lock(&guard_lock);
	refused = ++guard_refused;
	say = now - guard_logged >= GUARD_LOG_EVERY;
	if (say)
		guard_logged = now;
	pthread_mutex_unlock(&guard_lock);
	if (say)
		mg_log(LOG_WARNING, "%s: %lu sessions open, MaxConnections %lu: "
		       "421 at connect (%lu refused since start)", session, active,
		       cfg->max_connections, refused);
	if (smfi_setreply(ctx, "421", "4.3.2", (char *)guard_busy_text) != MI_SUCCESS)
		mg_log(LOG_WARNING, "%s: smfi_setreply 421 failed; the MTA sends "
		       "its default tempfail", session);
	return SMFIS_TEMPFAIL;
}

int
mg_guard_start(const struct cfg *cfg)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg->max_connections + GUARD_FD_RESERVE;

	if (smfi_settimeout((int)cfg->idle_timeout) != MI_SUCCESS) {
		mg_log(LOG_ERR, "IdleTimeout %lu: libmilter refused it", cfg->idle_timeout);
		return -1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need)
		mg_log(LOG_WARNING, "MaxConnections %lu needs %lu file descriptors, the "
		       "limit is %lu: lower MaxConnections or raise the limit "
		       "(LimitNOFILE=)", cfg->max_connections, (unsigned long)need,
		       (unsigned long)rl.rlim_cur);
	return 0;
}

int
mg_guard_socket(const struct cfg *cfg)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, r;

	if (cfg->sock.type != SOCKSPEC_UNIX || lstat(cfg->sock.path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		mg_log(LOG_ERR, "socket %s: exists and is not a socket; not removing it",
		       cfg->sock.path);
		return -1;
	}
	if (strlen(cfg->sock.path) >= sizeof(sun.sun_path))
		return 0;	/* libmilter refuses it with its own message */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, cfg->sock.path, strlen(cfg->sock.path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		mg_log(LOG_ERR, "socket %s: a milter is listening there already; "
		       "not taking it over", cfg->sock.path);
		return -1;
	}
	mg_log(LOG_INFO, "socket %s: stale (nothing listens: %s); replacing it",
	       cfg->sock.path, strerror(errno));
	return 0;
}

int
mg_guard_root(const struct cfg *cfg)
{
	if (geteuid() != 0 && getuid() != 0)
		return 0;
	if (cfg->run_as_root) {
		mg_log(LOG_WARNING, "running as root (RunAsRoot yes)");
		return 0;
	}
	mg_log(LOG_ERR, "refusing to run as root: set UserID (or -u), or "
	       "RunAsRoot yes to mean it");
	return -1;
}

int
mg_guard_file(const char *path, bool secret, char *err, size_t errsize)
{
	struct stat st;
	mode_t bad = secret ? (S_IRWXG | S_IRWXO) : (S_IWGRP | S_IWOTH);
	char shown[MG_SHOWN_MAX];

	if (stat(path, &st) < 0)
		return 0;	/* the reader reports it */
	esc_text(path, strlen(path), shown, sizeof(shown));
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errsize, "%s: unsafe: owned by uid %lu, not by root "
			 "or by the daemon's user", shown, (unsigned long)st.st_uid);
		return -1;
	}
	if (st.st_mode & bad) {
		snprintf(err, errsize, "%s: unsafe: mode %03o lets other users %s it "
			 "(chmod %s)", shown, (unsigned)(st.st_mode & 0777),
			 secret ? "read or change" : "change", secret ? "600" : "go-w");
		return -1;
	}
	return 0;
}
