/*
 * esc.c -- escape attacker bytes (see esc.h)
 */
#include "esc.h"

static const char hexdigits[] = "0123456789abcdef";

bool
esc_is_plain(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '\\';
}

size_t
esc_bytes(const char *in, size_t len, char *out, size_t outsize,
	  size_t *consumed_r)
{
	size_t o = 0, i = 0;

	if (outsize == 0) {
		if (consumed_r != NULL)
			*consumed_r = 0;
		return 0;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = esc_is_plain(c) ? 1 : (c == '\\' ? 2 : 4);

		if (o + need >= outsize)
			break;
		if (esc_is_plain(c)) {
			out[o++] = (char)c;
		} else if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hexdigits[c >> 4];
			out[o++] = hexdigits[c & 0x0f];
		}
	}
	out[o] = '\0';
	if (consumed_r != NULL)
		*consumed_r = i;
	return o;
}

const char *
esc_text(const char *in, size_t len, char *out, size_t outsize)
{
	esc_bytes(in, len, out, outsize, NULL);
	return out;
}
