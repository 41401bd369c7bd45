/*
 * --local-dir: plain files in a directory the user names, with the
 * bookkeeping huggingface_hub keeps for such a folder (hf-protocol.md §2.5,
 * _local_folder.py), for both hubs:
 *
 *   DIR/<path>                                  the files themselves
 *   DIR/.cache/<hub>/download/<path>.metadata   "<commit>\n<etag>\n<time>\n"
 *   DIR/.cache/<hub>/download/<path>.lock       flock while it is written
 *   DIR/.cache/huggingface/trees/<commit>.json  the whole tree (huggingface_hub's format)
 *   DIR/.cache/modelscope/listing-<rev>.json    the whole listing (mscli's)
 *   DIR/.cache/<hub>/{.gitignore,CACHEDIR.TAG}
 *
 * <hub> is "huggingface" or "modelscope".  For ModelScope the folder also
 * gets what modelscope <= 1.37 writes into a local_dir, so that client finds
 * the files there and does not fetch them again (modelscope-protocol.md §4.1,
 * §4.3):
 *
 *   DIR/.msc   pickle [{'Path','Revision'}] of the files that are there
 *   DIR/.mv    "Revision:<rev>,CreatedAt:<epoch>" (models) or "<rev>" (datasets)
 *
 * (both hubs' upload clients skip .cache/, .msc and .mv).  Nothing else is
 * written into the folder: a loader sees only the repo's files.  A file
 * counts as present while it has the listed size and is not newer than its
 * metadata (huggingface_hub's rule); partials and resume state sit beside
 * the metadata.  For ModelScope, whose listings have no etag, a file's key
 * is its SHA-256 (else its commit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/http.h"
#include "mscli/index.h"
#include "mscli/lock.h"
#include "mscli/pathsafe.h"
#include "mscli/pickle.h"
#include "mscli/store-hf.h"
#include "mscli/store.h"

/* What differs between the hubs' local folders. */
struct flavour {
	const char *meta;     /* DIR/<meta> holds the bookkeeping */
	bool hf_trees;        /* the listing as trees/<commit>.json, else listing-<rev>.json */
	const char *reserved; /* why <meta>/... cannot be a repo file */
	bool ms_index;        /* modelscope 1.37's .msc and .mv in DIR */
};

static const struct flavour hf_flavour = {
        ".cache/huggingface", true, "a name hf download --local-dir uses for its own bookkeeping"};
static const struct flavour ms_flavour = {
        ".cache/modelscope", false, "a name mscli keeps for a --local-dir's bookkeeping", true};

struct store_localdir {
	struct ms_store base;
	const struct flavour *fl;
	char *rev, *commit;
	char *dir;      /* the user's directory */
	char *meta_dir; /* DIR/.cache/<hub> */
	char *download; /* DIR/.cache/<hub>/download */
	const struct ms_listing *listing;
	bool listing_from_cache;
	/* ModelScope: DIR/.msc as modelscope 1.37 keeps it, and the repo's type for .mv */
	enum ms_repo_type type;
	struct ms_msc msc;
	bool msc_loaded, msc_dirty;
	/* the paths whose metadata names this run's commit (read or written here), so the
	 * walk for other commits need not read it again */
	struct ms_strset current;
	struct ms_dirmemo dirs; /* made in this run: once each, not once per file */
};

static void msc_load(struct store_localdir *s)
{
	if (s->msc_loaded)
		return;
	s->msc_loaded = true;
	/* an unreadable index starts empty and is written whole at the end */
	if (!ms_modelscope_read_msc(s->dir, &s->msc))
		s->msc_dirty = true;
}

/* f is in the folder, whole: the index says so (modelscope 1.37's key: path and revision). */
static void msc_note(struct store_localdir *s, const struct ms_file *f)
{
	const struct ms_msc_entry *e;

	if (!s->fl->ms_index || !f->revision)
		return;
	msc_load(s);
	e = ms_msc_find(&s->msc, f->path);
	if (!e || !e->revision || strcmp(e->revision, f->revision)) {
		ms_msc_set(&s->msc, f->path, f->revision);
		s->msc_dirty = true;
	}
}

