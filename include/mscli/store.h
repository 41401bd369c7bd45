/*
 * Stores: where a repo's files live on disk, one module per layout
 * (store-ms.c: the ModelScope cache; store-hf.c: the Hugging Face cache;
 * store-localdir.c: plain files in a --local-dir).  A store knows its
 * layout's names, index files and locks; it knows nothing of HTTP or of the
 * transfer engine: the download operation asks it where a partial goes and
 * tells it when a verified file is ready to move into place.
 */
#ifndef MSCLI_STORE_H
#define MSCLI_STORE_H

#include <stdbool.h>

#include "repo.h"

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
	/* Where f's partial and its resume state go (allocated), creating directories. */
	int (*prepare)(struct ms_store *st, const struct ms_file *f, char **part, char **state,
	               struct ms_error *err);
	/*
	 * Optional per-file lock around a transfer: 0 taken (*lock_fd set, -1 when the
	 * filesystem cannot lock), 1 busy (try again later), 2 taken and another process
	 * already finished the file, <0 an error.
	 */
	int (*acquire)(struct ms_store *st, const struct ms_file *f, int *lock_fd,
	               struct ms_error *err);
	void (*release)(struct ms_store *st, const struct ms_file *f, int lock_fd);
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
	/* The layout records the revision's creation time (ModelScope's .mv); may be NULL. */
	bool (*needs_created_at)(struct ms_store *st);
	/* Where f is (or would be) and where the whole revision is; allocated. */
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
	/* Something the user should know (a file kept, a layout repaired); may be NULL. */
	void (*on_notice)(void *arg, const char *msg);
	void *lock_wait_arg; /* the argument of both */
};

/* The constructors behind struct ms_hub's cache_store and local_store. */
struct ms_store *ms_store_ms_new(const char *root, const struct ms_repo *repo, const char *rev);
struct ms_store *ms_store_hf_new(const char *root, const struct ms_repo *repo, const char *rev,
                                 const char *commit);
/* --local-dir: Hugging Face's layout (.cache/huggingface/), and the same for ModelScope
 * (.cache/modelscope/). */
struct ms_store *ms_store_localdir_new(const char *dir, const struct ms_repo *repo, const char *rev,
                                       const char *commit);
struct ms_store *ms_store_localdir_ms_new(const char *dir, const struct ms_repo *repo,
                                          const char *rev, const char *commit);

/* "models--org--name" (huggingface_hub's repo_folder_name). */
char *ms_hf_repo_folder(const struct ms_repo *repo);
/* Owner/name with every '.' of the name replaced by "___" (OLD client's masking). */
char *ms_modelscope_masked_name(const char *name);

#endif
