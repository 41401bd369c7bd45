/*
 * modelscope_hub's cache layout (store-mshub.h) as the cache commands see
 * it.  One folder per repo, one plain snapshot directory per revision as the
 * user gave it ("master", a tag, a commit); no index, no hashes.  Partials
 * sit next to their file: <path>.incomplete (one stream, appended on
 * resume), <path>_<start>_<end> (range parts) and <path>.parallel_tmp (the
 * parts being merged).  A download locks each file on its own
 * (B/.lock/<type>_<owner>___<name>_<path>.lock, filelock's flock); there is
 * no lock of the whole repo, so what would wait for one is busy here.
 * mscli never downloads into this layout: the download ops are NULL.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/lock.h"
#include "mscli/store-mshub.h"
#include "mscli/strbuf.h"

struct store_mshub {
	struct ms_store base;
	enum ms_repo_type type;
	char *owner, *name;
	char *root;     /* B */
	char *repo_dir; /* B/{models|datasets}/<owner>--<name> */
	char *snap_dir; /* repo_dir/snapshots */
};

static const char *type_dir(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets" : "models";
}

static bool real_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- the walk ---- */

bool ms_store_mshub_is_repo_dir(const char *dir, const char *name)
{
	const char *sep = strstr(name, "--");
	char *p, *snap;
	bool yes;

	if (name[0] == '.' || !sep || sep == name || !sep[2])
		return false;
	p = ms_path_join(dir, name);
	snap = ms_path_join(p, "snapshots");
	yes = real_dir(p) && real_dir(snap);
	free(p);
	free(snap);
	return yes;
}

int ms_store_mshub_walk(const struct ms_hub *hub, const char *root,
                        int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                        struct ms_error *err)
{
	static const enum ms_repo_type types[] = {MS_REPO_MODEL, MS_REPO_DATASET};
	int ret = 0;

	(void)err;
	for (size_t t = 0; t < 2 && !ret; t++) {
		char *dir = ms_path_join(root, type_dir(types[t]));
		size_t n;
		char **v = ms_dir_names(dir, &n);

		for (size_t i = 0; i < n && !ret; i++) {
			/* "owner--name": the owner ends at the first "--" */
			char *sep = strstr(v[i], "--");
			struct ms_repo r = {.hub = hub, .type = types[t]};

			if (!ms_store_mshub_is_repo_dir(dir, v[i]))
				continue;
			r.owner = xstrndup(v[i], (size_t)(sep - v[i]));
			r.name = xstrdup(sep + 2);
			r.id = xasprintf("%s/%s", r.owner, r.name);
			ret = fn(arg, &r);
			free(r.owner);
			free(r.name);
			free(r.id);
		}
		ms_dir_names_free(v, n);
		free(dir);
	}
	return ret;
}

/* ---- partials and locks ---- */

/* "<path>_<start>_<end>": a range part (start on a MiB or a part boundary); the length of
 * <path>, else 0. */
static size_t range_part(const char *rel, size_t n)
{
	unsigned long long start, end;
	size_t i = n, d1, d2;

	while (i > 0 && rel[i - 1] >= '0' && rel[i - 1] <= '9')
		i--;
	d2 = i;
	if (d2 == n || i < 2 || rel[i - 1] != '_')
		return 0;
	i--;
	while (i > 0 && rel[i - 1] >= '0' && rel[i - 1] <= '9')
		i--;
	d1 = i;
	if (d1 == d2 - 1 || i < 2 || rel[i - 1] != '_' || rel[i - 2] == '/')
		return 0;
	start = strtoull(rel + d1, NULL, 10);
	end = strtoull(rel + d2, NULL, 10);
	if (end < start || (start % (end - start + 1) && start % (1024 * 1024)))
		return 0;
	return i - 1;
}

/* The repo path a partial is of (allocated), or NULL when rel is no partial. */
static char *partial_of(const char *rel)
{
	size_t n = strlen(rel), k;

	if (ms_has_suffix(rel, ".incomplete"))
		return xstrndup(rel, n - 11);
	if (ms_has_suffix(rel, ".parallel_tmp"))
		return xstrndup(rel, n - 13);
	if ((k = range_part(rel, n)) != 0)
		return xstrndup(rel, k);
	return NULL;
}

/* B/.lock/<type>_<owner>___<name>_<path, '/' -> "___", '.' -> '_'>.lock (_lock_path) */
static char *lock_path(const struct store_mshub *s, const char *path)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_addf(&b, "%s/.lock/%s_%s___%s_", s->root, ms_repo_type_name(s->type), s->owner,
	            s->name);
	for (const char *p = path; *p; p++)
		if (*p == '/')
			ms_buf_adds(&b, "___");
		else
			ms_buf_addch(&b, *p == '.' ? '_' : *p);
	ms_buf_adds(&b, ".lock");
	return ms_buf_detach(&b);
}

