/*
 * mgd.c -- a milter-guard daemon for protocol tests (see mgd.h)
 */
#include "mgd.h"

#include <check.h>
#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/tu.h"

#define TIMEOUT_MS 5000

void
mgd_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Written whole and renamed into place: a reload never reads half a file. */
void
mgd_write_config(struct mgd *d, const char *text)
{
	char tmp[320];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", d->conf);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\nSocket unix:%s\nUMask 077\nAuditLog %s\n", text, d->sock, d->audit);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, d->conf), 0);
}

size_t
mgd_audit_lines(const struct mgd *d)
{
	FILE *f = fopen(d->audit, "r");
	size_t n = 0;
	int c;

	if (f == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

json_t *
mgd_events_since(const struct mgd *d, size_t from)
{
	FILE *f = fopen(d->audit, "r");
	json_t *arr = json_array();
	static char line[1 << 20];
	size_t n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_error_t err;
		json_t *ev;

		if (n++ < from)
			continue;
		ev = json_loads(line, 0, &err);
		ck_assert_msg(ev != NULL, "audit line %zu is not JSON: %s", n, err.text);
		json_array_append_new(arr, ev);
	}
	fclose(f);
	return arr;
}

const char *
mgd_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : "(missing)";
}

void
mgd_wait_lines(const struct mgd *d, size_t n)
{
	for (int i = 0; i < 500 && mgd_audit_lines(d) < n; i++)
		mgd_sleep_ms(10);
	ck_assert_uint_ge(mgd_audit_lines(d), n);
}

void
mgd_start(struct mgd *d, const char *text)
{
	const char *top = getenv("top_builddir");
	char prog[4096], errlog[300];
	struct stat st;

	ck_assert_msg(top != NULL, "top_builddir is not set (run through make check)");
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/mg-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	snprintf(d->sock, sizeof(d->sock), "%s/mg.sock", d->dir);
	snprintf(d->conf, sizeof(d->conf), "%s/mg.conf", d->dir);
	snprintf(d->audit, sizeof(d->audit), "%s/audit.json", d->dir);
	snprintf(d->pidfile, sizeof(d->pidfile), "%s/mg.pid", d->dir);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", d->dir);
	snprintf(prog, sizeof(prog), "%s/src/milter-guard", top);
	mgd_write_config(d, text);
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		if (getenv("MGD_VALGRIND") != NULL) {	/* memcheck the daemon */
			char log[340];

			snprintf(log, sizeof(log), "--log-file=%s/valgrind.log", getenv("MGD_VALGRIND"));
			execlp("valgrind", "valgrind", "--leak-check=full",
			       "--errors-for-leak-kinds=definite", "--track-origins=yes", log,
			       prog, "-f", "-c", d->conf, "-P", d->pidfile, (char *)NULL);
		}
		execl(prog, prog, "-f", "-c", d->conf, "-P", d->pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 3000 && stat(d->sock, &st) < 0; i++)
		mgd_sleep_ms(10);
	ck_assert_msg(stat(d->sock, &st) == 0, "the daemon did not create %s", d->sock);
	mgd_wait_lines(d, 1);
}

void
mgd_kill(struct mgd *d)
{
	int status;

	if (d->pid <= 0)
		return;
	/* Under valgrind, a clean stop so that it reports leaks. */
	kill(d->pid, getenv("MGD_VALGRIND") != NULL ? SIGTERM : SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	if (getenv("MGD_KEEP") == NULL) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "mgd: could not remove %s\n", d->dir);
	}
}

struct mclient *
mgd_session(const struct mgd *d)
{
	return mgd_session_from(d, '4', "192.0.2.25");
}

struct mclient *
mgd_session_from(const struct mgd *d, char family, const char *addr)
{
	struct mclient *mc = mgd_session_connected(d, family, addr);
	struct mclient_reply r = { 0 };

	ck_assert_int_eq(mclient_helo(mc, "client.test.example", &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	return mc;
}

struct mclient *
mgd_session_connected(const struct mgd *d, char family, const char *addr)
{
	struct mclient *mc;
	struct mclient_optneg on;
	struct mclient_reply r = { 0 };
	const char *err;
	char spec[320];

	snprintf(spec, sizeof(spec), "unix:%s", d->sock);
	ck_assert_msg(mclient_open(spec, TIMEOUT_MS, &mc, &err) == 0, "%s", err);
	ck_assert_msg(mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, MCLIENT_POSTFIX_ACTIONS,
				     MCLIENT_POSTFIX_PROTOCOL, &on) == 0, "%s", mclient_error(mc));
	ck_assert_uint_eq(on.version, 6);
	ck_assert(on.actions & SMFIF_QUARANTINE);
	ck_assert(on.actions & SMFIF_ADDHDRS);
	ck_assert_int_eq(mclient_connect(mc, "client.test.example", family, 50123,
					 addr, &r), 0);
	ck_assert_int_eq(r.cmd, 'c');
	mclient_reply_clear(&r);
	return mc;
}

/* The shipped config with its Socket and AuditLog lines left out (mgd
   adds its own). */
char *
mgd_shipped_config(void)
{
	char path[4096];
	size_t len, o = 0;
	char *text, *out, *line;

	snprintf(path, sizeof(path), "%s/conf/milter-guard.conf", getenv("srcdir"));
	text = tu_read(path, &len);
	out = calloc(1, len + 1);
	ck_assert_ptr_nonnull(out);
	for (line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "Socket", 6) == 0 || strncmp(line, "AuditLog", 8) == 0 ||
		    strncmp(line, "UMask", 5) == 0)
			continue;
		o += (size_t)sprintf(out + o, "%s\n", line);
	}
	free(text);
	return out;
}
