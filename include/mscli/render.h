/* Front ends for engine events: terminal progress bars and --json lines. */
#ifndef MSCLI_RENDER_H
#define MSCLI_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"

struct ms_progress;

/* Bars drawn on out (a terminal), redrawn at most every 100 ms. */
struct ms_progress *ms_progress_new(FILE *out);
void ms_progress_event(struct ms_progress *p, const struct ms_event *ev);
/* Take job's bar away without counting it as a finished file (a phase that ended). */
void ms_progress_drop(struct ms_progress *p, const struct ms_xfer_job *job);
/* Print a line above the bars (a note that must not be overwritten). */
void ms_progress_note(struct ms_progress *p, const char *line);
void ms_progress_free(struct ms_progress *p);

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
void ms_json_strs(struct ms_json *j, const char *key, const char *const *v, size_t n);
void ms_json_emit(struct ms_json *j, FILE *out);

/* "code", "exit_code" and "message" of a failure. */
void ms_json_error(struct ms_json *j, int status, const struct ms_error *err);

/* The engine's own events as JSON lines (start, progress, retry, error). */
void ms_json_engine_event(FILE *out, const struct ms_event *ev);

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
