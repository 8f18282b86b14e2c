/*
 * log.c -- operational messages: syslog, or stderr with -f
 *
 * One printf-checked entry point.  Messages read "subject: problem:
 * detail"; callers escape every attacker byte before it gets here.
 */
#include "mg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static bool log_stderr;

static const struct {
	const char *name;
	int facility;
} facility_table[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
mg_log_facility(const char *name)
{
	for (size_t i = 0; name && i < sizeof(facility_table) / sizeof(facility_table[0]); i++)
		if (strcmp(facility_table[i].name, name) == 0)
			return facility_table[i].facility;
	return LOG_MAIL;
}

void
mg_log_open(bool to_stderr, const char *facility)
{
	log_stderr = to_stderr;
	if (to_stderr)
		return;
	openlog(MG_NAME, LOG_PID | LOG_NDELAY, mg_log_facility(facility));
}

void
mg_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_stderr) {
		static const char *const level[] = {
			"emerg", "alert", "crit", "error", "warning", "notice",
			"info", "debug"
		};
		char msg[2048];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		fprintf(stderr, "%s: %s: %s\n", MG_NAME, level[prio & 7], msg);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}
