/*
 * inventory.c -- milter-guard-check inventory: the versions that matter
 * for a security review
 *
 * The MTA (postconf's mail_version; Sendmail's "Version" line of -d0.1),
 * the libraries as this program runs them (libmilter, OpenSSL,
 * libmaxminddb, jansson), milter-guard itself, and the Debian packages
 * (dpkg-query), whose revision shows a backported fix ("+deb12u2", debver.h)
 * where the upstream version did not change.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libmilter/mfapi.h>
#include <maxminddb.h>
#include <openssl/crypto.h>

#include "debver.h"
#include "mgcheck.h"
#include "run.h"

#define VERSION_MAX 128

/* Packages whose versions matter here (dpkg-query -W). */
static const char *const packages[] = {
	"milter-guard", "postfix", "sendmail-bin", "libmilter1.0.1", "libssl3",
	"openssl", "libmaxminddb0", "libjansson4",
};

/* Where Debian's Sendmail keeps its binary (the MTA, not Postfix's). */
static const char *const sendmail_paths[] = { "/usr/lib/sm.bin/sendmail" };

static void
version(struct report *r, const char *name, const char *v, size_t len)
{
	report_fact(r, name, v, len);
	report_add(r, REPORT_OK, "inventory.version", NULL, "%s %.*s", name, (int)len, v);
}

/* The first line of out, without its newline. */
static size_t
first_line(const char *out, size_t len)
{
	const char *nl = memchr(out, '\n', len);

	return nl != NULL ? (size_t)(nl - out) : len;
}

static int
mta_postfix(const struct mgcheck_opts *o, struct report *r)
{
	const char *argv[] = { "postconf", "-d", "-h", "mail_version", NULL, NULL, NULL };
	char *out;
	size_t len;
	int status;

	if (!run_have("postconf"))
		return 0;
	if (o->postfix_dir != NULL) {
		argv[1] = "-c";
		argv[2] = o->postfix_dir;
		argv[3] = "-h";
		argv[4] = "mail_version";
	}
	if (run_capture(argv, o->timeout_ms, &out, &len, &status) < 0)
		return 0;
	if (status == 0 && first_line(out, len) > 0) {
		version(r, "postfix", out, first_line(out, len));
		free(out);
		return 1;
	}
	free(out);
	return 0;
}

static int
mta_sendmail(const struct mgcheck_opts *o, struct report *r)
{
	const char *path = o->sendmail;
	const char *argv[] = { NULL, "-d0.1", "-bt", NULL };
	char *out, *v;
	size_t len, i;
	int status;

	for (i = 0; path == NULL && i < sizeof(sendmail_paths) / sizeof(sendmail_paths[0]); i++)
		if (access(sendmail_paths[i], X_OK) == 0)
			path = sendmail_paths[i];
	if (path == NULL)
		return 0;
	argv[0] = path;
	if (run_capture(argv, o->timeout_ms, &out, &len, &status) < 0)
		return 0;
	v = strstr(out, "Version ");
	if (v != NULL) {
		v += strlen("Version ");
		version(r, "sendmail", v, first_line(v, len - (size_t)(v - out)));
	} else {
		report_add(r, REPORT_UNKNOWN, "inventory.mta", "give the host a qualified "
			   "name (Sendmail waits for one), or raise --timeout",
			   "%s -d0.1 -bt printed no version%s", path,
			   status < 0 ? " before the timeout" : "");
	}
	free(out);
	return 1;
}

static void
libraries(struct report *r)
{
	char v[VERSION_MAX];
	const char *ssl = OpenSSL_version(OPENSSL_VERSION), *sp;
	unsigned int maj = 0, min = 0, pl = 0;

	snprintf(v, sizeof(v), "%s", PACKAGE_VERSION);
	version(r, "milter-guard", v, strlen(v));
#ifdef HAVE_SMFI_VERSION
	smfi_version(&maj, &min, &pl);
#endif
	snprintf(v, sizeof(v), "%u.%u.%u", maj, min, pl);
	version(r, "libmilter", v, strlen(v));
	/* "OpenSSL 3.0.19 27 Jan 2026": the second word */
	sp = strchr(ssl, ' ');
	sp = sp != NULL ? sp + 1 : ssl;
	version(r, "openssl", sp, strcspn(sp, " "));
	version(r, "libmaxminddb", MMDB_lib_version(), strlen(MMDB_lib_version()));
#if JANSSON_VERSION_HEX >= 0x020d00
	version(r, "jansson", jansson_version_str(), strlen(jansson_version_str()));
#else
	version(r, "jansson", JANSSON_VERSION, strlen(JANSSON_VERSION));
#endif
}

static void
debian_packages(const struct mgcheck_opts *o, struct report *r)
{
	const char *argv[4 + sizeof(packages) / sizeof(packages[0])];
	char *out, *line, *nl, *tab, *tab2, name[VERSION_MAX], upd[32];
	size_t len, i, k = 0;
	int status;

	if (!run_have("dpkg-query"))
		return;
	argv[k++] = "dpkg-query";
	argv[k++] = "-W";
	argv[k++] = "--showformat=${Package}\t${Version}\t${db:Status-Abbrev}\n";
	for (i = 0; i < sizeof(packages) / sizeof(packages[0]); i++)
		argv[k++] = packages[i];
	argv[k] = NULL;
	/* dpkg-query exits 1 when a package is unknown; the rest still prints */
	if (run_capture(argv, o->timeout_ms, &out, &len, &status) < 0)
		return;
	for (line = out; line < out + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(out + len - line));
		if (nl == NULL)
			nl = out + len;
		tab = memchr(line, '\t', (size_t)(nl - line));
		tab2 = tab != NULL ? memchr(tab + 1, '\t', (size_t)(nl - tab - 1)) : NULL;
		if (tab2 == NULL || nl - tab2 < 3 || memcmp(tab2 + 1, "ii", 2) != 0)
			continue;	/* not installed */
		snprintf(name, sizeof(name), "package:%.*s", (int)(tab - line), line);
		report_fact(r, name, tab + 1, (size_t)(tab2 - tab - 1));
		if (debver_update(tab + 1, (size_t)(tab2 - tab - 1), upd, sizeof(upd)))
			report_add(r, REPORT_OK, "inventory.package", NULL,
				   "%.*s %.*s (Debian update %s applied)", (int)(tab - line), line,
				   (int)(tab2 - tab - 1), tab + 1, upd);
		else
			report_add(r, REPORT_OK, "inventory.package", NULL, "%.*s %.*s",
				   (int)(tab - line), line, (int)(tab2 - tab - 1), tab + 1);
	}
	free(out);
}

void
inventory_run(const struct mgcheck_opts *o, struct report *r)
{
	int mtas = mta_postfix(o, r) + mta_sendmail(o, r);

	if (mtas == 0)
		report_add(r, REPORT_WARNING, "inventory.mta", "install Postfix or Sendmail, "
			   "or name Sendmail's binary with --sendmail",
			   "no MTA found (postconf, Sendmail)");
	libraries(r);
	debian_packages(o, r);
}
