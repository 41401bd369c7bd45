/*
 * The ModelScope cache, in the layout both official client generations
 * read offline without a request (modelscope-protocol.md §4.3):
 *
 *   R/{models|datasets}/<owner>/<name with . -> ___>/<Path>   files in place
 *   .../.msc   pickle [{'Path','Revision'}], Revision = the file's commit
 *   .../.mdl   pickle {'id': '<owner>/<name___>'}      (cache only)
 *   .../.mv    "Revision:<rev>,CreatedAt:<epoch>" (models) or "<rev>" (datasets)
 *   R/models/<owner>/<name> -> <name___>               dotted model names
 *   R/{models|datasets}/._____temp/<owner>/<name>/<Path>   partials
 *   R/.lock/<owner>___<name>                           flock while writing
 *
 * mscli's own state stays out of the repo folder that users hand to a
 * loader or upload again: R/.mscli/{models|datasets}/<owner>/<name>/
 * listing-<rev>.json (what a revision holds, for --offline, `cache verify`
 * and revision switches) and ._____temp/.../.mscli-state/ (resume sidecars,
 * beside the partials).  Caches of older mscli versions, which kept the
 * listings in the repo folder's .mscli/, are moved on first use.
 * (--local-dir is store-localdir.c's.)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/common.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/http.h"
#include "mscli/lock.h"
#include "mscli/log.h"
#include "mscli/pathsafe.h"
#include "mscli/pickle.h"
#include "mscli/store-ms.h"
#include "mscli/store.h"
#include "mscli/strbuf.h"

#define MSC_SAVE_INTERVAL 2.0

char *ms_modelscope_masked_name(const char *name)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_adds(&b, "");
	for (const char *p = name; *p; p++) {
		if (*p == '.')
			ms_buf_adds(&b, "___");
		else
			ms_buf_addch(&b, *p);
	}
	return ms_buf_detach(&b);
}

bool ms_modelscope_mv_names(const char *dir, const char *rev)
{
	char *path = ms_path_join(dir, ".mv"), *have = NULL, *want = xasprintf("Revision:%s,", rev);
	bool names = ms_read_file(path, 4096, &have, NULL, NULL) == 0 &&
	             !strncmp(have, want, strlen(want));

	free(have);
	free(want);
	free(path);
	return names;
}

int ms_modelscope_write_mv(const char *dir, enum ms_repo_type type, const char *rev,
                           long created_at, bool stale, struct ms_error *err)
{
	char *path, *mv = NULL;
	int ret = 0;

	if (type == MS_REPO_DATASET)
		mv = xstrdup(rev);
	else if (created_at || stale || !ms_modelscope_mv_names(dir, rev))
		mv = xasprintf("Revision:%s,CreatedAt:%ld", rev, created_at);
	if (mv) {
		path = ms_path_join(dir, ".mv");
		ret = ms_write_file_if_changed(path, mv, strlen(mv), err);
		free(path);
		free(mv);
	}
	return ret;
}

const char *ms_store_ms_type_dir(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets" : "models";
}

bool ms_modelscope_read_msc(const char *dir, struct ms_msc *out)
{
	char *path = ms_path_join(dir, ".msc"), *data = NULL;
	size_t len;
	bool ok = true;

	ms_msc_release(out);
	if (ms_read_file(path, 256u << 20, &data, &len, NULL) == 0 &&
	    ms_pickle_decode_msc(data, len, out) < 0) {
		/* The official client renames a corrupt index and starts afresh. */
		ms_verbose("%s is not a readable index; ignoring it", path);
		ms_msc_release(out);
		ok = false;
	}
	free(data);
	free(path);
	return ok;
}

int ms_modelscope_write_msc(const char *dir, const struct ms_msc *m, struct ms_error *err)
{
	struct ms_buf b = MS_BUF_INIT;
	char *path = ms_path_join(dir, ".msc");
	int ret;

	ms_pickle_encode_msc(m, &b);
	ret = ms_write_file_atomic(path, b.data, b.len, 0644, err);
	ms_buf_release(&b);
	free(path);
	return ret;
}

void ms_store_ms_load_msc(struct store_ms *s)
{
	ms_modelscope_read_msc(s->repo_dir, &s->msc);
	s->msc_loaded = true;
}

