/*
 * banner.c -- what an SMTP greeting tells about the software behind it
 */
#include <string.h>
#include <strings.h>

#include "banner.h"

/* Names that identify mail software, as they appear in greetings. */
static const char *const software[] = {
	"Postfix", "Sendmail", "Exim", "OpenSMTPD", "qmail", "Haraka",
	"Microsoft", "Exchange", "Courier", "Zimbra", "MDaemon", "hMailServer",
	"Debian", "Ubuntu", "Kerio", "IceWarp", "CommuniGate", "Lotus", "Domino",
};

static int
is_delim(char c)
{
	return c == ' ' || c == '\t' || strchr("/();,[]", c) != NULL;
}

/* digits '.' digits, then digits, dots, letters and '-' (3.7.11, 8.17.1.9,
   4.96-58+deb12u1). */
static int
is_version(const char *w, size_t n)
{
	size_t i = 0, digits = 0;

	while (i < n && w[i] >= '0' && w[i] <= '9')
		i++;
	if (i == 0 || i >= n || w[i] != '.')
		return 0;
	for (i++; i < n && w[i] >= '0' && w[i] <= '9'; i++)
		digits++;
	return digits > 0;
}

static void
keep(char *dst, const char *w, size_t n)
{
	if (dst[0] != '\0')
		return;
	if (n >= BANNER_WORD_MAX)
		n = BANNER_WORD_MAX - 1;
	memcpy(dst, w, n);
	dst[n] = '\0';
}

int
banner_examine(const char *line, size_t len, struct banner_info *info_r)
{
	size_t i = 0, start, n, k, words = 0;

	memset(info_r, 0, sizeof(*info_r));
	while (i < len) {
		while (i < len && is_delim(line[i]))
			i++;
		start = i;
		/* the code ends at '-' too (220-host ...) */
		while (i < len && !is_delim(line[i]) && !(words == 0 && line[i] == '-'))
			i++;
		n = i - start;
		if (n == 0) {
			i++;
			continue;
		}
		if (words++ == 0 && i < len && line[i] == '-')
			i++;		/* 220-host: a continued greeting */
		if (words <= 2)
			continue;	/* reply code, host name */
		for (k = 0; k < sizeof(software) / sizeof(software[0]); k++)
			if (strlen(software[k]) == n &&
			    strncasecmp(software[k], line + start, n) == 0)
				keep(info_r->software, line + start, n);
		if (is_version(line + start, n))
			keep(info_r->version, line + start, n);
	}
	return info_r->software[0] != '\0' || info_r->version[0] != '\0';
}
