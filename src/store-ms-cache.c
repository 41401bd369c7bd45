/*
 * The ModelScope cache as the cache commands see it (store.h).  One folder
 * per repo, holding one revision (.mv names it); files are counted as they
 * are on disk (bookkeeping aside), so a file copied in by hand shows in the
 * size that the disk pays for.  What goes with a repo: its folder, the
 * dotted-name link, its partials in ._____temp/ and mscli's records in
 * .mscli/ -- all under R/.lock/<owner>___<name>, the flock a download (and
 * both official client generations) takes.  A repo of which only partials
 * or records are left is still listed, so that prune can find them.
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
#include "mscli/fs.h"
#include "mscli/lock.h"
#include "mscli/pathsafe.h"
#include "mscli/store-ms.h"
#include "mscli/store-mshub.h"
#include "mscli/strbuf.h"

#define TEMP_DIR  "._____temp"
#define STATE_DIR ".mscli-state"

static const enum ms_repo_type types[] = {MS_REPO_MODEL, MS_REPO_DATASET};

/* ---- the walk ---- */

struct found {
	enum ms_repo_type type;
	char *owner, *name;
};

struct found_list {
	struct found *v;
	size_t n, cap;
};

/* "Qwen2___5" -> "Qwen2.5": the masking undone, as the official scanner does with .mdl */
static char *unmask(const char *name)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_adds(&b, "");
	for (const char *p = name; *p; p++) {
		if (!strncmp(p, "___", 3)) {
			ms_buf_addch(&b, '.');
			p += 2;
		} else {
			ms_buf_addch(&b, *p);
		}
	}
	return ms_buf_detach(&b);
}

/* Each <owner>/<name> directory below dir (not links: the dotted-name link is no repo). */
static void find_repos(const char *dir, enum ms_repo_type type, bool masked, struct found_list *out)
{
	DIR *d = opendir(dir), *od;
	struct dirent *de, *ne;

	while (d && (de = readdir(d)) != NULL) {
		char *owner_dir;

		if (de->d_name[0] == '.')
			continue; /* ".", "..", ._____temp */
		/* modelscope_hub's <owner>--<name>/snapshots/ when both share the root */
		if (masked && ms_store_mshub_is_repo_dir(dir, de->d_name))
			continue;
		owner_dir = ms_path_join(dir, de->d_name);
		od = ms_is_dir(owner_dir) ? opendir(owner_dir) : NULL;
		while (od && (ne = readdir(od)) != NULL) {
			char *p = ms_path_join(owner_dir, ne->d_name);
			struct stat st;

			if (ne->d_name[0] != '.' && lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
				ms_grow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
				out->v[out->n++] = (struct found){type, xstrdup(de->d_name),
				                                  masked ? unmask(ne->d_name)
				                                         : xstrdup(ne->d_name)};
			}
			free(p);
		}
		if (od)
			closedir(od);
		free(owner_dir);
	}
	if (d)
		closedir(d);
}

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = (int)x->type - (int)y->type;

	if (!c)
		c = strcmp(x->owner, y->owner);
	return c ? c : strcmp(x->name, y->name);
}

int ms_store_ms_walk(const struct ms_hub *hub, const char *root,
                     int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                     struct ms_error *err)
{
	struct found_list l = {0};
	int ret = 0;

	(void)err;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const char *td = ms_store_ms_type_dir(types[i]);
		char *d = ms_path_join(root, td), *t = xasprintf("%s/%s/%s", root, td, TEMP_DIR),
		     *m = xasprintf("%s/.mscli/%s", root, td);

		find_repos(d, types[i], true, &l);
		/* partials and records of a repo whose folder is gone */
		find_repos(t, types[i], false, &l);
		find_repos(m, types[i], false, &l);
		free(d);
		free(t);
		free(m);
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), found_cmp);
	for (size_t i = 0; i < l.n; i++) {
		struct ms_repo r = {.hub = hub, .type = l.v[i].type};

		if (!ret && (!i || found_cmp(&l.v[i - 1], &l.v[i]))) {
			r.owner = l.v[i].owner;
			r.name = l.v[i].name;
			r.id = xasprintf("%s/%s", r.owner, r.name);
			ret = fn(arg, &r);
			free(r.id);
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].owner);
		free(l.v[i].name);
	}
	free(l.v);
	return ret;
}

