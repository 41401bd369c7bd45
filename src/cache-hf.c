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
 * Partials are blobs/<etag>.mscli.incomplete (not "<etag>.incomplete":
 * huggingface_hub <= 1.17 takes a full-length file of that name as done,
 * and a ranged partial is allocated to full length), resume state in
 * .locks/<folder>/<etag>.mscli-resume.  With --local-dir: plain files and
 * DIR/.cache/huggingface/{download/<path>.metadata,trees/<commit>.json}.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/json.h"
#include "mscli/lock.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/store.h"
#include "mscli/strbuf.h"

#define PARTIAL_SUFFIX ".mscli.incomplete"
#define RESUME_SUFFIX  ".mscli-resume"

struct store_hf {
	struct ms_store base;
	char *rev, *commit;
	char *root;     /* cache root (NULL with --local-dir) */
	char *repo_dir; /* <root>/<folder>, or DIR/.cache/huggingface for --local-dir */
	char *locks;    /* lock and resume-state directory */
	char *local;    /* --local-dir DIR */
	bool no_symlinks;
	const struct ms_listing *listing;
	bool listing_from_cache;
};

static const char cachedir_tag[] =
        "Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by huggingface_hub.\n"
        "# For information about cache directory tags, see:\n"
        "#\thttps://bford.info/cachedir/\n";

char *ms_hf_home(void)
{
	const char *v = ms_getenv("HF_HOME"), *xdg;

	char *x, *out;

	if (v)
		return ms_expand_path(v);
	xdg = ms_getenv("XDG_CACHE_HOME");
	if (!xdg)
		return ms_home_path(".cache/huggingface");
	x = ms_expand_path(xdg);
	out = ms_path_join(x, "huggingface");
	free(x);
	return out;
}

bool ms_hf_offline(void)
{
	return ms_env_true("HF_HUB_OFFLINE") || ms_env_true("TRANSFORMERS_OFFLINE");
}

char *ms_hf_default_cache(void)
{
	const char *v = ms_getenv("HF_HUB_CACHE");
	char *home, *out;

	if (!v)
		v = ms_getenv("HUGGINGFACE_HUB_CACHE");
	if (v)
		return ms_expand_path(v);
	home = ms_hf_home();
	out = ms_path_join(home, "hub");
	free(home);
	return out;
}

static bool is_commit(const char *s)
{
	return s && strlen(s) == 40 && ms_is_hex(s, 40);
}

/* .locks/<folder>/<etag><suffix>: the blob's lock and its resume state */
static char *locks_file(const struct store_hf *s, const char *etag, const char *suffix)
{
	return xasprintf("%s/%s%s", s->locks, etag, suffix);
}

static char *sub(const struct store_hf *s, const char *a, const char *b)
{
	return b ? xasprintf("%s/%s/%s", s->repo_dir, a, b) : ms_path_join(s->repo_dir, a);
}

/* ---- trees/<commit>.json in huggingface_hub's format (_tree_cache.py) ---- */

static int read_tree(const struct store_hf *s, const char *commit, struct ms_listing *out)
{
	char *name = xasprintf("%s.json", commit), *path = sub(s, "trees", name), *data = NULL;
	const cJSON *files, *e, *ver;
	cJSON *root = NULL;
	size_t len;
	int ret = -1;

	if (ms_read_file(path, 512u << 20, &data, &len, NULL) != 0)
		goto out;
	root = cJSON_ParseWithLength(data, len);
	ver = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	files = cJSON_GetObjectItemCaseSensitive(root, "files");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != 1 || !cJSON_IsObject(files))
		goto out;
	cJSON_ArrayForEach(e, files)
	{
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
		const cJSON *blob = cJSON_GetObjectItemCaseSensitive(e, "blob_id");
		const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs_sha256");
		const char *why;
		struct ms_file *f;

		uint64_t sz;

		if (!e->string || ms_path_check(e->string, &why) || !ms_json_u64(size, &sz) ||
		    !cJSON_IsString(blob))
			goto out;
		f = ms_listing_add(out);
		f->path = xstrdup(e->string);
		f->size = sz;
		if (cJSON_IsString(lfs) &&
		    ms_hash_algo_for_hex(lfs->valuestring) == MS_HASH_SHA256) {
			f->algo = MS_HASH_SHA256;
			f->lfs = true;
			strcpy(f->digest, lfs->valuestring);
		} else if (ms_hash_algo_for_hex(blob->valuestring) == MS_HASH_GITSHA1) {
			f->algo = MS_HASH_GITSHA1;
			strcpy(f->digest, blob->valuestring);
		} else {
			goto out;
		}
		f->etag = xstrdup(f->digest);
		f->oid = xstrdup(blob->valuestring);
	}
	out->commit = xstrdup(commit);
	ret = 0;
