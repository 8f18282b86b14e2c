/*
 * keyfile.h -- what makes an audit key file acceptable (AuditKeyFile)
 *
 * A key file holds the key bytes as they are; trailing white space (the
 * newline an editor adds) is not part of the key.  The key is at least
 * CHAIN_KEY_MIN and at most CHAIN_KEY_MAX octets.  A key file that others
 * may read or write, or its group may write, is refused: whoever can read
 * the key can forge the chain.
 *
 * Pure: the shell opens the file, fstat()s it and reads it.
 */
#ifndef MG_KEYFILE_H
#define MG_KEYFILE_H

#include <stddef.h>

/* Permission bits a key file must not have: other read/write, group write. */
#define KEYFILE_MODE_REFUSED 0026

/* Why a key file with these permission bits is refused, or NULL. */
const char *keyfile_mode_problem(unsigned mode);

/* The key's length: len less any trailing white space. */
size_t keyfile_key_len(const char *buf, size_t len);

/* Why a key of that length is refused, or NULL. */
const char *keyfile_length_problem(size_t keylen);

#endif