char *ms_store_ms_scratch(const char *root, bool create, struct ms_error *err)
{
	char *dir = xasprintf("%s/.mscli/tmp", root);

	if (create && ms_mkdirs(dir, 0755, err)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* ---- what the folder holds ---- */

/* The layout's own names at the top of the folder, and partials a client left in it. */
static bool bookkeeping(const char *rel)
{
	static const char *const names[] = {".msc", ".mdl", ".mv"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(rel, names[i]))
			return true;
	/* mscli < 0.2 kept its records in the folder's .mscli/ */
	return !strncmp(rel, ".mscli/", 7) || !strcmp(rel, ".mscli");
}

static bool is_partial(const char *rel)
{
	/* modelscope_hub writes <Path>.incomplete into a legacy folder it reuses; a run
	 * killed while it replaced .msc can leave .msc's temporary (ms_temp_for) */
	return ms_has_suffix(rel, ".incomplete") || ms_temp_named(rel);
}

struct folder_walk {
	struct ms_cache_stat *out;
	struct ms_cache_items *items;
	const struct store_ms *s;
};

static int stat_file(void *arg, const char *rel, const struct stat *st)
{
	struct ms_cache_stat *out = ((struct folder_walk *)arg)->out;

	if (!S_ISREG(st->st_mode) || bookkeeping(rel))
		return 0;
	if (is_partial(rel)) {
		out->npartials++;
		out->partial_size += (uint64_t)st->st_size;
		return 0;
	}
	out->files++;
	out->size += (uint64_t)st->st_size;
	if (ms_timespec_seconds(st->st_atim) > out->last_used)
		out->last_used = ms_timespec_seconds(st->st_atim);
	if (ms_timespec_seconds(st->st_mtim) > out->last_modified)
		out->last_modified = ms_timespec_seconds(st->st_mtim);
	return 0;
}

static int stat_partial(void *arg, const char *rel, const struct stat *st)
{
	struct ms_cache_stat *out = ((struct folder_walk *)arg)->out;

	if (!S_ISREG(st->st_mode))
		return 0;
	out->partial_size += (uint64_t)st->st_size;
	/* resume state is part of a partial's size, not one more partial */
	if (strncmp(rel, STATE_DIR "/", sizeof(STATE_DIR)))
		out->npartials++;
	return 0;
}

static void stat_revision(struct store_ms *s, struct ms_cache_stat *out)
{
	struct ms_cache_rev *r = out->revs = xcalloc(1, sizeof(*out->revs));
	struct ms_listing rec = {0};

	out->nrevs = 1;
	r->name = ms_store_ms_recorded_revision(s);
	r->path = xstrdup(s->repo_dir);
	r->files = out->files;
	r->size = out->size;
	r->last_modified = out->last_modified;
	r->complete = true;
	if (r->name && ms_store_ms_read_record(s, r->name, &rec) == 0) {
		r->listed = true;
		for (size_t i = 0; i < rec.n && r->complete; i++) {
			char *p = ms_path_join(s->repo_dir, rec.files[i].path);

			r->complete = ms_file_has_size(p, rec.files[i].size);
			free(p);
		}
	} else { /* another client's cache: what its index lists must be there (as for path) */
		ms_store_ms_load_msc(s);
		for (size_t i = 0; i < s->msc.n && r->complete; i++) {
			const char *why;
			char *p;

			if (ms_path_check(s->msc.v[i].path, &why))
				continue;
			p = ms_path_join(s->repo_dir, s->msc.v[i].path);
			r->complete = access(p, F_OK) == 0;
			free(p);
		}
	}
	ms_listing_release(&rec);
}

int ms_store_ms_stat(struct ms_store *st, struct ms_cache_stat *out, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	struct folder_walk w = {out, NULL, s};
	bool folder = ms_is_dir(s->repo_dir);
	struct stat dst;

	memset(out, 0, sizeof(*out));
	if (!folder && !ms_is_dir(s->temp_dir) && !ms_is_dir(s->meta_dir))
		return ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
	out->path = xstrdup(s->repo_dir);
	if (folder) {
		ms_walk_tree(s->repo_dir, stat_file, &w);
		if (!out->files && stat(s->repo_dir, &dst) == 0) {
			out->last_used = ms_timespec_seconds(dst.st_atim);
			out->last_modified = ms_timespec_seconds(dst.st_mtim);
		}
		stat_revision(s, out);
	}
	ms_walk_tree(s->temp_dir, stat_partial, &w);
	out->state_size = ms_tree_size(s->meta_dir, NULL);
	out->incomplete = out->npartials || !folder || !out->revs[0].complete;
	return 0;
}

/* ---- verify and bundles ---- */

/* The revision the folder holds, when rev (NULL: any) names it; else MS_EOFFLINE. */
static int folder_revision(struct store_ms *s, const char *rev, char **have, struct ms_error *err)
{
	*have = NULL;
	if (!ms_is_dir(s->repo_dir))
		return ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
	*have = ms_store_ms_recorded_revision(s);
	if (rev && *have && strcmp(rev, *have)) {
		ms_error_set(err, MS_EOFFLINE,
		             "revision '%s' is not in the cache (it has '%s': %s)", rev, *have,
		             s->repo_dir);
		free(*have);
		*have = NULL;
		return MS_EOFFLINE;
	}
	if (!*have)
		*have = xstrdup(rev ? rev : s->rev);
	return 0;
}

struct check_walk {
	struct store_ms *s;
	const struct ms_listing *rec;
	const char *rev;
	struct ms_cache_items *out;
};

static int check_file(void *arg, const char *rel, const struct stat *st)
{
	struct check_walk *w = arg;
	const struct ms_file *f;
	struct ms_cache_item *it;

	if (!S_ISREG(st->st_mode) || bookkeeping(rel) || is_partial(rel))
		return 0;
	if ((f = ms_listing_find(w->rec, rel)) != NULL) {
		it = ms_cache_items_add(w->out, MS_ITEM_FILE);
		it->size = f->size;
		it->algo = f->algo;
		strcpy(it->digest, f->digest);
		if (f->digest[0])
			it->source = "the listing recorded at download";
	} else if (ms_msc_find(&w->s->msc, rel)) {
		it = ms_cache_items_add(w->out, MS_ITEM_FILE); /* an official client's file */
	} else {
		it = ms_cache_items_add(w->out, MS_ITEM_UNEXPECTED);
		it->source = "neither .msc nor the recorded listing has it";
	}
	it->disk = ms_path_join(w->s->repo_dir, rel);
	it->path = xstrdup(rel);
	it->rev = xstrdup(w->rev);
	it->users = 1;
	return 0;
}

int ms_store_ms_check_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                           struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	struct ms_listing rec = {0};
	char *have;
	int ret = folder_revision(s, rev, &have, err);
	struct check_walk w = {s, &rec, have, out};

	if (ret)
		return ret;
	ms_store_ms_read_record(s, have, &rec);
	ms_store_ms_load_msc(s);
	ms_walk_tree(s->repo_dir, check_file, &w);
	/* what the index vouches for and is gone */
	for (size_t i = 0; i < s->msc.n; i++) {
		const char *why;
		char *p;
		struct ms_cache_item *it;

		if (ms_path_check(s->msc.v[i].path, &why))
			continue;
		p = ms_path_join(s->repo_dir, s->msc.v[i].path);
		if (access(p, F_OK) != 0) {
			it = ms_cache_items_add(out, MS_ITEM_MISSING);
			it->disk = p;
			it->path = xstrdup(s->msc.v[i].path);
			it->rev = xstrdup(have);
			it->source = ".msc lists it";
			p = NULL;
		}
		free(p);
	}
	ms_listing_release(&rec);
	free(have);
	return 0;
}

struct bundle_walk {
	const char *top, *rel_top;
	const struct ms_listing *rec;
	struct ms_cache_items *out;
};

static int bundle_file(void *arg, const char *rel, const struct stat *st)
{
	struct bundle_walk *w = arg;
	const struct ms_file *f = w->rec ? ms_listing_find(w->rec, rel) : NULL;
	struct ms_cache_item *it;

	if (!S_ISREG(st->st_mode) || (w->rec && is_partial(rel)) ||
	    (w->rec && !strncmp(rel, ".mscli/", 7)))
		return 0;
	it = ms_cache_items_add(w->out, MS_ITEM_FILE);
	it->disk = ms_path_join(w->top, rel);
	it->rel = xasprintf("%s/%s", w->rel_top, rel);
	it->size = (uint64_t)st->st_size;
	if (f && f->digest[0] && f->size == it->size) {
		it->algo = f->algo;
		strcpy(it->digest, f->digest);
		it->source = "the listing recorded at download";
	}
	return 0;
}

/*
 * Files of the folder (from..out->n) with no hash the cache recorded (a cache of another
 * client, a file whose size is not the recorded one): the export would certify whatever
 * bytes are there, so it stops and says how to get them checked.
 */
static int unrecorded(const struct store_ms *s, const struct ms_cache_items *out, size_t from,
                      const char *rel_top, struct ms_error *err)
{
	struct ms_buf names = MS_BUF_INIT;
	size_t n = 0, top = strlen(rel_top) + 1;
	int ret = 0;

	for (size_t i = from; i < out->n; i++) {
		const char *rel = out->v[i].rel + top;

		if (out->v[i].kind != MS_ITEM_FILE || out->v[i].algo != MS_HASH_NONE ||
		    bookkeeping(rel))
			continue;
		if (n++ < 3)
			ms_buf_addf(&names, "%s'%s'", n > 1 ? ", " : "", rel);
	}
	if (n)
		ret = ms_error_set(
		        err, MS_EUSAGE,
		        "cache export: %zu file(s) of %s have no hash the cache recorded "
		        "(%s%s), so the bundle cannot vouch for them: 'mscli download "
		        "%s%s' checks them against the hub and records their hashes "
		        "('mscli cache verify --online' checks them only)",
		        n, s->id, names.data, n > 3 ? ", ..." : "",
		        s->type == MS_REPO_DATASET ? "--type dataset " : "", s->id);
	ms_buf_release(&names);
	return ret;
}

int ms_store_ms_bundle_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                            struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	struct ms_listing rec = {0};
	const char *td = ms_store_ms_type_dir(s->type);
	char *have, *masked = ms_modelscope_masked_name(s->name), *rel, *link, target[512];
	int ret = folder_revision(s, rev, &have, err);
	struct bundle_walk w = {s->repo_dir, NULL, &rec, out};
	ssize_t n;
	size_t from;

	if (ret)
		goto out;
	ms_store_ms_read_record(s, have, &rec);
	w.rel_top = rel = xasprintf("%s/%s/%s", td, s->owner, masked);
	from = out->n;
	ms_walk_tree(s->repo_dir, bundle_file, &w);
	ret = unrecorded(s, out, from, rel, err);
	free(rel);
	if (ret)
		goto out;
	w = (struct bundle_walk){s->meta_dir, NULL, NULL, out};
	w.rel_top = rel = xasprintf(".mscli/%s/%s/%s", td, s->owner, s->name);
	ms_walk_tree(s->meta_dir, bundle_file, &w);
	free(rel);
	/* the dotted-name link, when it points at the folder */
	link = xasprintf("%s/%s/%s/%s", s->root, td, s->owner, s->name);
	if (strcmp(masked, s->name) && (n = readlink(link, target, sizeof(target) - 1)) > 0 &&
	    (target[n] = '\0', !strcmp(target, masked))) {
		struct ms_cache_item *it = ms_cache_items_add(out, MS_ITEM_LINK);

		it->disk = xstrdup(link);
		it->rel = xasprintf("%s/%s/%s", td, s->owner, s->name);
		it->target = xstrdup(target);
	}
	free(link);
out:
	ms_listing_release(&rec);
	free(have);
	free(masked);
	return ret;
}

