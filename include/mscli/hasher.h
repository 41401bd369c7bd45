/*
 * Threads that hash partial files while they download.  The engine
 * advances each file's "ready" watermark (bytes from offset 0 that are on
 * disk); the hasher maps them from the page cache and feeds the
 * digest, so verification costs little wall time once the last byte lands.
 */
#ifndef MSCLI_HASHER_H
#define MSCLI_HASHER_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"

struct ms_hasher_pool;
struct ms_hash_slot;

#define MS_HASHER_MAX_THREADS 8

/*
 * nthreads threads (1..MS_HASHER_MAX_THREADS); a file is hashed by one at a time, in
 * order, so more threads help only when several files have bytes waiting.  wake(arg)
 * is called from a hasher thread when a digest is ready.
 */
struct ms_hasher_pool *ms_hasher_pool_start(int nthreads, void (*wake)(void *), void *arg);
void ms_hasher_pool_stop(struct ms_hasher_pool *p);
/* Bytes one thread hashes per second of its own CPU time (0: too little hashed yet). */
double ms_hasher_pool_speed(struct ms_hasher_pool *p);

/* fd is duplicated; the caller keeps its own. */
struct ms_hash_slot *ms_hash_slot_new(struct ms_hasher_pool *p, int fd, uint64_t size,
                                      enum ms_hash_algo algo);
void ms_hash_slot_advance(struct ms_hash_slot *s, uint64_t ready);
/*
 * Forget everything hashed (the file starts over).  Returns once the thread
 * has let go of the file: the caller may truncate it then (the thread reads
 * through a mapping, which a truncation under it would fault).
 */
void ms_hash_slot_reset(struct ms_hash_slot *s);
/* 1 with hex filled when the digest of all size bytes is ready, 0 not yet, <0 -errno. */
int ms_hash_slot_result(struct ms_hash_slot *s, char hex[MS_HEX_MAX]);
uint64_t ms_hash_slot_hashed(struct ms_hash_slot *s);
void ms_hash_slot_free(struct ms_hash_slot *s);

#endif