out:
	if (ret)
		ms_listing_release(out);
	cJSON_Delete(root);
	free(data);
	free(path);
	free(name);
	return ret;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct ms_file *const *)a)->path,
	              (*(const struct ms_file *const *)b)->path);
}

static int write_tree(const struct store_hf *s, const struct ms_listing *l, struct ms_error *err)
{
	cJSON *root = cJSON_CreateObject(), *files;
	const struct ms_file **sorted = xcalloc(l->n + 1, sizeof(*sorted));
	char *dir = sub(s, "trees", NULL), *name = xasprintf("%s.json", l->commit), *path, *text;
	int ret;

	for (size_t i = 0; i < l->n; i++) {
		/* a listing from HEADs has no tree oids: it is not a tree, write nothing */
		if (!l->files[i].oid) {
			ret = 0;
			path = NULL;
			text = NULL;
			goto out;
		}
		sorted[i] = &l->files[i];
	}
	qsort(sorted, l->n, sizeof(*sorted), path_cmp);
	cJSON_AddNumberToObject(root, "format_version", 1);
	files = cJSON_AddObjectToObject(root, "files");
	for (size_t i = 0; i < l->n; i++) {
		cJSON *o = cJSON_AddObjectToObject(files, sorted[i]->path);

		cJSON_AddNumberToObject(o, "size", (double)sorted[i]->size);
		cJSON_AddStringToObject(o, "blob_id", sorted[i]->oid);
		if (sorted[i]->lfs) {
			cJSON_AddStringToObject(o, "lfs_sha256", sorted[i]->digest);
			cJSON_AddNumberToObject(o, "lfs_size", (double)sorted[i]->size);
		}
	}
	text = cJSON_Print(root);
	path = ms_path_join(dir, name);
	ret = ms_mkdirs(dir, 0755, err);
	/* whole and atomic: a partial tree would make offline readers fail */
	if (!ret)
		ret = ms_write_file_atomic(path, text, strlen(text), 0644, err);
	cJSON_free(text);
	text = NULL;
out:
	cJSON_Delete(root);
	free(sorted);
	free(dir);
	free(name);
	free(path);
	return ret;
}

/* ---- cache mode ---- */

static char *pointer_path(const struct store_hf *s, const char *path)
{
	if (s->local)
		return ms_path_join(s->local, path);
	return xasprintf("%s/snapshots/%s/%s", s->repo_dir, s->commit, path);
}

static char *meta_path(const struct store_hf *s, const char *path, const char *suffix)
{
	return xasprintf("%s/download/%s%s", s->repo_dir, path, suffix);
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

/* Point snapshots/<commit>/<path> at the blob (atomic replace of any old link). */
static int link_pointer(struct store_hf *s, const struct ms_file *f, struct ms_error *err)
{
	char *snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);
	char *ptr = pointer_path(s, f->path), *blob = sub(s, "blobs", f->etag);
	char *tmp = NULL, *target = NULL;
	int ret = ms_mkdirs(snap, 0755, err);

	if (!ret)
		ret = ms_mkparents_beneath(snap, f->path, err);
	if (ret)
		goto out;
	if (s->no_symlinks) {
		ret = ms_copy_file_atomic(blob, ptr, err); /* streamed: shards are GBs */
		goto out;
	}
	target = relative_blob(f->path, f->etag);
	tmp = ms_temp_beside(ptr);
	if (symlink(target, tmp) < 0)
		ret = ms_error_errno(err, errno, "cannot create symlink", tmp);
	else if (rename(tmp, ptr) < 0) {
		ret = ms_error_errno(err, errno, "cannot rename to", ptr);
		unlink(tmp);
	}
out:
	free(snap);
	free(ptr);
	free(blob);
	free(tmp);
	free(target);
	return ret;
}

