/*
 * audit.c -- the audit sinks: file, syslog, stdout; the HMAC chain
 *
 * An event is built (JSON, escaped) by the caller outside any lock.  Here,
 * under one lock, it is sealed into the chain (when AuditKeyFile is set:
 * "seq", maybe "chain", "mac"; see core/chain.h) and written to every sink,
 * so the chain order is the order of every sink.  The lock covers the seal
 * and the writes and nothing else; a syslog datagram is sent without
 * blocking, and a reader of stdout that stops reading (a stalled pipe or
 * log collector) is waited for at most AUDIT_STDOUT_WAIT_MS (and, while
 * it fails, once a second), so a callback, reload or stop waits at most
 * that long behind it.
 *
 * A sink that fails is never silent: the failure is logged, the events it
 * misses are counted (and, chained, their seq range kept), and at most once
 * a second it is tried again with a "sink_failure" event naming the loss;
 * when that event is written, the sink is back.  A file that was removed or
 * replaced under us is reopened within a second, as on SIGHUP.
 *
 * Chained, a "checkpoint" event is written every AUDIT_CHECKPOINT_EVERY
 * events, into the old file before a reopen, and at stop; the last
 * checkpoint line is also kept in <AuditLog>.chain, from which (or from the
 * log's last line, whichever is later) a new process continues the chain.
 */
#include "mg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/alog.h"
#include "core/chain.h"
#include "core/keyfile.h"

#define AUDIT_CHECKPOINT_EVERY 1000	/* chained events between checkpoints */
#define AUDIT_RETRY_MS 1000		/* a failed sink is tried this often */
#define AUDIT_TAIL_MAX (512 * 1024)	/* read to find the last event */
#define AUDIT_STATE_SUFFIX ".chain"
#define AUDIT_STDOUT_WAIT_MS 200	/* a stalled reader of stdout, at most */

enum sink_id { SINK_FILE, SINK_SYSLOG, SINK_STDOUT, SINK_COUNT };

static const char *const sink_name[SINK_COUNT] = { "file", "syslog", "stdout" };

struct sink {
	bool on;
	int fd;				/* -1: not open */
	char *path;			/* file; syslog socket; "-" */
	int facility;			/* syslog */
	dev_t dev;			/* file: what fd is */
	ino_t ino;
	bool failing;			/* until a write works again */
	struct mg_lines out;		/* stdout */
	unsigned long long lost;	/* events missed since it failed */
	unsigned long long first_seq, last_seq;
	struct evt_time since;
	int err;			/* errno of the first failure */
	long long retry_at;		/* monotonic ms */
};

static struct {
	pthread_mutex_t lock;
	struct sink sink[SINK_COUNT];
	unsigned char key[CHAIN_KEY_MAX];
	size_t keylen;			/* 0: no chain */
	struct chain_state chain;
	enum chain_link link;		/* for the next event sealed */
	unsigned long long since_checkpoint;
	time_t file_checked;		/* last look for a removed file */
	bool closed;			/* after stop: nothing is written */
} au = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.sink = { { .fd = -1 }, { .fd = -1 }, { .fd = -1, .out = { STDOUT_FILENO, false } } },
};

/* --- the key ------------------------------------------------------------- */

int
mg_audit_key_load(const char *path, char *err, size_t errsize)
{
	unsigned char buf[CHAIN_KEY_MAX + 2];
	const char *why;
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	au.keylen = 0;
	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errsize, "AuditKeyFile %s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "AuditKeyFile %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((why = keyfile_mode_problem((unsigned)st.st_mode)) != NULL) {
		snprintf(err, errsize, "AuditKeyFile %s: mode %04o: %s, so others "
			 "could forge the chain; chmod 0600 (or 0640) it", path,
			 (unsigned)(st.st_mode & 07777), why);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(err, errsize, "AuditKeyFile %s: cannot read: %s", path,
			 strerror(errno));
		return -1;
	}
	len = keyfile_key_len((const char *)buf, (size_t)n);
	if ((why = keyfile_length_problem(len)) != NULL) {
		snprintf(err, errsize, "AuditKeyFile %s: %s (it has %zu); e.g. "
			 "openssl rand -hex 32 > %s", path, why, len, path);
		return -1;
	}
	memcpy(au.key, buf, len);
	au.keylen = len;
	return 0;
}