/* ---- what the folder holds ---- */

/* The snapshot directories (not links), sorted; NULL-terminated. */
static char **snapshots(const struct store_mshub *s, size_t *n)
{
	char **v = ms_dir_names(s->snap_dir, n);
	size_t k = 0;

	for (size_t i = 0; v && i < *n; i++) {
		char *p = ms_path_join(s->snap_dir, v[i]);

		if (v[i][0] != '.' && real_dir(p))
			v[k++] = v[i];
		else
			free(v[i]);
		free(p);
	}
	if (v)
		v[k] = NULL;
	*n = k;
	return v;
}

struct rev_walk {
	struct ms_cache_stat *out;
	struct ms_cache_rev *rev;
};

static int stat_file(void *arg, const char *rel, const struct stat *st)
{
	struct rev_walk *w = arg;
	char *of;
	double at = ms_timespec_seconds(st->st_atim), mt = ms_timespec_seconds(st->st_mtim);

	if (!S_ISREG(st->st_mode))
		return 0;
	if ((of = partial_of(rel)) != NULL) {
		w->out->npartials++;
		w->out->partial_size += (uint64_t)st->st_size;
		w->rev->complete = false; /* a file of the revision is not there yet */
		free(of);
		return 0;
	}
	w->rev->files++;
	w->rev->size += (uint64_t)st->st_size;
	w->out->files++;
	w->out->size += (uint64_t)st->st_size;
	if (at > w->out->last_used)
		w->out->last_used = at;
	if (mt > w->out->last_modified)
		w->out->last_modified = mt;
	if (mt > w->rev->last_modified)
		w->rev->last_modified = mt;
	return 0;
}

static int mshub_stat(struct ms_store *st, struct ms_cache_stat *out, struct ms_error *err)
{
	struct store_mshub *s = (struct store_mshub *)st;
	size_t n;
	char **v;
	struct stat dst;

	memset(out, 0, sizeof(*out));
	if (!real_dir(s->repo_dir))
		return ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
	out->path = xstrdup(s->repo_dir);
	v = snapshots(s, &n);
	out->revs = xcalloc(n + 1, sizeof(*out->revs));
	for (size_t i = 0; i < n; i++) {
		struct ms_cache_rev *r = &out->revs[out->nrevs++];
		struct rev_walk w = {out, r};

		r->name = xstrdup(v[i]);
		r->path = ms_path_join(s->snap_dir, v[i]);
		r->complete = true; /* nothing records the list: only partials say otherwise */
		ms_walk_tree(r->path, stat_file, &w);
	}
	ms_dir_names_free(v, n);
	if (!out->files && stat(s->repo_dir, &dst) == 0) {
		out->last_used = ms_timespec_seconds(dst.st_atim);
		out->last_modified = ms_timespec_seconds(dst.st_mtim);
	}
	out->incomplete = out->npartials > 0 || !out->nrevs;
	return 0;
}

/* ---- verify ---- */

struct check_walk {
	const char *top, *rev;
	struct ms_cache_items *out;
};

static int check_file(void *arg, const char *rel, const struct stat *st)
{
	struct check_walk *w = arg;
	struct ms_cache_item *it;
	char *of = partial_of(rel);

	if (!S_ISREG(st->st_mode) || of) {
		free(of);
		return 0;
	}
	/* algo NONE: nothing to compare with, unless --online brings the hub's listing */
	it = ms_cache_items_add(w->out, MS_ITEM_FILE);
	it->disk = ms_path_join(w->top, rel);
	it->path = xstrdup(rel);
	it->rev = xstrdup(w->rev);
	it->source = "modelscope_hub's layout records no hashes";
	it->users = 1;
	return 0;
}

static int mshub_check_list(struct ms_store *st, const char *rev, struct ms_cache_items *out,
                            struct ms_error *err)
{
	struct store_mshub *s = (struct store_mshub *)st;
	size_t n;
	char **v = snapshots(s, &n);
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		struct check_walk w = {NULL, v[i], out};
		char *top;

		if (rev && strcmp(rev, v[i]))
			continue;
		found = true;
		w.top = top = ms_path_join(s->snap_dir, v[i]);
		ms_walk_tree(top, check_file, &w);
		free(top);
	}
	ms_dir_names_free(v, n);
	if (!found)
		return ms_error_set(err, MS_EOFFLINE, "revision '%s' is not in the cache: %s",
		                    rev ? rev : "(any)", s->snap_dir);
	return 0;
}

/* ---- locks and removal ---- */

/* The lock files of the files (and partials) of one snapshot, or of all (rev NULL). */
struct lock_set {
	struct ms_strlist paths;
	int *fds;
	size_t nfds;
};

