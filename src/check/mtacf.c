/*
 * mtacf.c -- which milter sockets an MTA is configured to use (see mtacf.h)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mtacf.h"

/* Bytes that separate Postfix list entries. */
static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r';
}

static bool
all_digits(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Understand spec (NUL-terminated, as written) into m. */
static void
interpret(struct mtacf_milter *m)
{
	char buf[MTACF_SPEC_MAX + 16], err[256];
	const char *s = m->spec, *rest, *last;
	size_t kind, hlen;
	bool six;

	if (s[0] == '/') {
		snprintf(buf, sizeof(buf), "unix:%s", s);
		m->parsed = sockspec_parse(buf, &m->sock, err, sizeof(err)) == 0;
		return;
	}
	if (strncasecmp(s, "inet6:", 6) == 0)
		kind = 6;
	else if (strncasecmp(s, "inet:", 5) == 0)
		kind = 5;
	else {
		m->parsed = sockspec_parse(s, &m->sock, err, sizeof(err)) == 0;
		return;
	}
	rest = s + kind;
	six = kind == 6;
	last = strrchr(rest, ':');
	if (strchr(rest, '@') != NULL || all_digits(rest, strlen(rest))) {
		/* libmilter's inet:PORT@HOST (or inet:PORT) */
		m->wrong_syntax = m->mta == MTACF_POSTFIX;
		m->parsed = sockspec_parse(s, &m->sock, err, sizeof(err)) == 0;
		return;
	}
	if (last == NULL || !all_digits(last + 1, strlen(last + 1)))
		return;
	/* Postfix's inet:HOST:PORT; HOST may be [v6] */
	m->wrong_syntax = m->mta == MTACF_SENDMAIL;
	hlen = (size_t)(last - rest);
	if (hlen >= 2 && rest[0] == '[' && rest[hlen - 1] == ']') {
		rest++;
		hlen -= 2;
		six = six || memchr(rest, ':', hlen) != NULL;
	}
	snprintf(buf, sizeof(buf), "%s:%s@%.*s", six ? "inet6" : "inet", last + 1,
		 (int)hlen, rest);
	m->parsed = sockspec_parse(buf, &m->sock, err, sizeof(err)) == 0;
}

static struct mtacf_milter *
add(struct mtacf_list *l, enum mtacf_mta mta, const char *name, size_t nlen,
    const char *spec, size_t slen)
{
	struct mtacf_milter *m;

	if (l->n >= MTACF_MAX) {
		l->dropped++;
		return NULL;
	}
	m = &l->m[l->n++];
	memset(m, 0, sizeof(*m));
	m->mta = mta;
	m->used = true;
	if (nlen >= sizeof(m->name))
		nlen = sizeof(m->name) - 1;
	memcpy(m->name, name, nlen);
	if (slen >= sizeof(m->spec))
		slen = sizeof(m->spec) - 1;
	memcpy(m->spec, spec, slen);
	/* a NUL inside stops interpretation there; the spec is shown escaped */
	interpret(m);
	return m;
}

void
mtacf_postfix(const char *v, size_t len, struct mtacf_list *l)
{
	size_t i = 0, start, end;

	while (i < len) {
		while (i < len && is_sep(v[i]))
			i++;
		if (i >= len)
			break;
		if (v[i] == '{') {
			/* { socket, name = value, ... }: the first word is the socket */
			end = i;
			while (end < len && v[end] != '}')
				end++;
			i++;
			while (i < end && is_sep(v[i]))
				i++;
			start = i;
			while (i < end && !is_sep(v[i]))
				i++;
			if (i > start)
				add(l, MTACF_POSTFIX, "", 0, v + start, i - start);
			i = end < len ? end + 1 : end;
			continue;
		}
		start = i;
		while (i < len && !is_sep(v[i]))
			i++;
		add(l, MTACF_POSTFIX, "", 0, v + start, i - start);
	}
}

/* Is name[0..nlen) in the comma-separated list? */
static bool
in_list(const char *list, size_t llen, const char *name, size_t nlen)
{
	size_t i = 0, start, end;

	while (i < llen) {
		while (i < llen && (list[i] == ',' || list[i] == ' ' || list[i] == '\t'))
			i++;
		start = i;
		while (i < llen && list[i] != ',')
			i++;
		end = i;
		while (end > start && (list[end - 1] == ' ' || list[end - 1] == '\t'))
			end--;
		if (end - start == nlen && nlen > 0 && memcmp(list + start, name, nlen) == 0)
			return true;
	}
	return false;
}

/* Find "S=" in a filter's equates p[0..len) and return its value's span. */
static bool
find_socket(const char *p, size_t len, const char **s_r, size_t *slen_r)
{
	size_t i = 0, start;

	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		if (i + 1 < len && p[i] == 'S' && p[i + 1] == '=') {
			start = i + 2;
			i = start;
			while (i < len && p[i] != ',' && p[i] != ' ' && p[i] != '\t')
				i++;
			*s_r = p + start;
			*slen_r = i - start;
			return i > start;
		}
		while (i < len && p[i] != ',')
			i++;
	}
	return false;
}

/* The filters appended since first are used when the list names them. */
static void
mark_used(struct mtacf_list *l, size_t first, const char *list, size_t llen)
{
	size_t i;

	for (i = first; i < l->n; i++)
		l->m[i].used = list != NULL &&
			       in_list(list, llen, l->m[i].name, strlen(l->m[i].name));
}

static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl : end;
}

