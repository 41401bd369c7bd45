/* What every cache store's answers to the cache commands share (store.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/store.h"
#include "mscli/strbuf.h"

void ms_cache_stat_release(struct ms_cache_stat *s)
{
	for (size_t i = 0; i < s->nrevs; i++) {
		struct ms_cache_rev *r = &s->revs[i];

		for (size_t j = 0; j < r->nrefs; j++)
			free(r->refs[j]);
		free(r->refs);
		free(r->name);
		free(r->path);
	}
	free(s->revs);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static bool names(const struct ms_cache_rev *r, const char *rev)
{
	for (size_t j = 0; j < r->nrefs; j++)
		if (!strcmp(r->refs[j], rev))
			return true;
	return r->name && !strcmp(r->name, rev);
}

const struct ms_cache_rev *ms_cache_stat_find(const struct ms_cache_stat *s, const char *rev)
{
	const struct ms_cache_rev *found = NULL;
	size_t n, matches = 0;

	if (!rev)
		return s->nrevs == 1 ? &s->revs[0] : NULL;
	for (size_t i = 0; i < s->nrevs; i++)
		if (names(&s->revs[i], rev))
			return &s->revs[i];
	/* an abbreviated commit, as git prints them: unique or nothing */
	n = strlen(rev);
	if (n < 7 || !ms_is_hex(rev, n))
		return NULL;
	for (size_t i = 0; i < s->nrevs; i++)
		if (s->revs[i].name && ms_is_commit_id(s->revs[i].name) &&
		    !strncmp(s->revs[i].name, rev, n)) {
			found = &s->revs[i];
			matches++;
		}
	return matches == 1 ? found : NULL;
}

struct ms_cache_item *ms_cache_items_add(struct ms_cache_items *l, enum ms_cache_item_kind kind)
{
	struct ms_cache_item *it;

	ms_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	it = &l->v[l->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->size = UINT64_MAX;
	return it;
}

/* Is f's content in by_digest (named by its digest)? */
static bool held(const char *by_digest, const struct ms_file *f)
{
	char *p;
	bool yes;

	if (!f->digest[0])
		return false;
	p = ms_path_join(by_digest, f->digest);
	yes = access(p, F_OK) == 0;
	free(p);
	return yes;
}

size_t ms_cache_items_add_missing(struct ms_cache_items *out, const struct ms_listing *l,
                                  const char *dir, const char *rev, const char *source,
                                  const char *by_digest, size_t *absent)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		char *disk = ms_path_join(dir, l->files[i].path);
		struct ms_cache_item *it;
		struct stat st;

		if (lstat(disk, &st) == 0) { /* a link to a lost blob is the caller's */
			free(disk);
			continue;
		}
		if (by_digest && !held(by_digest, &l->files[i])) {
			*absent += 1;
			free(disk);
			continue;
		}
		it = ms_cache_items_add(out, MS_ITEM_MISSING);
		it->disk = disk;
		it->path = xstrdup(l->files[i].path);
		it->rev = xstrdup(rev);
		it->size = l->files[i].size;
		it->source = source;
		n++;
	}
	return n;
}

void ms_cache_items_release(struct ms_cache_items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].disk);
		free(l->v[i].rel);
		free(l->v[i].path);
		free(l->v[i].rev);
		free(l->v[i].target);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void ms_cache_removal_report(struct ms_cache_removal *r, const char *path, uint64_t size)
{
	r->freed += size;
	r->count++;
	if (r->removed)
		r->removed(r->arg, path, size);
}

int ms_cache_removal_path(struct ms_cache_removal *r, const char *path, struct ms_error *err)
{
	struct stat st;
	uint64_t size;
	int ret = 0;

	if (lstat(path, &st) < 0)
		return 0;
	size = ms_tree_size(path, NULL);
	if (!r->dry_run)
		ret = ms_remove_tree(path, err);
	if (!ret)
		ms_cache_removal_report(r, path, size);
	return ret;
}

struct removal_walk {
	struct ms_cache_removal *r;
	const char *top;
	bool (*match)(const char *rel);
	double changed_before; /* epoch seconds */
	struct ms_error *err;
};

static int remove_matching(void *arg, const char *rel, const struct stat *st)
{
	struct removal_walk *w = arg;
	char *p;
	int ret;

	if (S_ISDIR(st->st_mode) || !w->match(rel) ||
	    ms_timespec_seconds(st->st_mtim) > w->changed_before)
		return 0;
	p = ms_path_join(w->top, rel);
	ret = ms_cache_removal_path(w->r, p, w->err);
	free(p);
	return ret;
}

int ms_cache_removal_matching(struct ms_cache_removal *r, const char *top,
                              bool (*match)(const char *rel), double min_age, struct ms_error *err)
{
	struct removal_walk w = {r, top, match, 0, err};
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	w.changed_before = ms_timespec_seconds(now) - min_age;

	return ms_walk_tree(top, remove_matching, &w);
}

void ms_store_drop_stale(const struct ms_store *st, const struct ms_stale_files *how,
                         const struct ms_listing *prev, const struct ms_listing *now)
{
	struct ms_buf kept = MS_BUF_INIT;
	size_t nkept = 0, ndropped = 0;

	for (size_t i = 0; i < prev->n; i++) {
		const struct ms_file *f = &prev->files[i];
		char *path;

		if (ms_listing_find(now, f->path))
			continue;
		path = ms_path_join(how->dir, f->path);
		if (how->unchanged(how->arg, f, path) && unlink(path) == 0) {
			if (how->dropped)
				how->dropped(how->arg, f);
			ndropped++;
		} else if (access(path, F_OK) == 0 && nkept++ < 5) {
			ms_buf_addf(&kept, "%s'%s'", nkept > 1 ? ", " : "", f->path);
		}
		free(path);
	}
	if (ndropped)
		ms_verbose("removed %zu file(s) of '%s' that '%s' does not have", ndropped,
		           how->prev_rev, how->rev);
	if (nkept && st->on_notice) {
		char *msg = xasprintf("%s: kept %zu file(s) of revision '%s' that '%s' does not "
		                      "have, because they changed since they were downloaded: %s%s",
		                      how->dir, nkept, how->prev_rev, how->rev, kept.data,
		                      nkept > 5 ? " and more" : "");

		st->on_notice(st->lock_wait_arg, msg);
		free(msg);
	}
	ms_buf_release(&kept);
}
