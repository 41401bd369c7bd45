/*
 * The stores on a temporary directory: what each layout writes for a
 * download (partial, install, index, refs), what it finds again (lookup,
 * offline listing), without any network.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/download.h"
#include "mscli/fs.h"
#include "mscli/hub.h"
#include "mscli/store.h"
#include "unit.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static bool file_is(const char *path, const char *content)
{
	char *data = NULL;
	size_t len = 0;
	bool same = ms_read_file(path, 1 << 20, &data, &len, NULL) == 0 && len == strlen(content) &&
	            !memcmp(data, content, len);

	free(data);
	return same;
}

void unit_put(const char *path, const char *content)
{
	struct ms_error err;

	ms_write_file_atomic(path, content, strlen(content), 0644, &err);
}

struct ms_file *unit_add_file(struct ms_listing *l, const char *path, const char *content,
                              bool git_sha1)
{
	struct ms_file *f = ms_listing_add(l);
	struct ms_hasher h = {0};
	size_t n = strlen(content);

	f->path = xstrdup(path);
	f->size = n;
	f->algo = git_sha1 ? MS_HASH_GITSHA1 : MS_HASH_SHA256;
	ms_hasher_init(&h, f->algo, n);
	ms_hasher_update(&h, content, n);
	ms_hasher_final(&h, f->digest);
	ms_hasher_release(&h);
	f->revision = xstrdup("c1");
	f->etag = xstrdup(f->digest);
	f->oid = git_sha1 ? xstrdup(f->digest) : NULL;
	return f;
}

/* One file "dir/w.txt" with content "hello", hashed as the hub would give it. */
static void one_file(struct ms_listing *l, const char *rev, bool git_sha1)
{
	l->revision = xstrdup(rev);
	l->commit = xstrdup(COMMIT);
	unit_add_file(l, "dir/w.txt", "hello", git_sha1);
}

/* One file of l into st as the download operation would: skipped when the store has it. */
static int fetch_one(struct ms_store *st, const struct ms_file *f, const char *content,
                     struct ms_error *err)
{
	char *part = NULL, *state = NULL;
	int lock_fd = -1, ret, got = 0;

	if (st->ops->lookup(st, f) == MS_FILE_CACHED)
		return 0;
	if ((ret = st->ops->prepare(st, f, &part, &state, err)))
		return ret;
	if (st->ops->acquire)
		got = st->ops->acquire(st, f, &lock_fd, err);
	CHECK(got == 0 || got == 2);
	/* 2: the blob is there already (another revision's): install only links it */
	if (got == 0)
		unit_put(part, content);
	ret = st->ops->install(st, f, part, err);
	if (st->ops->release)
		st->ops->release(st, f, lock_fd);
	CHECK(access(part, F_OK) != 0); /* the partial moved into place */
	free(part);
	free(state);
	return ret;
}

int unit_fetch(struct ms_store *st, const struct ms_listing *l, const char *const *contents)
{
	struct ms_error err;
	int ret;

	ms_error_clear(&err);
	if ((ret = st->ops->lock(st, &err)) || (ret = st->ops->begin(st, l, &err)))
		return ret;
	CHECK(st->ops->lookup(st, &l->files[0]) == MS_FILE_MISSING);
	for (size_t i = 0; i < l->n && !ret; i++)
		ret = fetch_one(st, &l->files[i], contents ? contents[i] : "hello", &err);
	return ret ? ret : st->ops->finish(st, &err);
}

static int fetch_into(struct ms_store *st, const struct ms_listing *l)
{
	return unit_fetch(st, l, NULL);
}