struct lock_walk {
	const struct store_mshub *s;
	struct ms_strlist *paths;
};

static int add_lock(void *arg, const char *rel, const struct stat *st)
{
	struct lock_walk *w = arg;
	char *of = partial_of(rel), *p;

	if (S_ISREG(st->st_mode)) {
		p = lock_path(w->s, of ? of : rel);
		if (access(p, F_OK) == 0) /* none: no download ever locked it */
			ms_strlist_add(w->paths, p);
		free(p);
	}
	free(of);
	return 0;
}

static void lock_set_release(struct lock_set *ls, bool unlink_files)
{
	for (size_t i = 0; i < ls->nfds; i++) {
		if (unlink_files && ls->fds[i] >= 0)
			unlink(ls->paths.v[i]); /* while still held: see ms_store_mshub_remove */
		ms_lock_release(ls->fds[i]);
	}
	free(ls->fds);
	ms_strlist_release(&ls->paths);
	memset(ls, 0, sizeof(*ls));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, each once: a file and its partial share a lock, and one process may not flock
 * the same file twice. */
static void unique(struct ms_strlist *l)
{
	size_t k = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), str_cmp);
	for (size_t i = 0; i < l->n; i++)
		if (k && !strcmp(l->v[k - 1], l->v[i]))
			free(l->v[i]);
		else
			l->v[k++] = l->v[i];
	l->n = k;
}

/* "<type>_<owner>___<name>_": what the lock files of a repo's files start with. */
static char *lock_prefix(enum ms_repo_type type, const char *owner, const char *name)
{
	return xasprintf("%s_%s___%s_", ms_repo_type_name(type), owner, name);
}

/* The prefixes of the other repos of the type that begin with mine ("org/tiny_x" for
 * "org/tiny"): their lock files are not mine. */
static void longer_prefixes(const struct store_mshub *s, const char *mine, struct ms_strlist *out)
{
	char *dir = ms_path_join(s->root, type_dir(s->type));
	size_t n;
	char **v = ms_dir_names(dir, &n);

	for (size_t i = 0; i < n; i++) {
		char *sep = strstr(v[i], "--"), *owner, *p;

		if (!ms_store_mshub_is_repo_dir(dir, v[i]))
			continue;
		owner = xstrndup(v[i], (size_t)(sep - v[i]));
		p = lock_prefix(s->type, owner, sep + 2);
		if (strlen(p) > strlen(mine) && !strncmp(p, mine, strlen(mine)))
			ms_strlist_add(out, p);
		free(p);
		free(owner);
	}
	ms_dir_names_free(v, n);
	free(dir);
}

/* Every lock file of the repo, also of files no snapshot holds any more. */
static void repo_locks(const struct store_mshub *s, struct ms_strlist *paths)
{
	char *dir = ms_path_join(s->root, ".lock"), *mine = lock_prefix(s->type, s->owner, s->name);
	struct ms_strlist others = {0};
	size_t n, k = strlen(mine);
	char **v = ms_dir_names(dir, &n);

	longer_prefixes(s, mine, &others);
	for (size_t i = 0; i < n; i++) {
		bool theirs = false;
		char *p;

		if (strncmp(v[i], mine, k) || !ms_has_suffix(v[i], ".lock"))
			continue;
		for (size_t j = 0; j < others.n && !theirs; j++)
			theirs = !strncmp(v[i], others.v[j], strlen(others.v[j]));
		if (!theirs) {
			p = ms_path_join(dir, v[i]);
			ms_strlist_add(paths, p);
			free(p);
		}
	}
	ms_dir_names_free(v, n);
	ms_strlist_release(&others);
	free(mine);
	free(dir);
}

/* The locks of the files of rev (NULL: every lock file of the repo) taken without waiting:
 * 0, 1 busy (none kept), <0 an error. */
static int lock_all(const struct store_mshub *s, const char *rev, struct lock_set *ls,
                    struct ms_error *err)
{
	struct lock_walk w = {s, &ls->paths};
	size_t n;
	char **v = snapshots(s, &n);
	int ret = 0;

	memset(ls, 0, sizeof(*ls));
	for (size_t i = 0; i < n && rev; i++) {
		char *top = ms_path_join(s->snap_dir, v[i]);

		if (!strcmp(rev, v[i]))
			ms_walk_tree(top, add_lock, &w);
		free(top);
	}
	if (!rev)
		repo_locks(s, &ls->paths);
	ms_dir_names_free(v, n);
	unique(&ls->paths);
	ls->fds = xcalloc(ls->paths.n + 1, sizeof(*ls->fds));
	for (size_t i = 0; i < ls->paths.n && !ret; i++) {
		ret = ms_lock_take(ls->paths.v[i], MS_LOCK_PROBE, NULL, NULL, &ls->fds[i], err);
		if (!ret)
			ls->nfds++;
	}
	if (ret)
		lock_set_release(ls, false);
	return ret;
}

