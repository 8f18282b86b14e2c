/*
 * NAME
 *	echo_milter 1
 * SUMMARY
 *	tiny libmilter filter whose replies are chosen by its input
 * SYNOPSIS
 *	echo_milter -p socket [-P pidfile] [-N]
 * DESCRIPTION
 *	A fixture for tests/unit/test_mclient.c: it gives the milter
 *	client a real libmilter peer with known, data-driven behaviour.
 *
 *	-p socket	listen here (libmilter syntax, e.g. unix:/tmp/s)
 *	-P pidfile	written (atomically) once the socket listens
 *	-N		negotiate SMFIP_NR_HDR and SMFIP_NOHELO
 *
 *	Behaviour:
 *	  MAIL address containing "reject"	550 5.7.1 rejected sender
 *	  MAIL address containing "discard"	discard
 *	  RCPT address containing "tempfail"	tempfail (no text)
 *	  RCPT address containing "reject"	reject (no text)
 *	  any unknown SMTP command		421 4.7.0 unknown command refused
 *	  header X-Quarantine: reason		quarantine with that reason
 *	  header X-Echo-Mods (any value)	every other edit at end of message
 *	  first body chunk starting "SKIP"	SMFIS_SKIP
 *	  at end of message, always		X-Echo: yes, X-Echo-Body:
 *						"<chunks> <bytes>", then accept
 *	  macro {auth_authen} at MAIL		X-Echo-Auth: <value> at the end
 *	When the MTA offers SMFIF_SETSYMLIST it asks for "{client_addr} j"
 *	at connect and "{auth_authen}" at MAIL. It prints "ready" to stderr
 *	when it listens. Stop it with SIGKILL: libmilter takes ~5 s after
 *	SIGTERM.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define ECHO_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | \
		      SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_QUARANTINE | \
		      SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST)

static int nr_mode;		/* -N: no header replies, no HELO */

struct echo_priv {
	char *quarantine;	/* X-Quarantine value */
	char *auth;		/* {auth_authen} seen at MAIL */
	int all_mods;		/* X-Echo-Mods seen */
	unsigned long chunks, bytes;
};

static struct echo_priv *get_priv(SMFICTX *ctx)
{
	struct echo_priv *p = smfi_getpriv(ctx);

	if (p == NULL && (p = calloc(1, sizeof *p)) != NULL)
		smfi_setpriv(ctx, p);
	return p;
}

static void reset_message(struct echo_priv *p)
{
	if (p == NULL)
		return;
	free(p->quarantine);
	free(p->auth);
	memset(p, 0, sizeof *p);
}

static sfsistat echo_negotiate(SMFICTX *ctx, unsigned long f0,
			       unsigned long f1, unsigned long f2,
			       unsigned long f3, unsigned long *pf0,
			       unsigned long *pf1, unsigned long *pf2,
			       unsigned long *pf3)
{
	unsigned long want = SMFIP_SKIP;

	(void) f2;
	(void) f3;
	if (nr_mode)
		want |= SMFIP_NR_HDR | SMFIP_NOHELO;
	*pf0 = f0 & ECHO_ACTIONS;
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_addr} j");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen}");
	}
	return SMFIS_CONTINUE;
}

static sfsistat echo_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void) host;
	(void) sa;
	return get_priv(ctx) != NULL ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat echo_helo(SMFICTX *ctx, char *helo)
{
	(void) ctx;
	(void) helo;
	return SMFIS_CONTINUE;
}

static sfsistat echo_envfrom(SMFICTX *ctx, char **argv)
{
	struct echo_priv *p = get_priv(ctx);
	const char *auth = smfi_getsymval(ctx, "{auth_authen}");

	reset_message(p);
	if (p != NULL && auth != NULL)
		p->auth = strdup(auth);
	if (strstr(argv[0], "reject") != NULL) {
		smfi_setreply(ctx, "550", "5.7.1", "rejected sender");
		return SMFIS_REJECT;
	}
	if (strstr(argv[0], "discard") != NULL)
		return SMFIS_DISCARD;
	return SMFIS_CONTINUE;
}

static sfsistat echo_envrcpt(SMFICTX *ctx, char **argv)
{
	(void) ctx;
	if (strstr(argv[0], "tempfail") != NULL)
		return SMFIS_TEMPFAIL;
	if (strstr(argv[0], "reject") != NULL)
		return SMFIS_REJECT;
	return SMFIS_CONTINUE;
}

