/*
 * The Hugging Face cache's removals and imports (store.h): under the blob
 * locks a download takes (.locks/<folder>/<etag>.lock, huggingface_hub's
 * too).  One revision goes refs first, then its snapshot, then the blobs no
 * other snapshot uses: a crash in between leaves a detached snapshot or an
 * unused blob, never a ref to a missing snapshot (which makes scan_cache_dir
 * drop the whole repo).  Lock files stay (lock.h says why).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/hashfiles.h"
#include "mscli/lock.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/store-hf.h"
#include "mscli/strbuf.h"

/* ---- import ---- */

/* The lock of blob etag (.locks/<folder>/<etag>.lock): 0 taken, 1 busy, <0 an error. */
static int blob_lock(struct store_hf *s, const char *etag, enum ms_lock_mode mode, int *fd,
                     struct ms_error *err)
{
	char *path = xasprintf("%s/%s.lock", s->locks, etag);
	int ret = mode == MS_LOCK_PROBE ? 0 : ms_mkdirs(s->locks, 0755, err);

	*fd = -1;
	if (!ret)
		ret = ms_lock_take(path, mode, s->base.on_lock_wait, s->base.lock_wait_arg, fd,
		                   err);
	free(path);
	return ret;
}

static enum ms_lock_mode lock_mode(const struct ms_cache_removal *r)
{
	return r->dry_run ? MS_LOCK_PROBE : r->wait ? MS_LOCK_WAIT : MS_LOCK_TRY;
}

/* MS_HF_REPO_LOCK, exclusively: 0 taken (*fd), 1 busy (r->busy set), <0 an error. */
static int repo_lock(struct store_hf *s, struct ms_cache_removal *r, int *fd, struct ms_error *err)
{
	char *path = xasprintf("%s/%s", s->locks, MS_HF_REPO_LOCK);
	enum ms_lock_mode mode = lock_mode(r);
	int ret = mode == MS_LOCK_PROBE ? 0 : ms_mkdirs(s->locks, 0755, err);

	if (!ret)
		ret = ms_lock_take(path, mode, s->base.on_lock_wait, s->base.lock_wait_arg, fd,
		                   err);
	if (ret == 1)
		r->busy = true;
	free(path);
	return ret;
}

/* The path of rel below the repo's folder, or NULL when rel is not in it. */
static const char *below_folder(const struct store_hf *s, const char *rel)
{
	size_t n = strlen(s->folder);

	return strncmp(rel, s->folder, n) || rel[n] != '/' ? NULL : rel + n + 1;
}

/* A blob's name is the hash of its bytes: the manifest's digest, which staging checked. */
static int check_blob(const struct ms_cache_item *it, const char *name, struct ms_error *err)
{
	if (it->kind == MS_ITEM_FILE && it->algo != MS_HASH_NONE &&
	    ms_hash_algo_for_hex(name) == it->algo && !strcmp(name, it->digest))
		return 0;
	return ms_error_set(err, MS_EINTEGRITY,
	                    "refusing the bundle: blob '%s' is not named by the hash of its "
	                    "bytes (%s %s)",
	                    it->rel, ms_hash_name(it->algo), it->digest);
}

/* A ref holds the 40-hex commit of a snapshot the bundle carries. */
static int check_ref(const struct store_hf *s, const char *staged,
                     const struct ms_cache_items *items, const struct ms_cache_item *it,
                     struct ms_error *err)
{
	char *path = ms_path_join(staged, it->rel), *text = NULL, *snap = NULL;
	size_t len = 0;
	bool found = false;

	if (it->kind == MS_ITEM_FILE && !ms_read_file(path, 64, &text, &len, err)) {
		if (len == 41 && text[40] == '\n')
			text[--len] = '\0';
		if (len == 40 && ms_is_hex(text, 40))
			snap = xasprintf("%s/snapshots/%s/", s->folder, text);
	}
	for (size_t i = 0; snap && i < items->n && !found; i++)
		found = !strncmp(items->v[i].rel, snap, strlen(snap));
	free(path);
	free(text);
	free(snap);
	if (found)
		return 0;
	return ms_error_set(err, MS_EUNSAFE,
	                    "refusing the bundle: ref '%s' does not name a commit of the bundle",
	                    it->rel);
}

