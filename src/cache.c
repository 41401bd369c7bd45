/*
 * The cache operations (cache.h): the hubs' walks and stores put together.
 * A REPO argument of a cache command may leave out the hub and the type:
 * "o/n" matches a cached model or dataset of any hub in scope, and only an
 * ambiguity makes the user say which.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mscli/alloc.h"
#include "mscli/cache.h"
#include "mscli/download.h"
#include "mscli/fs.h"
#include "mscli/lock.h"
#include "mscli/pathsafe.h"
#include "mscli/strbuf.h"

char *ms_cache_root(const struct ms_hub *hub, const struct ms_cache_scope *sc)
{
	char *root = sc->cache_dir ? xstrdup(sc->cache_dir) : hub->default_cache();
	char *abs = ms_absolute_path(root);

	free(root);
	return abs;
}

char *ms_cache_layout_root(const struct ms_cache_layout *layout, const struct ms_cache_scope *sc)
{
	char *root = sc->cache_dir ? xstrdup(sc->cache_dir) : layout->default_root();
	char *abs = ms_absolute_path(root);

	free(root);
	return abs;
}

const char *ms_cache_repo_layout(const struct ms_cache_repo *r)
{
	return r->layout ? r->layout->name : r->repo.hub->cache_layout;
}

/* r's layout among the hub's: 0 for its own, then cache_layouts' order. */
static size_t layout_index(const struct ms_cache_repo *r)
{
	size_t i = 0;

	while (r->layout && r->repo.hub->cache_layouts[i] &&
	       r->repo.hub->cache_layouts[i] != r->layout)
		i++;
	return r->layout ? i + 1 : 0;
}

static void repo_copy(struct ms_repo *dst, const struct ms_repo *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->hub = src->hub;
	dst->type = src->type;
	dst->id = xstrdup(src->id);
	dst->owner = src->owner ? xstrdup(src->owner) : NULL;
	dst->name = xstrdup(src->name);
}

/* Does spec name repo?  *rev gets a revision it names (allocated), when rev is not NULL. */
static bool spec_names(const char *spec, const struct ms_repo *repo, char **rev)
{
	struct ms_repo as_given, as_dataset;
	struct ms_error e;
	int fixed = -1; /* the type the spec itself names ("datasets/o/n", a URL) */
	bool yes;

	if (ms_repo_parse(spec, repo->hub, false, -1, &as_given, &e))
		return false;
	if (as_given.type == MS_REPO_DATASET)
		fixed = MS_REPO_DATASET;
	else if (ms_repo_parse(spec, repo->hub, false, MS_REPO_DATASET, &as_dataset, &e))
		fixed = MS_REPO_MODEL; /* "models/o/n": asking for a dataset conflicts */
	else
		ms_repo_release(&as_dataset);
	/* a prefix or a URL names its hub */
	yes = as_given.hub == repo->hub && !strcmp(as_given.id, repo->id) &&
	      (fixed < 0 || fixed == (int)repo->type);
	if (yes && rev)
		*rev = as_given.revision ? xstrdup(as_given.revision) : NULL;
	ms_repo_release(&as_given);
	return yes;
}

struct walk {
	const struct ms_cache_scope *sc;
	const char *spec, *root;
	const struct ms_cache_layout *layout;
	struct ms_cache_list *out;
};

static int on_repo(void *arg, const struct ms_repo *repo)
{
	struct walk *w = arg;
	struct ms_cache_repo *r;
	struct ms_store *st;
	struct ms_cache_stat stat;
	struct ms_error e;

	if ((w->sc->type >= 0 && (int)repo->type != w->sc->type) ||
	    (w->spec && !spec_names(w->spec, repo, NULL)))
		return 0;
	st = w->layout ? w->layout->store(w->root, repo)
	               : repo->hub->cache_store(w->root, repo, repo->hub->default_revision, NULL);
	if (st->ops->stat(st, &stat, &e) == 0) {
		ms_grow((void **)&w->out->v, &w->out->cap, w->out->n + 1, sizeof(*w->out->v));
		r = &w->out->v[w->out->n++];
		repo_copy(&r->repo, repo);
		r->root = xstrdup(w->root);
		r->layout = w->layout;
		r->stat = stat;
	}
	st->ops->free(st);
	return 0;
}

