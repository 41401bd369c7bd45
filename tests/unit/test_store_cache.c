/*
 * The stores' cache operations (stat, check_list, remove, prune_partials) and
 * the hubs' cache walks, on layouts made as a download makes them (ModelScope's
 * cache, Hugging Face's) or as modelscope_hub leaves them; a --local-dir store
 * has none of them.  Sizes, counts, and what is gone and what is kept.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/hub.h"
#include "mscli/lock.h"
#include "mscli/store-hf.h"
#include "mscli/store.h"
#include "unit.h"

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"

/* ---- helpers ---- */

struct walked {
	size_t n;
	char ids[4][64]; /* "model:o/n" */
};

static int on_repo(void *arg, const struct ms_repo *repo)
{
	struct walked *w = arg;

	if (w->n < 4)
		snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s:%s", ms_repo_type_name(repo->type),
		         repo->id);
	w->n++;
	return 0;
}

static struct walked walk(int (*fn)(const char *, int (*)(void *, const struct ms_repo *), void *,
                                    struct ms_error *),
                          const char *root)
{
	struct walked w = {0};
	struct ms_error err;

	ms_error_clear(&err);
	CHECK(fn(root, on_repo, &w, &err) == 0);
	return w;
}

static bool exists(const char *root, const char *rel)
{
	char *p = ms_path_join(root, rel);
	struct stat st;
	bool yes = lstat(p, &st) == 0;

	free(p);
	return yes;
}

static void put_at(const char *root, const char *rel, const char *content)
{
	char *p = ms_path_join(root, rel), *dir = xstrdup(p);
	struct ms_error err;

	*strrchr(dir, '/') = '\0';
	ms_mkdirs(dir, 0755, &err);
	unit_put(p, content);
	free(dir);
	free(p);
}

/* A lock held as a running download holds it: a store sees the file busy. */
static int hold(const char *root, const char *rel)
{
	char *p = ms_path_join(root, rel), *dir = xstrdup(p);
	struct ms_error err;
	int fd = -1;

	*strrchr(dir, '/') = '\0';
	ms_mkdirs(dir, 0755, &err);
	CHECK(ms_lock_take(p, MS_LOCK_TRY, NULL, NULL, &fd, &err) == 0);
	free(dir);
	free(p);
	return fd;
}

static size_t count_items(const struct ms_cache_items *l, enum ms_cache_item_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].kind == kind;
	return n;
}

static const struct ms_cache_item *item_of(const struct ms_cache_items *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].path && !strcmp(l->v[i].path, path))
			return &l->v[i];
	return NULL;
}

static int list(struct ms_store *st, const char *rev, struct ms_cache_items *out)
{
	struct ms_error err;

	ms_error_clear(&err);
	memset(out, 0, sizeof(*out));
	return st->ops->check_list(st, rev, out, &err);
}

static int stat_of(struct ms_store *st, struct ms_cache_stat *out)
{
	struct ms_error err;

	ms_error_clear(&err);
	return st->ops->stat(st, out, &err);
}

/* rm or prune (prune: the partials) of rev, as the cache commands run them. */
static int removal(struct ms_store *st, bool prune, const char *rev, bool dry_run,
                   struct ms_cache_removal *r)
{
	struct ms_error err;

	ms_error_clear(&err);
	memset(r, 0, sizeof(*r));
	r->rev = rev;
	r->dry_run = dry_run;
	return prune ? st->ops->prune_partials(st, r, &err) : st->ops->remove(st, r, &err);
}

/* ---- ModelScope's cache ---- */