static void test_ms_store(const char *root)
{
	struct ms_repo repo = {.type = MS_REPO_MODEL, .id = "o/m.v1", .owner = "o", .name = "m.v1"};
	struct ms_listing l = {0}, off = {0};
	struct ms_store *st = ms_store_ms_new(root, &repo, "master");
	char path[PATH_MAX], target[PATH_MAX];
	struct ms_error err;
	bool complete;
	ssize_t n;

	one_file(&l, "master", false);
	CHECK(fetch_into(st, &l) == 0);
	snprintf(path, sizeof(path), "%s/models/o/m___v1/dir/w.txt", root);
	CHECK(file_is(path, "hello"));
	snprintf(path, sizeof(path), "%s/models/o/m___v1/.mdl", root);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s/models/o/m___v1/.msc", root);
	CHECK(access(path, F_OK) == 0);
	/* the dotted name links to its masked folder, as snapshot_download does */
	snprintf(path, sizeof(path), "%s/models/o/m.v1", root);
	n = readlink(path, target, sizeof(target) - 1);
	CHECK(n > 0 && (target[n] = '\0', !strcmp(target, "m___v1")));
	CHECK(st->ops->lookup(st, &l.files[0]) == MS_FILE_CACHED);
	st->ops->free(st);

	/* a new store on the same cache: found again, and offline it knows the listing */
	st = ms_store_ms_new(root, &repo, "master");
	CHECK(st->ops->lookup(st, &l.files[0]) == MS_FILE_CACHED);
	CHECK(st->ops->offline_listing(st, "master", &off, &complete, &err) == 0);
	CHECK(complete && off.n == 1 && !strcmp(off.files[0].path, "dir/w.txt"));
	CHECK(st->ops->reserved(st, ".msc") != NULL && st->ops->reserved(st, "x.msc") == NULL);
	st->ops->free(st);
	ms_listing_release(&off);
	ms_listing_release(&l);
}

static void test_hf_store(const char *root)
{
	struct ms_repo repo = {.type = MS_REPO_DATASET, .id = "o/d", .owner = "o", .name = "d"};
	struct ms_listing l = {0}, off = {0};
	struct ms_store *st;
	char path[PATH_MAX], target[PATH_MAX], *tmp;
	struct ms_error err;
	bool complete;
	ssize_t n;

	one_file(&l, "main", true);
	tmp = ms_hf_repo_folder(&repo);
	CHECK(!strcmp(tmp, "datasets--o--d"));
	free(tmp);
	st = ms_store_hf_new(root, &repo, "main", COMMIT);
	CHECK(fetch_into(st, &l) == 0);
	snprintf(path, sizeof(path), "%s/datasets--o--d/refs/main", root);
	CHECK(file_is(path, COMMIT)); /* no newline: huggingface_hub reads it raw */
	snprintf(path, sizeof(path), "%s/datasets--o--d/snapshots/%s/dir/w.txt", root, COMMIT);
	CHECK(file_is(path, "hello"));
	n = readlink(path, target, sizeof(target) - 1);
	CHECK(n > 0);
	if (n > 0) {
		target[n] = '\0';
		CHECK(!strncmp(target, "../../../blobs/", 15)); /* relative, one ".." per level */
	}
	snprintf(path, sizeof(path), "%s/datasets--o--d/trees/%s.json", root, COMMIT);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s/CACHEDIR.TAG", root);
	CHECK(access(path, F_OK) == 0);
	st->ops->no_exist(st, COMMIT, "missing/file.txt");
	snprintf(path, sizeof(path), "%s/datasets--o--d/.no_exist/%s/missing/file.txt", root,
	         COMMIT);
	CHECK(access(path, F_OK) == 0);
	st->ops->free(st);

	/* offline: refs/main -> the commit -> the tree record */
	st = ms_store_hf_new(root, &repo, "main", NULL);
	CHECK(st->ops->offline_listing(st, "main", &off, &complete, &err) == 0);
	CHECK(complete && off.n == 1 && off.commit && !strcmp(off.commit, COMMIT));
	CHECK(!strcmp(off.files[0].digest, l.files[0].digest));
	tmp = st->ops->result_path(st);
	snprintf(path, sizeof(path), "%s/datasets--o--d/snapshots/%s", root, COMMIT);
	CHECK_STR(tmp, path);
	free(tmp);
	st->ops->free(st);
	ms_listing_release(&off);
	ms_listing_release(&l);
}