int ms_store_ms_save_msc(struct store_ms *s, struct ms_error *err)
{
	int ret = ms_modelscope_write_msc(s->repo_dir, &s->msc, err);

	if (!ret) {
		s->msc_dirty = false;
		s->msc_saved_at = ms_now();
	}
	return ret;
}

/* dir/name, written only when its content would change (a warm run writes nothing) */
char *ms_store_ms_record_name(const char *rev)
{
	char *q = ms_url_quote_path(rev, false), *name = xasprintf("listing-%s.json", q);

	free(q);
	return name;
}

/*
 * mscli before 0.2 kept its listings in the repo folder's .mscli/, where a
 * loader or an upload of the folder would find them: move them out (best
 * effort: a read-only cache is read where it is).
 */
static void migrate_state(struct store_ms *s)
{
	char *old = ms_path_join(s->repo_dir, ".mscli");
	struct ms_error e;
	DIR *d;
	struct dirent *de;

	if (!ms_is_dir(old) || ms_mkdirs(s->meta_dir, 0755, &e) != 0) {
		free(old);
		return;
	}
	d = opendir(old);
	while (d && (de = readdir(d)) != NULL) {
		char *from, *to;

		if (strncmp(de->d_name, "listing-", 8))
			continue;
		from = ms_path_join(old, de->d_name);
		to = ms_path_join(s->meta_dir, de->d_name);
		if (access(to, F_OK) == 0 || rename(from, to) != 0)
			unlink(from);
		free(from);
		free(to);
	}
	if (d)
		closedir(d);
	if (rmdir(old) == 0)
		ms_verbose("moved mscli's state out of '%s'", s->repo_dir);
	free(old);
}

/* The listing recorded for rev (here, or where mscli before 0.2 kept it). */
int ms_store_ms_read_record(const struct store_ms *s, const char *rev, struct ms_listing *out)
{
	char *rec = ms_store_ms_record_name(rev), *data = NULL, *old = NULL;
	char *dir = ms_store_ms_records_dir(s), *path = ms_path_join(dir, rec);
	size_t len;
	int ret = -1;

	if (ms_read_file(path, 256u << 20, &data, &len, NULL) != 0) {
		old = xasprintf("%s/.mscli/%s", s->repo_dir, rec);
		if (ms_read_file(old, 256u << 20, &data, &len, NULL) != 0)
			goto out;
	}
	ret = ms_listing_from_json(data, len, out);
out:
	free(data);
	free(dir);
	free(path);
	free(old);
	free(rec);
	return ret;
}

/* The revision .mv says the folder holds, or NULL (allocated). */
char *ms_store_ms_recorded_revision(const struct store_ms *s)
{
	char *path = ms_path_join(s->repo_dir, ".mv"), *data = NULL, *rev = NULL;

	if (ms_read_file(path, 4096, &data, NULL, NULL) == 0) {
		const char *p = !strncmp(data, "Revision:", 9) ? data + 9 : data;

		rev = xstrndup(p, strcspn(p, ",\r\n"));
	}
	free(data);
	free(path);
	return rev;
}

static int ms_lock(struct ms_store *st, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	int ret;

	if (s->locked)
		return 0;
	if ((ret = ms_mkdirs(s->repo_dir, 0755, err)) || (ret = ms_mkdirs(s->temp_dir, 0755, err)))
		return ret;
	{
		char *dir = ms_path_join(s->root, ".lock");
		char *file = xasprintf("%s/%s___%s", dir, s->owner, s->name);

		ret = ms_mkdirs(dir, 0755, err);
		if (!ret)
			ret = ms_lock_acquire(file, st->on_lock_wait, st->lock_wait_arg, err);
		free(dir);
		free(file);
	}
	if (ret < 0 && ret != MS_LOCK_NONE)
		return ret;
	s->lock_fd = ret;
	s->locked = true;
	/* an import killed midway is finished before anything is written beside it */
	if (ret != MS_LOCK_NONE && (ret = ms_store_ms_recover(s, err)) != 0)
		return ret;
	/* Another process may have finished files while we waited. */
	ms_store_ms_load_msc(s);
	return 0;
}

