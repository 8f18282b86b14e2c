/*
 * mgd.h -- a milter-guard daemon for protocol tests
 *
 * mgd_start() writes a config (the given text, then Socket, UMask and
 * AuditLog lines pointing into a fresh temporary directory), starts the
 * built daemon in the foreground and waits for its socket and its start
 * event.  The audit helpers read back what it wrote.  With MGD_VALGRIND=DIR
 * in the environment the daemon runs under valgrind memcheck, which writes
 * DIR/valgrind.log.
 */
#ifndef MGD_H
#define MGD_H

#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "client/mclient.h"

struct mgd {
	char dir[256];
	char sock[300];
	char conf[300];
	char audit[300];
	char pidfile[300];
	pid_t pid;
};

/* When >= 0, the next daemon started gets this descriptor (e.g. a pipe)
   as its stdout and stderr instead of the files stdout.log and
   stderr.log in its directory. */
extern int mgd_output_fd;

/* Start with config text (may be ""); aborts the test on failure. */
void mgd_start(struct mgd *d, const char *config_text);
/* The same, with the audit log at audit_path (NULL: in the directory). */
void mgd_start_audit(struct mgd *d, const char *config_text, const char *audit_path);
/* Rewrite the config (same socket and log) without restarting. */
void mgd_write_config(struct mgd *d, const char *config_text);
void mgd_kill(struct mgd *d);
/* Start again on the same files after mgd_stop(); waits for the new
   pidfile and start event. */
void mgd_restart(struct mgd *d);
/* Start another daemon on d's files while d runs; waits (5 s at most)
   for it to exit and returns its wait status. */
int mgd_start_again(struct mgd *d);
/* Send sig and reap the daemon; its wait status. */
int mgd_stop(struct mgd *d, int sig);
/* Run a suite in this process (CK_NOFORK); the exit status. */
int mgd_run(Suite *s);

size_t mgd_audit_lines(const struct mgd *d);
void mgd_wait_lines(const struct mgd *d, size_t n);
/* The events written since line `from` (0-based), as a JSON array. */
json_t *mgd_events_since(const struct mgd *d, size_t from);
const char *mgd_str(json_t *obj, const char *key);

/* A client that has negotiated as Postfix 3.7 does and sent CONNECT
   (192.0.2.25) and HELO. */
struct mclient *mgd_session(const struct mgd *d);
/* The same from another client: family '4' or '6', address as text. */
struct mclient *mgd_session_from(const struct mgd *d, char family, const char *addr);
/* The same without HELO (client name client.test.example). */
struct mclient *mgd_session_connected(const struct mgd *d, char family, const char *addr);
/* OPTNEG as Postfix but offering only `actions' (SMFIF_*), and CONNECT
   from family/addr: the OPTNEG reply in *on_r, the CONNECT reply's
   command in *cmd_r ('c', or 'y' past MaxConnections), not checked. */
struct mclient *mgd_connect_offering(const struct mgd *d, unsigned long actions, char family,
				     const char *addr, struct mclient_optneg *on_r, char *cmd_r);

void mgd_sleep_ms(long ms);
long mgd_now_ms(void);		/* CLOCK_MONOTONIC */

/* conf/milter-guard.conf without its Socket, AuditLog and UMask lines
   (mgd_start() adds its own); malloc'd. */
char *mgd_shipped_config(void);

#endif
