/*
 * main.c -- milter-guard: options, socket, privileges, pidfile, start, stop
 *
 *   milter-guard [-c FILE] [-p SOCKET] [-f] [-n] [-V] [-u USER[:GROUP]] [-P PIDFILE]
 *
 * See milter-guard(8).
 */
#include "mg.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <malloc.h>
#include <maxminddb.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "geo.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/milter-guard/milter-guard.conf"
#define OPTIONS "c:p:fnVu:P:h"
#define MG_MAX_PACKET (1024 * 1024)	/* largest milter packet accepted */

static struct mg_options opt;
static char config_shown[MG_SHOWN_MAX];
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static char *pidfile_written;
static char socket_path[SOCKSPEC_PATH_MAX];

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-c FILE] [-p SOCKET] [-f] [-n] [-V] [-u USER[:GROUP]] [-P PIDFILE]\n"
		"  -c FILE     configuration file (default %s)\n"
		"  -p SOCKET   socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST\n"
		"  -f          stay in the foreground, log to standard error\n"
		"  -n          check the configuration and exit\n"
		"  -V          print the version and the library versions\n"
		"  -u USER[:GROUP]  run as this user\n"
		"  -P PIDFILE  write the process id here\n",
		MG_NAME, DEFAULT_CONFIG);
}

static void
print_versions(void)
{
	unsigned int maj = 0, min = 0, pl = 0;

#ifdef HAVE_SMFI_VERSION
	smfi_version(&maj, &min, &pl);
#endif
	printf("%s %s\n", MG_NAME, PACKAGE_VERSION);
	printf("libmilter %u.%u.%u\n", maj, min, pl);
	printf("jansson %s\n", JANSSON_VERSION);
	printf("libmaxminddb %s\n", MMDB_lib_version());
}

static const char *volatile stop_reason;

void
mg_stop_requested(const char *why)
{
	stop_reason = why;
	if (socket_path[0] != '\0')
		unlink(socket_path);	/* no new sessions; those open go on */
}

/* Called once, from the signal thread or after smfi_main() returns. */
static void
mg_shutdown(const char *why)
{
	pthread_mutex_lock(&stop_lock);	/* never unlocked: we exit */
	if (stop_reason != NULL)
		why = stop_reason;
	{
		const char *kv[] = { "reason", why, NULL };

		mg_audit_lifecycle("stop", kv);
	}
	mg_log(LOG_INFO, "stopped (%s)", why);
	mg_audit_close();
	if (pidfile_written != NULL)
		unlink(pidfile_written);
	if (socket_path[0] != '\0')
		unlink(socket_path);	/* libmilter may not get to it */
	_exit(EXIT_SUCCESS);
}