static int ms_begin(struct ms_store *st, const struct ms_listing *l, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	char *json, *rec, *path;
	int ret;

	s->listing = l;
	if (!s->msc_loaded)
		ms_store_ms_load_msc(s);
	migrate_state(s);
	free(s->prev_rev);
	s->prev_rev = ms_store_ms_recorded_revision(s);
	if ((ret = ms_mkdirs(s->meta_dir, 0755, err)) || (ret = ms_mkdirs(s->repo_dir, 0755, err)))
		return ret;
	json = ms_listing_to_json(l);
	rec = ms_store_ms_record_name(s->rev);
	path = ms_path_join(s->meta_dir, rec);
	ret = ms_write_record_if_changed(path, json, strlen(json), err);
	free(path);
	free(json);
	free(rec);
	if (ret)
		return ret;
	{
		struct ms_buf mdl = MS_BUF_INIT;
		char *masked = ms_modelscope_masked_name(s->name);
		char *id = xasprintf("%s/%s", s->owner, masked);
		char *mdl_path = ms_path_join(s->repo_dir, ".mdl");

		/*
		 * A record, not synced: it is written before the first request, where an
		 * fsync waits for the disk (a journal commit: 2-3 ms on ext4, more on
		 * slow disks).  A killed process leaves it whole or absent (linked into
		 * place once written); a power cut may leave it empty, which the next
		 * run writes again and the official loader resets with a warning
		 * (caching.py load_model_meta), as its own unsynced .mdl would be.
		 */
		ms_pickle_encode_mdl(id, &mdl);
		ret = ms_write_record_if_changed(mdl_path, mdl.data, mdl.len, err);
		free(mdl_path);
		/* The official snapshot_download links a dotted model name to its masked dir. */
		if (!ret && s->type == MS_REPO_MODEL && strcmp(masked, s->name)) {
			char *link = xasprintf("%s/models/%s/%s", s->root, s->owner, s->name);
			struct stat lst;

			if (lstat(link, &lst) < 0 && symlink(masked, link) < 0)
				ms_verbose("cannot create symlink '%s': %s", link, strerror(errno));
			free(link);
		}
		ms_buf_release(&mdl);
		free(masked);
		free(id);
	}
	return ret;
}

/* OLD's rule: a revision matches when either is a prefix of the other. */
static bool revision_matches(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b;
	return !strncmp(a, b, strlen(a) < strlen(b) ? strlen(a) : strlen(b));
}

static enum ms_file_state ms_lookup(struct ms_store *st, const struct ms_file *f)
{
	struct store_ms *s = (struct store_ms *)st;
	char *path = ms_path_join(s->repo_dir, f->path);
	struct ms_msc_entry *e;
	enum ms_file_state state = MS_FILE_MISSING;
	struct stat sb;
	char hex[MS_HEX_MAX];

