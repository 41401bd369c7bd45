/*
 * Bundles: export and import with libarchive (archive.h).
 *
 *   mscli-bundle.json                     the manifest, always first
 *   <hub>/<path below the cache root>     every file and symlink of the repos
 *
 * The manifest comes first so that an import can refuse an entry before a
 * byte of it is written (not listed, wrong size or kind), and knows every
 * digest while the data streams past.  Its digests are the ones the cache
 * recorded (blob names, listings) where there are, else hashed before the
 * export starts; the export hashes each file again as it writes it, so a
 * file that is not what its record says stops the export (exit 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/archive.h"
#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/hashfiles.h"
#include "mscli/index.h"
#include "mscli/json.h"
#include "mscli/lock.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/strbuf.h"

#define BLOCK         (1u << 20)
#define MANIFEST_MAX  (256u << 20)
#define BUNDLE_FORMAT "mscli-bundle"

enum ms_bundle_format ms_bundle_format_for(const char *name)
{
	size_t n = strlen(name);

	if (n >= 4 && !strcmp(name + n - 4, ".tar"))
		return MS_BUNDLE_TAR;
	if ((n >= 7 && !strcmp(name + n - 7, ".tar.gz")) ||
	    (n >= 4 && !strcmp(name + n - 4, ".tgz")))
		return MS_BUNDLE_TAR_GZ;
	return MS_BUNDLE_TAR_ZST;
}

/* ---- the checks ---- */

int ms_bundle_check_entry(const struct ms_bundle_entry *e, const char **why)
{
	mode_t type = e->mode & S_IFMT;

	if (ms_path_check(e->path, why))
		return MS_EUNSAFE;
	if (e->hardlink)
		*why = "a hard link";
	else if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
		*why = type == S_IFCHR || type == S_IFBLK ? "a device node"
		       : type == S_IFIFO                  ? "a FIFO"
		                                          : "not a file, directory or symlink";
	else if (e->mode & (S_ISUID | S_ISGID))
		*why = "a set-id bit";
	else if (type == S_IFLNK && (!e->symlink || !*e->symlink))
		*why = "a symlink to nothing";
	else if (type == S_IFREG && e->size < 0)
		*why = "no size";
	return *why ? MS_EUNSAFE : 0;
}

char *ms_bundle_resolve_link(const char *path, const char *target)
{
	struct ms_buf b = MS_BUF_INIT;
	char *dir, *copy, *save = NULL;
	bool bad = false;

	if (!*target || target[0] == '/')
		return NULL;
	dir = xstrdup(path);
	*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
	ms_buf_adds(&b, dir);
	copy = xstrdup(target);
	for (char *seg = strtok_r(copy, "/", &save); seg && !bad;
	     seg = strtok_r(NULL, "/", &save)) {
		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			char *slash = b.len ? strrchr(b.data, '/') : NULL;

			if (!b.len)
				bad = true; /* above the top of the bundle */
			b.len = slash ? (size_t)(slash - b.data) : 0;
			if (b.data)
				b.data[b.len] = '\0';
			continue;
		}
		ms_buf_addf(&b, "%s%s", b.len ? "/" : "", seg);
	}
	free(copy);
	free(dir);
	if (bad || !b.len) {
		ms_buf_release(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* ---- the manifest ---- */

struct mentry {
	char *path; /* in the bundle: <hub>/<rel> */
	char *link; /* a symlink's target; NULL for a file */
	uint64_t size;
	enum ms_hash_algo algo;
	char digest[MS_HEX_MAX];
	size_t repo;
	char *disk; /* export: the file */
	bool seen;  /* import: the archive had it */
};

struct mrepo {
	struct ms_repo repo;
	const struct ms_cache_stat *stat; /* export */
	const char *rev;                  /* export: only this revision */
	cJSON *revisions;                 /* import: as the bundle says */
	bool skip;                        /* import: not for this cache (--hub) */
};

struct manifest {
	struct mrepo *repos;
	size_t nrepos;
	struct mentry *e;
	size_t n, cap;
	struct ms_index ix;
};

static const char *entry_path(const void *base, size_t i)
{
	return ((const struct mentry *)base)[i].path;
}

static struct mentry *manifest_find(struct manifest *m, const char *path)
{
	size_t i = ms_index_find(&m->ix, m->e, m->n, entry_path, path);

	return i == SIZE_MAX ? NULL : &m->e[i];
}

static struct mentry *manifest_add(struct manifest *m, size_t repo, char *path)
{
	struct mentry *e;

	ms_grow((void **)&m->e, &m->cap, m->n + 1, sizeof(*m->e));
	e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->repo = repo;
	return e;
}

static void manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].path);
		free(m->e[i].link);
		free(m->e[i].disk);
	}
	for (size_t i = 0; i < m->nrepos; i++) {
		ms_repo_release(&m->repos[i].repo);
		cJSON_Delete(m->repos[i].revisions);
	}
	free(m->repos);
	free(m->e);
	ms_index_release(&m->ix);
	memset(m, 0, sizeof(*m));
}

