/*
 * The Hugging Face cache as the cache commands see it (store.h): the repos
 * of a root, and per repo its revisions, sizes and times as
 * huggingface_hub's scan_cache_dir() counts them (st_size of the distinct
 * files the snapshots resolve to, atime and mtime of those), the files to
 * verify (each blob once, its name being its digest), what a bundle holds,
 * and removal under the blob locks a download takes
 * (.locks/<folder>/<etag>.lock, huggingface_hub's too).
 *
 * Removing one revision goes refs first, then the snapshot, then the blobs
 * no other snapshot uses: a crash in between leaves a detached snapshot or
 * an unused blob, never a ref to a missing snapshot (which makes
 * scan_cache_dir drop the whole repo).
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

/* ---- what the snapshots hold ---- */

struct entry {
	char *path;   /* below snapshots/<commit> */
	char *real;   /* the file it resolves to; NULL: gone */
	char *target; /* what the symlink says; NULL: a regular file */
	uint64_t size;
	double atime, mtime;
};

struct snap {
	char *commit, *dir;
	double mtime;
	struct entry *e;
	size_t n, cap;
};

struct scan {
	struct snap *v;
	size_t n, cap;
};

static double ts(struct timespec t)
{
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int add_entry(void *arg, const char *rel, const struct stat *lst)
{
	struct snap *sn = arg;
	char *full, real[PATH_MAX], target[PATH_MAX];
	struct entry *e;
	struct stat st;
	ssize_t tn;
	bool resolved;

	if (S_ISDIR(lst->st_mode))
		return 0;
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
		e->atime = ts(st.st_atim);
		e->mtime = ts(st.st_mtim);
	}
	free(full);
	return 0;
}

