/*
 * The Hugging Face cache (hf-protocol.md §2), as huggingface_hub and
 * transformers read it offline:
 *
 *   <root>/CACHEDIR.TAG
 *   <root>/.locks/<folder>/<etag>.lock             flock while a blob is written
 *   <root>/<folder>/blobs/<etag>                   bytes (sha256 or git sha1 name)
 *   <root>/<folder>/refs/<rev>                     40 hex, no newline, atomic
 *   <root>/<folder>/snapshots/<commit>/<path>      relative symlink to the blob
 *   <root>/<folder>/trees/<commit>.json            the whole tree, atomic
 *   <root>/<folder>/.no_exist/<commit>/<path>      known-missing files
 *
 * Partials are blobs/<etag>.mscli.incomplete (store-hf.h says why), resume
 * state in .locks/<folder>/<etag>.mscli-resume.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/lock.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/store-hf.h"
#include "mscli/store.h"
#include "mscli/strbuf.h"

/* .locks/<folder>/<etag><suffix>: the blob's lock and its resume state */
static char *locks_file(const struct store_hf *s, const char *etag, const char *suffix)
{
	return xasprintf("%s/%s%s", s->locks, etag, suffix);
}

static char *sub(const struct store_hf *s, const char *a, const char *b)
{
	return b ? xasprintf("%s/%s/%s", s->repo_dir, a, b) : ms_path_join(s->repo_dir, a);
}

static char *pointer_path(const struct store_hf *s, const char *path)
{
	return xasprintf("%s/snapshots/%s/%s", s->repo_dir, s->commit, path);
}

/* snapshots/<c>/a/b/f -> ../../../../blobs/<etag>: one ".." per directory up to <folder> */
static char *relative_blob(const char *path, const char *etag)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_adds(&b, "../../");
	for (const char *p = path; *p; p++)
		if (*p == '/')
			ms_buf_adds(&b, "../");
	ms_buf_addf(&b, "blobs/%s", etag);
	return ms_buf_detach(&b);
}

static int make_link(const char *name, void *target)
{
	return symlink((const char *)target, name);
}

/*
 * symlink(target, ptr), replacing what is at ptr: a new entry takes its name at once;
 * another link there is replaced by one made beside it and renamed over it, so a reader
 * sees the old link or the new one.  Only that second way has a name a kill could leave.
 */
static int place_link(const char *target, const char *ptr)
{
	char *tmp;
	int r, e;

	r = symlink(target, ptr);
	if (r == 0 || errno != EEXIST)
		return r;
	if (!(tmp = ms_temp_make(ptr, make_link, (void *)target)))
		return -1;
	if ((r = rename(tmp, ptr)) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return r;
}

/* Point snapshots/<commit>/<path> at the blob (atomic replace of any old link). */
static int link_pointer(struct store_hf *s, const struct ms_file *f, struct ms_error *err)
{
	char *snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);
	char *ptr = pointer_path(s, f->path), *blob = sub(s, "blobs", f->etag);
	char *target = NULL;
	int ret;

	if (s->no_symlinks) {
		ret = ms_dirmemo_chain(&s->dirs, snap, true, f->path, err);
		if (!ret)
			ret = ms_copy_file_atomic(blob, ptr, err); /* streamed: shards are GBs */
		goto out;
	}
	target = relative_blob(f->path, f->etag);
	ret = ms_dirmemo_place(&s->dirs, snap, true, f->path, place_link, target, ptr,
	                       "cannot create symlink", err);
out:
	free(snap);
	free(ptr);
	free(blob);
	free(target);
	return ret;
}

static int hf_lock(struct ms_store *st, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *blobs = sub(s, "blobs", NULL);
	int ret = ms_mkdirs(s->locks, 0755, err);
	char *repo_lock = locks_file(s, MS_HF_REPO_LOCK, "");

	if (!ret)
		ret = ms_mkdirs(blobs, 0755, err);
	if (!ret && s->repo_lock < 0) {
		int fd =
		        ms_lock_acquire_shared(repo_lock, st->on_lock_wait, st->lock_wait_arg, err);

		if (fd >= 0)
			s->repo_lock = fd;
		else if (fd != MS_LOCK_NONE)
			ret = fd;
	}
	free(repo_lock);
	free(blobs);
	return ret;
}

