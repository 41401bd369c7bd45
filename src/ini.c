/* configparser-compatible INI sections (ini.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mscli/alloc.h"
#include "mscli/ini.h"

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

void ms_ini_parse(const char *text, size_t len, struct ms_ini *out)
{
	const char *p = text, *end = text + len;
	struct ms_buf body = MS_BUF_INIT;
	char *name = NULL;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = trimmed(p, n);

		if (line[0] == '[' && line[strlen(line) - 1] == ']') {
			if (name)
				ms_ini_set(out, name, body.data ? body.data : "");
			free(name);
			name = trimmed(line + 1, strlen(line) - 2);
			ms_buf_release(&body);
		} else if (name && line[0] && line[0] != '#' && line[0] != ';') {
			ms_buf_addf(&body, "%s\n", line);
		}
		free(line);
		p += n + (nl ? 1 : 0);
	}
	if (name)
		ms_ini_set(out, name, body.data ? body.data : "");
	free(name);
	ms_buf_release(&body);
}

struct ms_ini_section *ms_ini_find(const struct ms_ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n; i++)
		if (!strcmp(ini->v[i].name, name))
			return &ini->v[i];
	return NULL;
}

char *ms_ini_value(const struct ms_ini_section *s, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = s ? s->body : NULL; p && *p;) {
		const char *nl = strchr(p, '\n'), *eq;
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *k;

		eq = memchr(p, '=', n);
		if (!eq)
			eq = memchr(p, ':', n);
		if (eq) {
			k = trimmed(p, (size_t)(eq - p));
			if (strlen(k) == kl && !strcasecmp(k, key)) {
				free(k);
				return trimmed(eq + 1, n - (size_t)(eq - p) - 1);
			}
			free(k);
		}
		p += n + (nl ? 1 : 0);
	}
	return NULL;
}

void ms_ini_set(struct ms_ini *ini, const char *name, const char *body)
{
	struct ms_ini_section *s = ms_ini_find(ini, name);

	if (!s) {
		ms_grow((void **)&ini->v, &ini->cap, ini->n + 1, sizeof(*ini->v));
		s = &ini->v[ini->n++];
		s->name = xstrdup(name);
		s->body = NULL;
	}
	free(s->body);
	s->body = xstrdup(body);
}

void ms_ini_remove(struct ms_ini *ini, const char *name)
{
	struct ms_ini_section *s = ms_ini_find(ini, name);

	if (!s)
		return;
	free(s->name);
	free(s->body);
	memmove(s, s + 1, (size_t)(ini->v + ini->n - s - 1) * sizeof(*s));
	ini->n--;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ms_ini_section *)a)->name,
	              ((const struct ms_ini_section *)b)->name);
}

void ms_ini_write(const struct ms_ini *ini, struct ms_buf *out)
{
	struct ms_ini_section *v = xcalloc(ini->n + 1, sizeof(*v));

	memcpy(v, ini->v, ini->n * sizeof(*v));
	qsort(v, ini->n, sizeof(*v), by_name);
	for (size_t i = 0; i < ini->n; i++)
		ms_buf_addf(out, "[%s]\n%s\n", v[i].name, v[i].body);
	free(v);
}

void ms_ini_release(struct ms_ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->v[i].name);
		free(ini->v[i].body);
	}
	free(ini->v);
	memset(ini, 0, sizeof(*ini));
}