void
mtacf_sendmail_cf(const char *buf, size_t len, struct mtacf_list *l)
{
	static const char opt[] = "O InputMailFilters=";
	const char *p = buf, *end = buf + len, *e, *comma, *s, *list = NULL;
	size_t first = l->n, slen, llen = 0;

	for (; p < end; p = e + (e < end)) {
		e = line_end(p, end);
		if ((size_t)(e - p) > sizeof(opt) - 1 && memcmp(p, opt, sizeof(opt) - 1) == 0) {
			list = p + sizeof(opt) - 1;
			llen = (size_t)(e - list);
			if (llen > 0 && list[llen - 1] == '\r')
				llen--;
			continue;
		}
		if (p[0] != 'X' || e - p < 2)
			continue;
		comma = memchr(p, ',', (size_t)(e - p));
		if (comma == NULL || !find_socket(comma + 1, (size_t)(e - comma - 1), &s, &slen))
			continue;
		add(l, MTACF_SENDMAIL, p + 1, (size_t)(comma - p - 1), s, slen);
	}
	mark_used(l, first, list, llen);
}

/* The text of an m4 quoted argument `...' starting at *p; advances. */
static bool
m4_arg(const char **p, const char *end, const char **a_r, size_t *alen_r)
{
	const char *q = *p, *close;

	while (q < end && *q != '`' && *q != ')')
		q++;
	if (q >= end || *q != '`')
		return false;
	close = memchr(q + 1, '\'', (size_t)(end - q - 1));
	if (close == NULL)
		return false;
	*a_r = q + 1;
	*alen_r = (size_t)(close - q - 1);
	*p = close + 1;
	return true;
}

static const char *
find_mem(const char *p, const char *end, const char *what)
{
	size_t n = strlen(what);

	for (; (size_t)(end - p) >= n; p++)
		if (memcmp(p, what, n) == 0)
			return p;
	return NULL;
}

void
mtacf_sendmail_mc(const char *buf, size_t len, struct mtacf_list *l)
{
	static const char *const macros[] = { "INPUT_MAIL_FILTER(", "MAIL_FILTER(" };
	const char *end = buf + len, *p, *e, *name, *eq, *s, *list = NULL, *q;
	size_t first = l->n, i, nlen, eqlen, slen, llen = 0;
	struct mtacf_milter *m;

	for (p = buf; p < end; p = e + (e < end)) {
		e = line_end(p, end);
		q = p;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (e - q >= 3 && memcmp(q, "dnl", 3) == 0)
			continue;
		if ((q = find_mem(p, e, "confINPUT_MAIL_FILTERS'")) != NULL) {
			q += strlen("confINPUT_MAIL_FILTERS'");
			if (m4_arg(&q, e, &list, &llen))
				continue;
		}
		for (i = 0; i < 2; i++) {
			q = find_mem(p, e, macros[i]);
			if (q == NULL || (i == 1 && q > p && q[-1] == '_'))
				continue;
			q += strlen(macros[i]);
			if (!m4_arg(&q, e, &name, &nlen) || !m4_arg(&q, e, &eq, &eqlen) ||
			    !find_socket(eq, eqlen, &s, &slen))
				break;
			m = add(l, MTACF_SENDMAIL, name, nlen, s, slen);
			/* INPUT_MAIL_FILTER adds itself to InputMailFilters */
			if (m != NULL && i == 1)
				m->used = false;
			break;
		}
	}
	if (list != NULL)
		mark_used(l, first, list, llen);
}

/* "localhost" as the address libmilter binds for it. */
static const char *
norm_host(const struct sockspec *s)
{
	if (strcasecmp(s->host, "localhost") == 0)
		return s->type == SOCKSPEC_INET6 ? "::1" : "127.0.0.1";
	return s->host;
}

bool
mtacf_same_socket(const struct sockspec *mg, const struct sockspec *mta,
		  const char *root)
{
	unsigned char a[16], b[16];
	size_t rlen;
	int af;

	if (mg->type != mta->type)
		return false;
	if (mg->type == SOCKSPEC_UNIX) {
		if (strcmp(mg->path, mta->path) == 0)
			return true;
		if (root == NULL || (rlen = strlen(root)) == 0)
			return false;
		while (rlen > 0 && root[rlen - 1] == '/')
			rlen--;
		return strncmp(mg->path, root, rlen) == 0 &&
		       strcmp(mg->path + rlen, mta->path) == 0;
	}
	if (mg->port != mta->port)
		return false;
	if (mg->host[0] == '\0')
		return true;		/* listens on every address */
	af = mg->type == SOCKSPEC_INET6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, norm_host(mg), a) == 1 && inet_pton(af, norm_host(mta), b) == 1)
		return memcmp(a, b, af == AF_INET ? 4 : 16) == 0;
	return strcasecmp(norm_host(mg), norm_host(mta)) == 0;
}

void
mtacf_format(const struct sockspec *s, enum mtacf_mta mta, char *buf, size_t size)
{
	const char *kind = s->type == SOCKSPEC_INET6 ? "inet6" : "inet";
	const char *host = s->host[0] != '\0' ? norm_host(s) : "";
	bool v6 = strchr(host, ':') != NULL;

	if (s->type == SOCKSPEC_UNIX)
		snprintf(buf, size, "unix:%s", s->path);
	else if (mta == MTACF_POSTFIX)
		snprintf(buf, size, "inet:%s%s%s:%u", v6 ? "[" : "",
			 host[0] != '\0' ? host : "127.0.0.1", v6 ? "]" : "", s->port);
	else if (host[0] != '\0')
		snprintf(buf, size, "%s:%u@%s", kind, s->port, host);
	else
		snprintf(buf, size, "%s:%u", kind, s->port);
}
