/*
 * mbox.c -- an mbox split into messages (see rp.h)
 *
 * Lines end in LF or CR LF.  A message starts after a "From " line that
 * opens the file or follows a blank line; the blank line before the next
 * "From " line is the separator, not part of the message.  Quoting is
 * undone as the writer did it: mboxrd quotes every ">*From " line with one
 * more ">", mboxo only "From " lines (so ">From " is ambiguous there and
 * read as quoted).
 */
#include "rp.h"

#include <string.h>

static bool
starts_from(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

bool
rp_is_mbox(const char *buf, size_t len)
{
	return starts_from(buf, len);
}

static bool
is_blank(const char *line, size_t n)
{
	return n == 1 || (n == 2 && line[0] == '\r');
}

bool
rp_mbox_next(const char *buf, size_t len, size_t *pos, const char **msg_r, size_t *len_r)
{
	size_t p = *pos, start, end, prev_len = 0;
	bool prev_blank = false;

	if (p >= len)
		return false;
	if (starts_from(buf + p, len - p)) {
		const char *nl = memchr(buf + p, '\n', len - p);

		p = nl ? (size_t)(nl - buf) + 1 : len;
	}
	start = end = p;
	while (p < len) {
		const char *nl = memchr(buf + p, '\n', len - p);
		size_t n = nl ? (size_t)(nl - buf) + 1 - p : len - p;

		if (prev_blank && starts_from(buf + p, len - p))
			break;
		prev_blank = is_blank(buf + p, n);
		prev_len = n;
		p += n;
		end = p;
	}
	if (prev_blank)
		end -= prev_len;	/* the separator (writers end every message with one) */
	*msg_r = buf + start;
	*len_r = end - start;
	*pos = p;
	return true;
}

/* The number of ">" a quoted From line loses: 0 if it is not one. */
static size_t
quote_len(const char *line, size_t n, enum rp_mbox_format f)
{
	size_t q = 0;

	while (q < n && line[q] == '>')
		q++;
	if (q == 0 || !starts_from(line + q, n - q))
		return 0;
	return f == RP_MBOXRD || q == 1 ? 1 : 0;
}

size_t
rp_mbox_unquote(const char *msg, size_t len, enum rp_mbox_format f, char *out)
{
	size_t p = 0, o = 0;

	while (p < len) {
		const char *nl = memchr(msg + p, '\n', len - p);
		size_t n = nl ? (size_t)(nl - msg) + 1 - p : len - p;
		size_t q = quote_len(msg + p, n, f);

		memcpy(out + o, msg + p + q, n - q);
		o += n - q;
		p += n;
	}
	return o;
}
