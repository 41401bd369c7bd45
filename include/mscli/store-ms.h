/* Shared by the ModelScope cache's two files: store-ms.c (downloads) and store-ms-cache.c. */
#ifndef MSCLI_STORE_MS_H
#define MSCLI_STORE_MS_H

#include <stdbool.h>

#include "hub.h"
#include "pathsafe.h"
#include "pickle.h"
#include "store.h"

struct store_ms {
	struct ms_store base;
	enum ms_repo_type type;
	char *id, *owner, *name, *rev;
	char *root;     /* cache root */
	char *repo_dir; /* where files go */
	char *temp_dir; /* partials */
	char *meta_dir; /* R/.mscli/<type>s/<owner>/<name>: mscli's state */
	int lock_fd;
	bool locked;
	struct ms_msc msc;
	bool msc_loaded, msc_dirty;
	double msc_saved_at;
	const struct ms_listing *listing;
	bool installed_any;
	char *prev_rev;         /* the revision .mv named before this run */
	struct ms_dirmemo dirs; /* made in this run: once each, not once per file */
};

/* "models" or "datasets" */
const char *ms_store_ms_type_dir(enum ms_repo_type t);
/* .msc into s->msc (a corrupt one is ignored, never renamed); and back, atomically. */
void ms_store_ms_load_msc(struct store_ms *s);
int ms_store_ms_save_msc(struct store_ms *s, struct ms_error *err);
/* The listing recorded at download for rev: 0, or -1 when none. */
int ms_store_ms_read_record(const struct store_ms *s, const char *rev, struct ms_listing *out);
/* The revision .mv names, or NULL (allocated). */
char *ms_store_ms_recorded_revision(const struct store_ms *s);
/* "listing-<rev quoted>.json": the record of rev's listing in meta_dir (allocated). */
char *ms_store_ms_record_name(const char *rev);

/* Imports over a repo the cache has, swapped in whole (store-ms-swap.c). */
/* Where the records that go with the folder are: meta_dir, or an unfinished import's. */
char *ms_store_ms_records_dir(const struct store_ms *s);
/* Under the repo's lock: an import killed midway, finished. */
int ms_store_ms_recover(struct store_ms *s, struct ms_error *err);
/* Under the repo's lock: the staged folder, records and dotted-name link (when staged)
 * in place of the cache's, whole: a reader sees the old ones or the new ones. */
int ms_store_ms_swap_in(struct store_ms *s, const char *folder, const char *records,
                        const char *link, struct ms_error *err);

/* The cache commands' side of the store (store-ms-cache.c). */
int ms_store_ms_walk(const struct ms_hub *hub, const char *root,
                     int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                     struct ms_error *err);
char *ms_store_ms_scratch(const char *root, bool create, struct ms_error *err);
int ms_store_ms_stat(struct ms_store *st, struct ms_cache_stat *out, struct ms_error *err);
int ms_store_ms_check_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                           struct ms_error *err);
int ms_store_ms_bundle_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                            struct ms_error *err);
int ms_store_ms_import_check(struct ms_store *st, const char *staged,
                             const struct ms_cache_items *items, struct ms_error *err);
int ms_store_ms_import(struct ms_store *st, const char *staged, struct ms_error *err);
int ms_store_ms_remove(struct ms_store *st, struct ms_cache_removal *r, struct ms_error *err);
int ms_store_ms_prune_partials(struct ms_store *st, struct ms_cache_removal *r,
                               struct ms_error *err);

#endif