/* ---- locks, import, removal ---- */

/* The repo's lock, R/.lock/<owner>___<name>: 0 taken, 1 busy, <0 an error. */
static int repo_lock(struct store_ms *s, enum ms_lock_mode mode, int *fd, struct ms_error *err)
{
	char *dir = ms_path_join(s->root, ".lock");
	char *file = xasprintf("%s/%s___%s", dir, s->owner, s->name);
	int ret = mode == MS_LOCK_PROBE ? 0 : ms_mkdirs(dir, 0755, err);

	*fd = -1;
	if (!ret)
		ret = ms_lock_take(file, mode, s->base.on_lock_wait, s->base.lock_wait_arg, fd,
		                   err);
	/* an import killed midway is finished by whoever holds the lock next */
	if (!ret && mode != MS_LOCK_PROBE && (ret = ms_store_ms_recover(s, err)) != 0) {
		ms_lock_release(*fd);
		*fd = -1;
	}
	free(dir);
	free(file);
	return ret;
}

static enum ms_lock_mode lock_mode(const struct ms_cache_removal *r)
{
	return r->dry_run ? MS_LOCK_PROBE : r->wait ? MS_LOCK_WAIT : MS_LOCK_TRY;
}

/* What stays of the repo's old files and records when an import replaces them. */
struct keep {
	const char *from, *to; /* the cache's directory, its staged replacement */
	const char *skip;      /* a record the bundle's one replaces, even when absent */
	const struct ms_msc *old;
	struct ms_msc *msc; /* the staged .msc, to vouch for what stays */
	bool changed;
	struct ms_error *err;
};

