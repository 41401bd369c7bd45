/* Files and paths. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/index.h"
#include "mscli/strbuf.h"

/* Writing into a local path failed: whatever errno says, that is local storage (exit 8). */
static int storage_error(struct ms_error *err, int errnum, const char *what, const char *path)
{
	ms_error_errno(err, errnum, what, path);
	return err ? (err->code = MS_ESTORAGE) : MS_ESTORAGE;
}

char *ms_path_join(const char *a, const char *b)
{
	size_t al = strlen(a);

	if (al && a[al - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

char *ms_absolute_path(const char *path)
{
	char *cwd, *out;
	size_t n;

	if (path[0] == '/' || !(cwd = getcwd(NULL, 0))) {
		out = xstrdup(path);
	} else {
		while (path[0] == '.' && (path[1] == '/' || !path[1])) {
			path += 1;
			path += strspn(path, "/");
		}
		out = *path ? ms_path_join(cwd, path) : xstrdup(cwd);
		free(cwd);
	}
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

/* mkdir -p from the top: each folder of path made, those there already left. */
static int mkdirs_walk(const char *path, mode_t mode, struct ms_error *err)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = storage_error(err, errno, "cannot create directory", p);
			break;
		}
		if (!c)
			break;
		*s = c;
	}
	free(p);
	return ret;
}

int ms_mkdirs(const char *path, mode_t mode, struct ms_error *err)
{
	int ret = 0;

	/* the usual cases first, one system call: there already, or its parent is */
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == ENOENT) /* a parent is missing */
		ret = mkdirs_walk(path, mode, err);
	else if (errno != EEXIST)
		return storage_error(err, errno, "cannot create directory", path);
	if (!ret && !ms_is_dir(path))
		ret = ms_error_set(err, MS_ESTORAGE, "'%s' exists and is not a directory", path);
	return ret;
}

bool ms_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool ms_file_has_size(const char *path, uint64_t size)
{
	return ms_dirprobe_has_size(NULL, path, size);
}

void ms_dirprobe_init(struct ms_dirprobe *p)
{
	p->dir = NULL;
	p->fd = -1;
	p->err = 0;
}

void ms_dirprobe_release(struct ms_dirprobe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->dir);
	ms_dirprobe_init(p);
}