static void test_ms_cache(const char *root)
{
	const struct ms_hub *hub = ms_hub_find("modelscope");
	struct ms_repo repo = {.type = MS_REPO_MODEL, .id = "o/m.v1", .owner = "o", .name = "m.v1"};
	struct ms_listing l = {.revision = xstrdup("master"), .commit = xstrdup(C1)};
	const char *contents[] = {"hello", "0123456789"};
	struct ms_store *st = ms_store_ms_new(root, &repo, "master");
	struct ms_cache_stat cs;
	struct ms_cache_items items;
	struct ms_cache_removal r;
	struct walked w;
	int fd;

	unit_add_file(&l, "dir/w.txt", "hello", false);
	unit_add_file(&l, "big.bin", "0123456789", false);
	CHECK(unit_fetch(st, &l, contents) == 0);
	st->ops->free(st);
	st = ms_store_ms_new(root, &repo, "master");

	w = walk(hub->cache_walk, root);
	CHECK(w.n == 1);
	CHECK_STR(w.ids[0], "model:o/m.v1");

	/* two files of 5 and 10 bytes, the listing recorded: complete */
	CHECK(stat_of(st, &cs) == 0);
	CHECK(cs.files == 2 && cs.size == 15 && cs.nrevs == 1 && cs.npartials == 0);
	CHECK(cs.revs[0].files == 2 && cs.revs[0].size == 15);
	CHECK(cs.revs[0].listed && cs.revs[0].complete && !cs.incomplete);
	CHECK(cs.state_size > 0); /* the listing mscli recorded */
	ms_cache_stat_release(&cs);

	/* a partial of 7 bytes where downloads leave them */
	put_at(root, "models/._____temp/o/m.v1/next.bin", "partial");
	CHECK(stat_of(st, &cs) == 0);
	CHECK(cs.files == 2 && cs.size == 15 && cs.npartials == 1 && cs.partial_size == 7);
	CHECK(cs.incomplete);
	ms_cache_stat_release(&cs);

	/* what verify hashes: each file with the recorded digest; a stray file is unexpected */
	put_at(root, "models/o/m___v1/stray.txt", "?");
	CHECK(list(st, NULL, &items) == 0);
	CHECK(items.n == 3 && count_items(&items, MS_ITEM_FILE) == 2);
	CHECK(count_items(&items, MS_ITEM_UNEXPECTED) == 1);
	CHECK(item_of(&items, "dir/w.txt") && item_of(&items, "dir/w.txt")->size == 5 &&
	      !strcmp(item_of(&items, "dir/w.txt")->digest, l.files[0].digest));
	CHECK(item_of(&items, "stray.txt") &&
	      item_of(&items, "stray.txt")->kind == MS_ITEM_UNEXPECTED);
	ms_cache_items_release(&items);
	CHECK(list(st, "v9", &items) == MS_EOFFLINE); /* another revision than the folder's */
	ms_cache_items_release(&items);

	/* prune: busy while a download holds the repo; dry run keeps; then the partial goes */
	fd = hold(root, ".lock/o___m.v1");
	CHECK(removal(st, true, NULL, false, &r) == 0 && r.busy && r.count == 0);
	ms_lock_release(fd);
	CHECK(exists(root, "models/._____temp/o/m.v1/next.bin"));
	CHECK(removal(st, true, NULL, true, &r) == 0 && r.count == 1 && r.freed == 7);
	CHECK(exists(root, "models/._____temp/o/m.v1/next.bin"));
	CHECK(removal(st, true, NULL, false, &r) == 0 && r.count == 1 && r.freed == 7);
	CHECK(!exists(root, "models/._____temp/o/m.v1"));
	CHECK(exists(root, "models/o/m___v1/dir/w.txt") && exists(root, "models/o/m___v1/.msc"));

	/* rm: not a revision it holds; a dry run; then the link, the folder and the records */
	CHECK(removal(st, false, "v9", false, &r) == MS_EOFFLINE && r.count == 0);
	CHECK(removal(st, false, NULL, true, &r) == 0 && r.count == 3 && r.freed >= 16);
	CHECK(exists(root, "models/o/m.v1") && exists(root, "models/o/m___v1/big.bin"));
	CHECK(removal(st, false, NULL, false, &r) == 0 && r.count == 3 && r.freed >= 16);
	CHECK(!exists(root, "models/o/m.v1") && !exists(root, "models/o/m___v1"));
	CHECK(!exists(root, ".mscli/models/o/m.v1"));
	CHECK(stat_of(st, &cs) == MS_EOFFLINE);
	ms_cache_stat_release(&cs);
	CHECK(walk(hub->cache_walk, root).n == 0);
	st->ops->free(st);
	ms_listing_release(&l);
}

