/*
 * reader.c -- audit log files, plain or gzip-compressed, line by line;
 * their order; key files
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/chain.h"
#include "core/esc.h"
#include "core/keyfile.h"

#define RD_CHUNK (128 * 1024)

int
rd_open(struct rd *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->gz = gzopen(path, "rb");
	if (r->gz == NULL) {
		snprintf(r->err, sizeof(r->err), "%s", errno != 0 ? strerror(errno) : "cannot open");
		return -1;
	}
	gzbuffer(r->gz, RD_CHUNK);
	r->cap = RD_CHUNK;
	r->buf = malloc(r->cap);
	if (r->buf == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		gzclose(r->gz);
		r->gz = NULL;
		return -1;
	}
	return 0;
}

void
rd_close(struct rd *r)
{
	if (r->gz != NULL)
		gzclose(r->gz);
	free(r->buf);
	r->gz = NULL;
	r->buf = NULL;
}

/* Read more bytes into the buffer; -1 on error. */
static int
rd_fill(struct rd *r)
{
	int n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		if (r->cap > ALOG_LINE_MAX) {
			r->skipping = true;	/* drop the long line's bytes */
			r->end = 0;
		} else {
			size_t cap = r->cap * 2;
			char *p = realloc(r->buf, cap);

			if (p == NULL) {
				snprintf(r->err, sizeof(r->err), "out of memory");
				return -1;
			}
			r->buf = p;
			r->cap = cap;
		}
	}
	n = gzread(r->gz, r->buf + r->end, (unsigned)(r->cap - r->end));
	if (n <= 0) {
		/* zlib reports a stream cut short only here, at the end */
		int errnum;
		const char *msg = gzerror(r->gz, &errnum);

		if (n < 0 || errnum != Z_OK) {
			size_t plen = strlen(r->path);

			/* zlib puts the path first: it is said already */
			if (strncmp(msg, r->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
				msg += plen + 2;
			snprintf(r->err, sizeof(r->err), "%s",
				 errnum == Z_ERRNO ? strerror(errno) : msg);
			r->damaged = errnum == Z_BUF_ERROR || errnum == Z_DATA_ERROR;
			return -1;
		}
	}
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 0;
}

enum rd_status
rd_next(struct rd *r, const char **line_r, size_t *len_r)
{
	for (;;) {
		struct alog_lines it;

		alog_lines_init(&it, r->buf + r->start, r->end - r->start);
		if (alog_lines_next(&it, line_r, len_r)) {
			r->start += *len_r + 1;
			r->lineno++;
			if (r->skipping || *len_r > ALOG_LINE_MAX) {
				r->skipping = false;
				return RD_LONG;
			}
			return RD_LINE;
		}
		if (r->eof) {
			if (r->end == r->start && !r->skipping)
				return RD_EOF;
			*line_r = r->buf + r->start;
			*len_r = r->end - r->start;
			r->start = r->end;
			r->lineno++;
			if (r->skipping) {
				r->skipping = false;
				return RD_LONG;
			}
			return RD_UNTERMINATED;
		}
		if (rd_fill(r) < 0)
			return RD_ERROR;
	}
}

void
print_escaped(FILE *out, const char *s)
{
	char buf[1024];
	size_t len = strlen(s), used;

	while (len > 0) {
		esc_bytes(s, len, buf, sizeof(buf), &used);
		fputs(buf, out);
		s += used;
		len -= used;
	}
}

void
put_str(FILE *out, const struct alog_str *s)
{
	if (!s->set || s->p == NULL || s->len == 0)
		fputc('-', out);
	else
		fwrite(s->p, 1, s->len, out);
}

/* What orders a file: the first chained event's seq, else the first
   event's time. */
struct file_key {
	const char *path;
	size_t given;
	bool has_seq;
	unsigned long long seq;
	bool has_time;
	char time[ALOG_TIME_LEN + 1];
};

static int
file_key_read(struct file_key *k)
{
	struct rd r;
	struct alog_event *ev = malloc(sizeof(*ev));
	enum rd_status st;
	const char *line;
	size_t len;
	int ret = 0;

	if (ev == NULL || rd_open(&r, k->path) < 0) {
		fprintf(stderr, "%s: ", progname);
		print_escaped(stderr, k->path);
		fprintf(stderr, ": %s\n", ev == NULL ? "out of memory" : r.err);
		free(ev);
		return -1;
	}
	while ((st = rd_next(&r, &line, &len)) != RD_EOF && st != RD_ERROR) {
		const char *why;
		size_t col;

		if (st != RD_LINE || alog_parse(line, len, ev, &why, &col) < 0)
			continue;
		if (!k->has_time) {
			k->has_time = true;
			memcpy(k->time, ev->time.p, ALOG_TIME_LEN);
		}
		if (ev->seq.set) {
			k->has_seq = true;
			k->seq = ev->seq.v;
			break;
		}
	}
	if (st == RD_ERROR && !r.damaged) {	/* damage: for the command to report */
		fprintf(stderr, "%s: ", progname);
		print_escaped(stderr, k->path);
		fprintf(stderr, ": %s\n", r.err);
		ret = -1;
	}
	rd_close(&r);
	free(ev);
	return ret;
}

static bool by_seq;

static int
file_key_cmp(const void *a, const void *b)
{
	const struct file_key *x = a, *y = b;
	bool xk = by_seq ? x->has_seq : x->has_time, yk = by_seq ? y->has_seq : y->has_time;
	int c = 0;

	if (xk != yk)
		return xk ? -1 : 1;
	if (xk && by_seq && x->seq != y->seq)
		c = x->seq < y->seq ? -1 : 1;
	else if (xk && !by_seq)
		c = strcmp(x->time, y->time);
	if (c == 0)
		c = x->given < y->given ? -1 : x->given > y->given;
	return c;
}

int
files_order(const char **paths, size_t n)
{
	struct file_key *k = calloc(n ? n : 1, sizeof(*k));
	size_t with_time = 0, with_seq = 0;

	if (k == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		k[i].path = paths[i];
		k[i].given = i;
		if (file_key_read(&k[i]) < 0) {
			free(k);
			return -1;
		}
		with_time += k[i].has_time;
		with_seq += k[i].has_seq;
	}
	by_seq = with_seq == with_time;
	qsort(k, n, sizeof(*k), file_key_cmp);
	for (size_t i = 0; i < n; i++)
		paths[i] = k[i].path;
	free(k);
	return 0;
}

int
key_load(const char *path, unsigned char *key, size_t *keylen_r)
{
	int fd = open(path, O_RDONLY | O_NOCTTY);
	struct stat st = { 0 };
	char buf[CHAIN_KEY_MAX + 64];
	const char *why = NULL;
	size_t len = 0;
	ssize_t n;

	if (fd < 0) {
		why = strerror(errno);
	} else if (fstat(fd, &st) < 0) {
		why = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else if ((why = keyfile_mode_problem((unsigned)st.st_mode)) == NULL) {
		while (len < sizeof(buf) &&
		       (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				why = strerror(errno);
				break;
			}
			len += (size_t)n;
		}
		if (why == NULL) {
			len = keyfile_key_len(buf, len);
			why = keyfile_length_problem(len);
		}
	}
	if (fd >= 0)
		close(fd);
	if (why != NULL) {
		fprintf(stderr, "%s: key file ", progname);
		print_escaped(stderr, path);
		if (fd >= 0 && (st.st_mode & KEYFILE_MODE_REFUSED) && S_ISREG(st.st_mode))
			fprintf(stderr, ": %s (mode %04o): refused\n", why,
				(unsigned)(st.st_mode & 07777));
		else
			fprintf(stderr, ": %s\n", why);
		return -1;
	}
	memcpy(key, buf, len);
	*keylen_r = len;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* Unparseable lines reported one by one on stderr, then only counted. */
#define EACH_WARN_MAX 10

int
each_event(const char **paths, size_t n,
	   int (*fn)(void *ctx, const struct alog_event *ev, const char *line, size_t len),
	   void *ctx, unsigned long long *bad_r)
{
	struct alog_event *ev = malloc(sizeof(*ev));
	int ret = AUDIT_OK;

	*bad_r = 0;
	if (ev == NULL)
		return AUDIT_TROUBLE;
	for (size_t i = 0; i < n && ret == AUDIT_OK; i++) {
		struct rd r;
		enum rd_status st;
		const char *line, *why = NULL;
		size_t len, col = 0;

		if (rd_open(&r, paths[i]) < 0) {
			fprintf(stderr, "%s: ", progname);
			print_escaped(stderr, paths[i]);
			fprintf(stderr, ": %s\n", r.err);
			ret = AUDIT_TROUBLE;
			break;
		}
		while ((st = rd_next(&r, &line, &len)) != RD_EOF) {
			if (st == RD_ERROR) {
				fprintf(stderr, "%s: ", progname);
				print_escaped(stderr, paths[i]);
				fprintf(stderr, ": %s\n", r.err);
				ret = AUDIT_TROUBLE;
				break;
			}
			if (st == RD_LINE && alog_parse(line, len, ev, &why, &col) == 0) {
				ret = fn(ctx, ev, line, len);
				if (ret != AUDIT_OK)
					break;
				continue;
			}
			if (++*bad_r <= EACH_WARN_MAX) {
				fprintf(stderr, "%s: ", progname);
				print_escaped(stderr, paths[i]);
				fprintf(stderr, ":%llu: skipped: %s\n", r.lineno,
					st == RD_LONG ? "a line too long"
					: st == RD_UNTERMINATED ? "no newline at the end" : why);
			}
		}
		rd_close(&r);
	}
	if (*bad_r > EACH_WARN_MAX)
		fprintf(stderr, "%s: %llu lines skipped in all\n", progname, *bad_r);
	free(ev);
	return ret;
}
