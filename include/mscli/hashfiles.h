/*
 * Whole files hashed in parallel, one thread per core: the files are shared
 * out largest first (so one big shard does not start last), each read in
 * 4 MiB windows mapped from the page cache and hashed by the thread that maps them.  Progress comes
 * back on the calling thread, so its callback may draw.  Used by `cache verify` and `cache export`;
 * nothing here knows caches or hubs.
 */
#ifndef MSCLI_HASHFILES_H
#define MSCLI_HASHFILES_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* One file to hash. */
struct ms_hashfile {
	const char *path;
	enum ms_hash_algo algo;
	/* results */
	int status;    /* 0, or a negative ms_err (errnum says why it could not be read) */
	int errnum;    /* errno of a failed open or read */
	uint64_t size; /* the bytes hashed: the file's size */
	char hex[MS_HEX_MAX];
};

struct ms_hashfiles_opts {
	int threads;  /* 0: one per online core */
	size_t block; /* bytes per mapping window; 0: 4 MiB */
	/* On the calling thread, about ten times a second and once at the end. */
	void (*progress)(void *arg, size_t files_done, uint64_t bytes_done);
	void *arg;
};

/* Hash the n files: 0 (each file has its status), or MS_EINTR when interrupted. */
int ms_hash_files(struct ms_hashfile *files, size_t n, const struct ms_hashfiles_opts *o);

#endif
