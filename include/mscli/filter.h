/* --include / --exclude: shell globs matched like the official clients. */
#ifndef MSCLI_FILTER_H
#define MSCLI_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct ms_filter {
	char **include;
	size_t ninclude, include_cap;
	char **exclude;
	size_t nexclude, exclude_cap;
};

/*
 * Add one command-line value: comma-separated patterns are split, and a
 * pattern ending in '/' gets '*' appended (a directory means its contents).
 */
void ms_filter_add(struct ms_filter *f, bool include, const char *arg);
/* fnmatch(3) without FNM_PATHNAME, like Python's fnmatch: '*' crosses '/'. */
bool ms_glob_match(const char *pattern, const char *path);
/* True when path passes: matches an include (or there are none) and no exclude. */
bool ms_filter_match(const struct ms_filter *f, const char *path);
bool ms_filter_empty(const struct ms_filter *f);
void ms_filter_release(struct ms_filter *f);

#endif
