/*
 * The upload operation: a file or a folder into a repo, as one commit (or
 * several, beyond what the hub takes at once).  The folder is walked (what
 * must never be published is skipped, symlinks may not leave it), every
 * file hashed once on all cores, the hub asked what it already has, the
 * missing LFS objects sent through the engine, then committed; a commit is
 * never blindly repeated.  Used by `upload`; it prints nothing: it reports
 * through callbacks.
 */
#ifndef MSCLI_UPLOAD_H
#define MSCLI_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "engine.h"
#include "filter.h"
#include "hub.h"

struct ms_hashpool;
struct ms_hash_item;

struct ms_upload_opts {
	const char *local;        /* PATH: a file or a folder */
	const char *path_in_repo; /* NULL: a file's name, or the repo's root for a folder */
	const struct ms_filter *filter;
	const char *message; /* NULL: "Upload <what> with mscli" */
	bool private;        /* when the repo is created */
	int max_workers;     /* transfers at once; 0: the engine's default */
};

/* What became of a file. */
enum ms_upload_status {
	MS_UP_HASHED,    /* its digest is known */
	MS_UP_UNCHANGED, /* the branch has it already: not in the commit */
	MS_UP_IGNORED,   /* the hub ignores its path (.gitignore): not in the commit */
	MS_UP_COMMITTED, /* in a commit that landed (f->sent: its bytes went out) */
};

struct ms_upload;

struct ms_upload_cb {
	void *arg;
	void (*file)(void *arg, const struct ms_upload *u, const struct ms_upfile *f,
	             enum ms_upload_status status);
	/* Hashing: bytes done of total, files done of n. */
	void (*hashing)(void *arg, uint64_t done, uint64_t total, size_t files_done, size_t n);
	/* The engine's events while LFS objects go out. */
	void (*event)(void *arg, const struct ms_event *ev);
	void (*note)(void *arg, bool warning, const char *msg);
};

struct ms_upload {
	struct ms_session *sess;
	const struct ms_repo *repo;
	const char *branch;
	struct ms_upload_opts o;
	struct ms_upload_cb cb;

	struct ms_upfile *files; /* sorted by repo path */
	size_t n;
	struct ms_account who;
	bool created_repo, created_branch;
	char *head; /* the branch's head before the upload (NULL: empty or unknown) */
	/* Hashing that starts before the plan (upload_digests); upload_send takes it over. */
	struct ms_hashpool *early;
	struct ms_hash_item *early_items;
	size_t n_early;

	size_t nhashed, nunchanged, nignored, ncommitted;
	size_t objects_sent, objects_present;
	uint64_t bytes_sent;
	size_t ncommits;
	struct ms_commit_result result; /* the last commit; id NULL when nothing changed */
};

void ms_upload_init(struct ms_upload *u, struct ms_session *sess, const struct ms_repo *repo,
                    const char *branch, const struct ms_upload_opts *o,
                    const struct ms_upload_cb *cb);
int ms_upload_run(struct ms_upload *u, struct ms_error *err);
void ms_upload_release(struct ms_upload *u);

/* ---- the walk (upload-walk.c) ---- */

/* PATH_IN_REPO made canonical (*out allocated; "" is the root): MS_EUSAGE when absolute or
 * with a "..", "." or ".git" segment. */
int ms_upload_dest(const char *path_in_repo, char **out, struct ms_error *err);
/* Never published from a folder: .git/, .cache/huggingface/, ModelScope's ._____temp/
 * and index files (.msc .mv .mdl), mscli's own files.  rel is relative to the folder. */
bool ms_upload_never_publish(const char *rel);
/*
 * The files of local (a file, or a folder walked) as upload files: repo paths
 * below dest, filter applied to folder-relative paths, sorted by repo path.
 * A symlink is followed only when it stays inside local.  MS_EUSAGE for a
 * path that is missing or unreadable, a link out of the folder, an unsafe name.
 */
int ms_upload_walk(const char *local, const char *dest, const struct ms_filter *filter,
                   struct ms_upfile **files, size_t *n, struct ms_strlist *skipped,
                   struct ms_error *err);
void ms_upfiles_free(struct ms_upfile *files, size_t n);

#endif
