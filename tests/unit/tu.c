/*
 * tu.c -- test utilities (see tu.h)
 */
#include "tu.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/esc.h"

const char *
tu_data_path(const char *rel)
{
	static char path[4096];
	const char *srcdir = getenv("srcdir");

	ck_assert_msg(srcdir != NULL, "srcdir is not set (run through make check)");
	snprintf(path, sizeof(path), "%s/tests/data/%s", srcdir, rel);
	return path;
}

char *
tu_read(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	ck_assert_msg(f != NULL, "fixture %s is missing", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	*len_r = (size_t)len;
	return buf;
}

static void
unescape(const char *s, size_t len, struct tu_col *col)
{
	size_t o = 0;

	col->s = malloc(len + 1);
	ck_assert_ptr_nonnull(col->s);
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\' || i + 1 >= len) {
			col->s[o++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 't': col->s[o++] = '\t'; break;
		case 'r': col->s[o++] = '\r'; break;
		case 'n': col->s[o++] = '\n'; break;
		case 'x':
		{
			int hi, lo;

			ck_assert_msg(i + 2 < len, "bad \\x escape");
			hi = esc_hexval((unsigned char)s[i + 1]);
			lo = esc_hexval((unsigned char)s[i + 2]);
			ck_assert_msg(hi >= 0 && lo >= 0, "bad \\x escape");
			col->s[o++] = (char)(hi * 16 + lo);
			i += 2;
			break;
		}
		default: col->s[o++] = s[i]; break;
		}
	}
	col->s[o] = '\0';
	col->len = o;
}

size_t
tu_cases(const char *path, struct tu_case **cases_r)
{
	size_t len, n = 0, cap = 16, pos = 0;
	char *buf = tu_read(path, &len);
	struct tu_case *cases = calloc(cap, sizeof(*cases));
	unsigned line = 0;

	ck_assert_ptr_nonnull(cases);
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char *p = buf + pos;
		struct tu_case *c;

		line++;
		pos += l + 1;
		if (l == 0 || p[0] == '#')
			continue;
		if (n == cap) {
			cap *= 2;
			cases = realloc(cases, cap * sizeof(*cases));
			ck_assert_ptr_nonnull(cases);
		}
		c = &cases[n++];
		memset(c, 0, sizeof(*c));
		c->line = line;
		for (size_t start = 0, i = 0; i <= l; i++) {
			if (i == l || p[i] == '\t') {
				ck_assert_msg(c->ncols < TU_COLS_MAX, "%s:%u: too many columns",
					      path, line);
				unescape(p + start, i - start, &c->col[c->ncols++]);
				start = i + 1;
			}
		}
	}
	free(buf);
	ck_assert_msg(n > 0, "%s: no cases", path);
	*cases_r = cases;
	return n;
}

void
tu_cases_free(struct tu_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < cases[i].ncols; j++)
			free(cases[i].col[j].s);
	free(cases);
}

struct cfg *
tu_load_config(const char *path)
{
	struct cfg_error err;
	struct cfg *cfg;
	size_t len;
	char *buf = tu_read(path, &len);
	char msg[1024];

	if (cfg_load(buf, len, path, NULL, &cfg, &err) < 0) {
		cfg_error_format(&err, msg, sizeof(msg));
		ck_abort_msg("%s", msg);
	}
	free(buf);
	return cfg;
}

int
tu_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