/* Blobs the cache holds already must be the bundle's bytes: hashed, they match their name. */
static int check_cached_blobs(const struct store_hf *s, const struct ms_cache_items *items,
                              struct ms_error *err)
{
	struct ms_hashfile *files = xcalloc(items->n + 1, sizeof(*files));
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < items->n; i++) {
		const char *sub = below_folder(s, items->v[i].rel);
		char *dst;

		if (strncmp(sub, "blobs/", 6))
			continue;
		dst = ms_path_join(s->repo_dir, sub);
		if (access(dst, F_OK) == 0) {
			files[n].path = dst;
			files[n++].algo = items->v[i].algo;
		} else {
			free(dst);
		}
	}
	ret = ms_hash_files(files, n, NULL);
	for (size_t i = 0; i < n && !ret; i++)
		if (files[i].status || strcmp(files[i].hex, strrchr(files[i].path, '/') + 1))
			ret = ms_error_set(
			        err, MS_EINTEGRITY,
			        "refusing the bundle: the cache's '%s' is not what its name "
			        "says ('mscli cache verify --repair' mends it)",
			        files[i].path);
	if (ret == MS_EINTR)
		ms_error_set(err, ret, "interrupted; nothing was imported");
	for (size_t i = 0; i < n; i++)
		free((char *)files[i].path);
	free(files);
	return ret;
}

int ms_store_hf_import_check(struct ms_store *st, const char *staged,
                             const struct ms_cache_items *items, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	int ret = 0;

	for (size_t i = 0; i < items->n && !ret; i++) {
		const struct ms_cache_item *it = &items->v[i];
		const char *sub = below_folder(s, it->rel);

		if (!sub)
			ret = ms_error_set(err, MS_EUNSAFE,
			                   "refusing the bundle: '%s' is outside the folder of its "
			                   "repo (%s)",
			                   it->rel, s->folder);
		else if (!strncmp(sub, "blobs/", 6))
			ret = check_blob(it, sub + 6, err);
		else if (!strncmp(sub, "refs/", 5))
			ret = check_ref(s, staged, items, it, err);
		else if (!strncmp(sub, "snapshots/", 10) &&
		         (strspn(sub + 10, "0123456789abcdef") != 40 || sub[50] != '/'))
			ret = ms_error_set(err, MS_EUNSAFE,
			                   "refusing the bundle: '%s' is not in the snapshot of a "
			                   "commit",
			                   it->rel);
		else if (strncmp(sub, "snapshots/", 10) && strncmp(sub, "trees/", 6) &&
		         strncmp(sub, ".no_exist/", 10))
			ret = ms_error_set(err, MS_EUNSAFE,
			                   "refusing the bundle: '%s' is not a part of the Hugging "
			                   "Face cache's layout",
			                   it->rel);
	}
	return ret ? ret : check_cached_blobs(s, items, err);
}

/*
 * Blobs first, each under its lock.  One already here stays: import_check found it to be
 * the bundle's bytes, and a blob is never replaced (another revision may be reading it).
 */
static int import_blobs(struct store_hf *s, const char *from, struct ms_error *err)
{
	char *dst_dir = ms_path_join(s->repo_dir, "blobs");
	size_t n;
	char **names = ms_dir_names(from, &n);
	int ret = ms_mkdirs(dst_dir, 0755, err);

	for (size_t i = 0; i < n && !ret; i++) {
		char *src = ms_path_join(from, names[i]), *dst = ms_path_join(dst_dir, names[i]);
		struct stat st;
		int fd;

		if ((ret = blob_lock(s, names[i], MS_LOCK_WAIT, &fd, err)) == 0) {
			if (lstat(dst, &st) == 0)
				unlink(src);
			else if (rename(src, dst) < 0)
				ret = ms_error_errno(err, errno, "cannot move into place", dst);
			ms_lock_release(fd);
		}
		free(src);
		free(dst);
	}
	ms_dir_names_free(names, n);
	free(dst_dir);
	return ret;
}

/* Each revision's snapshot appears whole when it is new (one rename), merged otherwise. */
static int import_snapshots(struct store_hf *s, const char *from, struct ms_error *err)
{
	size_t n;
	char **names = ms_dir_names(from, &n);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		char *src = ms_path_join(from, names[i]);
		char *rel = xasprintf("snapshots/%s", names[i]);

		ret = ms_move_beneath(src, s->repo_dir, rel, err);
		free(src);
		free(rel);
	}
	ms_dir_names_free(names, n);
	return ret;
}

int ms_store_hf_import(struct ms_store *st, const char *staged, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	/* in the order that never lets a reader see a link or a ref before what it names */
	static const char *const order[] = {"blobs", "snapshots", ".no_exist", "trees", "refs"};
	char *from = ms_path_join(staged, s->folder);
	int ret = 0;

	if (!ms_is_dir(from))
		goto out;
	if ((ret = ms_hf_cachedir_tag(s->root, err)) || (ret = ms_mkdirs(s->repo_dir, 0755, err)))
		goto out;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !ret; i++) {
		char *sub = ms_path_join(from, order[i]);

		if (ms_is_dir(sub))
			ret = i == 0   ? import_blobs(s, sub, err)
			      : i == 1 ? import_snapshots(s, sub, err)
			               : ms_move_beneath(sub, s->repo_dir, order[i], err);
		free(sub);
	}
	if (!ret)
		ret = ms_remove_tree(from, err);
