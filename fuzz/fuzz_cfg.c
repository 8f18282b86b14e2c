/*
 * fuzz_cfg.c -- the config loader: cfg_load() over any bytes, with the
 * files it names (TrustedNetworks /path) served from the input, then
 * cfg_validate(), cfg_set_socket() and cfg_error_format()
 *
 * Input: the config file; if it holds a line "--8<--", what follows that
 * line is the content of every file the config names (a path holding
 * "missing" fails to read instead).  Checks: a load either returns a
 * config or an error with its message, never both nor neither; the
 * error is a NUL-terminated message; no leak (ASan's leak checker runs
 * at the end of the fuzzer and of the replay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/cfg.h"

#define H "cfg"
#define CUT "\n--8<--\n"

struct files {
	const char *s;
	size_t len;
};

static int
read_file(void *arg, const char *path, char **buf_r, size_t *len_r,
	  char *err, size_t errsize)
{
	const struct files *f = arg;

	if (strstr(path, "missing") != NULL) {
		snprintf(err, errsize, "%s: no such file", path);
		return -1;
	}
	*buf_r = malloc(f->len + 1);
	if (*buf_r == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	memcpy(*buf_r, f->s, f->len);
	(*buf_r)[f->len] = '\0';
	*len_r = f->len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct files files = { "", 0 };
	struct cfg_reader reader = { read_file, &files };
	struct cfg_error err;
	struct cfg *cfg = NULL;
	char msg[1024];
	size_t len = size;
	int r;

	for (size_t i = 0; i + sizeof(CUT) - 1 <= size; i++) {
		if (memcmp(s + i, CUT, sizeof(CUT) - 1) == 0) {
			len = i;
			files.s = s + i + sizeof(CUT) - 1;
			files.len = size - len - (sizeof(CUT) - 1);
			break;
		}
	}
	r = cfg_load(s, len, "fuzz.conf", &reader, &cfg, &err);
	if ((r == 0) != (cfg != NULL) || (r != 0 && r != -1))
		fuzz_fail(H, "a load returned a config and an error, or neither");
	if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL ||
	    memchr(err.file, '\0', sizeof(err.file)) == NULL)
		fuzz_fail(H, "error message not terminated");
	if (r < 0 && err.msg[0] == '\0')
		fuzz_fail(H, "a failed load without a message");
	cfg_error_format(&err, msg, sizeof(msg));
	if (cfg != NULL) {
		if (cfg_validate(cfg, &err) < 0)
			fuzz_fail(H, "a loaded config does not validate");
		if (cfg_set_socket(cfg, "unix:/run/milter-guard/fuzz.sock", &err) < 0)
			fuzz_fail(H, "a unix socket refused after a load");
		cfg_free(&cfg);
		if (cfg != NULL)
			fuzz_fail(H, "cfg_free left the pointer set");
	}
	return 0;
}
