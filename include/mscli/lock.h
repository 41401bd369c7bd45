/* Inter-process locks with flock(2), compatible with Python's filelock. */
#ifndef MSCLI_LOCK_H
#define MSCLI_LOCK_H

#include "err.h"

/* Returned when the filesystem cannot lock (NFS without lockd): go on unlocked. */
#define MS_LOCK_NONE (-100)

typedef void (*ms_lock_wait_fn)(void *arg, const char *path);

/*
 * Take an exclusive flock on path (created if needed; never deleted, so two
 * processes can never lock two different inodes).  Polls, calling waiting()
 * once when another process holds it.  Returns the fd (>= 0) or a negative ms_err.
 */
int ms_lock_acquire(const char *path, ms_lock_wait_fn waiting, void *arg, struct ms_error *err);
/* The same, shared: any number of holders, none while an exclusive one holds it. */
int ms_lock_acquire_shared(const char *path, ms_lock_wait_fn waiting, void *arg,
                           struct ms_error *err);
/* The same on an existing directory (for --local-dir). */
int ms_lock_acquire_dir(const char *dir, ms_lock_wait_fn waiting, void *arg, struct ms_error *err);
/* Without waiting: 0 taken (*fd, or -1 when the filesystem cannot lock), 1 busy, <0 error. */
int ms_lock_try(const char *path, int *fd, struct ms_error *err);
/* The same on an existing directory. */
int ms_lock_try_dir(const char *dir, int *fd, struct ms_error *err);

enum ms_lock_mode {
	MS_LOCK_WAIT,  /* ms_lock_acquire */
	MS_LOCK_TRY,   /* ms_lock_try */
	MS_LOCK_PROBE, /* the same, but a lock file that does not exist is not created: free */
};
/* path's lock, as mode says: 0 taken (*fd, -1 when there is nothing to hold), 1 busy, <0
 * an error. */
int ms_lock_take(const char *path, enum ms_lock_mode mode, ms_lock_wait_fn waiting, void *arg,
                 int *fd, struct ms_error *err);
void ms_lock_release(int fd);

#endif
