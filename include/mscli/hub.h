/* The hub interface: one ops table per protocol (ModelScope, Hugging Face). */
#ifndef MSCLI_HUB_H
#define MSCLI_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "http.h"
#include "index.h"

enum ms_repo_type {
	MS_REPO_MODEL = 0,
	MS_REPO_DATASET = 1,
};

struct ms_repo {
	enum ms_hub_kind hub;
	enum ms_repo_type type;
	char *id;    /* "owner/name" (or "name" for single-segment HF ids) */
	char *owner; /* NULL for a single-segment id */
	char *name;
	char *revision; /* from a URL like .../tree/<rev> or hf:o/n@rev; else NULL */
	char *file;     /* from a URL like .../resolve/<rev>/<file>; else NULL */
	char *endpoint; /* from a mirror's URL (https://hf-mirror.com/o/n); else NULL */
};

/*
 * Parse REPO as given on the command line: "o/n", "ms:o/n", "hf:o/n",
 * "hf:datasets/o/n", or a hub URL (https://modelscope.cn/models/o/n,
 * https://huggingface.co/o/n, https://huggingface.co/datasets/o/n).  A
 * prefix or URL selects the hub (and, for URLs, the type) by itself;
 * otherwise hub and type (-1: not given) apply.  A URL on another host is
 * accepted when hub_given (--hub, MSCLI_HUB) and names the endpoint.
 */
int ms_repo_parse(const char *spec, enum ms_hub_kind hub, bool hub_given, int type,
                  struct ms_repo *out, struct ms_error *err);
void ms_repo_release(struct ms_repo *r);
const char *ms_repo_type_name(enum ms_repo_type t);
const char *ms_hub_name(enum ms_hub_kind h);

struct ms_file {
	char *path;
	uint64_t size;
	enum ms_hash_algo algo;
	char digest[MS_HEX_MAX]; /* expected content digest, "" when the hub gave none */
	char *revision;          /* ModelScope: commit of the file's last change (.msc key) */
	char *etag;              /* Hugging Face: blob name */
	char *oid;      /* Hugging Face: git object id from the tree (LFS: the pointer's) */
	char *location; /* Hugging Face: where a HEAD found the bytes (a CDN), or NULL */
	bool lfs;
};

struct ms_listing {
	struct ms_file *files;
	size_t n, cap;
	struct ms_index *index; /* by path, for ms_listing_find */
	char *revision;         /* as asked for (branch, tag or commit) */
	char *commit;           /* the commit it resolved to, when the hub says */
	long created_at;        /* ModelScope: CreatedAt of the revision, 0 when unknown */
};

struct ms_file *ms_listing_add(struct ms_listing *l);
struct ms_file *ms_listing_find(const struct ms_listing *l, const char *path);
void ms_listing_release(struct ms_listing *l);
/* Serialised listings, kept by the caches so --offline knows what a revision holds. */
char *ms_listing_to_json(const struct ms_listing *l);
int ms_listing_from_json(const char *json, size_t len, struct ms_listing *out);
void ms_file_release(struct ms_file *f);
void ms_file_copy(struct ms_file *dst, const struct ms_file *src);

struct ms_session;

struct ms_hub_ops {
	const char *name;
	const char *default_revision;
	/*
	 * Turn a branch or tag into a commit (*commit allocated).  NULL when
	 * the hub's file URLs take the revision as given.
	 */
	int (*resolve)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	               char **commit, struct ms_error *err);
	/* Every file of repo at rev (commit when resolved), with sizes and digests. */
	int (*list)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	            const char *commit, struct ms_listing *out, struct ms_error *err);
	/*
	 * Metadata of one file without listing the repo (one request); NULL
	 * when the hub has no such call.  Sets out->commit when the hub tells.
	 * On "no such file" with a known commit, out->commit is set too.
	 */
	int (*stat_file)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	                 const char *path, struct ms_listing *out, struct ms_error *err);
	/* The URL whose GET yields the bytes of f (it may redirect to a CDN). */
	char *(*file_url)(struct ms_session *s, const struct ms_repo *repo,
	                  const struct ms_listing *l, const struct ms_file *f);
	/*
	 * For hints after a not-found answer (one request): does repo exist
	 * (folder NULL), or does its tree at rev have that folder?  false when
	 * unknown.
	 */
	bool (*exists)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	               const char *folder);
};

/* GET url on the session: true on a 200 (*resp filled; the caller releases it). */
bool ms_session_probe(struct ms_session *s, const char *url, struct ms_http_response *resp);

extern const struct ms_hub_ops ms_hub_modelscope;
extern const struct ms_hub_ops ms_hub_hf;

/* One conversation with one hub: endpoint, token, HTTP settings. */
struct ms_session {
	const struct ms_hub_ops *ops;
	enum ms_hub_kind hub;
	char *endpoint;         /* no trailing slash */
	bool endpoint_explicit; /* given by option or env: no cn/intl probing */
	struct ms_auth auth;
	struct ms_net_opts net;
	struct ms_http http;
};

void ms_session_init(struct ms_session *s, enum ms_hub_kind hub, const char *endpoint,
                     bool endpoint_explicit, const char *token, const struct ms_net_opts *net);
/* Point the session at another endpoint (the token stays bound to the new origin). */
void ms_session_set_endpoint(struct ms_session *s, const char *endpoint);
void ms_session_release(struct ms_session *s);

/* ModelScope extras. */
/* https://www.modelscope.cn, or .ai with MODELSCOPE_PREFER_AI_SITE */
const char *ms_modelscope_default_endpoint(void);
int ms_modelscope_revision_created_at(struct ms_session *s, const struct ms_repo *repo,
                                      const char *rev, long *created_at, struct ms_error *err);

#endif