/* --- writing to one sink -------------------------------------------------- */

static int
write_all(int fd, const char *buf, size_t len, size_t *done_r)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			*done_r = done;
			return -1;
		}
		done += (size_t)n;
	}
	*done_r = done;
	return 0;
}

static int
file_put(struct sink *s, const char *buf, size_t len)
{
	size_t done;

	if (s->fd < 0) {
		errno = s->err != 0 ? s->err : EBADF;
		return -1;
	}
	if (write_all(s->fd, buf, len, &done) == 0)
		return 0;
	if (done > 0) {
		/* never leave half a line: cut what this write added */
		int e = errno;
		off_t end = lseek(s->fd, 0, SEEK_END);

		if (end >= (off_t)done && ftruncate(s->fd, end - (off_t)done) < 0)
			mg_log(LOG_ERR, "audit log %s: cannot remove a partial line: %s",
			       s->path, strerror(errno));
		errno = e;
	}
	return -1;
}

static int
syslog_connect(struct sink *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(s->path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, s->path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* RFC 3164 framing, as the local syslog daemon expects; the JSON behind
   the CEE cookie.  Never blocks: a full socket buffer is a failure. */
static int
syslog_put(struct sink *s, const char *buf, size_t len)
{
	char head[128];
	struct tm tm;
	time_t now = time(NULL);
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	int n;

	localtime_r(&now, &tm);
	n = snprintf(head, sizeof(head), "<%d>", s->facility | LOG_INFO);
	n += (int)strftime(head + n, sizeof(head) - (size_t)n, "%b %e %H:%M:%S ", &tm);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%s[%ld]: @cee: ",
		      MG_NAME, (long)getpid());
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->fd < 0 && syslog_connect(s) < 0)
			return -1;
		if (sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != ECONNREFUSED && errno != ENOTCONN && errno != EBADF)
			return -1;
		/* the syslog daemon restarted: connect again, once */
		close(s->fd);
		s->fd = -1;
	}
	return -1;
}

static int
sink_put(struct sink *s, enum sink_id id, const char *buf, size_t len)
{
	switch (id) {
	case SINK_FILE:
		return file_put(s, buf, len);
	case SINK_SYSLOG:
		return syslog_put(s, buf, len);
	default:
		return mg_lines_put(&s->out, buf, len, AUDIT_STDOUT_WAIT_MS);
	}
}

/* The sink failed (err): from now on it is tried once a second only. */
static void
fail(struct sink *s, enum sink_id id, int err, const char *what)
{
	if (s->failing)
		return;
	s->failing = true;
	s->err = err;
	s->lost = 0;
	s->first_seq = s->last_seq = 0;
	mg_now(&s->since);
	s->retry_at = mg_mono_ms() + AUDIT_RETRY_MS;
	mg_log(LOG_ERR, "audit %s %s: %s failed: %s; the events it misses are "
	       "counted, and it is tried again every %d ms", sink_name[id], s->path,
	       what, strerror(err), AUDIT_RETRY_MS);
}

/* An event (seq, 0 if not chained) did not reach the sink. */
static void
lose(struct sink *s, enum sink_id id, int err, unsigned long long seq)
{
	fail(s, id, err, "write");
	if (s->lost == 0)
		s->first_seq = seq;
	s->lost++;
	s->last_seq = seq;
}

/* --- sealing and writing an event ---------------------------------------- */

/* Seal buf[0..*len) (room for CHAIN_SEAL_EXTRA more) when chained, and
   write it to every sink; *len becomes the sealed length.  A failing sink
   is only tried with its own report (retry == its id).  Returns 0 if some
   sink took it, or none is on. */
