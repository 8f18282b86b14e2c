/*
 * audit.c -- the audit sink: one JSON line per event, appended to AuditLog
 *
 * Events from many libmilter threads are serialised by one lock, so the
 * file holds whole lines in the order they were written; each event is one
 * write(2) on an O_APPEND descriptor.  SIGHUP reopens the file (logrotate's
 * postrotate).  A failed write is never silent: it is logged, counted, and
 * the caller applies OnAuditFailure.
 */
#include "mg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static int audit_fd = -1;
static char *audit_path;
static unsigned long audit_failures;

static int
open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int
mg_audit_open(const char *path, char *err, size_t errsize)
{
	int fd;

	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open_log(path);
	if (fd < 0) {
		snprintf(err, errsize, "audit log %s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&audit_lock);
	audit_fd = fd;
	free(audit_path);
	audit_path = strdup(path);
	pthread_mutex_unlock(&audit_lock);
	return 0;
}

int
mg_audit_reopen(const char *path)
{
	int fd = -1, old;
	char *copy = NULL;

	if (path != NULL && path[0] != '\0') {
		fd = open_log(path);
		if (fd < 0)
			mg_log(LOG_ERR, "audit log %s: cannot reopen: %s", path,
			       strerror(errno));
		copy = strdup(path);
	}
	pthread_mutex_lock(&audit_lock);
	old = audit_fd;
	audit_fd = fd;
	free(audit_path);
	audit_path = copy;
	pthread_mutex_unlock(&audit_lock);
	if (old >= 0)
		close(old);
	return path != NULL && path[0] != '\0' && fd < 0 ? -1 : 0;
}

int
mg_audit_write(const char *line)
{
	size_t len = strlen(line), done = 0;
	int err = 0;

	pthread_mutex_lock(&audit_lock);
	if (audit_fd < 0) {
		/* No file sink configured: nothing to fail.  A configured but
		   unopenable file is a failure. */
		err = audit_path != NULL ? EBADF : 0;
	}
	while (err == 0 && audit_fd >= 0 && done < len) {
		ssize_t n = write(audit_fd, line + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		done += (size_t)n;
	}
	if (err != 0) {
		/* under the lock: the path may be swapped by a reopen */
		audit_failures++;
		mg_log(LOG_ERR, "audit log %s: write failed: %s (%lu failures so far)",
		       audit_path ? audit_path : "(none)", strerror(err),
		       audit_failures);
	}
	pthread_mutex_unlock(&audit_lock);
	return err != 0 ? -1 : 0;
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

void
mg_audit_close(void)
{
	pthread_mutex_lock(&audit_lock);
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	free(audit_path);
	audit_path = NULL;
	pthread_mutex_unlock(&audit_lock);
}