/* rev (NULL: the whole repo) removed under the locks of its files. */
static int remove_locked(struct store_mshub *s, struct ms_cache_removal *r, const char *rev,
                         struct ms_error *err)
{
	struct lock_set ls;
	char *top = rev ? ms_path_join(s->snap_dir, rev) : xstrdup(s->repo_dir);
	int ret = lock_all(s, rev, &ls, err);

	if (ret == 1) {
		r->busy = true; /* a download is writing one of its files */
		ret = 0;
	} else if (!ret) {
		ret = ms_cache_removal_path(r, top, err);
		/* the whole repo: its lock files go too (filelock opens the path again on
		 * each try, so a waiter locks the file it finds next) */
		lock_set_release(&ls, !ret && !r->dry_run && !rev);
	}
	free(top);
	return ret;
}

static int mshub_remove(struct ms_store *st, struct ms_cache_removal *r, struct ms_error *err)
{
	struct store_mshub *s = (struct store_mshub *)st;
	struct ms_buf names = MS_BUF_INIT;
	size_t n;
	char **v;
	bool found = false;
	int ret;

	if (!real_dir(s->repo_dir))
		return ms_error_set(err, MS_EOFFLINE, "not in the cache: %s", s->repo_dir);
	if (!r->rev)
		return remove_locked(s, r, NULL, err);
	v = snapshots(s, &n);
	for (size_t i = 0; i < n; i++) {
		found |= !strcmp(v[i], r->rev);
		ms_buf_addf(&names, "%s'%s'", i ? ", " : "", v[i]);
	}
	ms_dir_names_free(v, n);
	if (!found) {
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "revision '%s' is not in the cache (it has %s: %s)", r->rev,
		                   n ? names.data : "none", s->snap_dir);
		ms_buf_release(&names);
		return ret;
	}
	ms_buf_release(&names);
	/* its last revision: the repo goes */
	return remove_locked(s, r, n == 1 ? NULL : r->rev, err);
}

struct prune_walk {
	struct store_mshub *s;
	struct ms_cache_removal *r;
	const char *top;
	struct ms_error *err;
};

static int prune_file(void *arg, const char *rel, const struct stat *st)
{
	struct prune_walk *w = arg;
	char *of = partial_of(rel), *lock, *p;
	int fd, ret;

	if (!S_ISREG(st->st_mode) || !of) {
		free(of);
		return 0;
	}
	lock = lock_path(w->s, of);
	ret = ms_lock_take(lock, MS_LOCK_PROBE, NULL, NULL, &fd, w->err);
	if (ret == 1) {
		w->r->busy = true; /* being written */
		ret = 0;
	} else if (!ret) {
		p = ms_path_join(w->top, rel);
		ret = ms_cache_removal_path(w->r, p, w->err);
		free(p);
		ms_lock_release(fd);
	}
	free(lock);
	free(of);
	return ret;
}

static int mshub_prune_partials(struct ms_store *st, struct ms_cache_removal *r,
                                struct ms_error *err)
{
	struct store_mshub *s = (struct store_mshub *)st;
	size_t n;
	char **v = snapshots(s, &n);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		char *top = ms_path_join(s->snap_dir, v[i]);
		struct prune_walk w = {s, r, top, err};

		ret = ms_walk_tree(top, prune_file, &w);
		free(top);
	}
	ms_dir_names_free(v, n);
	return ret;
}

static void mshub_free(struct ms_store *st)
{
	struct store_mshub *s = (struct store_mshub *)st;

	free(s->owner);
	free(s->name);
	free(s->root);
	free(s->repo_dir);
	free(s->snap_dir);
	free(s);
}

static const struct ms_store_ops mshub_ops = {
        .stat = mshub_stat,
        .check_list = mshub_check_list,
        .remove = mshub_remove,
        .prune_partials = mshub_prune_partials,
        .free = mshub_free,
};

struct ms_store *ms_store_mshub_new(const char *root, const struct ms_repo *repo)
{
	struct store_mshub *s = xcalloc(1, sizeof(*s));

	s->base.ops = &mshub_ops;
	s->type = repo->type;
	s->owner = xstrdup(repo->owner ? repo->owner : "");
	s->name = xstrdup(repo->name);
	s->root = xstrdup(root);
	s->repo_dir = xasprintf("%s/%s/%s--%s", root, type_dir(repo->type), s->owner, s->name);
	s->snap_dir = ms_path_join(s->repo_dir, "snapshots");
	return &s->base;
}