static bool file_has_size(const char *path, uint64_t size)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

static int hf_lock(struct ms_store *st, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	int ret;

	if (s->local) {
		char *dl = ms_path_join(s->repo_dir, "download");

		ret = ms_mkdirs(dl, 0755, err);
		free(dl);
		return ret;
	}
	if ((ret = ms_mkdirs(s->locks, 0755, err)))
		return ret;
	{
		char *blobs = sub(s, "blobs", NULL);

		ret = ms_mkdirs(blobs, 0755, err);
		free(blobs);
	}
	return ret;
}

static int write_if_changed(const char *path, const char *data, struct ms_error *err)
{
	char *old = NULL;
	size_t len = strlen(data), oldlen = 0;
	int ret = 0;

	if (ms_read_file(path, len + 1, &old, &oldlen, NULL) != 0 || oldlen != len ||
	    memcmp(old, data, len))
		ret = ms_write_file_atomic(path, data, len, 0644, err);
	free(old);
	return ret;
}

static int hf_begin(struct ms_store *st, const struct ms_listing *l, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *tag = s->local ? ms_path_join(s->repo_dir, "CACHEDIR.TAG")
	                     : ms_path_join(s->root, "CACHEDIR.TAG");
	int ret = 0;

	s->listing = l;
	/* a warm run (or one with nothing to fetch) gets here without lock() */
	ret = ms_mkdirs(s->local ? s->repo_dir : s->root, 0755, err);
	if (!ret && access(tag, F_OK) != 0)
		ret = ms_write_file_atomic(tag, cachedir_tag, sizeof(cachedir_tag) - 1, 0644, err);
	free(tag);
	if (!ret && s->local) {
		char *gi = ms_path_join(s->repo_dir, ".gitignore");

		if (access(gi, F_OK) != 0)
			ret = ms_write_file_atomic(gi, "*", 1, 0644, err);
		free(gi);
	}
	/* the whole tree, as huggingface_hub >= 1.22 writes it after listing */
	if (!ret && l->commit && !s->listing_from_cache)
		ret = write_tree(s, l, err);
	return ret;
}

static int read_metadata(const struct store_hf *s, const char *path, char **commit, char **etag,
                         double *ts)
{
	char *mp = meta_path(s, path, ".metadata"), *data = NULL;
	char *save = NULL, *c, *e, *t;
	int ret = -1;

	if (ms_read_file(mp, 4096, &data, NULL, NULL) == 0 && (c = strtok_r(data, "\n", &save)) &&
	    (e = strtok_r(NULL, "\n", &save)) && (t = strtok_r(NULL, "\n", &save))) {
		*commit = xstrdup(c);
		*etag = xstrdup(e);
		*ts = strtod(t, NULL);
		ret = 0;
	}
	free(data);
	free(mp);
	return ret;
}

static int write_metadata(const struct store_hf *s, const struct ms_file *f, struct ms_error *err)
{
	char *mp = meta_path(s, f->path, ".metadata");
	char *dir = ms_path_join(s->repo_dir, "download");
	struct timespec now;
	char *text;
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	/* "<commit>\n<etag>\n<unix time>\n" (_local_folder.py) */
	text = xasprintf("%s\n%s\n%ld.%06ld\n", s->commit ? s->commit : "", f->etag,
	                 (long)now.tv_sec, now.tv_nsec / 1000);
	ret = ms_mkparents_beneath(dir, f->path, err);
	if (!ret)
		ret = ms_write_file_atomic(mp, text, strlen(text), 0644, err);
	free(text);
	free(dir);
	free(mp);
	return ret;
}