/* A file of from that to lacks, linked into to (the same filesystem: nothing copied). */
static int keep_file(void *arg, const char *rel, const struct stat *st)
{
	struct keep *k = arg;
	const struct ms_msc_entry *e;
	char *src, *dst;
	struct stat sb;
	int ret;

	if (S_ISDIR(st->st_mode) || (k->msc && (bookkeeping(rel) || is_partial(rel))) ||
	    (k->skip && !strcmp(rel, k->skip)))
		return 0;
	dst = ms_path_join(k->to, rel);
	if (lstat(dst, &sb) == 0) {
		free(dst);
		return 0; /* the bundle's wins */
	}
	src = ms_path_join(k->from, rel);
	ret = ms_mkparents_beneath(k->to, rel, k->err);
	if (!ret && link(src, dst) < 0)
		ret = ms_error_errno(k->err, errno, "cannot link", dst);
	if (!ret && k->msc && (e = ms_msc_find(k->old, rel)) != NULL) {
		ms_msc_set(k->msc, rel, e->revision);
		k->changed = true;
	}
	free(src);
	free(dst);
	return ret;
}

/*
 * The staged folder and records made whole before the swap: with the same revision, the
 * files of the folder the bundle does not have stay, .msc vouching for them as before;
 * records of other revisions stay.  The listing of the bundle's revision is the
 * bundle's, or none: one recorded for other bytes would call the new ones corrupt.
 */
