/*
 * test_config.c -- milter-guard.conf: every bad file refused with its
 * file:line message (tests/data/config/bad, the message in the first line),
 * every value of a good file read back, and the shipped file complete.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "tu.h"

#define EXPECT "# expect: "

START_TEST(refuses_every_bad_config_with_file_and_line)
{
	const char *dir = tu_data_path("config/bad");
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned checked = 0, failures = 0;

	ck_assert_msg(d != NULL, "fixture directory %s is missing", dir);
	while ((e = readdir(d)) != NULL) {
		char path[4096], msg[1024], expect[1024];
		struct cfg_error err;
		struct cfg *cfg;
		size_t len;
		char *buf, *nl;

		if (strstr(e->d_name, ".conf") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf = tu_read(path, &len);
		ck_assert_msg(strncmp(buf, EXPECT, strlen(EXPECT)) == 0,
			      "%s: first line must be \"" EXPECT "...\"", e->d_name);
		nl = strchr(buf, '\n');
		ck_assert_ptr_nonnull(nl);
		snprintf(expect, sizeof(expect), "%.*s", (int)(nl - buf - strlen(EXPECT)),
			 buf + strlen(EXPECT));
		if (cfg_load(buf, len, e->d_name, NULL, &cfg, &err) == 0) {
			fprintf(stderr, "%s: loaded, expected: %s\n", e->d_name, expect);
			cfg_free(&cfg);
			failures++;
		} else {
			ck_assert_ptr_null(cfg);
			cfg_error_format(&err, msg, sizeof(msg));
			if (strcmp(msg, expect) != 0) {
				fprintf(stderr, "%s:\n  expected: %s\n  got:      %s\n",
					e->d_name, expect, msg);
				failures++;
			}
		}
		free(buf);
		checked++;
	}
	closedir(d);
	ck_assert_uint_ge(checked, 20);
	ck_assert_uint_eq(failures, 0);
}
END_TEST

START_TEST(reads_every_key_of_a_good_config)
{
	struct cfg *cfg = tu_load_config(tu_data_path("config/good/everything.conf"));

	ck_assert_str_eq(cfg->socket, "inet6:8891@[::1]");
	ck_assert_int_eq(cfg->sock.type, SOCKSPEC_INET6);
	ck_assert_uint_eq(cfg->sock.port, 8891);
	ck_assert_str_eq(cfg->sock.host, "::1");
	ck_assert_uint_eq(cfg->umask, 02);
	ck_assert_str_eq(cfg->user, "milter-guard:postfix");
	ck_assert_str_eq(cfg->pidfile, "/run/milter-guard/milter-guard.pid");
	ck_assert_int_eq(cfg->policy.mode, MODE_MONITOR);
	ck_assert_str_eq(cfg->audit_log, "/var/log/milter guard/audit.json");
	ck_assert_uint_eq(cfg->sample_length, 120);
	ck_assert_int_eq(cfg->policy.on_internal_error, ACTION_ACCEPT);
	ck_assert_int_eq(cfg->on_audit_failure, ACTION_TEMPFAIL);
	ck_assert(!cfg->allow_remote_socket);
	ck_assert_str_eq(cfg->syslog_facility, "local3");
	ck_assert_str_eq(cfg->policy.reject_text, "refused by policy #%r, 100%% sure");
	ck_assert_str_eq(cfg->policy.tempfail_text, "try later");
	ck_assert_int_eq(cfg->policy.rule[RULE_MAIL_LOCAL_PART_LENGTH].action, ACTION_REJECT);
	ck_assert(cfg->policy.rule[RULE_MAIL_LOCAL_PART_LENGTH].monitor);
	ck_assert_uint_eq(cfg->policy.limits.limit[RULE_MAIL_LOCAL_PART_LENGTH], 70);
	ck_assert_uint_eq(cfg->policy.limits.limit[RULE_RCPT_LOCAL_PART_LENGTH], 64);
	ck_assert_int_eq(cfg->policy.rule[RULE_HELO_8BIT].action, ACTION_ACCEPT);
	ck_assert_uint_eq(cfg->max_connections, 64);
	ck_assert_uint_eq(cfg->idle_timeout, 900);
	ck_assert(cfg->run_as_root);
	cfg_free(&cfg);
	ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(an_empty_file_gives_the_documented_defaults)
{
	struct cfg *cfg;

	ck_assert_int_eq(cfg_defaults(&cfg), 0);
	ck_assert_str_eq(cfg->socket, "unix:/run/milter-guard/milter-guard.sock");
	ck_assert_uint_eq(cfg->umask, 07);
	ck_assert_str_eq(cfg->audit_log, "");
	ck_assert_int_eq(cfg->policy.mode, MODE_ENFORCE);
	ck_assert_int_eq(cfg->policy.on_internal_error, ACTION_TEMPFAIL);
	ck_assert_int_eq(cfg->on_audit_failure, ACTION_TEMPFAIL);
	ck_assert_uint_eq(cfg->sample_length, 80);
	ck_assert(!cfg->audit_syslog && !cfg->audit_stdout && !cfg->audit_all);
	ck_assert_str_eq(cfg->audit_syslog_facility, "mail");
	ck_assert_str_eq(cfg->audit_key_file, "");
	ck_assert_uint_eq(cfg->max_connections, 500);
	ck_assert_uint_eq(cfg->idle_timeout, 600);
	ck_assert(!cfg->run_as_root);
	for (size_t i = 0; i < RULE_COUNT; i++) {
		ck_assert_int_eq(cfg->policy.rule[i].action, rule_table[i].action);
		ck_assert_uint_eq(cfg->policy.limits.limit[i], rule_table[i].limit);
	}
	cfg_free(&cfg);
}
END_TEST

START_TEST(a_command_line_socket_is_validated_like_the_file)
{
	struct cfg *cfg;
	struct cfg_error err = { 0 };

	ck_assert_int_eq(cfg_defaults(&cfg), 0);
	ck_assert_int_eq(cfg_set_socket(cfg, "inet:8891@127.0.0.1", &err), 0);
	ck_assert_int_eq(cfg_set_socket(cfg, "inet:8891@0.0.0.0", &err), -1);
	ck_assert_int_eq(cfg_set_socket(cfg, "inet6:8891@[2001:db8::1]", &err), -1);
	ck_assert_int_eq(cfg_set_socket(cfg, "local:/tmp/x.sock", &err), 0);
	ck_assert_int_eq(cfg_set_socket(cfg, "smtp:25", &err), -1);
	ck_assert_str_eq(err.msg, "socket \"smtp:25\": unknown socket type; expected "
			 "unix:, local:, inet: or inet6:");
	cfg_free(&cfg);
}
END_TEST

/* A reader that gives every file the text arg points to. */
static int
read_text(void *arg, const char *path, char **buf_r, size_t *len_r, char *err,
	  size_t errsize)
{
	(void)path;
	(void)err;
	(void)errsize;
	*buf_r = strdup(arg);
	ck_assert_ptr_nonnull(*buf_r);
	*len_r = strlen(arg);
	return 0;
}