static enum ms_file_state local_lookup(struct store_hf *s, const struct ms_file *f)
{
	char *file = pointer_path(s, f->path), *commit = NULL, *etag = NULL;
	enum ms_file_state state = MS_FILE_MISSING;
	struct stat sb;
	double ts = 0;
	char hex[MS_HEX_MAX];

	if (lstat(file, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != f->size)
		goto out;
	/* valid while the file is not newer than its record (huggingface_hub's rule) */
	if (read_metadata(s, f->path, &commit, &etag, &ts) == 0 && f->etag &&
	    !strcmp(etag, f->etag) && (double)sb.st_mtime - 1 <= ts) {
		state = MS_FILE_CACHED;
		goto out;
	}
	if (s->base.adopt_unindexed && f->digest[0] &&
	    ms_hash_file(file, f->algo, hex, NULL) == 0 && !strcmp(hex, f->digest) &&
	    write_metadata(s, f, NULL) == 0)
		state = MS_FILE_CACHED;
out:
	free(file);
	free(commit);
	free(etag);
	return state;
}

static enum ms_file_state hf_lookup(struct ms_store *st, const struct ms_file *f)
{
	struct store_hf *s = (struct store_hf *)st;
	char *ptr, *blob;
	enum ms_file_state state = MS_FILE_MISSING;

	if (s->local)
		return local_lookup(s, f);
	if (!s->commit)
		return MS_FILE_MISSING;
	ptr = pointer_path(s, f->path);
	if (file_has_size(ptr, f->size)) {
		state = MS_FILE_CACHED;
	} else if (st->adopt_unindexed && f->etag) {
		/* the blob is there (another revision shares it): just link it */
		blob = sub(s, "blobs", f->etag);
		if (file_has_size(blob, f->size) && link_pointer(s, f, NULL) == 0)
			state = MS_FILE_CACHED;
		free(blob);
	}
	free(ptr);
	return state;
}

static int hf_prepare(struct ms_store *st, const struct ms_file *f, struct ms_xfer_job *job,
                      struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	int ret;

	if (!f->etag)
		return ms_error_set(err, MS_EPROTO, "'%s' has no etag", f->path);
	if (s->local) {
		char *dl = ms_path_join(s->repo_dir, "download");

		ret = ms_mkparents_beneath(dl, f->path, err);
		if (!ret)
			ret = ms_mkparents_beneath(s->local, f->path, err);
		free(dl);
		if (ret)
			return ret;
		job->part_path = meta_path(s, f->path, PARTIAL_SUFFIX);
		job->state_path = meta_path(s, f->path, RESUME_SUFFIX);
		return 0;
	}
	{
		char *snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);

		ret = ms_mkdirs(snap, 0755, err);
		if (!ret)
			ret = ms_mkparents_beneath(snap, f->path, err);
		free(snap);
		if (ret)
			return ret;
	}
	job->part_path = xasprintf("%s/blobs/%s" PARTIAL_SUFFIX, s->repo_dir, f->etag);
	job->state_path = locks_file(s, f->etag, RESUME_SUFFIX);
	return 0;
}