static int mentry_cmp(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;

	if (x->repo != y->repo)
		return x->repo < y->repo ? -1 : 1;
	return strcmp(x->path, y->path);
}

static cJSON *revisions_json(const struct mrepo *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; r->stat && i < r->stat->nrevs; i++) {
		const struct ms_cache_rev *v = &r->stat->revs[i];
		cJSON *o, *refs;

		if (r->rev && ms_cache_stat_find(r->stat, r->rev) != v)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "revision",
		                        v->nrefs  ? v->refs[0]
		                        : v->name ? v->name
		                                  : "");
		if (v->name && ms_is_commit_id(v->name))
			cJSON_AddStringToObject(o, "commit", v->name);
		refs = cJSON_AddArrayToObject(o, "refs");
		for (size_t j = 0; j < v->nrefs; j++)
			cJSON_AddItemToArray(refs, cJSON_CreateString(v->refs[j]));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static char *manifest_to_json(const struct manifest *m)
{
	cJSON *root = cJSON_CreateObject(), *repos;
	char *text, *out;
	size_t k = 0;

	cJSON_AddStringToObject(root, "format", BUNDLE_FORMAT);
	cJSON_AddNumberToObject(root, "version", 1);
	repos = cJSON_AddArrayToObject(root, "repos");
	for (size_t i = 0; i < m->nrepos; i++) {
		const struct mrepo *r = &m->repos[i];
		cJSON *o = cJSON_CreateObject(), *entries;
		uint64_t size = 0;
		size_t files = 0;

		cJSON_AddStringToObject(o, "hub", r->repo.hub->name);
		cJSON_AddStringToObject(o, "type", ms_repo_type_name(r->repo.type));
		cJSON_AddStringToObject(o, "id", r->repo.id);
		cJSON_AddItemToObject(o, "revisions", revisions_json(r));
		entries = cJSON_CreateArray();
		for (; k < m->n && m->e[k].repo == i; k++) {
			const struct mentry *e = &m->e[k];
			cJSON *eo = cJSON_CreateObject();

			cJSON_AddStringToObject(eo, "path", e->path);
			if (e->link) {
				cJSON_AddStringToObject(eo, "link", e->link);
			} else {
				cJSON_AddNumberToObject(eo, "size", (double)e->size);
				cJSON_AddStringToObject(eo, ms_hash_name(e->algo), e->digest);
				size += e->size;
				files++;
			}
			cJSON_AddItemToArray(entries, eo);
		}
		cJSON_AddNumberToObject(o, "files", (double)files);
		cJSON_AddNumberToObject(o, "size", (double)size);
		cJSON_AddItemToObject(o, "entries", entries);
		cJSON_AddItemToArray(repos, o);
	}
	text = cJSON_PrintUnformatted(root);
	out = xstrdup(text);
	cJSON_free(text);
	cJSON_Delete(root);
	return out;
}

/* ---- export ---- */