/* The file part of "file:line: message": the config's name comes from
   the command line, the name of a TrustedNetworks file from the config. */
START_TEST(escapes_an_esc_byte_in_the_config_file_name)
{
	static const char bad_mode[] = "Mode x\n";
	struct cfg_error err;
	struct cfg *cfg;
	char msg[1024];

	ck_assert_int_eq(cfg_load(bad_mode, strlen(bad_mode), "mg\x1b[2J.conf", NULL,
				  &cfg, &err), -1);
	cfg_error_format(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, "mg\\x1b[2J.conf:1: Mode: \"x\" is not enforce or monitor");
}
END_TEST

START_TEST(escapes_an_esc_byte_in_a_trusted_networks_file_name)
{
	static const char nets[] = "TrustedNetworks /etc/mg/tr\x1b[2Justed\n";
	struct cfg_reader reader = { read_text, (void *)"192.0.2.0/24\nnot-a-net\n" };
	struct cfg_error err;
	struct cfg *cfg;
	char msg[1024];

	ck_assert_int_eq(cfg_load(nets, strlen(nets), "mg.conf", &reader, &cfg, &err), -1);
	cfg_error_format(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, "/etc/mg/tr\\x1b[2Justed:2: TrustedNetworks: \"not-a-net\" "
			 "is not an address or network (a.b.c.d/n or x:y::z/n)");
}
END_TEST

START_TEST(a_command_line_socket_must_be_printable)
{
	struct cfg *cfg;
	struct cfg_error err = { 0 };

	ck_assert_int_eq(cfg_defaults(&cfg), 0);
	ck_assert_int_eq(cfg_set_socket(cfg, "unix:/run/\x1b[2J.sock", &err), -1);
	ck_assert_str_eq(err.msg, "Socket: value must be printable US-ASCII");
	ck_assert_int_eq(cfg_set_socket(cfg, "unix:run/\x1b[2J.sock", &err), -1);
	ck_assert_str_eq(err.msg, "socket \"unix:run/\\x1b[2J.sock\": the path of a "
			 "unix socket must be absolute");
	cfg_free(&cfg);
}
END_TEST

