/*
 * What the archive files share (archive.c exports, archive-import.c imports):
 * the manifest, mscli-bundle.json, both ways, with its checks.
 */
#ifndef MSCLI_ARCHIVE_MANIFEST_H
#define MSCLI_ARCHIVE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

#define MS_BUNDLE_BLOCK (1u << 20) /* bytes read or written at once */

struct archive;
struct cJSON;
struct ms_bundle_cb;

struct ms_mentry {
	char *path; /* in the bundle: <hub>/<rel> */
	char *link; /* a symlink's target; NULL for a file */
	uint64_t size;
	enum ms_hash_algo algo;
	char digest[MS_HEX_MAX];
	size_t repo;
	char *disk; /* export: the file */
	bool seen;  /* import: the archive had it */
};

struct ms_mrepo {
	struct ms_repo repo;
	const struct ms_cache_stat *stat; /* export */
	const char *rev;                  /* export: only this revision */
	struct cJSON *revisions;          /* import: as the bundle says */
	bool skip;                        /* import: not for this cache (--hub) */
};

struct ms_manifest {
	struct ms_mrepo *repos;
	size_t nrepos;
	struct ms_mentry *e;
	size_t n, cap;
	struct ms_index ix;
};

struct ms_bundle_progress {
	const struct ms_bundle_cb *cb;
	size_t files;
	uint64_t bytes;
	double last;
};

struct ms_mentry *ms_manifest_find(struct ms_manifest *m, const char *path);
/* A new entry of repo (path taken over). */
struct ms_mentry *ms_manifest_add(struct ms_manifest *m, size_t repo, char *path);
/* Entries repo by repo, by path: the order of the bundle. */
void ms_manifest_sort(struct ms_manifest *m);
char *ms_manifest_to_json(const struct ms_manifest *m);
/*
 * The manifest of a bundle, checked: known hubs and types, repo ids as a REPO argument
 * takes them, safe and unique paths inside their hub's part, digests, symlinks that lead
 * to a file or folder of their own repo, nothing below a symlink.  Repos of another hub
 * than sc's are marked skip.
 */
int ms_manifest_from_json(const char *json, size_t len, const struct ms_cache_scope *sc,
                          struct ms_manifest *m, struct ms_error *err);
void ms_manifest_release(struct ms_manifest *m);
/* Where the symlink at path pointing to target leads, as a path in the bundle (lexically);
 * NULL when it leaves the bundle (absolute, or ".." above its top).  Allocated. */
char *ms_bundle_resolve_link(const char *path, const char *target);

/* libarchive's last error as ours (system errors keep their exit code). */
int ms_archive_error(struct archive *a, const char *what, struct ms_error *err);
void ms_bundle_advance(struct ms_bundle_progress *p, uint64_t n, bool file_done);

#endif
