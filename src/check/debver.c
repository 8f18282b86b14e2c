/*
 * debver.c -- Debian package versions (see debver.h)
 */
#include <string.h>

#include "debver.h"

/* digits at v[i..len); returns how many. */
static size_t
digits(const char *v, size_t i, size_t len)
{
	size_t n = 0;

	while (i + n < len && v[i + n] >= '0' && v[i + n] <= '9')
		n++;
	return n;
}

int
debver_update(const char *v, size_t len, char *out, size_t size)
{
	size_t i, a, b, n;

	if (size > 0)
		out[0] = '\0';
	for (i = 0; i + 4 < len; i++) {
		if ((v[i] != '+' && v[i] != '~') || memcmp(v + i + 1, "deb", 3) != 0)
			continue;
		a = digits(v, i + 4, len);
		if (a == 0 || i + 4 + a >= len || v[i + 4 + a] != 'u')
			continue;
		b = digits(v, i + 5 + a, len);
		if (b == 0)
			continue;
		n = 3 + a + 1 + b;
		if (n >= size)
			return 0;
		memcpy(out, v + i + 1, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}
