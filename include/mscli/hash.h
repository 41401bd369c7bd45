/* Streaming file digests on OpenSSL EVP: SHA-256 and git blob SHA-1. */
#ifndef MSCLI_HASH_H
#define MSCLI_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum ms_hash_algo {
	MS_HASH_NONE = 0,
	MS_HASH_SHA256,  /* ModelScope Sha256, HF LFS oid */
	MS_HASH_GITSHA1, /* HF regular files: sha1("blob <size>\0" + content) */
};

#define MS_HEX_MAX 65 /* 64 hex digits and a NUL */

struct ms_hasher {
	void *ctx; /* EVP_MD_CTX */
	enum ms_hash_algo algo;
};

int ms_hasher_init(struct ms_hasher *h, enum ms_hash_algo algo, uint64_t size);
void ms_hasher_update(struct ms_hasher *h, const void *p, size_t n);
/* Write the lower-case hex digest (NUL-terminated) and reset the context. */
void ms_hasher_final(struct ms_hasher *h, char hex[MS_HEX_MAX]);
void ms_hasher_release(struct ms_hasher *h);
/*
 * Feed bytes [off, off + len) of fd to the nh digests h[0..nh), mapped from
 * the page cache rather than copied out.  Returns the bytes fed (fewer than
 * len when the file ends first), or -errno; -EIO when the file was cut short
 * while it was read (the digests then saw part of it: start them over).
 */
int64_t ms_hasher_feed_fd(struct ms_hasher *h, int nh, int fd, uint64_t off, uint64_t len);
/* How ms_hasher_feed_fd reads from now on: 1 mapped, 2 copied, 0 learn it again (tests). */
void ms_hash_read_way(int w);

const char *ms_hash_name(enum ms_hash_algo algo);
size_t ms_hash_hexlen(enum ms_hash_algo algo);
/* Guess the algorithm from a hex digest's length: 64 sha256, 40 git-sha1. */
enum ms_hash_algo ms_hash_algo_for_hex(const char *hex);
int ms_hash_file(const char *path, enum ms_hash_algo algo, char hex[MS_HEX_MAX],
                 struct ms_error *err);
void ms_sha256_hex(const void *p, size_t n, char hex[MS_HEX_MAX]);

#endif
