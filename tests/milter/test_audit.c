/*
 * test_audit.c -- the audit sinks of the running daemon: the HMAC chain
 * across rotation and restart, a full disk, a removed directory, the key
 * file's mode.
 *
 * Runs as root (it mounts a small tmpfs); under CI anything else fails.
 */
#define _GNU_SOURCE	/* pipe2() */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <libmilter/mfapi.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/chain.h"
#include "mgd.h"

#define KEY "a-test-key-of-32-octets-exactly!"

static const char hostile_sender[] = "<;sleep${IFS}66;>";

/* The small file system of the full-disk cases: made and removed by the
   parent (an unchecked fixture), so a failing case leaves nothing mounted. */
static char full_mnt[64];

static void
full_setup(void)
{
	snprintf(full_mnt, sizeof(full_mnt), "/tmp/mg-full.%ld", (long)getpid());
	ck_assert_int_eq(mkdir(full_mnt, 0700), 0);
	ck_assert_msg(mount("tmpfs", full_mnt, "tmpfs", 0, "size=64k") == 0,
		      "mount tmpfs: %s", strerror(errno));
}

static void
full_teardown(void)
{
	umount2(full_mnt, MNT_DETACH);
	rmdir(full_mnt);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* A whole message from a hostile sender: 'R' if refused at MAIL (5xx),
   'T' if tempfailed at end of message (4xx), 'c' if accepted. */
static int
message_from(const struct mgd *d, const char *sender, const char *queue_id)
{
	struct mclient *mc = mgd_session(d);
	struct mclient_reply r = { 0 };
	const char *from[] = { sender, NULL }, *to[] = { "<bob@example.com>", NULL };
	const char *macros[] = { "i", queue_id, NULL };
	int verdict;

	ck_assert_int_eq(mclient_mail(mc, from, &r), 0);
	verdict = r.cmd == 'y' && r.text != NULL && r.text[0] == '5' ? 'R' : 0;
	mclient_reply_clear(&r);
	if (verdict == 0) {
		ck_assert_int_eq(mclient_rcpt(mc, to, &r), 0);
		mclient_reply_clear(&r);
		ck_assert_int_eq(mclient_macros(mc, SMFIC_BODYEOB, macros), 0);
		ck_assert_msg(mclient_eom(mc, &r) == 0, "%s", mclient_error(mc));
		if (r.cmd == 'c')
			verdict = 'c';
		else if (r.cmd == 'y' && r.text != NULL &&
			 strcmp(r.text, "451 4.3.0 temporary local problem, try again later") == 0)
			verdict = 'T';
		else
			ck_abort_msg("unexpected reply %c %s", r.cmd, r.text ? r.text : "");
		mclient_reply_clear(&r);
	}
	mclient_quit(mc);
	mclient_close(&mc);
	return verdict;
}

static int
hostile_message(const struct mgd *d, const char *queue_id)
{
	return message_from(d, hostile_sender, queue_id);
}

/* Hostile messages until the first is tempfailed (the file system filled
   up); false if none was within max. */
static bool
until_tempfailed(const struct mgd *d, int max)
{
	for (int i = 0; i < max; i++)
		if (hostile_message(d, "F0") == 'T')
			return true;
	return false;
}

/* --- a test oracle for the chain, independent of milter-guard-audit ---- */

struct walk {
	unsigned char prev[CHAIN_MAC_LEN];
	unsigned long long seq;
	bool started;
	unsigned events, checkpoints, links, gaps;
};

static unsigned long long
json_u(json_t *o, const char *k)
{
	return (unsigned long long)json_integer_value(json_object_get(o, k));
}

/* Walk one file's lines through the chain; every line must verify. */
static void
walk_file(struct walk *w, const char *path)
{
	FILE *f = fopen(path, "r");
	static char line[1 << 20];
	unsigned n = 0;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		json_error_t err;
		json_t *ev = json_loads(line, 0, &err), *link;

		n++;
		ck_assert_msg(ev != NULL, "%s:%u: not JSON", path, n);
		link = json_object_get(ev, "chain");
		if (link != NULL) {
			unsigned long long pseq = json_u(link, "prev_seq");
			const char *pmac = json_string_value(json_object_get(link, "prev_mac"));

			if (w->started && pseq != w->seq) {
				/* only a sink_failure may declare a gap, exactly */
				ck_assert_msg(strcmp(mgd_str(ev, "type"), "sink_failure") == 0 &&
					      strcmp(mgd_str(link, "reason"), "gap") == 0 &&
					      json_u(ev, "first_seq") == w->seq + 1 &&
					      json_u(ev, "last_seq") == pseq,
					      "%s:%u: link to %llu, last was %llu", path, n,
					      pseq, w->seq);
				w->gaps++;
			}
			ck_assert(chain_unhex(pmac, strlen(pmac), w->prev));
			w->seq = pseq;
			w->links++;
		}
		ck_assert_msg(w->started || link != NULL, "%s:%u: first event has no link", path, n);
		w->started = true;
		ck_assert_msg(json_u(ev, "seq") == w->seq + 1, "%s:%u: seq %llu after %llu",
			      path, n, json_u(ev, "seq"), w->seq);
		ck_assert_msg(chain_check((const unsigned char *)KEY, strlen(KEY), w->prev,
					  line, len), "%s:%u: MAC does not verify", path, n);
		ck_assert(chain_unhex(json_string_value(json_object_get(ev, "mac")),
				      CHAIN_HEX_LEN, w->prev));
		w->seq++;
		w->events++;
		if (strcmp(mgd_str(ev, "type"), "checkpoint") == 0)
			w->checkpoints++;
		json_decref(ev);
	}
	fclose(f);
}