static int repo_cmp(const void *a, const void *b)
{
	const struct ms_cache_repo *x = a, *y = b;
	int c = (int)ms_hub_index(x->repo.hub) - (int)ms_hub_index(y->repo.hub);

	if (!c)
		c = (int)x->repo.type - (int)y->repo.type;
	if (!c)
		c = strcmp(x->repo.id, y->repo.id);
	return c ? c : (int)layout_index(x) - (int)layout_index(y);
}

int ms_cache_list(const struct ms_cache_scope *sc, const char *spec, struct ms_cache_list *out,
                  struct ms_error *err)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; ms_hubs[i] && !ret; i++) {
		const struct ms_hub *h = ms_hubs[i];
		struct walk w = {sc, spec, NULL, NULL, out};
		char *root;

		if ((sc->hub && sc->hub != h) || !h->cache_walk)
			continue;
		w.root = root = ms_cache_root(h, sc);
		ret = h->cache_walk(root, on_repo, &w, err);
		if (!out->roots.n || strcmp(out->roots.v[out->roots.n - 1], root))
			ms_strlist_add(&out->roots, root); /* --cache-dir: one for both hubs */
		free(root);
		for (size_t k = 0; h->cache_layouts && h->cache_layouts[k] && !ret; k++) {
			w.layout = h->cache_layouts[k];
			w.root = root = ms_cache_layout_root(w.layout, sc);
			ret = w.layout->walk(root, on_repo, &w, err);
			free(root);
		}
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), repo_cmp);
	return ret;
}

void ms_cache_repo_release(struct ms_cache_repo *r)
{
	ms_repo_release(&r->repo);
	ms_cache_stat_release(&r->stat);
	free(r->root);
	memset(r, 0, sizeof(*r));
}

void ms_cache_list_release(struct ms_cache_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ms_cache_repo_release(&l->v[i]);
	free(l->v);
	ms_strlist_release(&l->roots);
	memset(l, 0, sizeof(*l));
}

/* "hf:datasets/org/d": how to name it so that nothing else matches */
static void describe(struct ms_buf *b, const struct ms_cache_repo *r)
{
	ms_buf_addf(b, "%s:%s%s", r->repo.hub->name,
	            r->repo.type == MS_REPO_DATASET ? "datasets/" : "", r->repo.id);
}

static bool same_repo(const struct ms_cache_repo *a, const struct ms_cache_repo *b)
{
	return a->repo.hub == b->repo.hub && a->repo.type == b->repo.type &&
	       !strcmp(a->repo.id, b->repo.id);
}

int ms_cache_find_all(const struct ms_cache_scope *sc, const char *spec, struct ms_cache_list *out,
                      char **rev, struct ms_error *err)
{
	struct ms_buf names = MS_BUF_INIT;
	int ret = ms_cache_list(sc, spec, out, err);
	bool one = true;

	if (rev)
		*rev = NULL;
	for (size_t i = 1; i < out->n; i++)
		one &= same_repo(&out->v[0], &out->v[i]);
	if (!ret && !out->n)
		ret = ms_error_set(err, MS_EOFFLINE, "'%s' is not in the cache", spec);
	else if (!ret && !one) {
		for (size_t i = 0; i < out->n; i++)
			if (!i || !same_repo(&out->v[i - 1], &out->v[i])) {
				ms_buf_adds(&names, i ? ", " : "");
				describe(&names, &out->v[i]);
			}
		ret = ms_error_set(err, MS_EUSAGE,
		                   "'%s' names several cached repos (%s): say which", spec,
		                   names.data);
	}
	if (ret)
		ms_cache_list_release(out);
	else if (rev)
		spec_names(spec, &out->v[0].repo, rev);
	ms_buf_release(&names);
	return ret;
}