out:
	free(from);
	return ret;
}

struct locks {
	int *fd;
	size_t n;
};

static void locks_release(struct locks *l)
{
	for (size_t i = 0; i < l->n; i++)
		ms_lock_release(l->fd[i]);
	free(l->fd);
	memset(l, 0, sizeof(*l));
}

/* The locks of these etags, all or none: 0, 1 busy, <0 an error. */
static int lock_all(struct store_hf *s, char **etags, size_t n, enum ms_lock_mode mode,
                    struct locks *l, struct ms_error *err)
{
	int ret = 0;

	l->fd = xcalloc(n + 1, sizeof(*l->fd));
	for (size_t i = 0; i < n && !ret; i++)
		ret = blob_lock(s, etags[i], mode, &l->fd[l->n++], err);
	if (ret)
		locks_release(l);
	return ret;
}

/* The etags of the partials in blobs/ (allocated, with their number). */
static char **partials(const struct store_hf *s, size_t *count)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs");
	size_t n;
	char **names = ms_dir_names(blobs, &n), **out = xcalloc(n + 1, sizeof(*out));

	*count = 0;
	for (size_t i = 0; i < n; i++) {
		char *etag = ms_hf_partial_etag(names[i]);

		if (etag)
			out[(*count)++] = etag;
	}
	ms_dir_names_free(names, n);
	free(blobs);
	return out;
}

/* Resume state in .locks/<folder> (the lock files themselves stay: see lock.h). */
static uint64_t remove_state(const struct store_hf *s, bool dry_run)
{
	size_t n;
	char **names = ms_dir_names(s->locks, &n);
	uint64_t size = 0;

	for (size_t i = 0; i < n; i++) {
		char *p = ms_path_join(s->locks, names[i]);

		if (ms_has_suffix(names[i], MS_HF_RESUME_SUFFIX)) {
			size += ms_tree_size(p, NULL);
			if (!dry_run)
				unlink(p);
		}
		free(p);
	}
	ms_dir_names_free(names, n);
	return size;
}

static int remove_repo(struct store_hf *s, struct ms_cache_removal *r, struct ms_error *err)
{
	size_t n;
	char **etags = partials(s, &n);
	struct locks l = {0};
	int ret = lock_all(s, etags, n, lock_mode(r), &l, err);
	uint64_t size;

	if (ret == 1) {
		r->busy = true;
		ret = 0;
	} else if (!ret) {
		size = ms_tree_size(s->repo_dir, NULL) + remove_state(s, true);
		if (!r->dry_run && !(ret = ms_remove_tree(s->repo_dir, err)))
			remove_state(s, false);
		if (!ret)
			ms_cache_removal_report(r, s->repo_dir, size);
	}
	locks_release(&l);
	ms_dir_names_free(etags, n);
	return ret;
}

/* The blobs only sn uses: their etags (names in blobs/). */
static char **own_blobs(const struct store_hf *s, const struct ms_hf_scan *all,
                        const struct ms_hf_snap *sn, size_t *count)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs"), real_blobs[PATH_MAX];
	char **out = xcalloc(sn->n + 1, sizeof(*out));
	size_t bl;

	*count = 0;
	if (!realpath(blobs, real_blobs)) {
		free(blobs);
		return out;
	}
	bl = strlen(real_blobs);
	for (size_t i = 0; i < sn->n; i++) {
		const char *real = sn->e[i].real;
		bool used = false;

		if (!real || strncmp(real, real_blobs, bl) || real[bl] != '/' ||
		    strchr(real + bl + 1, '/'))
			continue;
		for (size_t j = 0; j < all->n && !used; j++)
			for (size_t k = 0; &all->v[j] != sn && k < all->v[j].n && !used; k++)
				used = all->v[j].e[k].real && !strcmp(all->v[j].e[k].real, real);
		for (size_t j = 0; j < *count && !used; j++)
			used = !strcmp(out[j], real + bl + 1);
		if (!used)
			out[(*count)++] = xstrdup(real + bl + 1);
	}
	free(blobs);
	return out;
}

static int remove_revision(struct store_hf *s, const struct ms_hf_scan *all,
                           const struct ms_hf_snap *sn, struct ms_cache_removal *r,
                           struct ms_error *err)
{
	struct ms_hf_refs refs;
	struct locks l = {0};
	size_t n;
	char **etags = own_blobs(s, all, sn, &n), *p;
	char *refs_dir = ms_path_join(s->repo_dir, "refs");
	int ret = lock_all(s, etags, n, lock_mode(r), &l, err);

