/*
 * main.c -- milter-guard-audit: review the audit log of milter-guard
 *
 *   milter-guard-audit verify [--key FILE] [--live] [--state FILE] LOG...
 *   milter-guard-audit summary [--json] [--top N] LOG...
 *   milter-guard-audit show [filters] [--json] LOG...
 *
 * See milter-guard-audit(1).
 */
#include "audit.h"

#include <string.h>

#include "config.h"

const char *progname = "milter-guard-audit";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
	const char *synopsis;
} commands[] = {
	{ "verify", cmd_verify, "check the tamper-evidence chain",
	  "[--key FILE] [--live] [--state FILE] [--as-given] LOG..." },
	{ "summary", cmd_summary, "count decisions by rule, action, client, country, hour",
	  "[--json] [--top N] LOG..." },
	{ "show", cmd_show, "the events that match, as text or as they are (--json)",
	  "[--since TIME] [--until TIME] [--rule RULE] [--action ACTION]\n"
	  "    [--client ADDRESS[/PREFIX]] [--queue-id ID] [--type TYPE] [--json] [--as-given] LOG..." },
};

int
command_usage(FILE *out, const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(out, "usage: %s %s %s\n", progname, name, commands[i].synopsis);
	return out == stdout ? AUDIT_OK : AUDIT_TROUBLE;
}

static int
usage(FILE *out, int status)
{
	fprintf(out, "usage: %s COMMAND [OPTIONS] LOG...\n", progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(out, "LOG files may be gzip-compressed; see milter-guard-audit(1).\n");
	return status;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, AUDIT_TROUBLE);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return usage(stdout, AUDIT_OK);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", progname, PACKAGE_VERSION);
		return AUDIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0))
			return command_usage(stdout, argv[1]);
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command \"", progname);
	print_escaped(stderr, argv[1]);
	fprintf(stderr, "\"\n");
	return usage(stderr, AUDIT_TROUBLE);
}
