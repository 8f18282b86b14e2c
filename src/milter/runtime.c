/*
 * runtime.c -- the running config, reference counted and swapped on reload
 *
 * Each connection takes a reference at connect and keeps the config it
 * started with until close; a reload builds a complete new config first
 * and swaps it in only if it loaded cleanly, so a broken file never
 * replaces a working policy.
 */
#include "mg.h"
#include "geo.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (1024 * 1024)

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mg_config *rt_current;
static char rt_host[256];

const char *
mg_hostname(void)
{
	if (rt_host[0] == '\0' && gethostname(rt_host, sizeof(rt_host) - 1) < 0)
		strcpy(rt_host, "localhost");
	return rt_host;
}

void
mg_now(struct evt_time *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->usec = ts.tv_nsec / 1000;
}

/* Read a whole (small) file; NUL bytes are kept, so the loader sees them. */
static int
read_file(const char *path, char **buf_r, size_t *len_r, char *err, size_t errsize)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf, shown[MG_SHOWN_MAX];
	size_t len = 0;

	esc_text(path, strlen(path), shown, sizeof(shown));
	if (fd < 0) {
		snprintf(err, errsize, "%s: cannot open: %s", shown, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		snprintf(err, errsize, "%s: not a regular file of at most %d octets",
			 shown, CONFIG_FILE_MAX);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		snprintf(err, errsize, "%s: out of memory", shown);
		close(fd);
		return -1;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*buf_r = buf;
	*len_r = len;
	return 0;
}

/* -u and -P, where given, in place of UserID and PidFile: checked as the
   file's values are, so that what is logged later is printable. */
static int
override(const struct mg_options *opt, struct cfg *cfg, struct cfg_error *cerr)
{
	const struct { const char *flag, *key, *value; } set[] = {
		{ "-u", "UserID", opt->user }, { "-P", "PidFile", opt->pidfile },
	};

	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		if (set[i].value != NULL &&
		    cfg_set_key(cfg, set[i].key, set[i].value, cerr) < 0) {
			snprintf(cerr->file, sizeof(cerr->file), "%s %s", set[i].flag,
				 set[i].value);
			return -1;
		}
	}
	return 0;
}

static int
reader_read(void *arg, const char *path, char **buf_r, size_t *len_r, char *err,
	    size_t errsize)
{
	return read_file(path, buf_r, len_r, err, errsize);
}

static const struct cfg_reader file_reader = { reader_read, NULL };

int
mg_config_load(const struct mg_options *opt, struct cfg **cfg_r, struct geo **geo_r,
	       char *err, size_t errsize)
{
	struct cfg_error cerr;
	char *buf;
	size_t len;
	int r;

	if (mg_guard_file(opt->config_file, false, err, errsize) < 0 ||
	    read_file(opt->config_file, &buf, &len, err, errsize) < 0)
		return -1;
	r = cfg_load(buf, len, opt->config_file, &file_reader, cfg_r, &cerr);
	free(buf);
	if (r == 0 && opt->socket != NULL &&
	    cfg_set_socket(*cfg_r, opt->socket, &cerr) < 0) {
		snprintf(cerr.file, sizeof(cerr.file), "-p %s", opt->socket);
		r = -1;
	}
	if (r == 0 && override(opt, *cfg_r, &cerr) < 0)
		r = -1;
	if (r < 0) {
		cfg_error_format(&cerr, err, errsize);
		cfg_free(cfg_r);
		return -1;
	}
	if (geo_open((*cfg_r)->geoip_country_db, (*cfg_r)->geoip_asn_db, geo_r,
		     cerr.msg, sizeof(cerr.msg)) < 0) {
		snprintf(err, errsize, "%s: %s", opt->config_shown, cerr.msg);
		cfg_free(cfg_r);
		return -1;
	}
	return 0;
}

static struct mg_config *
wrap(struct cfg *cfg, struct geo *geo)
{
	struct mg_config *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->cfg = cfg;
		c->geo = geo;
		c->refs = 1;	/* the runtime's own reference */
	}
	return c;
}

