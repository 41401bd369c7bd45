/*
 * The Hugging Face cache as the cache commands see it (store.h): the repos
 * of a root, and per repo its revisions, sizes and times as
 * huggingface_hub's scan_cache_dir() counts them (st_size of the distinct
 * files the snapshots resolve to, atime and mtime of those), the files to
 * verify (each blob once, its name being its digest), and what a bundle
 * holds.  Removal and import are in store-hf-remove.c.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/index.h"
#include "mscli/lock.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/store-hf.h"
#include "mscli/strbuf.h"

/* ---- the walk ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "models--org--name" -> the repo (org/name; "models--gpt2" is gpt2); false for others. */
static bool parse_folder(const char *folder, struct ms_repo *r)
{
	const char *rest, *sep;

	if (!strncmp(folder, "models--", 8)) {
		r->type = MS_REPO_MODEL;
		rest = folder + 8;
	} else if (!strncmp(folder, "datasets--", 10)) {
		r->type = MS_REPO_DATASET;
		rest = folder + 10;
	} else {
		return false; /* spaces, kernels: not repos mscli downloads */
	}
	if (!*rest)
		return false;
	sep = strstr(rest, "--");
	if (sep && sep != rest && sep[2]) {
		r->owner = xstrndup(rest, (size_t)(sep - rest));
		r->name = xstrdup(sep + 2);
		r->id = xasprintf("%s/%s", r->owner, r->name);
	} else {
		r->name = xstrdup(rest);
		r->id = xstrdup(rest);
	}
	return true;
}

int ms_store_hf_walk(const struct ms_hub *hub, const char *root,
                     int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                     struct ms_error *err)
{
	size_t n;
	char **names = ms_dir_names(root, &n);
	int ret = 0;

	(void)err;
	for (size_t i = 0; i < n && !ret; i++) {
		struct ms_repo r = {.hub = hub};
		char *full = ms_path_join(root, names[i]);

		if (names[i][0] != '.' && ms_is_dir(full) && parse_folder(names[i], &r))
			ret = fn(arg, &r);
		ms_repo_release(&r);
		free(full);
	}
	ms_dir_names_free(names, n);
	return ret;
}

