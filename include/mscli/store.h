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
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "repo.h"

struct ms_dirprobe;

/* ---- what the cache commands see (stat, check_list, bundle_list, remove) ---- */

/* One revision a cached repo holds. */
struct ms_cache_rev {
	char *name;  /* HF: the snapshot's commit; ModelScope: the revision .mv names, or NULL */
	char **refs; /* HF: the refs naming it ("main", "refs/pr/1"), sorted */
	size_t nrefs;
	size_t files;  /* entries of its snapshot */
	uint64_t size; /* st_size of its distinct files */
	double last_modified;
	bool listed;   /* the cache recorded its whole file list: completeness is known */
	bool complete; /* every file of that list is there (true when nothing is recorded) */
	char *path;    /* the snapshot directory */
};

/* What the cache holds of one repo.  Sizes are st_size (huggingface_hub's scan_cache_dir). */
struct ms_cache_stat {
	char *path; /* the repo folder */
	struct ms_cache_rev *revs;
	size_t nrevs;
	size_t files;          /* distinct files (HF: distinct blobs the snapshots use) */
	uint64_t size;         /* their sizes, each counted once */
	double last_used;      /* newest atime of those files, else the folder's (epoch s) */
	double last_modified;  /* the same for mtime */
	size_t npartials;      /* partial downloads */
	uint64_t partial_size; /* theirs and their resume state's */
	uint64_t state_size;   /* mscli's own records of the repo (listings) */
	size_t nbroken;        /* snapshot entries whose file is gone */
	bool incomplete;       /* partials, broken entries, or a revision without all its files */
};

void ms_cache_stat_release(struct ms_cache_stat *s);
/* The revision of s that rev names (a ref, a commit or a commit's prefix of 7+ digits, or
 * ModelScope's revision); NULL when none.  rev NULL: the only one, else NULL. */
const struct ms_cache_rev *ms_cache_stat_find(const struct ms_cache_stat *s, const char *rev);

enum ms_cache_item_kind {
	MS_ITEM_FILE,    /* a file of the repo: hash it (algo NONE: nothing recorded to compare) */
	MS_ITEM_LINK,    /* a symlink of the layout (bundles): target */
	MS_ITEM_MISSING, /* the cache says it holds path, but it is not there */
	MS_ITEM_UNEXPECTED, /* in the repo's folder, but no record of the cache knows it */
	/* check_list: revision rev (its snapshot: disk) has no file list the cache recorded,
	 * so a file lost from it cannot be seen (HF caches of hf_hub_download); target: the
	 * folder of its files' contents named by their digests (HF blobs/), or NULL */
	MS_ITEM_UNLISTED,
};

/* One file a cache command looks at. */
struct ms_cache_item {
	enum ms_cache_item_kind kind;
	char *disk;    /* where it is (absolute) */
	char *rel;     /* bundle_list: the path below the cache root */
	char *path;    /* the repo path (HF: the first snapshot entry using the blob), or NULL */
	char *rev;     /* the revision path is part of (HF: the commit), or NULL */
	char *target;  /* MS_ITEM_LINK: what the link says */
	uint64_t size; /* expected size; UINT64_MAX: unknown */
	enum ms_hash_algo algo;
	char digest[MS_HEX_MAX]; /* expected: the digest the cache recorded */
	const char *source;      /* what recorded it ("the listing", "the blob's name", ...) */
	size_t users;            /* HF: the snapshot entries that share the blob */
};

struct ms_cache_items {
	struct ms_cache_item *v;
	size_t n, cap;
};

struct ms_cache_item *ms_cache_items_add(struct ms_cache_items *l, enum ms_cache_item_kind kind);
void ms_cache_items_release(struct ms_cache_items *l);
/*
 * The files of listing l that are not below dir, the revision rev's files, as
 * MS_ITEM_MISSING (source says who lists them); how many.  With by_digest (HF blobs/),
 * only those whose content is still there under its digest: evidence that the cache held
 * them (a listing also has what a download filtered out); the others are counted in
 * *absent.
 */
size_t ms_cache_items_add_missing(struct ms_cache_items *out, const struct ms_listing *l,
                                  const char *dir, const char *rev, const char *source,
                                  const char *by_digest, size_t *absent);

/* A removal (rm, prune) and what it did. */
struct ms_cache_removal {
	const char *rev; /* remove: NULL for the whole repo with its partials and state */
	bool dry_run;    /* say what would go; remove nothing */
	bool wait;       /* wait for a download's lock (else: busy, nothing removed) */
	/* Each path that goes (a folder counts whole), with the bytes it frees. */
	void (*removed)(void *arg, const char *path, uint64_t size);
	void *arg;
	uint64_t freed; /* out */
	size_t count;   /* out: paths reported */
	bool busy;      /* out: skipped, a download holds a lock */
};