static int hf_begin(struct ms_store *st, const struct ms_listing *l, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	/* a warm run (or one with nothing to fetch) gets here without lock() */
	int ret = ms_hf_cachedir_tag(s->root, err);

	s->listing = l;
	/* the whole tree, as huggingface_hub >= 1.22 writes it after listing */
	if (!ret && l->commit && !s->listing_from_cache)
		ret = ms_hf_tree_write(s->repo_dir, l, err);
	return ret;
}

static enum ms_file_state hf_lookup(struct ms_store *st, const struct ms_file *f)
{
	struct store_hf *s = (struct store_hf *)st;
	char *ptr, *blob;
	enum ms_file_state state = MS_FILE_MISSING;

	if (!s->commit)
		return MS_FILE_MISSING;
	ptr = pointer_path(s, f->path);
	if (ms_dirprobe_has_size(st->probe, ptr, f->size)) {
		state = MS_FILE_CACHED;
	} else if (st->adopt_unindexed && f->etag) {
		/* the blob is there (another revision shares it): just link it */
		blob = sub(s, "blobs", f->etag);
		if (ms_file_has_size(blob, f->size) && link_pointer(s, f, NULL) == 0)
			state = MS_FILE_CACHED;
		free(blob);
	}
	free(ptr);
	return state;
}

static int hf_prepare(struct ms_store *st, const struct ms_file *f, char **part, char **state,
                      struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *snap;
	int ret;

	if (!f->etag)
		return ms_error_set(err, MS_EPROTO, "'%s' has no etag", f->path);
	snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);
	ret = ms_dirmemo_chain(&s->dirs, snap, true, f->path, err);
	free(snap);
	if (ret)
		return ret;
	*part = xasprintf("%s/blobs/%s" MS_HF_PARTIAL_SUFFIX, s->repo_dir, f->etag);
	*state = locks_file(s, f->etag, MS_HF_RESUME_SUFFIX);
	return 0;
}

static int hf_acquire(struct ms_store *st, const struct ms_file *f, int *lock_fd,
                      struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *path = locks_file(s, f->etag, ".lock"), *blob;
	int ret = ms_lock_try(path, lock_fd, err);

	free(path);
	if (ret || st->force)
		return ret;
	blob = sub(s, "blobs", f->etag);
	if (ms_file_has_size(blob, f->size))
		ret = 2; /* another process finished it meanwhile */
	free(blob);
	return ret;
}

static void hf_release(struct ms_store *st, const struct ms_file *f, int lock_fd)
{
	(void)st;
	(void)f;
	ms_lock_release(lock_fd);
}

static int hf_install(struct ms_store *st, const struct ms_file *f, const char *part,
                      struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *dst = sub(s, "blobs", f->etag);
	int ret = 0;

	if (access(part, F_OK) == 0 && s->no_symlinks) {
		/* without symlinks the new blob moves into the snapshot (§2.2) */
		char *ptr = pointer_path(s, f->path);

		if (rename(part, ptr) < 0)
			ret = ms_error_errno(err, errno, "cannot move the download into", ptr);
		free(ptr);
		free(dst);
		return ret;
	}
	if (access(part, F_OK) == 0 && ms_rename_memo(part, dst) < 0)
		ret = ms_error_errno(err, errno, "cannot move the download into", dst);
	free(dst);
	return ret ? ret : link_pointer(s, f, err);
}

