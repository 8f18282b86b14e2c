/*
 * failmalloc.c -- LD_PRELOAD into the daemon: make its large malloc()s fail
 *
 * While the file named by FAILMALLOC_FLAG exists, every malloc() of at
 * least FAILMALLOC_MIN octets returns NULL (ENOMEM); everything else goes
 * to the next malloc() (the C library's, or the sanitizers').  The daemon
 * allocates a message's content state (about 36 KiB) with malloc() at its
 * first header, and nothing else that large while headers arrive, so a
 * test can fail exactly that allocation, at the moment it chooses.
 * Used by test_hostile (an_out_of_memory_header_tempfails_at_end_of_headers).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

void *malloc(size_t n);

void *
malloc(size_t n)
{
	static void *(*next)(size_t);
	static size_t min;
	static const char *flag;

	if (next == NULL)
		next = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	if (flag == NULL) {
		/* read until found: a sanitizer's runtime allocates before the
		   environment can be read */
		const char *m = getenv("FAILMALLOC_MIN");

		flag = getenv("FAILMALLOC_FLAG");
		min = m != NULL ? strtoul(m, NULL, 10) : 0;
	}
	if (flag != NULL && min > 0 && n >= min && access(flag, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return next(n);
}