int ms_cache_find(const struct ms_cache_scope *sc, const char *spec, struct ms_cache_repo *out,
                  char **rev, struct ms_error *err)
{
	struct ms_cache_list l;
	int ret = ms_cache_find_all(sc, spec, &l, rev, err);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	/* sorted: the hub's own layout first */
	*out = l.v[0];
	memmove(&l.v[0], &l.v[1], (l.n - 1) * sizeof(*l.v));
	l.n--;
	ms_cache_list_release(&l);
	return 0;
}

struct ms_store *ms_cache_repo_store(const struct ms_cache_repo *r, const char *rev)
{
	const struct ms_hub *h = r->repo.hub;

	if (r->layout)
		return r->layout->store(r->root, &r->repo);
	return h->cache_store(r->root, &r->repo, rev ? rev : h->default_revision, NULL);
}

static void revision_names(struct ms_buf *b, const struct ms_cache_stat *s)
{
	for (size_t i = 0; i < s->nrevs; i++) {
		const struct ms_cache_rev *r = &s->revs[i];

		ms_buf_addf(b, "%s'%s'", i ? ", " : "",
		            r->nrefs  ? r->refs[0]
		            : r->name ? r->name
		                      : "?");
	}
}

int ms_cache_pick_revision(const struct ms_cache_repo *r, const char *rev, char **out,
                           struct ms_error *err)
{
	const struct ms_cache_stat *s = &r->stat;
	const char *def = r->repo.hub->default_revision;
	struct ms_buf names = MS_BUF_INIT;
	int ret = 0;

	*out = NULL;
	/* a folder that does not say its revision (no .mv) holds whatever is asked */
	if (rev && (ms_cache_stat_find(s, rev) || (s->nrevs == 1 && !s->revs[0].name)))
		*out = xstrdup(rev);
	else if (!rev && ms_cache_stat_find(s, def))
		*out = xstrdup(def);
	else if (!rev && s->nrevs == 1)
		*out = xstrdup(s->revs[0].name ? s->revs[0].name : def);
	if (*out)
		return 0;
	revision_names(&names, s);
	if (!s->nrevs)
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "%s has no complete revision in the cache (%s)", r->repo.id,
		                   s->path);
	else if (rev)
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "revision '%s' of %s is not in the cache (it has %s)", rev,
		                   r->repo.id, names.data);
	else
		ret = ms_error_set(
		        err, MS_EOFFLINE,
		        "%s has %zu revisions in the cache (%s): pick one with --revision",
		        r->repo.id, s->nrevs, names.data);
	ms_buf_release(&names);
	return ret;
}

/* A layout mscli does not download into: the snapshot directory, or the file in it. */
static int snapshot_path(const struct ms_cache_repo *r, const char *rev, const char *file,
                         char **out, struct ms_error *err)
{
	const struct ms_cache_rev *v = ms_cache_stat_find(&r->stat, rev);
	const char *why;
	char *p;
	struct stat st;

	if (!v || !v->path)
		return ms_error_set(err, MS_EOFFLINE, "revision '%s' of %s is not in the cache",
		                    rev, r->repo.id);
	if (!file) {
		*out = xstrdup(v->path);
		return 0;
	}
	if (ms_path_check(file, &why))
		return ms_error_set(err, MS_EUSAGE, "'%s': %s", file, why);
	p = ms_path_join(v->path, file);
	if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
		ms_error_set(err, MS_EOFFLINE, "'%s' of %s at '%s' is not in the cache (%s)", file,
		             r->repo.id, rev, v->path);
		free(p);
		return MS_EOFFLINE;
	}
	*out = p;
	return 0;
}

int ms_cache_path(const struct ms_cache_repo *r, const char *rev, const char *file, char **out,
                  struct ms_error *err)
{
	char *files[1] = {(char *)file}, *picked;
	struct ms_download_opts o = {.cache_root = r->root, .files = files, .nfiles = file ? 1 : 0};
	struct ms_download d;
	int ret = ms_cache_pick_revision(r, rev, &picked, err);