/* refs/<rev>: exactly the 40 hex digits, no newline; refs/pr/1 nests */
static int write_ref(struct store_hf *s, const char *commit, struct ms_error *err)
{
	char *dir, *path;
	const char *why;
	int ret;

	if (!ms_is_commit_id(commit) || ms_is_commit_id(s->rev))
		return 0;
	if (ms_path_check(s->rev, &why))
		return ms_error_set(err, MS_EUNSAFE, "refusing revision name '%s': %s", s->rev,
		                    why);
	dir = sub(s, "refs", NULL);
	path = ms_path_join(dir, s->rev);
	ret = ms_mkdirs(dir, 0755, err);
	if (!ret)
		ret = ms_mkparents_beneath(dir, s->rev, err);
	if (!ret)
		ret = ms_write_file_if_changed(path, commit, strlen(commit), err);
	free(dir);
	free(path);
	return ret;
}

static bool etag_listed(const struct ms_listing *l, const char *etag)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->files[i].etag && !strcmp(l->files[i].etag, etag))
			return true;
	return false;
}

/*
 * Partials are named by etag, so a file that changed upstream leaves its old partial
 * behind for good.  After a run with the whole tree, remove the partials of blobs the
 * tree no longer has, unless another process holds their lock (it may be downloading an
 * older revision).  The cost: an interrupted download of an older revision starts those
 * files again.
 */
static void sweep_stale_partials(struct store_hf *s)
{
	const struct ms_listing *l = s->listing;
	size_t k = strlen(MS_HF_PARTIAL_SUFFIX);
	char *blobs;
	DIR *dir;
	struct dirent *de;

	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (!l->files[i].oid) /* HEADs of single files, not the tree: cannot tell */
			return;
	blobs = sub(s, "blobs", NULL);
	dir = opendir(blobs);
	while (dir && (de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name);
		char *etag, *lock, *part, *state;
		int fd;

		if (!ms_has_suffix(de->d_name, MS_HF_PARTIAL_SUFFIX))
			continue;
		etag = xstrndup(de->d_name, n - k);
		if (etag_listed(l, etag)) {
			free(etag);
			continue;
		}
		lock = locks_file(s, etag, ".lock");
		fd = open(lock, O_RDWR | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0) {
			part = ms_path_join(blobs, de->d_name);
			state = locks_file(s, etag, MS_HF_RESUME_SUFFIX);
			if (unlink(part) == 0)
				ms_verbose("removed '%s': no file of %s has that etag any more",
				           part, s->commit);
			unlink(state);
			free(part);
			free(state);
		}
		if (fd >= 0)
			close(fd);
		free(lock);
		free(etag);
	}
	if (dir)
		closedir(dir);
	free(blobs);
}

static int hf_finish(struct ms_store *st, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *snap;
	int ret;

	if (!s->commit)
		return 0;
	sweep_stale_partials(s);
	/* the printed snapshot path exists even when nothing matched */
	snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);
	ret = ms_mkdirs(snap, 0755, err);
	free(snap);
	if (!ret)
		ret = write_ref(s, s->commit, err);
	ms_lock_release(s->repo_lock);
	s->repo_lock = -1;
	return ret;
}

static int hf_local_listing(struct ms_store *st, const char *commit, struct ms_listing *out)
{
	struct store_hf *s = (struct store_hf *)st;
	int ret = ms_hf_tree_read(s->repo_dir, commit, out);

	if (!ret) {
		s->listing_from_cache = true;
		out->revision = xstrdup(s->rev);
	}
	return ret;
}

static void hf_no_exist(struct ms_store *st, const char *commit, const char *path)
{
	struct store_hf *s = (struct store_hf *)st;
	char *dir, *file;
	const char *why;
	int fd;

	if (!ms_is_commit_id(commit) || ms_path_check(path, &why))
		return;
	dir = xasprintf("%s/.no_exist/%s", s->repo_dir, commit);
	file = ms_path_join(dir, path);
	if (ms_mkdirs(dir, 0755, NULL) == 0 && ms_mkparents_beneath(dir, path, NULL) == 0) {
		fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		/* readers find .no_exist/<commit> through refs/<rev> (huggingface_hub does both) */
		write_ref(s, commit, NULL);
	}
	free(dir);
	free(file);
}