int ms_dirprobe_stat(struct ms_dirprobe *p, const char *path, bool follow, struct stat *st)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (!p || !slash || slash == path || !slash[1])
		return follow ? stat(path, st) : lstat(path, st);
	dlen = (size_t)(slash - path);
	if (!p->dir || strlen(p->dir) != dlen || memcmp(p->dir, path, dlen)) {
		ms_dirprobe_release(p);
		p->dir = xstrndup(path, dlen);
		p->fd = open(p->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		p->err = p->fd < 0 ? errno : 0;
	}
	if (p->fd < 0) {
		errno = p->err;
		return -1;
	}
	return fstatat(p->fd, slash + 1, st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
}

bool ms_dirprobe_has_size(struct ms_dirprobe *p, const char *path, uint64_t size)
{
	struct stat st;

	return ms_dirprobe_stat(p, path, true, &st) == 0 && S_ISREG(st.st_mode) &&
	       (uint64_t)st.st_size == size;
}

int ms_write_all(int fd, const void *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int ms_pwrite_all(int fd, const void *data, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, data, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		if (w == 0)
			return EIO;
		data = (const char *)data + w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int ms_copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;

	/* in the kernel where it can (reflinks on some filesystems) */
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) != 0) {
		if (n > 0 || errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP &&
		    errno != EBADF)
			return -2;
		/* a pipe, another filesystem, an old kernel: read and write */
		while ((n = read(in, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (ms_write_all(out, buf, (size_t)n) < 0)
				return -2;
		}
		break;
	}
	return 0;
}

/* A new file for ms_temp_make: its descriptor in fd. */
struct excl {
	int fd;
	mode_t mode;
};

static int open_excl(const char *name, void *arg)
{
	struct excl *x = arg;

	x->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, x->mode);
	return x->fd < 0 ? -1 : 0;
}

int ms_copy_file_atomic(const char *src, const char *dst, struct ms_error *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out, ret = 0, r;
	struct excl x = {-1, 0644};
	char *tmp;

	if (in < 0)
		return ms_error_errno(err, errno, "cannot open", src);
	tmp = ms_temp_make(dst, open_excl, &x);
	if (!tmp) {
		ret = storage_error(err, errno, "cannot create a temporary beside", dst);
		goto out;
	}
	out = x.fd;
	r = ms_copy_fd(in, out);
	if (r == -1)
		ret = ms_error_errno(err, errno, "cannot read", src);
	else if (r)
		ret = storage_error(err, errno, "cannot write", tmp);
	if (close(out) < 0 && !ret)
		ret = storage_error(err, errno, "cannot write", tmp);
	if (!ret && rename(tmp, dst) < 0)
		ret = storage_error(err, errno, "cannot rename to", dst);
	if (ret)
		unlink(tmp);
out:
	close(in);
	free(tmp);
	return ret;
}

char *ms_temp_beside(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t dirlen = base ? (size_t)(base - path) + 1 : 0, blen = strlen(path + dirlen);
	char rnd[33];

	ms_random_hex(rnd);
	if (blen > NAME_MAX - 14) /* ".xxxxxxxx.tmp" and room to spare */
		blen = NAME_MAX - 14;
	return xasprintf("%.*s%.*s.%.8s.tmp", (int)dirlen, path, (int)blen, path + dirlen, rnd);
}

char *ms_temp_for(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t dirlen = base ? (size_t)(base - path) + 1 : 0, blen = strlen(path + dirlen);

	if (blen <= NAME_MAX - strlen(MS_TEMP_SUFFIX))
		return xasprintf("%s" MS_TEMP_SUFFIX, path);
	/* cut: the hash keeps two long names that share a beginning apart */
	return xasprintf("%.*s%.*s.%08x" MS_TEMP_SUFFIX, (int)dirlen, path,
	                 (int)(NAME_MAX - 9 - strlen(MS_TEMP_SUFFIX)), path + dirlen,
	                 (unsigned)(ms_str_hash(path + dirlen) & 0xffffffffu));
}

/* What holds tmp is a leftover, and is gone now. */
static bool take_over(const char *tmp)
{
	struct stat st;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return lstat(tmp, &st) == 0 && !S_ISDIR(st.st_mode) &&
	       ms_timespec_seconds(now) - ms_timespec_seconds(st.st_mtim) >= MS_TEMP_STALE_AGE &&
	       unlink(tmp) == 0;
}

char *ms_temp_make(const char *path, int (*make)(const char *name, void *arg), void *arg)
{
	char *tmp = ms_temp_for(path);
	int e;

	if (make(tmp, arg) == 0)
		return tmp;
	if (errno == EEXIST) {
		if (take_over(tmp) && make(tmp, arg) == 0)
			return tmp;
		/* another writer's (which may be renamed away meanwhile), or not a file: leave
		 * it be, whatever errno take_over's lstat left */
		free(tmp);
		tmp = ms_temp_beside(path);
		if (make(tmp, arg) == 0)
			return tmp;
	}
	e = errno;
	free(tmp);
	errno = e;
	return NULL;
}

bool ms_temp_named(const char *path)
{
	return ms_has_suffix(path, MS_TEMP_SUFFIX);
}

int ms_unlink_replaced(const char *path)
{
	char *tmp = ms_temp_for(path);
	int r, e;

	unlink(tmp);
	r = unlink(path);
	e = errno;
	free(tmp);
	errno = e;
	return r;
}

/*
 * A file with no name yet in path's directory (O_TMPFILE): written and synced before
 * it gets one, a process that dies meanwhile leaves nothing behind.  -1 where the file
 * system cannot.
 */
static int open_unnamed(const char *path, mode_t mode, bool memo)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	int fd = memo ? ms_open_unnamed_memo(path, dir, mode)
	              : open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);

	free(dir);
	return fd;
}

/* data into fd, durable when sync asks: 0 or a storage error naming name. */
static int write_synced(int fd, const void *data, size_t len, const char *name, bool sync,
                        struct ms_error *err)
{
	if (ms_write_all(fd, data, len) < 0)
		return storage_error(err, errno, "cannot write", name);
	/* The data must be durable before the name points at it. */
	if (sync && fsync(fd) < 0)
		return storage_error(err, errno, "cannot sync", name);
	return 0;
}

