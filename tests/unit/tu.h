/*
 * tu.h -- test utilities shared by the Check suites
 *
 * Fixtures live under $srcdir/tests/data; a missing fixture fails the test
 * (never a silent pass).  Case files are lines of TAB-separated columns in
 * which \xHH, \t, \r, \n and \\ stand for bytes, so NUL, CR, LF and 8-bit
 * bytes can be test data.
 */
#ifndef TU_H
#define TU_H

#include <check.h>
#include <stddef.h>

#define TU_COLS_MAX 40

struct tu_col {
	char *s;	/* unescaped, NUL-terminated (may hold NULs) */
	size_t len;
};

struct tu_case {
	unsigned line;
	size_t ncols;
	struct tu_col col[TU_COLS_MAX];
};

/* $srcdir/tests/data/<rel>; aborts the test if srcdir is unknown. */
const char *tu_data_path(const char *rel);

/* The whole file; aborts the test if it cannot be read. */
char *tu_read(const char *path, size_t *len_r);

/* Parse a case file: comment lines (#) and blank lines are skipped.
   Returns the number of cases; *cases_r is malloc'd. */
size_t tu_cases(const char *path, struct tu_case **cases_r);
void tu_cases_free(struct tu_case *cases, size_t n);

/* Run a Check suite; the exit status of a test program. */

int tu_run(Suite *suite);

/* Load a config file from the data tree or the source tree; aborts the
   test on any error. */
struct cfg;
struct cfg *tu_load_config(const char *path);

#endif
