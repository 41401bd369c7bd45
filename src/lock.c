/*
 * flock(2) locks.  Python's filelock.FileLock, used by both official
 * clients, is flock(LOCK_EX) on the same paths, so we exclude them too.
 * Lock files are never removed: unlinking one while another process waits
 * on it would let a third lock a new inode at the same time.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/lock.h"

static int wait_for(int fd, int op, const char *path, ms_lock_wait_fn waiting, void *arg,
                    struct ms_error *err)
{
	double start = ms_now();
	bool told = false;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;

			close(fd);
			/* NFS without locks: go on unlocked rather than fail. */
			if (e == ENOLCK || e == EOPNOTSUPP)
				return MS_LOCK_NONE;
			return ms_error_errno(err, e, "cannot lock", path);
		}
		if (!told && waiting && ms_now() - start > 0.5) {
			waiting(arg, path);
			told = true;
		}
		ms_sleep(0.05);
	}
}

static int acquire(const char *path, int op, ms_lock_wait_fn waiting, void *arg,
                   struct ms_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);

	if (fd < 0)
		return ms_error_errno(err, errno, "cannot create lock file", path);
	return wait_for(fd, op, path, waiting, arg, err);
}

int ms_lock_acquire(const char *path, ms_lock_wait_fn waiting, void *arg, struct ms_error *err)
{
	return acquire(path, LOCK_EX, waiting, arg, err);
}

int ms_lock_acquire_shared(const char *path, ms_lock_wait_fn waiting, void *arg,
                           struct ms_error *err)
{
	return acquire(path, LOCK_SH, waiting, arg, err);
}

int ms_lock_acquire_dir(const char *dir, ms_lock_wait_fn waiting, void *arg, struct ms_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ms_error_errno(err, errno, "cannot open directory", dir);
	return wait_for(fd, LOCK_EX, dir, waiting, arg, err);
}

static int try_fd(int f, int *fd)
{
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(f);
		/* held by another process; any other failure: a filesystem without locks */
		return e == EWOULDBLOCK ? 1 : 0;
	}
	*fd = f;
	return 0;
}

int ms_lock_try(const char *path, int *fd, struct ms_error *err)
{
	/* a file's lock, beside the run's other files of that directory (fs-memo.c) */
	int f = ms_open_memo(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);

	*fd = -1;
	if (f < 0)
		return ms_error_errno(err, errno, "cannot create lock file", path);
	return try_fd(f, fd);
}

int ms_lock_try_dir(const char *dir, int *fd, struct ms_error *err)
{
	int f = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*fd = -1;
	if (f < 0)
		return ms_error_errno(err, errno, "cannot open directory", dir);
	return try_fd(f, fd);
}

int ms_lock_take(const char *path, enum ms_lock_mode mode, ms_lock_wait_fn waiting, void *arg,
                 int *fd, struct ms_error *err)
{
	int f;

	*fd = -1;
	if (mode == MS_LOCK_WAIT) {
		f = ms_lock_acquire(path, waiting, arg, err);
		if (f == MS_LOCK_NONE)
			return 0;
		if (f < 0)
			return f;
		*fd = f;
		return 0;
	}
	if (mode == MS_LOCK_TRY)
		return ms_lock_try(path, fd, err);
	/* no lock file: no process can hold it, and a look must not create one */
	f = open(path, O_RDWR | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? 0
		                       : ms_error_errno(err, errno, "cannot open lock file", path);
	return try_fd(f, fd);
}

void ms_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
