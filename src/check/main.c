/*
 * main.c -- milter-guard-check: options, the chosen check, its report
 *
 *   milter-guard-check [options] socket [SOCKETSPEC]
 *   milter-guard-check [options] smtp HOST:PORT
 *   milter-guard-check [options] inventory
 *
 * Exit status in the monitoring-plugin convention: 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN (also for a usage error).
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgcheck.h"
#include "report.h"

#define PROG "milter-guard-check"

enum {
	OPT_MTA_USER = 256, OPT_REMOTE, OPT_POSTFIX, OPT_SENDMAIL_CF, OPT_SENDMAIL_MC,
	OPT_SENDMAIL, OPT_NO_MTA, OPT_OVERFLOW, OPT_TIMEOUT, OPT_HELO, OPT_JSON
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "mta-user", required_argument, NULL, OPT_MTA_USER },
	{ "remote", required_argument, NULL, OPT_REMOTE },
	{ "postfix-config", required_argument, NULL, OPT_POSTFIX },
	{ "sendmail-cf", required_argument, NULL, OPT_SENDMAIL_CF },
	{ "sendmail-mc", required_argument, NULL, OPT_SENDMAIL_MC },
	{ "sendmail", required_argument, NULL, OPT_SENDMAIL },
	{ "no-mta", no_argument, NULL, OPT_NO_MTA },
	{ "overflow-test", no_argument, NULL, OPT_OVERFLOW },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "helo", required_argument, NULL, OPT_HELO },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [--json] [--timeout MS] socket [-c FILE | SOCKETSPEC]\n"
		"           [--mta-user USER] [--remote HOST:PORT] [--postfix-config DIR]\n"
		"           [--sendmail-cf FILE] [--sendmail-mc FILE] [--no-mta]\n"
		"       " PROG " [--json] [--timeout MS] smtp HOST:PORT [--overflow-test]\n"
		"           [--helo NAME]\n"
		"       " PROG " [--json] inventory [--postfix-config DIR] [--sendmail PATH]\n"
		"exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n");
}

/* A usage error: the monitoring line on stdout, the usage on stderr. */
static int
usage_error(const char *why)
{
	printf("MILTER-GUARD UNKNOWN - usage error: %s\n", why);
	usage(stderr);
	return REPORT_UNKNOWN;
}

int
main(int argc, char **argv)
{
	struct mgcheck_opts o = {
		.mta_user = MGCHECK_DEFAULT_MTA_USER,
		.helo = MGCHECK_DEFAULT_HELO,
		.timeout_ms = MGCHECK_DEFAULT_TIMEOUT_MS,
	};
	const char *cmd = NULL;
	struct report r;
	int json = 0, ch, status;
	char *out, *end;
	long t;

	signal(SIGPIPE, SIG_IGN);
	/* options may come before or after the command (GNU getopt permutes) */
	while ((ch = getopt_long(argc, argv, "c:hV", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.config_file = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_MTA_USER: o.mta_user = optarg; break;
		case OPT_REMOTE: o.remote = optarg; break;
		case OPT_POSTFIX: o.postfix_dir = optarg; break;
		case OPT_SENDMAIL_CF: o.sendmail_cf = optarg; break;
		case OPT_SENDMAIL_MC: o.sendmail_mc = optarg; break;
		case OPT_SENDMAIL: o.sendmail = optarg; break;
		case OPT_NO_MTA: o.no_mta = true; break;
		case OPT_OVERFLOW: o.overflow_test = true; break;
		case OPT_HELO: o.helo = optarg; break;
		case OPT_TIMEOUT:
			t = strtol(optarg, &end, 10);
			if (*end != '\0' || t < 1 || t > 600000)
				return usage_error("--timeout: milliseconds from 1 to 600000");
			o.timeout_ms = (int)t;
			break;
		case 'V': printf(PROG " %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: return usage_error("unknown option");
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (cmd == NULL)
		return usage_error("no check named (socket, smtp or inventory)");
	if (argc - optind > 1)
		return usage_error("too many arguments");
	if (strcmp(cmd, "socket") == 0) {
		o.spec = optind < argc ? argv[optind] : NULL;
		if (o.spec != NULL && o.config_file != NULL)
			return usage_error("socket: give -c FILE or SOCKETSPEC, not both");
		report_init(&r, "socket");
		sockcheck_run(&o, &r);
	} else if (strcmp(cmd, "smtp") == 0 && optind < argc) {
		o.target = argv[optind];
		report_init(&r, "smtp");
		smtpcheck_run(&o, &r);
	} else if (strcmp(cmd, "inventory") == 0 && optind == argc) {
		report_init(&r, "inventory");
		inventory_run(&o, &r);
	} else {
		return usage_error(strcmp(cmd, "smtp") == 0 ? "smtp: HOST:PORT missing"
			: strcmp(cmd, "inventory") == 0 ? "inventory takes no argument"
			: "unknown check (socket, smtp or inventory)");
	}
	status = report_state(&r);
	out = json ? report_json_r(&r) : report_text_r(&r);
	if (out == NULL) {
		printf("MILTER-GUARD UNKNOWN - out of memory\n");
		status = REPORT_UNKNOWN;
	} else {
		fputs(out, stdout);
		free(out);
	}
	report_deinit(&r);
	if (fflush(stdout) != 0)
		return REPORT_UNKNOWN;
	return status;
}
