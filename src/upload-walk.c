/*
 * What an upload sends (upload.h): PATH_IN_REPO made canonical, and the
 * files of PATH.  A folder is walked without leaving it: a symlink is
 * followed only when its target resolves inside the folder (a link out of
 * it is refused by name, not silently published), a folder reached twice
 * is walked once, and what must never be published is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/pathsafe.h"
#include "mscli/upload.h"

int ms_upload_dest(const char *path_in_repo, char **out, struct ms_error *err)
{
	struct ms_buf b = MS_BUF_INIT;
	const char *p = path_in_repo ? path_in_repo : "";

	*out = NULL;
	if (*p == '/')
		return ms_error_set(err, MS_EUSAGE,
		                    "PATH_IN_REPO '%s' is absolute: name a path inside the repo",
		                    path_in_repo);
	ms_buf_adds(&b, "");
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 2 && !strncmp(p, "..", 2)) || (n == 4 && !strncmp(p, ".git", 4))) {
			ms_buf_release(&b);
			return ms_error_set(err, MS_EUSAGE,
			                    "PATH_IN_REPO '%s' has a '%.*s' segment", path_in_repo,
			                    (int)n, p);
		}
		if (n && !(n == 1 && *p == '.'))
			ms_buf_addf(&b, "%s%.*s", b.len ? "/" : "", (int)n, p);
		p += n;
		p += strspn(p, "/");
	}
	*out = ms_buf_detach(&b);
	return 0;
}

static bool has_segment(const char *rel, const char *seg)
{
	size_t n = strlen(seg);

	for (const char *p = rel; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (!strncmp(p, seg, n) && (p[n] == '/' || !p[n]))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* rel has a segment in list (segments), or its file name is in list. */
static bool listed(const char *const *list, const char *rel, bool segments)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;

	for (; list && *list; list++)
		if (segments ? has_segment(rel, *list) : !strcmp(base, *list))
			return true;
	return false;
}

bool ms_upload_never_publish(const char *rel)
{
	/* git's, and mscli's listings in a ModelScope cache */
	static const char *const dirs[] = {".git", ".mscli", NULL};
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;

	if (listed(dirs, rel, true))
		return true;
	/* what any hub's clients keep: a folder from one hub may go to another */
	for (size_t i = 0; ms_hubs[i]; i++) {
		const struct ms_hub *h = ms_hubs[i];

		if (listed(h->private_dirs, rel, true) || listed(h->private_names, rel, false))
			return true;
		for (const char *const *x = h->private_suffixes; x && *x; x++)
			if (ends_with(base, *x))
				return true;
	}
	return false;
}

struct walk {
	char *root;      /* the folder as given */
	char *root_real; /* and resolved */
	const char *dest;
	const struct ms_filter *filter;
	struct ms_upfile *files;
	size_t n, cap;
	struct ms_strlist *skipped;
	struct seen {
		dev_t dev;
		ino_t ino;
	} * seen; /* folders walked (links may lead to one twice) */
	size_t nseen, seen_cap;
};

static bool inside(const struct walk *w, const char *real)
{
	size_t n = strlen(w->root_real);

	if (!strcmp(w->root_real, "/"))
		return true;
	return !strncmp(real, w->root_real, n) && (real[n] == '/' || !real[n]);
}

static bool seen_before(struct walk *w, const struct stat *st)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino)
			return true;
	ms_grow((void **)&w->seen, &w->seen_cap, w->nseen + 1, sizeof(*w->seen));
	w->seen[w->nseen++] = (struct seen){st->st_dev, st->st_ino};
	return false;
}

static int add_file(struct walk *w, const char *local, const char *rel, uint64_t size,
                    struct ms_error *err)
{
	char *path = *w->dest ? xasprintf("%s/%s", w->dest, rel) : xstrdup(rel);
	const char *why;
	struct ms_upfile *f;
	int fd;

	if (ms_path_check(path, &why)) {
		ms_error_set(err, MS_EUSAGE, "'%s' cannot be a path in a repo: %s", path, why);
		free(path);
		return MS_EUSAGE;
	}
	/* unreadable is a usage error now, not a failure after everything was hashed */
	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) < 0) {
		free(path);
		return ms_error_set(err, MS_EUSAGE, "cannot read '%s': %s", local, strerror(errno));
	}
	close(fd);
	ms_grow((void **)&w->files, &w->cap, w->n + 1, sizeof(*w->files));
	f = &w->files[w->n++];
	memset(f, 0, sizeof(*f));
	f->local = xstrdup(local);
	f->path = path;
	f->size = size;
	return 0;
}

