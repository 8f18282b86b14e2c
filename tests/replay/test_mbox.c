/*
 * test_mbox.c -- the mbox reader: message boundaries and From quoting
 *
 * Cases are lines of tests/data/replay/mbox.tsv: name, format (mboxrd or
 * mboxo), the mbox, then the messages it must give, unquoted, in order.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/rp.h"
#include "../unit/tu.h"

START_TEST(splits_and_unquotes_every_case)
{
	struct tu_case *cases;
	size_t n = tu_cases(tu_data_path("replay/mbox.tsv"), &cases);
	unsigned failures = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tu_case *c = &cases[i];
		enum rp_mbox_format f = strcmp(c->col[1].s, "mboxo") == 0 ? RP_MBOXO : RP_MBOXRD;
		const char *box = c->col[2].s, *msg;
		size_t pos = 0, len, got = 0, want = c->ncols - 3;
		char *out = malloc(c->col[2].len + 1);

		ck_assert_ptr_nonnull(out);
		while (rp_mbox_next(box, c->col[2].len, &pos, &msg, &len)) {
			size_t olen = rp_mbox_unquote(msg, len, f, out);

			if (got >= want || olen != c->col[3 + got].len ||
			    memcmp(out, c->col[3 + got].s, olen) != 0) {
				fprintf(stderr, "mbox.tsv:%u: %s: message %zu is \"%.*s\"\n",
					c->line, c->col[0].s, got + 1, (int)olen, out);
				failures++;
			}
			got++;
		}
		if (got != want) {
			fprintf(stderr, "mbox.tsv:%u: %s: %zu messages, expected %zu\n",
				c->line, c->col[0].s, got, want);
			failures++;
		}
		free(out);
	}
	tu_cases_free(cases, n);
	ck_assert_uint_ge(n, 8);
	ck_assert_uint_eq(failures, 0);
}
END_TEST

static Suite *
mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *tc = tcase_create("reader");

	tcase_add_test(tc, splits_and_unquotes_every_case);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(mbox_suite());
}
