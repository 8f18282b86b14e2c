/*
 * hostport.c -- "HOST:PORT" and "[IPv6]:PORT" (see hostport.h)
 */
#include <stdio.h>
#include <string.h>

#include "hostport.h"

int
hostport_parse(const char *s, size_t len, struct hostport *hp_r, char *err,
	       size_t errsize)
{
	const char *colon = NULL, *host = s;
	size_t hlen, i;
	unsigned long port = 0;

	memset(hp_r, 0, sizeof(*hp_r));
	for (i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (colon == NULL || len - (size_t)(colon - s) - 1 == 0 ||
	    len - (size_t)(colon - s) - 1 > 5) {
		snprintf(err, errsize, "expected HOST:PORT or [IPv6]:PORT");
		return -1;
	}
	for (i = (size_t)(colon - s) + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(err, errsize, "expected HOST:PORT or [IPv6]:PORT");
			return -1;
		}
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errsize, "port must be from 1 to 65535");
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
		hp_r->v6 = 1;
	} else if (memchr(host, ':', hlen) != NULL) {
		snprintf(err, errsize, "an IPv6 address goes in brackets: [2001:db8::1]:PORT");
		return -1;
	}
	if (hlen == 0 || hlen >= sizeof(hp_r->host) || memchr(host, '\0', hlen) != NULL) {
		snprintf(err, errsize, "bad host");
		return -1;
	}
	memcpy(hp_r->host, host, hlen);
	hp_r->port = (unsigned)port;
	return 0;
}

void
hostport_spec(const struct hostport *hp, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%u@%s", hp->v6 ? "inet6" : "inet", hp->port, hp->host);
}
