/*
 * What a repo is and what a revision of it holds: the data every layer
 * passes around (hubs fill it, stores and operations read it).
 */
#ifndef MSCLI_REPO_H
#define MSCLI_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"
#include "index.h"

struct ms_hub;

enum ms_repo_type {
	MS_REPO_MODEL = 0,
	MS_REPO_DATASET = 1,
};

struct ms_repo {
	const struct ms_hub *hub;
	enum ms_repo_type type;
	char *id;    /* "owner/name" (or "name" for single-segment HF ids) */
	char *owner; /* NULL for a single-segment id */
	char *name;
	char *revision; /* from a URL like .../tree/<rev> or hf:o/n@rev; else NULL */
	char *file;     /* from a URL like .../resolve/<rev>/<file>; else NULL */
	char *endpoint; /* from a mirror's URL (https://hf-mirror.com/o/n); else NULL */
};

void ms_repo_release(struct ms_repo *r);
const char *ms_repo_type_name(enum ms_repo_type t);
/* "model" or "dataset" -> 0 with *out set; -1 otherwise. */
int ms_repo_type_parse(const char *s, enum ms_repo_type *out);

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
/* A folder: no file has this path, but some are below "path/". */
bool ms_listing_has_folder(const struct ms_listing *l, const char *path);
void ms_listing_release(struct ms_listing *l);
/* Serialised listings, kept by the caches so --offline knows what a revision holds. */
char *ms_listing_to_json(const struct ms_listing *l);
int ms_listing_from_json(const char *json, size_t len, struct ms_listing *out);
void ms_file_release(struct ms_file *f);

/* What a hub tells of a repo (a search result, or info): the same fields on every hub. */
struct ms_repo_meta {
	char *id;
	enum ms_repo_type type;
	long long downloads, likes; /* -1: not told */
	char *last_modified;        /* ISO 8601 UTC ("2025-01-10T08:30:00Z"), or NULL */
	char **tags;
	size_t ntags;
	char *task; /* the pipeline tag or first task, or NULL */
	bool is_private, gated;
	char *commit; /* info: the revision's commit when the hub tells it, else NULL */
	char *raw;    /* the hub's own record, as JSON text */
};

struct ms_meta_list {
	struct ms_repo_meta *items;
	size_t n, cap;
};

/* A zeroed entry at the end (downloads and likes -1). */
struct ms_repo_meta *ms_meta_list_add(struct ms_meta_list *l);
void ms_meta_list_release(struct ms_meta_list *l);
void ms_repo_meta_init(struct ms_repo_meta *m);
void ms_repo_meta_add_tag(struct ms_repo_meta *m, const char *tag);
/*
 * From a hub's record, what both hubs' searches name alike: id (else
 * MS_EPROTO, what naming the request), downloads, likes, tags, private; and
 * the record itself as raw.  The hub adds the rest.
 */
struct cJSON;
int ms_repo_meta_from_json(struct ms_repo_meta *m, const struct cJSON *o, enum ms_repo_type type,
                           const char *what, struct ms_error *err);
void ms_repo_meta_release(struct ms_repo_meta *m);
void ms_file_copy(struct ms_file *dst, const struct ms_file *src);

#endif
