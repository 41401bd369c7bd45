/*
 * `cache import` over a repo the ModelScope cache already holds.  The repo is two
 * directories -- its folder (files, .msc, .mv: what both official clients read) and
 * mscli's records in R/.mscli/... (the listing with digests) -- and no rename moves two
 * directories at once.  So the import is a swap that any later run can finish:
 *
 *   1. the new folder and records are made whole in the import's staging directory
 *      (same filesystem), with the old revision's files kept where the revisions agree;
 *   2. they move, with a note of their inode numbers, into P = R/.mscli/<type>s/<owner>/
 *      .<name>.import in one rename: from then on the import is decided;
 *   3. the folder is exchanged with P's (renameat2 RENAME_EXCHANGE: the folder is never
 *      missing nor mixed), then the records the same way, then the dotted-name link;
 *   4. P (now the old revision) is renamed aside and removed.
 *
 * A run killed in 3 leaves P: whoever takes the repo's lock next (a download, an import,
 * rm, prune) finishes the swap first, telling by inode what has moved; until then a
 * reader of the records takes P's when the folder is already the new one, so the folder
 * and the records it is checked against always come from the same import.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/pathsafe.h"
#include "mscli/store-ms.h"

/* What moved in P: the folder and the records by their inodes (same filesystem). */
struct swap_ids {
	uint64_t dev, folder, records;
};

static char *swap_dir(const struct store_ms *s, const char *suffix)
{
	return xasprintf("%s/.mscli/%s/%s/.%s.import%s", s->root, ms_store_ms_type_dir(s->type),
	                 s->owner, s->name, suffix);
}

