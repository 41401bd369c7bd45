/*
 * What an upload hands a hub and what the hub answers: the files of a
 * commit with their digests and modes, where an LFS object's bytes go, the
 * commit itself, and the account a token belongs to.  Filled by the upload
 * operation (upload.c) and the hubs' upload protocols (hub-*-upload.c).
 */
#ifndef MSCLI_COMMIT_H
#define MSCLI_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "strbuf.h"

/* Who a token belongs to (whoami). */
struct ms_account {
	char *name;
	char *email;      /* NULL when the hub does not say */
	char *token_name; /* Hugging Face: the token's display name; NULL elsewhere */
	char *role;       /* Hugging Face: read, write or fineGrained; NULL elsewhere */
	char **orgs;      /* the organisations it belongs to */
	size_t norgs;
	bool orgs_known; /* the hub lists them (else another namespace may be an org) */
};

void ms_account_release(struct ms_account *a);
/* May the account write in namespace owner?  false only when the hub listed its orgs
 * and owner is none of them. */
bool ms_account_owns(const struct ms_account *a, const char *owner);

/* Where the bytes of one LFS object go (from the hub's batch answer). */
struct ms_upload_target {
	char *href;          /* basic: the PUT URL; multipart: the completion URL */
	uint64_t chunk_size; /* multipart: bytes per part; 0 for one PUT */
	char **part_urls;    /* multipart: part i+1 goes to part_urls[i] */
	size_t nparts;
	char **etags;         /* multipart: each part's ETag, as the PUT answered it */
	char *verify_href;    /* to ask after the PUTs, or NULL */
	struct ms_buf answer; /* basic: the answer to the PUT (some hubs send JSON) */
	size_t parts_done;    /* PUTs that succeeded (parts, or the one) */
	bool done;            /* every byte is there: not sent again in a later round */
};

void ms_upload_target_free(struct ms_upload_target *t);

/* One file of an upload. */
struct ms_upfile {
	char *local; /* on disk */
	char *path;  /* in the repo */
	uint64_t size;
	/* The hub's plan (upload_plan): */
	bool lfs;                /* stored as an LFS object, else inline in the commit */
	enum ms_hash_algo algo;  /* the digest the hub names files by (its oid) */
	char remote[MS_HEX_MAX]; /* that digest of the file at path on the branch; "" none */
	bool ignored;            /* the hub ignores this path (.gitignore): not committed */
	/* Hashing: */
	char oid[MS_HEX_MAX]; /* the local digest of kind algo */
	unsigned early;       /* the digests hashed before the plan (upload_digests) */
	int64_t mtime_ns;     /* when it was hashed: a later change is refused */
	/* The hub's batch answer: NULL when it has the object already. */
	struct ms_upload_target *put;
	bool sent; /* its bytes went out in this run */
};

/* One commit on a branch. */
struct ms_commit {
	const char *branch;
	const char *parent; /* the head it builds on, or NULL */
	const char *message;
	struct ms_upfile **files;
	size_t n;
};

struct ms_commit_result {
	char *id;  /* the commit id, or NULL when the hub did not say */
	char *url; /* where to see it */
};

void ms_commit_result_release(struct ms_commit_result *r);

/* The git-lfs batch request both hubs take: {"operation":"upload","objects":[{oid,size}]}
 * for files (their oid is the sha256); a hub adds its own fields. */
struct cJSON;
struct cJSON *ms_lfs_batch_request(struct ms_upfile **files, size_t n);

/*
 * A request body of text and of files inlined as base64, made while it is
 * sent (ms_http_request's body_read): its size is known before, its memory
 * stays a few blocks whatever the files weigh.  A file whose bytes no longer
 * have the digest it was hashed to aborts the request.
 */
struct ms_body_part {
	char *text; /* text, or NULL for a file */
	size_t len;
	char *path;
	uint64_t size;
	enum ms_hash_algo algo;
	char expect[MS_HEX_MAX];
};

struct ms_body {
	struct ms_body_part *v;
	size_t n, cap;
	uint64_t size;
	/* while it is sent */
	size_t cur;
	uint64_t off;   /* in the current part: text bytes, or file bytes read */
	int fd;         /* the current file, or -1 */
	void *hasher;   /* struct ms_hasher of the current file */
	bool part_done; /* the current file is all read */
	unsigned char *raw;
	struct ms_buf out; /* base64 not yet handed out */
	size_t out_off;
	struct ms_error err; /* why it was aborted */
};

void ms_body_init(struct ms_body *b);
void ms_body_text(struct ms_body *b, const char *s);
/* s quoted as a JSON string. */
void ms_body_json(struct ms_body *b, const char *s);
/* The base64 of the file: size bytes whose digest (algo) must be expect. */
void ms_body_file_base64(struct ms_body *b, const char *path, uint64_t size, enum ms_hash_algo algo,
                         const char *expect);
size_t ms_body_read(void *arg, char *buf, size_t n);
void ms_body_release(struct ms_body *b);

#endif
