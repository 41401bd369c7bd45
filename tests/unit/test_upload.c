/*
 * The pure parts of uploads and logins: what is never published, where
 * PATH_IN_REPO points, the folder walk (skip rules, symlinks), ModelScope's
 * LFS rule, the commit bodies of both hubs as sent, the streamed body's
 * refusal of a changed file, the hashing pool, base64 and INI sections.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/base64.h"
#include "mscli/fs.h"
#include "mscli/hashpool.h"
#include "mscli/hub-hf.h"
#include "mscli/hub-modelscope.h"
#include "mscli/ini.h"
#include "mscli/upload.h"
#include "unit.h"

static void put(const char *dir, const char *rel, const char *content)
{
	char *path = ms_path_join(dir, rel), *slash = strrchr(path, '/');
	struct ms_error err;

	*slash = '\0';
	ms_mkdirs(path, 0755, &err);
	*slash = '/';
	ms_write_file_atomic(path, content, strlen(content), 0644, &err);
	free(path);
}

static void test_never_publish(void)
{
	static const char *const never[] = {".git/HEAD",
	                                    "a/.git/config",
	                                    ".cache/huggingface/download/x.metadata",
	                                    "sub/.cache/huggingface/x",
	                                    ".cache/modelscope/listing-master.json",
	                                    "sub/.cache/modelscope/download/a.metadata",
	                                    "._____temp/w.bin",
	                                    "m/._____temp/p",
	                                    ".msc",
	                                    "x/.mv",
	                                    ".mdl",
	                                    ".mscli/listing-master.json",
	                                    ".ms_upload_cache",
	                                    "blobs/abc.mscli.incomplete",
	                                    ".locks/m/abc.mscli-resume"};
	static const char *const fine[] = {"README.md",
	                                   ".gitattributes",
	                                   ".gitignore",
	                                   "git/x",
	                                   "a.git",
	                                   ".cache/other/x",
	                                   ".cache",
	                                   "x.msc",
	                                   "._____tempx",
	                                   "mscli/x",
	                                   ".github/workflows/ci.yml"};

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		CHECK(ms_upload_never_publish(never[i]));
		if (!ms_upload_never_publish(never[i]))
			fprintf(stderr, "  published: %s\n", never[i]);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		CHECK(!ms_upload_never_publish(fine[i]));
		if (ms_upload_never_publish(fine[i]))
			fprintf(stderr, "  skipped: %s\n", fine[i]);
	}
}

static void dest_is(const char *given, const char *want)
{
	struct ms_error err;
	char *out = NULL;

	CHECK(ms_upload_dest(given, &out, &err) == 0);
	CHECK_STR(out, want);
	free(out);
}

static void test_dest(void)
{
	struct ms_error err;
	char *out = NULL;

	dest_is(NULL, "");
	dest_is(".", "");
	dest_is("./", "");
	dest_is("weights", "weights");
	dest_is("./a//b/./c/", "a/b/c");
	CHECK(ms_upload_dest("/abs", &out, &err) == MS_EUSAGE && !out);
	CHECK(strstr(err.msg, "absolute") != NULL);
	CHECK(ms_upload_dest("a/../b", &out, &err) == MS_EUSAGE && !out);
	CHECK(ms_upload_dest("..", &out, &err) == MS_EUSAGE);
	CHECK(ms_upload_dest("x/.git/y", &out, &err) == MS_EUSAGE);
	dest_is("a..b/.gitx", "a..b/.gitx");
}

static void test_walk(void)
{
	char tmpl[] = "/tmp/mscli-unit-walk-XXXXXX", *root = mkdtemp(tmpl), *src, *link, *out;
	struct ms_filter filter = {0};
	struct ms_upfile *files = NULL;
	struct ms_error err;
	size_t n = 0;

	if (!root)
		return;
	src = ms_path_join(root, "src");
	put(src, "b.txt", "b");
	put(src, "a/c.bin", "c");
	put(src, ".git/HEAD", "ref");
	put(src, ".msc", "x");
	put(src, "skip.log", "log");
	put(root, "outside.txt", "secret");
	link = ms_path_join(src, "alias.txt");
	CHECK(symlink("b.txt", link) == 0);
	free(link);
	link = ms_path_join(src, "dirlink");
	CHECK(symlink("a", link) == 0); /* the same folder twice: walked once */
	free(link);
	ms_filter_add(&filter, false, "*.log");
	CHECK(ms_upload_walk(src, "w", &filter, &files, &n, NULL, &err) == 0);
	CHECK_U64(n, 3);
	if (n == 3) {
		/* sorted by repo path; the link's own name, its target's bytes */
		CHECK_STR(files[0].path, "w/a/c.bin");
		CHECK_STR(files[1].path, "w/alias.txt");
		CHECK_STR(files[2].path, "w/b.txt");
		CHECK_U64(files[1].size, 1);
	}
	ms_upfiles_free(files, n);

	/* one file: its name, whatever the skip rules say */
	link = ms_path_join(src, ".msc");
	CHECK(ms_upload_walk(link, "", NULL, &files, &n, NULL, &err) == 0 && n == 1);
	CHECK(n == 1 && !strcmp(files[0].path, ".msc"));
	ms_upfiles_free(files, n);
	CHECK(ms_upload_walk(link, "x/y", NULL, &files, &n, NULL, &err) == 0 && n == 1);
	CHECK(n == 1 && !strcmp(files[0].path, "x/y"));
	ms_upfiles_free(files, n);
	free(link);

	/* a link out of the folder is refused by name */
	out = ms_path_join(root, "outside.txt");
	link = ms_path_join(src, "a/leak");
	CHECK(symlink(out, link) == 0);
	CHECK(ms_upload_walk(src, "", NULL, &files, &n, NULL, &err) == MS_EUSAGE);
	CHECK(strstr(err.msg, "a/leak") && strstr(err.msg, "outside"));
	CHECK(files == NULL && n == 0);
	unlink(link);
	CHECK(symlink("/nonexistent/x", link) == 0);
	CHECK(ms_upload_walk(src, "", NULL, &files, &n, NULL, &err) == MS_EUSAGE);
	CHECK(strstr(err.msg, "broken") != NULL);
	free(link);
	free(out);
	CHECK(ms_upload_walk("/nonexistent/mscli", "", NULL, &files, &n, NULL, &err) == MS_EUSAGE);
	ms_filter_release(&filter);
	free(src);
	ms_remove_tree(root, &err);
}