static int hf_acquire(struct ms_store *st, struct ms_xfer_job *job, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	const struct ms_file *f = job->user;
	char *path = s->local ? meta_path(s, f->path, ".lock") : locks_file(s, f->etag, ".lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	int ret = 0;

	if (fd < 0) {
		ret = ms_error_errno(err, errno, "cannot create lock file", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			close(fd);
			ret = 1;
			goto out;
		}
		/* no locking on this filesystem: go on without */
		close(fd);
		fd = -1;
	}
	job->lock_fd = fd;
	if (s->local && !st->force && local_lookup(s, f) == MS_FILE_CACHED) {
		ret = 2; /* another process put it there while we waited for the lock */
	} else if (!s->local && !st->force) {
		char *blob = sub(s, "blobs", f->etag);

		if (file_has_size(blob, f->size))
			ret = 2; /* another process finished it meanwhile */
		free(blob);
	}
out:
	free(path);
	return ret;
}

static void hf_release(struct ms_store *st, struct ms_xfer_job *job)
{
	(void)st;
	if (job->lock_fd >= 0)
		close(job->lock_fd);
	job->lock_fd = -1;
}

static int hf_install(struct ms_store *st, const struct ms_file *f, const char *part,
                      struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	char *dst;
	int ret = 0;

	if (s->local) {
		if (access(part, F_OK) != 0 && local_lookup(s, f) == MS_FILE_CACHED)
			return 0; /* finished by another process: file and metadata are there */
		dst = pointer_path(s, f->path);
		if (rename(part, dst) < 0)
			ret = ms_error_errno(err, errno, "cannot move the download into", dst);
		free(dst);
		return ret ? ret : write_metadata(s, f, err);
	}
	dst = sub(s, "blobs", f->etag);
	if (access(part, F_OK) == 0 && s->no_symlinks) {
		/* without symlinks the new blob moves into the snapshot (§2.2) */
		char *ptr = pointer_path(s, f->path);

		if (rename(part, ptr) < 0)
			ret = ms_error_errno(err, errno, "cannot move the download into", ptr);
		free(ptr);
		free(dst);
		return ret;
	}
	if (access(part, F_OK) == 0 && rename(part, dst) < 0)
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

	if (s->local || !is_commit(commit) || is_commit(s->rev))
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
		ret = write_if_changed(path, commit, err);
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
	char *blobs;
	DIR *dir;
	struct dirent *de;

	if (s->local || !l)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (!l->files[i].oid) /* HEADs of single files, not the tree: cannot tell */
			return;
	blobs = sub(s, "blobs", NULL);
	dir = opendir(blobs);
	while (dir && (de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name), k = strlen(PARTIAL_SUFFIX);
		char *etag, *lock, *part, *state;
		int fd;

		if (n <= k || strcmp(de->d_name + n - k, PARTIAL_SUFFIX))
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
			state = locks_file(s, etag, RESUME_SUFFIX);
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
	int ret = 0;

	if (s->local || !s->commit)
		return 0;
	sweep_stale_partials(s);
	/* the printed snapshot path exists even when nothing matched */
	{
		char *snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);

		ret = ms_mkdirs(snap, 0755, err);
		free(snap);
	}
	return ret ? ret : write_ref(s, s->commit, err);
}

static int hf_local_listing(struct ms_store *st, const char *commit, struct ms_listing *out)
{
	struct store_hf *s = (struct store_hf *)st;
	int ret = read_tree(s, commit, out);

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

	if (s->local || !is_commit(commit) || ms_path_check(path, &why))
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

static void walk_snapshot(const char *top, const char *rel, struct ms_listing *out)
{
	char *dirpath = rel ? ms_path_join(top, rel) : xstrdup(top);
	DIR *d = opendir(dirpath);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		char *r, *full;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rel ? ms_path_join(rel, de->d_name) : xstrdup(de->d_name);
		full = ms_path_join(top, r);
		if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			walk_snapshot(top, r, out);
		} else if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode)) {
			struct ms_file *f = ms_listing_add(out);
			char target[PATH_MAX];
			ssize_t n = readlink(full, target, sizeof(target) - 1);
			const char *etag;

			f->path = xstrdup(r);
			f->size = (uint64_t)sb.st_size;
			/* a pointer names its blob, and the blob's name is the etag */
			if (n > 0) {
				target[n] = '\0';
				etag = strstr(target, "blobs/");
				if (etag && *(etag += 6) && !strchr(etag, '/')) {
					f->etag = xstrdup(etag);
					f->algo = ms_hash_algo_for_hex(etag);
					if (f->algo != MS_HASH_NONE)
						strcpy(f->digest, etag);
					f->lfs = f->algo == MS_HASH_SHA256;
				}
			}
		}
		free(r);
		free(full);
	}
	if (d)
		closedir(d);
	free(dirpath);
}

