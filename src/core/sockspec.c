/*
 * sockspec.c -- milter socket specifications (see sockspec.h)
 */
#include "sockspec.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esc.h"

static int fail(char *err, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_port(const char *s, size_t len, unsigned *port_r)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port_r = (unsigned)v;
	return 0;
}

int
sockspec_parse(const char *spec, struct sockspec *s, char *err, size_t errsize)
{
	const char *colon = strchr(spec, ':'), *rest, *at;
	size_t kind_len;
	char shown[512];	/* the spec in messages */

	memset(s, 0, sizeof(*s));
	esc_text(spec, strlen(spec), shown, sizeof(shown));
	if (colon == NULL) {
		if (spec[0] != '/')
			return fail(err, errsize, "socket \"%s\": expected unix:/path, "
				    "inet:PORT@HOST or inet6:PORT@HOST", shown);
		rest = spec;
		s->type = SOCKSPEC_UNIX;
		goto unix_path;
	}
	kind_len = (size_t)(colon - spec);
	rest = colon + 1;
	if ((kind_len == 4 && strncasecmp(spec, "unix", 4) == 0) ||
	    (kind_len == 5 && strncasecmp(spec, "local", 5) == 0)) {
		s->type = SOCKSPEC_UNIX;
		goto unix_path;
	}
	if (kind_len == 4 && strncasecmp(spec, "inet", 4) == 0)
		s->type = SOCKSPEC_INET;
	else if (kind_len == 5 && strncasecmp(spec, "inet6", 5) == 0)
		s->type = SOCKSPEC_INET6;
	else
		return fail(err, errsize, "socket \"%s\": unknown socket type; expected "
			    "unix:, local:, inet: or inet6:", shown);

	at = strchr(rest, '@');
	if (parse_port(rest, at ? (size_t)(at - rest) : strlen(rest), &s->port) < 0) {
		/* Postfix's inet:HOST:PORT? */
		const char *last = strrchr(rest, ':');
		unsigned port;

		if (at == NULL && last != NULL &&
		    parse_port(last + 1, strlen(last + 1), &port) == 0) {
			char host[4 * SOCKSPEC_HOST_MAX + 1];

			esc_text(rest, (size_t)(last - rest), host, sizeof(host));
			return fail(err, errsize, "socket \"%s\" is Postfix's syntax "
				    "(inet:HOST:PORT); milter-guard uses libmilter's: %s:%u@%s",
				    shown, s->type == SOCKSPEC_INET ? "inet" : "inet6", port,
				    host);
		}
		return fail(err, errsize, "socket \"%s\": expected a port number "
			    "from 1 to 65535 (inet:PORT@HOST)", shown);
	}
	if (at != NULL) {
		const char *host = at + 1;
		size_t hlen = strlen(host);

		if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
			host++;
			hlen -= 2;
		}
		if (hlen == 0 || hlen >= sizeof(s->host))
			return fail(err, errsize, "socket \"%s\": bad host", shown);
		memcpy(s->host, host, hlen);
		s->host[hlen] = '\0';
	}
	return 0;

unix_path:
	if (rest[0] != '/')
		return fail(err, errsize, "socket \"%s\": the path of a unix socket "
			    "must be absolute", shown);
	if (strlen(rest) >= sizeof(s->path))
		return fail(err, errsize, "socket \"%s\": path too long for a unix "
			    "socket (at most 107 octets)", shown);
	strcpy(s->path, rest);
	return 0;
}

bool
sockspec_is_local(const struct sockspec *s)
{
	unsigned char a[16];

	if (s->type == SOCKSPEC_UNIX)
		return true;
	if (s->host[0] == '\0')
		return false;		/* every address */
	if (strcasecmp(s->host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, s->host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, s->host, a) == 1) {
		static const unsigned char loop6[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

		return memcmp(a, loop6, 16) == 0 ||
			(memcmp(a, mapped, 12) == 0 && a[12] == 127);
	}
	return false;			/* a name: we do not resolve it here */
}