static json_t *
last_event(const char *path)
{
	FILE *f = fopen(path, "r");
	static char line[1 << 20], last[1 << 20];

	ck_assert_ptr_nonnull(f);
	last[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		memcpy(last, line, strlen(line) + 1);
	fclose(f);
	return json_loads(last, 0, NULL);
}

static char *
keyed_config(const char *dir)
{
	static char text[600];
	char key[300];

	snprintf(key, sizeof(key), "%s/audit.key", dir);
	write_file(key, KEY "\n", 0600);
	snprintf(text, sizeof(text), "AuditKeyFile %s\n", key);
	return text;
}

static char keydir[64];

static const char *
make_keydir(void)
{
	snprintf(keydir, sizeof(keydir), "/tmp/mg-key.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(keydir));
	return keydir;
}

START_TEST(chains_events_across_rotation_and_restart)
{
	struct mgd d;
	struct walk w = { 0 };
	char rotated[400];
	json_t *ev;
	size_t n;

	mgd_start(&d, keyed_config(make_keydir()));
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(hostile_message(&d, "Q1"), 'R');
	mgd_wait_lines(&d, 4);
	/* logrotate: move, then SIGHUP */
	snprintf(rotated, sizeof(rotated), "%s.1", d.audit);
	ck_assert_int_eq(rename(d.audit, rotated), 0);
	kill(d.pid, SIGHUP);
	mgd_wait_lines(&d, 1);		/* the reload event, in the new file */
	ev = last_event(rotated);
	ck_assert_str_eq(mgd_str(ev, "type"), "checkpoint");
	ck_assert_str_eq(mgd_str(ev, "reason"), "reopen");
	json_decref(ev);
	ck_assert_int_eq(hostile_message(&d, "Q2"), 'R');
	mgd_wait_lines(&d, 2);
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	ev = last_event(d.audit);
	ck_assert_str_eq(mgd_str(ev, "type"), "checkpoint");
	ck_assert_str_eq(mgd_str(ev, "reason"), "stop");
	json_decref(ev);
	/* a new process continues the chain in the same file */
	n = mgd_audit_lines(&d);
	mgd_restart(&d);
	mgd_wait_lines(&d, n + 1);
	ck_assert_int_eq(hostile_message(&d, "Q3"), 'R');
	mgd_wait_lines(&d, n + 2);
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	walk_file(&w, rotated);
	walk_file(&w, d.audit);
	/* start, 3 decisions, reopen checkpoint | reload, 1 decision, stop,
	   stop checkpoint | start, 1 decision, stop, stop checkpoint */
	ck_assert_uint_eq(w.events, 13);
	ck_assert_uint_eq(w.checkpoints, 3);
	ck_assert_uint_eq(w.links, 3);	/* process start, reopen, restart */
	mgd_kill(&d);
}
END_TEST

#define RACE_THREADS 8
#define RACE_MESSAGES 130	/* 1,040 events: one interval checkpoint */

static void *
race(void *arg)
{
	for (int i = 0; i < RACE_MESSAGES; i++)
		ck_assert_int_eq(hostile_message(arg, "R"), 'R');
	return NULL;
}

START_TEST(events_of_concurrent_connections_chain_in_file_order_with_checkpoints)
{
	pthread_t t[RACE_THREADS];
	struct walk w = { 0 };
	struct mgd d;

	mgd_start(&d, keyed_config(make_keydir()));
	for (int i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &d), 0);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	walk_file(&w, d.audit);
	/* start, a decision per message, a checkpoint after 1,000 events,
	   stop, and the checkpoint at stop */
	ck_assert_uint_eq(w.events, RACE_THREADS * RACE_MESSAGES + 4);
	ck_assert_uint_eq(w.checkpoints, 2);
	mgd_kill(&d);
}
END_TEST

/* Run "cd dir && shell" and return its output and exit status as text:
   "...output...exit N\n". */
static char *
run_in(const char *dir, const char *shell)
{
	static char out[8192];
	char cmd[4096];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "cd '%s' && { %s; } 2>&1; echo \"exit $?\"", dir, shell);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

/* A real daemon's chained log, rotated once: milter-guard-audit verify
   passes it across the boundary and names the first line of each kind of
   tampering. */
START_TEST(the_audit_tool_verifies_the_daemons_chain_and_names_each_tampered_line)
{
	static const struct {
		const char *tamper;	/* shell, in a copy of the two files */
		const char *expect;
	} cases[] = {
		{ ":", "ok: 13 events, seq 1-13, in 2 files; MACs checked\nexit 0\n" },
		{ "sed -i '3s/\"recipients\":0/\"recipients\":9/' audit.json",
		  "audit.json:3: modified: seq 10 is in place but its MAC is wrong\nexit 1\n" },
		{ "sed -i 3d audit.json",
		  "audit.json:3: missing: seq 10 (1 event) before this event (seq 11)\nexit 1\n" },
		{ "sed -i -n '3h;3d;4{p;x};p' audit.json",
		  "audit.json:3: reordered: seq 11 comes before seq 10 (audit.json:4)\nexit 1\n" },
		{ "sed -i '3{p;s/\"recipients\":0/\"recipients\":9/}' audit.json",
		  "audit.json:4: inserted: not part of the chain (the next event continues from seq 10)\nexit 1\n" },
		{ "sed -i 5,6d audit.json",
		  "audit.json:4: truncated tail: 4 events after the last checkpoint (seq 7 at audit.json.1:7)\nexit 1\n" },
	};
	const char *top = getenv("top_builddir");
	char rotated[400], cmd[2000], work[96];
	struct mgd d;

	mgd_start(&d, keyed_config(make_keydir()));
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(hostile_message(&d, "V1"), 'R');
	mgd_wait_lines(&d, 6);
	snprintf(rotated, sizeof(rotated), "%s.1", d.audit);
	ck_assert_int_eq(rename(d.audit, rotated), 0);
	kill(d.pid, SIGHUP);
	mgd_wait_lines(&d, 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(hostile_message(&d, "V2"), 'R');
	mgd_wait_lines(&d, 4);
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(work, sizeof(work), "%s/case%zu", keydir, i);
		ck_assert_int_eq(mkdir(work, 0700), 0);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s' . && %s && %s/src/milter-guard-audit "
			 "verify --key ../audit.key audit.json.1 audit.json",
			 rotated, d.audit, cases[i].tamper, top);
		ck_assert_str_eq(run_in(work, cmd), cases[i].expect);
	}
	mgd_kill(&d);
}
END_TEST