static int hf_offline_listing(struct ms_store *st, const char *rev, struct ms_listing *out,
                              bool *complete_known, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;

	(void)err;
	*complete_known = false;
	if (s->local) {
		/* --local-dir keeps no refs: the commit its files came from tells */
		char *commit = NULL, *etag = NULL;
		double ts;

		out->revision = xstrdup(rev);
		walk_snapshot(s->local, NULL, out);
		for (size_t i = 0; i < out->n; i++) {
			struct ms_file *f = &out->files[i];

			if (!strncmp(f->path, ".cache/huggingface/", 19))
				continue;
			if (read_metadata(s, f->path, &commit, &etag, &ts) == 0) {
				f->etag = etag;
				free(s->commit);
				s->commit = commit;
				etag = commit = NULL;
			}
		}
		if (s->commit) {
			struct ms_listing tree = {0};

			if (read_tree(s, s->commit, &tree) == 0) {
				ms_listing_release(out);
				*out = tree;
				out->revision = xstrdup(rev);
				*complete_known = true;
			}
		}
		return 0;
	}
	if (!s->commit) {
		if (is_commit(rev)) {
			s->commit = xstrdup(rev);
		} else {
			char *ref = xasprintf("%s/refs/%s", s->repo_dir, rev), *data = NULL;

			/* tolerate the trailing newline some hand-made caches have */
			if (ms_read_file(ref, 4096, &data, NULL, NULL) == 0) {
				data[strcspn(data, " \r\n\t")] = '\0';
				if (is_commit(data))
					s->commit = xstrdup(data);
			}
			free(data);
			free(ref);
		}
	}
	if (!s->commit) {
		out->revision = xstrdup(rev);
		return 0;
	}
	if (read_tree(s, s->commit, out) == 0) {
		*complete_known = true;
		out->revision = xstrdup(rev);
		return 0;
	}
	{
		char *snap = xasprintf("%s/snapshots/%s", s->repo_dir, s->commit);

		out->revision = xstrdup(rev);
		out->commit = xstrdup(s->commit);
		walk_snapshot(snap, NULL, out);
		free(snap);
	}
	return 0;
}

static const char *hf_reserved(struct ms_store *st, const char *path)
{
	struct store_hf *s = (struct store_hf *)st;

	if (s->local &&
	    (!strncmp(path, ".cache/huggingface/", 19) || !strcmp(path, ".cache/huggingface")))
		return "a name hf download --local-dir uses for its own bookkeeping";
	return NULL;
}

static char *hf_file_path(struct ms_store *st, const struct ms_file *f)
{
	return pointer_path((struct store_hf *)st, f->path);
}

static char *hf_result_path(struct ms_store *st)
{
	struct store_hf *s = (struct store_hf *)st;

	if (s->local)
		return xstrdup(s->local);
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
	free(s->local);
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
        .reserved = hf_reserved,
        .file_path = hf_file_path,
        .result_path = hf_result_path,
        .free = hf_free,
};

struct ms_store *ms_store_hf_new(const char *root, const char *local_dir,
                                 const struct ms_repo *repo, const char *rev, const char *commit)
{
	struct store_hf *s = xcalloc(1, sizeof(*s));
	char *folder;

	s->base.ops = &store_hf_ops;
	s->rev = xstrdup(rev);
	s->commit = commit ? xstrdup(commit) : NULL;
	s->no_symlinks = ms_env_true("HF_HUB_DISABLE_SYMLINKS");
	/* "models--org--name" (repo_folder_name) */
	folder = xasprintf("%ss--%s%s%s", ms_repo_type_name(repo->type),
	                   repo->owner ? repo->owner : repo->name, repo->owner ? "--" : "",
	                   repo->owner ? repo->name : "");
	if (local_dir) {
		s->local = xstrdup(local_dir);
		s->repo_dir = ms_path_join(local_dir, ".cache/huggingface");
		s->locks = ms_path_join(s->repo_dir, "download");
	} else {
		s->root = xstrdup(root);
		s->repo_dir = ms_path_join(root, folder);
		s->locks = xasprintf("%s/.locks/%s", root, folder);
	}
	free(folder);
	return &s->base;
}