void
mg_runtime_set(struct cfg *cfg, struct geo *geo)
{
	struct mg_config *c = wrap(cfg, geo);

	if (c == NULL) {
		mg_log(LOG_CRIT, "config: out of memory");
		exit(EXIT_FAILURE);
	}
	pthread_mutex_lock(&rt_lock);
	rt_current = c;
	pthread_mutex_unlock(&rt_lock);
}

struct mg_config *
mg_config_get(void)
{
	struct mg_config *c;

	pthread_mutex_lock(&rt_lock);
	c = rt_current;
	if (c != NULL)
		c->refs++;
	pthread_mutex_unlock(&rt_lock);
	return c;
}

void
mg_config_put(struct mg_config **cp)
{
	struct mg_config *c = *cp;
	bool last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&rt_lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&rt_lock);
	if (last) {
		cfg_free(&c->cfg);
		geo_close(&c->geo);
		free(c);
	}
	*cp = NULL;
}

/* Settings read once at start: a reload cannot change them. */
static void
warn_restart_only(const struct cfg *old, const struct cfg *new)
{
	if (strcmp(old->socket, new->socket) != 0)
		mg_log(LOG_WARNING, "reload: Socket changed to %s; it takes effect "
		       "at restart", new->socket);
	if (old->umask != new->umask)
		mg_log(LOG_WARNING, "reload: UMask changed; it takes effect at restart");
	if (strcmp(old->user, new->user) != 0)
		mg_log(LOG_WARNING, "reload: UserID changed; it takes effect at restart");
	if (strcmp(old->pidfile, new->pidfile) != 0)
		mg_log(LOG_WARNING, "reload: PidFile changed; it takes effect at restart");
	if (strcmp(old->audit_key_file, new->audit_key_file) != 0)
		mg_log(LOG_WARNING, "reload: AuditKeyFile changed; the key is read "
		       "at start, so it takes effect at restart");
}

void
mg_reload(const struct mg_options *opt)
{
	struct cfg *cfg;
	struct geo *geo = NULL;
	struct mg_config *fresh, *old;
	char err[1024];

	if (mg_config_load(opt, &cfg, &geo, err, sizeof(err)) < 0) {
		const char *kv[] = { "config", opt->config_file, "error", err, NULL };

		struct mg_config *running = mg_config_get();

		mg_log(LOG_ERR, "reload: %s; keeping the running configuration", err);
		/* Still reopen the log: logrotate sends SIGHUP whatever the file. */
		if (running != NULL && mg_audit_reopen(running->cfg) < 0)
			mg_log(LOG_ERR, "reload: audit log %s cannot be reopened",
			       running->cfg->audit_log);
		mg_config_put(&running);
		mg_audit_lifecycle("reload_failed", kv);
		return;
	}
	fresh = wrap(cfg, geo);
	if (fresh == NULL) {
		geo_close(&geo);
		const char *kv[] = { "config", opt->config_file, "error", "out of memory", NULL };

		mg_log(LOG_ERR, "reload: out of memory; keeping the running configuration");
		mg_audit_lifecycle("reload_failed", kv);
		cfg_free(&cfg);
		return;
	}
	pthread_mutex_lock(&rt_lock);
	old = rt_current;
	rt_current = fresh;
	pthread_mutex_unlock(&rt_lock);
	warn_restart_only(old->cfg, cfg);
	if (mg_audit_reopen(cfg) < 0)
		mg_log(LOG_ERR, "reload: audit log %s cannot be opened; events are "
		       "not written until it can", cfg->audit_log);
	{
		const char *kv[] = { "config", opt->config_file, "mode",
			pol_mode_name(cfg->policy.mode), NULL };

		mg_audit_lifecycle("reload", kv);
	}
	mg_log(LOG_INFO, "reload: %s loaded", opt->config_shown);
	mg_config_put(&old);
}

void
mg_runtime_free(void)
{
	struct mg_config *c;

	pthread_mutex_lock(&rt_lock);
	c = rt_current;
	rt_current = NULL;
	pthread_mutex_unlock(&rt_lock);
	mg_config_put(&c);
}