static int
put_locked(char *buf, size_t *lenp, int retry)
{
	unsigned long long seq = 0;
	unsigned configured = 0, taken = 0;
	size_t len = *lenp;

	if (au.keylen > 0) {
		size_t n = chain_seal_r(au.key, au.keylen, &au.chain, au.link, buf, len);

		if (n == 0) {
			mg_log(LOG_ERR, "audit: cannot seal an event (not a JSON object, or no room)");
			return -1;
		}
		len = *lenp = n;
		au.link = CHAIN_LINK_NONE;
		seq = au.chain.seq;
		au.since_checkpoint++;
	}
	for (int id = 0; id < SINK_COUNT; id++) {
		struct sink *s = &au.sink[id];

		if (!s->on)
			continue;
		configured++;
		if (s->failing && retry != id) {
			lose(s, (enum sink_id)id, s->err, seq);
			continue;
		}
		if (sink_put(s, (enum sink_id)id, buf, len) == 0) {
			taken++;
			if (s->failing) {
				mg_log(LOG_NOTICE, "audit %s %s: writing again; %llu "
				       "events were lost", sink_name[id], s->path, s->lost);
				s->failing = false;
				s->lost = 0;
			}
		} else {
			lose(s, (enum sink_id)id, errno, seq);
		}
	}
	return configured == 0 || taken > 0 ? 0 : -1;
}

/* A copy of a built line with room for the seal; NULL (logged) if memory
   runs out. */
static char *
sealable(const char *line, size_t *len_r)
{
	size_t len = strlen(line);
	char *buf = malloc(len + CHAIN_SEAL_EXTRA);

	if (buf == NULL) {
		mg_log(LOG_ERR, "audit: out of memory writing an event");
		return NULL;
	}
	memcpy(buf, line, len);
	*len_r = len;
	return buf;
}

/* Put a built line. */
static int
put_line_locked(const char *line, int retry)
{
	size_t len;
	char *buf = sealable(line, &len);
	int rc;

	if (buf == NULL)
		return -1;
	rc = put_locked(buf, &len, retry);
	free(buf);
	return rc;
}

static void
save_state_locked(const char *line)
{
	const struct sink *f = &au.sink[SINK_FILE];
	char path[4096], tmp[4096 + 8];
	size_t done;
	int fd, err;

	if (!f->on || snprintf(path, sizeof(path), "%s%s", f->path,
			       AUDIT_STATE_SUFFIX) >= (int)sizeof(path))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		err = errno;
	} else {
		/* the descriptor is closed whatever the write did */
		err = write_all(fd, line, strlen(line), &done) < 0 ? errno : 0;
		if (close(fd) < 0 && err == 0)
			err = errno;
		if (err == 0 && rename(tmp, path) < 0)
			err = errno;
		if (err != 0)
			unlink(tmp);
	}
	if (err != 0)
		mg_log(LOG_ERR, "audit: cannot save the chain state in %s: %s",
		       path, strerror(err));
}

/* A checkpoint: chained only.  Kept in the state file too. */
static void
checkpoint_locked(const char *reason)
{
	struct evt_time t;
	char *line, *buf;
	size_t len;

	if (au.keylen == 0)
		return;
	mg_now(&t);
	line = evt_checkpoint(&t, mg_hostname(), reason, au.since_checkpoint);
	if (line == NULL) {
		mg_log(LOG_ERR, "audit: out of memory building a checkpoint");
		return;
	}
	buf = sealable(line, &len);
	if (buf != NULL) {
		if (put_locked(buf, &len, -1) == 0) {
			buf[len] = '\0';	/* within the room: the seal left a byte */
			save_state_locked(buf);
		}
		au.since_checkpoint = 0;
		free(buf);
	}
	free(line);
}

/* --- opening, reopening, and a removed file ------------------------------- */

