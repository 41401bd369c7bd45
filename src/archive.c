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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/archive-manifest.h"
#include "mscli/archive-lib.h"
#include "mscli/archive.h"
#include "mscli/clock.h"
#include "mscli/hashfiles.h"
#include "mscli/pathsafe.h"
#include "mscli/strbuf.h"

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

/* ---- export ---- */

int ms_bundle_can_export(const struct ms_cache_repo *r, struct ms_error *err)
{
	struct ms_store *st = ms_cache_repo_store(r, NULL);
	bool can = st->ops->bundle_list && st->ops->import;

	st->ops->free(st);
	if (can)
		return 0;
	return ms_error_set(err, MS_EUSAGE,
	                    "cache export: %s is in %s's layout (%s), which bundles do not carry; "
	                    "'mscli download %s%s' puts it in mscli's layout, which they do",
	                    r->repo.id, ms_cache_repo_layout(r), r->stat.path,
	                    r->repo.type == MS_REPO_DATASET ? "--type dataset " : "", r->repo.id);
}

/* The repo's layout into the manifest: paths below <hub>/, digests where recorded. */
static int add_repo(struct ms_manifest *m, const struct ms_export_repo *x, struct ms_error *err)
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
		struct ms_mentry *e =
		        ms_manifest_add(m, at, xasprintf("%s/%s", x->repo.repo.hub->name, it->rel));

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
static int hash_unrecorded(struct ms_manifest *m, struct ms_error *err)
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
		struct ms_mentry *e = &m->e[at[j]];

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