/* ---- Hugging Face's cache ---- */

static struct ms_store *hf_fetch(const char *root, const struct ms_repo *repo, const char *rev,
                                 const char *commit, const char *const *paths,
                                 const char *const *contents, size_t n, struct ms_listing *l)
{
	struct ms_store *st = ms_store_hf_new(root, repo, rev, commit);

	memset(l, 0, sizeof(*l));
	l->revision = xstrdup(rev);
	l->commit = xstrdup(commit);
	for (size_t i = 0; i < n; i++)
		unit_add_file(l, paths[i], contents[i], true);
	CHECK(unit_fetch(st, l, contents) == 0);
	st->ops->free(st);
	return ms_store_hf_new(root, repo, rev, NULL);
}

static void test_hf_cache(const char *root)
{
	const struct ms_hub *hub = ms_hub_find("hf");
	struct ms_repo repo = {.type = MS_REPO_DATASET, .id = "o/d", .owner = "o", .name = "d"};
	const char *p1[] = {"dir/w.txt"}, *c1[] = {"hello"};
	const char *p2[] = {"b.txt", "dir/w.txt"}, *c2[] = {"bye", "hello"};
	struct ms_listing l1, l2;
	struct ms_store *st;
	struct ms_cache_stat cs;
	struct ms_cache_items items;
	struct ms_cache_removal r;
	const struct ms_cache_rev *rev;
	char *own;
	int fd;

	/* main at C1 with w.txt; v2 at C2 with b.txt and the same w.txt (one blob for both) */
	st = hf_fetch(root, &repo, "main", C1, p1, c1, 1, &l1);
	st->ops->free(st);
	st = hf_fetch(root, &repo, "v2", C2, p2, c2, 2, &l2);
	CHECK_STR(walk(hub->cache_walk, root).ids[0], "dataset:o/d");
	CHECK(walk(hub->cache_walk, root).n == 1);

	CHECK(stat_of(st, &cs) == 0);
	CHECK(cs.nrevs == 2 && cs.files == 2 && cs.size == 8 && !cs.incomplete);
	CHECK((rev = ms_cache_stat_find(&cs, "main")) && !strcmp(rev->name, C1) &&
	      rev->files == 1 && rev->size == 5 && rev->listed && rev->complete);
	CHECK((rev = ms_cache_stat_find(&cs, "v2")) && !strcmp(rev->name, C2) && rev->files == 2 &&
	      rev->size == 8);
	ms_cache_stat_release(&cs);

	/* a partial (11 bytes) and its resume state (4 bytes) */
	put_at(root, "datasets--o--d/blobs/feed.incomplete", "01234567890");
	put_at(root, ".locks/datasets--o--d/feed" MS_HF_RESUME_SUFFIX, "skip");
	CHECK(stat_of(st, &cs) == 0);
	CHECK(cs.files == 2 && cs.size == 8 && cs.npartials == 1 && cs.partial_size == 15);
	CHECK(cs.incomplete);
	ms_cache_stat_release(&cs);

	/* each blob once, with the snapshots that use it; digests from the trees */
	CHECK(list(st, NULL, &items) == 0);
	CHECK(items.n == 2 && count_items(&items, MS_ITEM_FILE) == 2);
	CHECK(item_of(&items, "dir/w.txt") && item_of(&items, "dir/w.txt")->users == 2 &&
	      !strcmp(item_of(&items, "dir/w.txt")->digest, l1.files[0].digest));
	CHECK(item_of(&items, "b.txt") && item_of(&items, "b.txt")->users == 1 &&
	      item_of(&items, "b.txt")->size == 3);
	ms_cache_items_release(&items);
	CHECK(list(st, "main", &items) == 0 && items.n == 1);
	ms_cache_items_release(&items);
	CHECK(list(st, "v3", &items) == MS_EOFFLINE);
	ms_cache_items_release(&items);

	/* prune: busy while the blob's lock is held, then the partial and its state go */
	fd = hold(root, ".locks/datasets--o--d/feed.lock");
	CHECK(removal(st, true, NULL, false, &r) == 0 && r.busy && r.count == 0);
	ms_lock_release(fd);
	CHECK(exists(root, "datasets--o--d/blobs/feed.incomplete"));
	CHECK(removal(st, true, NULL, false, &r) == 0 && r.count == 1 && r.freed == 15);
	CHECK(!exists(root, "datasets--o--d/blobs/feed.incomplete"));
	CHECK(!exists(root, ".locks/datasets--o--d/feed" MS_HF_RESUME_SUFFIX));

	/* rm v2: its snapshot, ref, tree and own blob (it has no .no_exist); w.txt's blob stays
	 * for main */
	own = xasprintf("datasets--o--d/blobs/%s", l2.files[0].digest);
	CHECK(exists(root, own));
	CHECK(removal(st, false, "v2", true, &r) == 0 && r.count == 4);
	CHECK(exists(root, "datasets--o--d/snapshots/" C2) && exists(root, own));
	CHECK(removal(st, false, "v2", false, &r) == 0 && r.count == 4 && r.freed >= 3 + 40);
	CHECK(!exists(root, "datasets--o--d/snapshots/" C2) && !exists(root, own));
	CHECK(!exists(root, "datasets--o--d/refs/v2") &&
	      !exists(root, "datasets--o--d/trees/" C2 ".json"));
	CHECK(exists(root, "datasets--o--d/snapshots/" C1 "/dir/w.txt"));
	CHECK(stat_of(st, &cs) == 0 && cs.nrevs == 1 && cs.files == 1 && cs.size == 5);
	ms_cache_stat_release(&cs);

	/* rm of the repo: all of it */
	CHECK(removal(st, false, NULL, false, &r) == 0 && r.count == 1);
	CHECK(!exists(root, "datasets--o--d"));
	CHECK(stat_of(st, &cs) == MS_EOFFLINE);
	ms_cache_stat_release(&cs);
	CHECK(walk(hub->cache_walk, root).n == 0);
	free(own);
	st->ops->free(st);
	ms_listing_release(&l1);
	ms_listing_release(&l2);
}

