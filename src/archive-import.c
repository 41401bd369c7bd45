/*
 * Bundles read back (archive.h): the manifest first, then every entry
 * checked against it and written below a staging directory inside the cache
 * root, hashed as it lands; only when all of it is there and matched do the
 * stores move each repo into place, under their locks.  Anything else
 * removes the staging directory and leaves the cache as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/archive-lib.h"
#include "mscli/archive-manifest.h"
#include "mscli/archive.h"
#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/lock.h"
#include "mscli/pathsafe.h"

#define MANIFEST_MAX (256u << 20)

/* One staging directory per cache root, inside it (a rename into place never copies). */
struct stage {
	const struct ms_hub *hub;
	char *root, *dir;
	char *existed; /* the deepest folder above the staging directory that was there */
	int lock_fd;
};

/* The deepest folder of path's that exists (allocated). */
static char *deepest_existing(const char *path)
{
	char *p = xstrdup(path), *slash;

	while (!ms_is_dir(p) && (slash = strrchr(p, '/')) && slash != p)
		*slash = '\0';
	return p;
}

struct import {
	const struct ms_cache_scope *sc;
	struct ms_manifest m;
	struct stage stages[8];
	size_t nstages;
	struct ms_bundle_progress p;
	unsigned char *buf;
};

static struct stage *stage_for(struct import *im, const struct ms_hub *hub, struct ms_error *err)
{
	struct stage *s;
	char *scratch, *tmpl;

	for (size_t i = 0; i < im->nstages; i++)
		if (im->stages[i].hub == hub)
			return &im->stages[i];
	if (im->nstages == sizeof(im->stages) / sizeof(im->stages[0]))
		return NULL;
	s = &im->stages[im->nstages];
	s->hub = hub;
	s->root = ms_cache_root(hub, im->sc);
	s->lock_fd = -1;
	scratch = hub->cache_scratch(s->root, false, err);
	s->existed = deepest_existing(scratch);
	free(scratch);
	if (ms_mkdirs(s->root, 0755, err) || !(scratch = hub->cache_scratch(s->root, true, err))) {
		free(s->root);
		free(s->existed);
		return NULL;
	}
	tmpl = xasprintf("%s/import-XXXXXX", scratch);
	free(scratch);
	if (!mkdtemp(tmpl)) {
		ms_error_errno(err, errno, "cannot create a directory in", tmpl);
		free(tmpl);
		free(s->root);
		free(s->existed);
		return NULL;
	}
	s->dir = tmpl;
	/* held while it lives: prune leaves a staging directory alone while its lock is taken */
	ms_lock_try_dir(s->dir, &s->lock_fd, err);
	im->nstages++;
	return s;
}

static void stages_release(struct import *im)
{
	for (size_t i = 0; i < im->nstages; i++) {
		struct ms_error e;

		char *parent = im->stages[i].dir;

		ms_remove_tree(parent, &e);
		ms_lock_release(im->stages[i].lock_fd);
		*strrchr(parent, '/') = '\0';
		/* the scratch directory, and the folders made for it (a failed import into an
		 * empty cache leaves it empty), when no other import uses them */
		ms_rmdir_upwards(parent, im->stages[i].existed);
		free(im->stages[i].dir);
		free(im->stages[i].root);
		free(im->stages[i].existed);
	}
	im->nstages = 0;
}

/* The file of e from the archive into the stage, hashed as it lands. */
static int stage_file(struct import *im, struct archive *a, struct ms_mentry *e, const char *dir,
                      const char *rel, struct ms_error *err)
{
	char *path = ms_path_join(dir, rel), hex[MS_HEX_MAX];
	struct ms_hasher hs = {0};
	uint64_t got = 0;
	int fd, ret = ms_mkparents_beneath(dir, rel, err);

	if (ret) {
		free(path);
		return ret;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = ms_error_errno(err, errno, "cannot create", path);
		free(path);
		return ret;
	}
	ms_hasher_init(&hs, e->algo, e->size);
	for (;;) {
		la_ssize_t n = ms_archive()->archive_read_data(a, im->buf, MS_BUNDLE_BLOCK);

		if (n == 0)
			break;
		if (n < 0) {
			ret = ms_archive_error(a, "cannot read the bundle", err);
			break;
		}
		ms_hasher_update(&hs, im->buf, (size_t)n);
		got += (uint64_t)n;
		if (ms_write_all(fd, im->buf, (size_t)n) < 0) {
			ret = ms_error_errno(err, errno, "cannot write", path);
			break;
		}
		ms_bundle_advance(&im->p, (uint64_t)n, false);
		if (ms_interrupted()) {
			ret = ms_error_set(err, MS_EINTR, "interrupted; nothing was imported");
			break;
		}
	}
	if (close(fd) < 0 && !ret)
		ret = ms_error_errno(err, errno, "cannot write", path);
	ms_hasher_final(&hs, hex);
	if (!ret && got != e->size)
		ret = ms_error_set(err, MS_EINTEGRITY,
		                   "'%s' in the bundle has %llu bytes, its manifest says %llu",
		                   e->path, (unsigned long long)got, (unsigned long long)e->size);
	else if (!ret && strcmp(hex, e->digest))
		ret = ms_error_set(err, MS_EINTEGRITY,
		                   "'%s' in the bundle is corrupt: %s %s, the manifest says %s",
		                   e->path, ms_hash_name(e->algo), hex, e->digest);
	ms_bundle_advance(&im->p, 0, true);
	ms_hasher_release(&hs);
	free(path);
	return ret;
}

