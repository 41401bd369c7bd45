/* Files and paths: atomic writes, full writes, copies, trees. */
#ifndef MSCLI_FS_H
#define MSCLI_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"

char *ms_path_join(const char *a, const char *b);
/* PATH made absolute against the working directory ("./x/" -> "/cwd/x"); symlinks kept. */
char *ms_absolute_path(const char *path);
int ms_mkdirs(const char *path, mode_t mode, struct ms_error *err);
bool ms_is_dir(const char *path);
/* A regular file (symlinks followed) of exactly size bytes. */
bool ms_file_has_size(const char *path, uint64_t size);

/*
 * Files stat'ed one directory after another (a pass over a listing): each
 * directory is opened once and its files looked up in it, and a directory
 * that is not there answers for all its files (a cold run's 2000 lookups are
 * then a few failed opens).  Valid for one pass: what the pass creates is not
 * seen.  A NULL probe stats the path itself.
 */
struct ms_dirprobe {
	char *dir;
	int fd; /* -1: dir could not be opened, err says why */
	int err;
};
void ms_dirprobe_init(struct ms_dirprobe *p);
void ms_dirprobe_release(struct ms_dirprobe *p);
/* stat(2) (follow) or lstat(2) of path, through p: 0, or -1 with errno. */
int ms_dirprobe_stat(struct ms_dirprobe *p, const char *path, bool follow, struct stat *st);
/* ms_file_has_size through p. */
bool ms_dirprobe_has_size(struct ms_dirprobe *p, const char *path, uint64_t size);

/*
 * open(2) and rename(2) through a descriptor of the directory, kept per thread for
 * the next file there (no walk of the whole path); the path call's outcome, also when
 * the directory was removed or made again meanwhile.
 */
int ms_open_memo(const char *path, int flags, mode_t mode);
int ms_rename_memo(const char *from, const char *to);
/* The same for an unnamed file (O_TMPFILE) in path's directory (dir: its path), and
 * for linkat(2) of from (a /proc/self/fd name, followed) to to. */
int ms_open_unnamed_memo(const char *path, const char *dir, mode_t mode);
int ms_link_memo(const char *from, const char *to);
/* write(2) until all len bytes are out (EINTR retried); -1 with errno. */
int ms_write_all(int fd, const void *data, size_t len);
/* pwrite(2) until all n bytes are at off: 0 or an errno value. */
int ms_pwrite_all(int fd, const void *data, size_t n, uint64_t off);
/* in to out until EOF: 0, or -1 (reading failed) / -2 (writing failed) with errno. */
int ms_copy_fd(int in, int out);
/* src copied to dst through a temporary beside it, renamed into place when complete. */
int ms_copy_file_atomic(const char *src, const char *dst, struct ms_error *err);
/* Write via a temporary in the same directory (unnamed until it is synced, where the
 * file system allows: a killed run leaves no temporary), fsync, rename. */
int ms_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct ms_error *err);
/* The same, but only when the content would change (a warm run writes nothing). */
int ms_write_file_if_changed(const char *path, const void *data, size_t len, struct ms_error *err);
/*
 * The same for a record mscli checks whenever it reads it (a listing: parsed,
 * and ignored when it does not parse) and can make again: whole or absent
 * after a crash (renamed into place), not synced, so that writing it before
 * a download's first request does not wait for the disk.
 */
int ms_write_record_if_changed(const char *path, const void *data, size_t len,
                               struct ms_error *err);
/* Such a record, written whatever is there. */
int ms_write_record(const char *path, const void *data, size_t len, mode_t mode,
                    struct ms_error *err);
/* Read a whole (small) file; fails with MS_EFAIL when larger than max. */
int ms_read_file(const char *path, size_t max, char **out, size_t *len, struct ms_error *err);
/* The same for a record ms_write_record wrote: opened through its directory's kept
 * descriptor (ms_open_memo). */
int ms_read_record(const char *path, size_t max, char **out, size_t *len, struct ms_error *err);
/* A fresh name beside PATH for write-then-rename: "<name>.<random>.tmp", the name cut
 * so that the whole stays within NAME_MAX (a 250-byte file name is legal). */
char *ms_temp_beside(const char *path);
/*
 * The one name beside PATH for replacing it through a rename: "<name>.mscli-tmp" (a name
 * too long for that is cut and gets a hash of the whole).  A run killed between making it
 * and the rename leaves it behind; the next writer of PATH takes it over (ms_temp_make),
 * so one kill leaves one such file at most, and only until PATH is written again.
 */
char *ms_temp_for(const char *path);
#define MS_TEMP_SUFFIX ".mscli-tmp"
/* path has ms_temp_for's form: in a cache, what a killed replacement left, not a file */
bool ms_temp_named(const char *path);
/* A temporary not changed for this long is a leftover: no writer holds one that long
 * without writing to it (a copy keeps changing it; a link or rename takes microseconds). */
#define MS_TEMP_STALE_AGE 60.0
/*
 * Make a temporary beside path with make(name, arg), which fails with EEXIST when the name
 * is taken: at ms_temp_for's name, taking it over when what is there is a leftover (no
 * change for MS_TEMP_STALE_AGE), else at a fresh ms_temp_beside name, so that another
 * writer's temporary is never touched (writers of one path need not hold a lock).  The
 * name made (allocated), or NULL with errno.
 */
char *ms_temp_make(const char *path, int (*make)(const char *name, void *arg), void *arg);
/* unlink(path), and the temporary a killed replacement of it may have left (ms_temp_for):
 * what is erased (a token) leaves no copy behind.  unlink's result and errno for path. */
int ms_unlink_replaced(const char *path);

/* PATH can be created as a new file (-o PATH): its directory exists and is writable, and it
 * is not a directory itself.  MS_EUSAGE or MS_ESTORAGE otherwise. */
int ms_check_new_file(const char *path, struct ms_error *err);
/* src copied to dst ("-": standard output, where a closed pipe is not an error). */
int ms_copy_out(const char *src, const char *dst, struct ms_error *err);

/* Remove empty directories from dir upwards, stopping at (and keeping) stop. */
void ms_rmdir_upwards(const char *dir, const char *stop);
/* Remove every empty directory in the tree at dir, dir included when it ends up empty. */
void ms_prune_empty_dirs(const char *dir);
/* The names in dir but "." and "..", sorted (allocated, NULL-terminated, *n of them); NULL
 * when dir cannot be read. */
char **ms_dir_names(const char *dir, size_t *n);
void ms_dir_names_free(char **v, size_t n);
/*
 * Every entry below top (not top itself), by lstat: symlinks are reported, never
 * followed; a directory comes before what it holds.  rel is the path below top.  A
 * nonzero return of fn stops the walk and is returned; a top that cannot be opened is
 * an empty tree.
 */
struct stat;
typedef int (*ms_walk_fn)(void *arg, const char *rel, const struct stat *st);
int ms_walk_tree(const char *top, ms_walk_fn fn, void *arg);
/* The same for an fn that reads only the type in st_mode: taken from the directory
 * entry where the file system records it, without an lstat (the rest of st is 0). */
int ms_walk_tree_types(const char *top, ms_walk_fn fn, void *arg);
/* The st_size of every regular file at path (a file, or a tree, symlinks not followed);
 * *nfiles (when not NULL) gets their number. */
uint64_t ms_tree_size(const char *path, size_t *nfiles);
/* Remove a file or a whole tree (symlinks are removed, never followed); ENOENT is not an
 * error. */
int ms_remove_tree(const char *path, struct ms_error *err);

#endif
