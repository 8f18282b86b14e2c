/*
 * report.h -- results of milter-guard-check: states, aggregation, output
 *
 * A report is a list of results, each with a state in the monitoring-plugin
 * convention (OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3), a dotted id
 * ("socket.bind"), a message and, for a finding, the fix.  Facts (name,
 * value: the versions of the inventory) and perfdata may be added.  The
 * report's state is the worst of its results (CRITICAL over WARNING over
 * UNKNOWN over OK); an empty report is UNKNOWN: nothing was tried.
 *
 * Every message, fix and fact is escaped when added (esc_bytes: printable
 * US-ASCII only) and a '|' becomes "\x7c" (in plugin output it starts
 * perfdata, on any line), so banner text or peer bytes quoted in a message
 * never reach a terminal or a monitoring system raw.  Pure: no I/O; the output
 * functions return malloc'd strings for the shell to print.
 */
#ifndef MG_CHECK_REPORT_H
#define MG_CHECK_REPORT_H

#include <stddef.h>

#define REPORT_TEXT_MAX 1024	/* a message, fix or fact value, escaped */
#define REPORT_NAME_MAX 64	/* an id, fact name or perfdata label */

enum report_state {
	REPORT_OK = 0,
	REPORT_WARNING = 1,
	REPORT_CRITICAL = 2,
	REPORT_UNKNOWN = 3
};

struct report_result {
	enum report_state state;
	char id[REPORT_NAME_MAX];
	char msg[REPORT_TEXT_MAX];
	char fix[REPORT_TEXT_MAX];	/* "" if none */
};

struct report_fact {
	char name[REPORT_NAME_MAX];
	char value[REPORT_TEXT_MAX];
};

struct report_perf {
	char label[REPORT_NAME_MAX];
	double value;
	char uom[8];
};

struct report {
	char check[REPORT_NAME_MAX];	/* "socket", "smtp", "inventory" */
	struct report_result *results;
	size_t nresults, results_cap;
	struct report_fact *facts;
	size_t nfacts, facts_cap;
	struct report_perf *perf;
	size_t nperf, perf_cap;
	int lost;			/* a result was lost (out of memory) */
};

void report_init(struct report *r, const char *check);
void report_deinit(struct report *r);

/* Add a result; fix may be NULL.  msg is a printf format.  Returns 0, or
   -1 when out of memory (the report is then at least UNKNOWN). */
int report_add(struct report *r, enum report_state state, const char *id,
	       const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Bytes from a peer or a file quoted into a message: value[0..len). */
int report_fact(struct report *r, const char *name, const char *value,
		size_t len);
int report_perf(struct report *r, const char *label, double value,
		const char *uom);

/* The worst state; UNKNOWN if there is no result, and at least UNKNOWN
   if a result was lost. */
enum report_state report_state(const struct report *r);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *report_state_name(enum report_state s);
/* The count of results in state s. */
size_t report_count(const struct report *r, enum report_state s);

/* The monitoring-plugin line, without newline:
   "MILTER-GUARD SOCKET CRITICAL - <first worst message> (2 critical,
   0 warning, 3 ok) | critical=2;;;0 warning=0;;;0 ok=3;;;0 unknown=0;;;0"
   plus the report's own perfdata. */
char *report_summary_r(const struct report *r);
/* The summary line, then one block per result (the facts are in the
   results' messages too). */
char *report_text_r(const struct report *r);
/* One JSON object (jansson), with a trailing newline. */
char *report_json_r(const struct report *r);

#endif
