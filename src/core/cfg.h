/*
 * cfg.h -- milter-guard.conf: parse, validate, build an immutable config
 *
 * The file is lines of "Key value"; "#" starts a comment at the start of a
 * line or after white space outside double quotes; a value may be quoted
 * ("...", with \" and \\).  Keys are case-insensitive and come from one
 * table {name, type, default, min, max}; each may appear once, except Rule:
 *
 *   Rule <rule-id> [action=<action>|off] [limit=<n>] [mode=enforce|monitor]
 *
 * cfg_load() takes the bytes of the file (the shell reads it) and either
 * returns a complete, validated config or fails with file:line and a
 * message; it never returns half a config.  Every key is documented in
 * milter-guard.conf(5).
 */
#ifndef MG_CFG_H
#define MG_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "policy.h"
#include "sockspec.h"

#define CFG_LINE_MAX 4096

struct cfg {
	char *socket;			/* as written, libmilter syntax */
	struct sockspec sock;		/* parsed */
	unsigned umask;
	char *user;			/* UserID: "user[:group]", "" = none */
	char *pidfile;			/* "" = none */
	char *audit_log;		/* "" = no file sink */
	unsigned long sample_length;	/* AuditSampleLength */
	unsigned long body_inspect_limit;	/* BodyInspectLimit, octets */
	enum rule_action on_audit_failure;	/* accept or tempfail */
	bool allow_remote_socket;
	unsigned long max_connections;	/* MaxConnections: sessions at once */
	unsigned long idle_timeout;	/* IdleTimeout: seconds (read at start) */
	bool run_as_root;		/* RunAsRoot: root without UserID allowed */
	char *syslog_facility;		/* mail, daemon, local0..local7 */
	bool audit_syslog;		/* AuditSyslog: events to syslog too */
	char *audit_syslog_facility;	/* AuditSyslogFacility */
	char *audit_syslog_socket;	/* AuditSyslogSocket */
	bool audit_stdout;		/* AuditStdout: events to stdout too */
	bool audit_all;			/* AuditAll: an event for every message */
	char *audit_key_file;		/* AuditKeyFile: "" = no chain */
	char *geoip_country_db;		/* "" = none */
	char *geoip_asn_db;
	struct client_rules clients;	/* exemptions and overrides */
	struct policy policy;
};

/* How the loader reads a file a key names (TrustedNetworks /path): the
   shell provides it, so the core does no I/O.  read returns 0 with a
   malloc'd buffer, or -1 with a message that shows path escaped (esc.h). */
struct cfg_reader {
	int (*read)(void *arg, const char *path, char **buf_r, size_t *len_r,
		    char *err, size_t errsize);
	void *arg;
};

struct cfg_error {
	char file[256];
	unsigned line;			/* 0: not about one line */
	char msg[512];
};

/* Parse buf[0..len), the contents of the file named file (for messages). */
int cfg_load(const char *buf, size_t len, const char *file,
	     const struct cfg_reader *reader, struct cfg **cfg_r,
	     struct cfg_error *err_r);

/* A config with every default (what an empty file gives). */
int cfg_defaults(struct cfg **cfg_r);

/* Replace the socket (from -p), validating it as the config would. */
int cfg_set_socket(struct cfg *cfg, const char *spec, struct cfg_error *err_r);

/* Set one key from the command line (-u UserID, -P PidFile), checked as
   the file's value would be. */
int cfg_set_key(struct cfg *cfg, const char *key, const char *value,
		struct cfg_error *err_r);

/* Check what only makes sense for the whole config (remote socket). */
int cfg_validate(const struct cfg *cfg, struct cfg_error *err_r);

void cfg_free(struct cfg **cfg);

/* The keys of the table, for documentation checks: NULL past the last. */
const char *cfg_key_name(size_t i);

/* "file:line: message" (or "file: message") into buf, file escaped. */
void cfg_error_format(const struct cfg_error *err, char *buf, size_t size);

#endif
