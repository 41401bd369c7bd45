/* A hash index (FNV-1a, open addressing) for listings and .msc: lookups in linear time
 * overall.  glibc's hsearch_r cannot grow, and Debian has no small well-kept C hash table
 * this project already depends on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/index.h"

size_t ms_str_hash(const char *s)
{
	size_t h = 1469598103934665603u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The slot holding key k, or the empty slot where it would go. */
static size_t *index_slot(const struct ms_index *x, const void *base, ms_index_key_fn key,
                          const char *k)
{
	size_t m = x->cap - 1;

	for (size_t i = ms_str_hash(k) & m;; i = (i + 1) & m)
		if (!x->slots[i] || !strcmp(key(base, x->slots[i] - 1), k))
			return &x->slots[i];
}

size_t ms_index_find(struct ms_index *x, const void *base, size_t n, ms_index_key_fn key,
                     const char *k)
{
	size_t *slot;

	if (n < x->indexed || 2 * n >= x->cap) {
		/* the array was reset, or the table is half full: rebuild */
		size_t cap = 64;

		while (cap <= 2 * n)
			cap *= 2;
		free(x->slots);
		x->slots = xcalloc(cap, sizeof(*x->slots));
		x->cap = cap;
		x->indexed = 0;
	}
	for (; x->indexed < n; x->indexed++) {
		slot = index_slot(x, base, key, key(base, x->indexed));
		if (!*slot)
			*slot = x->indexed + 1;
	}
	slot = index_slot(x, base, key, k);
	return *slot ? *slot - 1 : SIZE_MAX;
}

static const char *string_key(const void *base, size_t i)
{
	return ((char *const *)base)[i];
}

void ms_index_release(struct ms_index *x)
{
	free(x->slots);
	memset(x, 0, sizeof(*x));
}

bool ms_strset_has(struct ms_strset *s, const char *k)
{
	return ms_index_find(&s->ix, s->v, s->n, string_key, k) != SIZE_MAX;
}

bool ms_strset_add(struct ms_strset *s, char *k)
{
	if (ms_strset_has(s, k)) {
		free(k);
		return false;
	}
	ms_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = k;
	return true;
}

void ms_strset_clear(struct ms_strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
	ms_index_release(&s->ix);
}

void ms_strset_release(struct ms_strset *s)
{
	ms_strset_clear(s);
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}
