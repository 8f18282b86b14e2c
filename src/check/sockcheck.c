/*
 * sockcheck.c -- milter-guard-check socket: can anything but this host
 * reach the milter socket, and does the MTA point at it?
 *
 * unix: the socket's type, owner and mode, every directory above it, and a
 * connect with the MTA user's credentials (a child process that takes the
 * user's uid, gid and groups), so "Permission denied" is what Postfix would
 * see.  inet/inet6: the listening sockets on the port (/proc/net/tcp and
 * tcp6, the owning process from /proc/PID/fd), then the milter protocol
 * from every non-loopback local address (probe.h).  Then the MTA's
 * configuration (postconf, sendmail.cf/.mc; mtacf.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cfg.h"
#include "hostport.h"
#include "mgcheck.h"
#include "mtacf.h"
#include "probe.h"
#include "procnet.h"
#include "run.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define MTA_FILE_MAX (4 * 1024 * 1024)
#define PROC_TCP_MAX (8 * 1024 * 1024)
#define SPEC_MAX 600

static const char *const proc_tcp[] = { "/proc/net/tcp", "/proc/net/tcp6" };

static const char FIX_UNIX_MODE[] =
	"set UMask 007 and UserID milter-guard:postfix in milter-guard.conf, so only "
	"the milter's user and the MTA's group can connect";
static const char FIX_UNIX_DIR[] =
	"make every directory above the socket owned by root (or the milter's user) "
	"and not writable by others, e.g. install -d -o milter-guard -g postfix -m 0750";
static const char FIX_UNIX_MTA[] =
	"let the MTA user connect: socket group = the MTA's group (UserID "
	"milter-guard:postfix) with UMask 007, and every directory above it "
	"traversable by that group";
static const char FIX_BIND[] =
	"listen on loopback or a unix socket: Socket inet:PORT@127.0.0.1 (or "
	"unix:/run/milter-guard/milter-guard.sock) and AllowRemoteSocket no";
static const char FIX_PROBE[] =
	"the milter protocol has no authentication: bind the socket to loopback "
	"(Socket inet:PORT@127.0.0.1) or use a unix socket; a firewall alone is not "
	"enough";

/* ---- the socket in question ------------------------------------------- */

static int
reader_read(void *arg, const char *path, char **buf_r, size_t *len_r, char *err,
	    size_t errsize)
{
	(void)arg;
	return run_read_file(path, CONFIG_FILE_MAX, buf_r, len_r, err, errsize);
}

/* The socket from the argument or milter-guard.conf; -1 after reporting. */
static int
socket_spec(const struct mgcheck_opts *o, struct report *r, struct sockspec *s_r,
	    char *text, size_t size)
{
	static const struct cfg_reader reader = { reader_read, NULL };
	const char *file = o->config_file != NULL ? o->config_file
						   : SYSCONFDIR "/milter-guard/milter-guard.conf";
	struct cfg_error cerr;
	struct cfg *cfg = NULL;
	char err[600], *buf;
	size_t len;

	if (o->spec != NULL) {
		if (sockspec_parse(o->spec, s_r, err, sizeof(err)) < 0) {
			report_add(r, REPORT_UNKNOWN, "socket.spec", NULL, "%s", err);
			return -1;
		}
		snprintf(text, size, "%s", o->spec);
		return 0;
	}
	if (run_read_file(file, CONFIG_FILE_MAX, &buf, &len, err, sizeof(err)) < 0) {
		report_add(r, REPORT_UNKNOWN, "socket.config", NULL, "%s", err);
		return -1;
	}
	if (cfg_load(buf, len, file, &reader, &cfg, &cerr) < 0) {
		cfg_error_format(&cerr, err, sizeof(err));
		report_add(r, REPORT_UNKNOWN, "socket.config", NULL, "%s", err);
		free(buf);
		return -1;
	}
	*s_r = cfg->sock;
	snprintf(text, size, "%s", cfg->socket);
	cfg_free(&cfg);
	free(buf);
	return 0;
}

/* ---- unix sockets -------------------------------------------------------- */

/* A user's or a group's name, or its number. */
static const char *
id_name(int group, unsigned long id, char *buf, size_t size)
{
	struct passwd *pw = group ? NULL : getpwuid((uid_t)id);
	struct group *gr = group ? getgrgid((gid_t)id) : NULL;

	if (pw != NULL || gr != NULL)
		snprintf(buf, size, "%s", pw != NULL ? pw->pw_name : gr->gr_name);
	else
		snprintf(buf, size, "%s %lu", group ? "gid" : "uid", id);
	return buf;
}