/* The repo's layout into the manifest: paths below <hub>/, digests where recorded. */
static int add_repo(struct manifest *m, const struct ms_export_repo *x, struct ms_error *err)
{
	struct ms_store *st = ms_cache_repo_store(&x->repo, NULL);
	struct ms_cache_items items = {0};
	size_t at = m->nrepos++;
	int ret;

	m->repos = xrealloc(m->repos, m->nrepos * sizeof(*m->repos));
	memset(&m->repos[at], 0, sizeof(m->repos[at]));
	m->repos[at].repo = x->repo.repo;
	m->repos[at].repo.id = xstrdup(x->repo.repo.id);
	m->repos[at].repo.name = xstrdup(x->repo.repo.name);
	m->repos[at].repo.owner = x->repo.repo.owner ? xstrdup(x->repo.repo.owner) : NULL;
	m->repos[at].repo.revision = m->repos[at].repo.file = m->repos[at].repo.endpoint = NULL;
	m->repos[at].stat = &x->repo.stat;
	m->repos[at].rev = x->rev;
	ret = st->ops->bundle_list(st, x->rev, &items, err);
	for (size_t i = 0; !ret && i < items.n; i++) {
		const struct ms_cache_item *it = &items.v[i];
		struct mentry *e =
		        manifest_add(m, at, xasprintf("%s/%s", x->repo.repo.hub->name, it->rel));

		e->disk = xstrdup(it->disk);
		if (it->kind == MS_ITEM_LINK) {
			e->link = xstrdup(it->target);
			continue;
		}
		e->size = it->size;
		e->algo = it->algo;
		strcpy(e->digest, it->digest);
	}
	ms_cache_items_release(&items);
	st->ops->free(st);
	return ret;
}

/* Files no record has a digest of get one now (SHA-256, on every core). */
static int hash_unrecorded(struct manifest *m, struct ms_error *err)
{
	struct ms_hashfile *files = xcalloc(m->n + 1, sizeof(*files));
	size_t *at = xcalloc(m->n + 1, sizeof(*at)), n = 0;
	int ret;

	for (size_t i = 0; i < m->n; i++)
		if (!m->e[i].link && m->e[i].algo == MS_HASH_NONE) {
			files[n].path = m->e[i].disk;
			files[n].algo = MS_HASH_SHA256;
			at[n++] = i;
		}
	ret = ms_hash_files(files, n, NULL);
	for (size_t j = 0; j < n && !ret; j++) {
		struct mentry *e = &m->e[at[j]];

		if (files[j].status)
			ret = ms_error_errno(err, files[j].errnum, "cannot read", e->disk);
		e->algo = MS_HASH_SHA256;
		strcpy(e->digest, files[j].hex);
		e->size = files[j].size;
	}
	if (ret == MS_EINTR)
		ms_error_set(err, ret, "interrupted");
	free(files);
	free(at);
	return ret;
}

static int lib_error(struct archive *a, const char *what, struct ms_error *err)
{
	const char *msg = archive_error_string(a);
	int e = archive_errno(a);

	/* libarchive's own errors are EILSEQ (format) and EINVAL (use); the rest are the
	 * system's (a full disk, a closed pipe) */
	int code = e > 0 && e != EILSEQ && e != EINVAL ? ms_err_from_errno(e) : MS_EFAIL;

	return ms_error_set(err, code, "%s: %s", what,
	                    msg     ? msg
	                    : e > 0 ? strerror(e)
	                            : "unknown error");
}

static struct archive *writer_open(int fd, enum ms_bundle_format fmt, struct ms_error *err)
{
	struct archive *a = archive_write_new();
	char threads[16];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	archive_write_set_format_pax_restricted(a);
	if (fmt == MS_BUNDLE_TAR_ZST) {
		archive_write_add_filter_zstd(a);
		archive_write_set_filter_option(a, "zstd", "compression-level", "3");
		/* zstd's output is the same for any number of workers from one up: always one
		 * or more, so bundles are byte-identical across machines */
		snprintf(threads, sizeof(threads), "%ld", cores < 1 ? 1 : cores > 8 ? 8 : cores);
		archive_write_set_filter_option(a, "zstd", "threads", threads);
	} else if (fmt == MS_BUNDLE_TAR_GZ) {
		archive_write_add_filter_gzip(a);
		archive_write_set_filter_option(a, "gzip", "timestamp", NULL); /* no time */
	}
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		lib_error(a, "cannot write the bundle", err);
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Owners, times and modes fixed: the same cache gives the same bytes. */
static struct archive_entry *header(const char *path, mode_t type, uint64_t size, const char *link)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFLNK ? 0777 : 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (link)
		archive_entry_set_symlink(e, link);
	return e;
}

