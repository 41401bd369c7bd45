/*
 * Include/exclude patterns.  The official clients use Python's
 * fnmatch.fnmatch: case-sensitive on POSIX, '*' matches '/', no escapes.
 * modelscope_hub also accepts regex-style ".*" (tried again as "*"), and
 * both clients append '*' to a pattern ending in '/'.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/filter.h"

static void add_one(char ***v, size_t *n, size_t *cap, const char *pat, size_t len)
{
	char *p;

	while (len && (*pat == ' ' || *pat == '\t')) {
		pat++;
		len--;
	}
	while (len && (pat[len - 1] == ' ' || pat[len - 1] == '\t'))
		len--;
	if (!len)
		return;
	if (pat[len - 1] == '/')
		p = xasprintf("%.*s*", (int)len, pat);
	else
		p = xstrndup(pat, len);
	ms_grow((void **)v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = p;
}

void ms_filter_add(struct ms_filter *f, bool include, const char *arg)
{
	const char *s = arg;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (include)
			add_one(&f->include, &f->ninclude, &f->include_cap, s, len);
		else
			add_one(&f->exclude, &f->nexclude, &f->exclude_cap, s, len);
		if (!comma)
			break;
		s = comma + 1;
	}
}

bool ms_glob_match(const char *pattern, const char *path)
{
	char *alt, *p;
	bool hit;

	if (fnmatch(pattern, path, FNM_NOESCAPE) == 0)
		return true;
	if (!strstr(pattern, ".*"))
		return false;
	/* ".*\.bin" style regexes written by modelscope users: ".*" -> "*" */
	alt = xstrdup(pattern);
	while ((p = strstr(alt, ".*")) != NULL)
		memmove(p, p + 1, strlen(p + 1) + 1);
	hit = fnmatch(alt, path, FNM_NOESCAPE) == 0;
	free(alt);
	return hit;
}

static bool any_match(char *const *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (ms_glob_match(v[i], path))
			return true;
	return false;
}

bool ms_filter_match(const struct ms_filter *f, const char *path)
{
	if (f->ninclude && !any_match(f->include, f->ninclude, path))
		return false;
	return !any_match(f->exclude, f->nexclude, path);
}

bool ms_filter_empty(const struct ms_filter *f)
{
	return !f->ninclude && !f->nexclude;
}

void ms_filter_release(struct ms_filter *f)
{
	for (size_t i = 0; i < f->ninclude; i++)
		free(f->include[i]);
	for (size_t i = 0; i < f->nexclude; i++)
		free(f->exclude[i]);
	free(f->include);
	free(f->exclude);
	memset(f, 0, sizeof(*f));
}