static int
file_open(struct sink *s)
{
	struct stat st;
	int fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

static void
file_reopen_locked(const char *why)
{
	struct sink *s = &au.sink[SINK_FILE];

	checkpoint_locked("reopen");	/* into the old file */
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (file_open(s) < 0)
		fail(s, SINK_FILE, errno, why);
	if (au.keylen > 0)
		au.link = CHAIN_LINK_REOPEN;
}

/* Once a second: was the file removed or replaced (rotated without a
   SIGHUP)?  Then reopen it. */
static void
file_watch_locked(void)
{
	struct sink *s = &au.sink[SINK_FILE];
	time_t now = time(NULL);
	struct stat st;

	if (!s->on || s->fd < 0 || now == au.file_checked)
		return;
	au.file_checked = now;
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		return;
	mg_log(LOG_WARNING, "audit log %s was removed or replaced; reopening it",
	       s->path);
	file_reopen_locked("reopen");
}

/* Try failed sinks again, each with a sink_failure event naming its loss. */
static void
retry_locked(void)
{
	long long now = mg_mono_ms();

	for (int id = 0; id < SINK_COUNT; id++) {
		struct sink *s = &au.sink[id];
		struct evt_sink_failure sf;
		struct evt_time t;
		char *line;

		if (!s->on || !s->failing || now < s->retry_at)
			continue;
		s->retry_at = now + AUDIT_RETRY_MS;
		if (id == SINK_FILE && s->fd < 0 && file_open(s) < 0) {
			s->err = errno;
			continue;	/* still cannot open it: the report would be lost */
		}
		sf = (struct evt_sink_failure){
			.sink = sink_name[id], .path = s->path, .error = strerror(s->err),
			.lost = s->lost, .first_seq = s->first_seq, .last_seq = s->last_seq,
			.since = s->since,
		};
		mg_now(&t);
		line = evt_sink_failure(&t, mg_hostname(), &sf);
		if (line == NULL)
			continue;
		if (au.keylen > 0 && au.link == CHAIN_LINK_NONE)
			au.link = CHAIN_LINK_GAP;
		put_line_locked(line, id);
		free(line);
	}
}

int
mg_audit_write(const char *line)
{
	size_t len;
	char *buf = sealable(line, &len);	/* copied outside the lock */
	int rc;

	if (buf == NULL)
		return -1;
	pthread_mutex_lock(&au.lock);
	if (au.closed) {
		/* a session still running when the daemon stops */
		pthread_mutex_unlock(&au.lock);
		mg_log(LOG_ERR, "audit: an event after stop was not written");
		free(buf);
		return -1;
	}
	file_watch_locked();
	retry_locked();
	rc = put_locked(buf, &len, -1);
	if (au.keylen > 0 && au.since_checkpoint >= AUDIT_CHECKPOINT_EVERY)
		checkpoint_locked("interval");
	pthread_mutex_unlock(&au.lock);
	free(buf);
	return rc;
}

void
mg_audit_lifecycle(const char *type, const char *const *kv)
{
	struct evt_time t;
	char *line;

	mg_now(&t);
	line = evt_lifecycle(&t, mg_hostname(), type, kv);
	if (line == NULL) {
		mg_log(LOG_ERR, "audit: out of memory building a %s event", type);
		return;
	}
	mg_audit_write(line);
	free(line);
}

/* --- continuing the chain ------------------------------------------------- */

/* The seq and MAC of the last chained event among the whole lines of
   buf[0..len), read with the audit tool's parser (the first line of a tail
   window may be cut: it does not parse and is passed over). */
static bool
last_sealed(const char *buf, size_t len, struct chain_state *st)
{
	struct alog_event *ev = malloc(sizeof(*ev));
	struct alog_lines it;
	const char *line, *why;
	size_t llen, col;
	unsigned char mac[CHAIN_MAC_LEN];
	bool found = false;

	if (ev == NULL)
		return false;
	alog_lines_init(&it, buf, len);
	while (alog_lines_next(&it, &line, &llen)) {
		if (alog_parse(line, llen, ev, &why, &col) == 0 && ev->seq.set &&
		    ev->mac.set && ev->mac.p != NULL &&
		    chain_unhex(ev->mac.p, ev->mac.len, mac)) {
			st->seq = ev->seq.v;
			memcpy(st->mac, mac, CHAIN_MAC_LEN);
			found = true;
		}
	}
	free(ev);
	return found;
}

static bool
read_tail(const char *path, struct chain_state *st)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	off_t from;
	bool found;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return false;
	if (fstat(fd, &sb) < 0 || sb.st_size == 0) {
		close(fd);
		return false;
	}
	from = sb.st_size > AUDIT_TAIL_MAX ? sb.st_size - AUDIT_TAIL_MAX : 0;
	buf = malloc(AUDIT_TAIL_MAX);
	n = buf != NULL ? pread(fd, buf, AUDIT_TAIL_MAX, from) : -1;
	close(fd);
	found = n > 0 && last_sealed(buf, (size_t)n, st);
	free(buf);
	return found;
}

