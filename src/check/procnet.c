/*
 * procnet.c -- lines of /proc/net/tcp and /proc/net/tcp6 (see procnet.h)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "procnet.h"

/* The columns we read, in order, after the "sl:" column. */
enum { COL_LOCAL, COL_REMOTE, COL_STATE, COL_QUEUES, COL_TIMER, COL_RETR, COL_UID,
       COL_TIMEOUT, COL_INODE, NCOLS };

/* A digit's value in base 16 (either case), or -1. */
static int
hexval(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p = c != '\0' ? strchr(digits, tolower((unsigned char)c)) : NULL;

	return p != NULL ? (int)(p - digits) : -1;
}

/* Parse exactly n hex digits at p into *v. */
static int
hexn(const char *p, size_t n, unsigned long *v)
{
	size_t i;
	int d;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((d = hexval(p[i])) < 0)
			return -1;
		*v = *v << 4 | (unsigned long)d;
	}
	return 0;
}

/* "HHHHHHHH:PPPP" (IPv4) or 32 hex digits ":PPPP" (IPv6). */
static int
parse_addr(const char *p, size_t len, struct procnet_entry *e)
{
	size_t words, i;
	unsigned long w, port;
	uint32_t host;

	if (len == 8 + 1 + 4)
		words = 1;
	else if (len == 32 + 1 + 4)
		words = 4;
	else
		return -1;
	if (p[words * 8] != ':')
		return -1;
	for (i = 0; i < words; i++) {
		if (hexn(p + i * 8, 8, &w) < 0)
			return -1;
		host = (uint32_t)w;
		memcpy(e->addr + i * 4, &host, 4);
	}
	if (hexn(p + words * 8 + 1, 4, &port) < 0)
		return -1;
	e->family = words == 1 ? AF_INET : AF_INET6;
	e->port = (unsigned)port;
	return 0;
}

static int
parse_ulong(const char *p, size_t len, int base, unsigned long *v)
{
	size_t i;
	int d;

	if (len == 0 || len > 20)
		return -1;
	*v = 0;
	for (i = 0; i < len; i++) {
		d = hexval(p[i]);
		if (d < 0 || d >= base)
			return -1;
		*v = *v * (unsigned long)base + (unsigned long)d;
	}
	return 0;
}

int
procnet_parse_line(const char *line, size_t len, struct procnet_entry *e_r,
		   char *err, size_t errsize)
{
	const char *col[NCOLS];
	size_t clen[NCOLS], i = 0, n = 0, start;
	unsigned long v;

	memset(e_r, 0, sizeof(*e_r));
	while (i < len && line[i] == ' ')
		i++;
	if (len - i >= 2 && memcmp(line + i, "sl", 2) == 0)
		return 0;
	/* the "N:" slot column */
	while (i < len && line[i] != ':' && line[i] != ' ')
		i++;
	if (i >= len || line[i] != ':') {
		snprintf(err, errsize, "no slot column");
		return -1;
	}
	i++;
	while (n < NCOLS) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		col[n] = line + start;
		clen[n++] = i - start;
	}
	if (n < NCOLS) {
		snprintf(err, errsize, "%zu columns, need %d", n + 1, NCOLS + 1);
		return -1;
	}
	if (parse_addr(col[COL_LOCAL], clen[COL_LOCAL], e_r) < 0) {
		snprintf(err, errsize, "bad local address");
		return -1;
	}
	if (clen[COL_STATE] != 2 || hexn(col[COL_STATE], 2, &v) < 0) {
		snprintf(err, errsize, "bad state");
		return -1;
	}
	e_r->state = (unsigned)v;
	if (parse_ulong(col[COL_UID], clen[COL_UID], 10, &e_r->uid) < 0 ||
	    parse_ulong(col[COL_INODE], clen[COL_INODE], 10, &e_r->inode) < 0) {
		snprintf(err, errsize, "bad uid or inode");
		return -1;
	}
	if (inet_ntop(e_r->family, e_r->addr, e_r->text, sizeof(e_r->text)) == NULL) {
		snprintf(err, errsize, "address does not format");
		return -1;
	}
	return 1;
}

bool
procnet_is_wildcard(const struct procnet_entry *e)
{
	static const unsigned char zero[16];

	return memcmp(e->addr, zero, e->family == AF_INET ? 4 : 16) == 0;
}

bool
procnet_is_loopback(const struct procnet_entry *e)
{
	static const unsigned char v6lo[16] = { [15] = 1 };
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (e->family == AF_INET)
		return e->addr[0] == 127;
	if (memcmp(e->addr, v6lo, 16) == 0)
		return true;
	return memcmp(e->addr, mapped, 12) == 0 && e->addr[12] == 127;
}
