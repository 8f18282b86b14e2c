/*
 * audit.h -- milter-guard-audit: verify, summarise and filter audit logs
 *
 * The shell around the core's line parser (core/alog.h) and chain
 * (core/chain.h): files, zlib, the key file, the terminal.
 */
#ifndef MG_AUDIT_H
#define MG_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <zlib.h>

#include "core/alog.h"

/* Exit statuses. */
enum {
	AUDIT_OK = 0,		/* verify: intact; other commands: done */
	AUDIT_BAD = 1,		/* verify: the log is not intact */
	AUDIT_TROUBLE = 2	/* usage, a file that cannot be read, a bad key file */
};

/* One file, read line by line: plain or gzip-compressed (zlib reads a
   plain file as it is). */
struct rd {
	const char *path;
	gzFile gz;
	char *buf;
	size_t cap;
	size_t start;		/* unread bytes: buf[start..end) */
	size_t end;
	unsigned long long lineno;
	bool eof;
	bool skipping;		/* inside a line longer than ALOG_LINE_MAX */
	bool damaged;		/* a compressed stream cut short or corrupt */
	char err[256];
};

enum rd_status {
	RD_LINE,		/* a line, newline stripped */
	RD_LONG,		/* a line longer than ALOG_LINE_MAX: not returned */
	RD_UNTERMINATED,	/* the file's last bytes, without a newline */
	RD_EOF,
	RD_ERROR		/* r->err says why */
};

int rd_open(struct rd *r, const char *path);
enum rd_status rd_next(struct rd *r, const char **line_r, size_t *len_r);
void rd_close(struct rd *r);

/* Put the files in chain order: by the seq of their first chained event,
   or, if a file has none, all by the time of their first event; files with
   no event last, in the order given.  Returns 0, or -1 (message printed)
   when a file cannot be read. */
int files_order(const char **paths, size_t n);

/* A file name or other bytes to a terminal, escaped (core/esc.h). */
void print_escaped(FILE *out, const char *s);

/* Fetch a string member for printing: "-" when absent or null. */
void put_str(FILE *out, const struct alog_str *s);

/* Read and check a key file; 0, or -1 with the reason printed. */
int key_load(const char *path, unsigned char *key, size_t *keylen_r);

/* Call fn for every event of the files, in the order given; lines that do
   not parse are counted in *bad_r and named on stderr (the first few).
   Stops when fn returns other than AUDIT_OK, and returns that. */
int each_event(const char **paths, size_t n,
	       int (*fn)(void *ctx, const struct alog_event *ev, const char *line, size_t len),
	       void *ctx, unsigned long long *bad_r);

/* The synopsis of a command; AUDIT_OK on stdout, AUDIT_TROUBLE on stderr. */
int command_usage(FILE *out, const char *name);

int cmd_verify(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_show(int argc, char **argv);

extern const char *progname;

#endif
