/* Front ends for engine events: terminal progress bars and --json lines. */
#ifndef MSCLI_RENDER_H
#define MSCLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

struct ms_progress;

/* TERM=dumb: no cursor movement, plain lines only. */
bool ms_term_is_dumb(void);
/* Bars drawn on out (a terminal), redrawn at most every 100 ms. */
struct ms_progress *ms_progress_new(FILE *out);
void ms_progress_event(struct ms_progress *p, const struct ms_event *ev);
/* Take job's bar away without counting it as a finished file (a phase that ended). */
void ms_progress_drop(struct ms_progress *p, const struct ms_xfer_job *job);
/* Print a line above the bars (a note that must not be overwritten). */
void ms_progress_note(struct ms_progress *p, const char *line);
void ms_progress_free(struct ms_progress *p);
/* Work that is not a transfer (hashing, bundles): nfiles and total bytes, then how far it
 * is.  start: new bars on stderr for it, messages printed above them (ui.h); stop: the bars
 * taken down and freed (*p NULL; nothing when there are none). */
void ms_progress_begin(struct ms_progress *p, const char *what, size_t nfiles, uint64_t total);
void ms_progress_update(struct ms_progress *p, size_t files_done, uint64_t bytes_done);
struct ms_progress *ms_progress_start(const char *what, size_t nfiles, uint64_t total);
void ms_progress_stop(struct ms_progress **p);

/*
 * JSON lines.  One object per line, flushed at once so a reader sees each
 * event as it happens.  Fields are added with the typed helpers, then
 * ms_json_emit() writes and frees the object.
 */
struct ms_json;
struct ms_json *ms_json_begin(const char *event);
void ms_json_str(struct ms_json *j, const char *key, const char *value); /* NULL -> null */
void ms_json_num(struct ms_json *j, const char *key, double value);
void ms_json_bool(struct ms_json *j, const char *key, bool value);
/* A list of strings. */
void ms_json_strv(struct ms_json *j, const char *key, char *const *values, size_t n);
/* JSON text kept as it is (a hub's record); null when it does not parse. */
void ms_json_raw(struct ms_json *j, const char *key, const char *json);
/* A new object at the end of the array key (created on first use); it belongs to j:
 * fill it, never emit it. */
struct ms_json *ms_json_push(struct ms_json *j, const char *key);
void ms_json_emit(struct ms_json *j, FILE *out);

/* "code", "exit_code" and "message" of a failure. */
void ms_json_error(struct ms_json *j, int status, const struct ms_error *err);

/* The engine's own events as JSON lines (start, progress, retry, error). */
void ms_json_engine_event(FILE *out, const struct ms_event *ev);

/* Retry lines (render-retry.c): the retries that share a cause (the reason, its URLs cut
 * to their host) are one line per retry round, not one per file.  tries: attempts in all
 * (retries + 1).  Times are ms_now()'s: a download may run the engine more than once. */
#define MS_RETRY_GROUPS 8
#define MS_RETRY_SEEN   256
struct ms_retry_group {
	char reason[512];              /* the cause: the key */
	char first[256];               /* the first file retried since the last line */
	size_t n;                      /* files retried since the last line */
	int lo, hi;                    /* their attempts */
	int shown;                     /* the highest attempt a line has named */
	double delay;                  /* their longest wait */
	double back;                   /* when the last of them is tried again */
	double since;                  /* when the first of them came */
	double quiet_until;            /* the end of the last line's window: no other line before */
	double window;                 /* that window's length */
	bool fresh;                    /* one of them is in no line yet */
	uint32_t seen[MS_RETRY_SEEN];  /* hashes of their names */
	uint32_t named[MS_RETRY_SEEN]; /* hashes of the names lines have counted */
};
struct ms_retry_notes {
	struct ms_retry_group groups[MS_RETRY_GROUPS];
	size_t n;
	int tries;
};
/* A retry event is counted; a tick prints what is due; FINISH prints what is left.
 * now: ms_now() when the event came. */
void ms_retry_notes_event(struct ms_retry_notes *rn, const struct ms_event *ev, double now);
void ms_retry_notes_add(struct ms_retry_notes *rn, const struct ms_event *ev, double now);
/* all: print every cause that has a try no line has named, due or not. */
void ms_retry_notes_flush(struct ms_retry_notes *rn, double now, bool all);

/* A download's results (render-download.c). */
struct ms_download;
struct ms_file;
/* --json: one "file" object (status "downloaded" or "cached"). */
void ms_render_download_file(const struct ms_download *d, const struct ms_file *f,
                             const char *status, const char *actual);
/* The last line: the path, or the "done" object. */
void ms_render_download_done(const struct ms_download *d, bool json, const char *where,
                             double seconds, int status, const struct ms_error *err);
/* --dry-run: each file and what a real run would do (offline: what is missing). */
void ms_render_download_plan(const struct ms_download *d, bool json, bool offline, int status,
                             const struct ms_error *err);
/* On stderr after a download: "N file(s) downloaded (SIZE in Ts), M cached". */
void ms_render_download_summary(const struct ms_download *d, double seconds);
/* On stderr after a failed transfer: each other cause once, with how many files it stopped,
 * and whether the partials are kept. */
void ms_render_download_failures(const struct ms_download *d);

/* Search results and repo info (render-search.c). */
struct ms_search_results;
struct ms_info;
struct ms_repo;
/* A table fitted to a terminal (tty), tab-separated lines into a pipe, or JSON lines. */
void ms_render_search(const struct ms_search_results *r, const char *hub, bool json, bool tty);
enum ms_info_form {
	MS_INFO_TABLE, /* the metadata, then the files: aligned on a tty, else tab-separated */
	MS_INFO_JSON,  /* one "repo" object, then one "file" object per file */
	MS_INFO_FILES, /* paths only, one per line */
};
void ms_render_info(const struct ms_info *in, const struct ms_repo *repo, const char *rev,
                    enum ms_info_form form, bool tty);
/* An upload's results (render-upload.c). */
struct ms_upload;
struct ms_upfile;
struct ms_account;
struct ms_strlist;
/* --json: "hashed", "skipped" (unchanged or ignored) and "uploaded" objects; status is an
 * enum ms_upload_status. */
void ms_render_upload_file(const struct ms_upload *u, const struct ms_upfile *f, int status);
/* The last line: the commit's URL, or the "done" object. */
void ms_render_upload_done(const struct ms_upload *u, bool json, double seconds, int status,
                           const struct ms_error *err);
/* login, whoami, logout: the account (NULL for logout) and the files written or removed. */
void ms_render_account(const char *event, const struct ms_account *who, const char *endpoint,
                       const struct ms_strlist *files, bool json);

#endif
