/*
 * run.c -- run a helper program and keep its standard output (see run.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

long long
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
child(int wfd, const char *const *argv)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || dup2(null, 0) < 0 || dup2(wfd, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

int
run_capture(const char *const *argv, int timeout_ms, char **out_r, size_t *len_r,
	    int *status_r)
{
	long long deadline = run_now_ms() + timeout_ms;
	struct pollfd pfd;
	char *buf = NULL;
	size_t len = 0;
	int fds[2], st, killed = 0;
	ssize_t n;
	pid_t pid;

	*out_r = NULL;
	*len_r = 0;
	*status_r = -1;
	if ((buf = malloc(RUN_OUTPUT_MAX + 1)) == NULL)
		return -1;
	if (pipe(fds) < 0) {
		free(buf);
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], argv);
	}
	close(fds[1]);
	for (;;) {
		long long left = deadline - run_now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
		if (pfd.revents == 0)
			continue;
		n = read(fds[0], buf + len, RUN_OUTPUT_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == RUN_OUTPUT_MAX)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	buf[len] = '\0';
	*out_r = buf;
	*len_r = len;
	*status_r = !killed && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return 0;
}

int
run_have(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	char full[4096];

	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0;
	if (path == NULL)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p != '\0'; p = *colon != '\0' ? colon + 1 : colon) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		snprintf(full, sizeof(full), "%.*s/%s", (int)(colon - p), p, name);
		if (colon > p && access(full, X_OK) == 0)
			return 1;
	}
	return 0;
}

int
run_read_file(const char *path, size_t max, char **buf_r, size_t *len_r, char *err,
	      size_t errsize)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 0;
	struct stat st;
	char *buf = NULL, *nb;
	ssize_t n;

	*buf_r = NULL;
	if (fd < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* read to the end: files under /proc say their size is 0 */
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap == 0 ? 8192 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				snprintf(err, errsize, "%s: out of memory", path);
				n = -1;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max) {
			snprintf(err, errsize, "%s: larger than %zu bytes", path, max);
			n = -1;
			break;
		}
	}
	close(fd);
	if (n < 0 || buf == NULL) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	return 0;
}