char *ms_store_hf_scratch(const char *root, bool create, struct ms_error *err)
{
	/* .locks is the one entry of the root that scan_cache_dir never takes for a repo */
	char *dir = xasprintf("%s/.locks/.mscli", root);

	if (create && ms_mkdirs(dir, 0755, err)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static int add_entry(void *arg, const char *rel, const struct stat *lst)
{
	struct ms_hf_snap *sn = arg;
	char *full, real[PATH_MAX], target[PATH_MAX];
	struct ms_hf_entry *e;
	struct stat st;
	ssize_t tn;
	bool resolved;

	if (S_ISDIR(lst->st_mode))
		return 0;
	if (ms_temp_named(rel)) {
		sn->nleft++; /* a partial, not a file: cache prune removes it */
		return 0;
	}
	full = ms_path_join(sn->dir, rel);
	resolved = realpath(full, real) != NULL && stat(real, &st) == 0;
	if (resolved && S_ISDIR(st.st_mode)) {
		free(full);
		return 0; /* a link to a directory is no file of the snapshot */
	}
	ms_grow((void **)&sn->e, &sn->cap, sn->n + 1, sizeof(*sn->e));
	e = &sn->e[sn->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(rel);
	if (S_ISLNK(lst->st_mode) && (tn = readlink(full, target, sizeof(target) - 1)) > 0) {
		target[tn] = '\0';
		e->target = xstrdup(target);
	}
	if (resolved) {
		e->real = xstrdup(real);
		e->size = (uint64_t)st.st_size;
		e->atime = ms_timespec_seconds(st.st_atim);
		e->mtime = ms_timespec_seconds(st.st_mtim);
	}
	free(full);
	return 0;
}

void ms_hf_scan_release(struct ms_hf_scan *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		for (size_t j = 0; j < sc->v[i].n; j++) {
			free(sc->v[i].e[j].path);
			free(sc->v[i].e[j].real);
			free(sc->v[i].e[j].target);
		}
		free(sc->v[i].e);
		free(sc->v[i].commit);
		free(sc->v[i].dir);
	}
	free(sc->v);
	memset(sc, 0, sizeof(*sc));
}

/* Every snapshot (only commit's when not NULL), sorted by commit. */
void ms_hf_scan_snapshots(const struct store_hf *s, const char *commit, struct ms_hf_scan *out)
{
	char *snaps = ms_path_join(s->repo_dir, "snapshots");
	size_t n;
	char **names = ms_dir_names(snaps, &n);

	for (size_t i = 0; i < n; i++) {
		struct ms_hf_snap *sn;
		struct stat st;
		char *dir = ms_path_join(snaps, names[i]);

		if ((commit && strcmp(commit, names[i])) || stat(dir, &st) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			free(dir);
			continue;
		}
		ms_grow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
		sn = &out->v[out->n++];
		memset(sn, 0, sizeof(*sn));
		sn->commit = xstrdup(names[i]);
		sn->dir = dir;
		sn->mtime = ms_timespec_seconds(st.st_mtim);
		ms_walk_tree(dir, add_entry, sn);
	}
	ms_dir_names_free(names, n);
	free(snaps);
}

/* refs/<name> as written (hand-made caches may end it with a newline); NULL when absent. */
static char *ref_commit(const struct store_hf *s, const char *name)
{
	char *path = xasprintf("%s/refs/%s", s->repo_dir, name), *data = NULL;
	const char *why;

	if (ms_path_check(name, &why) || ms_read_file(path, 4096, &data, NULL, NULL) != 0) {
		free(path);
		return NULL;
	}
	data[strcspn(data, " \r\n\t")] = '\0';
	free(path);
	return data;
}

static int add_ref(void *arg, const char *rel, const struct stat *st)
{
	struct ms_hf_refs *w = arg;
	char *c;

	if (!S_ISREG(st->st_mode) || ms_temp_named(rel) || !(c = ref_commit(w->s, rel)))
		return 0; /* not a ref: what a killed update of one left */
	ms_grow((void **)&w->names, &w->cap_names, w->n + 1, sizeof(*w->names));
	ms_grow((void **)&w->commits, &w->cap_commits, w->n + 1, sizeof(*w->commits));
	w->names[w->n] = xstrdup(rel);
	w->commits[w->n++] = c;
	return 0;
}

void ms_hf_read_refs(const struct store_hf *s, struct ms_hf_refs *w)
{
	char *refs = ms_path_join(s->repo_dir, "refs");

	memset(w, 0, sizeof(*w));
	w->s = s;
	ms_walk_tree(refs, add_ref, w);
	free(refs);
}

void ms_hf_refs_release(struct ms_hf_refs *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->names[i]);
		free(w->commits[i]);
	}
	free(w->names);
	free(w->commits);
}

/*
 * The commit rev names in this repo: a ref, a snapshot, or the unique snapshot a
 * prefix of 7+ hex digits starts; NULL when none (allocated).
 */
char *ms_hf_resolve(const struct store_hf *s, const char *rev)
{
	char *c = ref_commit(s, rev), *dir, *found = NULL;
	size_t n, matches = 0, len = strlen(rev);
	char **names;

	if (c)
		return c;
	names = ms_dir_names(dir = ms_path_join(s->repo_dir, "snapshots"), &n);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], rev)) {
			free(found);
			found = xstrdup(names[i]);
			matches = 1;
			break;
		}
		if (len >= 7 && ms_is_hex(rev, len) && !strncmp(names[i], rev, len)) {
			free(found);
			found = xstrdup(names[i]);
			matches++;
		}
	}
	ms_dir_names_free(names, n);
	free(dir);
	if (matches != 1) {
		free(found);
		return NULL;
	}
	return found;
}

int ms_hf_not_cached(const struct store_hf *s, const char *rev, struct ms_error *err)
{
	if (rev)
		return ms_error_set(err, MS_EOFFLINE, "revision '%s' is not in the cache (%s)", rev,
		                    s->repo_dir);
	return ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
}