/* Every directory above path: writable by others, or owned by someone other
   than root and the socket's owner. */
static void
check_parents(const char *path, uid_t owner, struct report *r)
{
	char dir[PATH_MAX], who[64];
	struct stat st;
	char *slash;
	int bad = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) < 0) {
			report_add(r, REPORT_UNKNOWN, "socket.unix.dir", NULL, "%s: %s", dir,
				   strerror(errno));
			bad = 1;
		} else if ((st.st_mode & S_IWOTH) != 0) {
			report_add(r, (st.st_mode & S_ISVTX) != 0 ? REPORT_WARNING : REPORT_CRITICAL,
				   "socket.unix.dir", FIX_UNIX_DIR,
				   "directory %s is writable by every local user (mode %04o): %s",
				   dir, (unsigned)(st.st_mode & 07777),
				   (st.st_mode & S_ISVTX) != 0
				   ? "anyone can take a path in it before milter-guard does"
				   : "anyone can put another socket in its place");
			bad = 1;
		} else if (st.st_uid != 0 && st.st_uid != owner) {
			report_add(r, REPORT_CRITICAL, "socket.unix.dir", FIX_UNIX_DIR,
				   "directory %s is owned by %s, who is neither root nor the "
				   "socket's owner and can replace the socket", dir,
				   id_name(0, st.st_uid, who, sizeof(who)));
			bad = 1;
		}
		if (strcmp(dir, "/") == 0)
			break;
	}
	if (!bad)
		report_add(r, REPORT_OK, "socket.unix.dir", NULL,
			   "every directory above %s is owned by root or the socket's owner "
			   "and not writable by others", path);
}

/* Connect to path as user pw in a child; 0 or the errno it got. */
static int
connect_as(const char *path, const struct passwd *pw)
{
	struct sockaddr_un sun;
	int fds[2], err = EIO, fd;
	pid_t pid;
	int st;

	if (pipe(fds) < 0)
		return errno;
	if ((pid = fork()) < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		err = 0;
		if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
		    setuid(pw->pw_uid) < 0)
			err = errno != 0 ? errno : EPERM;
		if (err == 0) {
			memset(&sun, 0, sizeof(sun));
			sun.sun_family = AF_UNIX;
			snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
				err = errno;
		}
		(void)!write(fds[1], &err, sizeof(err));
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = EIO;
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return err;
}

static void
check_mta_user(const char *path, const struct mgcheck_opts *o, struct report *r)
{
	const char *user = o->mta_user;
	struct passwd *pw = getpwnam(user);
	int err;

	if (pw == NULL) {
		report_add(r, REPORT_UNKNOWN, "socket.unix.mta", "name the MTA's user with --mta-user",
			   "MTA user %s does not exist: cannot test its access", user);
		return;
	}
	if (geteuid() != 0) {
		report_add(r, REPORT_UNKNOWN, "socket.unix.mta", "run milter-guard-check as root",
			   "cannot connect as user %s without root", user);
		return;
	}
	err = connect_as(path, pw);
	if (err == 0)
		report_add(r, REPORT_OK, "socket.unix.mta", NULL,
			   "user %s can connect to unix:%s", user, path);
	else
		report_add(r, REPORT_CRITICAL, "socket.unix.mta", FIX_UNIX_MTA,
			   "connect to Milter service unix:%s: %s (as user %s): the MTA "
			   "cannot reach milter-guard", path, strerror(err), user);
}

