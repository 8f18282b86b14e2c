/*
 * sockspec.h -- milter socket specifications, as libmilter writes them
 *
 *   unix:/path  (= local:/path, or a bare /path)
 *   inet:PORT[@HOST]     inet6:PORT[@HOST]     HOST: IP literal or localhost
 *
 * Postfix writes inet:HOST:PORT; that form is refused with an error that
 * shows the right one, because it is the most common mismatch postmasters
 * hit.  A TCP socket without a host, or on an address that is not loopback,
 * is "remote": milter-guard refuses it unless AllowRemoteSocket is set.
 */
#ifndef MG_SOCKSPEC_H
#define MG_SOCKSPEC_H

#include <stdbool.h>
#include <stddef.h>

#define SOCKSPEC_PATH_MAX 108	/* sun_path */
#define SOCKSPEC_HOST_MAX 256

enum sockspec_type {
	SOCKSPEC_UNIX,
	SOCKSPEC_INET,
	SOCKSPEC_INET6
};

struct sockspec {
	enum sockspec_type type;
	char path[SOCKSPEC_PATH_MAX];
	unsigned port;
	char host[SOCKSPEC_HOST_MAX];	/* "" if none given (all addresses) */
};

/* Parse spec; on error returns -1 and writes a message to err. */
int sockspec_parse(const char *spec, struct sockspec *s_r, char *err,
		   size_t errsize);

/* True for unix sockets and TCP sockets bound to a loopback address. */
bool sockspec_is_local(const struct sockspec *s);

#endif
