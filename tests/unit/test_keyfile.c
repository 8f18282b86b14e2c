/*
 * test_keyfile.c -- what makes an audit key file acceptable
 */
#include <check.h>
#include <string.h>

#include "core/keyfile.h"
#include "tu.h"

START_TEST(refuses_modes_that_let_others_read_or_write_or_the_group_write)
{
	static const struct {
		unsigned mode;
		const char *why;
	} cases[] = {
		{ 0600, NULL }, { 0400, NULL }, { 0640, NULL }, { 0440, NULL },
		{ 0700, NULL }, { 0710, NULL },
		{ 0644, "readable by others" }, { 0604, "readable by others" },
		{ 0606, "readable by others" }, { 0602, "writable by others" },
		{ 0660, "writable by its group" }, { 0620, "writable by its group" },
		{ 0100600, NULL }, { 0100666, "readable by others" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = keyfile_mode_problem(cases[i].mode);

		if (cases[i].why == NULL)
			ck_assert_msg(why == NULL, "mode %o refused: %s", cases[i].mode, why);
		else
			ck_assert_msg(why != NULL && strcmp(why, cases[i].why) == 0,
				      "mode %o: %s", cases[i].mode, why ? why : "accepted");
	}
}
END_TEST

START_TEST(strips_trailing_white_space_only)
{
	ck_assert_uint_eq(keyfile_key_len("key \t\r\n\n", 8), 3);
	ck_assert_uint_eq(keyfile_key_len(" key", 4), 4);
	ck_assert_uint_eq(keyfile_key_len("k\0y\n", 4), 3);	/* NUL is key data */
	ck_assert_uint_eq(keyfile_key_len("\n\n", 2), 0);
}
END_TEST

START_TEST(takes_keys_of_16_to_1024_octets)
{
	ck_assert_str_eq(keyfile_length_problem(15), "the key is shorter than 16 octets");
	ck_assert_ptr_null(keyfile_length_problem(16));
	ck_assert_ptr_null(keyfile_length_problem(1024));
	ck_assert_str_eq(keyfile_length_problem(1025), "the key is longer than 1024 octets");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("keyfile");
	TCase *tc = tcase_create("keyfile");

	tcase_add_test(tc, refuses_modes_that_let_others_read_or_write_or_the_group_write);
	tcase_add_test(tc, strips_trailing_white_space_only);
	tcase_add_test(tc, takes_keys_of_16_to_1024_octets);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