static void
check_unix(const struct sockspec *s, const struct mgcheck_opts *o, struct report *r)
{
	char spec[SPEC_MAX], u[64], g[64];
	struct probe_outcome po;
	struct stat st;

	if (lstat(s->path, &st) < 0) {
		report_add(r, REPORT_CRITICAL, "socket.unix", "start milter-guard, or check Socket",
			   "unix:%s: %s (is milter-guard running?)", s->path, strerror(errno));
		return;
	}
	if (!S_ISSOCK(st.st_mode)) {
		report_add(r, REPORT_CRITICAL, "socket.unix", NULL,
			   "unix:%s is not a socket", s->path);
		return;
	}
	id_name(0, st.st_uid, u, sizeof(u));
	id_name(1, st.st_gid, g, sizeof(g));
	if ((st.st_mode & S_IWOTH) != 0)
		report_add(r, REPORT_CRITICAL, "socket.unix.mode", FIX_UNIX_MODE,
			   "unix:%s is writable by every local user (owner %s, group %s, "
			   "mode %04o): any local process can speak to the milter as the MTA",
			   s->path, u, g, (unsigned)(st.st_mode & 07777));
	else
		report_add(r, REPORT_OK, "socket.unix.mode", NULL,
			   "unix:%s: owner %s, group %s, mode %04o", s->path, u, g,
			   (unsigned)(st.st_mode & 07777));
	check_parents(s->path, st.st_uid, r);
	check_mta_user(s->path, o, r);
	snprintf(spec, sizeof(spec), "unix:%s", s->path);
	probe_v6(spec, o->timeout_ms, &po);
	if (po.result == PROBE_MILTER)
		report_add(r, REPORT_OK, "socket.milter", NULL, "unix:%s %s", s->path, po.detail);
	else
		report_add(r, REPORT_CRITICAL, "socket.milter", NULL,
			   "unix:%s does not answer as a milter: %s", s->path, po.detail);
}

/* ---- inet sockets ---------------------------------------------------------- */

/* The process holding socket inode: "name (PID n)" into buf, or "". */
static void
owner_of(unsigned long inode, char *buf, size_t size)
{
	char want[64], path[600], link[128], comm[64];
	struct dirent *pd, *fd;
	DIR *proc, *fds;
	FILE *f;
	ssize_t n;

	buf[0] = '\0';
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if ((proc = opendir("/proc")) == NULL)
		return;
	while (buf[0] == '\0' && (pd = readdir(proc)) != NULL) {
		if (pd->d_name[0] < '1' || pd->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pd->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((fd = readdir(fds)) != NULL) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", pd->d_name, fd->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) != 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm", pd->d_name);
			comm[0] = '\0';
			if ((f = fopen(path, "re")) != NULL) {
				if (fgets(comm, sizeof(comm), f) == NULL)
					comm[0] = '\0';
				fclose(f);
			}
			comm[strcspn(comm, "\n")] = '\0';
			snprintf(buf, size, "%s (PID %.20s)", comm[0] != '\0' ? comm : "?",
				 pd->d_name);
			break;
		}
		closedir(fds);
	}
	closedir(proc);
}

/* The listening sockets on port: their bind addresses, reported. */
static int
check_listeners(const struct sockspec *s, struct report *r)
{
	struct procnet_entry e;
	char *buf, *line, *nl, err[200], owner[128], ep[PROCNET_ADDR_TEXT + 8];
	size_t len, i;
	int found = 0;

	for (i = 0; i < 2; i++) {
		if (run_read_file(proc_tcp[i], PROC_TCP_MAX, &buf, &len, err, sizeof(err)) < 0) {
			if (i == 1)
				continue;	/* no IPv6 */
			report_add(r, REPORT_UNKNOWN, "socket.listen", NULL, "%s", err);
			return -1;
		}
		for (line = buf; line < buf + len; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(buf + len - line));
			if (nl == NULL)
				nl = buf + len;
			if (procnet_parse_line(line, (size_t)(nl - line), &e, err, sizeof(err)) != 1 ||
			    e.state != PROCNET_STATE_LISTEN || e.port != s->port)
				continue;
			found++;
			owner_of(e.inode, owner, sizeof(owner));
			snprintf(ep, sizeof(ep), e.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
				 e.text, e.port);
			if (procnet_is_wildcard(&e))
				report_add(r, REPORT_CRITICAL, "socket.bind", FIX_BIND,
					   "%s listens on every %s address (%s)",
					   owner[0] ? owner : "a process",
					   e.family == AF_INET ? "IPv4" : "IPv6", ep);
			else if (!procnet_is_loopback(&e))
				report_add(r, REPORT_CRITICAL, "socket.bind", FIX_BIND,
					   "%s listens on %s, an address other hosts can reach",
					   owner[0] ? owner : "a process", ep);
			else
				report_add(r, REPORT_OK, "socket.bind", NULL,
					   "%s listens on loopback only (%s)",
					   owner[0] ? owner : "a process", ep);
		}
		free(buf);
	}
	if (found == 0)
		report_add(r, REPORT_CRITICAL, "socket.listen", "start milter-guard, or check Socket",
			   "nothing listens on TCP port %u (is milter-guard running?)", s->port);
	return found;
}