/* One archive entry after the manifest: checked, then staged. */
static int stage_entry(struct import *im, struct archive *a, struct archive_entry *ae,
                       struct ms_error *err)
{
	struct ms_bundle_entry be = {.path = ms_archive()->archive_entry_pathname(ae),
	                             .mode = ms_archive()->archive_entry_mode(ae),
	                             .symlink = ms_archive()->archive_entry_symlink(ae),
	                             .hardlink = ms_archive()->archive_entry_hardlink(ae),
	                             .size = ms_archive()->archive_entry_size_is_set(ae)
	                                             ? ms_archive()->archive_entry_size(ae)
	                                             : -1};
	const char *why = NULL, *rel;
	struct ms_mentry *e;
	struct stage *s;
	char *path;
	int ret;

	if (!be.path)
		return ms_error_set(err, MS_EUNSAFE, "the bundle has an entry without a name");
	if (ms_bundle_check_entry(&be, &why))
		return ms_error_set(err, MS_EUNSAFE, "refusing the bundle: '%s': %s", be.path, why);
	if ((be.mode & S_IFMT) == S_IFDIR)
		return 0; /* directories come with the files in them */
	if (!(e = ms_manifest_find(&im->m, be.path)))
		return ms_error_set(err, MS_EUNSAFE,
		                    "refusing the bundle: '%s' is not in its manifest", be.path);
	if (e->seen)
		return ms_error_set(err, MS_EUNSAFE, "refusing the bundle: '%s' comes twice",
		                    be.path);
	e->seen = true;
	if (im->m.repos[e->repo].skip)
		return 0;
	if (!e->link != ((be.mode & S_IFMT) == S_IFREG) ||
	    (e->link && strcmp(e->link, be.symlink)) || (!e->link && (uint64_t)be.size != e->size))
		return ms_error_set(err, MS_EUNSAFE,
		                    "refusing the bundle: '%s' is not what its manifest says (%s)",
		                    be.path,
		                    e->link ? "a symlink elsewhere" : "another size or kind");
	if (!(s = stage_for(im, im->m.repos[e->repo].repo.hub, err)))
		return err->code ? err->code : MS_EFAIL;
	rel = be.path + strlen(s->hub->name) + 1;
	if (!e->link)
		return stage_file(im, a, e, s->dir, rel, err);
	if ((ret = ms_mkparents_beneath(s->dir, rel, err)) != 0)
		return ret;
	path = ms_path_join(s->dir, rel);
	if (symlink(e->link, path) < 0)
		ret = ms_error_errno(err, errno, "cannot create symlink", path);
	free(path);
	return ret;
}

static int read_manifest(struct import *im, struct archive *a, struct ms_error *err)
{
	struct archive_entry *ae;
	char *json;
	la_int64_t size;
	la_ssize_t n;
	int r = ms_archive()->archive_read_next_header(a, &ae), ret;

	if (r == ARCHIVE_EOF)
		return ms_error_set(err, MS_EFAIL, "the bundle is empty");
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return ms_archive_error(a, "cannot read the bundle", err);
	size = ms_archive()->archive_entry_size(ae);
	if (!ms_archive()->archive_entry_pathname(ae) ||
	    strcmp(ms_archive()->archive_entry_pathname(ae), MS_BUNDLE_MANIFEST) ||
	    ms_archive()->archive_entry_filetype(ae) != AE_IFREG || size <= 0 ||
	    size > MANIFEST_MAX)
		return ms_error_set(
		        err, MS_EFAIL,
		        "not an mscli bundle: it does not start with %s (made by 'mscli "
		        "cache export'?)",
		        MS_BUNDLE_MANIFEST);
	json = xmalloc((size_t)size + 1);
	n = ms_archive()->archive_read_data(a, json, (size_t)size);
	if (n != size) {
		free(json);
		return n < 0 ? ms_archive_error(a, "cannot read the bundle", err)
		             : ms_error_set(err, MS_EFAIL,
		                            "the bundle is truncated (in its manifest)");
	}
	json[size] = '\0';
	ret = ms_manifest_from_json(json, (size_t)size, im->sc, &im->m, err);
	free(json);
	return ret;
}

