/*
 * debver.h -- Debian package versions: the security or point-release
 * update a revision carries ("8.17.1.9-2+deb12u2" -> "deb12u2"), so a
 * backported fix is visible where the upstream version did not change.
 * Pure.
 */
#ifndef MG_CHECK_DEBVER_H
#define MG_CHECK_DEBVER_H

#include <stddef.h>

/* The "debNuM" of a "+debNuM" or "~debNuM" in v[0..len) into out; 1 if
   found, 0 if not ("" in out). */
int debver_update(const char *v, size_t len, char *out, size_t size);

#endif