	*out = NULL;
	if (!ret && r->layout) {
		ret = snapshot_path(r, picked, file, out, err);
		free(picked);
		return ret;
	}
	if (ret)
		return ret;
	/* the offline plan of a download: what `mscli --offline download` would print */
	ms_download_init(&d, NULL, &r->repo, picked, &o, NULL);
	ret = ms_download_plan_offline(&d, err);
	if (!ret)
		*out = ms_download_result_path(&d);
	ms_download_release(&d);
	free(picked);
	return ret;
}

/* ---- prune ---- */

uint64_t ms_cache_repo_bytes(const struct ms_cache_repo *r)
{
	return r->stat.size + r->stat.partial_size + r->stat.state_size;
}

static const struct ms_cache_list *sort_list; /* qsort has no argument: set around the call */

static int lru_cmp(const void *a, const void *b)
{
	const struct ms_cache_repo *x = &sort_list->v[*(const size_t *)a];
	const struct ms_cache_repo *y = &sort_list->v[*(const size_t *)b];

	if (x->stat.last_used != y->stat.last_used)
		return x->stat.last_used < y->stat.last_used ? -1 : 1;
	return repo_cmp(x, y);
}

uint64_t ms_cache_prune_select(const struct ms_cache_list *l, const struct ms_prune_opts *o,
                               const bool *skip, bool *sel)
{
	uint64_t total = 0;
	size_t *order = xcalloc(l->n + 1, sizeof(*order));

	for (size_t i = 0; i < l->n; i++) {
		sel[i] = false;
		total += ms_cache_repo_bytes(&l->v[i]);
		order[i] = i;
	}
	for (size_t i = 0; i < l->n && o->older_than > 0; i++)
		if (!(skip && skip[i]) && o->now - l->v[i].stat.last_used > o->older_than) {
			sel[i] = true;
			total -= ms_cache_repo_bytes(&l->v[i]);
		}
	if (o->have_max_size && l->n) {
		sort_list = l;
		qsort(order, l->n, sizeof(*order), lru_cmp);
		sort_list = NULL;
		for (size_t k = 0; k < l->n && total > o->max_size; k++) {
			size_t i = order[k];

			if (sel[i] || (skip && skip[i]))
				continue;
			sel[i] = true;
			total -= ms_cache_repo_bytes(&l->v[i]);
		}
	}
	free(order);
	return total;
}

struct prune_run {
	const struct ms_prune_cb *cb;
	const struct ms_cache_repo *repo;
	const char *why;
};

static void on_removed(void *arg, const char *path, uint64_t size)
{
	struct prune_run *p = arg;

	if (p->cb->removed)
		p->cb->removed(p->cb->arg, p->repo, path, size, p->why);
}

static void took(struct ms_cache_repo *r, uint64_t freed)
{
	uint64_t *parts[] = {&r->stat.partial_size, &r->stat.state_size, &r->stat.size};

	for (size_t i = 0; i < 3 && freed; i++) {
		uint64_t n = freed < *parts[i] ? freed : *parts[i];

		*parts[i] -= n;
		freed -= n;
	}
}

/* Imports that died half-way left their staging directory: nobody holds its lock. */
static int prune_scratch(const struct ms_cache_scope *sc, const struct ms_prune_opts *o,
                         const struct ms_prune_cb *cb, uint64_t *freed, struct ms_error *err)
{
	int ret = 0;

	for (size_t i = 0; ms_hubs[i] && !ret; i++) {
		const struct ms_hub *h = ms_hubs[i];
		char *root = ms_cache_root(h, sc), *scratch = NULL;
		size_t n;
		char **v;

		if ((sc->hub && sc->hub != h) || !h->cache_scratch || !ms_is_dir(root) ||
		    !(scratch = h->cache_scratch(root, false, err))) {
			free(root);
			continue;
		}
		v = ms_dir_names(scratch, &n);
		for (size_t k = 0; k < n && !ret; k++) {
			char *p = ms_path_join(scratch, v[k]);
			uint64_t size = ms_tree_size(p, NULL);
			int fd;

			if (ms_lock_try_dir(p, &fd, err) == 0) {
				if (!o->dry_run)
					ret = ms_remove_tree(p, err);
				if (!ret) {
					*freed += size;
					if (cb->removed)
						cb->removed(cb->arg, NULL, p, size,
						            "an import that did not finish");
				}
				ms_lock_release(fd);
			}
			free(p);
		}
		ms_dir_names_free(v, n);
		free(scratch);
		free(root);
	}
	return ret;
}

