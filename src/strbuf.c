/* Growing buffers. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/strbuf.h"

void ms_buf_add(struct ms_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 256;

		while (c < b->len + n + 1)
			c *= 2;
		b->data = xrealloc(b->data, c);
		b->cap = c;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ms_buf_adds(struct ms_buf *b, const char *s)
{
	ms_buf_add(b, s, strlen(s));
}

void ms_buf_addch(struct ms_buf *b, char c)
{
	ms_buf_add(b, &c, 1);
}

void ms_buf_addf(struct ms_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap, &n);
	va_end(ap);
	ms_buf_add(b, p, (size_t)n);
	free(p);
}

char *ms_buf_detach(struct ms_buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void ms_buf_release(struct ms_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void ms_strlist_add(struct ms_strlist *l, const char *s)
{
	ms_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void ms_strlist_release(struct ms_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

bool ms_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}
