#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/fs.h"
#include "mscli/pathsafe.h"
#include "unit.h"

static int check(const char *p)
{
	const char *why;

	return ms_path_check(p, &why);
}

static size_t entries(const char *dir)
{
	size_t n;
	char **names = ms_dir_names(dir, &n);

	ms_dir_names_free(names, n);
	return n;
}

/* A directory moved where nothing is goes in one rename; one onto another merges. */
static void moves_and_atomic_writes(void)
{
	char tmpl[] = "/tmp/mscli-unit-move-XXXXXX", *d = mkdtemp(tmpl);
	char *from = ms_path_join(d, "stage/snap"), *to = ms_path_join(d, "cache"), *f;
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	struct ms_error err;
	ino_t ino;

	ms_error_clear(&err);
	CHECK(ms_mkdirs(from, 0755, &err) == 0 && ms_mkdirs(to, 0755, &err) == 0);
	f = ms_path_join(from, "a/b.txt");
	CHECK(ms_mkparents_beneath(from, "a/b.txt", &err) == 0);
	CHECK(ms_write_file_atomic(f, "b", 1, 0600, &err) == 0);
	free(f);
	/* no temporary left beside the file; the mode asked for */
	f = ms_path_join(from, "a");
	CHECK(entries(f) == 1);
	free(f);
	f = ms_path_join(from, "a/b.txt");
	CHECK(stat(f, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* over a file that is there (linked beside it, then renamed): replaced, nothing left */
	CHECK(ms_write_file_atomic(f, "bb", 2, 0600, &err) == 0);
	CHECK(ms_read_file(f, 16, &data, &len, &err) == 0 && len == 2 && !memcmp(data, "bb", 2));
	free(data);
	data = NULL;
	free(f);
	f = ms_path_join(from, "a");
	CHECK(entries(f) == 1);
	free(f);
	CHECK(stat(from, &st) == 0);
	ino = st.st_ino;
	CHECK(ms_move_beneath(from, to, "snapshots/c1", &err) == 0);
	f = ms_path_join(to, "snapshots/c1");
	CHECK(stat(f, &st) == 0 && st.st_ino == ino); /* the same directory: renamed whole */
	CHECK(access(from, F_OK) != 0);
	free(f);
	/* onto a directory that is there: file by file, what was there stays */
	CHECK(ms_mkdirs(from, 0755, &err) == 0);
	f = ms_path_join(from, "c.txt");
	CHECK(ms_write_file_atomic(f, "c", 1, 0644, &err) == 0);
	free(f);
	CHECK(ms_move_beneath(from, to, "snapshots/c1", &err) == 0);
	f = ms_path_join(to, "snapshots/c1/c.txt");
	CHECK(ms_read_file(f, 10, &data, NULL, NULL) == 0 && data && !strcmp(data, "c"));
	free(data);
	free(f);
	f = ms_path_join(to, "snapshots/c1/a/b.txt");
	CHECK(access(f, F_OK) == 0);
	free(f);
	ms_remove_tree(d, &err);
	free(from);
	free(to);
}

/* The memo makes each directory once, also past its growth, and forgets on request. */
static void dirmemo(void)
{
	char tmpl[] = "/tmp/mscli-unit-XXXXXX";
	struct ms_dirmemo m = {0};
	struct ms_error err;
	char rel[64], *dir;

	CHECK(mkdtemp(tmpl) != NULL);
	ms_error_clear(&err);
	for (int i = 0; i < 200; i++) {
		snprintf(rel, sizeof(rel), "d%d/e/f.bin", i % 100);
		CHECK(ms_dirmemo_mkparents(&m, tmpl, rel, &err) == 0);
	}
	CHECK(m.made.n == 100);
	CHECK(ms_dirmemo_mkparents(&m, tmpl, "top.bin", &err) == 0 && m.made.n == 100);
	dir = ms_path_join(tmpl, "d99/e");
	CHECK(ms_is_dir(dir));
	/* removed behind its back: the memo still says made, until forgotten */
	CHECK(rmdir(dir) == 0);
	CHECK(ms_dirmemo_mkparents(&m, tmpl, "d99/e/f.bin", &err) == 0 && !ms_is_dir(dir));
	ms_dirmemo_forget(&m);
	CHECK(m.made.n == 0);
	CHECK(ms_dirmemo_mkparents(&m, tmpl, "d99/e/f.bin", &err) == 0 && ms_is_dir(dir));
	CHECK(ms_dirmemo_mkdirs(&m, dir, &err) == 0 && m.made.n == 2);
	CHECK(ms_dirmemo_mkdirs(NULL, dir, &err) == 0);
	free(dir);
	ms_dirmemo_release(&m);
	ms_remove_tree(tmpl, &err);
}

/* A rename into a directory removed behind the memo's back makes the chain again. */
static void dirmemo_place(void)
{
	char tmpl[] = "/tmp/mscli-unit-XXXXXX";
	struct ms_dirmemo m = {0};
	struct ms_error err;
	char *root, *src, *dst, *dir;

	CHECK(mkdtemp(tmpl) != NULL);
	ms_error_clear(&err);
	root = ms_path_join(tmpl, "root"); /* made by the first place (mkroot) */
	src = ms_path_join(tmpl, "part");
	dst = ms_path_join(root, "a/b/file.bin");
	dir = ms_path_join(root, "a/b");
	CHECK(ms_write_file_atomic(src, "x", 1, 0644, &err) == 0);
	CHECK(ms_dirmemo_place(&m, root, true, "a/b/file.bin", ms_rename_memo, src, dst,
	                       "cannot move", &err) == 0);
	CHECK(access(dst, F_OK) == 0);
	/* the memo knows a/b; it goes; the next rename still lands */
	CHECK(unlink(dst) == 0 && rmdir(dir) == 0);
	CHECK(ms_write_file_atomic(src, "y", 1, 0644, &err) == 0);
	CHECK(ms_dirmemo_place(&m, root, true, "a/b/file.bin", ms_rename_memo, src, dst,
	                       "cannot move", &err) == 0);
	CHECK(access(dst, F_OK) == 0);
	/* another failure (src is gone) is named, with the path */
	CHECK(ms_dirmemo_place(&m, root, true, "a/b/file.bin", ms_rename_memo, src, dst,
	                       "cannot move", &err) != 0);
	CHECK(strstr(err.msg, "cannot move") && strstr(err.msg, dst));
	free(root);
	free(src);
	free(dst);
	free(dir);
	ms_dirmemo_release(&m);
	ms_remove_tree(tmpl, &err);
}

/* Through the directories' descriptors each thread keeps: what the path calls do. */
static void open_rename_memo(void)
{
	char tmpl[] = "/tmp/mscli-unit-XXXXXX", path[512], to[512], dir[512];
	int fd, spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	size_t fds = entries("/proc/self/fd");
	struct ms_error err;

	CHECK(mkdtemp(tmpl) != NULL);
	ms_error_clear(&err);
	for (int i = 0; i < 10; i++) {
		snprintf(dir, sizeof(dir), "%s/d%d", tmpl, i);
		CHECK(mkdir(dir, 0755) == 0);
	}
	/* more directories than are kept: every file lands where its path says */
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/d%d/f", tmpl, i);
		snprintf(to, sizeof(to), "%s/d%d/g", tmpl, (i + 1) % 10);
		fd = ms_open_memo(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		CHECK(fd >= 0 && write(fd, "x", 1) == 1);
		if (fd >= 0)
			close(fd);
		CHECK(ms_open_memo(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644) < 0 &&
		      errno == EEXIST);
		CHECK(ms_rename_memo(path, to) == 0);
		CHECK(access(path, F_OK) != 0 && access(to, F_OK) == 0);
	}
	CHECK(entries("/proc/self/fd") <= fds + 4); /* a few kept, none leaked */
	/* a rename from the directory kept longest into one not kept: the one it is
	 * from stays open for it (d5 to d9 were kept last; d0 to d3 come next) */
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/d%d/h", tmpl, i);
		fd = ms_open_memo(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	snprintf(path, sizeof(path), "%s/d0/h", tmpl);
	snprintf(to, sizeof(to), "%s/d7/h", tmpl);
	close(spare); /* a lower number free: a directory opened now does not get d0's */
	CHECK(ms_rename_memo(path, to) == 0 && access(to, F_OK) == 0);
	for (int i = 1; i < 8; i += i < 3 ? 1 : 4) {
		snprintf(path, sizeof(path), "%s/d%d/h", tmpl, i);
		CHECK(unlink(path) == 0); /* d1, d2, d3 and d7 */
	}
	/* a directory removed and made again: the new one gets the file */
	snprintf(dir, sizeof(dir), "%s/d3", tmpl);
	snprintf(path, sizeof(path), "%s/d3/f", tmpl);
	snprintf(to, sizeof(to), "%s/d3/g", tmpl);
	CHECK(unlink(to) == 0 && rmdir(dir) == 0 && mkdir(dir, 0755) == 0);
	fd = ms_open_memo(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && access(path, F_OK) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(ms_rename_memo(path, to) == 0 && access(to, F_OK) == 0);
	/* removed for good: what open(2) and rename(2) say */
	CHECK(unlink(to) == 0 && rmdir(dir) == 0);
	errno = 0;
	CHECK(ms_open_memo(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/d4/g", tmpl);
	errno = 0;
	CHECK(ms_rename_memo(path, to) < 0 && errno == ENOENT);
	CHECK(access(path, F_OK) == 0);
	ms_remove_tree(tmpl, &err);
}

static bool holds(const char *path, const char *want)
{
	char *data = NULL;
	size_t len = 0;
	bool same = ms_read_file(path, 64, &data, &len, NULL) == 0 && len == strlen(want) &&
	            !memcmp(data, want, len);

	free(data);
	return same;
}

/* Records (ms_write_record): made unnamed and linked into place through the directory's
 * kept descriptor, replaced, and after their directory was made again written into the
 * new one; the directory gone for good, an error and nothing written. */
static void record_memo(void)
{
	char tmpl[] = "/tmp/mscli-unit-XXXXXX", path[512], dir[512];
	size_t fds = entries("/proc/self/fd");
	struct ms_error err;

	CHECK(mkdtemp(tmpl) != NULL);
	ms_error_clear(&err);
	snprintf(dir, sizeof(dir), "%s/d", tmpl);
	snprintf(path, sizeof(path), "%s/d/f.metadata", tmpl);
	CHECK(mkdir(dir, 0755) == 0);
	CHECK(ms_write_record(path, "one\n", 4, 0644, &err) == 0 && holds(path, "one\n"));
	CHECK(ms_write_record(path, "two\n", 4, 0644, &err) == 0 && holds(path, "two\n"));
	CHECK(entries(dir) == 1); /* no temporary left beside it */
	CHECK(unlink(path) == 0 && rmdir(dir) == 0 && mkdir(dir, 0755) == 0);
	CHECK(ms_write_record(path, "three\n", 6, 0644, &err) == 0 && holds(path, "three\n"));
	CHECK(unlink(path) == 0 && rmdir(dir) == 0);
	CHECK(ms_write_record(path, "x", 1, 0644, &err) != 0 && access(path, F_OK) != 0);
	CHECK(entries("/proc/self/fd") <= fds + 4); /* a few kept, none leaked */
	ms_remove_tree(tmpl, &err);
}

static int count_type(void *arg, const char *rel, const struct stat *st)
{
	size_t *n = arg;

	(void)rel;
	n[S_ISDIR(st->st_mode) ? 0 : S_ISREG(st->st_mode) ? 1 : S_ISLNK(st->st_mode) ? 2 : 3]++;
	return 0;
}

/* ms_walk_tree_types meets what ms_walk_tree meets, of the same types, links unfollowed. */
static void walk_types(void)
{
	char tmpl[] = "/tmp/mscli-unit-XXXXXX", p[512];
	size_t a[4] = {0}, b[4] = {0};
	struct ms_error err;

	CHECK(mkdtemp(tmpl) != NULL);
	ms_error_clear(&err);
	snprintf(p, sizeof(p), "%s/a/b", tmpl);
	CHECK(ms_mkdirs(p, 0755, &err) == 0);
	snprintf(p, sizeof(p), "%s/a/b/f", tmpl);
	CHECK(ms_write_record(p, "x", 1, 0644, &err) == 0);
	snprintf(p, sizeof(p), "%s/g", tmpl);
	CHECK(ms_write_record(p, "x", 1, 0644, &err) == 0);
	snprintf(p, sizeof(p), "%s/a/l", tmpl);
	CHECK(symlink("b", p) == 0); /* a link to a directory: not walked into */
	ms_walk_tree(tmpl, count_type, a);
	ms_walk_tree_types(tmpl, count_type, b);
	CHECK(a[0] == 2 && a[1] == 2 && a[2] == 1 && a[3] == 0);
	CHECK(!memcmp(a, b, sizeof(a)));
	ms_remove_tree(tmpl, &err);
}

/* A run killed between making the one temporary of a path and its rename left it: the
 * next replacement of that path takes it over and nothing is left after. */
/* tmp, written now and dated two minutes back: what a killed run left */
static void leave_stale(const char *tmp, const char *data)
{
	struct ms_error err;
	struct timespec old[2];

	CHECK(ms_write_file_atomic(tmp, data, strlen(data), 0644, &err) == 0);
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= 120;
	old[1] = old[0];
	CHECK(utimensat(AT_FDCWD, tmp, old, AT_SYMLINK_NOFOLLOW) == 0);
}

static bool file_is(const char *path, const char *want)
{
	char *data = NULL;
	bool same = ms_read_file(path, 64, &data, NULL, NULL) == 0 && data && !strcmp(data, want);

	free(data);
	return same;
}

static void stale_temporaries(void)
{
	char tmpl[] = "/tmp/mscli-unit-stale-XXXXXX", *d = mkdtemp(tmpl);
	char *f = ms_path_join(d, "index"), *tmp = ms_temp_for(f), *src = ms_path_join(d, "src");
	char name[300], *a, *b;
	struct ms_error err;

	ms_error_clear(&err);
	CHECK_STR(strrchr(tmp, '/'), "/index.mscli-tmp");
	CHECK(ms_write_file_atomic(f, "old", 3, 0644, &err) == 0);
	leave_stale(tmp, "stale");
	CHECK(entries(d) == 2);
	CHECK(ms_write_file_atomic(f, "new", 3, 0644, &err) == 0);
	CHECK(file_is(f, "new"));
	CHECK(entries(d) == 1 && access(tmp, F_OK) != 0);
	/* the same for a streamed copy over a file */
	leave_stale(tmp, "stale");
	CHECK(ms_write_file_atomic(src, "copied", 6, 0644, &err) == 0);
	CHECK(ms_copy_file_atomic(src, f, &err) == 0);
	CHECK(file_is(f, "copied"));
	CHECK(entries(d) == 2 && access(tmp, F_OK) != 0);
	/* a fresh one may be another writer's: it stays, and this write goes through a
	 * name of its own, leaving nothing else */
	CHECK(ms_write_file_atomic(tmp, "live", 4, 0644, &err) == 0);
	CHECK(ms_write_file_atomic(f, "mine", 4, 0644, &err) == 0);
	CHECK(file_is(f, "mine") && file_is(tmp, "live"));
	CHECK(ms_copy_file_atomic(src, f, &err) == 0);
	CHECK(file_is(f, "copied") && file_is(tmp, "live"));
	CHECK(entries(d) == 3);
	CHECK(unlink(tmp) == 0);
	/* a directory in the way is not a leftover: it stays, and the write still lands */
	CHECK(mkdir(tmp, 0755) == 0);
	CHECK(ms_write_file_atomic(f, "x", 1, 0644, &err) == 0 && file_is(f, "x"));
	CHECK(entries(d) == 3);
	CHECK(rmdir(tmp) == 0);
	/* long names: cut to fit NAME_MAX, two that share a beginning kept apart */
	memset(name, 'n', 299);
	name[0] = '/';
	name[256] = '\0';
	a = ms_temp_for(name);
	name[255] = 'm';
	b = ms_temp_for(name);
	CHECK(strlen(a) == 256 && strlen(b) == 256 && strcmp(a, b) != 0);
	free(a);
	free(b);
	free(tmp);
	free(f);
	free(src);
	ms_remove_tree(d, &err);
}

/* mkdir -p: one call when the parent is there, the walk when one is missing, and what is
 * in the way named. */
static void mkdirs(void)
{
	char tmpl[] = "/tmp/mscli-unit-mkdirs-XXXXXX", *d = mkdtemp(tmpl);
	char *deep = ms_path_join(d, "a/b/c"), *one = ms_path_join(d, "a/b/d");
	char *file = ms_path_join(d, "f"), *under = ms_path_join(d, "f/x");
	struct ms_error err;

	ms_error_clear(&err);
	CHECK(ms_mkdirs(deep, 0755, &err) == 0 && ms_is_dir(deep));
	CHECK(ms_mkdirs(deep, 0755, &err) == 0);                  /* there already */
	CHECK(ms_mkdirs(one, 0700, &err) == 0 && ms_is_dir(one)); /* its parent is */
	CHECK(ms_write_file_atomic(file, "x", 1, 0644, &err) == 0);
	CHECK(ms_mkdirs(file, 0755, &err) == MS_ESTORAGE); /* a file in its place */
	CHECK(strstr(err.msg, "not a directory") != NULL);
	ms_error_clear(&err);
	CHECK(ms_mkdirs(under, 0755, &err) == MS_ESTORAGE); /* a file as a parent */
	CHECK(strstr(err.msg, "/f") != NULL);
	ms_error_clear(&err);
	ms_remove_tree(d, &err);
	free(deep);
	free(one);
	free(file);
	free(under);
}

void test_pathsafe(void)
{
	mkdirs();
	moves_and_atomic_writes();
	stale_temporaries();
	dirmemo();
	dirmemo_place();
	open_rename_memo();
	record_memo();
	walk_types();
	char tmpl[] = "/tmp/mscli-unit-XXXXXX";
	char *root, *outside, *link;
	struct ms_error err;
	char longseg[300];

	CHECK(check("config.json") == 0);
	CHECK(check("a/b/c.safetensors") == 0);
	CHECK(check(".gitattributes") == 0);
	CHECK(check("a..b/c") == 0);
	CHECK(check("spaces in name.txt") == 0);
	CHECK(check("中文/文件.bin") == 0);

	CHECK(check("") == MS_EUNSAFE);
	CHECK(check("/etc/passwd") == MS_EUNSAFE);
	CHECK(check("../x") == MS_EUNSAFE);
	CHECK(check("a/../../x") == MS_EUNSAFE);
	CHECK(check("a/..") == MS_EUNSAFE);
	CHECK(check("./a") == MS_EUNSAFE);
	CHECK(check("a//b") == MS_EUNSAFE);
	CHECK(check("a/") == MS_EUNSAFE);
	CHECK(check("a\nb") == MS_EUNSAFE);
	CHECK(check("a\x7f") == MS_EUNSAFE);
	CHECK(check("a\x1b[2Jb") == MS_EUNSAFE);
	CHECK(check("..\\x") == MS_EUNSAFE);
	CHECK(check("C:evil") == MS_EUNSAFE);
	memset(longseg, 'a', 299);
	longseg[299] = '\0';
	CHECK(check(longseg) == MS_EUNSAFE);

	/* mkdirs_beneath refuses to go through a symlink planted in the tree */
	CHECK(mkdtemp(tmpl) != NULL);
	root = ms_path_join(tmpl, "root");
	outside = ms_path_join(tmpl, "outside");
	CHECK(mkdir(root, 0755) == 0);
	CHECK(mkdir(outside, 0755) == 0);
	link = ms_path_join(root, "evil");
	CHECK(symlink(outside, link) == 0);
	ms_error_clear(&err);
	CHECK(ms_mkdirs_beneath(root, "ok/deeper", &err) == 0);
	CHECK(ms_is_dir(root) && access("/tmp", F_OK) == 0);
	CHECK(ms_mkdirs_beneath(root, "evil/sub", &err) == MS_EUNSAFE);
	{
		char *sub = ms_path_join(outside, "sub");

		CHECK(access(sub, F_OK) != 0); /* nothing created outside */
		free(sub);
	}
	CHECK(ms_mkparents_beneath(root, "x/y/file.bin", &err) == 0);
	{
		char *xy = ms_path_join(root, "x/y");

		CHECK(ms_is_dir(xy));
		free(xy);
	}
	ms_remove_tree(tmpl, &err);
	free(root);
	free(outside);
	free(link);
}
