/* The pure parts of the cache commands: bundle entry checks, symlink resolution, prune's
 * choice, revision lookup, parallel hashing. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/archive-manifest.h"
#include "mscli/archive.h"
#include "mscli/cache.h"
#include "mscli/hashfiles.h"
#include "unit.h"

static int check(const char *path, mode_t mode, const char *link, const char *hard)
{
	struct ms_bundle_entry e = {path, mode, link, hard, 10};
	const char *why = NULL;

	return ms_bundle_check_entry(&e, &why);
}

static void test_entries(void)
{
	CHECK(check("hf/models--a--b/blobs/x", S_IFREG | 0644, NULL, NULL) == 0);
	CHECK(check("hf/models--a--b/snapshots/c/f", S_IFLNK | 0777, "../../blobs/x", NULL) == 0);
	CHECK(check("hf/d", S_IFDIR | 0755, NULL, NULL) == 0);
	CHECK(check("/etc/passwd", S_IFREG | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/../../x", S_IFREG | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf//x", S_IFREG | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFREG | 0644, NULL, "hf/y") == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFCHR | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFBLK | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFIFO | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFSOCK | 0644, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFREG | S_ISUID | 0755, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFREG | S_ISGID | 0755, NULL, NULL) == MS_EUNSAFE);
	CHECK(check("hf/x", S_IFLNK | 0777, "", NULL) == MS_EUNSAFE);
	{
		char name[300], *deep = xcalloc(5000, 1);

		memset(name, 'n', 256); /* one over NAME_MAX */
		name[256] = '\0';
		CHECK(check(name, S_IFREG | 0644, NULL, NULL) == MS_EUNSAFE);
		name[255] = '\0';
		CHECK(check(name, S_IFREG | 0644, NULL, NULL) == 0);
		for (size_t i = 0; i < 2100; i++)
			strcat(deep, "a/");
		strcat(deep, "f");
		CHECK(check(deep, S_IFREG | 0644, NULL, NULL) == MS_EUNSAFE); /* over PATH_MAX */
		free(deep);
	}
}

static void check_link(const char *path, const char *target, const char *want)
{
	char *got = ms_bundle_resolve_link(path, target);

	if (want)
		CHECK_STR(got, want);
	else
		CHECK(got == NULL);
	free(got);
}

static void test_links(void)
{
	check_link("hf/models--a--b/snapshots/c/f", "../../blobs/x", "hf/models--a--b/blobs/x");
	check_link("hf/models--a--b/snapshots/c/d/f", "../../../blobs/x",
	           "hf/models--a--b/blobs/x");
	check_link("modelscope/models/o/n.1", "n___1", "modelscope/models/o/n___1");
	check_link("hf/a/l", "./b/./c", "hf/a/b/c");
	check_link("hf/a/l", "/etc/passwd", NULL);
	check_link("hf/a/l", "../../../etc", NULL);
	check_link("hf/a/l", "../..", NULL);
	check_link("hf/l", "..", NULL);
	check_link("hf/a/l", "", NULL);
	check_link("hf/a/l", "../../hf2/x",
	           "hf2/x"); /* still in the bundle: the repo check decides */
}

static void repo(struct ms_cache_list *l, const char *id, double used, uint64_t size)
{
	struct ms_cache_repo *r;

	ms_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->repo.hub = ms_hubs[0];
	r->repo.id = xstrdup(id);
	r->repo.name = xstrdup(id);
	r->stat.last_used = used;
	r->stat.size = size;
}