int ms_archive_error(struct archive *a, const char *what, struct ms_error *err)
{
	const char *msg = ms_archive()->archive_error_string(a);
	int e = ms_archive()->archive_errno(a);

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
	struct archive *a = ms_archive()->archive_write_new();
	char threads[16];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	ms_archive()->archive_write_set_format_pax_restricted(a);
	/* no padding after the compressed stream, pipe or file: zeros after a zstd frame are
	 * a corrupt frame to a reader, and the bytes would differ between -o - and -o FILE */
	ms_archive()->archive_write_set_bytes_in_last_block(a, 1);
	if (fmt == MS_BUNDLE_TAR_ZST) {
		ms_archive()->archive_write_add_filter_zstd(a);
		ms_archive()->archive_write_set_filter_option(a, "zstd", "compression-level", "3");
		/* zstd's output is the same for any number of workers from one up: always one
		 * or more, so bundles are byte-identical across machines.  Two at most: each
		 * holds ~20 MiB of job buffers, and the export keeps within 64 MiB on any
		 * machine (at level 3 two workers outrun the SHA-256 the export does anyway) */
		snprintf(threads, sizeof(threads), "%ld", cores < 1 ? 1 : cores > 2 ? 2 : cores);
		ms_archive()->archive_write_set_filter_option(a, "zstd", "threads", threads);
	} else if (fmt == MS_BUNDLE_TAR_GZ) {
		ms_archive()->archive_write_add_filter_gzip(a);
		ms_archive()->archive_write_set_filter_option(a, "gzip", "timestamp",
		                                              NULL); /* no time */
	}
	if (ms_archive()->archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		ms_archive_error(a, "cannot write the bundle", err);
		ms_archive()->archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Owners, times and modes fixed: the same cache gives the same bytes. */
static struct archive_entry *header(const char *path, mode_t type, uint64_t size, const char *link)
{
	struct archive_entry *e = ms_archive()->archive_entry_new();

	ms_archive()->archive_entry_set_pathname(e, path);
	ms_archive()->archive_entry_set_filetype(e, type);
	ms_archive()->archive_entry_set_perm(e, type == AE_IFLNK ? 0777 : 0644);
	ms_archive()->archive_entry_set_size(e, (la_int64_t)size);
	ms_archive()->archive_entry_set_mtime(e, 0, 0);
	ms_archive()->archive_entry_set_uid(e, 0);
	ms_archive()->archive_entry_set_gid(e, 0);
	if (link)
		ms_archive()->archive_entry_set_symlink(e, link);
	return e;
}

void ms_bundle_advance(struct ms_bundle_progress *p, uint64_t n, bool file_done)
{
	p->bytes += n;
	p->files += file_done;
	if (p->cb && p->cb->progress)
		p->cb->progress(p->cb->arg, p->files, p->bytes);
}

static int write_file(struct archive *a, const struct ms_mentry *e, unsigned char *buf,
                      struct ms_bundle_progress *p, struct ms_error *err)
{
	struct archive_entry *h = header(e->path, AE_IFREG, e->size, NULL);
	struct ms_hasher hs = {0};
	char hex[MS_HEX_MAX];
	uint64_t left = e->size;
	int fd = open(e->disk, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0) {
		ms_archive()->archive_entry_free(h);
		return ms_error_errno(err, errno, "cannot open", e->disk);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ms_hasher_init(&hs, e->algo, e->size);
	if (ms_archive()->archive_write_header(a, h) != ARCHIVE_OK)
		ret = ms_archive_error(a, "cannot write the bundle", err);
	while (!ret && left) {
		ssize_t n = read(fd, buf, left < MS_BUNDLE_BLOCK ? left : MS_BUNDLE_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? ms_error_errno(err, errno, "cannot read", e->disk)
			            : ms_error_set(err, MS_EINTEGRITY,
			                           "'%s' got shorter during the export", e->disk);
			break;
		}
		ms_hasher_update(&hs, buf, (size_t)n);
		if (ms_archive()->archive_write_data(a, buf, (size_t)n) != n)
			ret = ms_archive_error(a, "cannot write the bundle", err);
		left -= (uint64_t)n;
		ms_bundle_advance(p, (uint64_t)n, false);
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
	ms_bundle_advance(p, 0, true);
	ms_hasher_release(&hs);
	ms_archive()->archive_entry_free(h);
	close(fd);
	return ret;
}

static int write_bundle(struct archive *a, const struct ms_manifest *m, const char *json,
                        const struct ms_bundle_cb *cb, struct ms_error *err)
{
	struct archive_entry *h = header(MS_BUNDLE_MANIFEST, AE_IFREG, strlen(json), NULL);
	unsigned char *buf = xmalloc(MS_BUNDLE_BLOCK);
	struct ms_bundle_progress p = {.cb = cb};
	int ret = 0;

	if (ms_archive()->archive_write_header(a, h) != ARCHIVE_OK ||
	    ms_archive()->archive_write_data(a, json, strlen(json)) != (la_ssize_t)strlen(json))
		ret = ms_archive_error(a, "cannot write the bundle", err);
	ms_archive()->archive_entry_free(h);
	for (size_t i = 0; i < m->n && !ret; i++) {
		const struct ms_mentry *e = &m->e[i];

		if (!e->link) {
			ret = write_file(a, e, buf, &p, err);
			continue;
		}
		h = header(e->path, AE_IFLNK, 0, e->link);
		if (ms_archive()->archive_write_header(a, h) != ARCHIVE_OK)
			ret = ms_archive_error(a, "cannot write the bundle", err);
		ms_archive()->archive_entry_free(h);
	}
	free(buf);
	return ret;
}

static int export_cmp(const void *a, const void *b)
{
	const struct ms_export_repo *x = *(const struct ms_export_repo *const *)a;
	const struct ms_export_repo *y = *(const struct ms_export_repo *const *)b;
	/* the registry's order, as `cache ls` shows them */
	int c = (int)ms_hub_index(x->repo.repo.hub) - (int)ms_hub_index(y->repo.repo.hub);

	if (!c)
		c = (int)x->repo.repo.type - (int)y->repo.repo.type;
	return c ? c : strcmp(x->repo.repo.id, y->repo.repo.id);
}

int ms_bundle_export(const struct ms_export_repo *repos, size_t n, int fd,
                     enum ms_bundle_format fmt, const struct ms_bundle_cb *cb, struct ms_error *err)
{
	struct ms_manifest m = {0};
	struct archive *a = NULL;
	char *json = NULL;
	uint64_t bytes = 0;
	size_t files = 0;
	int ret = ms_archive_load(err);
	const struct ms_export_repo **order;

	if (ret)
		return ret;
	order = xcalloc(n + 1, sizeof(*order));

	/* the same repos in any order give the same bundle */
	for (size_t i = 0; i < n; i++)
		order[i] = &repos[i];
	if (n)
		qsort(order, n, sizeof(*order), export_cmp);
	for (size_t i = 0; i < n && !ret; i++)
		ret = add_repo(&m, order[i], err);
	if (!ret)
		ret = hash_unrecorded(&m, err);
	if (ret)
		goto out;
	if (m.n)
		ms_manifest_sort(&m);
	for (size_t i = 0; i < m.n; i++)
		if (!m.e[i].link) {
			bytes += m.e[i].size;
			files++;
		}
	if (cb && cb->begin)
		cb->begin(cb->arg, files, bytes);
	json = ms_manifest_to_json(&m);
	if (!(a = writer_open(fd, fmt, err))) {
		ret = err->code ? err->code : MS_EFAIL;
		goto out;
	}
	ret = write_bundle(a, &m, json, cb, err);
	if (ms_archive()->archive_write_close(a) != ARCHIVE_OK && !ret)
		ret = ms_archive_error(a, "cannot write the bundle", err);
	ms_archive()->archive_write_free(a);
out:
	free(json);
	free(order);
	ms_manifest_release(&m);
	return ret;
}
