/*
 * mgcheck.h -- milter-guard-check: the options and the three checks
 *
 * Each check fills a report (report.h); main() prints it and exits with
 * the report's state.  The checks do the I/O; what they parse and decide
 * lives in the pure modules beside them (procnet, mtacf, banner, debver,
 * hostport, report).
 */
#ifndef MG_CHECK_MGCHECK_H
#define MG_CHECK_MGCHECK_H

#include <stdbool.h>

#include "report.h"

#define MGCHECK_DEFAULT_TIMEOUT_MS 5000
#define MGCHECK_DEFAULT_MTA_USER "postfix"
#define MGCHECK_DEFAULT_HELO "milter-guard-check.invalid"
#define MGCHECK_CERT_WARN_DAYS 14	/* a certificate expiring sooner warns */

struct mgcheck_opts {
	const char *config_file;	/* -c FILE, or NULL */
	const char *spec;		/* SOCKETSPEC argument, or NULL */
	const char *remote;		/* --remote HOST:PORT */
	const char *mta_user;		/* --mta-user */
	const char *postfix_dir;	/* --postfix-config DIR */
	const char *sendmail_cf;	/* --sendmail-cf FILE */
	const char *sendmail_mc;	/* --sendmail-mc FILE */
	const char *sendmail;		/* --sendmail PATH (inventory) */
	const char *target;		/* smtp HOST:PORT */
	const char *helo;		/* --helo NAME */
	bool no_mta;			/* --no-mta: no MTA cross-check */
	bool overflow_test;		/* --overflow-test */
	int timeout_ms;			/* --timeout MS */
};

void sockcheck_run(const struct mgcheck_opts *o, struct report *r);
void smtpcheck_run(const struct mgcheck_opts *o, struct report *r);
void inventory_run(const struct mgcheck_opts *o, struct report *r);

#endif