static void test_modelscope_lfs(void)
{
	CHECK(modelscope_is_lfs("w/model.safetensors", 10, false));
	CHECK(modelscope_is_lfs("x.PT", 10, false)); /* modelscope_hub lower-cases */
	CHECK(!modelscope_is_lfs("config.json", 10, false));
	CHECK(modelscope_is_lfs("config.json", (1u << 20) + 1, false)); /* over 1 MiB */
	CHECK(!modelscope_is_lfs("config.json", 1u << 20, false));      /* not at 1 MiB */
	CHECK(!modelscope_is_lfs("train.jsonl", 10, false));
	CHECK(modelscope_is_lfs("train.jsonl", 10, true)); /* a dataset suffix */
	CHECK(modelscope_is_lfs("a/b.mp4", 10, true) && !modelscope_is_lfs("a/b.mp4", 10, false));
	CHECK(!modelscope_is_lfs(".bin", 10, false)); /* a dot-file has no suffix */
	CHECK(!modelscope_is_lfs("dir.bin/readme", 10, false));
}

/* The whole body, as it would be sent. */
static char *drain(struct ms_body *b, size_t step, bool *aborted)
{
	struct ms_buf out = MS_BUF_INIT;
	char *buf = xmalloc(step);
	size_t got;

	*aborted = false;
	ms_buf_adds(&out, "");
	while ((got = ms_body_read(b, buf, step)) != 0) {
		if (got == SIZE_MAX) {
			*aborted = true;
			break;
		}
		ms_buf_add(&out, buf, got);
	}
	free(buf);
	return ms_buf_detach(&out);
}

