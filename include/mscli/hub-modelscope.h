/*
 * Inside the ModelScope hub: what hub-modelscope.c (downloads),
 * hub-ms-auth.c (login, the credentials folder) and hub-ms-upload.c (repos,
 * LFS, commits) share.  Not for use outside them.
 */
#ifndef MSCLI_HUB_MODELSCOPE_H
#define MSCLI_HUB_MODELSCOPE_H

#include <cjson/cJSON.h>

#include "hub.h"

/* "models" or "datasets" */
const char *modelscope_type_segment(enum ms_repo_type t);
/* The legacy envelope {"Code","Success","Message","Data"}: 0 when it says success. */
int modelscope_envelope_error(const cJSON *j, const char *what, const char *url,
                              struct ms_error *err);
/* Send req: 0 with *out the JSON answer of a 2xx whose envelope says success; else the
 * error (*status is the HTTP status, *out the answer when there was one). */
int modelscope_request_json(struct ms_session *s, struct ms_http_request *req, long *status,
                            cJSON **out, struct ms_error *err);
/* GET .../revisions: *root owns the JSON, *map is Data.RevisionMap inside it (§2.5). */
int modelscope_revision_map(struct ms_session *s, const struct ms_repo *repo, cJSON **root,
                            const cJSON **map, struct ms_error *err);

/* hub-ms-auth.c */
char *modelscope_stored_token(void);
int modelscope_whoami(struct ms_session *s, struct ms_account *out, struct ms_error *err);
int modelscope_token_store(struct ms_session *s, const char *token, const struct ms_account *who,
                           struct ms_strlist *written, struct ms_error *err);
int modelscope_token_forget(struct ms_strlist *removed, struct ms_error *err);

/* hub-ms-upload.c */
/* LFS or inline (§2.16 step 2): over 1 MiB, or a suffix of the repo path in the list. */
bool modelscope_is_lfs(const char *path, uint64_t size, bool dataset);
int modelscope_repo_create(struct ms_session *s, const struct ms_repo *repo, bool private,
                           bool *created, struct ms_error *err);
int modelscope_branch_head(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                           bool create, char **head, bool *created, struct ms_error *err);
unsigned modelscope_upload_digests(const struct ms_repo *repo, const struct ms_upfile *f);
int modelscope_upload_plan(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                           struct ms_upfile *files, size_t n, struct ms_error *err);
int modelscope_lfs_batch(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                         struct ms_upfile **files, size_t n, struct ms_error *err);
int modelscope_lfs_finish(struct ms_session *s, const struct ms_repo *repo, struct ms_upfile *f,
                          struct ms_error *err);
int modelscope_commit(struct ms_session *s, const struct ms_repo *repo, const struct ms_commit *c,
                      struct ms_commit_result *out, struct ms_error *err);
char *modelscope_commit_url(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                            const char *id);
/* The JSON commit body (commit_message, actions), streamed from the files. */
void modelscope_commit_body(const struct ms_commit *c, struct ms_body *body);

#endif
