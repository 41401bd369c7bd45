/* Small helpers: allocation that cannot fail, growing buffers, files, env. */
#ifndef MSCLI_UTIL_H
#define MSCLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define MS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not recoverable in a CLI: these abort with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) MS_PRINTF(1, 2);
/* Grow *p (with *cap elements of size) to hold at least need elements. */
void ms_grow(void **p, size_t *cap, size_t need, size_t size);

struct ms_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};
#define MS_BUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}
void ms_buf_add(struct ms_buf *b, const void *p, size_t n);
void ms_buf_adds(struct ms_buf *b, const char *s);
void ms_buf_addf(struct ms_buf *b, const char *fmt, ...) MS_PRINTF(2, 3);
void ms_buf_addch(struct ms_buf *b, char c);
char *ms_buf_detach(struct ms_buf *b);
void ms_buf_release(struct ms_buf *b);

/* Paths and files */
char *ms_path_join(const char *a, const char *b);
int ms_mkdirs(const char *path, mode_t mode, struct ms_error *err);
/* Write via a temporary in the same directory, fsync, rename. */
/* write(2) until all len bytes are out (EINTR retried); -1 with errno. */
int ms_write_all(int fd, const void *data, size_t len);
/* in to out until EOF: 0, or -1 (reading failed) / -2 (writing failed) with errno. */
int ms_copy_fd(int in, int out);
/* src copied to dst through a temporary beside it, renamed into place when complete. */
int ms_copy_file_atomic(const char *src, const char *dst, struct ms_error *err);
int ms_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct ms_error *err);
/* Read a whole (small) file; fails with MS_EFAIL when larger than max. */
int ms_read_file(const char *path, size_t max, char **out, size_t *len, struct ms_error *err);
/* Remove empty directories from dir upwards, stopping at (and keeping) stop. */
void ms_rmdir_upwards(const char *dir, const char *stop);
bool ms_is_dir(const char *path);
/* Remove every empty directory in the tree at dir, dir included when it ends up empty. */
void ms_prune_empty_dirs(const char *dir);
/* Remove a file or a whole tree; ENOENT is not an error. */
int ms_remove_tree(const char *path, struct ms_error *err);

/* Environment: NULL when unset or empty. */
const char *ms_getenv(const char *name);
/* Truthy like huggingface_hub: 1, ON, YES, TRUE (any case). */
bool ms_env_true(const char *name);
/*
 * A hash index over the string keys of an array that only grows (a listing,
 * a .msc): lookups catch up with the items appended since the last one.
 * key(base, i) is the key of item i; the first of equal keys wins.
 */
struct ms_index {
	size_t *slots; /* item index + 1; 0 is empty */
	size_t cap, indexed;
};
typedef const char *(*ms_index_key_fn)(const void *base, size_t i);
/* The index of the item whose key is k among base[0..n), or SIZE_MAX. */
size_t ms_index_find(struct ms_index *x, const void *base, size_t n, ms_index_key_fn key,
                     const char *k);
void ms_index_release(struct ms_index *x);
char *ms_home_path(const char *rel);
/* $VAR, ${VAR} and a leading ~ expanded, as huggingface_hub does for HF_HOME & co. */
char *ms_expand_path(const char *v);
/* PATH made absolute against the working directory ("./x/" -> "/cwd/x"); symlinks kept. */
char *ms_absolute_path(const char *path);

/* Numbers, sizes, hex */
int ms_parse_u64(const char *s, uint64_t *out);
/* "64M", "1GiB", "500MB", "123" (binary units for K/M/G/T and KiB..., decimal for kB/MB/GB/TB) */
int ms_parse_size(const char *s, uint64_t *out);
int ms_parse_seconds(const char *s, double *out);
void ms_format_size(uint64_t n, char *out, size_t outlen);
void ms_hex(const unsigned char *in, size_t n, char *out);
bool ms_is_hex(const char *s, size_t n);
void ms_lowercase(char *s);
/*
 * Ctrl-C: the signal handler raises the flag; long waits (backoff sleeps,
 * API requests, the engine) check it and stop, keeping what they have.
 */
void ms_set_interrupted(void);
bool ms_interrupted(void);
/* Monotonic clock in seconds. */
double ms_now(void);
void ms_sleep(double seconds);
/* Uniform in [0,1) from a per-process seeded generator (jitter only). */
double ms_random01(void);
/* 32 lower-case hex chars of fresh randomness (request ids, temp names). */
void ms_random_hex(char out[33]);
/* A fresh name beside PATH for write-then-rename: "<name>.<random>.tmp", the name cut
 * so that the whole stays within NAME_MAX (a 250-byte file name is legal). */
char *ms_temp_beside(const char *path);

#endif
