/*
 * Where downloaded files live: a cache layout (ModelScope's, Hugging Face's)
 * or a plain --local-dir.  The download command drives a store through
 * this table; each layout keeps the bookkeeping its official client reads.
 */
#ifndef MSCLI_STORE_H
#define MSCLI_STORE_H

#include <stdbool.h>

#include "hub.h"
#include "transfer.h"

enum ms_file_state {
	MS_FILE_MISSING = 0,
	MS_FILE_CACHED, /* present and valid for this listing */
};

struct ms_store;

struct ms_store_ops {
	/* Take the repo's lock (blocking, with a note after a while); create what it needs. */
	int (*lock)(struct ms_store *st, struct ms_error *err);
	/* Load the index and record the listing about to be downloaded. */
	int (*begin)(struct ms_store *st, const struct ms_listing *l, struct ms_error *err);
	enum ms_file_state (*lookup)(struct ms_store *st, const struct ms_file *f);
	/* Fill job->part_path / state_path (creating directories) for f. */
	int (*prepare)(struct ms_store *st, const struct ms_file *f, struct ms_xfer_job *job,
		       struct ms_error *err);
	/* Move a verified partial into place and index it. */
	int (*install)(struct ms_store *st, const struct ms_file *f, const char *part,
		       struct ms_error *err);
	/* Write the metadata that says what is there (index, refs, revision). */
	int (*finish)(struct ms_store *st, struct ms_error *err);
	/* Offline: what rev is known to contain (listing recorded earlier, else the index). */
	int (*offline_listing)(struct ms_store *st, const char *rev, struct ms_listing *out,
			       bool *complete_known, struct ms_error *err);
	/* Why path cannot be stored (a name the layout keeps for itself), or NULL. */
	const char *(*reserved)(struct ms_store *st, const char *path);
	/* ModelScope models record the revision's CreatedAt in .mv; NULL elsewhere. */
	bool (*needs_created_at)(struct ms_store *st);
	char *(*file_path)(struct ms_store *st, const struct ms_file *f);
	char *(*result_path)(struct ms_store *st);
	void (*free)(struct ms_store *st);
};

struct ms_store {
	const struct ms_store_ops *ops;
	/* Set before lookup(): verify files the index does not know by hashing them. */
	bool adopt_unindexed;
	/* Called once when lock() has to wait for another process. */
	void (*on_lock_wait)(void *arg, const char *path);
	void *lock_wait_arg;
};

/*
 * ModelScope: the layout both official client generations read offline
 * (modelscope-protocol.md §4.3).  root is the cache root (…/modelscope/hub);
 * local_dir, when set, replaces the cache with a plain directory.
 */
struct ms_store *ms_store_modelscope_new(const char *root, const char *local_dir,
					 const struct ms_repo *repo, const char *rev);

/* The default ModelScope cache root: $MODELSCOPE_CACHE or ~/.cache/modelscope/hub. */
char *ms_modelscope_default_cache(void);
/* Owner/name with every '.' of the name replaced by "___" (OLD client's masking). */
char *ms_modelscope_masked_name(const char *name);

#endif
