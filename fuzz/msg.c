/*
 * msg.c -- split a raw message into header fields and body (see msg.h)
 */
#include "msg.h"

#include <string.h>

void
fmsg_init(struct fmsg *m, const char *s, size_t len)
{
	m->s = s;
	m->len = len;
	m->pos = 0;
	m->in_body = false;
}

/* The line at pos: its length without the line ending, and where the
   next one starts. */
static size_t
line_at(const struct fmsg *m, size_t pos, size_t *next_r)
{
	const char *nl = memchr(m->s + pos, '\n', m->len - pos);
	size_t l = nl ? (size_t)(nl - (m->s + pos)) : m->len - pos;

	*next_r = pos + l + (nl ? 1 : 0);
	if (l > 0 && m->s[pos + l - 1] == '\r')
		l--;
	return l;
}

static void
put(char *buf, size_t size, struct fmsg_field *f, const char *s, size_t n)
{
	if (f->value_len < size) {
		size_t room = size - f->value_len;

		memcpy(buf + f->value_len, s, n < room ? n : room);
		f->value_len += n < room ? n : room;
	}
	f->value_total += n;
}

int
fmsg_next(struct fmsg *m, char *buf, size_t size, struct fmsg_field *f)
{
	size_t next, l;
	const char *line, *colon;

	if (m->in_body || m->pos >= m->len) {
		m->in_body = true;
		return 0;
	}
	line = m->s + m->pos;
	l = line_at(m, m->pos, &next);
	if (l == 0) {
		m->pos = next;
		m->in_body = true;
		return 0;
	}
	colon = memchr(line, ':', l);
	f->name = line;
	f->name_len = colon ? (size_t)(colon - line) : l;
	f->value = buf;
	f->value_len = f->value_total = 0;
	if (colon)
		put(buf, size, f, colon + 1, l - f->name_len - 1);
	m->pos = next;
	while (m->pos < m->len && (m->s[m->pos] == ' ' || m->s[m->pos] == '\t')) {
		l = line_at(m, m->pos, &next);
		put(buf, size, f, "\n", 1);
		put(buf, size, f, m->s + m->pos, l);
		m->pos = next;
	}
	return 1;
}

const char *
fmsg_body(const struct fmsg *m, size_t *len_r)
{
	*len_r = m->len - m->pos;
	return m->s + m->pos;
}