static bool is_inode(const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

static int read_ids(const char *p, struct swap_ids *ids)
{
	char *path = ms_path_join(p, "ids"), *data = NULL, *q, *end;
	uint64_t *v[] = {&ids->dev, &ids->folder, &ids->records};
	int ret = ms_read_file(path, 256, &data, NULL, NULL) == 0 ? 0 : -1;

	for (size_t i = 0; i < 3 && !ret; i++) {
		q = i ? end : data;
		errno = 0;
		*v[i] = strtoull(q, &end, 10);
		if (end == q || errno)
			ret = -1;
	}
	free(data);
	free(path);
	return ret;
}

char *ms_store_ms_records_dir(const struct store_ms *s)
{
	char *p = swap_dir(s, ""), *dir = NULL;
	struct swap_ids ids;

	/* the folder is the new one, its records not yet: they are still in P */
	if (ms_is_dir(p) && read_ids(p, &ids) == 0 && is_inode(s->repo_dir, ids.dev, ids.folder) &&
	    !is_inode(s->meta_dir, ids.dev, ids.records))
		dir = ms_path_join(p, "records");
	free(p);
	return dir ? dir : xstrdup(s->meta_dir);
}

/* from (inode ino) to dst: exchanged with what is there, or renamed when nothing is;
 * 1 when from is not there. */
static int place(const char *from, const char *dst, uint64_t dev, uint64_t ino, const char *aside,
                 struct ms_error *err)
{
	struct stat st;

	if (is_inode(dst, dev, ino))
		return 0; /* done before the last run died */
	if (!is_inode(from, dev, ino))
		return 1; /* neither here nor there: removed by hand meanwhile */
	if (lstat(dst, &st) == 0) {
		if (renameat2(AT_FDCWD, from, AT_FDCWD, dst, RENAME_EXCHANGE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return ms_error_errno(err, errno, "cannot move into place", dst);
		/* a filesystem without the exchange: the old one aside first, a moment
		 * without it (a reader takes the repo for not cached) */
		if (rename(dst, aside) < 0)
			return ms_error_errno(err, errno, "cannot move aside", dst);
	}
	if (rename(from, dst) < 0)
		return ms_error_errno(err, errno, "cannot move into place", dst);
	return 0;
}

/* Step 3 and 4: the swap P holds, finished.  Under the repo's lock. */
static int finish(struct store_ms *s, const char *p, struct ms_error *err)
{
	char *folder = ms_path_join(p, "folder"), *records = ms_path_join(p, "records");
	char *old_folder = ms_path_join(p, "old-folder"),
	     *old_records = ms_path_join(p, "old-records");
	char *plink = ms_path_join(p, "link"), *old = swap_dir(s, ".old");
	char *link =
	        xasprintf("%s/%s/%s/%s", s->root, ms_store_ms_type_dir(s->type), s->owner, s->name);
	struct swap_ids ids;
	struct stat st;
	int ret = 0;

	if (read_ids(p, &ids) == 0) {
		ret = ms_mkparents_beneath(s->root, s->repo_dir + strlen(s->root) + 1, err);
		if (!ret)
			ret = place(folder, s->repo_dir, ids.dev, ids.folder, old_folder, err);
		if (!ret)
			ret = ms_mkparents_beneath(s->root, s->meta_dir + strlen(s->root) + 1, err);
		if (!ret)
			ret = place(records, s->meta_dir, ids.dev, ids.records, old_records, err);
		if (ret == 1)
			ret = 0; /* the folder (or its records) went by hand: nothing to finish */
		else if (!ret && lstat(plink, &st) == 0 && lstat(link, &st) < 0 &&
		         rename(plink, link) < 0)
			ret = ms_error_errno(err, errno, "cannot move into place", link);
	}
	/* decided and done (or never whole): what P still holds is the old revision */
	if (!ret) {
		struct ms_error e;

		ms_remove_tree(old, &e);
		if (rename(p, old) == 0)
			ms_remove_tree(old, &e);
	}
	free(folder);
	free(records);
	free(old_folder);
	free(old_records);
	free(plink);
	free(old);
	free(link);
	return ret;
}

int ms_store_ms_recover(struct store_ms *s, struct ms_error *err)
{
	char *p = swap_dir(s, "");
	int ret = ms_is_dir(p) ? finish(s, p, err) : 0;

	free(p);
	return ret;
}

/* Step 2: q (folder, records, link: staged) becomes P, ids noted. */
static int decide(struct store_ms *s, const char *q, struct ms_error *err)
{
	char *folder = ms_path_join(q, "folder"), *records = ms_path_join(q, "records");
	char *ids_path = ms_path_join(q, "ids"), *p = swap_dir(s, ""), *ids = NULL;
	struct stat fst = {0}, rst = {0};
	int ret = 0;

	if (lstat(folder, &fst) < 0 || lstat(records, &rst) < 0)
		ret = ms_error_errno(err, errno, "cannot read", q);
	if (!ret) {
		ids = xasprintf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", (uint64_t)fst.st_dev,
		                (uint64_t)fst.st_ino, (uint64_t)rst.st_ino);
		ret = ms_write_file_atomic(ids_path, ids, strlen(ids), 0644, err);
	}
	if (!ret)
		ret = ms_mkparents_beneath(s->root, p + strlen(s->root) + 1, err);
	if (!ret && rename(q, p) < 0)
		ret = ms_error_errno(err, errno, "cannot move into place", p);
	free(folder);
	free(records);
	free(ids_path);
	free(ids);
	free(p);
	return ret;
}

int ms_store_ms_swap_in(struct store_ms *s, const char *folder, const char *records,
                        const char *link, struct ms_error *err)
{
	char *q = xasprintf("%s.swap", records), *to, *p = swap_dir(s, "");
	struct stat st;
	int ret = ms_mkdirs(q, 0755, err);

	if (!ret && !ms_is_dir(records))
		ret = ms_mkdirs(records, 0755, err);
	to = ms_path_join(q, "folder");
	if (!ret && rename(folder, to) < 0)
		ret = ms_error_errno(err, errno, "cannot move", folder);
	free(to);
	to = ms_path_join(q, "records");
	if (!ret && rename(records, to) < 0)
		ret = ms_error_errno(err, errno, "cannot move", records);
	free(to);
	to = ms_path_join(q, "link");
	if (!ret && lstat(link, &st) == 0 && S_ISLNK(st.st_mode) && rename(link, to) < 0)
		ret = ms_error_errno(err, errno, "cannot move", link);
	free(to);
	if (!ret)
		ret = decide(s, q, err);
	if (!ret)
		ret = finish(s, p, err);
	free(q);
	free(p);
	return ret;
}