static int walk_dir(struct walk *w, const char *dir, const char *rel, struct ms_error *err);

/* One entry of a folder: follow what may be followed, add files. */
static int walk_entry(struct walk *w, const char *local, const char *rel, struct ms_error *err)
{
	struct stat st;
	char *real = NULL;
	int ret = 0;

	if (lstat(local, &st) < 0)
		return ms_error_set(err, MS_EUSAGE, "cannot read '%s': %s", local, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		if (!(real = realpath(local, NULL)))
			return ms_error_set(err, MS_EUSAGE, "'%s' is a broken symlink: %s", local,
			                    strerror(errno));
		if (!inside(w, real)) {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "'%s' is a symlink to '%s', outside '%s': refused (copy "
			                   "the file in, or upload its folder separately)",
			                   local, real, w->root);
			goto out;
		}
		if (stat(real, &st) < 0) {
			ret = ms_error_set(err, MS_EUSAGE, "cannot read '%s': %s", local,
			                   strerror(errno));
			goto out;
		}
	}
	if (S_ISDIR(st.st_mode)) {
		if (!seen_before(w, &st))
			ret = walk_dir(w, local, rel, err);
	} else if (S_ISREG(st.st_mode)) {
		if (!w->filter || ms_filter_match(w->filter, rel))
			ret = add_file(w, local, rel, (uint64_t)st.st_size, err);
	} else if (w->skipped) {
		ms_strlist_add(w->skipped, rel); /* a fifo, a socket, a device: not a file */
	}
out:
	free(real);
	return ret;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, const char *dir, const char *rel, struct ms_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct ms_strlist names = {0};
	int ret = 0;

	if (!d)
		return ms_error_set(err, MS_EUSAGE, "cannot read the folder '%s': %s", dir,
		                    strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			ms_strlist_add(&names, e->d_name);
	closedir(d);
	/* in name order: the same folder reached by a link and by its name is walked by the
	 * name that sorts first, on every machine */
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), by_name);
	for (size_t i = 0; i < names.n && !ret; i++) {
		char *local = ms_path_join(dir, names.v[i]);
		char *r = *rel ? xasprintf("%s/%s", rel, names.v[i]) : xstrdup(names.v[i]);

		if (!ms_upload_never_publish(r))
			ret = walk_entry(w, local, r, err);
		free(local);
		free(r);
	}
	ms_strlist_release(&names);
	return ret;
}

static int by_repo_path(const void *a, const void *b)
{
	return strcmp(((const struct ms_upfile *)a)->path, ((const struct ms_upfile *)b)->path);
}

static char *base_name(const char *path)
{
	char *copy = xstrdup(path), *end = copy + strlen(copy), *slash;

	while (end > copy + 1 && end[-1] == '/')
		*--end = '\0';
	slash = strrchr(copy, '/');
	if (slash) {
		char *b = xstrdup(slash + 1);

		free(copy);
		return b;
	}
	return copy;
}

int ms_upload_walk(const char *local, const char *dest, const struct ms_filter *filter,
                   struct ms_upfile **files, size_t *n, struct ms_strlist *skipped,
                   struct ms_error *err)
{
	struct walk w = {.dest = dest, .filter = filter, .skipped = skipped};
	struct stat st;
	int ret;

	*files = NULL;
	*n = 0;
	if (stat(local, &st) < 0)
		return ms_error_set(err, MS_EUSAGE, "cannot read '%s': %s", local, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		/* one file: named by the user, so no skip rule or filter applies */
		char *name = base_name(local);

		w.dest = "";
		ret = add_file(&w, local, *dest ? dest : name, (uint64_t)st.st_size, err);
		free(name);
	} else if (S_ISDIR(st.st_mode)) {
		w.root = xstrdup(local);
		if (!(w.root_real = realpath(local, NULL))) {
			free(w.root);
			return ms_error_set(err, MS_EUSAGE, "cannot read '%s': %s", local,
			                    strerror(errno));
		}
		seen_before(&w, &st);
		ret = walk_dir(&w, local, "", err);
	} else {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is neither a file nor a folder", local);
	}
	free(w.root);
	free(w.root_real);
	free(w.seen);
	if (ret) {
		ms_upfiles_free(w.files, w.n);
		return ret;
	}
	if (w.n > 1)
		qsort(w.files, w.n, sizeof(*w.files), by_repo_path);
	*files = w.files;
	*n = w.n;
	return 0;
}

void ms_upfiles_free(struct ms_upfile *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].local);
		free(files[i].path);
		ms_upload_target_free(files[i].put);
	}
	free(files);
}