	if (!s->msc_loaded)
		ms_store_ms_load_msc(s);
	if (ms_dirprobe_stat(st->probe, path, false, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != f->size)
		goto out;
	e = ms_msc_find(&s->msc, f->path);
	if (e && revision_matches(e->revision, f->revision)) {
		state = MS_FILE_CACHED;
		goto out;
	}
	/*
	 * A file the index does not vouch for (copied by hand, or written by
	 * a run that was killed before it saved .msc): its digest decides.
	 */
	if (st->adopt_unindexed && f->digest[0] && ms_hash_file(path, f->algo, hex, NULL) == 0 &&
	    !strcmp(hex, f->digest)) {
		ms_msc_set(&s->msc, f->path, f->revision);
		s->msc_dirty = true;
		state = MS_FILE_CACHED;
	}
out:
	free(path);
	return state;
}

static int ms_prepare(struct ms_store *st, const struct ms_file *f, char **part, char **state,
                      struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	char *state_dir = ms_path_join(s->temp_dir, ".mscli-state");
	char hex[MS_HEX_MAX];
	int ret;

	/* Both places must be creatable: a file in the way fails now, not after the transfer. */
	if ((ret = ms_dirmemo_mkparents(&s->dirs, s->temp_dir, f->path, err)) ||
	    (ret = ms_dirmemo_mkparents(&s->dirs, s->repo_dir, f->path, err)) ||
	    (ret = ms_dirmemo_mkdirs(&s->dirs, state_dir, err))) {
		free(state_dir);
		return ret;
	}
	ms_sha256_hex(f->path, strlen(f->path), hex);
	*part = ms_path_join(s->temp_dir, f->path);
	*state = xasprintf("%s/%.32s", state_dir, hex);
	free(state_dir);
	return 0;
}

static int ms_install(struct ms_store *st, const struct ms_file *f, const char *part,
                      struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	char *dst = ms_path_join(s->repo_dir, f->path);
	int ret = ms_dirmemo_place(&s->dirs, s->repo_dir, false, f->path, ms_rename_memo, part, dst,
	                           "cannot move the download into", err);

	free(dst);
	if (ret)
		return ret;
	s->installed_any = true;
	ms_msc_set(&s->msc, f->path, f->revision);
	s->msc_dirty = true;
	/* Save now and then so a killed run loses little of its index. */
	if (ms_now() - s->msc_saved_at > MSC_SAVE_INTERVAL)
		return ms_store_ms_save_msc(s, err);
	return 0;
}

static bool ms_needs_created_at(struct ms_store *st)
{
	struct store_ms *s = (struct store_ms *)st;

	return s->type == MS_REPO_MODEL &&
	       (s->installed_any || !ms_modelscope_mv_names(s->repo_dir, s->rev));
}

/* A file of the previous revision is as it was downloaded: its index entry and its bytes. */
static bool unchanged(void *arg, const struct ms_file *f, const char *path)
{
	struct store_ms *s = arg;
	struct ms_msc_entry *e = ms_msc_find(&s->msc, f->path);
	char hex[MS_HEX_MAX];

	if (!e || !revision_matches(e->revision, f->revision) || !ms_file_has_size(path, f->size))
		return false;
	return !f->digest[0] ||
	       (ms_hash_file(path, f->algo, hex, NULL) == 0 && !strcmp(hex, f->digest));
}

static void dropped(void *arg, const struct ms_file *f)
{
	struct store_ms *s = arg;

	ms_msc_remove(&s->msc, f->path);
	s->msc_dirty = true;
}

/* The folder switched revisions (one folder per repo in this layout): see ms_store_drop_stale. */
static void drop_previous_revision(struct store_ms *s)
{
	struct ms_listing prev = {0};
	struct ms_stale_files how = {.dir = s->repo_dir,
	                             .prev_rev = s->prev_rev,
	                             .rev = s->rev,
	                             .unchanged = unchanged,
	                             .dropped = dropped,
	                             .arg = s};

	if (!s->locked || !s->listing || !s->prev_rev || !strcmp(s->prev_rev, s->rev) ||
	    ms_store_ms_read_record(s, s->prev_rev, &prev) != 0)
		goto out;
	ms_store_drop_stale(&s->base, &how, &prev, s->listing);
	ms_prune_empty_dirs(s->repo_dir);
out:
	ms_listing_release(&prev);
}

static int ms_finish(struct ms_store *st, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	int ret = 0;

	drop_previous_revision(s);
	if (s->msc_dirty)
		ret = ms_store_ms_save_msc(s, err);
	if (!ret)
		ret = ms_modelscope_write_mv(s->repo_dir, s->type, s->rev,
		                             s->listing ? s->listing->created_at : 0,
		                             s->installed_any, err);
	if (s->locked) {
		/* Leave no empty directories behind in the temp area. */
		char *state_dir = ms_path_join(s->temp_dir, ".mscli-state");

		char *tmp_root =
		        xasprintf("%s/%s/._____temp", s->root, ms_store_ms_type_dir(s->type));

		ms_prune_empty_dirs(state_dir);
		ms_prune_empty_dirs(s->temp_dir);
		ms_rmdir_upwards(s->temp_dir, tmp_root);
		free(tmp_root);
		free(state_dir);
	}
	return ret;
}

static int ms_offline_listing(struct ms_store *st, const char *rev, struct ms_listing *out,
                              bool *complete_known, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	char *have;
	int ret = 0;

	*complete_known = false;
	if (ms_store_ms_read_record(s, rev, out) == 0) {
		*complete_known = true;
		return 0;
	}
	/* A cache written by the official client: its index is all we know, and only for the
	 * revision .mv names (another revision is not in the cache, whatever the folder holds). */
	have = ms_store_ms_recorded_revision(s);
	if (have && strcmp(have, rev))
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "offline: %s %s at '%s' is not in the cache (it has '%s': %s)",
		                   ms_repo_type_name(s->type), s->id, rev, have, s->repo_dir);
	free(have);
	if (ret)
		return ret;
	if (!s->msc_loaded)
		ms_store_ms_load_msc(s);
	out->revision = xstrdup(rev);
	for (size_t i = 0; i < s->msc.n; i++) {
		const char *why;
		char *fp;
		struct stat sb;
		struct ms_file *f;

		if (ms_path_check(s->msc.v[i].path, &why))
			continue;
		f = ms_listing_add(out);
		f->path = xstrdup(s->msc.v[i].path);
		if (s->msc.v[i].revision)
			f->revision = xstrdup(s->msc.v[i].revision);
		fp = ms_path_join(s->repo_dir, f->path);
		if (stat(fp, &sb) == 0)
			f->size = (uint64_t)sb.st_size;
		else
			f->size = UINT64_MAX; /* never matches: reported missing */
		free(fp);
	}
	return 0;
}