static int prune_partials(struct ms_cache_list *l, const struct ms_prune_opts *o,
                          const struct ms_prune_cb *cb, uint64_t *freed, struct ms_error *err)
{
	int ret = 0;

	for (size_t i = 0; i < l->n && !ret; i++) {
		struct prune_run p = {cb, &l->v[i], "a partial download"};
		struct ms_cache_removal r = {
		        .dry_run = o->dry_run, .removed = on_removed, .arg = &p};
		struct ms_store *st = ms_cache_repo_store(&l->v[i], NULL);

		ret = st->ops->prune_partials(st, &r, err);
		st->ops->free(st);
		if (r.busy && cb->busy)
			cb->busy(cb->arg, &l->v[i]);
		*freed += r.freed;
		took(&l->v[i], r.freed);
	}
	return ret;
}

static void why_not_used(char *out, size_t cap, const struct ms_cache_repo *r,
                         const struct ms_prune_opts *o)
{
	double days = (o->now - r->stat.last_used) / 86400;

	if (o->older_than > 0 && o->now - r->stat.last_used > o->older_than)
		snprintf(out, cap, "not used for %.0f day%s", days,
		         days >= 0.5 && days < 1.5 ? "" : "s");
	else
		snprintf(out, cap, "least recently used");
}

/* Whole repos: selected, removed unless busy, selected again when one was. */
static int prune_repos(struct ms_cache_list *l, const struct ms_prune_opts *o,
                       const struct ms_prune_cb *cb, uint64_t *freed, struct ms_error *err)
{
	bool *skip = xcalloc(l->n + 1, sizeof(*skip)), *sel = xcalloc(l->n + 1, sizeof(*sel));
	bool again = true;
	int ret = 0;

	while (again && !ret) {
		again = false;
		ms_cache_prune_select(l, o, skip, sel);
		for (size_t i = 0; i < l->n && !ret; i++) {
			char why[64];
			struct prune_run p = {cb, &l->v[i], why};
			struct ms_cache_removal r = {
			        .dry_run = o->dry_run, .removed = on_removed, .arg = &p};
			struct ms_store *st;

			if (!sel[i])
				continue;
			why_not_used(why, sizeof(why), &l->v[i], o);
			st = ms_cache_repo_store(&l->v[i], NULL);
			ret = st->ops->remove(st, &r, err);
			st->ops->free(st);
			skip[i] = true;
			if (r.busy) {
				again = true; /* the bytes it holds must come from another repo */
				if (cb->busy)
					cb->busy(cb->arg, &l->v[i]);
				continue;
			}
			*freed += r.freed;
			l->v[i].stat.size = l->v[i].stat.partial_size = l->v[i].stat.state_size = 0;
		}
	}
	free(skip);
	free(sel);
	return ret;
}

int ms_cache_prune(const struct ms_cache_scope *sc, const struct ms_prune_opts *o,
                   const struct ms_prune_cb *cb, uint64_t *freed, uint64_t *left,
                   struct ms_error *err)
{
	struct ms_cache_list l;
	int ret = ms_cache_list(sc, NULL, &l, err);

	*freed = *left = 0;
	if (!ret && o->incomplete)
		ret = prune_partials(&l, o, cb, freed, err);
	if (!ret && o->incomplete)
		ret = prune_scratch(sc, o, cb, freed, err);
	if (!ret && (o->older_than > 0 || o->have_max_size))
		ret = prune_repos(&l, o, cb, freed, err);
	for (size_t i = 0; i < l.n; i++)
		*left += ms_cache_repo_bytes(&l.v[i]);
	ms_cache_list_release(&l);
	return ret;
}
