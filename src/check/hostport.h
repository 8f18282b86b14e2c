/*
 * hostport.h -- "HOST:PORT", "[IPv6]:PORT" as given on the command line,
 * and the libmilter socket spec that reaches it.  Pure.
 */
#ifndef MG_CHECK_HOSTPORT_H
#define MG_CHECK_HOSTPORT_H

#include <stddef.h>

#define HOSTPORT_HOST_MAX 256

struct hostport {
	char host[HOSTPORT_HOST_MAX];	/* without brackets */
	unsigned port;
	int v6;				/* host is an IPv6 literal */
};

/* 0, or -1 with a message in err. */
int hostport_parse(const char *s, size_t len, struct hostport *hp_r, char *err,
		   size_t errsize);

/* "inet:PORT@HOST" or "inet6:PORT@HOST" into buf. */
void hostport_spec(const struct hostport *hp, char *buf, size_t size);

#endif