/* The snapshots of rev (NULL: all): 0, or MS_EOFFLINE. */
static int select_snapshots(const struct store_hf *s, const char *rev, struct ms_hf_scan *sc,
                            struct ms_error *err)
{
	char *commit = NULL;

	if (!ms_is_dir(s->repo_dir))
		return ms_hf_not_cached(s, NULL, err);
	if (rev && !(commit = ms_hf_resolve(s, rev)))
		return ms_hf_not_cached(s, rev, err);
	ms_hf_scan_snapshots(s, commit, sc);
	free(commit);
	if (rev && !sc->n)
		return ms_hf_not_cached(s, rev, err);
	return 0;
}

/* ---- stat ---- */

struct fileref {
	const char *real;
	uint64_t size;
	double atime, mtime;
};

static int fileref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fileref *)a)->real, ((const struct fileref *)b)->real);
}

/* Sorts v and keeps one of each real path; the number left. */
static size_t distinct(struct fileref *v, size_t n)
{
	size_t m = 0;

	qsort(v, n, sizeof(*v), fileref_cmp);
	for (size_t i = 0; i < n; i++)
		if (!m || strcmp(v[m - 1].real, v[i].real))
			v[m++] = v[i];
	return m;
}

static void stat_revision(const struct store_hf *s, const struct ms_hf_snap *sn,
                          struct ms_hf_refs *refs, struct ms_cache_rev *r, size_t *nbroken)
{
	struct fileref *v = xcalloc(sn->n + 1, sizeof(*v));
	struct ms_listing tree = {0};
	size_t n = 0;

	r->name = xstrdup(sn->commit);
	r->path = xstrdup(sn->dir);
	for (size_t i = 0; i < refs->n; i++)
		if (!strcmp(refs->commits[i], sn->commit)) {
			r->refs = xrealloc(r->refs, (r->nrefs + 1) * sizeof(*r->refs));
			r->refs[r->nrefs++] = xstrdup(refs->names[i]);
		}
	if (r->nrefs)
		qsort(r->refs, r->nrefs, sizeof(*r->refs), str_cmp);
	for (size_t i = 0; i < sn->n; i++) {
		if (!sn->e[i].real) {
			(*nbroken)++;
			continue;
		}
		r->files++;
		v[n++] = (struct fileref){sn->e[i].real, sn->e[i].size, sn->e[i].atime,
		                          sn->e[i].mtime};
	}
	n = distinct(v, n);
	r->last_modified = n ? 0 : sn->mtime;
	for (size_t i = 0; i < n; i++) {
		r->size += v[i].size;
		if (v[i].mtime > r->last_modified)
			r->last_modified = v[i].mtime;
	}
	r->complete = true;
	if (ms_hf_tree_read(s->repo_dir, sn->commit, &tree) == 0) {
		r->listed = true;
		for (size_t i = 0; i < tree.n && r->complete; i++) {
			char *p = ms_path_join(sn->dir, tree.files[i].path);

			r->complete = ms_file_has_size(p, tree.files[i].size);
			free(p);
		}
	}
	ms_listing_release(&tree);
	free(v);
}

/* blobs/<etag>.incomplete (huggingface_hub's) or .mscli.incomplete (ours): the etag. */
char *ms_hf_partial_etag(const char *name)
{
	size_t n = strlen(name);

	if (ms_has_suffix(name, MS_HF_PARTIAL_SUFFIX))
		return xstrndup(name, n - strlen(MS_HF_PARTIAL_SUFFIX));
	if (ms_has_suffix(name, ".incomplete"))
		return xstrndup(name, n - strlen(".incomplete"));
	return NULL;
}