static int read_entries(struct import *im, struct archive *a, const struct ms_bundle_cb *cb,
                        struct ms_error *err)
{
	struct archive_entry *ae;
	uint64_t bytes = 0;
	size_t files = 0;
	int r, ret = 0;

	for (size_t i = 0; i < im->m.n; i++)
		if (!im->m.e[i].link) {
			bytes += im->m.e[i].size;
			files++;
		}
	if (cb && cb->begin)
		cb->begin(cb->arg, files, bytes);
	while (!ret && (r = ms_archive()->archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			ret = ms_archive_error(a, "cannot read the bundle", err);
		else
			ret = stage_entry(im, a, ae, err);
	}
	for (size_t i = 0; i < im->m.n && !ret; i++)
		if (!im->m.e[i].seen)
			ret = ms_error_set(
			        err, MS_EFAIL,
			        "the bundle is incomplete: '%s' of its manifest is missing",
			        im->m.e[i].path);
	return ret;
}

/* The stage of repo i, or NULL when it has nothing to move in (--hub left it out, no files). */
static struct stage *repo_stage(struct import *im, size_t i)
{
	for (size_t k = 0; k < im->nstages && !im->m.repos[i].skip; k++)
		if (im->stages[k].hub == im->m.repos[i].repo.hub)
			return &im->stages[k];
	return NULL;
}

/* The entries of repo i as its store sees them: paths below the cache root. */
static void repo_items(const struct import *im, size_t i, struct ms_cache_items *out)
{
	size_t skip = strlen(im->m.repos[i].repo.hub->name) + 1;

	for (size_t k = 0; k < im->m.n; k++) {
		const struct ms_mentry *e = &im->m.e[k];
		struct ms_cache_item *it;

		if (e->repo != i)
			continue;
		it = ms_cache_items_add(out, e->link ? MS_ITEM_LINK : MS_ITEM_FILE);
		it->rel = xstrdup(e->path + skip);
		it->target = e->link ? xstrdup(e->link) : NULL;
		it->size = e->size;
		it->algo = e->algo;
		strcpy(it->digest, e->digest);
	}
}

/* Every repo's store checks what it would take, before any of them moves in. */
static int check_repos(struct import *im, struct ms_error *err)
{
	int ret = 0;

	for (size_t i = 0; i < im->m.nrepos && !ret; i++) {
		const struct ms_repo *repo = &im->m.repos[i].repo;
		struct stage *s = repo_stage(im, i);
		struct ms_cache_items items = {0};
		struct ms_store *st;

		if (!s)
			continue;
		st = repo->hub->cache_store(s->root, repo, repo->hub->default_revision, NULL);
		repo_items(im, i, &items);
		if (st->ops->import_check)
			ret = st->ops->import_check(st, s->dir, &items, err);
		ms_cache_items_release(&items);
		st->ops->free(st);
	}
	return ret;
}

/* Everything is staged and verified: each repo moves in under its store's locks. */
static int commit(struct import *im, const struct ms_bundle_cb *cb, struct ms_error *err)
{
	int ret = 0;

	for (size_t i = 0; i < im->m.nrepos && !ret; i++) {
		const struct ms_repo *repo = &im->m.repos[i].repo;
		struct stage *s = repo_stage(im, i);
		struct ms_store *st;

		if (!s)
			continue;
		st = repo->hub->cache_store(s->root, repo, repo->hub->default_revision, NULL);
		ret = st->ops->import(st, s->dir, err);
		if (!ret && cb && cb->imported) {
			struct ms_cache_stat stat;
			struct ms_error e;

			if (st->ops->stat(st, &stat, &e) == 0)
				cb->imported(cb->arg, repo, stat.path);
			ms_cache_stat_release(&stat);
		}
		st->ops->free(st);
	}
	return ret;
}

int ms_bundle_import(int fd, const struct ms_cache_scope *sc, const struct ms_bundle_cb *cb,
                     struct ms_error *err)
{
	struct import im = {.sc = sc, .p = {.cb = cb}};
	struct archive *a;
	int ret = ms_archive_load(err);

	if (ret)
		return ret;
	a = ms_archive()->archive_read_new();
	ms_archive()->archive_read_support_filter_all(a);
	ms_archive()->archive_read_support_format_tar(a);
	im.buf = xmalloc(MS_BUNDLE_BLOCK);
	if (ms_archive()->archive_read_open_fd(a, fd, MS_BUNDLE_BLOCK) != ARCHIVE_OK)
		ret = ms_archive_error(a, "cannot read the bundle", err);
	if (!ret)
		ret = read_manifest(&im, a, err);
	if (!ret)
		ret = read_entries(&im, a, cb, err);
	if (!ret)
		ret = check_repos(&im, err);
	if (!ret)
		ret = commit(&im, cb, err);
	stages_release(&im);
	ms_archive()->archive_read_free(a);
	ms_manifest_release(&im.m);
	free(im.buf);
	return ret;
}