struct progress {
	const struct ms_bundle_cb *cb;
	size_t files;
	uint64_t bytes;
	double last;
};

static void advance(struct progress *p, uint64_t n, bool file_done)
{
	p->bytes += n;
	p->files += file_done;
	if (p->cb && p->cb->progress)
		p->cb->progress(p->cb->arg, p->files, p->bytes);
}

static int write_file(struct archive *a, const struct mentry *e, unsigned char *buf,
                      struct progress *p, struct ms_error *err)
{
	struct archive_entry *h = header(e->path, AE_IFREG, e->size, NULL);
	struct ms_hasher hs = {0};
	char hex[MS_HEX_MAX];
	uint64_t left = e->size;
	int fd = open(e->disk, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0) {
		archive_entry_free(h);
		return ms_error_errno(err, errno, "cannot open", e->disk);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ms_hasher_init(&hs, e->algo, e->size);
	if (archive_write_header(a, h) != ARCHIVE_OK)
		ret = lib_error(a, "cannot write the bundle", err);
	while (!ret && left) {
		ssize_t n = read(fd, buf, left < BLOCK ? left : BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? ms_error_errno(err, errno, "cannot read", e->disk)
			            : ms_error_set(err, MS_EINTEGRITY,
			                           "'%s' got shorter during the export", e->disk);
			break;
		}
		ms_hasher_update(&hs, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n)
			ret = lib_error(a, "cannot write the bundle", err);
		left -= (uint64_t)n;
		advance(p, (uint64_t)n, false);
		if (ms_interrupted())
			ret = ms_error_set(err, MS_EINTR, "interrupted");
	}
	if (!ret) {
		ms_hasher_final(&hs, hex);
		if (strcmp(hex, e->digest))
			ret = ms_error_set(
			        err, MS_EINTEGRITY,
			        "'%s' is not what the cache recorded (%s %s, expected %s): "
			        "'mscli cache verify --repair' fixes it",
			        e->disk, ms_hash_name(e->algo), hex, e->digest);
	}
	advance(p, 0, true);
	ms_hasher_release(&hs);
	archive_entry_free(h);
	close(fd);
	return ret;
}

static int write_bundle(struct archive *a, const struct manifest *m, const char *json,
                        const struct ms_bundle_cb *cb, struct ms_error *err)
{
	struct archive_entry *h = header(MS_BUNDLE_MANIFEST, AE_IFREG, strlen(json), NULL);
	unsigned char *buf = xmalloc(BLOCK);
	struct progress p = {.cb = cb};
	int ret = 0;

	if (archive_write_header(a, h) != ARCHIVE_OK ||
	    archive_write_data(a, json, strlen(json)) != (la_ssize_t)strlen(json))
		ret = lib_error(a, "cannot write the bundle", err);
	archive_entry_free(h);
	for (size_t i = 0; i < m->n && !ret; i++) {
		const struct mentry *e = &m->e[i];

		if (!e->link) {
			ret = write_file(a, e, buf, &p, err);
			continue;
		}
		h = header(e->path, AE_IFLNK, 0, e->link);
		if (archive_write_header(a, h) != ARCHIVE_OK)
			ret = lib_error(a, "cannot write the bundle", err);
		archive_entry_free(h);
	}
	free(buf);
	return ret;
}

int ms_bundle_export(const struct ms_export_repo *repos, size_t n, int fd,
                     enum ms_bundle_format fmt, const struct ms_bundle_cb *cb, struct ms_error *err)
{
	struct manifest m = {0};
	struct archive *a = NULL;
	char *json = NULL;
	uint64_t bytes = 0;
	size_t files = 0;
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = add_repo(&m, &repos[i], err);
	if (!ret)
		ret = hash_unrecorded(&m, err);
	if (ret)
		goto out;
	if (m.n)
		qsort(m.e, m.n, sizeof(*m.e), mentry_cmp);
	for (size_t i = 0; i < m.n; i++)
		if (!m.e[i].link) {
			bytes += m.e[i].size;
			files++;
		}
	if (cb && cb->begin)
		cb->begin(cb->arg, files, bytes);
	json = manifest_to_json(&m);
	if (!(a = writer_open(fd, fmt, err))) {
		ret = err->code ? err->code : MS_EFAIL;
		goto out;
	}
	ret = write_bundle(a, &m, json, cb, err);
	if (archive_write_close(a) != ARCHIVE_OK && !ret)
		ret = lib_error(a, "cannot write the bundle", err);
	archive_write_free(a);
out:
	free(json);
	manifest_release(&m);
	return ret;
}

/* ---- import: the manifest ---- */

static int bad_manifest(struct ms_error *err, const char *why, const char *what)
{
	return ms_error_set(err, MS_EUNSAFE, "the bundle's manifest is not usable: %s%s%s%s", why,
	                    what ? " ('" : "", what ? what : "", what ? "')" : "");
}

/* hub, type and id of one repo of the manifest, checked as a REPO argument would be. */
static int parse_repo(const cJSON *o, struct mrepo *r, struct ms_error *err)
{
	const char *hub = ms_json_string(o, "hub"), *type = ms_json_string(o, "type"),
	           *id = ms_json_string(o, "id");
	const struct ms_hub *h = hub ? ms_hub_find(hub) : NULL;
	enum ms_repo_type t;
	struct ms_error e;
	char *spec;
	int ret;

	if (!h || !h->cache_store || strcmp(h->name, hub))
		return bad_manifest(err, "unknown hub", hub);
	if (!type || ms_repo_type_parse(type, &t))
		return bad_manifest(err, "unknown repo type", type);
	if (!id || strchr(id, '@') || strchr(id, ':'))
		return bad_manifest(err, "not a repo id", id);
	spec = xasprintf("%s:%s", h->name, id);
	ret = ms_repo_parse(spec, h, true, (int)t, &r->repo, &e);
	free(spec);
	if (ret || r->repo.revision || strcmp(r->repo.id, id)) {
		ms_repo_release(&r->repo);
		return bad_manifest(err, "not a repo id", id);
	}
	r->revisions = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "revisions"), 1);
	return 0;
}

