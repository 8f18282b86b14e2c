/*
 * run.h -- run a helper program (postconf, dpkg-query, sendmail) and keep
 * its standard output
 *
 * No shell: argv is executed as given (execvp, so argv[0] is looked up in
 * PATH).  Standard input is /dev/null and standard error is discarded.
 * The output is capped at RUN_OUTPUT_MAX bytes; a child still running at
 * the timeout is killed (by its PID) and reaped.
 */
#ifndef MG_CHECK_RUN_H
#define MG_CHECK_RUN_H

#include <stddef.h>

#define RUN_OUTPUT_MAX (256 * 1024)

/* 0 with a malloc'd, NUL-terminated *out_r (which may hold NULs before the
   end; *len_r counts them) and the exit status in *status_r (-1 if killed
   by a signal or the timeout); -1 if it could not be run at all. */
int run_capture(const char *const *argv, int timeout_ms, char **out_r,
		size_t *len_r, int *status_r);

/* Read a whole regular file of at most max bytes into a malloc'd,
   NUL-terminated buffer; -1 with a message in err. */
int run_read_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		  char *err, size_t errsize);

/* CLOCK_MONOTONIC in milliseconds. */
long long run_now_ms(void);

/* Is name an executable in PATH (or an executable path)? */
int run_have(const char *name);

#endif
