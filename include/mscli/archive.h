/*
 * Bundles for offline machines (`cache export`, `cache import`), written
 * and read with libarchive: a tar (zstd-compressed by default) that holds
 * each repo exactly in its cache layout (HF blobs once), after a manifest,
 * mscli-bundle.json, naming every entry with its size and digest.
 *
 * Export streams (one block in memory, no copy of the bundle) and is
 * deterministic: entries sorted, owners 0, times 0, modes 0644/0777.
 * Import streams too: every entry is checked (ms_bundle_check_entry, and
 * against the manifest) and written below a staging directory inside the
 * cache root, hashed as it lands; only when the whole bundle is read and
 * every file matched does a repo move into place, under the locks a
 * download takes.  A failed import leaves the cache as it was.
 */
#ifndef MSCLI_ARCHIVE_H
#define MSCLI_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache.h"

#define MS_BUNDLE_MANIFEST "mscli-bundle.json"

enum ms_bundle_format {
	MS_BUNDLE_TAR_ZST,
	MS_BUNDLE_TAR,
	MS_BUNDLE_TAR_GZ,
};

/* What a file name asks for: .tar, .tar.gz or .tgz; anything else (and "-") .tar.zst. */
enum ms_bundle_format ms_bundle_format_for(const char *name);

/* One repo to export: all its revisions, or rev's. */
struct ms_export_repo {
	struct ms_cache_repo repo;
	char *rev;
};

struct ms_bundle_cb {
	void *arg;
	void (*begin)(void *arg, size_t nfiles, uint64_t bytes);
	void (*progress)(void *arg, size_t files_done, uint64_t bytes_done);
	/* import: a repo is in the cache now (path: its folder) */
	void (*imported)(void *arg, const struct ms_repo *repo, const char *path);
};

/* MS_EUSAGE (one line saying why) when r's layout cannot go into a bundle (modelscope_hub's:
 * no hashes to put in the manifest, no import into it). */
int ms_bundle_can_export(const struct ms_cache_repo *r, struct ms_error *err);
/* Write a bundle of the n repos to fd (a file or a pipe). */
int ms_bundle_export(const struct ms_export_repo *repos, size_t n, int fd,
                     enum ms_bundle_format fmt, const struct ms_bundle_cb *cb,
                     struct ms_error *err);

/* Read a bundle from fd into the caches of sc (its hub narrows what is taken). */
int ms_bundle_import(int fd, const struct ms_cache_scope *sc, const struct ms_bundle_cb *cb,
                     struct ms_error *err);

/* ---- the checks, on their own for tests ---- */

/* An entry as a tar header describes it. */
struct ms_bundle_entry {
	const char *path;
	mode_t mode;          /* type and permission bits */
	const char *symlink;  /* its target, for a symlink */
	const char *hardlink; /* set when the entry is a hard link */
	int64_t size;
};

/*
 * Is the entry acceptable at all: a relative path without "..", empty or
 * overlong parts; a regular file, a directory or a symlink, never a hard
 * link, device, FIFO or socket; no set-id bits.  0, or MS_EUNSAFE with *why.
 */
int ms_bundle_check_entry(const struct ms_bundle_entry *e, const char **why);

#endif