static int parse_entry(struct manifest *m, size_t repo, const cJSON *eo, struct ms_error *err)
{
	const char *path = ms_json_string(eo, "path"), *link = ms_json_string(eo, "link"), *why;
	const char *hub = m->repos[repo].repo.hub->name, *d;
	struct mentry *e;
	uint64_t size;

	if (!path || ms_path_check(path, &why))
		return bad_manifest(err, "an unsafe path", path);
	if (strncmp(path, hub, strlen(hub)) || path[strlen(hub)] != '/')
		return bad_manifest(err, "a path outside its hub's part", path);
	if (manifest_find(m, path))
		return bad_manifest(err, "a path given twice", path);
	e = manifest_add(m, repo, xstrdup(path));
	if (link) {
		e->link = xstrdup(link);
		return 0;
	}
	if (!ms_json_u64(cJSON_GetObjectItemCaseSensitive(eo, "size"), &size))
		return bad_manifest(err, "a file without a size", path);
	e->size = size;
	if ((d = ms_json_string(eo, "sha256")) && ms_hash_algo_for_hex(d) == MS_HASH_SHA256)
		e->algo = MS_HASH_SHA256;
	else if ((d = ms_json_string(eo, "git-sha1")) && ms_hash_algo_for_hex(d) == MS_HASH_GITSHA1)
		e->algo = MS_HASH_GITSHA1;
	else
		return bad_manifest(err, "a file without a digest", path);
	strcpy(e->digest, d);
	ms_lowercase(e->digest);
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first of the sorted paths at or after key. */
static size_t lower_bound(char **v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Is p a path of repo's entries, or a directory above one of them? */
static bool in_repo(const struct manifest *m, char **sorted, size_t *owner, const char *p,
                    size_t repo)
{
	char *dir = xasprintf("%s/", p);
	size_t i = lower_bound(sorted, m->n, p), j = lower_bound(sorted, m->n, dir);
	bool yes = (i < m->n && !strcmp(sorted[i], p) && owner[i] == repo) ||
	           (j < m->n && !strncmp(sorted[j], dir, strlen(dir)) && owner[j] == repo);

	free(dir);
	return yes;
}

/*
 * Symlinks lead to a file or a folder of their own repo, never through another symlink
 * (nothing may sit below a link).
 */
static int check_links(struct manifest *m, struct ms_error *err)
{
	char **sorted = xcalloc(m->n + 1, sizeof(*sorted));
	size_t *owner = xcalloc(m->n + 1, sizeof(*owner));
	int ret = 0;

	for (size_t i = 0; i < m->n; i++)
		sorted[i] = m->e[i].path;
	qsort(sorted, m->n, sizeof(*sorted), str_cmp);
	for (size_t i = 0; i < m->n; i++)
		owner[i] = manifest_find(m, sorted[i])->repo;
	for (size_t i = 0; i < m->n && !ret; i++) {
		const struct mentry *e = &m->e[i];
		char *to, *below;
		size_t j;

		if (!e->link)
			continue;
		to = ms_bundle_resolve_link(e->path, e->link);
		below = xasprintf("%s/", e->path);
		j = lower_bound(sorted, m->n, below);
		if (!to || !in_repo(m, sorted, owner, to, e->repo))
			ret = bad_manifest(err, "a symlink that leads out of its repo", e->path);
		else if (j < m->n && !strncmp(sorted[j], below, strlen(below)))
			ret = bad_manifest(err, "a path below a symlink", sorted[j]);
		free(to);
		free(below);
	}
	free(sorted);
	free(owner);
	return ret;
}

static int manifest_from_json(const char *json, size_t len, const struct ms_cache_scope *sc,
                              struct manifest *m, struct ms_error *err)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *repos = cJSON_GetObjectItemCaseSensitive(root, "repos"), *ro, *eo;
	const char *fmt = ms_json_string(root, "format");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	int ret = 0;

	if (!root || !fmt || strcmp(fmt, BUNDLE_FORMAT) || !cJSON_IsNumber(ver) ||
	    !cJSON_IsArray(repos))
		ret = ms_error_set(err, MS_EFAIL, "not an mscli bundle (its manifest is not one)");
	else if (ver->valuedouble != 1)
		ret = ms_error_set(err, MS_EFAIL,
		                   "a bundle of version %g: this mscli reads version 1",
		                   ver->valuedouble);
	m->repos = xcalloc((size_t)cJSON_GetArraySize(repos) + 1, sizeof(*m->repos));
	cJSON_ArrayForEach(ro, repos)
	{
		struct mrepo *r = &m->repos[m->nrepos];
		const cJSON *entries = cJSON_GetObjectItemCaseSensitive(ro, "entries");

		if (ret || (ret = parse_repo(ro, r, err)) != 0)
			break;
		m->nrepos++;
		r->skip = sc->hub && r->repo.hub != sc->hub; /* --hub: read past it */
		if (!cJSON_IsArray(entries)) {
			ret = bad_manifest(err, "a repo without entries", r->repo.id);
			break;
		}
		cJSON_ArrayForEach(eo, entries) if (!ret) ret =
		        parse_entry(m, m->nrepos - 1, eo, err);
	}
	if (!ret)
		ret = check_links(m, err);
	cJSON_Delete(root);
	return ret;
}

/* ---- import: staging ---- */

/* One staging directory per cache root, inside it (a rename into place never copies). */
struct stage {
	const struct ms_hub *hub;
	char *root, *dir;
	int lock_fd;
};

struct import {
	const struct ms_cache_scope *sc;
	struct manifest m;
	struct stage stages[8];
	size_t nstages;
	struct progress p;
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
	if (ms_mkdirs(s->root, 0755, err) || !(scratch = hub->cache_scratch(s->root, true, err))) {
		free(s->root);
		return NULL;
	}
	tmpl = xasprintf("%s/import-XXXXXX", scratch);
	free(scratch);
	if (!mkdtemp(tmpl)) {
		ms_error_errno(err, errno, "cannot create a directory in", tmpl);
		free(tmpl);
		free(s->root);
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
		rmdir(parent); /* the scratch directory, when no other import uses it */
		free(im->stages[i].dir);
		free(im->stages[i].root);
	}
	im->nstages = 0;
}

/* The file of e from the archive into the stage, hashed as it lands. */
static int stage_file(struct import *im, struct archive *a, struct mentry *e, const char *dir,
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
		la_ssize_t n = archive_read_data(a, im->buf, BLOCK);

		if (n == 0)
			break;
		if (n < 0) {
			ret = lib_error(a, "cannot read the bundle", err);
			break;
		}
		ms_hasher_update(&hs, im->buf, (size_t)n);
		got += (uint64_t)n;
		if (ms_write_all(fd, im->buf, (size_t)n) < 0) {
			ret = ms_error_errno(err, errno, "cannot write", path);
			break;
		}
		advance(&im->p, (uint64_t)n, false);
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
	advance(&im->p, 0, true);
	ms_hasher_release(&hs);
	free(path);
	return ret;
}

/* One archive entry after the manifest: checked, then staged. */
static int stage_entry(struct import *im, struct archive *a, struct archive_entry *ae,
                       struct ms_error *err)
{
	struct ms_bundle_entry be = {.path = archive_entry_pathname(ae),
	                             .mode = archive_entry_mode(ae),
	                             .symlink = archive_entry_symlink(ae),
	                             .hardlink = archive_entry_hardlink(ae),
	                             .size = archive_entry_size_is_set(ae) ? archive_entry_size(ae)
	                                                                   : -1};
	const char *why = NULL, *rel;
	struct mentry *e;
	struct stage *s;
	char *path;
	int ret;

	if (!be.path)
		return ms_error_set(err, MS_EUNSAFE, "the bundle has an entry without a name");
	if (ms_bundle_check_entry(&be, &why))
		return ms_error_set(err, MS_EUNSAFE, "refusing the bundle: '%s' is %s", be.path,
		                    why);
	if ((be.mode & S_IFMT) == S_IFDIR)
		return 0; /* directories come with the files in them */
	if (!(e = manifest_find(&im->m, be.path)))
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
	int r = archive_read_next_header(a, &ae), ret;

	if (r == ARCHIVE_EOF)
		return ms_error_set(err, MS_EFAIL, "the bundle is empty");
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return lib_error(a, "cannot read the bundle", err);
	size = archive_entry_size(ae);
	if (!archive_entry_pathname(ae) || strcmp(archive_entry_pathname(ae), MS_BUNDLE_MANIFEST) ||
	    archive_entry_filetype(ae) != AE_IFREG || size <= 0 || size > MANIFEST_MAX)
		return ms_error_set(
		        err, MS_EFAIL,
		        "not an mscli bundle: it does not start with %s (made by 'mscli "
		        "cache export'?)",
		        MS_BUNDLE_MANIFEST);
	json = xmalloc((size_t)size + 1);
	n = archive_read_data(a, json, (size_t)size);
	if (n != size) {
		free(json);
		return n < 0 ? lib_error(a, "cannot read the bundle", err)
		             : ms_error_set(err, MS_EFAIL,
		                            "the bundle is truncated (in its manifest)");
	}
	json[size] = '\0';
	ret = manifest_from_json(json, (size_t)size, im->sc, &im->m, err);
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
	while (!ret && (r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			ret = lib_error(a, "cannot read the bundle", err);
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

/* Everything is staged and verified: each repo moves in under its store's locks. */
static int commit(struct import *im, const struct ms_bundle_cb *cb, struct ms_error *err)
{
	int ret = 0;

	for (size_t i = 0; i < im->m.nrepos && !ret; i++) {
		const struct ms_repo *repo = &im->m.repos[i].repo;
		struct stage *s = NULL;
		struct ms_store *st;

		for (size_t k = 0; k < im->nstages; k++)
			if (im->stages[k].hub == repo->hub)
				s = &im->stages[k];
		if (!s || im->m.repos[i].skip)
			continue; /* --hub left it out, or it has no files */
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
	struct archive *a = archive_read_new();
	int ret = 0;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	im.buf = xmalloc(BLOCK);
	if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK)
		ret = lib_error(a, "cannot read the bundle", err);
	if (!ret)
		ret = read_manifest(&im, a, err);
	if (!ret)
		ret = read_entries(&im, a, cb, err);
	if (!ret)
		ret = commit(&im, cb, err);
	stages_release(&im);
	archive_read_free(a);
	manifest_release(&im.m);
	free(im.buf);
	return ret;
}