/* ---- modelscope_hub's layout ---- */

static void test_mshub(const char *root)
{
	const struct ms_cache_layout *layout = ms_hub_find("modelscope")->cache_layouts[0];
	struct ms_repo repo = {.type = MS_REPO_MODEL, .id = "o/n", .owner = "o", .name = "n"};
	struct ms_store *st;
	struct ms_cache_stat cs;
	struct ms_cache_items items;
	struct ms_cache_removal r;
	const struct ms_cache_rev *rev;
	struct walked w;
	int fd;

	CHECK_STR(layout->name, "modelscope_hub");
	put_at(root, "models/o--n/snapshots/master/a.txt", "12345");
	put_at(root, "models/o--n/snapshots/master/sub/b.bin", "xy");
	put_at(root, "models/o--n/snapshots/master/c.bin.incomplete", "ppp");
	put_at(root, "models/o--n/snapshots/master/d.bin_0_1048575", "rrrr");
	put_at(root, "models/o--n/snapshots/v1/a.txt", "123");
	put_at(root, ".lock/model_o___n_a_txt.lock", "");
	put_at(root, "models/not-a-repo/x", "x"); /* no "--": not a repo folder */
	put_at(root, "models/p--q/README", "x");  /* no snapshots/: not one either */
	st = layout->store(root, &repo);

	w = walk(layout->walk, root);
	CHECK(w.n == 1);
	CHECK_STR(w.ids[0], "model:o/n");

	/* no hashes, no listing: only partials make a revision incomplete */
	CHECK(stat_of(st, &cs) == 0);
	CHECK(cs.nrevs == 2 && cs.files == 3 && cs.size == 10);
	CHECK(cs.npartials == 2 && cs.partial_size == 7 && cs.incomplete);
	CHECK((rev = ms_cache_stat_find(&cs, "master")) && rev->files == 2 && rev->size == 7 &&
	      !rev->complete && !rev->listed);
	CHECK((rev = ms_cache_stat_find(&cs, "v1")) && rev->files == 1 && rev->size == 3 &&
	      rev->complete);
	ms_cache_stat_release(&cs);

	CHECK(list(st, NULL, &items) == 0 && items.n == 3 &&
	      count_items(&items, MS_ITEM_FILE) == 3);
	CHECK(item_of(&items, "sub/b.bin") && item_of(&items, "sub/b.bin")->algo == MS_HASH_NONE);
	ms_cache_items_release(&items);
	CHECK(list(st, "v1", &items) == 0 && items.n == 1 && item_of(&items, "a.txt"));
	ms_cache_items_release(&items);
	CHECK(list(st, "v2", &items) == MS_EOFFLINE);
	ms_cache_items_release(&items);

	/* prune: the partial whose file a download locks stays; the other goes */
	fd = hold(root, ".lock/model_o___n_c_bin.lock");
	CHECK(removal(st, true, NULL, false, &r) == 0 && r.busy && r.count == 1 && r.freed == 4);
	CHECK(exists(root, "models/o--n/snapshots/master/c.bin.incomplete"));
	CHECK(!exists(root, "models/o--n/snapshots/master/d.bin_0_1048575"));
	ms_lock_release(fd);
	CHECK(removal(st, true, NULL, false, &r) == 0 && !r.busy && r.count == 1 && r.freed == 3);
	CHECK(!exists(root, "models/o--n/snapshots/master/c.bin.incomplete"));
	CHECK(exists(root, "models/o--n/snapshots/master/a.txt"));

	/* rm: one revision, then the last one takes the repo and its lock files */
	CHECK(removal(st, false, "v2", false, &r) == MS_EOFFLINE);
	CHECK(removal(st, false, "v1", false, &r) == 0 && r.count == 1 && r.freed >= 3);
	CHECK(!exists(root, "models/o--n/snapshots/v1"));
	CHECK(exists(root, "models/o--n/snapshots/master/a.txt"));
	CHECK(removal(st, false, "master", false, &r) == 0 && r.count == 1 && r.freed >= 7);
	CHECK(!exists(root, "models/o--n") && !exists(root, ".lock/model_o___n_a_txt.lock"));
	CHECK(exists(root, "models/p--q/README"));
	CHECK(walk(layout->walk, root).n == 0);
	st->ops->free(st);
}