/* refs/<rev> names the commit; tolerate the trailing newline some hand-made caches have */
static char *read_ref(const struct store_hf *s, const char *rev)
{
	char *ref = xasprintf("%s/refs/%s", s->repo_dir, rev), *data = NULL, *commit = NULL;

	if (ms_read_file(ref, 4096, &data, NULL, NULL) == 0) {
		data[strcspn(data, " \r\n\t")] = '\0';
		if (ms_is_commit_id(data))
			commit = xstrdup(data);
	}
	free(data);
	free(ref);
	return commit;
}

static int hf_offline_listing(struct ms_store *st, const char *rev, struct ms_listing *out,
                              bool *complete_known, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *snap;

	(void)err;
	*complete_known = false;
	if (!s->commit)
		s->commit = ms_is_commit_id(rev) ? xstrdup(rev) : read_ref(s, rev);
	if (!s->commit) {
		out->revision = xstrdup(rev);
		return 0;
	}
	if (ms_hf_tree_read(s->repo_dir, s->commit, out) == 0) {
		*complete_known = true;
		out->revision = xstrdup(rev);
		return 0;
	}
	snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);
	out->revision = xstrdup(rev);
	out->commit = xstrdup(s->commit);
	ms_hf_walk_files(snap, NULL, out);
	free(snap);
	return 0;
}

static char *hf_file_path(struct ms_store *st, const struct ms_file *f)
{
	return pointer_path((struct store_hf *)st, f->path);
}

static char *hf_result_path(struct ms_store *st)
{
	struct store_hf *s = (struct store_hf *)st;

	return xasprintf("%s/snapshots/%s", s->repo_dir, s->commit ? s->commit : "");
}

static void hf_free(struct ms_store *st)
{
	struct store_hf *s = (struct store_hf *)st;

	free(s->rev);
	free(s->commit);
	free(s->root);
	free(s->repo_dir);
	free(s->locks);
	ms_lock_release(s->repo_lock);
	free(s->folder);
	ms_dirmemo_release(&s->dirs);
	free(s);
}

static const struct ms_store_ops store_hf_ops = {
        .lock = hf_lock,
        .begin = hf_begin,
        .lookup = hf_lookup,
        .prepare = hf_prepare,
        .acquire = hf_acquire,
        .release = hf_release,
        .install = hf_install,
        .finish = hf_finish,
        .local_listing = hf_local_listing,
        .no_exist = hf_no_exist,
        .offline_listing = hf_offline_listing,
        .file_path = hf_file_path,
        .result_path = hf_result_path,
        .stat = ms_store_hf_stat,
        .check_list = ms_store_hf_check_list,
        .bundle_list = ms_store_hf_bundle_list,
        .import_check = ms_store_hf_import_check,
        .import = ms_store_hf_import,
        .remove = ms_store_hf_remove,
        .prune_partials = ms_store_hf_prune_partials,
        .free = hf_free,
};

char *ms_hf_repo_folder(const struct ms_repo *repo)
{
	return xasprintf("%ss--%s%s%s", ms_repo_type_name(repo->type),
	                 repo->owner ? repo->owner : repo->name, repo->owner ? "--" : "",
	                 repo->owner ? repo->name : "");
}

struct ms_store *ms_store_hf_new(const char *root, const struct ms_repo *repo, const char *rev,
                                 const char *commit)
{
	struct store_hf *s = xcalloc(1, sizeof(*s));
	char *folder = ms_hf_repo_folder(repo);

	s->base.ops = &store_hf_ops;
	s->rev = xstrdup(rev);
	s->commit = commit ? xstrdup(commit) : NULL;
	s->no_symlinks = ms_env_true("HF_HUB_DISABLE_SYMLINKS");
	s->root = xstrdup(root);
	s->repo_dir = ms_path_join(root, folder);
	s->locks = xasprintf("%s/.locks/%s", root, folder);
	s->repo_lock = -1;
	s->folder = folder;
	return &s->base;
}
