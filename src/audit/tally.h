/*
 * tally.h -- counting by key: a hash table of strings with a few counters
 *
 * Keys are copied; they are log strings as they stand in the file (still
 * JSON-escaped).
 */
#ifndef MG_TALLY_H
#define MG_TALLY_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_COLS 8

struct tally_ent {
	char *key;
	size_t klen;
	uint64_t hash;
	unsigned long long n[TALLY_COLS];
	char *note;		/* a label kept with the key (first seen) */
	size_t note_len;
};

struct tally {
	struct tally_ent *ent;	/* open addressing; key NULL: free */
	size_t cap;
	size_t count;
};

/* The entry for key, created with zero counts; NULL if memory runs out. */
struct tally_ent *tally_get(struct tally *t, const char *key, size_t len);

/* Keep a copy of note with the entry if it has none; -1 on no memory. */
int tally_note(struct tally_ent *e, const char *note, size_t len);

/* The entries, sorted by n[col] descending and then by key (col < 0: by
   key only); a malloc'd array of t->count pointers, NULL if none or no
   memory. */
struct tally_ent **tally_sorted(const struct tally *t, int col);

void tally_free(struct tally *t);

#endif
