/* Files opened and renamed through their directories' descriptors (fs.h), split off fs.c
 * for its size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mscli/fs.h"

/*
 * Files opened and renamed through their directory's descriptor.  A small
 * download's partial is opened, then renamed into the cache, each path nine or
 * ten components deep, and the kernel walked both paths whole every time (1.6%
 * of a 2000-file download's CPU over TLS).  Each thread keeps its last few
 * directories open (O_PATH).  A directory removed meanwhile (and perhaps made
 * again) answers ENOENT: it is forgotten and the path is used as given, so the
 * outcome is the path call's.  One renamed elsewhere while it is kept would be
 * followed; the directories used so are the run's own, under its lock.
 */
#define DIRFD_MEMO 4

static __thread struct dirfd_memo {
	char dir[400]; /* "" unused */
	int fd;
} dirfd_memo[DIRFD_MEMO];
static __thread unsigned dirfd_memo_next;

/* path's directory as a descriptor (*base its last component), or AT_FDCWD and path;
 * the one kept for `keep` stays. */
static int memo_dirfd(const char *path, const char **base, int keep)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	struct dirfd_memo *m;
	int fd;

	*base = path;
	if (!n || n >= sizeof(m->dir) || !slash[1])
		return AT_FDCWD;
	for (int i = 0; i < DIRFD_MEMO; i++) {
		m = &dirfd_memo[i];
		if (m->dir[0] && !strncmp(m->dir, path, n) && m->dir[n] == '\0') {
			*base = slash + 1;
			return m->fd;
		}
	}
	m = &dirfd_memo[dirfd_memo_next++ % DIRFD_MEMO];
	if (m->dir[0] && m->fd == keep)
		m = &dirfd_memo[dirfd_memo_next++ % DIRFD_MEMO];
	if (m->dir[0])
		close(m->fd); /* the oldest goes */
	memcpy(m->dir, path, n);
	m->dir[n] = '\0';
	fd = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		m->dir[0] = '\0';
		return AT_FDCWD;
	}
	*base = slash + 1;
	return m->fd = fd;
}

static void memo_forget(int fd)
{
	for (int i = 0; i < DIRFD_MEMO; i++) {
		if (dirfd_memo[i].dir[0] && dirfd_memo[i].fd == fd) {
			close(fd);
			dirfd_memo[i].dir[0] = '\0';
		}
	}
}

/* openat(2) of name (NULL: path's last component) in path's directory, through its
 * kept descriptor; else, and after an ENOENT there, open(2) of whole. */
static int open_through(const char *path, const char *name, const char *whole, int flags,
                        mode_t mode)
{
	const char *base;
	int dfd = memo_dirfd(path, &base, -1), fd;

	if (dfd != AT_FDCWD) {
		fd = openat(dfd, name ? name : base, flags, mode);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		memo_forget(dfd);
	}
	return open(whole, flags, mode);
}

int ms_open_memo(const char *path, int flags, mode_t mode)
{
	return open_through(path, NULL, path, flags, mode);
}

/* An unnamed file (O_TMPFILE) in path's directory; dir is that directory's path. */
int ms_open_unnamed_memo(const char *path, const char *dir, mode_t mode)
{
	return open_through(path, ".", dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
}

int ms_link_memo(const char *from, const char *to)
{
	const char *base;
	int dfd = memo_dirfd(to, &base, -1);

	if (dfd != AT_FDCWD) {
		if (linkat(AT_FDCWD, from, dfd, base, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
		memo_forget(dfd);
	}
	return linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
}

int ms_rename_memo(const char *from, const char *to)
{
	const char *bf, *bt;
	int df = memo_dirfd(from, &bf, -1), dt = memo_dirfd(to, &bt, df);

	if (df != AT_FDCWD && dt != AT_FDCWD) {
		if (renameat(df, bf, dt, bt) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
		memo_forget(df);
		memo_forget(dt);
	}
	return rename(from, to);
}