/* Probe spec both ways and report what answered from where. */
static void
probe_report(const char *spec, const char *where, int timeout_ms, struct report *r)
{
	struct probe_outcome po;

	probe_scanner(spec, timeout_ms, &po);
	if (po.result == PROBE_MILTER) {
		report_add(r, REPORT_CRITICAL, "socket.probe", FIX_PROBE,
			   "%s answers the milter protocol as the \"Milter Detection\" "
			   "scanner sees it: %s", where, po.detail);
		return;
	}
	if (po.result == PROBE_NOT_MILTER || po.result == PROBE_ERROR) {
		struct probe_outcome p6;

		probe_v6(spec, timeout_ms, &p6);
		if (p6.result == PROBE_MILTER) {
			report_add(r, REPORT_CRITICAL, "socket.probe", FIX_PROBE,
				   "%s answers the milter protocol: %s (it refused version 2: %s)",
				   where, p6.detail, po.detail);
			return;
		}
	}
	switch (po.result) {
	case PROBE_REFUSED:
		report_add(r, REPORT_OK, "socket.probe", NULL, "%s: connection refused", where);
		break;
	case PROBE_NO_ANSWER:
		report_add(r, REPORT_OK, "socket.probe", NULL, "%s: no answer (%s)", where,
			   po.detail);
		break;
	case PROBE_NOT_MILTER:
		report_add(r, REPORT_WARNING, "socket.probe", NULL,
			   "%s: a service that is not a milter answers: %s", where, po.detail);
		break;
	default:
		report_add(r, REPORT_UNKNOWN, "socket.probe", NULL, "%s: %s", where, po.detail);
		break;
	}
}

/* From every non-loopback local address, try the port. */
static void
probe_local_addresses(const struct sockspec *s, int timeout_ms, struct report *r)
{
	struct ifaddrs *ifa, *a;
	char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], spec[SPEC_MAX], where[SPEC_MAX];
	int n = 0;
	const void *raw;

	if (getifaddrs(&ifa) < 0) {
		report_add(r, REPORT_UNKNOWN, "socket.probe", NULL, "getifaddrs: %s",
			   strerror(errno));
		return;
	}
	for (a = ifa; a != NULL; a = a->ifa_next) {
		if (a->ifa_addr == NULL || (a->ifa_flags & IFF_LOOPBACK) != 0 ||
		    (a->ifa_flags & IFF_UP) == 0)
			continue;
		if (a->ifa_addr->sa_family == AF_INET)
			raw = &((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr;
		else if (a->ifa_addr->sa_family == AF_INET6)
			raw = &((struct sockaddr_in6 *)(void *)a->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(a->ifa_addr->sa_family, raw, addr, INET6_ADDRSTRLEN) == NULL)
			continue;
		if (a->ifa_addr->sa_family == AF_INET6 &&
		    IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)raw)) {
			strcat(addr, "%");
			strncat(addr, a->ifa_name, IF_NAMESIZE);
		}
		snprintf(spec, sizeof(spec), "%s:%u@%s",
			 a->ifa_addr->sa_family == AF_INET6 ? "inet6" : "inet", s->port, addr);
		snprintf(where, sizeof(where), a->ifa_addr->sa_family == AF_INET6 ?
			 "[%s]:%u (%.16s)" : "%s:%u (%.16s)", addr, s->port, a->ifa_name);
		probe_report(spec, where, timeout_ms, r);
		n++;
	}
	freeifaddrs(ifa);
	if (n == 0)
		report_add(r, REPORT_OK, "socket.probe", NULL,
			   "this host has no non-loopback address to be reached on");
}

static void
check_inet(const struct sockspec *s, const char *text, const struct mgcheck_opts *o,
	   struct report *r)
{
	struct probe_outcome po;
	char spec[SPEC_MAX];

