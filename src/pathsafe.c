/* Paths from servers and bundles are checked before anything is written. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/pathsafe.h"

int ms_path_check(const char *path, const char **why)
{
	const char *seg = path;
	size_t len = strlen(path);

	*why = NULL;
	if (len == 0)
		*why = "empty path";
	else if (path[0] == '/')
		*why = "absolute path";
	else if (len >= PATH_MAX)
		*why = "path too long";
	if (*why)
		return MS_EUNSAFE;
	for (const char *p = path;; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' || c == '\0') {
			size_t n = (size_t)(p - seg);

			if (n == 0)
				*why = c ? "empty path segment" : "trailing slash";
			else if ((n == 1 && seg[0] == '.') ||
			         (n == 2 && seg[0] == '.' && seg[1] == '.'))
				*why = "'.' or '..' segment";
			else if (n > NAME_MAX)
				*why = "path segment too long";
			if (*why)
				return MS_EUNSAFE;
			if (!c)
				break;
			seg = p + 1;
		} else if (c < 0x20 || c == 0x7f) {
			*why = "control character";
			return MS_EUNSAFE;
		} else if (c == '\\') {
			/* a Windows separator: "..\\x" would escape on that side */
			*why = "backslash";
			return MS_EUNSAFE;
		}
	}
	/* "C:" style drive prefixes mean an absolute path on Windows. */
	if (len >= 2 && path[1] == ':' &&
	    ((path[0] >= 'a' && path[0] <= 'z') || (path[0] >= 'A' && path[0] <= 'Z'))) {
		*why = "drive letter";
		return MS_EUNSAFE;
	}
	return 0;
}

int ms_mkdirs_beneath(const char *root, const char *rel, struct ms_error *err)
{
	char *copy = xstrdup(rel);
	char *save = NULL;
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (dfd < 0) {
		free(copy);
		return ms_error_errno(err, errno, "cannot open directory", root);
	}
	for (char *seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		int next;

		if (mkdirat(dfd, seg, 0755) < 0 && errno != EEXIST) {
			ret = ms_error_errno(err, errno, "cannot create directory in", root);
			break;
		}
		/* O_NOFOLLOW: a symlink planted in the tree cannot lead us out of root. */
		next = openat(dfd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			ret = ms_error_set(
			        err,
			        errno == ENOTDIR || errno == ELOOP ? MS_EUNSAFE
			                                           : ms_err_from_errno(errno),
			        "cannot create directory '%s' below '%s': %s", rel, root,
			        errno == ELOOP ? "a path component is a symlink" : strerror(errno));
			break;
		}
		close(dfd);
		dfd = next;
	}
	close(dfd);
	free(copy);
	return ret;
}

int ms_mkparents_beneath(const char *root, const char *rel, struct ms_error *err)
{
	const char *slash = strrchr(rel, '/');
	char *dir;
	int ret;

	if (!slash)
		return 0;
	dir = xstrndup(rel, (size_t)(slash - rel));
	ret = ms_mkdirs_beneath(root, dir, err);
	free(dir);
	return ret;
}

/* Known: key was made before (key freed).  Otherwise make() it and remember key. */
static int memo_make(struct ms_dirmemo *m, char *key, const char *root, const char *rel,
                     struct ms_error *err)
{
	int ret;

	if (ms_strset_has(&m->made, key)) {
		free(key);
		return 0;
	}
	ret = rel ? ms_mkparents_beneath(root, rel, err) : ms_mkdirs(root, 0755, err);
	if (ret) {
		free(key);
		return ret;
	}
	ms_strset_add(&m->made, key);
	return 0;
}

int ms_dirmemo_mkparents(struct ms_dirmemo *m, const char *root, const char *rel,
                         struct ms_error *err)
{
	const char *slash = strrchr(rel, '/');

	if (!m || !slash)
		return ms_mkparents_beneath(root, rel, err);
	/* "b" + the directory: made beneath root, kept apart from ms_mkdirs's */
	return memo_make(m, xasprintf("b%s/%.*s", root, (int)(slash - rel), rel), root, rel, err);
}

int ms_dirmemo_mkdirs(struct ms_dirmemo *m, const char *path, struct ms_error *err)
{
	if (!m)
		return ms_mkdirs(path, 0755, err);
	return memo_make(m, xasprintf("d%s", path), path, NULL, err);
}

int ms_dirmemo_chain(struct ms_dirmemo *m, const char *root, bool mkroot, const char *rel,
                     struct ms_error *err)
{
	int ret = mkroot ? ms_dirmemo_mkdirs(m, root, err) : 0;

	return ret ? ret : ms_dirmemo_mkparents(m, root, rel, err);
}

int ms_dirmemo_place(struct ms_dirmemo *m, const char *root, bool mkroot, const char *rel,
                     int (*op)(const char *a, const char *b), const char *a, const char *b,
                     const char *what, struct ms_error *err)
{
	int ret = ms_dirmemo_chain(m, root, mkroot, rel, err);

	if (ret || op(a, b) == 0)
		return ret;
	if (errno == ENOENT && m) {
		ms_dirmemo_forget(m);
		ret = ms_dirmemo_chain(m, root, mkroot, rel, err);
		if (ret || op(a, b) == 0)
			return ret;
	}
	return ms_error_errno(err, errno, what, b);
}

void ms_dirmemo_forget(struct ms_dirmemo *m)
{
	ms_strset_clear(&m->made);
}

void ms_dirmemo_release(struct ms_dirmemo *m)
{
	ms_strset_release(&m->made);
}

struct move {
	const char *from, *to_root, *rel;
	struct ms_error *err;
};

static int move_one(void *arg, const char *rel, const struct stat *st)
{
	struct move *m = arg;
	char *dst_rel, *src, *dst;
	int ret = 0;

	if (S_ISDIR(st->st_mode))
		return 0;
	dst_rel = m->rel && *m->rel ? xasprintf("%s/%s", m->rel, rel) : xstrdup(rel);
	src = xasprintf("%s/%s", m->from, rel);
	dst = xasprintf("%s/%s", m->to_root, dst_rel);
	ret = ms_mkparents_beneath(m->to_root, dst_rel, m->err);
	if (!ret && rename(src, dst) < 0)
		ret = ms_error_errno(m->err, errno, "cannot move into place", dst);
	free(dst_rel);
	free(src);
	free(dst);
	return ret;
}

/* Nothing at to_root/rel yet: all of from goes there in one rename (1), so that a reader
 * sees all of it or nothing, also when the process dies midway; 0 when something is. */
static int move_whole(const char *from, const char *to_root, const char *rel, struct ms_error *err)
{
	char *dst = ms_path_join(to_root, rel);
	struct stat st;
	int ret = 0;

	if (lstat(dst, &st) < 0 && errno == ENOENT) {
		ret = ms_mkparents_beneath(to_root, rel, err);
		if (!ret && rename(from, dst) == 0)
			ret = 1;
	}
	free(dst);
	return ret;
}

int ms_move_beneath(const char *from, const char *to_root, const char *rel, struct ms_error *err)
{
	struct move m = {from, to_root, rel, err};
	int ret = rel && *rel ? move_whole(from, to_root, rel, err) : 0;

	if (ret)
		return ret < 0 ? ret : 0;
	ret = ms_walk_tree(from, move_one, &m);

	if (!ret)
		ms_prune_empty_dirs(from);
	return ret;
}
