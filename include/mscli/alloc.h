/* Allocation that cannot fail: a CLI out of memory aborts with a message. */
#ifndef MSCLI_ALLOC_H
#define MSCLI_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "common.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) MS_PRINTF(1, 2);
/* *len (when not NULL) gets the length of the result. */
char *xvasprintf(const char *fmt, va_list ap, int *len) MS_PRINTF(1, 0);
/* Grow *p (with *cap elements of size) to hold at least need elements. */
void ms_grow(void **p, size_t *cap, size_t need, size_t size);

#endif