START_TEST(a_full_disk_tempfails_mail_and_reports_the_loss_afterwards)
{
	struct mgd d;
	const char *mnt = full_mnt;
	char log[300], filler[300], cmd[400];
	json_t *evs, *sf = NULL;
	int lost_now = 5;	/* the first tempfailed message, and 4 more */

	snprintf(log, sizeof(log), "%s/audit.json", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	mgd_start_audit(&d, "Mode monitor\n", log);
	/* fill the filesystem */
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1k count=200 2>/dev/null", filler);
	ck_assert_int_ne(system(cmd), 0);	/* dd: no space left */
	ck_assert(until_tempfailed(&d, 200));
	for (int i = 1; i < lost_now; i++)
		ck_assert_int_eq(hostile_message(&d, "F1"), 'T');
	ck_assert_int_eq(kill(d.pid, 0), 0);	/* alive */
	/* space again: the next event is preceded by the report */
	ck_assert_int_eq(unlink(filler), 0);
	mgd_sleep_ms(1100);
	ck_assert_int_eq(hostile_message(&d, "F2"), 'c');
	mgd_wait_lines(&d, 3);
	evs = mgd_events_since(&d, 0);
	for (size_t i = 0; i < json_array_size(evs); i++)
		if (strcmp(mgd_str(json_array_get(evs, i), "type"), "sink_failure") == 0)
			sf = json_array_get(evs, i);
	ck_assert_ptr_nonnull(sf);
	ck_assert_str_eq(mgd_str(sf, "sink"), "file");
	ck_assert_str_eq(mgd_str(sf, "error"), "No space left on device");
	ck_assert_uint_eq(json_integer_value(json_object_get(sf, "lost")), lost_now);
	ck_assert_str_eq(mgd_str(json_array_get(evs, json_array_size(evs) - 1), "type"),
			 "decision");
	json_decref(evs);
	mgd_kill(&d);
}
END_TEST

START_TEST(a_chained_full_disk_names_the_lost_range_and_the_chain_verifies)
{
	struct mgd d;
	const char *mnt = full_mnt;
	char log[300], filler[300], cmd[400], cfg[700];
	struct walk w = { 0 };
	json_t *evs;
	bool found = false;

	snprintf(log, sizeof(log), "%s/chained.json", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	snprintf(cfg, sizeof(cfg), "Mode monitor\n%s", keyed_config(make_keydir()));
	mgd_start_audit(&d, cfg, log);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1k count=200 2>/dev/null", filler);
	ck_assert_int_ne(system(cmd), 0);
	ck_assert(until_tempfailed(&d, 200));
	for (int i = 1; i < 4; i++)
		ck_assert_int_eq(hostile_message(&d, "F1"), 'T');
	ck_assert_int_eq(unlink(filler), 0);
	mgd_sleep_ms(1100);
	ck_assert_int_eq(hostile_message(&d, "F2"), 'c');
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	evs = mgd_events_since(&d, 0);
	for (size_t i = 0; i < json_array_size(evs); i++) {
		json_t *ev = json_array_get(evs, i);

		if (strcmp(mgd_str(ev, "type"), "sink_failure") != 0)
			continue;
		found = true;
		ck_assert_uint_eq(json_u(ev, "lost"), 4);
		ck_assert_uint_eq(json_u(ev, "last_seq") - json_u(ev, "first_seq") + 1, 4);
		ck_assert_str_eq(mgd_str(json_object_get(ev, "chain"), "reason"), "gap");
	}
	ck_assert(found);
	json_decref(evs);
	walk_file(&w, log);
	ck_assert_uint_eq(w.gaps, 1);
	ck_assert_uint_eq(w.links, 2);	/* process start, the gap */
	mgd_kill(&d);
}
END_TEST

START_TEST(a_removed_log_directory_tempfails_until_it_is_back)
{
	struct mgd d;
	char dir[] = "/tmp/mg-gone.XXXXXX", log[300], cmd[300];
	json_t *evs, *last;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/audit.json", dir);
	mgd_start_audit(&d, "Mode monitor\n", log);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	mgd_sleep_ms(1100);	/* the daemon looks for a removed file once a second */
	ck_assert_int_eq(hostile_message(&d, "G1"), 'T');
	ck_assert_int_eq(hostile_message(&d, "G2"), 'T');
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	mgd_sleep_ms(1100);
	ck_assert_int_eq(hostile_message(&d, "G3"), 'c');
	mgd_wait_lines(&d, 2);
	evs = mgd_events_since(&d, 0);
	ck_assert_uint_eq(json_array_size(evs), 2);
	last = json_array_get(evs, 0);
	ck_assert_str_eq(mgd_str(last, "type"), "sink_failure");
	ck_assert_str_eq(mgd_str(last, "error"), "No such file or directory");
	ck_assert_uint_eq(json_u(last, "lost"), 2);
	ck_assert_str_eq(mgd_str(json_array_get(evs, 1), "queue_id"), "G3");
	json_decref(evs);
	mgd_kill(&d);
}
END_TEST

START_TEST(dev_full_as_the_log_tempfails_every_decision_and_never_crashes)
{
	struct mgd d;

	mgd_start_audit(&d, "Mode monitor\n", "/dev/full");
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(hostile_message(&d, "Z"), 'T');
	ck_assert_int_eq(kill(d.pid, 0), 0);
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	mgd_kill(&d);
}
END_TEST

START_TEST(on_audit_failure_accept_lets_mail_through_unaudited)
{
	struct mgd d;

	mgd_start_audit(&d, "Mode monitor\nOnAuditFailure accept\n", "/dev/full");
	ck_assert_int_eq(hostile_message(&d, "Z"), 'c');
	mgd_kill(&d);
}
END_TEST

START_TEST(audit_all_writes_an_event_for_every_clean_message)
{
	struct mgd d;
	json_t *evs, *ev;

	mgd_start(&d, "AuditAll yes\n");
	ck_assert_int_eq(message_from(&d, "<alice@example.org>", "C1"), 'c');
	mgd_wait_lines(&d, 2);
	evs = mgd_events_since(&d, 1);
	ck_assert_uint_eq(json_array_size(evs), 1);
	ev = json_array_get(evs, 0);
	ck_assert_str_eq(mgd_str(ev, "type"), "decision");
	ck_assert_str_eq(mgd_str(ev, "action"), "accept");
	ck_assert_str_eq(mgd_str(ev, "queue_id"), "C1");
	ck_assert_str_eq(mgd_str(ev, "stage"), "eom");
	ck_assert_uint_eq(json_array_size(json_object_get(ev, "findings")), 0);
	ck_assert_ptr_null(json_object_get(ev, "reply"));
	json_decref(evs);
	mgd_kill(&d);
	/* and an unwritable log holds clean mail too */
	mgd_start_audit(&d, "AuditAll yes\n", "/dev/full");
	ck_assert_int_eq(message_from(&d, "<alice@example.org>", "C2"), 'T');
	mgd_kill(&d);
}
END_TEST

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 20];
	size_t n;

	ck_assert_msg(f != NULL, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

START_TEST(syslog_and_stdout_carry_the_events_of_the_file)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char cfg[600], out[400], head[100], *file, *stdout_text;
	static char got[1 << 20], dgram[1 << 16];
	size_t used = 0;
	struct mgd d;
	int fd;
	ssize_t n;

	make_keydir();
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/log.sock", keydir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	snprintf(cfg, sizeof(cfg), "AuditSyslog yes\nAuditSyslogSocket %s\n"
		 "AuditSyslogFacility local3\nAuditStdout yes\n", sun.sun_path);
	mgd_start(&d, cfg);
	ck_assert_int_eq(hostile_message(&d, "S1"), 'R');
	snprintf(head, sizeof(head), "milter-guard[%ld]: @cee: ", (long)d.pid);
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	/* every datagram: <local3.info>timestamp tag: @cee: JSON */
	while ((n = recv(fd, dgram, sizeof(dgram) - 1, MSG_DONTWAIT)) > 0) {
		char *json;

		dgram[n] = '\0';
		ck_assert_msg(strncmp(dgram, "<158>", 5) == 0, "%s", dgram);
		json = strstr(dgram, head);
		ck_assert_msg(json != NULL && json - dgram == 5 + 16, "%s", dgram);
		json += strlen(head);
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s\n", json);
	}
	close(fd);
	file = slurp(d.audit);
	ck_assert_str_eq(got, file);
	snprintf(out, sizeof(out), "%s/stdout.log", d.dir);
	stdout_text = slurp(out);
	ck_assert_str_eq(stdout_text, file);
	ck_assert_ptr_nonnull(strstr(file, "\"type\":\"decision\""));
	free(file);
	free(stdout_text);
	mgd_kill(&d);
}
END_TEST

