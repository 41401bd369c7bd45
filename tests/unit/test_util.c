#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/hub.h"
#include "mscli/index.h"
#include "mscli/parse.h"
#include "mscli/redact.h"
#include "unit.h"

static const char *str_key(const void *base, size_t i)
{
	return ((char *const *)base)[i];
}

static void test_index(void)
{
	enum { N = 5000 };
	char **keys = xcalloc(N, sizeof(*keys));
	struct ms_index x = {0};
	size_t n = 0, miss = 0;

	/* grows while it is used, as a listing does while it is parsed */
	for (size_t i = 0; i < N; i++) {
		keys[i] = xasprintf("dir%zu/file-%zu.bin", (i % 4000) % 7, i % 4000);
		if (ms_index_find(&x, keys, n, str_key, keys[i]) == SIZE_MAX)
			miss++;
		n++;
	}
	CHECK(miss == 4000);
	for (size_t i = 0; i < N; i++) /* duplicates: the first one wins */
		miss += ms_index_find(&x, keys, n, str_key, keys[i]) != i % 4000;
	CHECK(miss == 4000);
	CHECK(ms_index_find(&x, keys, n, str_key, "nope") == SIZE_MAX);
	CHECK(ms_index_find(&x, keys, 3, str_key, keys[3]) == SIZE_MAX); /* reset to 3 items */
	CHECK(ms_index_find(&x, keys, 3, str_key, keys[2]) == 2);
	ms_index_release(&x);
	for (size_t i = 0; i < N; i++)
		free(keys[i]);
	free(keys);
}

static void test_temp_beside(void)
{
	char name[300], *t;

	t = ms_temp_beside("/a/b/c.json");
	CHECK(!strncmp(t, "/a/b/c.json.", 12) && strlen(t) == 12 + 8 + 4);
	CHECK(!strcmp(t + strlen(t) - 4, ".tmp"));
	free(t);
	t = ms_temp_beside("rel");
	CHECK(!strncmp(t, "rel.", 4) && !strchr(t, '/'));
	free(t);
	/* a 250-byte name: the temporary's name still fits in NAME_MAX */
	memset(name, 'n', 253);
	memcpy(name, "/d/", 3);
	name[253] = '\0';
	t = ms_temp_beside(name);
	CHECK(!strncmp(t, "/d/nnn", 6) && strlen(strrchr(t, '/') + 1) <= 255);
	free(t);
}

/* ms_absolute_path(in) is the working directory joined with rel ("" for itself) */
static void check_absolute(const char *in, const char *rel)
{
	char *cwd = getcwd(NULL, 0), *p = ms_absolute_path(in);
	char *want = *rel ? ms_path_join(cwd, rel) : xstrdup(cwd);

	CHECK_STR(p, want);
	free(p);
	free(want);
	free(cwd);
}

static void test_absolute_path(void)
{
	char *p = ms_absolute_path("/a/b/");

	CHECK_STR(p, "/a/b");
	free(p);
	check_absolute("./x/y/", "x/y");
	check_absolute(".", "");
	check_absolute("././/z", "z");
	check_absolute("../up", "../up");
}