/* A path that goes: counted, and told to r->removed. */
void ms_cache_removal_report(struct ms_cache_removal *r, const char *path, uint64_t size);
/* path (a file, a link or a tree; links are never followed) removed unless r->dry_run, and
 * reported; nothing there is no error. */
int ms_cache_removal_path(struct ms_cache_removal *r, const char *path, struct ms_error *err);
/* Every file or link below top whose path there match() accepts and that was last changed
 * min_age seconds ago or more (younger, it may be a writer's that holds no lock the
 * remover can see), as ms_cache_removal_path. */
int ms_cache_removal_matching(struct ms_cache_removal *r, const char *top,
                              bool (*match)(const char *rel), double min_age, struct ms_error *err);

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

	/* ---- the cache commands (NULL in --local-dir stores) ---- */
	/* What the cache holds of the repo; MS_EOFFLINE when nothing at all. */
	int (*stat)(struct ms_store *st, struct ms_cache_stat *out, struct ms_error *err);
	/*
	 * The files of rev (NULL: of every revision) with the digests the cache recorded
	 * (HF: each blob once), and what is missing or unexpected.  MS_EOFFLINE when rev is
	 * not cached.
	 */
	int (*check_list)(struct ms_store *st, const char *rev, struct ms_cache_items *out,
	                  struct ms_error *err);
	/* Every file and symlink of rev (NULL: all) as the layout has them, for a bundle:
	 * rel below the cache root, digests where recorded; partials never. */
	int (*bundle_list)(struct ms_store *st, const char *rev, struct ms_cache_items *out,
	                   struct ms_error *err);
	/*
	 * Before any repo of a bundle moves in: items are the repo's entries of the manifest
	 * (rel below the cache root; digests are what staging computed), staged below staged.
	 * Refuses an entry outside the repo's own folders, and what the layout would take on
	 * trust from the bundle (HF: a blob not named by its hash, a blob the cache holds
	 * with other bytes, a ref that names no commit of the bundle).  May be NULL.
	 */
	int (*import_check)(struct ms_store *st, const char *staged,
	                    const struct ms_cache_items *items, struct ms_error *err);
	/* Move the repo's files staged below staged (a tree shaped like the cache root) into
	 * the cache, under the locks a download takes; other revisions stay. */
	int (*import)(struct ms_store *st, const char *staged, struct ms_error *err);
	/* Remove r->rev (NULL: the repo with its partials and state), under download's locks. */
	int (*remove)(struct ms_store *st, struct ms_cache_removal *r, struct ms_error *err);
	/* Remove the partial downloads that no process is writing. */
	int (*prune_partials)(struct ms_store *st, struct ms_cache_removal *r,
	                      struct ms_error *err);
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
	/* Set by the caller for a pass of lookup() over many files (fs.h); else NULL. */
	struct ms_dirprobe *probe;
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

/*
 * A folder switched revisions: the files of the previous listing that the new one lacks
 * go when they are as downloaded (so a loader globbing "*.safetensors" finds no stale
 * shards), anything changed stays and is named through st->on_notice.  unchanged() says
 * whether a file is as downloaded; dropped() (may be NULL) forgets a removed one.
 */
struct ms_stale_files {
	const char *dir;            /* where the files are */
	const char *prev_rev, *rev; /* for the messages */
	bool (*unchanged)(void *arg, const struct ms_file *f, const char *path);
	void (*dropped)(void *arg, const struct ms_file *f);
	void *arg;
};
void ms_store_drop_stale(const struct ms_store *st, const struct ms_stale_files *how,
                         const struct ms_listing *prev, const struct ms_listing *now);

/* "models--org--name" (huggingface_hub's repo_folder_name). */
char *ms_hf_repo_folder(const struct ms_repo *repo);
/* Owner/name with every '.' of the name replaced by "___" (OLD client's masking). */
char *ms_modelscope_masked_name(const char *name);
/* Whether dir/.mv (modelscope 1.37's model revision file) says "Revision:<rev>,...". */
bool ms_modelscope_mv_names(const char *dir, const char *rev);
/*
 * dir/.mv as modelscope 1.37 writes it, only when it changes: a dataset's is the bare
 * revision; a model's "Revision:<rev>,CreatedAt:<created_at>", left as it is when the
 * hub's date is unknown (0) and it already names rev, unless stale (new files came).
 */
int ms_modelscope_write_mv(const char *dir, enum ms_repo_type type, const char *rev,
                           long created_at, bool stale, struct ms_error *err);
struct ms_msc;
/* dir/.msc (modelscope 1.37's index) into out: false when it is there but unreadable (out
 * is then empty); a missing one is an empty index. */
bool ms_modelscope_read_msc(const char *dir, struct ms_msc *out);
/* out as dir/.msc, atomically. */
int ms_modelscope_write_msc(const char *dir, const struct ms_msc *m, struct ms_error *err);

#endif
