/*
 * tally.c -- counting by key (see tally.h)
 */
#include "tally.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int
grow(struct tally *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct tally_ent *ent = calloc(cap, sizeof(*ent));

	if (ent == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (t->ent[i].key == NULL)
			continue;
		for (j = t->ent[i].hash & (cap - 1); ent[j].key != NULL; j = (j + 1) & (cap - 1))
			;
		ent[j] = t->ent[i];
	}
	free(t->ent);
	t->ent = ent;
	t->cap = cap;
	return 0;
}

struct tally_ent *
tally_get(struct tally *t, const char *key, size_t len)
{
	uint64_t h = hash_bytes(key, len);
	size_t i;

	if ((t->count + 1) * 2 > t->cap && grow(t) < 0)
		return NULL;
	for (i = h & (t->cap - 1); t->ent[i].key != NULL; i = (i + 1) & (t->cap - 1)) {
		if (t->ent[i].hash == h && t->ent[i].klen == len &&
		    memcmp(t->ent[i].key, key, len) == 0)
			return &t->ent[i];
	}
	t->ent[i].key = malloc(len + 1);
	if (t->ent[i].key == NULL)
		return NULL;
	memcpy(t->ent[i].key, key, len);
	t->ent[i].key[len] = '\0';
	t->ent[i].klen = len;
	t->ent[i].hash = h;
	t->count++;
	return &t->ent[i];
}

int
tally_note(struct tally_ent *e, const char *note, size_t len)
{
	if (e->note != NULL)
		return 0;
	e->note = malloc(len + 1);
	if (e->note == NULL)
		return -1;
	memcpy(e->note, note, len);
	e->note[len] = '\0';
	e->note_len = len;
	return 0;
}

static int sort_col;

static int
cmp_ent(const void *a, const void *b)
{
	const struct tally_ent *x = *(struct tally_ent *const *)a;
	const struct tally_ent *y = *(struct tally_ent *const *)b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c;

	if (sort_col >= 0 && x->n[sort_col] != y->n[sort_col])
		return x->n[sort_col] > y->n[sort_col] ? -1 : 1;
	c = memcmp(x->key, y->key, n);
	if (c != 0)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

struct tally_ent **
tally_sorted(const struct tally *t, int col)
{
	struct tally_ent **v;
	size_t n = 0;

	if (t->count == 0)
		return NULL;
	v = malloc(t->count * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->ent[i].key != NULL)
			v[n++] = &t->ent[i];
	sort_col = col;
	qsort(v, n, sizeof(*v), cmp_ent);
	return v;
}

void
tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free(t->ent[i].key);
		free(t->ent[i].note);
	}
	free(t->ent);
	t->ent = NULL;
	t->cap = t->count = 0;
}