/* A --local-dir is no cache: the cache commands have nothing to ask of its store. */
static void test_localdir_has_no_cache_ops(const char *dir)
{
	struct ms_repo repo = {.type = MS_REPO_MODEL, .id = "o/n", .owner = "o", .name = "n"};
	struct ms_store *stores[] = {ms_store_localdir_new(dir, &repo, "main", C1),
	                             ms_store_localdir_ms_new(dir, &repo, "master", NULL)};

	for (size_t i = 0; i < 2; i++) {
		const struct ms_store_ops *o = stores[i]->ops;

		CHECK(!o->stat && !o->check_list && !o->remove && !o->prune_partials);
		stores[i]->ops->free(stores[i]);
	}
}

void test_store_cache(void)
{
	char tmpl[] = "/tmp/mscli-unit-cache-XXXXXX", *root = mkdtemp(tmpl), *sub;
	struct ms_error err;

	if (!root) {
		CHECK(root != NULL);
		return;
	}
	sub = ms_path_join(root, "ms");
	test_ms_cache(sub);
	free(sub);
	sub = ms_path_join(root, "hf");
	test_hf_cache(sub);
	free(sub);
	sub = ms_path_join(root, "mshub");
	test_mshub(sub);
	free(sub);
	test_localdir_has_no_cache_ops(root);
	ms_remove_tree(root, &err);
}
