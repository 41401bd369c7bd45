/* Shared by the two Hugging Face layouts: store-hf.c (the cache) and store-localdir.c. */
#ifndef MSCLI_STORE_HF_H
#define MSCLI_STORE_HF_H

#include <stdbool.h>

#include "hub.h"
#include "pathsafe.h"
#include "repo.h"
#include "store.h"

/*
 * Partials are <name>.mscli.incomplete, not huggingface_hub's "<name>.incomplete":
 * huggingface_hub <= 1.17 takes a full-length file of that name as done, and a
 * ranged partial is allocated to full length.
 */
#define MS_HF_PARTIAL_SUFFIX ".mscli.incomplete"
#define MS_HF_RESUME_SUFFIX  ".mscli-resume"

/* dir/CACHEDIR.TAG (dir created), as huggingface_hub writes it. */
int ms_hf_cachedir_tag(const char *dir, struct ms_error *err);
/* dir/trees/<commit>.json: 0 with out filled, -1 when absent or not usable. */
int ms_hf_tree_read(const char *dir, const char *commit, struct ms_listing *out);
/* The whole tree, atomically (nothing when l comes from HEADs, not a tree). */
int ms_hf_tree_write(const char *dir, const struct ms_listing *l, struct ms_error *err);
/* The regular files below top/rel (links followed); a link into blobs/ names the etag. */
void ms_hf_walk_files(const char *top, const char *rel, struct ms_listing *out);

/* The cache store (store-hf.c; its cache commands in store-hf-cache.c). */
struct store_hf {
	struct ms_store base;
	char *rev, *commit;
	char *root;     /* cache root */
	char *folder;   /* "models--org--name" */
	char *repo_dir; /* <root>/<folder> */
	char *locks;    /* <root>/.locks/<folder>: locks and resume state */
	bool no_symlinks;
	const struct ms_listing *listing;
	bool listing_from_cache;
	int repo_lock;          /* MS_HF_REPO_LOCK, held shared from lock() to finish(), or -1 */
	struct ms_dirmemo dirs; /* made in this run: once each, not once per file */
};

/* In .locks/<folder>: mscli's lock of the whole repo (huggingface_hub has none).  A download
 * holds it shared from lock() to finish() -- its ref and snapshot directory come after its
 * last blob lock is freed -- and rm and prune take it exclusively before any blob lock. */
#define MS_HF_REPO_LOCK "mscli-repo.lock"

/* The cache commands' side of the store (store-hf-cache.c). */
int ms_store_hf_walk(const struct ms_hub *hub, const char *root,
                     int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                     struct ms_error *err);
char *ms_store_hf_scratch(const char *root, bool create, struct ms_error *err);
int ms_store_hf_stat(struct ms_store *st, struct ms_cache_stat *out, struct ms_error *err);
int ms_store_hf_check_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                           struct ms_error *err);
int ms_store_hf_bundle_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                            struct ms_error *err);
int ms_store_hf_import_check(struct ms_store *st, const char *staged,
                             const struct ms_cache_items *items, struct ms_error *err);
int ms_store_hf_import(struct ms_store *st, const char *staged, struct ms_error *err);
int ms_store_hf_remove(struct ms_store *st, struct ms_cache_removal *r, struct ms_error *err);
int ms_store_hf_prune_partials(struct ms_store *st, struct ms_cache_removal *r,
                               struct ms_error *err);

/* What the cache-side files share (store-hf-cache.c, store-hf-remove.c). */
struct ms_hf_entry {
	char *path;   /* below snapshots/<commit> */
	char *real;   /* the file it resolves to; NULL: gone */
	char *target; /* what the symlink says; NULL: a regular file */
	uint64_t size;
	double atime, mtime;
};

struct ms_hf_snap {
	char *commit, *dir;
	double mtime;
	struct ms_hf_entry *e;
	size_t n, cap;
	size_t nleft; /* below dir: what killed replacements of links left (ms_temp_for) */
};

struct ms_hf_scan {
	struct ms_hf_snap *v;
	size_t n, cap;
};

struct ms_hf_refs {
	const struct store_hf *s;
	char **names, **commits;
	size_t n, cap_names, cap_commits;
};

/* Every snapshot (only commit's when not NULL), sorted by commit. */
void ms_hf_scan_snapshots(const struct store_hf *s, const char *commit, struct ms_hf_scan *out);
void ms_hf_scan_release(struct ms_hf_scan *sc);
/* Every ref with the commit it names. */
void ms_hf_read_refs(const struct store_hf *s, struct ms_hf_refs *w);
void ms_hf_refs_release(struct ms_hf_refs *w);
/* The commit rev names: a ref, a snapshot, or the one snapshot a 7+ digit prefix starts;
 * NULL when none (allocated). */
char *ms_hf_resolve(const struct store_hf *s, const char *rev);
/* MS_EOFFLINE: rev (NULL: the repo) is not in the cache. */
int ms_hf_not_cached(const struct store_hf *s, const char *rev, struct ms_error *err);
/* The etag of a partial's name in blobs/ (huggingface_hub's or ours), else NULL. */
char *ms_hf_partial_etag(const char *name);

#endif
