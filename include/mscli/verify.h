/*
 * The verify operation (`cache verify`): every cached file re-hashed with no
 * network, against the digests the cache recorded (mscli's listings, HF blob
 * names and trees), on every core; what could not be checked is said; with
 * --online the hub's listing fills in what no record has (one listing per
 * revision); --repair downloads again exactly what is bad.
 */
#ifndef MSCLI_VERIFY_H
#define MSCLI_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "download.h"

enum ms_verify_status {
	MS_VERIFY_OK,
	MS_VERIFY_CORRUPT,    /* its bytes are not what was recorded */
	MS_VERIFY_MISSING,    /* the cache says it holds it; it is gone */
	MS_VERIFY_UNEXPECTED, /* in the repo, but no record knows it */
	MS_VERIFY_UNCHECKED,  /* nothing recorded to compare with */
	MS_VERIFY_UNREADABLE, /* could not be read */
	MS_VERIFY_REPAIRED,   /* was corrupt or missing, downloaded again */
};

/* A revision whose file list the cache did not record: a file lost from it is unseen. */
struct ms_verify_unlisted {
	char *rev;     /* its commit */
	char *dir;     /* its snapshot */
	char *blobs;   /* its files' contents by digest (HF blobs/), or NULL */
	bool listed;   /* --online: the hub's listing said what it lacks */
	size_t absent; /* --online: listed, never downloaded (or gone with their blobs) */
};

/* One cached repo being verified. */
struct ms_verify_repo {
	struct ms_cache_repo repo;
	char *rev; /* only this revision; NULL: every one */
	struct ms_cache_items items;
	struct ms_verify_unlisted *unlisted;
	size_t nunlisted;
	enum ms_verify_status *status; /* per item */
	char (*actual)[MS_HEX_MAX];    /* per item: the digest found */
	uint64_t *actual_size;
	int *errnum; /* per item: why it could not be read */
};

struct ms_verify {
	struct ms_verify_repo *v;
	size_t n, cap;
	/* totals, after ms_verify_run (and ms_verify_repair) */
	size_t nhashed, nok, ncorrupt, nmissing, nunexpected, nunchecked, nunreadable, nrepaired;
	size_t nunlisted; /* revisions whose completeness could not be checked */
	uint64_t bytes;
};

struct ms_verify_cb {
	void *arg;
	/* hashing starts: this many files and bytes */
	void (*begin)(void *arg, size_t nfiles, uint64_t bytes);
	void (*progress)(void *arg, size_t files_done, uint64_t bytes_done);
	void (*note)(void *arg, enum ms_note kind, const char *msg);
};

void ms_verify_init(struct ms_verify *v);
/* Verify repo (taken over: the caller's copy is cleared) at rev (NULL: every revision). */
void ms_verify_add(struct ms_verify *v, struct ms_cache_repo *repo, const char *rev);
/* What each store recorded: the files to hash, the missing and the unexpected ones. */
int ms_verify_plan(struct ms_verify *v, struct ms_error *err);
/* For the files nothing recorded a digest of, and the revisions with no recorded file
 * list (what they lack is missing): the hub's listing (one per revision). */
int ms_verify_online(struct ms_verify *v, const struct ms_session_opts *so,
                     const struct ms_verify_cb *cb, struct ms_error *err);
/* Hash in parallel and compare: 0 (see the totals), or MS_EINTR. */
int ms_verify_run(struct ms_verify *v, const struct ms_verify_cb *cb, struct ms_error *err);
/* Some corrupt or missing file is in a layout mscli can download into again. */
bool ms_verify_repairable(const struct ms_verify *v);
/* Download again what is corrupt or missing (force), revision by revision; files in a
 * layout mscli does not write (modelscope_hub's) are left, with a note saying how. */
int ms_verify_repair(struct ms_verify *v, const struct ms_session_opts *so,
                     const struct ms_download_cb *dcb, struct ms_error *err);
void ms_verify_release(struct ms_verify *v);

#endif
