/*
 * The cache operations behind `mscli cache`: which repos the caches of the
 * hubs hold, the one a REPO argument names, where a cached revision or file
 * is, and removal (rm, prune).  Every layout question goes to the hub's
 * store (store.h); nothing here knows a layout.  It prints nothing: results
 * come back in structs and through callbacks.
 */
#ifndef MSCLI_CACHE_H
#define MSCLI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "store.h"
#include "strbuf.h"

/* Which caches a command looks at. */
struct ms_cache_scope {
	const struct ms_hub *hub; /* --hub: this hub's only; NULL: every hub's */
	const char *cache_dir;    /* --cache-dir: the root for every hub; NULL: each hub's own */
	int type;                 /* --type: enum ms_repo_type, or -1 for both */
};

/* One cached repo. */
struct ms_cache_repo {
	struct ms_repo repo; /* hub, type, id */
	char *root;          /* the cache root it is in */
	/* the layout it is in: NULL for the one the hub's cache_store writes */
	const struct ms_cache_layout *layout;
	struct ms_cache_stat stat;
};

struct ms_cache_list {
	struct ms_cache_repo *v;
	size_t n, cap;
	struct ms_strlist roots; /* the hubs' cache roots looked in, each once */
};

/* hub's cache root in scope, absolute (allocated). */
char *ms_cache_root(const struct ms_hub *hub, const struct ms_cache_scope *sc);
/* The root of one of the hub's other layouts in scope (--cache-dir names every root). */
char *ms_cache_layout_root(const struct ms_cache_layout *layout, const struct ms_cache_scope *sc);
/* The name of r's layout ("modelscope", "modelscope_hub", "huggingface"). */
const char *ms_cache_repo_layout(const struct ms_cache_repo *r);

/*
 * The repos the caches in scope hold, sorted by hub, type and id; only those spec names
 * when it is not NULL ("o/n" in any hub and type the scope allows; "hf:o/n", a URL or
 * "datasets/o/n" narrow it).  A cache that does not exist is empty.
 */
int ms_cache_list(const struct ms_cache_scope *sc, const char *spec, struct ms_cache_list *out,
                  struct ms_error *err);
void ms_cache_list_release(struct ms_cache_list *l);

/*
 * The cached repos spec names, one per layout that holds it (the hub's own first):
 * MS_EOFFLINE when none, MS_EUSAGE when it names several repos (in two hubs or as model
 * and dataset: the message says how to choose).  *rev (may be NULL) gets a revision the
 * spec names ("o/n@v1"), or NULL.
 */
int ms_cache_find_all(const struct ms_cache_scope *sc, const char *spec, struct ms_cache_list *out,
                      char **rev, struct ms_error *err);
/*
 * The one cached repo spec names, as ms_cache_find_all; a repo in two layouts is the one
 * in the hub's own layout (the folder both ModelScope client generations and mscli use
 * when it is there).
 */
int ms_cache_find(const struct ms_cache_scope *sc, const char *spec, struct ms_cache_repo *out,
                  char **rev, struct ms_error *err);
void ms_cache_repo_release(struct ms_cache_repo *r);

/* The store of a cached repo at rev (NULL: the hub's default); free it with its ops. */
struct ms_store *ms_cache_repo_store(const struct ms_cache_repo *r, const char *rev);

/*
 * The revision of r a command means: rev when given (MS_EOFFLINE when not cached), else
 * the hub's default branch when cached, else the only revision (MS_EOFFLINE, naming
 * them, when there are several).  Allocated into *out.
 */
int ms_cache_pick_revision(const struct ms_cache_repo *r, const char *rev, char **out,
                           struct ms_error *err);

/*
 * Where rev of r (or its file, when not NULL) is, from the cache alone: MS_EOFFLINE when
 * it is not cached, or not complete for rev (a layout mscli does not write: the snapshot
 * directory, or the file when it is there).
 */
int ms_cache_path(const struct ms_cache_repo *r, const char *rev, const char *file, char **out,
                  struct ms_error *err);

/* ---- prune ---- */

struct ms_prune_opts {
	bool incomplete;    /* partials and abandoned temporaries */
	double older_than;  /* repos not used for this many seconds; 0: none */
	bool have_max_size; /* least recently used repos go until the rest fits max_size */
	uint64_t max_size;
	bool dry_run;
	double now; /* epoch s */
};

/* What a repo costs on disk: files, partials and mscli's records. */
uint64_t ms_cache_repo_bytes(const struct ms_cache_repo *r);

/*
 * Which repos of l go (sel[i]): those not used for older_than, then the least recently
 * used ones until the others fit in max_size.  skip[i] (may be NULL): cannot go (busy).
 * Returns the bytes the repos left take.
 */
uint64_t ms_cache_prune_select(const struct ms_cache_list *l, const struct ms_prune_opts *o,
                               const bool *skip, bool *sel);

struct ms_prune_cb {
	void *arg;
	/* a path that goes (or would, with dry_run): r NULL for an abandoned temporary */
	void (*removed)(void *arg, const struct ms_cache_repo *r, const char *path, uint64_t size,
	                const char *why);
	/* r is being downloaded: left alone */
	void (*busy)(void *arg, const struct ms_cache_repo *r);
};

/* Prune the caches in scope; *freed gets the total, *left what the caches take after. */
int ms_cache_prune(const struct ms_cache_scope *sc, const struct ms_prune_opts *o,
                   const struct ms_prune_cb *cb, uint64_t *freed, uint64_t *left,
                   struct ms_error *err);

#endif