static int link_proc(const char *name, void *arg)
{
	return linkat(AT_FDCWD, (const char *)arg, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

/*
 * Into an unnamed file, then named: 2 when it took path itself (there was no file
 * there: nothing named is ever left half-done), 0 when it is named *tmp (made here, to be
 * renamed over the file there), a storage error, or 1 when that cannot be done here (no
 * O_TMPFILE, no /proc) and a named temporary must serve.
 */
static int write_unnamed(const char *path, char **tmp, const void *data, size_t len, mode_t mode,
                         bool sync, struct ms_error *err)
{
	/* records (not synced) are the run's own, in directories under its lock: their
	 * directories' descriptors are kept (fs-memo.c); 2000 small files into a
	 * --local-dir walked each .metadata's path three times */
	bool memo = !sync;
	int fd = open_unnamed(path, mode, memo), ret;
	char proc[64];

	if (fd < 0)
		return 1;
	ret = write_synced(fd, data, len, path, sync, err);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!ret && (memo ? ms_link_memo(proc, path)
	                  : linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW)) == 0)
		ret = 2;
	else if (!ret && !(*tmp = ms_temp_make(path, link_proc, proc)))
		ret = 1;
	if (close(fd) < 0 && !ret)
		ret = storage_error(err, errno, "cannot write", path);
	return ret;
}

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                        struct ms_error *err)
{
	struct excl x = {-1, mode};
	char *tmp = NULL;
	int ret = write_unnamed(path, &tmp, data, len, mode, sync, err);

	if (ret == 2) { /* a new file, in place */
		ret = 0;
		goto out;
	}
	if (ret == 1) {
		if (!(tmp = ms_temp_make(path, open_excl, &x))) {
			ret = storage_error(err, errno, "cannot create a temporary beside", path);
			goto out;
		}
		ret = write_synced(x.fd, data, len, tmp, sync, err);
		if (close(x.fd) < 0 && !ret)
			ret = storage_error(err, errno, "cannot write", tmp);
	}
	/* replacing a file: the temporary has a name only from here to the rename, so a
	 * killed run leaves one behind only between these two calls, and the next write
	 * of path takes it over (ms_temp_make) */
	if (!ret && rename(tmp, path) < 0)
		ret = storage_error(err, errno, "cannot rename to", path);
	if (ret && tmp)
		unlink(tmp);
out:
	free(tmp);
	return ret;
}

int ms_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct ms_error *err)
{
	return write_atomic(path, data, len, mode, true, err);
}

static int write_if_changed(const char *path, const void *data, size_t len, bool sync,
                            struct ms_error *err)
{
	char *old = NULL;
	size_t oldlen = 0;
	int ret = 0;

	if (ms_read_file(path, len + 1, &old, &oldlen, NULL) != 0 || oldlen != len || !old ||
	    memcmp(old, data, len))
		ret = write_atomic(path, data, len, 0644, sync, err);
	free(old);
	return ret;
}

int ms_write_file_if_changed(const char *path, const void *data, size_t len, struct ms_error *err)
{
	return write_if_changed(path, data, len, true, err);
}

int ms_write_record_if_changed(const char *path, const void *data, size_t len, struct ms_error *err)
{
	return write_if_changed(path, data, len, false, err);
}

int ms_write_record(const char *path, const void *data, size_t len, mode_t mode,
                    struct ms_error *err)
{
	return write_atomic(path, data, len, mode, false, err);
}

static int read_fd(int fd, const char *path, size_t max, char **out, size_t *len,
                   struct ms_error *err)
{
	struct ms_buf b = MS_BUF_INIT;
	char tmp[65536];
	ssize_t n;

	if (fd < 0)
		return ms_error_errno(err, errno, "cannot open", path);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			ms_buf_release(&b);
			return ms_error_errno(err, e, "cannot read", path);
		}
		if (b.len + (size_t)n > max) {
			close(fd);
			ms_buf_release(&b);
			return ms_error_set(err, MS_EFAIL, "'%s' is larger than %zu bytes", path,
			                    max);
		}
		ms_buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	if (len)
		*len = b.len;
	*out = ms_buf_detach(&b);
	return 0;
}

int ms_read_file(const char *path, size_t max, char **out, size_t *len, struct ms_error *err)
{
	return read_fd(open(path, O_RDONLY | O_CLOEXEC), path, max, out, len, err);
}

int ms_read_record(const char *path, size_t max, char **out, size_t *len, struct ms_error *err)
{
	return read_fd(ms_open_memo(path, O_RDONLY | O_CLOEXEC, 0), path, max, out, len, err);
}

