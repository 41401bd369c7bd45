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
	/*
	 * Optional per-file lock around a transfer (see struct ms_xfer_job's
	 * acquire/release): 0 taken, 1 busy, 2 already finished elsewhere.
	 */
	int (*acquire)(struct ms_store *st, struct ms_xfer_job *job, struct ms_error *err);
	void (*release)(struct ms_store *st, struct ms_xfer_job *job);
	/* Move a verified partial into place and index it. */
	int (*install)(struct ms_store *st, const struct ms_file *f, const char *part,
	               struct ms_error *err);
	/* Write the metadata that says what is there (index, refs, revision). */
	int (*finish)(struct ms_store *st, struct ms_error *err);
	/*
	 * A listing the cache holds for an immutable commit (HF trees/<commit>.json),
	 * so a warm run needs no tree request; NULL or -1 when there is none.
	 */
	int (*local_listing)(struct ms_store *st, const char *commit, struct ms_listing *out);
	/* Remember that path does not exist at commit (HF .no_exist); may be NULL. */
	void (*no_exist)(struct ms_store *st, const char *commit, const char *path);
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
	/* --force: fetch again even what the layout already holds. */
	bool force;
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

/*
 * Hugging Face: models--org--name/{blobs,refs,snapshots,trees,.no_exist}
 * (hf-protocol.md §2.4), or --local-dir with .cache/huggingface/ metadata
 * (§2.5).  commit may be NULL offline (refs/<rev> tells).
 */
struct ms_store *ms_store_hf_new(const char *root, const char *local_dir,
                                 const struct ms_repo *repo, const char *rev, const char *commit);
/* $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub
 */
char *ms_hf_default_cache(void);
char *ms_hf_home(void);
/* HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE */
bool ms_hf_offline(void);

/* The default ModelScope cache root: $MODELSCOPE_CACHE or ~/.cache/modelscope/hub. */
char *ms_modelscope_default_cache(void);
/* Owner/name with every '.' of the name replaced by "___" (OLD client's masking). */
char *ms_modelscope_masked_name(const char *name);

#endif