/* The probe answers as stat(2) would, before and after what a pass does not see. */
static void test_dirprobe(void)
{
	char tmpl[] = "/tmp/mscli-unit-probe-XXXXXX", *d = mkdtemp(tmpl);
	char *sub, *file, *link, *missing, *other;
	struct ms_dirprobe p;
	struct stat st;
	FILE *f;

	CHECK(d != NULL);
	if (!d)
		return;
	sub = xasprintf("%s/a", d);
	file = xasprintf("%s/a/f", d);
	link = xasprintf("%s/a/l", d);
	missing = xasprintf("%s/gone/f", d);
	other = xasprintf("%s/a/g", d);
	CHECK(mkdir(sub, 0755) == 0);
	f = fopen(file, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("12345", f);
		fclose(f);
	}
	CHECK(symlink("f", link) == 0);
	ms_dirprobe_init(&p);
	CHECK(ms_dirprobe_stat(&p, file, false, &st) == 0 && st.st_size == 5);
	CHECK(ms_dirprobe_has_size(&p, file, 5));
	CHECK(!ms_dirprobe_has_size(&p, file, 4));
	/* the link: itself without follow, its target with */
	CHECK(ms_dirprobe_stat(&p, link, false, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(ms_dirprobe_has_size(&p, link, 5));
	CHECK(ms_dirprobe_stat(&p, other, false, &st) == -1 && errno == ENOENT);
	/* a directory that is not there answers for its files */
	CHECK(ms_dirprobe_stat(&p, missing, false, &st) == -1 && errno == ENOENT);
	CHECK(!ms_dirprobe_has_size(&p, missing, 0));
	/* a file where a directory should be */
	{
		char *under = xasprintf("%s/a/f/x", d);

		CHECK(ms_dirprobe_stat(&p, under, false, &st) == -1 && errno == ENOTDIR);
		free(under);
	}
	/* back to the first directory: opened again, and what appeared since is seen */
	f = fopen(other, "w");
	if (f)
		fclose(f);
	CHECK(ms_dirprobe_stat(&p, other, false, &st) == 0 && st.st_size == 0);
	/* no probe: the path itself */
	CHECK(ms_dirprobe_stat(NULL, file, true, &st) == 0 && st.st_size == 5);
	CHECK(ms_dirprobe_stat(NULL, missing, true, &st) == -1);
	ms_dirprobe_release(&p);
	CHECK(p.fd == -1 && p.dir == NULL);
	unlink(link);
	unlink(file);
	unlink(other);
	rmdir(sub);
	rmdir(d);
	free(sub);
	free(file);
	free(link);
	free(missing);
	free(other);
}

/* Ids differ call after call and thread after thread, without a system call each. */
static void *random_id(void *arg)
{
	ms_random_hex(arg);
	return NULL;
}

static void test_random_ids(void)
{
	char a[33], b[33], c[33];
	pthread_t t;
	double r = ms_random01();

	ms_random_hex(a);
	ms_random_hex(b);
	CHECK(strlen(a) == 32 && strspn(a, "0123456789abcdef") == 32);
	CHECK(strcmp(a, b) != 0);
	CHECK(pthread_create(&t, NULL, random_id, c) == 0 && pthread_join(t, NULL) == 0);
	CHECK(strlen(c) == 32 && strcmp(c, a) != 0 && strcmp(c, b) != 0);
	CHECK(r >= 0 && r < 1);
}

static void check_redacted(const char *in, const char *want)
{
	char *s = xstrdup(in);

	ms_redact_in_place(s);
	CHECK_STR(s, want);
	free(s);
}

static void test_redact(void)
{
	ms_redact_add("hf_secrettoken123");
	check_redacted("401 from https://h/api?x=1 with hf_secrettoken123 sent",
	               "401 from https://h/api?x=1 with *** sent");
	/* a presigned URL's signature and session token, never its other parameters */
	check_redacted("HTTP 500 from https://s3/o/k?X-Amz-Credential=AKIA%2F1&X-Amz-Date=20261204"
	               "&X-Amz-Signature=0123abcd&X-Amz-Security-Token=FwoGZX (retries exhausted)",
	               "HTTP 500 from https://s3/o/k?X-Amz-Credential=***&X-Amz-Date=20261204"
	               "&X-Amz-Signature=***&X-Amz-Security-Token=*** (retries exhausted)");
	check_redacted(
	        "'http://cdn/u/9?Expires=179&Signature=9be43488' and 'http://cdn/v?a&sig=ffff1'",
	        "'http://cdn/u/9?Expires=179&Signature=***' and 'http://cdn/v?a&sig=***'");
	/* a URL that ends the first half of "URL: reason" keeps the message's colon */
	check_redacted(
	        "uploading 'w': https://s/o?Expires=17&Signature=abcdef: the TLS certificate",
	        "uploading 'w': https://s/o?Expires=17&Signature=***: the TLS certificate");
	check_redacted("what? nothing=here, Signature=ab", "what? nothing=here, Signature=ab");
	check_redacted("?", "?");
	check_redacted("x?&&=&Signature=", "x?&&=&Signature=");
}

void test_util(void)
{
	uint64_t v;
	double d;
	char s[32];
	struct ms_listing l = {0}, back = {0};
	struct ms_file *f;
	char *json;

	CHECK(ms_parse_size("64M", &v) == 0 && v == 64u << 20);
	CHECK(ms_parse_size("1GiB", &v) == 0 && v == 1u << 30);
	CHECK(ms_parse_size("500MB", &v) == 0 && v == 500000000u);
	CHECK(ms_parse_size("123", &v) == 0 && v == 123);
	CHECK(ms_parse_size("1.5k", &v) == 0 && v == 1536);
	CHECK(ms_parse_size("12XB", &v) == -1);
	CHECK(ms_parse_size("-1", &v) == -1);
	{
		double dur;

		CHECK(ms_parse_duration("30d", &dur) == 0 && dur == 30 * 86400.0);
		CHECK(ms_parse_duration("12h", &dur) == 0 && dur == 12 * 3600.0);
		CHECK(ms_parse_duration("90m", &dur) == 0 && dur == 5400.0);
		CHECK(ms_parse_duration("2w", &dur) == 0 && dur == 14 * 86400.0);
		CHECK(ms_parse_duration("1.5d", &dur) == 0 && dur == 1.5 * 86400);
		CHECK(ms_parse_duration("1d12h", &dur) == 0 && dur == 36 * 3600.0);
		CHECK(ms_parse_duration("45", &dur) == 0 && dur == 45.0);
		CHECK(ms_parse_duration("0s", &dur) == 0 && dur == 0.0);
		CHECK(ms_parse_duration("", &dur) == -1);
		CHECK(ms_parse_duration("d", &dur) == -1);
		CHECK(ms_parse_duration("3y", &dur) == -1);
		CHECK(ms_parse_duration("-1d", &dur) == -1);
		CHECK(ms_parse_duration("5 d", &dur) == -1);
		CHECK(ms_parse_duration("1d5", &dur) == 0 && dur == 86405.0);
	}
	{
		char buf[32];

		ms_format_ago(5, buf, sizeof(buf));
		CHECK_STR(buf, "just now");
		ms_format_ago(120, buf, sizeof(buf));
		CHECK_STR(buf, "2 minutes ago");
		ms_format_ago(3 * 86400 + 5, buf, sizeof(buf));
		CHECK_STR(buf, "3 days ago");
		ms_format_ago(86400, buf, sizeof(buf));
		CHECK_STR(buf, "1 day ago");
		ms_format_ago(400 * 86400.0, buf, sizeof(buf));
		CHECK_STR(buf, "1 year ago");
	}
	test_index();
	test_absolute_path();
	test_temp_beside();
	CHECK(ms_parse_u64("42", &v) == 0 && v == 42);
	CHECK(ms_parse_u64("4x", &v) == -1);
	CHECK(ms_parse_u64("", &v) == -1);
	CHECK(ms_parse_seconds("0.05", &d) == 0 && d == 0.05);
	CHECK(ms_parse_seconds("nan", &d) == -1);
	{
		/* HF_HOME & co. as huggingface_hub reads them (expandvars, expanduser) */
		static const char *const cases[][2] = {
		        {"~/hf", "/home/u/hf"},
		        {"~", "/home/u"},
		        {"$MSCLI_T/x", "/t/x"},
		        {"${MSCLI_T}y", "/ty"},
		        {"$MSCLI_UNSET_VAR/z", "$MSCLI_UNSET_VAR/z"},
		        {"a$", "a$"},
		        {"${MSCLI_T", "${MSCLI_T"},
		        {"~user/x", "~user/x"},
		        {"/abs/~/x", "/abs/~/x"},
		};

		setenv("HOME", "/home/u", 1);
		setenv("MSCLI_T", "/t", 1);
		unsetenv("MSCLI_UNSET_VAR");
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *x = ms_expand_path(cases[i][0]);

			CHECK_STR(x, cases[i][1]);
			free(x);
		}
	}
	ms_format_size(1536, s, sizeof(s));
	CHECK_STR(s, "1.5 KiB");
	ms_format_size(12, s, sizeof(s));
	CHECK_STR(s, "12 B");

	/* the offline record survives a round trip, and bad paths in it are dropped */
	l.revision = xstrdup("master");
	l.created_at = 1726842501;
	f = ms_listing_add(&l);
	f->path = xstrdup("a/b.bin");
	f->size = 5;
	f->algo = MS_HASH_SHA256;
	strcpy(f->digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	f->revision = xstrdup("c0ffee");
	f = ms_listing_add(&l);
	f->path = xstrdup("../evil");
	json = ms_listing_to_json(&l);
	CHECK(ms_listing_from_json(json, strlen(json), &back) == 0);
	CHECK(back.n == 1);
	CHECK_STR(back.revision, "master");
	CHECK(back.created_at == 1726842501);
	if (back.n == 1) {
		CHECK_STR(back.files[0].path, "a/b.bin");
		CHECK(back.files[0].size == 5 && back.files[0].algo == MS_HASH_SHA256);
		CHECK_STR(back.files[0].digest, l.files[0].digest);
		CHECK_STR(back.files[0].revision, "c0ffee");
	}
	CHECK(ms_listing_from_json("{", 1, &back) == -1);
	free(json);
	/* written directly, the record has cJSON's bytes: a record an older mscli wrote
	 * through cJSON is not written again on the next warm run */
	{
		struct ms_listing all = {0};
		struct ms_file *g = ms_listing_add(&all);
		cJSON *doc;
		char *direct, *via;

		all.revision = xstrdup("v1 \"quoted\"");
		all.commit = xstrdup("0123abcd");
		all.created_at = 1726842501;
		g->path = xstrdup("dir/naïve \\ name\t\b\f\x01.bin");
		g->size = 5368709120ull; /* above INT_MAX: cJSON's %1.15g branch */
		g->algo = MS_HASH_GITSHA1;
		strcpy(g->digest, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
		g->etag = xstrdup("\"etag\"");
		g->lfs = true;
		g = ms_listing_add(&all);
		g->path = xstrdup("b");
		direct = ms_listing_to_json(&all);
		doc = cJSON_Parse(direct);
		via = doc ? cJSON_PrintUnformatted(doc) : NULL;
		CHECK(via != NULL);
		if (via)
			CHECK_STR(direct, via);
		cJSON_free(via);
		cJSON_Delete(doc);
		free(direct);
		ms_listing_release(&all);
	}
	ms_listing_release(&l);
	ms_listing_release(&back);
	test_redact();
	test_dirprobe();
	test_random_ids();
}