static const char *ms_reserved(struct ms_store *st, const char *path)
{
	static const char *const names[] = {".msc", ".mdl", ".mv", ".mscli", "._____temp"};

	(void)st;
	for (size_t i = 0; i < MS_ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i]);

		if (!strncmp(path, names[i], n) && (path[n] == '\0' || path[n] == '/'))
			return "a name the ModelScope cache uses for its own bookkeeping";
	}
	return NULL;
}

static char *ms_file_path(struct ms_store *st, const struct ms_file *f)
{
	return ms_path_join(((struct store_ms *)st)->repo_dir, f->path);
}

static char *ms_result_path(struct ms_store *st)
{
	return xstrdup(((struct store_ms *)st)->repo_dir);
}

static void ms_free(struct ms_store *st)
{
	struct store_ms *s = (struct store_ms *)st;

	if (s->locked)
		ms_lock_release(s->lock_fd);
	ms_msc_release(&s->msc);
	ms_dirmemo_release(&s->dirs);
	free(s->id);
	free(s->owner);
	free(s->name);
	free(s->rev);
	free(s->root);
	free(s->repo_dir);
	free(s->temp_dir);
	free(s->meta_dir);
	free(s->prev_rev);
	free(s);
}

static const struct ms_store_ops store_ms_ops = {
        .lock = ms_lock,
        .begin = ms_begin,
        .lookup = ms_lookup,
        .prepare = ms_prepare,
        .install = ms_install,
        .finish = ms_finish,
        .offline_listing = ms_offline_listing,
        .reserved = ms_reserved,
        .needs_created_at = ms_needs_created_at,
        .file_path = ms_file_path,
        .result_path = ms_result_path,
        .stat = ms_store_ms_stat,
        .check_list = ms_store_ms_check_list,
        .bundle_list = ms_store_ms_bundle_list,
        .import_check = ms_store_ms_import_check,
        .import = ms_store_ms_import,
        .remove = ms_store_ms_remove,
        .prune_partials = ms_store_ms_prune_partials,
        .free = ms_free,
};

struct ms_store *ms_store_ms_new(const char *root, const struct ms_repo *repo, const char *rev)
{
	struct store_ms *s = xcalloc(1, sizeof(*s));
	char *masked = ms_modelscope_masked_name(repo->name);

	s->base.ops = &store_ms_ops;
	s->type = repo->type;
	s->id = xstrdup(repo->id);
	s->owner = xstrdup(repo->owner);
	s->name = xstrdup(repo->name);
	s->rev = xstrdup(rev);
	s->lock_fd = -1;
	s->root = xstrdup(root);
	s->repo_dir = xasprintf("%s/%s/%s/%s", root, ms_store_ms_type_dir(repo->type), repo->owner,
	                        masked);
	s->temp_dir = xasprintf("%s/%s/._____temp/%s/%s", root, ms_store_ms_type_dir(repo->type),
	                        repo->owner, repo->name);
	s->meta_dir = xasprintf("%s/.mscli/%s/%s/%s", root, ms_store_ms_type_dir(repo->type),
	                        repo->owner, repo->name);
	free(masked);
	return &s->base;
}