static void scan_release(struct scan *sc)
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
static void scan_snapshots(const struct store_hf *s, const char *commit, struct scan *out)
{
	char *snaps = ms_path_join(s->repo_dir, "snapshots");
	size_t n;
	char **names = ms_dir_names(snaps, &n);

	for (size_t i = 0; i < n; i++) {
		struct snap *sn;
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
		sn->mtime = ts(st.st_mtim);
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

struct refs_walk {
	const struct store_hf *s;
	char **names, **commits;
	size_t n, cap_names, cap_commits;
};

static int add_ref(void *arg, const char *rel, const struct stat *st)
{
	struct refs_walk *w = arg;
	char *c;

	if (!S_ISREG(st->st_mode) || !(c = ref_commit(w->s, rel)))
		return 0;
	ms_grow((void **)&w->names, &w->cap_names, w->n + 1, sizeof(*w->names));
	ms_grow((void **)&w->commits, &w->cap_commits, w->n + 1, sizeof(*w->commits));
	w->names[w->n] = xstrdup(rel);
	w->commits[w->n++] = c;
	return 0;
}

static void read_refs(const struct store_hf *s, struct refs_walk *w)
{
	char *refs = ms_path_join(s->repo_dir, "refs");

	memset(w, 0, sizeof(*w));
	w->s = s;
	ms_walk_tree(refs, add_ref, w);
	free(refs);
}

static void refs_release(struct refs_walk *w)
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
static char *resolve(const struct store_hf *s, const char *rev)
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

static int not_cached(const struct store_hf *s, const char *rev, struct ms_error *err)
{
	if (rev)
		return ms_error_set(err, MS_EOFFLINE, "revision '%s' is not in the cache (%s)", rev,
		                    s->repo_dir);
	return ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
}

/* The snapshots of rev (NULL: all): 0, or MS_EOFFLINE. */
static int select_snapshots(const struct store_hf *s, const char *rev, struct scan *sc,
                            struct ms_error *err)
{
	char *commit = NULL;

	if (!ms_is_dir(s->repo_dir))
		return not_cached(s, NULL, err);
	if (rev && !(commit = resolve(s, rev)))
		return not_cached(s, rev, err);
	scan_snapshots(s, commit, sc);
	free(commit);
	if (rev && !sc->n)
		return not_cached(s, rev, err);
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

static void stat_revision(const struct store_hf *s, const struct snap *sn, struct refs_walk *refs,
                          struct ms_cache_rev *r, size_t *nbroken)
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

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* blobs/<etag>.incomplete (huggingface_hub's) or .mscli.incomplete (ours): the etag. */
static char *partial_etag(const char *name)
{
	size_t n = strlen(name);

	if (has_suffix(name, MS_HF_PARTIAL_SUFFIX))
		return xstrndup(name, n - strlen(MS_HF_PARTIAL_SUFFIX));
	if (has_suffix(name, ".incomplete"))
		return xstrndup(name, n - strlen(".incomplete"));
	return NULL;
}

static void stat_partials(const struct store_hf *s, struct ms_cache_stat *out)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs");
	size_t n, m;
	char **names = ms_dir_names(blobs, &n), **state = ms_dir_names(s->locks, &m);

	for (size_t i = 0; i < n; i++) {
		char *etag = partial_etag(names[i]), *p;

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

		if (has_suffix(state[i], MS_HF_RESUME_SUFFIX))
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
	struct scan sc = {0};
	struct refs_walk refs;
	struct fileref *all;
	size_t n = 0, total = 0;
	int ret = select_snapshots(s, NULL, &sc, err);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	read_refs(s, &refs);
	out->path = xstrdup(s->repo_dir);
	out->revs = xcalloc(sc.n + 1, sizeof(*out->revs));
	for (size_t i = 0; i < sc.n; i++) {
		stat_revision(s, &sc.v[i], &refs, &out->revs[out->nrevs++], &out->nbroken);
		total += sc.v[i].n;
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
			out->last_used = ts(dst.st_atim);
			out->last_modified = ts(dst.st_mtim);
		}
	}
	stat_partials(s, out);
	out->incomplete = out->npartials || out->nbroken;
	for (size_t i = 0; i < out->nrevs; i++)
		out->incomplete |= !out->revs[i].complete;
	free(all);
	refs_release(&refs);
	scan_release(&sc);
	return 0;
}

/* ---- verify ---- */

static const char *item_disk(const void *base, size_t i)
{
	return ((const struct ms_cache_item *)base)[i].disk;
}

static void check_entry(const struct snap *sn, const struct entry *e, const struct ms_file *tf,
                        bool have_tree, struct ms_index *ix, struct ms_cache_items *out)
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
		char *p = ms_path_join(blobs, names[i]), *etag = partial_etag(names[i]);
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
	struct scan sc = {0};
	struct ms_index ix = {0};
	int ret = select_snapshots(s, rev, &sc, err);

	for (size_t i = 0; !ret && i < sc.n; i++) {
		struct ms_listing tree = {0};
		bool have_tree = ms_hf_tree_read(s->repo_dir, sc.v[i].commit, &tree) == 0;

		for (size_t j = 0; j < sc.v[i].n; j++)
			check_entry(&sc.v[i], &sc.v[i].e[j],
			            have_tree ? ms_listing_find(&tree, sc.v[i].e[j].path) : NULL,
			            have_tree, &ix, out);
		ms_listing_release(&tree);
	}
	if (!ret && !rev)
		check_orphans(s, &ix, out);
	ms_index_release(&ix);
	scan_release(&sc);
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

static int bundle_snapshot(const struct store_hf *s, const struct snap *sn, struct ms_index *ix,
                           struct ms_cache_items *out, struct ms_error *err)
{
	char *blobs = ms_path_join(s->repo_dir, "blobs"), real_blobs[PATH_MAX];
	int ret = 0;

	if (!realpath(blobs, real_blobs))
		real_blobs[0] = '\0';
	for (size_t i = 0; i < sn->n && !ret; i++) {
		const struct entry *e = &sn->e[i];
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
	struct scan sc = {0};
	struct refs_walk refs;
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
	read_refs(s, &refs);
	for (size_t i = 0; !ret && i < refs.n; i++)
		for (size_t j = 0; j < sc.n; j++)
			if (!strcmp(refs.commits[i], sc.v[j].commit)) {
				char *sub = xasprintf("refs/%s", refs.names[i]);

				bundle_tree(s, sub, out);
				free(sub);
			}
	refs_release(&refs);
	ms_index_release(&ix);
	scan_release(&sc);
	return ret;
}

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

/* Blobs first, each under its lock; one already here (same name, same size) stays. */
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
			if (lstat(src, &st) == 0 && ms_file_has_size(dst, (uint64_t)st.st_size))
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
			ret = i == 0 ? import_blobs(s, sub, err)
			             : ms_move_beneath(sub, s->repo_dir, order[i], err);
		free(sub);
	}
	if (!ret)
		ret = ms_remove_tree(from, err);
out:
	free(from);
	return ret;
}

/* ---- removal ---- */

static void report(struct ms_cache_removal *r, const char *path, uint64_t size)
{
	r->freed += size;
	r->count++;
	if (r->removed)
		r->removed(r->arg, path, size);
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
		char *etag = partial_etag(names[i]);

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

		if (has_suffix(names[i], MS_HF_RESUME_SUFFIX)) {
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
			report(r, s->repo_dir, size);
	}
	locks_release(&l);
	ms_dir_names_free(etags, n);
	return ret;
}

/* The blobs only sn uses: their etags (names in blobs/). */
static char **own_blobs(const struct store_hf *s, const struct scan *all, const struct snap *sn,
                        size_t *count)
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

static int remove_path(struct ms_cache_removal *r, const char *path, struct ms_error *err)
{
	struct stat st;
	uint64_t size;

	if (lstat(path, &st) < 0)
		return 0;
	size = ms_tree_size(path, NULL);
	if (!r->dry_run) {
		int ret = ms_remove_tree(path, err);

		if (ret)
			return ret;
	}
	report(r, path, size);
	return 0;
}

static int remove_revision(struct store_hf *s, const struct scan *all, const struct snap *sn,
                           struct ms_cache_removal *r, struct ms_error *err)
{
	struct refs_walk refs;
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
	read_refs(s, &refs);
	for (size_t i = 0; i < refs.n && !ret; i++) {
		if (strcmp(refs.commits[i], sn->commit))
			continue;
		p = ms_path_join(refs_dir, refs.names[i]);
		ret = remove_path(r, p, err);
		if (!r->dry_run)
			ms_rmdir_upwards(p, refs_dir); /* refs/pr/1: refs/pr goes when empty */
		free(p);
	}
	refs_release(&refs);
	if (!ret)
		ret = remove_path(r, sn->dir, err);
	if (!ret) {
		p = xasprintf("%s/trees/%s.json", s->repo_dir, sn->commit);
		ret = remove_path(r, p, err);
		free(p);
	}
	if (!ret) {
		p = xasprintf("%s/.no_exist/%s", s->repo_dir, sn->commit);
		ret = remove_path(r, p, err);
		free(p);
	}
	for (size_t i = 0; i < n && !ret; i++) {
		p = xasprintf("%s/blobs/%s", s->repo_dir, etags[i]);
		ret = remove_path(r, p, err);
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
	struct scan all = {0};
	char *commit = NULL;
	int ret;
	struct stat lst;

	if (lstat(s->repo_dir, &lst) < 0)
		return not_cached(s, NULL, err);
	if (!S_ISDIR(lst.st_mode)) /* a link to a folder elsewhere: only the link goes */
		return remove_path(r, s->repo_dir, err);
	if (!r->rev)
		return remove_repo(s, r, err);
	if (!(commit = resolve(s, r->rev)))
		return not_cached(s, r->rev, err);
	scan_snapshots(s, NULL, &all);
	ret = not_cached(s, r->rev, err);
	for (size_t i = 0; i < all.n; i++)
		if (!strcmp(all.v[i].commit, commit))
			ret = all.n == 1 ? remove_repo(s, r, err)
			                 : remove_revision(s, &all, &all.v[i], r, err);
	scan_release(&all);
	free(commit);
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
		char *etag = partial_etag(names[i]), *part, *state;
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
			report(r, part, size);
		}
		ms_lock_release(fd);
		free(part);
		free(state);
		free(etag);
	}
	ms_dir_names_free(names, n);
	free(blobs);
	return ret;
}