	if (check_listeners(s, r) <= 0)
		return;
	/* the configured address: is it a milter at all? */
	snprintf(spec, sizeof(spec), "%s:%u@%s", s->type == SOCKSPEC_INET6 ? "inet6" : "inet",
		 s->port, s->host[0] != '\0' ? s->host
					    : s->type == SOCKSPEC_INET6 ? "::1" : "127.0.0.1");
	probe_v6(spec, o->timeout_ms, &po);
	if (po.result == PROBE_MILTER)
		report_add(r, REPORT_OK, "socket.milter", NULL, "%s %s", text, po.detail);
	else
		report_add(r, REPORT_WARNING, "socket.milter", NULL,
			   "the service on %s is not a milter: %s", spec, po.detail);
	probe_local_addresses(s, o->timeout_ms, r);
}

/* ---- the MTA's view ------------------------------------------------------- */

/* What the MTA's milter list l (named what) says about milter-guard's
   socket mg.  miss is the state when the list does not point at it:
   CRITICAL for mail from the network, WARNING for local submissions. */
static void
judge_mta(const struct sockspec *mg, const char *what, enum mtacf_mta mta,
	  const struct mtacf_list *l, const char *root, enum report_state miss,
	  struct report *r)
{
	char want[SPEC_MAX], fix[SPEC_MAX + 64], meant[SPEC_MAX];
	const char *id = mta == MTACF_POSTFIX ? "mta.postfix" : "mta.sendmail";
	size_t i, used = 0;
	int match = 0;

	mtacf_format(mg, mta, want, sizeof(want));
	for (i = 0; i < l->n; i++) {
		const struct mtacf_milter *m = &l->m[i];

		if (!m->used)
			continue;
		used++;
		if (m->wrong_syntax) {
			if (m->parsed)
				mtacf_format(&m->sock, mta, meant, sizeof(meant));
			else
				snprintf(meant, sizeof(meant), "%s", want);
			snprintf(fix, sizeof(fix), "write %s", meant);
			report_add(r, REPORT_CRITICAL, id, fix,
				   "%s: %s%s%s is %s syntax; %s reads %s", what,
				   m->name[0] ? m->name : "", m->name[0] ? " S=" : "", m->spec,
				   mta == MTACF_POSTFIX ? "libmilter's (Sendmail's)" : "Postfix's",
				   mta == MTACF_POSTFIX ? "Postfix" : "Sendmail",
				   mta == MTACF_POSTFIX ? "inet:HOST:PORT" : "inet:PORT@HOST");
			continue;
		}
		if (m->parsed && mtacf_same_socket(mg, &m->sock, root)) {
			match = 1;
			report_add(r, REPORT_OK, id, NULL, "%s uses milter-guard's socket (%s%s%s)",
				   what, m->spec, strcmp(mg->path, m->sock.path) != 0 &&
				   m->sock.type == SOCKSPEC_UNIX ? " inside the chroot " : "",
				   strcmp(mg->path, m->sock.path) != 0 &&
				   m->sock.type == SOCKSPEC_UNIX ? root : "");
		}
	}
	if (!match) {
		snprintf(fix, sizeof(fix), "point the MTA at %s", want);
		report_add(r, miss, id, fix, "%s does not point at milter-guard's socket "
			   "(%s)%s: mail passes unchecked", what, want,
			   used == 0 ? "; it defines filters but uses none" : "");
	}
}

static void
check_postfix(const struct sockspec *mg, const struct mgcheck_opts *o, struct report *r)
{
	static const char *const params[] = { "smtpd_milters", "non_smtpd_milters",
					      "queue_directory" };
	const char *argv[8];
	char *out, *nl, *line, root[PATH_MAX];
	size_t len, i, k = 0;
	int status;

	argv[k++] = "postconf";
	if (o->postfix_dir != NULL) {
		argv[k++] = "-c";
		argv[k++] = o->postfix_dir;
	}
	argv[k++] = "-h";
	argv[k++] = params[0];
	argv[k++] = params[1];
	argv[k++] = params[2];
	argv[k] = NULL;
	if (run_capture(argv, o->timeout_ms, &out, &len, &status) < 0 || status != 0) {
		report_add(r, REPORT_UNKNOWN, "mta.postfix", NULL,
			   "postconf%s%s -h smtpd_milters non_smtpd_milters failed",
			   o->postfix_dir ? " -c " : "", o->postfix_dir ? o->postfix_dir : "");
		free(out);
		return;
	}
	/* the third line: queue_directory, the root of a chrooted smtpd */
	line = out;
	for (i = 0; i < 2 && line < out + len; i++, line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(out + len - line));
		if (nl == NULL)
			nl = out + len;
	}
	snprintf(root, sizeof(root), "%.*s", line < out + len ?
		 (int)strcspn(line, "\n") : 0, line);
	line = out;
	for (i = 0; i < 2 && line < out + len; i++, line = nl + 1) {
		struct mtacf_list l = { .n = 0 };

		nl = memchr(line, '\n', (size_t)(out + len - line));
		if (nl == NULL)
			nl = out + len;
		mtacf_postfix(line, (size_t)(nl - line), &l);
		if (i == 0 && l.n == 0)
			report_add(r, REPORT_CRITICAL, "mta.postfix", "set smtpd_milters",
				   "smtpd_milters is empty: Postfix uses no milter");
		else if (i == 0 || l.n > 0)
			judge_mta(mg, params[i], MTACF_POSTFIX, &l, root,
				  i == 0 ? REPORT_CRITICAL : REPORT_WARNING, r);
	}
	free(out);
}