	if (ret == 1) {
		r->busy = true;
		ret = 0;
		goto out;
	}
	ms_hf_read_refs(s, &refs);
	for (size_t i = 0; i < refs.n && !ret; i++) {
		if (strcmp(refs.commits[i], sn->commit))
			continue;
		p = ms_path_join(refs_dir, refs.names[i]);
		ret = ms_cache_removal_path(r, p, err);
		if (!r->dry_run)
			ms_rmdir_upwards(p, refs_dir); /* refs/pr/1: refs/pr goes when empty */
		free(p);
	}
	ms_hf_refs_release(&refs);
	if (!ret)
		ret = ms_cache_removal_path(r, sn->dir, err);
	if (!ret) {
		p = xasprintf("%s/trees/%s.json", s->repo_dir, sn->commit);
		ret = ms_cache_removal_path(r, p, err);
		free(p);
	}
	if (!ret) {
		p = xasprintf("%s/.no_exist/%s", s->repo_dir, sn->commit);
		ret = ms_cache_removal_path(r, p, err);
		free(p);
	}
	for (size_t i = 0; i < n && !ret; i++) {
		p = xasprintf("%s/blobs/%s", s->repo_dir, etags[i]);
		ret = ms_cache_removal_path(r, p, err);
		free(p);
	}
out:
	locks_release(&l);
	ms_dir_names_free(etags, n);
	free(refs_dir);
	return ret;
}

int ms_store_hf_remove(struct ms_store *st, struct ms_cache_removal *r, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	struct ms_hf_scan all = {0};
	char *commit = NULL;
	int ret, repo_fd = -1;
	struct stat lst;

	if (lstat(s->repo_dir, &lst) < 0)
		return ms_hf_not_cached(s, NULL, err);
	if (!S_ISDIR(lst.st_mode)) /* a link to a folder elsewhere: only the link goes */
		return ms_cache_removal_path(r, s->repo_dir, err);
	/* a download's last writes (ref, snapshot) come after its blob locks: wait for it */
	if ((ret = repo_lock(s, r, &repo_fd, err)) != 0)
		return ret < 0 ? ret : 0;
	if (!r->rev) {
		ret = remove_repo(s, r, err);
		ms_lock_release(repo_fd);
		return ret;
	}
	if (!(commit = ms_hf_resolve(s, r->rev)))
		return ms_hf_not_cached(s, r->rev, err);
	ms_hf_scan_snapshots(s, NULL, &all);
	ret = ms_hf_not_cached(s, r->rev, err);
	for (size_t i = 0; i < all.n; i++)
		if (!strcmp(all.v[i].commit, commit))
			ret = all.n == 1 ? remove_repo(s, r, err)
			                 : remove_revision(s, &all, &all.v[i], r, err);
	ms_hf_scan_release(&all);
	free(commit);
	ms_lock_release(repo_fd);
	return ret;
}

/*
 * What killed replacements left (ms_temp_for) in snapshots/, refs/ and trees/.  A
 * download writes them holding no lock of the repo (huggingface_hub locks blobs only):
 * only one that is stale (MS_TEMP_STALE_AGE) is a leftover; a younger one may be a
 * running download's, whose rename would fail without it.
 */
static int prune_leftovers(const struct store_hf *s, struct ms_cache_removal *r,
                           struct ms_error *err)
{
	static const char *const dirs[] = {"snapshots", "refs", "trees"};
	int ret = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs) && !ret; i++) {
		char *top = ms_path_join(s->repo_dir, dirs[i]);

		ret = ms_cache_removal_matching(r, top, ms_temp_named, MS_TEMP_STALE_AGE, err);
		free(top);
	}
	return ret;
}

int ms_store_hf_prune_partials(struct ms_store *st, struct ms_cache_removal *r,
                               struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *blobs = ms_path_join(s->repo_dir, "blobs");
	size_t n;
	char **names = ms_dir_names(blobs, &n);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		char *etag = ms_hf_partial_etag(names[i]), *part, *state;
		int fd, busy;
		uint64_t size;

		if (!etag)
			continue;
		part = ms_path_join(blobs, names[i]);
		state = xasprintf("%s/%s%s", s->locks, etag, MS_HF_RESUME_SUFFIX);
		busy = blob_lock(s, etag, r->dry_run ? MS_LOCK_PROBE : MS_LOCK_TRY, &fd, err);
		if (busy < 0) {
			ret = busy;
		} else if (busy) {
			r->busy = true; /* a download is writing it */
		} else {
			size = ms_tree_size(part, NULL) + ms_tree_size(state, NULL);
			if (!r->dry_run) {
				unlink(part);
				unlink(state);
			}
			ms_cache_removal_report(r, part, size);
		}
		ms_lock_release(fd);
		free(part);
		free(state);
		free(etag);
	}
	ms_dir_names_free(names, n);
	free(blobs);
	return ret ? ret : prune_leftovers(s, r, err);
}