static int keep_old(struct store_ms *s, const char *folder, const char *records, const char *theirs,
                    struct ms_error *err)
{
	char *ours = ms_store_ms_recorded_revision(s);
	struct ms_msc msc = {0};
	struct keep k = {s->repo_dir, folder, NULL, &s->msc, &msc, false, err};
	int ret = 0;

	if (ms_is_dir(s->repo_dir) && (!ours || !theirs || !strcmp(ours, theirs))) {
		ms_store_ms_load_msc(s);
		ms_modelscope_read_msc(folder, &msc);
		ret = ms_walk_tree(s->repo_dir, keep_file, &k);
		if (!ret && k.changed)
			ret = ms_modelscope_write_msc(folder, &msc, err);
	}
	if (!ret && theirs && ms_is_dir(s->meta_dir) && !(ret = ms_mkdirs(records, 0755, err))) {
		k = (struct keep){s->meta_dir, records, ms_store_ms_record_name(theirs), NULL, NULL,
		                  false,       err};
		ret = ms_walk_tree(s->meta_dir, keep_file, &k);
		free((char *)k.skip);
	}
	ms_msc_release(&msc);
	free(ours);
	return ret;
}

int ms_store_ms_import_check(struct ms_store *st, const char *staged,
                             const struct ms_cache_items *items, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	const char *td = ms_store_ms_type_dir(s->type);
	char *masked = ms_modelscope_masked_name(s->name);
	/* the folder, mscli's records of it, and the dotted-name link: nothing else */
	char *mine[] = {xasprintf("%s/%s/%s/", td, s->owner, masked),
	                xasprintf(".mscli/%s/%s/%s/", td, s->owner, s->name),
	                xasprintf("%s/%s/%s", td, s->owner, s->name)};
	int ret = 0;

	(void)staged;
	for (size_t i = 0; i < items->n && !ret; i++) {
		const char *rel = items->v[i].rel;

		if (strncmp(rel, mine[0], strlen(mine[0])) &&
		    strncmp(rel, mine[1], strlen(mine[1])) &&
		    (!strcmp(masked, s->name) || strcmp(rel, mine[2]) ||
		     items->v[i].kind != MS_ITEM_LINK))
			ret = ms_error_set(err, MS_EUNSAFE,
			                   "refusing the bundle: '%s' is outside the folder of its "
			                   "repo (%s)",
			                   rel, mine[0]);
	}
	for (size_t i = 0; i < sizeof(mine) / sizeof(*mine); i++)
		free(mine[i]);
	free(masked);
	return ret;
}