/* Everything in the pipe now (non-blocking), NUL-terminated. */
static char *
drain(int fd, size_t *len_r)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	while (len + 1 < cap && (n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	*len_r = len;
	return buf;
}

/* AuditStdout to a pipe nobody reads (a stalled log collector; stderr
   too, as in a container): every message still gets its verdict at once,
   the file keeps every event, and when the pipe is read again the stdout
   sink reports what it lost, on a line of its own. */
START_TEST(a_stalled_stdout_reader_never_holds_up_mail)
{
	struct mgd d;
	int p[2], queued;
	const int messages = 300;
	long t0, slowest = 0, stop_ms;
	size_t lines, len;
	char *text, *sf, *eol;
	json_t *ev;

	/* the daemon's end blocks, as a log collector's pipe does; ours not */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	mgd_output_fd = p[1];
	mgd_start(&d, "AuditStdout yes\n");
	mgd_output_fd = -1;
	close(p[1]);
	lines = mgd_audit_lines(&d);
	for (int i = 0; i < messages; i++) {
		t0 = mgd_now_ms();
		ck_assert_int_eq(hostile_message(&d, "P1"), 'R');
		if (mgd_now_ms() - t0 > slowest)
			slowest = mgd_now_ms() - t0;
	}
	ck_assert_int_eq(ioctl(p[0], FIONREAD, &queued), 0);
	ck_assert_int_gt(queued, 48 * 1024);	/* the pipe (64 KiB) filled up */
	mgd_wait_lines(&d, lines + messages);	/* the file has every event */
	/* the reader is back: the next event after a second reports the loss */
	free(drain(p[0], &len));
	mgd_sleep_ms(1100);
	ck_assert_int_eq(hostile_message(&d, "P2"), 'R');
	text = drain(p[0], &len);
	sf = strstr(text, "\"type\":\"sink_failure\"");
	ck_assert_msg(sf != NULL, "no sink_failure event in:\n%s", text);
	while (sf > text && sf[-1] != '\n')
		sf--;
	ck_assert_msg(strncmp(sf, "{\"schema\":", 10) == 0, "not a line of its own: %s", sf);
	eol = strchr(sf, '\n');
	ck_assert_ptr_nonnull(eol);
	*eol = '\0';
	ev = json_loads(sf, 0, NULL);
	ck_assert_msg(ev != NULL, "not JSON: %s", sf);
	ck_assert_str_eq(mgd_str(ev, "sink"), "stdout");
	ck_assert_str_eq(mgd_str(ev, "error"), "Connection timed out");
	ck_assert_uint_gt(json_integer_value(json_object_get(ev, "lost")), 0);
	json_decref(ev);
	free(text);
	/* stalled again, it still stops at once */
	for (int i = 0; i < messages; i++)
		ck_assert_int_eq(hostile_message(&d, "P3"), 'R');
	t0 = mgd_now_ms();
	ck_assert(WIFEXITED(mgd_stop(&d, SIGTERM)));
	stop_ms = mgd_now_ms() - t0;
	ck_assert_int_lt(stop_ms, 2000);
	fprintf(stderr, "audit: stalled stdout: slowest of %d messages %ld ms; SIGTERM to "
		"exit %ld ms\n", messages, slowest, stop_ms);
	close(p[0]);
	mgd_kill(&d);
}
END_TEST

/* The descriptors the process holds. */
static size_t
open_fds(pid_t pid)
{
	char dir[64];
	DIR *dp;
	struct dirent *de;
	size_t n = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	dp = opendir(dir);
	ck_assert_ptr_nonnull(dp);
	while ((de = readdir(dp)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

START_TEST(a_failing_chain_state_write_leaks_no_descriptor)
{
	struct mgd d;
	char tmp[400], errlog[300], *text;
	size_t fds, lines;
	const int rounds = 5;

	mgd_start(&d, keyed_config(make_keydir()));
	ck_assert_int_eq(hostile_message(&d, "S1"), 'R');
	mgd_wait_lines(&d, 2);
	/* one reopen that succeeds, and the session's socket closed */
	lines = mgd_audit_lines(&d) + 2;
	kill(d.pid, SIGHUP);
	mgd_wait_lines(&d, lines);
	mgd_sleep_ms(200);
	fds = open_fds(d.pid);
	/* <AuditLog>.chain.tmp as /dev/full: the checkpoint of each reopen
	   (SIGHUP) is written to the log, its state copy fails (ENOSPC) */
	snprintf(tmp, sizeof(tmp), "%s.chain.tmp", d.audit);
	for (int i = 0; i < rounds; i++) {
		ck_assert_int_eq(mknod(tmp, S_IFCHR | 0600, makedev(1, 7)), 0);
		kill(d.pid, SIGHUP);
		lines += 2;	/* the checkpoint, the reload event */
		mgd_wait_lines(&d, lines);
		ck_assert_int_ne(access(tmp, F_OK), 0);	/* removed after the failure */
	}
	mgd_sleep_ms(200);
	ck_assert_uint_eq(open_fds(d.pid), fds);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", d.dir);
	text = slurp(errlog);
	ck_assert_msg(strstr(text, ".chain: No space left on device") != NULL,
		      "no state error in:\n%s", text);
	free(text);
	ck_assert_int_eq(hostile_message(&d, "S2"), 'R');
	mgd_kill(&d);
}
END_TEST

START_TEST(refuses_a_key_file_others_can_read)
{
	const char *top = getenv("top_builddir");
	char key[300], conf[300], cmd[5000], out[1000] = "";
	FILE *p;

	make_keydir();
	snprintf(key, sizeof(key), "%s/audit.key", keydir);
	snprintf(conf, sizeof(conf), "%s/mg.conf", keydir);
	write_file(key, KEY, 0644);
	snprintf(cmd, sizeof(cmd), "AuditKeyFile %s\n", key);
	write_file(conf, cmd, 0600);
	snprintf(cmd, sizeof(cmd), "%s/src/milter-guard -n -c %s 2>&1; echo \"exit $?\"", top, conf);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_gt(fread(out, 1, sizeof(out) - 1, p), 0);
	pclose(p);
	snprintf(cmd, sizeof(cmd), "milter-guard: %s: AuditKeyFile %s: mode 0644: readable by others, "
		 "so others could forge the chain; chmod 0600 (or 0640) it\nexit 78\n", conf, key);
	ck_assert_str_eq(out, cmd);
	/* a short key is refused too */
	write_file(key, "short\n", 0600);
	snprintf(cmd, sizeof(cmd), "%s/src/milter-guard -n -c %s >/dev/null 2>&1", top, conf);
	ck_assert_int_eq(WEXITSTATUS(system(cmd)), 78);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("sinks"), *full = tcase_create("full disk");

	if (geteuid() != 0) {
		fprintf(stderr, "test_audit: needs root (it mounts a tmpfs)\n");
		return getenv("CI") != NULL ? 1 : 77;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, chains_events_across_rotation_and_restart);
	tcase_set_timeout(full, 60);
	tcase_add_unchecked_fixture(full, full_setup, full_teardown);
	tcase_add_test(full, a_full_disk_tempfails_mail_and_reports_the_loss_afterwards);
	tcase_add_test(full, a_chained_full_disk_names_the_lost_range_and_the_chain_verifies);
	suite_add_tcase(s, full);
	tcase_add_test(tc, a_removed_log_directory_tempfails_until_it_is_back);
	tcase_add_test(tc, dev_full_as_the_log_tempfails_every_decision_and_never_crashes);
	tcase_add_test(tc, on_audit_failure_accept_lets_mail_through_unaudited);
	tcase_add_test(tc, the_audit_tool_verifies_the_daemons_chain_and_names_each_tampered_line);
	tcase_add_test(tc, events_of_concurrent_connections_chain_in_file_order_with_checkpoints);
	tcase_add_test(tc, audit_all_writes_an_event_for_every_clean_message);
	tcase_add_test(tc, syslog_and_stdout_carry_the_events_of_the_file);
	tcase_add_test(tc, refuses_a_key_file_others_can_read);
	tcase_add_test(tc, a_failing_chain_state_write_leaks_no_descriptor);
	tcase_add_test(tc, a_stalled_stdout_reader_never_holds_up_mail);
	suite_add_tcase(s, tc);
	{
		SRunner *sr = srunner_create(s);
		int failed;

		srunner_run_all(sr, CK_NORMAL);
		failed = srunner_ntests_failed(sr);
		srunner_free(sr);
		return failed == 0 ? 0 : 1;
	}
}