/* Where the chain stands: the later of the log's last event and the state
   file's checkpoint. */
static void
restore_chain_locked(void)
{
	const struct sink *f = &au.sink[SINK_FILE];
	struct chain_state a = { 0 }, b = { 0 };
	char path[4096];

	memset(&au.chain, 0, sizeof(au.chain));
	au.link = CHAIN_LINK_START;
	if (!f->on)
		return;
	read_tail(f->path, &a);
	snprintf(path, sizeof(path), "%s%s", f->path, AUDIT_STATE_SUFFIX);
	read_tail(path, &b);
	au.chain = a.seq >= b.seq ? a : b;
	if (au.chain.seq > 0)
		mg_log(LOG_INFO, "audit: the chain continues from event %llu",
		       au.chain.seq);
}

/* --- configuration ------------------------------------------------------- */

static void
set_path(struct sink *s, const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL)
		return;		/* keep the old one */
	free(s->path);
	s->path = copy;
}

static void
configure_locked(const struct cfg *cfg)
{
	struct sink *sl = &au.sink[SINK_SYSLOG], *so = &au.sink[SINK_STDOUT];
	bool syslog_moved = sl->path == NULL ||
			    strcmp(sl->path, cfg->audit_syslog_socket) != 0;

	if (!cfg->audit_syslog || syslog_moved) {
		if (sl->fd >= 0)
			close(sl->fd);
		sl->fd = -1;
		sl->failing = false;
	}
	sl->on = cfg->audit_syslog;
	sl->facility = mg_log_facility(cfg->audit_syslog_facility);
	set_path(sl, cfg->audit_syslog_socket);
	if (!cfg->audit_stdout)
		so->failing = false;
	so->on = cfg->audit_stdout;
	set_path(so, "-");
	if (so->on)
		signal(SIGPIPE, SIG_IGN);	/* a closed stdout is a failure */
}

int
mg_audit_open(const struct cfg *cfg, char *err, size_t errsize)
{
	struct sink *f = &au.sink[SINK_FILE];

	pthread_mutex_lock(&au.lock);
	configure_locked(cfg);
	f->on = cfg->audit_log[0] != '\0';
	if (f->on) {
		set_path(f, cfg->audit_log);
		if (file_open(f) < 0) {
			snprintf(err, errsize, "audit log %s: cannot open: %s",
				 cfg->audit_log, strerror(errno));
			f->on = false;
			pthread_mutex_unlock(&au.lock);
			return -1;
		}
	}
	if (au.keylen > 0)
		restore_chain_locked();
	pthread_mutex_unlock(&au.lock);
	return 0;
}

int
mg_audit_reopen(const struct cfg *cfg)
{
	struct sink *f = &au.sink[SINK_FILE];
	int rc = 0;

	pthread_mutex_lock(&au.lock);
	configure_locked(cfg);
	if (cfg->audit_log[0] == '\0') {
		checkpoint_locked("reopen");
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		f->on = false;
		f->failing = false;
	} else {
		f->on = true;
		set_path(f, cfg->audit_log);
		file_reopen_locked("reopen");
		rc = f->fd < 0 ? -1 : 0;
	}
	pthread_mutex_unlock(&au.lock);
	return rc;
}

void
mg_audit_close(void)
{
	pthread_mutex_lock(&au.lock);
	checkpoint_locked("stop");
	au.closed = true;
	for (int id = 0; id < SINK_COUNT; id++) {
		struct sink *s = &au.sink[id];

		if (s->failing)
			mg_log(LOG_ERR, "audit %s %s: %llu events lost before stop",
			       sink_name[id], s->path, s->lost);
		if (id != SINK_STDOUT && s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		s->on = false;
		free(s->path);
		s->path = NULL;
	}
	pthread_mutex_unlock(&au.lock);
}
