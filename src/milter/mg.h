/*
 * mg.h -- the milter-guard daemon: what its modules share
 *
 *   log.c        operational messages: syslog, or stderr with -f
 *   audit.c      the audit sinks (AuditLog file), serialised, reopened on HUP
 *   runtime.c    the running config: reference counted, swapped on reload
 *   callbacks.c  libmilter callbacks: fetch context, call the core, map the
 *                verdict in one place
 *   signals.c    our own signal thread (SIGHUP reload, SIGTERM/SIGINT stop)
 *   main.c       options, socket, privileges, pidfile, start and stop
 *   guard.c      limits at the door: MaxConnections, IdleTimeout, file
 *                descriptors, root, a stale socket, unsafe files
 */
#ifndef MG_DAEMON_H
#define MG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <libmilter/mfapi.h>

#include "core/cfg.h"
#include "core/esc.h"
#include "core/event.h"

#define MG_NAME "milter-guard"
#define MG_SHOWN_MAX 1024	/* an escaped path or value in a message */

/* --- log.c --- */
void mg_log_open(bool to_stderr, const char *facility);
/* A SyslogFacility name's LOG_ value (LOG_MAIL if unknown). */
int mg_log_facility(const char *name);
void mg_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* CLOCK_MONOTONIC in milliseconds. */
long long mg_mono_ms(void);

/* Lines to a descriptor whose reader may stop reading (stdout or stderr
   as a pipe to a log collector): each write waits at most wait_ms for the
   reader, so no thread hangs behind a stalled one.  A line cut short is
   ended with a newline before the next, so what follows is whole. */
struct mg_lines {
	int fd;
	bool partial;		/* the last line was cut short */
};

/* Write buf[0..len) (whole lines); 0, or -1 with errno (ETIMEDOUT: the
   reader did not read for wait_ms; 0: only if it takes them at once). */
int mg_lines_put(struct mg_lines *w, const char *buf, size_t len, int wait_ms);

/* --- runtime.c --- */
struct geo;

struct mg_config {
	struct cfg *cfg;
	struct geo *geo;	/* GeoIP databases of this config, or NULL */
	unsigned refs;		/* under the runtime lock */
};

struct mg_options {
	const char *config_file;
	const char *config_shown;	/* config_file escaped, for messages */
	const char *socket;	/* -p */
	const char *user;	/* -u */
	const char *pidfile;	/* -P */
	bool foreground;	/* -f */
};

/* Load config_file with the command line overrides; on error writes
   "file:line: message" into err. */
int mg_config_load(const struct mg_options *opt, struct cfg **cfg_r,
		   struct geo **geo_r, char *err, size_t errsize);
void mg_runtime_set(struct cfg *cfg, struct geo *geo);	/* the first config */
struct mg_config *mg_config_get(void);		/* takes a reference */
void mg_config_put(struct mg_config **c);	/* drops it */
/* Reload from the file; keeps the old config on error. */
void mg_reload(const struct mg_options *opt);
void mg_runtime_free(void);
const char *mg_hostname(void);
void mg_now(struct evt_time *t);

/* --- audit.c --- */
/* Read AuditKeyFile (at start, before privileges are dropped; a change
   takes a restart).  "" or NULL: events are not chained. */
int mg_audit_key_load(const char *path, char *err, size_t errsize);
/* Open the sinks of cfg and find where the chain stands. */
int mg_audit_open(const struct cfg *cfg, char *err, size_t errsize);
/* Write one event line (built, unsealed) to every sink: 0 if some sink
   took it (or none is configured), -1 if none did; failures are logged. */
int mg_audit_write(const char *line);
/* Build-and-write helper for lifecycle events. */
void mg_audit_lifecycle(const char *type, const char *const *kv);
/* SIGHUP: checkpoint, reopen the file, apply cfg's sink settings. */
int mg_audit_reopen(const struct cfg *cfg);
/* Stop: a last checkpoint, then close. */
void mg_audit_close(void);

/* --- callbacks.c --- */
extern struct smfiDesc mg_filter;
unsigned long mg_active_sessions(void);

/* --- main.c --- */
/* A stop was asked for (the signal's name): the stop event says so,
   whichever thread gets to shut down first. */
void mg_stop_requested(const char *why);

/* --- signals.c --- */
int mg_signals_block(void);
int mg_signals_start(const struct mg_options *opt, void (*shutdown)(const char *why));

/* --- guard.c --- */
/* SMFIS_CONTINUE, or a 421 tempfail when active > MaxConnections. */
sfsistat mg_guard_admit(SMFICTX *ctx, const struct cfg *cfg, unsigned long active,
			const char *session);
/* Before smfi_main(): IdleTimeout, the file descriptor limit. */
int mg_guard_start(const struct cfg *cfg);
/* Before the socket is opened: -1 if a live milter owns it. */
int mg_guard_socket(const struct cfg *cfg);
/* After the privilege drop: -1 if still root without RunAsRoot. */
int mg_guard_root(const struct cfg *cfg);
/* -1 with a message if others could change path (secret: or read it).
   The audit key file, when it comes, is checked with secret = true. */
int mg_guard_file(const char *path, bool secret, char *err, size_t errsize);

#endif
