/*
 * NAME
 *	null_milter 1 - a libmilter filter that does nothing, as fast as it can
 * SYNOPSIS
 *	null_milter -p SOCKET [-P PIDFILE]
 * DESCRIPTION
 *	The physical limit of libmilter on the machine at hand: every
 *	callback continues, end of message accepts (SMFIS_CONTINUE, as
 *	milter-guard answers a clean message), and the callbacks whose reply
 *	the MTA agreed not to wait for (SMFIP_NR_HDR, SMFIP_NR_BODY) return
 *	SMFIS_NOREPLY. It negotiates exactly what milter-guard asks for
 *	(src/milter/callbacks.c, mg_negotiate()): actions ADDHDRS, CHGHDRS
 *	and QUARANTINE; protocol NODATA, HDR_LEADSPC, NR_HDR, NR_BODY. Like
 *	milter-guard it allocates a small context per connection and keeps
 *	it with smfi_setpriv(), and raises the packet limit to 1 MiB with
 *	smfi_setmaxdatasize(). It runs in the foreground until SIGTERM or
 *	SIGINT (libmilter's own handling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NM_PROTOCOL (SMFIP_NODATA | SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_BODY)
#define NM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)
#define NM_MAX_PACKET (1024 * 1024)	/* as milter-guard */

struct nm_conn {
	unsigned long protocol;
	unsigned long messages;
};

static struct nm_conn *
conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static sfsistat
nm_noreply(SMFICTX *ctx, unsigned long flag)
{
	struct nm_conn *c = conn_of(ctx);

	return c != NULL && (c->protocol & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
	     unsigned long f3, unsigned long *pf0, unsigned long *pf1,
	     unsigned long *pf2, unsigned long *pf3)
{
	struct nm_conn *c = calloc(1, sizeof(*c));

	*pf0 = f0 & NM_ACTIONS;
	*pf1 = f1 & NM_PROTOCOL;
	*pf2 = 0;
	*pf3 = 0;
	if (c != NULL) {
		c->protocol = *pf1;
		smfi_setpriv(ctx, c);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	struct nm_conn *c = conn_of(ctx);

	if (c != NULL)
		c->messages++;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_envrcpt(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	return nm_noreply(ctx, SMFIP_NR_HDR);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return nm_noreply(ctx, SMFIP_NR_BODY);
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_abort(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_close(SMFICTX *ctx)
{
	free(conn_of(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
nm_unknown(SMFICTX *ctx, const char *cmd)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_data(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_filter = {
	"null_milter", SMFI_VERSION, NM_ACTIONS,
	nm_connect, nm_helo, nm_envfrom, nm_envrcpt, nm_header, nm_eoh,
	nm_body, nm_eom, nm_abort, nm_close, nm_unknown, nm_data, nm_negotiate,
};

int
main(int argc, char **argv)
{
	const char *sock = NULL, *pidfile = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:P:")) != -1) {
		switch (ch) {
		case 'p': sock = optarg; break;
		case 'P': pidfile = optarg; break;
		default:
			fprintf(stderr, "usage: null_milter -p SOCKET [-P PIDFILE]\n");
			return 2;
		}
	}
	if (sock == NULL) {
		fprintf(stderr, "usage: null_milter -p SOCKET [-P PIDFILE]\n");
		return 2;
	}
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
		unlink(strchr(sock, ':') + 1);
	if (smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_register(nm_filter) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: %s: cannot set up\n", sock);
		return 1;
	}
	smfi_setmaxdatasize(NM_MAX_PACKET);
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: %s: cannot open the socket\n", sock);
		return 1;
	}
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "w");

		if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
			fprintf(stderr, "null_milter: %s: cannot write\n", pidfile);
			return 1;
		}
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