static int
lookup_user(const char *spec, uid_t *uid_r, gid_t *gid_r, char *name, size_t size)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;

	if (ulen == 0 || ulen >= size) {
		mg_log(LOG_ERR, "UserID %s: expected USER or USER:GROUP", spec);
		return -1;
	}
	memcpy(name, spec, ulen);
	name[ulen] = '\0';
	pw = getpwnam(name);
	if (pw == NULL) {
		mg_log(LOG_ERR, "UserID %s: no such user", name);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	if (colon != NULL) {
		struct group *gr = getgrnam(colon + 1);

		if (gr == NULL) {
			mg_log(LOG_ERR, "UserID %s: no such group", colon + 1);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

/* Give the socket to the user and drop root for good. */
static int
drop_privileges(const struct cfg *cfg)
{
	char name[256];
	uid_t uid;
	gid_t gid;

	if (cfg->user[0] == '\0')
		return 0;	/* mg_guard_root() decides */
	if (lookup_user(cfg->user, &uid, &gid, name, sizeof(name)) < 0)
		return -1;
	if (geteuid() != 0) {
		if (getuid() == uid)
			return 0;
		mg_log(LOG_ERR, "UserID %s: only root can change user", cfg->user);
		return -1;
	}
	if (cfg->sock.type == SOCKSPEC_UNIX && chown(cfg->sock.path, uid, gid) < 0) {
		mg_log(LOG_ERR, "socket %s: chown: %s", cfg->sock.path, strerror(errno));
		return -1;
	}
	if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		mg_log(LOG_ERR, "UserID %s: cannot change user: %s", cfg->user,
		       strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		mg_log(LOG_ERR, "UserID %s: root privileges could be regained", cfg->user);
		return -1;
	}
	return 0;
}

static int
write_pidfile(const char *path)
{
	char buf[32];
	int fd, len;

	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		mg_log(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		mg_log(LOG_ERR, "PidFile %s: write: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	pidfile_written = strdup(path);
	return 0;
}

static int
open_socket(const struct cfg *cfg)
{
	mode_t old;
	int r;

	if (cfg->sock.type == SOCKSPEC_UNIX) {
		char dir[SOCKSPEC_PATH_MAX];
		char *slash;
		struct stat st;

		snprintf(dir, sizeof(dir), "%s", cfg->sock.path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir)
			*slash = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			mg_log(LOG_ERR, "socket %s: directory %s does not exist",
			       cfg->socket, dir);
			return -1;
		}
	}
	if (smfi_setconn(cfg->socket) != MI_SUCCESS ||
	    smfi_register(mg_filter) != MI_SUCCESS) {
		mg_log(LOG_ERR, "socket %s: libmilter refused it", cfg->socket);
		return -1;
	}
#ifdef HAVE_SMFI_SETMAXDATASIZE
	/* libmilter drops a connection whose packet exceeds 64 KiB: raise it,
	   so an oversized header gets a refusal, not a dropped session. */
	smfi_setmaxdatasize(MG_MAX_PACKET);
#endif
	old = umask((mode_t)cfg->umask);
	r = smfi_opensocket(1);
	umask(old);
	if (r == MI_SUCCESS && cfg->sock.type == SOCKSPEC_UNIX)
		snprintf(socket_path, sizeof(socket_path), "%s", cfg->sock.path);
	if (r != MI_SUCCESS) {
		mg_log(LOG_ERR, "socket %s: cannot listen (in use, or no permission; "
		       "libmilter's own message is in syslog)", cfg->socket);
		return -1;
	}
	return 0;
}

/* Start-up failed: leave no socket or pidfile behind, free what we have. */
static int
start_failed(int status, struct cfg **cfg, struct geo **geo)
{
	if (socket_path[0] != '\0')
		unlink(socket_path);
	if (pidfile_written != NULL)
		unlink(pidfile_written);
	free(pidfile_written);
	pidfile_written = NULL;
	cfg_free(cfg);
	geo_close(geo);
	return status;
}

int
main(int argc, char **argv)
{
	struct cfg *cfg;
	struct geo *geo = NULL;
	char err[1200];
	bool check_only = false;
	int ch;

	/* One malloc arena per thread costs megabytes at 64 connections and
	   buys nothing here: the callbacks allocate little. */
	mallopt(M_ARENA_MAX, 2);
	opt.config_file = DEFAULT_CONFIG;
	while ((ch = getopt(argc, argv, OPTIONS)) != -1) {
		switch (ch) {
		case 'c': opt.config_file = optarg; break;
		case 'p': opt.socket = optarg; break;
		case 'f': opt.foreground = true; break;
		case 'n': check_only = true; break;
		case 'u': opt.user = optarg; break;
		case 'P': opt.pidfile = optarg; break;
		case 'V': print_versions(); return EXIT_SUCCESS;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	opt.config_shown = esc_text(opt.config_file, strlen(opt.config_file),
				    config_shown, sizeof(config_shown));
	if (mg_config_load(&opt, &cfg, &geo, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", MG_NAME, err);
		return EX_CONFIG;
	}
	if (mg_audit_key_load(cfg->audit_key_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", MG_NAME, opt.config_shown, err);
		cfg_free(&cfg);
		geo_close(&geo);
		return EX_CONFIG;
	}
	if (check_only) {
		printf("%s: %s: configuration OK\n", MG_NAME, opt.config_shown);
		cfg_free(&cfg);
		geo_close(&geo);
		return EXIT_SUCCESS;
	}
	mg_log_open(opt.foreground, cfg->syslog_facility);
	if (mg_signals_block() < 0) {
		mg_log(LOG_ERR, "cannot block signals");
		return start_failed(EX_OSERR, &cfg, &geo);
	}
	if (mg_guard_socket(cfg) < 0 || open_socket(cfg) < 0)
		return start_failed(EX_UNAVAILABLE, &cfg, &geo);
	if (drop_privileges(cfg) < 0 || mg_guard_root(cfg) < 0 ||
	    write_pidfile(cfg->pidfile) < 0)
		return start_failed(EX_NOPERM, &cfg, &geo);
	if (mg_audit_open(cfg, err, sizeof(err)) < 0) {
		mg_log(LOG_ERR, "%s", err);
		return start_failed(EX_CANTCREAT, &cfg, &geo);
	}
	mg_runtime_set(cfg, geo);
	{
		const char *kv[] = { "version", PACKAGE_VERSION, "config", opt.config_file,
			"socket", cfg->socket, "mode", pol_mode_name(cfg->policy.mode), NULL };

		mg_audit_lifecycle("start", kv);
	}
	if (mg_guard_start(cfg) < 0 || mg_signals_start(&opt, mg_shutdown) < 0)
		return EX_OSERR;
	mg_log(LOG_INFO, "started: %s, socket %s, mode %s", opt.config_shown,
	       cfg->socket, pol_mode_name(cfg->policy.mode));
	if (smfi_main() != MI_SUCCESS)
		mg_shutdown("smfi_main failed");
	mg_shutdown("stopped");
	return EXIT_SUCCESS;
}
