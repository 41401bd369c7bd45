/* A growing, always NUL-terminated byte buffer, and a list of strings. */
#ifndef MSCLI_STRBUF_H
#define MSCLI_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

struct ms_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};
#define MS_BUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}
void ms_buf_add(struct ms_buf *b, const void *p, size_t n);
void ms_buf_adds(struct ms_buf *b, const char *s);
void ms_buf_addf(struct ms_buf *b, const char *fmt, ...) MS_PRINTF(2, 3);
void ms_buf_addch(struct ms_buf *b, char c);
char *ms_buf_detach(struct ms_buf *b);
void ms_buf_release(struct ms_buf *b);

/* A list of strings it owns (paths written, names). */
struct ms_strlist {
	char **v;
	size_t n, cap;
};

void ms_strlist_add(struct ms_strlist *l, const char *s);
void ms_strlist_release(struct ms_strlist *l);

/* s ends with suffix, and is longer than it (a bare ".incomplete" names nothing). */
bool ms_has_suffix(const char *s, const char *suffix);

#endif