int ms_store_ms_import(struct ms_store *st, const char *staged, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st, tmp = *s;
	const char *td = ms_store_ms_type_dir(s->type);
	char *masked = ms_modelscope_masked_name(s->name);
	char *folder = xasprintf("%s/%s/%s/%s", staged, td, s->owner, masked);
	char *records = xasprintf("%s/.mscli/%s/%s/%s", staged, td, s->owner, s->name);
	char *link = xasprintf("%s/%s/%s/%s", staged, td, s->owner, s->name), *theirs;
	int fd, ret = 0;

	/* the bundle's revision, from its .mv */
	tmp.repo_dir = folder;
	theirs = ms_store_ms_recorded_revision(&tmp);
	if (!ms_is_dir(folder))
		goto out;
	/* the lock a download takes, so that none writes into either folder meanwhile */
	if ((ret = repo_lock(s, MS_LOCK_WAIT, &fd, err)) != 0)
		goto out;
	ret = keep_old(s, folder, records, theirs, err);
	if (!ret)
		ret = ms_store_ms_swap_in(s, folder, records, link, err);
	ms_lock_release(fd);
out:
	free(masked);
	free(folder);
	free(records);
	free(link);
	free(theirs);
	return ret;
}

/* Owner folders left empty go too (the type folders stay). */
static void tidy(const struct store_ms *s)
{
	const char *td = ms_store_ms_type_dir(s->type);
	char *top = ms_path_join(s->root, td), *tmp = xasprintf("%s/%s", top, TEMP_DIR),
	     *meta = xasprintf("%s/.mscli/%s", s->root, td);
	char *dirs[] = {s->repo_dir, s->temp_dir, s->meta_dir};
	char *stops[] = {top, tmp, meta};

	for (size_t i = 0; i < 3; i++) {
		char *parent = xstrdup(dirs[i]);

		*strrchr(parent, '/') = '\0';
		ms_rmdir_upwards(parent, stops[i]);
		free(parent);
	}
	free(top);
	free(tmp);
	free(meta);
}

int ms_store_ms_remove(struct ms_store *st, struct ms_cache_removal *r, struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	char *have = ms_store_ms_recorded_revision(s), *masked = ms_modelscope_masked_name(s->name);
	char *link =
	        xasprintf("%s/%s/%s/%s", s->root, ms_store_ms_type_dir(s->type), s->owner, s->name);
	char target[512];
	ssize_t n;
	int fd = -1, ret;

	if (!ms_is_dir(s->repo_dir) && !ms_is_dir(s->temp_dir) && !ms_is_dir(s->meta_dir))
		ret = ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
	else if (r->rev && have && strcmp(r->rev, have))
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "revision '%s' is not in the cache (it has '%s': %s)", r->rev,
		                   have, s->repo_dir);
	else
		ret = repo_lock(s, lock_mode(r), &fd, err);
	if (ret == 1) {
		r->busy = true;
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	/* the link first: it must never point at nothing */
	if (strcmp(masked, s->name) && (n = readlink(link, target, sizeof(target) - 1)) > 0 &&
	    (target[n] = '\0', !strcmp(target, masked)))
		ret = ms_cache_removal_path(r, link, err);
	if (!ret)
		ret = ms_cache_removal_path(r, s->repo_dir, err);
	if (!ret)
		ret = ms_cache_removal_path(r, s->temp_dir, err);
	if (!ret)
		ret = ms_cache_removal_path(r, s->meta_dir, err);
	if (!ret && !r->dry_run)
		tidy(s);
	ms_lock_release(fd);
out:
	free(have);
	free(masked);
	free(link);
	return ret;
}

int ms_store_ms_prune_partials(struct ms_store *st, struct ms_cache_removal *r,
                               struct ms_error *err)
{
	struct store_ms *s = (struct store_ms *)st;
	int fd, ret = repo_lock(s, r->dry_run ? MS_LOCK_PROBE : MS_LOCK_TRY, &fd, err);

	if (ret == 1) {
		r->busy = true; /* a download is writing them */
		return 0;
	}
	if (ret)
		return ret;
	ret = ms_cache_removal_path(r, s->temp_dir, err);
	if (!ret)
		ret = ms_cache_removal_matching(r, s->repo_dir, is_partial, 0, err);
	/* records of a repo whose folder is gone are abandoned too */
	if (!ret && !ms_is_dir(s->repo_dir))
		ret = ms_cache_removal_path(r, s->meta_dir, err);
	if (!ret && !r->dry_run)
		tidy(s);
	ms_lock_release(fd);
	return ret;
}