static void stat_partials(const struct store_hf *s, struct ms_cache_stat *out)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs");
	size_t n, m;
	char **names = ms_dir_names(blobs, &n), **state = ms_dir_names(s->locks, &m);

	for (size_t i = 0; i < n; i++) {
		char *etag = ms_hf_partial_etag(names[i]), *p;

		if (!etag)
			continue;
		p = ms_path_join(blobs, names[i]);
		out->npartials++;
		out->partial_size += ms_tree_size(p, NULL);
		free(p);
		free(etag);
	}
	for (size_t i = 0; i < m; i++) {
		char *p = ms_path_join(s->locks, state[i]);

		if (ms_has_suffix(state[i], MS_HF_RESUME_SUFFIX))
			out->partial_size += ms_tree_size(p, NULL);
		free(p);
	}
	ms_dir_names_free(names, n);
	ms_dir_names_free(state, m);
	free(blobs);
}

int ms_store_hf_stat(struct ms_store *st, struct ms_cache_stat *out, struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	struct ms_hf_scan sc = {0};
	struct ms_hf_refs refs;
	struct fileref *all;
	size_t n = 0, total = 0;
	int ret = select_snapshots(s, NULL, &sc, err);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	ms_hf_read_refs(s, &refs);
	out->path = xstrdup(s->repo_dir);
	out->revs = xcalloc(sc.n + 1, sizeof(*out->revs));
	for (size_t i = 0; i < sc.n; i++) {
		stat_revision(s, &sc.v[i], &refs, &out->revs[out->nrevs++], &out->nbroken);
		total += sc.v[i].n;
		out->npartials += sc.v[i].nleft;
	}
	all = xcalloc(total + 1, sizeof(*all));
	for (size_t i = 0; i < sc.n; i++)
		for (size_t j = 0; j < sc.v[i].n; j++)
			if (sc.v[i].e[j].real)
				all[n++] = (struct fileref){sc.v[i].e[j].real, sc.v[i].e[j].size,
				                            sc.v[i].e[j].atime, sc.v[i].e[j].mtime};
	n = distinct(all, n);
	out->files = n;
	for (size_t i = 0; i < n; i++) {
		out->size += all[i].size;
		if (all[i].atime > out->last_used)
			out->last_used = all[i].atime;
		if (all[i].mtime > out->last_modified)
			out->last_modified = all[i].mtime;
	}
	if (!n) { /* no blob: the folder's own times, as scan_cache_dir */
		struct stat dst;

		if (stat(s->repo_dir, &dst) == 0) {
			out->last_used = ms_timespec_seconds(dst.st_atim);
			out->last_modified = ms_timespec_seconds(dst.st_mtim);
		}
	}
	stat_partials(s, out);
	/* a folder with no snapshot holds no revision: nothing of it is usable */
	out->incomplete = out->npartials || out->nbroken || !out->nrevs;
	for (size_t i = 0; i < out->nrevs; i++)
		out->incomplete |= !out->revs[i].complete;
	free(all);
	ms_hf_refs_release(&refs);
	ms_hf_scan_release(&sc);
	return 0;
}

/* ---- verify ---- */

static const char *item_disk(const void *base, size_t i)
{
	return ((const struct ms_cache_item *)base)[i].disk;
}

static void check_entry(const struct ms_hf_snap *sn, const struct ms_hf_entry *e,
                        const struct ms_file *tf, bool have_tree, struct ms_index *ix,
                        struct ms_cache_items *out)
{
	struct ms_cache_item *it;
	size_t at;
	const char *blob;

	if (have_tree && !tf) {
		it = ms_cache_items_add(out, MS_ITEM_UNEXPECTED);
		it->disk = ms_path_join(sn->dir, e->path);
		it->source = "the snapshot's tree does not list it";
	} else if (!e->real) {
		it = ms_cache_items_add(out, MS_ITEM_MISSING);
		it->disk = ms_path_join(sn->dir, e->path);
		it->source = "its blob is gone";
	} else if (e->target &&
	           (at = ms_index_find(ix, out->v, out->n, item_disk, e->real)) != SIZE_MAX) {
		out->v[at].users++; /* a blob already listed: it is hashed once */
		return;
	} else {
		it = ms_cache_items_add(out, MS_ITEM_FILE);
		it->disk = xstrdup(e->real);
		it->users = 1;
		blob = strrchr(e->real, '/') + 1;
		if (tf && tf->digest[0]) {
			it->algo = tf->algo;
			strcpy(it->digest, tf->digest);
			it->size = tf->size;
			it->source = "the snapshot's tree";
		} else if (e->target && ms_hash_algo_for_hex(blob) != MS_HASH_NONE) {
			it->algo = ms_hash_algo_for_hex(blob);
			strcpy(it->digest, blob);
			it->source = "the blob's name";
		}
	}
	it->path = xstrdup(e->path);
	it->rev = xstrdup(sn->commit);
}