static void
check_sendmail(const struct sockspec *mg, const char *file, int mc, struct report *r)
{
	struct mtacf_list l = { .n = 0 };
	char err[300], *buf;
	size_t len;

	if (run_read_file(file, MTA_FILE_MAX, &buf, &len, err, sizeof(err)) < 0) {
		report_add(r, REPORT_UNKNOWN, "mta.sendmail", NULL, "%s", err);
		return;
	}
	if (mc)
		mtacf_sendmail_mc(buf, len, &l);
	else
		mtacf_sendmail_cf(buf, len, &l);
	free(buf);
	if (l.n == 0)
		report_add(r, REPORT_CRITICAL, "mta.sendmail", "add INPUT_MAIL_FILTER to the .mc",
			   "%s defines no mail filter: Sendmail uses no milter", file);
	else
		judge_mta(mg, file, MTACF_SENDMAIL, &l, NULL, REPORT_CRITICAL, r);
}

/* The MTA's configuration: what the options name, and unless --no-mta,
   what is in the default places. */
static void
check_mtas(const struct sockspec *s, const struct mgcheck_opts *o, struct report *r)
{
	char maincf[PATH_MAX];

	snprintf(maincf, sizeof(maincf), "%s/main.cf",
		 o->postfix_dir != NULL ? o->postfix_dir : "/etc/postfix");
	if ((o->postfix_dir != NULL || !o->no_mta) && run_have("postconf") &&
	    access(maincf, R_OK) == 0)
		check_postfix(s, o, r);
	else if (o->postfix_dir != NULL)
		report_add(r, REPORT_UNKNOWN, "mta.postfix", NULL, "%s: %s", maincf,
			   run_have("postconf") ? strerror(errno) : "postconf not found");
	if (o->sendmail_cf != NULL)
		check_sendmail(s, o->sendmail_cf, 0, r);
	else if (!o->no_mta && o->sendmail_mc == NULL &&
		 access("/etc/mail/sendmail.cf", R_OK) == 0)
		check_sendmail(s, "/etc/mail/sendmail.cf", 0, r);
	if (o->sendmail_mc != NULL)
		check_sendmail(s, o->sendmail_mc, 1, r);
}

/* ---- entry ------------------------------------------------------------------ */

static void
check_remote(const struct mgcheck_opts *o, struct report *r)
{
	struct hostport hp;
	char err[200], spec[SPEC_MAX], where[SPEC_MAX];

	if (hostport_parse(o->remote, strlen(o->remote), &hp, err, sizeof(err)) < 0) {
		report_add(r, REPORT_UNKNOWN, "socket.remote", NULL, "--remote %s: %s",
			   o->remote, err);
		return;
	}
	hostport_spec(&hp, spec, sizeof(spec));
	snprintf(where, sizeof(where), hp.v6 ? "[%s]:%u" : "%s:%u", hp.host, hp.port);
	probe_report(spec, where, o->timeout_ms, r);
}

void
sockcheck_run(const struct mgcheck_opts *o, struct report *r)
{
	struct sockspec s;
	char text[SPEC_MAX];

	if (o->remote != NULL) {
		check_remote(o, r);
		return;
	}
	if (socket_spec(o, r, &s, text, sizeof(text)) < 0)
		return;
	if (s.type == SOCKSPEC_UNIX)
		check_unix(&s, o, r);
	else
		check_inet(&s, text, o, r);
	check_mtas(&s, o, r);
}
