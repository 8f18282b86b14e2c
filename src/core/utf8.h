/*
 * utf8.h -- UTF-8 validation shared by the envelope and header checks
 */
#ifndef MG_UTF8_H
#define MG_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..len) (1 for ASCII), or 0 if
   it is invalid: overlong forms, surrogates, code points past U+10FFFF
   and truncated sequences included. */
size_t utf8_seq_len(const unsigned char *s, size_t len);

#endif