static void test_prune_select(void)
{
	struct ms_cache_list l = {0};
	struct ms_prune_opts o = {.now = 100 * 86400.0};
	bool sel[4], skip[4] = {false, false, false, false};
	uint64_t left;

	repo(&l, "a/old", 10 * 86400.0, 100);   /* 90 days unused */
	repo(&l, "b/mid", 80 * 86400.0, 200);   /* 20 days */
	repo(&l, "c/new", 99 * 86400.0, 300);   /* 1 day */
	repo(&l, "d/older", 50 * 86400.0, 400); /* 50 days */
	l.v[3].stat.partial_size = 50;          /* partials count too */
	o.older_than = 30 * 86400.0;
	left = ms_cache_prune_select(&l, &o, NULL, sel);
	CHECK(sel[0] && !sel[1] && !sel[2] && sel[3]);
	CHECK_U64(left, 500);
	/* LRU until it fits: oldest use first, nothing more than needed */
	o.older_than = 0;
	o.have_max_size = true;
	o.max_size = 600;
	left = ms_cache_prune_select(&l, &o, NULL, sel);
	CHECK(sel[0] && !sel[1] && !sel[2] && sel[3]);
	CHECK_U64(left, 500);
	o.max_size = 1000;
	left = ms_cache_prune_select(&l, &o, NULL, sel);
	CHECK(sel[0] && !sel[1] && !sel[2] && !sel[3]);
	CHECK_U64(left, 950);
	o.max_size = 2000;
	left = ms_cache_prune_select(&l, &o, NULL, sel);
	CHECK(!sel[0] && !sel[1] && !sel[2] && !sel[3]);
	CHECK_U64(left, 1050);
	/* a repo in use is skipped: the next least recently used goes instead */
	o.max_size = 1000;
	skip[0] = true;
	left = ms_cache_prune_select(&l, &o, skip, sel);
	CHECK(!sel[0] && !sel[1] && !sel[2] && sel[3]);
	CHECK_U64(left, 600);
	o.max_size = 0;
	left = ms_cache_prune_select(&l, &o, skip, sel);
	CHECK(!sel[0] && sel[1] && sel[2] && sel[3]);
	CHECK_U64(left, 100);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].repo.id);
		free(l.v[i].repo.name);
	}
	free(l.v);
}

static void test_stat_find(void)
{
	struct ms_cache_rev revs[2];
	char *refs0[] = {"main", "refs/pr/1"};
	struct ms_cache_stat s = {.revs = revs, .nrevs = 2};

	memset(revs, 0, sizeof(revs));
	revs[0].name = "1111111111111111111111111111111111111111";
	revs[0].refs = refs0;
	revs[0].nrefs = 2;
	revs[1].name = "1111111222222222222222222222222222222222";
	CHECK(ms_cache_stat_find(&s, "main") == &revs[0]);
	CHECK(ms_cache_stat_find(&s, "refs/pr/1") == &revs[0]);
	CHECK(ms_cache_stat_find(&s, revs[1].name) == &revs[1]);
	CHECK(ms_cache_stat_find(&s, "11111112") == &revs[1]);
	CHECK(ms_cache_stat_find(&s, "1111111") == NULL); /* ambiguous */
	CHECK(ms_cache_stat_find(&s, "111111") == NULL);  /* too short */
	CHECK(ms_cache_stat_find(&s, "v1") == NULL);
	CHECK(ms_cache_stat_find(&s, NULL) == NULL); /* two: which? */
	s.nrevs = 1;
	CHECK(ms_cache_stat_find(&s, NULL) == &revs[0]);
}

static void test_hash_files(void)
{
	char dir[] = "/tmp/mscli-unit-XXXXXX", *paths[6];
	struct ms_hashfile f[7];
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	memset(f, 0, sizeof(f));
	for (int i = 0; i < 6; i++) {
		paths[i] = xasprintf("%s/f%d", dir, i);
		fp = fopen(paths[i], "wb");
		for (int k = 0; k < i * 100000; k++)
			fputc('a' + k % 7, fp);
		fclose(fp);
		f[i].path = paths[i];
		f[i].algo = i % 2 ? MS_HASH_GITSHA1 : MS_HASH_SHA256;
	}
	f[6].path = "/nonexistent/file";
	f[6].algo = MS_HASH_SHA256;
	CHECK(ms_hash_files(f, 7, &(struct ms_hashfiles_opts){.threads = 3, .block = 4096}) == 0);
	for (int i = 0; i < 6; i++) {
		char hex[MS_HEX_MAX];

		CHECK(ms_hash_file(paths[i], f[i].algo, hex, NULL) == 0);
		CHECK_STR(f[i].hex, hex);
		CHECK(f[i].status == 0 && f[i].size == (uint64_t)i * 100000);
	}
	CHECK_STR(f[0].hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(f[6].status != 0 && f[6].errnum != 0);
	for (int i = 0; i < 6; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	rmdir(dir);
}

void test_cache(void)
{
	test_entries();
	test_links();
	test_prune_select();
	test_stat_find();
	test_hash_files();
}