/* The download operation's offline plan over what the HF store holds: no session used. */
static void test_offline_plan(const char *root)
{
	struct ms_repo repo = {.hub = ms_hub_find("hf"),
	                       .type = MS_REPO_DATASET,
	                       .id = "o/d",
	                       .owner = "o",
	                       .name = "d"};
	char *want[] = {"dir/w.txt"}, *absent[] = {"nope.bin"};
	struct ms_download_opts o = {.cache_root = root};
	struct ms_download d;
	struct ms_error err;

	ms_download_init(&d, NULL, &repo, "main", &o, NULL);
	CHECK(ms_download_plan_offline(&d, &err) == 0);
	CHECK(d.sel.n == 1 && d.cached[0] && d.complete_known && d.ncached == 1);
	ms_download_release(&d);
	o.files = want;
	o.nfiles = 1;
	ms_download_init(&d, NULL, &repo, "main", &o, NULL);
	CHECK(ms_download_plan_offline(&d, &err) == 0 && d.single_file);
	ms_download_release(&d);
	o.files = absent;
	ms_download_init(&d, NULL, &repo, "main", &o, NULL);
	CHECK(ms_download_plan_offline(&d, &err) == MS_EOFFLINE);
	CHECK(strstr(err.msg, "offline: dataset o/d at 'main' has no file 'nope.bin'") != NULL);
	ms_download_release(&d);
	ms_download_init(&d, NULL, &repo, "v2", &(struct ms_download_opts){.cache_root = root},
	                 NULL);
	CHECK(ms_download_plan_offline(&d, &err) == MS_EOFFLINE); /* a revision never fetched */
	ms_download_release(&d);
}

static void test_localdir_store(const char *dir)
{
	struct ms_repo repo = {.type = MS_REPO_MODEL, .id = "o/n", .owner = "o", .name = "n"};
	struct ms_listing l = {0};
	struct ms_store *st = ms_store_localdir_new(dir, &repo, "main", COMMIT);
	char path[PATH_MAX];
	struct timespec later[2] = {{.tv_sec = 4000000000}, {.tv_sec = 4000000000}};

	one_file(&l, "main", true);
	CHECK(fetch_into(st, &l) == 0);
	snprintf(path, sizeof(path), "%s/dir/w.txt", dir);
	CHECK(file_is(path, "hello"));
	CHECK(st->ops->lookup(st, &l.files[0]) == MS_FILE_CACHED);
	CHECK(st->ops->reserved(st, ".cache/huggingface/x") != NULL);
	/* a file newer than its metadata was edited by hand: no longer vouched for */
	utimensat(AT_FDCWD, path, later, 0);
	CHECK(st->ops->lookup(st, &l.files[0]) == MS_FILE_MISSING);
	snprintf(path, sizeof(path), "%s/.cache/huggingface/download/dir/w.txt.metadata", dir);
	CHECK(access(path, F_OK) == 0);
	st->ops->free(st);
	ms_listing_release(&l);
}

void test_store(void)
{
	char tmpl[] = "/tmp/mscli-unit-store-XXXXXX", *root = mkdtemp(tmpl), *sub;
	struct ms_error err;

	if (!root) {
		CHECK(root != NULL);
		return;
	}
	sub = ms_path_join(root, "ms");
	test_ms_store(sub);
	free(sub);
	sub = ms_path_join(root, "hf");
	test_hf_store(sub);
	test_offline_plan(sub);
	free(sub);
	sub = ms_path_join(root, "local");
	ms_mkdirs(sub, 0755, &err);
	test_localdir_store(sub);
	free(sub);
	ms_remove_tree(root, &err);
}