/* Blobs no snapshot uses (leftovers of an interrupted removal): unexpected. */
static void check_orphans(const struct store_hf *s, struct ms_index *ix, struct ms_cache_items *out)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs"), real[PATH_MAX];
	size_t n;
	char **names = ms_dir_names(blobs, &n);

	for (size_t i = 0; i < n; i++) {
		char *p = ms_path_join(blobs, names[i]), *etag = ms_hf_partial_etag(names[i]);
		struct ms_cache_item *it;

		if (!etag && realpath(p, real) &&
		    ms_index_find(ix, out->v, out->n, item_disk, real) == SIZE_MAX) {
			it = ms_cache_items_add(out, MS_ITEM_UNEXPECTED);
			it->disk = xstrdup(p);
			it->path = xasprintf("blobs/%s", names[i]);
			it->source = "no snapshot uses it";
		}
		free(etag);
		free(p);
	}
	ms_dir_names_free(names, n);
	free(blobs);
}

int ms_store_hf_check_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                           struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	struct ms_hf_scan sc = {0};
	struct ms_index ix = {0};
	char *blobs = ms_path_join(s->repo_dir, "blobs");
	size_t absent = 0; /* filtered out by the download: ls says incomplete */
	int ret = select_snapshots(s, rev, &sc, err);

	for (size_t i = 0; !ret && i < sc.n; i++) {
		struct ms_listing tree = {0};
		bool have_tree = ms_hf_tree_read(s->repo_dir, sc.v[i].commit, &tree) == 0;

		for (size_t j = 0; j < sc.v[i].n; j++)
			check_entry(&sc.v[i], &sc.v[i].e[j],
			            have_tree ? ms_listing_find(&tree, sc.v[i].e[j].path) : NULL,
			            have_tree, &ix, out);
		if (have_tree) { /* lost, not filtered out: its blob is still there */
			ms_cache_items_add_missing(
			        out, &tree, sc.v[i].dir, sc.v[i].commit,
			        "the snapshot's tree lists it, its blob is there", blobs, &absent);
		} else { /* hf_hub_download's caches: what the snapshot lacks cannot be known */
			struct ms_cache_item *it = ms_cache_items_add(out, MS_ITEM_UNLISTED);

			it->disk = xstrdup(sc.v[i].dir);
			it->rev = xstrdup(sc.v[i].commit);
			it->target = xstrdup(blobs);
		}
		ms_listing_release(&tree);
	}
	if (!ret && !rev)
		check_orphans(s, &ix, out);
	free(blobs);
	ms_index_release(&ix);
	ms_hf_scan_release(&sc);
	return ret;
}

/* ---- bundles ---- */

static struct ms_cache_item *bundle_file(struct ms_cache_items *out, const char *disk, char *rel)
{
	struct ms_cache_item *it = ms_cache_items_add(out, MS_ITEM_FILE);
	struct stat st;

	it->disk = xstrdup(disk);
	it->rel = rel;
	if (stat(disk, &st) == 0)
		it->size = (uint64_t)st.st_size;
	return it;
}

struct bundle_walk {
	struct ms_cache_items *out;
	const char *top, *rel_top;
};

static int bundle_regular(void *arg, const char *rel, const struct stat *st)
{
	struct bundle_walk *w = arg;
	char *disk;

	if (!S_ISREG(st->st_mode))
		return 0;
	disk = ms_path_join(w->top, rel);
	bundle_file(w->out, disk, xasprintf("%s/%s", w->rel_top, rel));
	free(disk);
	return 0;
}

