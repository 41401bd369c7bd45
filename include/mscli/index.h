/*
 * A hash index over the string keys of an array that only grows (a listing,
 * a .msc): lookups catch up with the items appended since the last one.
 * key(base, i) is the key of item i; the first of equal keys wins.
 */
#ifndef MSCLI_INDEX_H
#define MSCLI_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct ms_index {
	size_t *slots; /* item index + 1; 0 is empty */
	size_t cap, indexed;
};
typedef const char *(*ms_index_key_fn)(const void *base, size_t i);
/* The index of the item whose key is k among base[0..n), or SIZE_MAX. */
size_t ms_index_find(struct ms_index *x, const void *base, size_t n, ms_index_key_fn key,
                     const char *k);
void ms_index_release(struct ms_index *x);
/* A set of strings it owns, on the index. */
struct ms_strset {
	char **v;
	size_t n, cap;
	struct ms_index ix;
};
bool ms_strset_has(struct ms_strset *s, const char *k);
/* Add k, which the set then owns; false when it held k already (k is freed). */
bool ms_strset_add(struct ms_strset *s, char *k);
/* Empty the set; release also frees its array. */
void ms_strset_clear(struct ms_strset *s);
void ms_strset_release(struct ms_strset *s);
/* FNV-1a of a string, the index's hash. */
size_t ms_str_hash(const char *s);

#endif