void ms_rmdir_upwards(const char *dir, const char *stop)
{
	char *p = xstrdup(dir);
	size_t sl = strlen(stop);

	while (strlen(p) > sl && strncmp(p, stop, sl) == 0) {
		char *slash;

		if (rmdir(p) < 0 && errno != ENOENT)
			break;
		slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(p);
}

void ms_prune_empty_dirs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char *sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = ms_path_join(dir, de->d_name);
		ms_prune_empty_dirs(sub);
		free(sub);
	}
	closedir(d);
	rmdir(dir); /* fails, harmlessly, when something is left */
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **ms_dir_names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ms_grow((void **)&v, &cap, *n + 2, sizeof(*v));
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (v) {
		qsort(v, *n, sizeof(*v), str_cmp);
		v[*n] = NULL;
	}
	return v;
}

void ms_dir_names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int walk(const char *top, const char *rel, ms_walk_fn fn, void *arg, bool types)
{
	char *dirpath = rel ? ms_path_join(top, rel) : xstrdup(top);
	DIR *d = opendir(dirpath);
	struct dirent *de;
	int ret = 0;

	while (!ret && d && (de = readdir(d)) != NULL) {
		char *r;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rel ? ms_path_join(rel, de->d_name) : xstrdup(de->d_name);
		if (types && de->d_type != DT_UNKNOWN) {
			memset(&st, 0, sizeof(st));
			st.st_mode = DTTOIF(de->d_type);
		} else {
			char *full = ms_path_join(top, r);
			int gone = lstat(full, &st);

			free(full);
			if (gone < 0) {
				free(r);
				continue;
			}
		}
		ret = fn(arg, r, &st);
		if (!ret && S_ISDIR(st.st_mode))
			ret = walk(top, r, fn, arg, types);
		free(r);
	}
	if (d)
		closedir(d);
	free(dirpath);
	return ret;
}

int ms_walk_tree(const char *top, ms_walk_fn fn, void *arg)
{
	return walk(top, NULL, fn, arg, false);
}

int ms_walk_tree_types(const char *top, ms_walk_fn fn, void *arg)
{
	return walk(top, NULL, fn, arg, true);
}

struct size_sum {
	uint64_t size;
	size_t n;
};

static int add_size(void *arg, const char *rel, const struct stat *st)
{
	struct size_sum *sum = arg;

	(void)rel;
	if (S_ISREG(st->st_mode)) {
		sum->size += (uint64_t)st->st_size;
		sum->n++;
	}
	return 0;
}

uint64_t ms_tree_size(const char *path, size_t *nfiles)
{
	struct size_sum sum = {0, 0};
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		sum.size = (uint64_t)st.st_size;
		sum.n = 1;
	} else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		ms_walk_tree(path, add_size, &sum);
	}
	if (nfiles)
		*nfiles = sum.n;
	return sum.size;
}

int ms_remove_tree(const char *path, struct ms_error *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : ms_error_errno(err, errno, "cannot stat", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return ms_error_errno(err, errno, "cannot remove", path);
		return 0;
	}
	d = opendir(path);
	if (!d)
		return ms_error_errno(err, errno, "cannot open directory", path);
	while (!ret && (de = readdir(d)) != NULL) {
		char *sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = ms_path_join(path, de->d_name);
		ret = ms_remove_tree(sub, err);
		free(sub);
	}
	closedir(d);
	if (!ret && rmdir(path) < 0 && errno != ENOENT)
		ret = ms_error_errno(err, errno, "cannot remove directory", path);
	return ret;
}

int ms_check_new_file(const char *path, struct ms_error *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *parent = slash ? dir : ".";
	struct stat st;
	int ret = 0, e = 0;

	if (slash)
		slash[slash == dir ? 1 : 0] = '\0'; /* "/x" -> "/" */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is a directory: name the file", path);
	else if (stat(parent, &st) != 0)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else if (access(parent, W_OK) != 0)
		e = errno;
	if (e) {
		ms_error_errno(err, e, "cannot write into", parent);
		/* a local path that cannot take the file: storage, whatever errno says */
		ret = err->code = MS_ESTORAGE;
	}
	free(dir);
	return ret;
}

int ms_copy_out(const char *src, const char *dst, struct ms_error *err)
{
	int in, r, e;

	if (strcmp(dst, "-"))
		return ms_copy_file_atomic(src, dst, err);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return ms_error_errno(err, errno, "cannot open", src);
	r = ms_copy_fd(in, STDOUT_FILENO);
	e = errno;
	close(in);
	if (r == -2 && e == EPIPE)
		return 0; /* the reader had enough (| head): not an error */
	if (r == -1)
		return ms_error_errno(err, e, "cannot read", src);
	if (r)
		return storage_error(err, e, "cannot write", "standard output");
	return 0;
}
