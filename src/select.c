/* File selection and the checks before anything is written (select.h). */
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/pathsafe.h"
#include "mscli/select.h"
#include "mscli/strbuf.h"

#define MAX_NAMED 5 /* missing FILEs named in one message */

static void pick(struct ms_selection *s, bool *picked, const struct ms_listing *l,
                 struct ms_file *f)
{
	size_t i = (size_t)(f - l->files);

	if (!picked[i]) { /* a FILE given twice counts once */
		picked[i] = true;
		s->files[s->n++] = f;
	}
}

static int missing_error(const struct ms_listing *l, const struct ms_selection *s,
                         const struct ms_repo *repo, const char *rev, struct ms_error *err)
{
	struct ms_buf names = MS_BUF_INIT;
	int ret;

	for (size_t i = 0; i < s->nmissing && i < MAX_NAMED; i++)
		ms_buf_addf(&names, "%s'%s'%s", i ? ", " : "", s->missing[i],
		            ms_listing_has_folder(l, s->missing[i]) ? " (a folder: add a '/')"
		                                                    : "");
	ret = ms_error_set(err, MS_ENOTFOUND, "%s %s at '%s' has no file %s%s",
	                   ms_repo_type_name(repo->type), repo->id, rev, names.data,
	                   s->nmissing > MAX_NAMED ? " and more" : "");
	ms_buf_release(&names);
	return ret;
}

int ms_select(const struct ms_listing *l, char *const *files, size_t nfiles,
              const struct ms_filter *filter, const struct ms_repo *repo, const char *rev,
              struct ms_selection *out, struct ms_error *err)
{
	struct ms_filter folders = {0};
	size_t nexplicit = 0;
	bool *picked = xcalloc(l->n + 1, sizeof(*picked));
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->files = xcalloc(l->n + 1, sizeof(*out->files));
	out->missing = xcalloc(nfiles + 1, sizeof(*out->missing));
	for (size_t i = 0; i < nfiles; i++) {
		size_t len = strlen(files[i]);
		struct ms_file *f;

		if (len && files[i][len - 1] == '/') {
			ms_filter_add(&folders, true, files[i]);
			continue;
		}
		nexplicit++;
		if ((f = ms_listing_find(l, files[i])) != NULL)
			pick(out, picked, l, f);
		else
			out->missing[out->nmissing++] = files[i];
	}
	if (out->nmissing) {
		ret = missing_error(l, out, repo, rev, err);
		goto out;
	}
	/* linear: one pass over the listing whatever the number of FILEs */
	for (size_t i = 0; i < l->n; i++) {
		bool take = nfiles ? folders.ninclude && ms_filter_match(&folders, l->files[i].path)
		                   : !filter || ms_filter_match(filter, l->files[i].path);

		if (take)
			pick(out, picked, l, &l->files[i]);
	}
	if (nfiles > nexplicit && !out->n)
		ret = ms_error_set(err, MS_ENOTFOUND,
		                   "no file of %s at '%s' is in the folders given", repo->id, rev);
out:
	free(picked);
	ms_filter_release(&folders);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a" and "a/b" both listed: one would have to be a file and a directory at once. */
static int check_file_dir_clash(const struct ms_selection *s, const char *repo_id,
                                struct ms_error *err)
{
	const char **paths = xcalloc(s->n + 1, sizeof(*paths));
	int ret = 0;

	for (size_t i = 0; i < s->n; i++)
		paths[i] = s->files[i]->path;
	qsort(paths, s->n, sizeof(*paths), cmp_str);
	for (size_t i = 0; i < s->n && !ret; i++) {
		char *dir = xstrdup(paths[i]), *slash;

		while (!ret && (slash = strrchr(dir, '/')) != NULL) {
			const char *key = dir;

			*slash = '\0';
			if (bsearch(&key, paths, s->n, sizeof(*paths), cmp_str))
				ret = ms_error_set(
				        err, MS_EUNSAFE,
				        "the listing of %s has both a file '%s' and '%s' "
				        "inside it; nothing was written",
				        repo_id, dir, paths[i]);
		}
		free(dir);
	}
	free(paths);
	return ret;
}

int ms_select_check(const struct ms_selection *s, ms_reserved_fn reserved, void *arg,
                    const char *repo_id, struct ms_error *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *why = NULL, *p = s->files[i]->path;
		struct ms_buf shown = MS_BUF_INIT;

		if (ms_path_check(p, &why) == 0 && reserved)
			why = reserved(arg, p);
		if (!why)
			continue;
		/* show control characters escaped: the message is one line */
		for (const unsigned char *c = (const unsigned char *)p; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				ms_buf_addf(&shown, "\\x%02x", *c);
			else
				ms_buf_addch(&shown, (char)*c);
		ms_error_set(
		        err, MS_EUNSAFE,
		        "refusing unsafe path '%s' in the listing of %s: %s; nothing was written",
		        shown.data ? shown.data : "", repo_id, why);
		ms_buf_release(&shown);
		return MS_EUNSAFE;
	}
	return check_file_dir_clash(s, repo_id, err);
}

size_t ms_select_unhashed(const struct ms_selection *s, const struct ms_file **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (s->files[i]->algo == MS_HASH_NONE && n++ == 0)
			*first = s->files[i];
	return n;
}

void ms_selection_release(struct ms_selection *s)
{
	free(s->files);
	free(s->missing);
	memset(s, 0, sizeof(*s));
}