static sfsistat echo_data(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

static sfsistat echo_unknown(SMFICTX *ctx, const char *line)
{
	(void) line;
	smfi_setreply(ctx, "421", "4.7.0", "unknown command refused");
	return SMFIS_TEMPFAIL;
}

static sfsistat echo_header(SMFICTX *ctx, char *name, char *value)
{
	struct echo_priv *p = get_priv(ctx);

	if (p != NULL && strcasecmp(name, "X-Quarantine") == 0) {
		free(p->quarantine);
		p->quarantine = strdup(value);
	}
	if (p != NULL && strcasecmp(name, "X-Echo-Mods") == 0)
		p->all_mods = 1;
	return nr_mode ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat echo_eoh(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

static sfsistat echo_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct echo_priv *p = get_priv(ctx);

	if (p == NULL)
		return SMFIS_TEMPFAIL;
	p->chunks++;
	p->bytes += len;
	if (p->chunks == 1 && len >= 4 && memcmp(buf, "SKIP", 4) == 0)
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

static sfsistat echo_eom(SMFICTX *ctx)
{
	struct echo_priv *p = get_priv(ctx);
	char stats[64];

	if (p == NULL)
		return SMFIS_TEMPFAIL;
	smfi_addheader(ctx, "X-Echo", "yes");
	snprintf(stats, sizeof stats, "%lu %lu", p->chunks, p->bytes);
	smfi_addheader(ctx, "X-Echo-Body", stats);
	if (p->auth != NULL)
		smfi_addheader(ctx, "X-Echo-Auth", p->auth);
	if (p->all_mods) {
		smfi_progress(ctx);
		smfi_insheader(ctx, 0, "X-First", "1");
		smfi_chgheader(ctx, "Subject", 1, "changed");
		smfi_addrcpt(ctx, "<added@example.org>");
		smfi_delrcpt(ctx, "<gone@example.org>");
		smfi_addrcpt_par(ctx, "<par@example.org>", "NOTIFY=NEVER");
		smfi_chgfrom(ctx, "<new@example.org>", "SIZE=100");
		smfi_replacebody(ctx, (unsigned char *) "new\0body\r\n", 10);
	}
	if (p->quarantine != NULL)
		smfi_quarantine(ctx, p->quarantine);
	reset_message(p);
	return SMFIS_ACCEPT;
}

static sfsistat echo_abort(SMFICTX *ctx)
{
	reset_message(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat echo_close(SMFICTX *ctx)
{
	struct echo_priv *p = smfi_getpriv(ctx);

	reset_message(p);
	free(p);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc echo_desc = {
	.xxfi_name = "echo_milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = ECHO_ACTIONS,
	.xxfi_connect = echo_connect,
	.xxfi_helo = echo_helo,
	.xxfi_envfrom = echo_envfrom,
	.xxfi_envrcpt = echo_envrcpt,
	.xxfi_header = echo_header,
	.xxfi_eoh = echo_eoh,
	.xxfi_body = echo_body,
	.xxfi_eom = echo_eom,
	.xxfi_abort = echo_abort,
	.xxfi_close = echo_close,
	.xxfi_unknown = echo_unknown,
	.xxfi_data = echo_data,
	.xxfi_negotiate = echo_negotiate,
};

static int write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *fp;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
		return -1;
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(fp, "%ld\n", (long) getpid());
	if (fclose(fp) != 0)
		return -1;
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *pidfile = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:P:N")) != -1) {
		switch (ch) {
		case 'p': sock = optarg; break;
		case 'P': pidfile = optarg; break;
		case 'N': nr_mode = 1; break;
		default:
			fprintf(stderr, "usage: echo_milter -p socket "
				"[-P pidfile] [-N]\n");
			return 2;
		}
	}
	if (sock == NULL) {
		fprintf(stderr, "echo_milter: -p socket is required\n");
		return 2;
	}
	if (smfi_setconn((char *) sock) != MI_SUCCESS ||
	    smfi_register(echo_desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "echo_milter: cannot listen on %s\n", sock);
		return 1;
	}
	if (pidfile != NULL && write_pidfile(pidfile) < 0) {
		fprintf(stderr, "echo_milter: cannot write %s\n", pidfile);
		return 1;
	}
	fprintf(stderr, "ready\n");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
