/*
 * Inside the Hugging Face hub: what hub-hf.c (downloads), hub-hf-auth.c
 * (tokens, whoami) and hub-hf-upload.c (repos, LFS, commits) share.  Not for
 * use outside them.
 */
#ifndef MSCLI_HUB_HF_H
#define MSCLI_HUB_HF_H

#include <cjson/cJSON.h>

#include "hub.h"

/* "models" or "datasets" (/api/<this>/...) */
const char *hf_api_type(enum ms_repo_type t);
/* "" or "datasets/" (URLs of files and git) */
const char *hf_url_prefix(enum ms_repo_type t);
/* An error answer as an ms_error: X-Error-Code first (§1.2), then the status. */
int hf_error(struct ms_session *s, const struct ms_http_response *r, const char *what,
             struct ms_error *err);
/* $HF_HOME, else ${XDG_CACHE_HOME:-~/.cache}/huggingface (allocated). */
char *hf_home(void);
/* Send req (JSON answer expected): 0 with *out parsed for any 2xx, else the error. */
int hf_request_json(struct ms_session *s, struct ms_http_request *req, long *status, cJSON **out,
                    struct ms_error *err);

/* hub-hf-auth.c */
/* A token as huggingface_hub cleans it: no CR/LF, no blanks around; NULL when empty. */
char *hf_clean_token(const char *raw);
char *hf_stored_token(void);
int hf_whoami(struct ms_session *s, struct ms_account *out, struct ms_error *err);
int hf_token_store(struct ms_session *s, const char *token, const struct ms_account *who,
                   struct ms_strlist *written, struct ms_error *err);
int hf_token_forget(struct ms_strlist *removed, struct ms_error *err);

/* hub-hf-upload.c */
int hf_repo_create(struct ms_session *s, const struct ms_repo *repo, bool private, bool *created,
                   struct ms_error *err);
int hf_branch_head(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                   bool create, char **head, bool *created, struct ms_error *err);
unsigned hf_upload_digests(const struct ms_repo *repo, const struct ms_upfile *f);
int hf_upload_plan(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                   struct ms_upfile *files, size_t n, struct ms_error *err);
int hf_lfs_batch(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                 struct ms_upfile **files, size_t n, struct ms_error *err);
int hf_lfs_finish(struct ms_session *s, const struct ms_repo *repo, struct ms_upfile *f,
                  struct ms_error *err);
int hf_commit(struct ms_session *s, const struct ms_repo *repo, const struct ms_commit *c,
              struct ms_commit_result *out, struct ms_error *err);
char *hf_commit_url(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                    const char *id);
/* The preupload body for files: {"files":[{path, sample, size}], "gitIgnore"?}. */
char *hf_preupload_body(struct ms_upfile *files, size_t n, const char *gitignore,
                        struct ms_error *err);
/* The NDJSON commit body (header, file and lfsFile lines), streamed from the files. */
void hf_commit_body(const struct ms_commit *c, struct ms_body *body);

#endif