/* Every regular file below repo_dir/sub into the bundle. */
static void bundle_tree(const struct store_hf *s, const char *sub, struct ms_cache_items *out)
{
	char *top = ms_path_join(s->repo_dir, sub), *rel = xasprintf("%s/%s", s->folder, sub);
	struct bundle_walk w = {out, top, rel};
	struct stat st;

	if (lstat(top, &st) == 0 && S_ISREG(st.st_mode))
		bundle_file(out, top, xstrdup(rel));
	else
		ms_walk_tree(top, bundle_regular, &w);
	free(top);
	free(rel);
}

static int bundle_snapshot(const struct store_hf *s, const struct ms_hf_snap *sn,
                           struct ms_index *ix, struct ms_cache_items *out, struct ms_error *err)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs"), real_blobs[PATH_MAX];
	int ret = 0;

	if (!realpath(blobs, real_blobs))
		real_blobs[0] = '\0';
	for (size_t i = 0; i < sn->n && !ret; i++) {
		const struct ms_hf_entry *e = &sn->e[i];
		char *disk = ms_path_join(sn->dir, e->path), *rel;
		const char *blob = e->real ? strrchr(e->real, '/') + 1 : NULL;
		struct ms_cache_item *it;

		rel = xasprintf("%s/snapshots/%s/%s", s->folder, sn->commit, e->path);
		if (!e->real) {
			ret = ms_error_set(err, MS_EINTEGRITY,
			                   "'%s' is gone from the cache: run 'mscli cache verify "
			                   "--repair' first",
			                   disk);
		} else if (!e->target) {
			bundle_file(out, disk, rel);
			rel = NULL;
		} else if (!real_blobs[0] || strncmp(e->real, real_blobs, strlen(real_blobs)) ||
		           e->real[strlen(real_blobs)] != '/' ||
		           strchr(e->real + strlen(real_blobs) + 1, '/')) {
			ret = ms_error_set(err, MS_EUNSAFE, "'%s' points outside the repo's blobs",
			                   disk);
		} else {
			it = ms_cache_items_add(out, MS_ITEM_LINK);
			it->disk = xstrdup(disk);
			it->rel = rel;
			it->target = xstrdup(e->target);
			it->path = xstrdup(e->path);
			it->rev = xstrdup(sn->commit);
			rel = xasprintf("%s/blobs/%s", s->folder, blob);
			if (ms_index_find(ix, out->v, out->n, item_disk, e->real) == SIZE_MAX) {
				it = bundle_file(out, e->real, rel);
				it->algo = ms_hash_algo_for_hex(blob);
				if (it->algo != MS_HASH_NONE)
					strcpy(it->digest, blob);
				it->source = "the blob's name";
				rel = NULL;
			}
		}
		free(rel);
		free(disk);
	}
	free(blobs);
	return ret;
}

int ms_store_hf_bundle_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                            struct ms_error *err)
{
	struct store_hf *s = (struct store_hf *)st;
	struct ms_hf_scan sc = {0};
	struct ms_hf_refs refs;
	struct ms_index ix = {0};
	int ret = select_snapshots(s, rev, &sc, err);

	for (size_t i = 0; !ret && i < sc.n; i++) {
		char *sub;

		ret = bundle_snapshot(s, &sc.v[i], &ix, out, err);
		sub = xasprintf("trees/%s.json", sc.v[i].commit);
		bundle_tree(s, sub, out);
		free(sub);
		sub = xasprintf(".no_exist/%s", sc.v[i].commit);
		bundle_tree(s, sub, out);
		free(sub);
	}
	ms_hf_read_refs(s, &refs);
	for (size_t i = 0; !ret && i < refs.n; i++)
		for (size_t j = 0; j < sc.n; j++)
			if (!strcmp(refs.commits[i], sc.v[j].commit)) {
				char *sub = xasprintf("refs/%s", refs.names[i]);

				bundle_tree(s, sub, out);
				free(sub);
			}
	ms_hf_refs_release(&refs);
	ms_index_release(&ix);
	ms_hf_scan_release(&sc);
	return ret;
}
