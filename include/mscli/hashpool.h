/*
 * Hashing many files at once: a pool of threads (one per core by default)
 * takes the files largest first and streams each through its digests in
 * large blocks; nothing is held whole in memory.  The caller's thread hears
 * of each finished file and of the bytes done so far through callbacks.
 * Used by upload (what to send) and by anything that re-hashes files on
 * disk (cache verify).
 */
#ifndef MSCLI_HASHPOOL_H
#define MSCLI_HASHPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"

#define MS_HASHES(a) (1u << (a)) /* a bit of ms_hash_item.algos */
/* ms_hash_item.size when the caller does not know it: the file's own size counts. */
#define MS_HASH_SIZE_OF_FILE UINT64_MAX

struct ms_hash_item {
	const char *path;
	uint64_t size;  /* as listed: a file of another size is an error */
	unsigned algos; /* MS_HASHES(MS_HASH_SHA256) | MS_HASHES(MS_HASH_GITSHA1) */
	void *user;
	/* results */
	char sha256[MS_HEX_MAX];
	char gitsha1[MS_HEX_MAX];
	int64_t mtime_ns; /* the file's mtime while it was hashed (it did not change) */
	int status;       /* 0, or a negative ms_err (the run's err says which and why) */
	int errnum;       /* errno of a failed open or read; 0 when it changed while read */
};

struct ms_hashpool_opts {
	int threads;     /* 0: one per core */
	size_t block;    /* bytes per mapping window (hash.h); 0: 4 MiB */
	double interval; /* seconds between progress calls; 0: 0.1 */
	void *arg;
	/* On the caller's thread: a file is hashed (or failed). */
	void (*item_done)(void *arg, struct ms_hash_item *item);
	/* On the caller's thread: bytes hashed so far, of total. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
};

/*
 * Hash items[0..n).  Returns 0, or the first failure (a file that cannot be
 * read, or that changed while it was read: err names it); the others are
 * finished or abandoned.  An interrupt stops it with MS_EINTR.
 */
int ms_hashpool_run(struct ms_hash_item *items, size_t n, const struct ms_hashpool_opts *o,
                    struct ms_error *err);

/*
 * The same, step by step, for a caller with its own loop (upload sends what is
 * hashed while the rest is hashed): start the threads; take the items finished
 * since the last call, without waiting; busy while some are not taken; finish
 * waits for the threads (stop: abandon what is left) and returns the first failure.
 */
struct ms_hashpool;
struct ms_hashpool *ms_hashpool_start(struct ms_hash_item *items, size_t n,
                                      const struct ms_hashpool_opts *o);
size_t ms_hashpool_take(struct ms_hashpool *p, struct ms_hash_item **out, size_t max);
bool ms_hashpool_busy(struct ms_hashpool *p);
/* Bytes hashed so far (*total: of all items). */
uint64_t ms_hashpool_progress(struct ms_hashpool *p, uint64_t *total);
int ms_hashpool_finish(struct ms_hashpool *p, bool stop, struct ms_error *err);

/* The number of cores this process may use. */
int ms_cores(void);

#endif
