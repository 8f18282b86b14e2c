/*
 * mgd.c -- a milter-guard daemon for protocol tests (see mgd.h)
 */
#include "mgd.h"

#include <check.h>
#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/tu.h"

#define TIMEOUT_MS 5000

long
mgd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void
mgd_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* True if a line of text starts with key. */
static bool
sets_key(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = text;; l++) {
		if (strncmp(l, key, n) == 0)
			return true;
		l = strchr(l, '\n');
		if (l == NULL)
			return false;
	}
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
	fprintf(f, "%s\nSocket unix:%s\nUMask 077\nAuditLog %s\n%s", text, d->sock, d->audit,
		geteuid() == 0 && !sets_key(text, "RunAsRoot") ?
		"RunAsRoot yes\n" : "");	/* CI runs as root */
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

		if (strchr(line, '\n') == NULL)
			break;	/* the daemon is still writing it */
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

static long pidfile_pid(const struct mgd *d);

int mgd_output_fd = -1;

/* Start the daemon on d's files (the config is written). */
static void
spawn(struct mgd *d)
{
	const char *top = getenv("top_builddir");
	char prog[4096], errlog[300];

	ck_assert_msg(top != NULL, "top_builddir is not set (run through make check)");
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", d->dir);
	snprintf(prog, sizeof(prog), "%s/src/milter-guard", top);
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		int fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		char outlog[300];

		dup2(mgd_output_fd >= 0 ? mgd_output_fd : fd, 2);
		snprintf(outlog, sizeof(outlog), "%s/stdout.log", d->dir);
		fd = open(outlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(mgd_output_fd >= 0 ? mgd_output_fd : fd, 1);
		if (getenv("MGD_VALGRIND") != NULL) {	/* memcheck the daemon */
			char log[340];

			snprintf(log, sizeof(log), "--log-file=%s/valgrind-%%p.log", getenv("MGD_VALGRIND"));
			execlp("valgrind", "valgrind", "--leak-check=full",
			       "--errors-for-leak-kinds=definite", "--track-origins=yes", log,
			       prog, "-f", "-c", d->conf, "-P", d->pidfile, (char *)NULL);
		}
		execl(prog, prog, "-f", "-c", d->conf, "-P", d->pidfile, (char *)NULL);
		_exit(127);
	}
}

void
mgd_start(struct mgd *d, const char *text)
{
	mgd_start_audit(d, text, NULL);
}

void
mgd_start_audit(struct mgd *d, const char *text, const char *audit_path)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/mg-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	snprintf(d->sock, sizeof(d->sock), "%s/mg.sock", d->dir);
	snprintf(d->conf, sizeof(d->conf), "%s/mg.conf", d->dir);
	if (audit_path != NULL)
		snprintf(d->audit, sizeof(d->audit), "%s", audit_path);
	else
		snprintf(d->audit, sizeof(d->audit), "%s/audit.json", d->dir);
	snprintf(d->pidfile, sizeof(d->pidfile), "%s/mg.pid", d->dir);
	mgd_write_config(d, text);
	spawn(d);
	for (int i = 0; i < 3000 && stat(d->sock, &st) < 0; i++)
		mgd_sleep_ms(10);
	ck_assert_msg(stat(d->sock, &st) == 0, "the daemon did not create %s", d->sock);
	if (strncmp(d->audit, "/dev/", 5) != 0) {
		mgd_wait_lines(d, 1);
		return;
	}
	/* /dev/full takes no start event: the pidfile is written once the
	   socket listens */
	for (int i = 0; i < 3000 && pidfile_pid(d) != (long)d->pid; i++)
		mgd_sleep_ms(10);
	ck_assert_int_eq(pidfile_pid(d), (long)d->pid);
}

/* The pid in the pidfile, or 0. */
static long
pidfile_pid(const struct mgd *d)
{
	FILE *f = fopen(d->pidfile, "r");
	long pid = 0;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

void
mgd_restart(struct mgd *d)
{
	size_t starts = mgd_audit_lines(d);

	ck_assert_int_eq(d->pid, 0);
	spawn(d);
	for (int i = 0; i < 3000 && pidfile_pid(d) != (long)d->pid; i++)
		mgd_sleep_ms(10);
	ck_assert_int_eq(pidfile_pid(d), (long)d->pid);
	mgd_wait_lines(d, starts + 1);
}

int
mgd_start_again(struct mgd *d)
{
	pid_t running = d->pid, other;
	int status = -1;

	spawn(d);
	other = d->pid;
	d->pid = running;
	for (int i = 0; i < 500; i++) {
		if (waitpid(other, &status, WNOHANG) == other)
			return status;
		mgd_sleep_ms(10);
	}
	kill(other, SIGKILL);
	waitpid(other, &status, 0);
	ck_abort_msg("a second daemon on %s did not exit within 5 s", d->sock);
	return status;
}

int
mgd_stop(struct mgd *d, int sig)
{
	int status;

	ck_assert_int_gt(d->pid, 0);
	ck_assert_int_eq(kill(d->pid, sig), 0);
	ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
	d->pid = 0;
	return status;
}

int
mgd_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);	/* one daemon, shared by the cases */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void
mgd_kill(struct mgd *d)
{
	int status;

	if (d->dir[0] == '\0')
		return;		/* never started, or already cleaned up */
	if (d->pid > 0) {
		/* Under valgrind, a clean stop so that it reports leaks. */
		kill(d->pid, getenv("MGD_VALGRIND") != NULL ? SIGTERM : SIGKILL);
		waitpid(d->pid, &status, 0);
		d->pid = 0;
	}
	if (getenv("MGD_AUDIT_COPY") != NULL &&	/* for the schema check */
	    strncmp(d->audit, "/dev/", 5) != 0) {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "cat '%s' >> '%s'/events-%ld.json 2>/dev/null",
			 d->audit, getenv("MGD_AUDIT_COPY"), (long)getpid());
		if (system(cmd) != 0)
			fprintf(stderr, "mgd: could not copy %s\n", d->audit);
	}
	if (getenv("MGD_KEEP") == NULL) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "mgd: could not remove %s\n", d->dir);
	}
	d->dir[0] = '\0';
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
mgd_connect_offering(const struct mgd *d, unsigned long actions, char family,
		     const char *addr, struct mclient_optneg *on_r, char *cmd_r)
{
	struct mclient *mc;
	struct mclient_reply r = { 0 };
	const char *err;
	char spec[320];

	snprintf(spec, sizeof(spec), "unix:%s", d->sock);
	ck_assert_msg(mclient_open(spec, TIMEOUT_MS, &mc, &err) == 0, "%s", err);
	ck_assert_msg(mclient_optneg(mc, MCLIENT_POSTFIX_VERSION, actions,
				     MCLIENT_POSTFIX_PROTOCOL, on_r) == 0, "%s", mclient_error(mc));
	ck_assert_int_eq(mclient_connect(mc, "client.test.example", family, 50123,
					 addr, &r), 0);
	*cmd_r = r.cmd;
	mclient_reply_clear(&r);
	return mc;
}

struct mclient *
mgd_session_connected(const struct mgd *d, char family, const char *addr)
{
	struct mclient_optneg on;
	char cmd;
	struct mclient *mc = mgd_connect_offering(d, MCLIENT_POSTFIX_ACTIONS, family, addr,
						  &on, &cmd);

	ck_assert_uint_eq(on.version, 6);
	ck_assert(on.actions & SMFIF_QUARANTINE);
	ck_assert(on.actions & SMFIF_ADDHDRS);
	ck_assert_int_eq(cmd, 'c');
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
