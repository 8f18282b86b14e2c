/*
 * replay.c -- feed saved inputs to a harness, without libFuzzer
 *
 *	NAME-replay [FILE|DIR]...
 *
 * With no argument, replays every file of $srcdir/fuzz/corpus/NAME and
 * $srcdir/fuzz/regress/NAME (NAME is compiled in as FUZZ_NAME), as
 * `make check` runs it.  A missing or empty corpus directory is a failure,
 * never a silent pass.  A broken promise aborts in the harness; a crash is
 * a crash.  Prints how many inputs it replayed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the harness"
#endif

static unsigned long replayed;

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "%s-replay: %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fprintf(stderr, "%s-replay: out of memory\n", FUZZ_NAME);
				exit(99);
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "%s-replay: %s: read error\n", FUZZ_NAME, path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees a read past the input. */
	{
		unsigned char *exact = malloc(len ? len : 1);

		if (exact == NULL)
			exit(99);
		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	replayed++;
	return 0;
}

static int
replay_path(const char *path, int must_exist)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int r = 0;
	unsigned long before = replayed;

	if (stat(path, &st) < 0) {
		if (!must_exist)
			return 0;
		fprintf(stderr, "%s-replay: %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "%s-replay: %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (replay_file(sub) < 0)
			r = -1;
	}
	closedir(d);
	if (must_exist && replayed == before) {
		fprintf(stderr, "%s-replay: %s: no inputs\n", FUZZ_NAME, path);
		return -1;
	}
	return r;
}

int
main(int argc, char **argv)
{
	int r = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay_path(argv[i], 1) < 0)
				r = -1;
	} else {
		const char *srcdir = getenv("srcdir");
		char dir[4096];

		if (srcdir == NULL) {
			fprintf(stderr, "%s-replay: srcdir is not set\n", FUZZ_NAME);
			return 99;
		}
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", srcdir, FUZZ_NAME);
		if (replay_path(dir, 1) < 0)
			r = -1;
		snprintf(dir, sizeof(dir), "%s/fuzz/regress/%s", srcdir, FUZZ_NAME);
		if (replay_path(dir, 0) < 0)
			r = -1;
	}
	printf("%s-replay: %lu inputs replayed\n", FUZZ_NAME, replayed);
	return r < 0 ? 1 : 0;
}