static void test_commit_bodies(void)
{
	char tmpl[] = "/tmp/mscli-unit-body-XXXXXX", *dir = mkdtemp(tmpl), *text, *bin;
	struct ms_upfile reg = {0}, lfs = {0};
	struct ms_upfile *v[] = {&reg, &lfs};
	struct ms_commit c = {
	        .branch = "main", .parent = "abc", .message = "say \"hi\"\n", .files = v, .n = 2};
	struct ms_body b;
	struct ms_error err;
	bool aborted;
	char *got;

	if (!dir)
		return;
	put(dir, "r.txt", "hello");
	text = ms_path_join(dir, "r.txt");
	bin = ms_path_join(dir, "w.bin");
	reg = (struct ms_upfile){
	        .local = text, .path = "d/r.txt", .size = 5, .algo = MS_HASH_GITSHA1};
	/* git hash-object of "hello" */
	strcpy(reg.oid, "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0");
	lfs = (struct ms_upfile){
	        .local = bin, .path = "w.bin", .size = 7, .lfs = true, .algo = MS_HASH_SHA256};
	strcpy(lfs.oid, "aa");

	/* Hugging Face: NDJSON, header first (hf-protocol.md §4.5) */
	ms_body_init(&b);
	hf_commit_body(&c, &b);
	got = drain(&b, 7, &aborted); /* small reads: every boundary is crossed */
	CHECK(!aborted);
	CHECK_STR(got, "{\"key\":\"header\",\"value\":{\"summary\":\"say \\\"hi\\\"\\n\","
	               "\"description\":\"\",\"parentCommit\":\"abc\"}}\n"
	               "{\"key\":\"file\",\"value\":{\"content\":\"aGVsbG8=\",\"path\":\"d/r.txt\","
	               "\"encoding\":\"base64\"}}\n"
	               "{\"key\":\"lfsFile\",\"value\":{\"path\":\"w.bin\",\"algo\":\"sha256\","
	               "\"oid\":\"aa\",\"size\":7}}\n");
	CHECK_U64(b.size, strlen(got)); /* the Content-Length sent before the body */
	free(got);
	ms_body_release(&b);

	/* ModelScope: one JSON object with its actions (modelscope-protocol.md §2.16) */
	reg.algo = MS_HASH_SHA256;
	strcpy(reg.oid, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	ms_body_init(&b);
	modelscope_commit_body(&c, &b);
	got = drain(&b, 4096, &aborted);
	CHECK(!aborted);
	CHECK_STR(got, "{\"commit_message\":\"say \\\"hi\\\"\\n\",\"actions\":["
	               "{\"action\":\"create\",\"path\":\"d/r.txt\",\"type\":\"normal\",\"size\":5,"
	               "\"sha256\":\"\",\"content\":\"aGVsbG8=\",\"encoding\":\"base64\"},"
	               "{\"action\":\"create\",\"path\":\"w.bin\",\"type\":\"lfs\",\"size\":7,"
	               "\"sha256\":\"aa\",\"content\":\"\",\"encoding\":\"\"}]}");
	CHECK_U64(b.size, strlen(got));
	free(got);
	ms_body_release(&b);

	/* a file that changed since it was hashed aborts the request */
	put(dir, "r.txt", "HELLO");
	ms_body_init(&b);
	modelscope_commit_body(&c, &b);
	got = drain(&b, 4096, &aborted);
	CHECK(aborted && strstr(b.err.msg, "changed") != NULL);
	free(got);
	ms_body_release(&b);
	put(dir, "r.txt", "hell");
	ms_body_init(&b);
	modelscope_commit_body(&c, &b);
	got = drain(&b, 4096, &aborted);
	CHECK(aborted && strstr(b.err.msg, "shorter") != NULL);
	free(got);
	ms_body_release(&b);

	free(text);
	free(bin);
	ms_remove_tree(dir, &err);
}

static void test_preupload_body(void)
{
	char tmpl[] = "/tmp/mscli-unit-pre-XXXXXX", *dir = mkdtemp(tmpl);
	struct ms_upfile f = {0};
	struct ms_error err;
	char *body;

	if (!dir)
		return;
	put(dir, "a.txt", "hi");
	f.local = ms_path_join(dir, "a.txt");
	f.path = "x/a.txt";
	f.size = 2;
	body = hf_preupload_body(&f, 1, "*.log\n", &err);
	CHECK_STR(body, "{\"files\":[{\"path\":\"x/a.txt\",\"sample\":\"aGk=\",\"size\":2}],"
	                "\"gitIgnore\":\"*.log\\n\"}");
	free(body);
	free(f.local);
	ms_remove_tree(dir, &err);
}

static void test_hashpool(void)
{
	char tmpl[] = "/tmp/mscli-unit-pool-XXXXXX", *dir = mkdtemp(tmpl);
	struct ms_hash_item items[3] = {0};
	struct ms_hashpool_opts o = {.threads = 2, .block = 3};
	struct ms_error err;

	if (!dir)
		return;
	put(dir, "a", "hello");
	put(dir, "b", "");
	items[0] = (struct ms_hash_item){.path = "",
	                                 .size = 5,
	                                 .algos = MS_HASHES(MS_HASH_SHA256) |
	                                          MS_HASHES(MS_HASH_GITSHA1)};
	items[0].path = ms_path_join(dir, "a");
	items[1] = (struct ms_hash_item){.size = 0, .algos = MS_HASHES(MS_HASH_GITSHA1)};
	items[1].path = ms_path_join(dir, "b");
	CHECK(ms_hashpool_run(items, 2, &o, &err) == 0);
	CHECK_STR(items[0].sha256,
	          "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	CHECK_STR(items[0].gitsha1, "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0");
	CHECK_STR(items[1].gitsha1, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	CHECK(items[1].sha256[0] == '\0');
	/* a file whose size is not the listed one, a missing file */
	items[0].size = 4;
	items[2] = (struct ms_hash_item){
	        .path = "/nonexistent/mscli", .size = 1, .algos = MS_HASHES(MS_HASH_SHA256)};
	CHECK(ms_hashpool_run(items, 1, &o, &err) == MS_EFAIL && strstr(err.msg, "changed"));
	CHECK(ms_hashpool_run(items + 2, 1, &o, &err) == MS_EUSAGE);
	CHECK(items[2].status == MS_EUSAGE);
	free((char *)items[0].path);
	free((char *)items[1].path);
	ms_remove_tree(dir, &err);
}

static void test_base64(void)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_adds(&b, "");
	ms_base64_encode("", 0, &b);
	ms_base64_encode("f", 1, &b);
	ms_buf_addch(&b, ' ');
	ms_base64_encode("fo", 2, &b);
	ms_buf_addch(&b, ' ');
	ms_base64_encode("foobar", 6, &b);
	ms_buf_addch(&b, ' ');
	ms_base64_encode("\xff\xfe\x00", 3, &b);
	CHECK_STR(b.data, "Zg== Zm8= Zm9vYmFy //4A");
	CHECK_U64(ms_base64_len(0), 0);
	CHECK_U64(ms_base64_len(4), 8);
	ms_buf_release(&b);
	CHECK(ms_base64_decode("Zm9vYmE=", 8, &b) == 0 && b.len == 5 &&
	      !memcmp(b.data, "fooba", 5));
	ms_buf_release(&b);
	CHECK(ms_base64_decode("Zm9v!", 5, &b) == -1);
	ms_buf_release(&b);
}

static void test_ini(void)
{
	static const char text[] = "; a comment\n[zeta]\nhf_token = z\n\n[alpha]\nhf_token=a\n"
	                           "refresh_token = r\nexpires_at = 1\n";
	struct ms_ini ini = {0};
	struct ms_buf out = MS_BUF_INIT;
	char *v;

	ms_ini_parse(text, sizeof(text) - 1, &ini);
	CHECK_U64(ini.n, 2);
	v = ms_ini_value(ms_ini_find(&ini, "alpha"), "HF_TOKEN");
	CHECK_STR(v, "a");
	free(v);
	CHECK(ms_ini_value(ms_ini_find(&ini, "alpha"), "nope") == NULL);
	ms_ini_set(&ini, "mine", "hf_token = m\n");
	ms_ini_set(&ini, "zeta", "hf_token = z2\n");
	ms_ini_remove(&ini, "nothing");
	ms_ini_write(&ini, &out);
	CHECK_STR(out.data, "[alpha]\nhf_token=a\nrefresh_token = r\nexpires_at = 1\n\n"
	                    "[mine]\nhf_token = m\n\n[zeta]\nhf_token = z2\n\n");
	ms_buf_release(&out);
	ms_ini_remove(&ini, "alpha");
	ms_ini_remove(&ini, "mine");
	ms_ini_remove(&ini, "zeta");
	CHECK_U64(ini.n, 0);
	ms_ini_release(&ini);
}

static void test_accounts(void)
{
	char *orgs[] = {"acme"};
	struct ms_account a = {.name = "alice", .orgs = orgs, .norgs = 1, .orgs_known = true};

	CHECK(ms_account_owns(&a, "alice") && ms_account_owns(&a, "acme"));
	CHECK(!ms_account_owns(&a, "bob"));
	a.orgs_known = false; /* the hub did not say: the hub decides */
	CHECK(ms_account_owns(&a, "bob"));
}

void test_upload(void)
{
	test_never_publish();
	test_dest();
	test_walk();
	test_modelscope_lfs();
	test_commit_bodies();
	test_preupload_body();
	test_hashpool();
	test_base64();
	test_ini();
	test_accounts();
}