/* What write_metadata() records as the commit. */
static const char *run_commit(const struct store_localdir *s)
{
	return s->commit ? s->commit : s->rev;
}

static bool is_current(struct store_localdir *s, const char *path)
{
	return ms_strset_has(&s->current, path);
}

static void mark_current(struct store_localdir *s, const char *path)
{
	if (!is_current(s, path)) /* looked up twice: before the lock and under it */
		ms_strset_add(&s->current, xstrdup(path));
}

static char *file_path(const struct store_localdir *s, const char *path)
{
	return ms_path_join(s->dir, path);
}

static char *meta_path(const struct store_localdir *s, const char *path, const char *suffix)
{
	return xasprintf("%s/%s%s", s->download, path, suffix);
}

/* What identifies the content of f: the HF etag, else its SHA-256, else its commit. */
static const char *file_key(const struct ms_file *f)
{
	if (f->etag)
		return f->etag;
	if (f->digest[0])
		return f->digest;
	return f->revision;
}

static int read_metadata(const struct store_localdir *s, const char *path, char **commit,
                         char **etag, double *ts)
{
	char *mp = meta_path(s, path, ".metadata"), *data = NULL;
	char *save = NULL, *c, *e, *t;
	int ret = -1;

	if (ms_read_record(mp, 4096, &data, NULL, NULL) == 0 && (c = strtok_r(data, "\n", &save)) &&
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

/*
 * A record, not synced (huggingface_hub does not sync it either): a killed run
 * leaves it whole or absent, a power cut may leave it empty, and a file whose
 * metadata does not parse is hashed again and its metadata written again
 * (ld_lookup).  Synced, it cost a journal commit per file: 2000 small files
 * waited for 2000 of them.
 */
static int write_metadata(struct store_localdir *s, const struct ms_file *f, struct ms_error *err)
{
	char *mp = meta_path(s, f->path, ".metadata");
	struct timespec now;
	char *text;
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	/* "<commit>\n<etag>\n<unix time>\n" (_local_folder.py) */
	text = xasprintf("%s\n%s\n%ld.%06ld\n", run_commit(s), file_key(f), (long)now.tv_sec,
	                 now.tv_nsec / 1000);
	ret = ms_dirmemo_mkparents(&s->dirs, s->download, f->path, err);
	if (!ret)
		ret = ms_write_record(mp, text, strlen(text), 0644, err);
	if (!ret)
		mark_current(s, f->path);
	free(text);
	free(mp);
	return ret;
}

static char *listing_path(const struct store_localdir *s, const char *rev)
{
	char *q = ms_url_quote_path(rev, false), *path;

	path = xasprintf("%s/listing-%s.json", s->meta_dir, q);
	free(q);
	return path;
}

/* The listing, for --offline: huggingface_hub's tree record, or ours. */
static int save_listing(const struct store_localdir *s, const struct ms_listing *l,
                        struct ms_error *err)
{
	char *path, *json;
	int ret;

	if (s->fl->hf_trees)
		return l->commit ? ms_hf_tree_write(s->meta_dir, l, err) : 0;
	path = listing_path(s, s->rev);
	json = ms_listing_to_json(l);
	ret = ms_write_record_if_changed(path, json, strlen(json), err);
	free(json);
	free(path);
	return ret;
}

static int load_listing(const struct store_localdir *s, const char *rev, const char *commit,
                        struct ms_listing *out)
{
	char *path, *data = NULL;
	size_t len;
	int ret = -1;

	if (s->fl->hf_trees)
		return commit ? ms_hf_tree_read(s->meta_dir, commit, out) : -1;
	path = listing_path(s, rev);
	if (ms_read_file(path, 256u << 20, &data, &len, NULL) == 0 &&
	    ms_listing_from_json(data, len, out) == 0)
		ret = 0;
	free(data);
	free(path);
	return ret;
}

static int ld_lock(struct ms_store *st, struct ms_error *err)
{
	return ms_mkdirs(((struct store_localdir *)st)->download, 0755, err);
}

static int ld_begin(struct ms_store *st, const struct ms_listing *l, struct ms_error *err)
{
	struct store_localdir *s = (struct store_localdir *)st;
	char *gi = ms_path_join(s->meta_dir, ".gitignore");
	int ret = ms_hf_cachedir_tag(s->meta_dir, err);

	s->listing = l;
	if (!ret && access(gi, F_OK) != 0)
		ret = ms_write_file_atomic(gi, "*", 1, 0644, err);
	free(gi);
	if (!ret && !s->listing_from_cache)
		ret = save_listing(s, l, err);
	return ret;
}

static enum ms_file_state ld_lookup(struct ms_store *st, const struct ms_file *f)
{
	struct store_localdir *s = (struct store_localdir *)st;
	char *file = file_path(s, f->path), *commit = NULL, *etag = NULL;
	enum ms_file_state state = MS_FILE_MISSING;
	struct stat sb;
	double ts = 0;
	char hex[MS_HEX_MAX];

	if (ms_dirprobe_stat(st->probe, file, false, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != f->size)
		goto out;
	/* valid while the file is not newer than its record (huggingface_hub's rule) */
	if (read_metadata(s, f->path, &commit, &etag, &ts) == 0 && file_key(f) &&
	    !strcmp(etag, file_key(f)) && (double)sb.st_mtime - 1 <= ts) {
		state = MS_FILE_CACHED;
		if (!strcmp(commit, run_commit(s)))
			mark_current(s, f->path);
		goto out;
	}
	if (st->adopt_unindexed && f->digest[0] && ms_hash_file(file, f->algo, hex, NULL) == 0 &&
	    !strcmp(hex, f->digest) && write_metadata(s, f, NULL) == 0)
		state = MS_FILE_CACHED;
out:
	if (state == MS_FILE_CACHED)
		msc_note(s, f);
	free(file);
	free(commit);
	free(etag);
	return state;
}

static int ld_prepare(struct ms_store *st, const struct ms_file *f, char **part, char **state,
                      struct ms_error *err)
{
	struct store_localdir *s = (struct store_localdir *)st;
	int ret;

	if (!file_key(f))
		return ms_error_set(err, MS_EPROTO, "'%s' has no etag", f->path);
	ret = ms_dirmemo_mkparents(&s->dirs, s->download, f->path, err);
	if (!ret)
		ret = ms_dirmemo_mkparents(&s->dirs, s->dir, f->path, err);
	if (ret)
		return ret;
	*part = meta_path(s, f->path, MS_HF_PARTIAL_SUFFIX);
	*state = meta_path(s, f->path, MS_HF_RESUME_SUFFIX);
	return 0;
}

static int ld_acquire(struct ms_store *st, const struct ms_file *f, int *lock_fd,
                      struct ms_error *err)
{
	struct store_localdir *s = (struct store_localdir *)st;
	char *path = meta_path(s, f->path, ".lock");
	int ret = ms_lock_try(path, lock_fd, err);

	free(path);
	if (!ret && !st->force && ld_lookup(st, f) == MS_FILE_CACHED)
		ret = 2; /* another process put it there while we waited for the lock */
	return ret;
}

static void ld_release(struct ms_store *st, const struct ms_file *f, int lock_fd)
{
	(void)st;
	(void)f;
	ms_lock_release(lock_fd);
}

static int ld_install(struct ms_store *st, const struct ms_file *f, const char *part,
                      struct ms_error *err)
{
	struct store_localdir *s = (struct store_localdir *)st;
	char *dst;
	int ret;

	if (access(part, F_OK) != 0 && ld_lookup(st, f) == MS_FILE_CACHED)
		return 0; /* finished by another process: file and metadata are there */
	dst = file_path(s, f->path);
	ret = ms_dirmemo_place(&s->dirs, s->dir, false, f->path, ms_rename_memo, part, dst,
	                       "cannot move the download into", err);
	free(dst);
	if (!ret)
		ret = write_metadata(s, f, err);
	if (!ret)
		msc_note(s, f);
	return ret;
}

/* The download asks the hub for the revision's CreatedAt only when .mv would change. */
static bool ld_needs_created_at(struct ms_store *st)
{
	struct store_localdir *s = (struct store_localdir *)st;

	return s->fl->ms_index && s->type == MS_REPO_MODEL &&
	       (s->msc_dirty || !ms_modelscope_mv_names(s->dir, s->rev));
}

/* The files another commit put here, by their metadata (both hubs write it). */
struct other_commits {
	struct store_localdir *s;
	const char *now; /* what write_metadata() records for this run */
	char *prev;      /* the first other commit met, for messages */
	struct ms_listing files;
};

static int other_commit_file(void *arg, const char *rel, const struct stat *st)
{
	struct other_commits *oc = arg;
	size_t n = strlen(rel), suffix = strlen(".metadata");
	char *path, *commit = NULL, *etag = NULL;
	double ts;

	if (!S_ISREG(st->st_mode) || n <= suffix || strcmp(rel + n - suffix, ".metadata"))
		return 0;
	path = xstrndup(rel, n - suffix);
	if (!is_current(oc->s, path) && read_metadata(oc->s, path, &commit, &etag, &ts) == 0 &&
	    strcmp(commit, oc->now)) {
		ms_listing_add(&oc->files)->path = path;
		path = NULL;
		if (!oc->prev) {
			oc->prev = commit;
			commit = NULL;
		}
	}
	free(path);
	free(commit);
	free(etag);
	return 0;
}

/* As downloaded: huggingface_hub's rule, the file is not newer than its metadata. */
static bool ld_unchanged(void *arg, const struct ms_file *f, const char *path)
{
	struct store_localdir *s = arg;
	char *commit = NULL, *etag = NULL;
	struct stat sb;
	double ts = 0;
	bool same = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	            read_metadata(s, f->path, &commit, &etag, &ts) == 0 &&
	            (double)sb.st_mtime - 1 <= ts;

	free(commit);
	free(etag);
	return same;
}

static void ld_dropped(void *arg, const struct ms_file *f)
{
	struct store_localdir *s = arg;
	char *mp = meta_path(s, f->path, ".metadata"), *dir = file_path(s, f->path);

	unlink(mp);
	*strrchr(mp, '/') = '\0';
	ms_rmdir_upwards(mp, s->download);
	*strrchr(dir, '/') = '\0';
	ms_rmdir_upwards(dir, s->dir);
	if (s->fl->ms_index) {
		msc_load(s);
		if (ms_msc_find(&s->msc, f->path)) {
			ms_msc_remove(&s->msc, f->path);
			s->msc_dirty = true;
		}
	}
	free(mp);
	free(dir);
}

/* The folder switched revisions: the same rule as the caches (ms_store_drop_stale). */
static void drop_other_commits(struct store_localdir *s)
{
	struct other_commits oc = {.s = s, .now = run_commit(s)};
	struct ms_stale_files how = {.dir = s->dir,
	                             .rev = s->rev,
	                             .unchanged = ld_unchanged,
	                             .dropped = ld_dropped,
	                             .arg = s};

	if (!s->listing || !s->listing->n)
		return;
	ms_walk_tree_types(s->download, other_commit_file, &oc);
	how.prev_rev = oc.prev;
	if (oc.files.n)
		ms_store_drop_stale(&s->base, &how, &oc.files, s->listing);
	free(oc.prev);
	ms_listing_release(&oc.files);
}

static int ld_finish(struct ms_store *st, struct ms_error *err)
{
	struct store_localdir *s = (struct store_localdir *)st;
	int ret;

	drop_other_commits(s);
	if (!s->fl->ms_index || !s->msc_loaded)
		return 0; /* nothing there was looked at: nothing to say */
	if (s->msc_dirty && (ret = ms_modelscope_write_msc(s->dir, &s->msc, err)) != 0)
		return ret;
	s->msc_dirty = false;
	return ms_modelscope_write_mv(s->dir, s->type, s->rev,
	                              s->listing ? s->listing->created_at : 0, false, err);
}

static int ld_local_listing(struct ms_store *st, const char *commit, struct ms_listing *out)
{
	struct store_localdir *s = (struct store_localdir *)st;
	int ret = s->fl->hf_trees ? ms_hf_tree_read(s->meta_dir, commit, out) : -1;

	if (!ret) {
		s->listing_from_cache = true;
		out->revision = xstrdup(s->rev);
	}
	return ret;
}

/* --local-dir keeps no refs: the commit its files came from tells */
static int ld_offline_listing(struct ms_store *st, const char *rev, struct ms_listing *out,
                              bool *complete_known, struct ms_error *err)
{
	struct store_localdir *s = (struct store_localdir *)st;
	char *commit = NULL, *etag = NULL;
	struct ms_listing tree = {0};
	double ts;

	(void)err;
	*complete_known = false;
	if (!s->fl->hf_trees && load_listing(s, rev, NULL, out) == 0) {
		*complete_known = true;
		return 0;
	}
	out->revision = xstrdup(rev);
	ms_hf_walk_files(s->dir, NULL, out);
	for (size_t i = 0; i < out->n; i++) {
		struct ms_file *f = &out->files[i];

		if (!strncmp(f->path, ".cache/", 7))
			continue;
		if (read_metadata(s, f->path, &commit, &etag, &ts) == 0) {
			f->etag = etag;
			free(s->commit);
			s->commit = commit;
			etag = commit = NULL;
		}
	}
	if (s->commit && load_listing(s, rev, s->commit, &tree) == 0) {
		ms_listing_release(out);
		*out = tree;
		out->revision = xstrdup(rev);
		*complete_known = true;
	}
	return 0;
}

static const char *ld_reserved(struct ms_store *st, const char *path)
{
	const struct flavour *fl = ((struct store_localdir *)st)->fl;
	size_t n = strlen(fl->meta);

	if (!strncmp(path, fl->meta, n) && (path[n] == '/' || !path[n]))
		return fl->reserved;
	if (fl->ms_index && (!strcmp(path, ".msc") || !strcmp(path, ".mv")))
		return "a name modelscope keeps its index of a --local_dir in";
	return NULL;
}

static char *ld_file_path(struct ms_store *st, const struct ms_file *f)
{
	return file_path((struct store_localdir *)st, f->path);
}

static char *ld_result_path(struct ms_store *st)
{
	return xstrdup(((struct store_localdir *)st)->dir);
}

static void ld_free(struct ms_store *st)
{
	struct store_localdir *s = (struct store_localdir *)st;

	free(s->rev);
	free(s->commit);
	free(s->dir);
	free(s->meta_dir);
	free(s->download);
	ms_msc_release(&s->msc);
	ms_strset_release(&s->current);
	ms_dirmemo_release(&s->dirs);
	free(s);
}

static const struct ms_store_ops store_localdir_ops = {
        .lock = ld_lock,
        .begin = ld_begin,
        .lookup = ld_lookup,
        .prepare = ld_prepare,
        .acquire = ld_acquire,
        .release = ld_release,
        .install = ld_install,
        .finish = ld_finish,
        .needs_created_at = ld_needs_created_at,
        .local_listing = ld_local_listing,
        .offline_listing = ld_offline_listing,
        .reserved = ld_reserved,
        .file_path = ld_file_path,
        .result_path = ld_result_path,
        .free = ld_free,
};

static struct ms_store *localdir_new(const struct flavour *fl, const char *dir, const char *rev,
                                     const char *commit)
{
	struct store_localdir *s = xcalloc(1, sizeof(*s));

	s->base.ops = &store_localdir_ops;
	s->fl = fl;
	s->rev = xstrdup(rev);
	s->commit = commit ? xstrdup(commit) : NULL;
	s->dir = xstrdup(dir);
	s->meta_dir = ms_path_join(dir, fl->meta);
	s->download = ms_path_join(s->meta_dir, "download");
	return &s->base;
}

struct ms_store *ms_store_localdir_new(const char *dir, const struct ms_repo *repo, const char *rev,
                                       const char *commit)
{
	(void)repo;
	return localdir_new(&hf_flavour, dir, rev, commit);
}

struct ms_store *ms_store_localdir_ms_new(const char *dir, const struct ms_repo *repo,
                                          const char *rev, const char *commit)
{
	struct ms_store *st = localdir_new(&ms_flavour, dir, rev, commit);

	((struct store_localdir *)st)->type = repo->type;
	return st;
}