/* -u and -P: the checks of UserID and PidFile, with the same messages. */
START_TEST(a_command_line_user_or_pidfile_is_checked_like_the_file)
{
	struct cfg *cfg;
	struct cfg_error err = { 0 };

	ck_assert_int_eq(cfg_defaults(&cfg), 0);
	ck_assert_int_eq(cfg_set_key(cfg, "PidFile", "/run/mg.pid", &err), 0);
	ck_assert_str_eq(cfg->pidfile, "/run/mg.pid");
	ck_assert_int_eq(cfg_set_key(cfg, "UserID", "mg:postfix", &err), 0);
	ck_assert_str_eq(cfg->user, "mg:postfix");
	ck_assert_int_eq(cfg_set_key(cfg, "PidFile", "/run/\x1b[2J.pid", &err), -1);
	ck_assert_str_eq(err.msg, "PidFile: value must be printable US-ASCII");
	ck_assert_int_eq(cfg_set_key(cfg, "PidFile", "run/mg.pid", &err), -1);
	ck_assert_str_eq(err.msg, "PidFile: \"run/mg.pid\" is not an absolute path");
	ck_assert_int_eq(cfg_set_key(cfg, "UserID", "mg\r", &err), -1);
	ck_assert_str_eq(err.msg, "UserID: value must be printable US-ASCII");
	ck_assert_uint_eq(err.line, 0);
	ck_assert_str_eq(cfg->pidfile, "/run/mg.pid");
	cfg_free(&cfg);
}
END_TEST

/* The shipped file mirrors the key table and the rule catalogue. */
START_TEST(the_shipped_config_loads_and_names_every_key_and_rule)
{
	char path[4096], needle[256];
	struct cfg *cfg;
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/conf/milter-guard.conf", getenv("srcdir"));
	cfg = tu_load_config(path);
	cfg_free(&cfg);
	text = tu_read(path, &len);
	for (size_t i = 0; cfg_key_name(i) != NULL; i++) {
		if (strcmp(cfg_key_name(i), "Rule") == 0)
			continue;
		snprintf(needle, sizeof(needle), "\n%s ", cfg_key_name(i));
		if (strstr(text, needle) == NULL) {
			snprintf(needle, sizeof(needle), "\n#%s ", cfg_key_name(i));
			ck_assert_msg(strstr(text, needle) != NULL,
				      "conf/milter-guard.conf does not mention %s", cfg_key_name(i));
		}
	}
	for (size_t i = 0; i < RULE_COUNT; i++) {
		snprintf(needle, sizeof(needle), "Rule %s ", rule_table[i].name);
		ck_assert_msg(strstr(text, needle) != NULL,
			      "conf/milter-guard.conf does not list rule %s", rule_table[i].name);
	}
	free(text);
}
END_TEST

/* milter-guard.conf(5) documents every key and every rule, once. */
START_TEST(the_man_page_documents_every_key_and_rule_once)
{
	char path[4096], needle[256];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/docs/milter-guard.conf.5", getenv("srcdir"));
	text = tu_read(path, &len);
	for (size_t i = 0; cfg_key_name(i) != NULL; i++) {
		const char *first;

		snprintf(needle, sizeof(needle), "\n.It Cm %s ", cfg_key_name(i));
		first = strstr(text, needle);
		ck_assert_msg(first != NULL, "milter-guard.conf.5 does not document %s",
			      cfg_key_name(i));
		ck_assert_msg(strstr(first + 1, needle) == NULL,
			      "milter-guard.conf.5 documents %s twice", cfg_key_name(i));
	}
	for (size_t i = 0; i < RULE_COUNT; i++) {
		snprintf(needle, sizeof(needle), "\n.It Cm %s\n", rule_table[i].name);
		ck_assert_msg(strstr(text, needle) != NULL,
			      "milter-guard.conf.5 does not document rule %s", rule_table[i].name);
	}
	free(text);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, refuses_every_bad_config_with_file_and_line);
	tcase_add_test(tc, reads_every_key_of_a_good_config);
	tcase_add_test(tc, an_empty_file_gives_the_documented_defaults);
	tcase_add_test(tc, a_command_line_socket_is_validated_like_the_file);
	tcase_add_test(tc, escapes_an_esc_byte_in_the_config_file_name);
	tcase_add_test(tc, escapes_an_esc_byte_in_a_trusted_networks_file_name);
	tcase_add_test(tc, a_command_line_socket_must_be_printable);
	tcase_add_test(tc, a_command_line_user_or_pidfile_is_checked_like_the_file);
	tcase_add_test(tc, the_shipped_config_loads_and_names_every_key_and_rule);
	tcase_add_test(tc, the_man_page_documents_every_key_and_rule_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(config_suite());
}
