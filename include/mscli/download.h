/*
 * The download operation: what a revision holds (with as few requests as
 * the hub allows), which files are wanted, what the store already has, then
 * the rest fetched by the engine and installed, and the store's bookkeeping
 * written.  Used by `download` and, for its planning, by anything that
 * needs a repo's listing.  It prints nothing: it reports through callbacks.
 */
#ifndef MSCLI_DOWNLOAD_H
#define MSCLI_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "filter.h"
#include "hub.h"
#include "select.h"
#include "store.h"

struct ms_download_opts {
	char **files; /* FILE arguments; one ending in '/' is a folder */
	size_t nfiles;
	const struct ms_filter *filter; /* without FILEs */
	const char *cache_root;         /* absolute */
	const char *local_dir;          /* absolute, or NULL for the cache */
	bool force, dry_run;
	bool type_given;              /* --type was given: no "there is a dataset" hint */
	int max_workers, connections; /* 0: the engine's defaults */
};

enum ms_note {
	MS_NOTE_INFO,
	MS_NOTE_WARN,
};

struct ms_download;

struct ms_download_cb {
	void *arg;
	/* A selected file is in place: status "downloaded" or "cached"; actual its digest. */
	void (*file)(void *arg, const struct ms_download *d, const struct ms_file *f,
	             const char *status, const char *actual);
	void (*event)(void *arg, const struct ms_download *d, const struct ms_event *ev);
	void (*note)(void *arg, enum ms_note kind, const char *msg);
	/* Once, when the store's lock is held by another process. */
	void (*lock_wait)(void *arg, const char *path);
};

struct ms_download {
	struct ms_session *sess;
	const struct ms_repo *repo;
	const char *rev;
	struct ms_download_opts o;
	struct ms_download_cb cb;

	/* What it found. */
	struct ms_store *st;
	struct ms_listing listing;
	struct ms_selection sel;
	bool *cached;        /* per selected file (after a plan that is not a dry run: up to
	                        the first missing one; the fetch looks at all under the lock) */
	size_t nmissing;     /* selected files not in the store (after such a plan: 0 or 1) */
	bool single_file;    /* exactly one FILE: its path is the result */
	bool complete_known; /* offline: the store knew the whole file list */

	/* What it did. */
	struct ms_xfer_job *jobs;
	size_t njobs;
	size_t ndownloaded, ncached, nfailed;
	uint64_t fetched;
	const struct ms_xfer_job *first_failure; /* the one the error is about */
};

void ms_download_init(struct ms_download *d, struct ms_session *sess, const struct ms_repo *repo,
                      const char *rev, const struct ms_download_opts *o,
                      const struct ms_download_cb *cb);
/* Online: list, select, check every path, look up what the store has. */
int ms_download_plan(struct ms_download *d, struct ms_error *err);
/* --offline: the same from the store alone (MS_EOFFLINE for what it lacks). */
int ms_download_plan_offline(struct ms_download *d, struct ms_error *err);
/* After a plan: fetch what is missing, install it, record what is there. */
int ms_download_fetch(struct ms_download *d, struct ms_error *err);
/*
 * After a failed fetch: the causes other than the error's own (one job each, with how many
 * files failed that way), at most max of them; their number.
 */
size_t ms_download_other_failures(const struct ms_download *d, const struct ms_xfer_job **causes,
                                  size_t *counts, size_t max);
/* Files that failed only because the run stopped (a full disk elsewhere, a signal). */
size_t ms_download_stopped(const struct ms_download *d);
/* Where the result is: the one FILE's path, else the snapshot directory (allocated). */
char *ms_download_result_path(const struct ms_download *d);
/* The SHA-256 to show for f ("sha256" of --json), or NULL. */
const char *ms_download_sha256(const struct ms_file *f, const char *actual);
void ms_download_release(struct ms_download *d);

#endif
