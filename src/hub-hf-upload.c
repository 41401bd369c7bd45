/*
 * Uploads to a Hugging Face hub, the LFS path every non-xet client takes
 * (hf-protocol.md §1.9, §4): create the repo and the branch, preupload (the
 * hub says lfs or regular, and the oid it has at each path), the git-lfs
 * batch (basic, or multipart with one URL per part and a completion call),
 * verify, then the NDJSON commit.  The PUTs themselves are the engine's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/base64.h"
#include "mscli/fs.h"
#include "mscli/hashpool.h"
#include "mscli/hub-hf.h"
#include "mscli/json.h"
#include "mscli/log.h"
#include "mscli/parse.h"

#define LFS_JSON      "application/vnd.git-lfs+json"
#define SAMPLE_BYTES  512 /* what preupload looks at to tell text from binary */
#define HF_HOME_URL   "https://huggingface.co"
#define PREUPLOAD_MAX 256
/* The largest regular git file the hub keeps (§4.1). */
#define HF_REGULAR_MAX (10ull << 20)

/* POST body to url; 0 with *out the JSON answer (any 2xx) and *status. */
static int post_json(struct ms_session *s, const char *url, const char *body, const char *type,
                     const char *what, long *status, cJSON **out, struct ms_error *err)
{
	struct ms_http_request req = {.method = "POST",
	                              .url = url,
	                              .body = body,
	                              .body_len = strlen(body),
	                              .content_type = type ? type : "application/json",
	                              .accept = type,
	                              .what = what};

	return hf_request_json(s, &req, status, out, err);
}

int hf_repo_create(struct ms_session *s, const struct ms_repo *repo, bool private, bool *created,
                   struct ms_error *err)
{
	char *url = xasprintf("%s/api/repos/create", s->endpoint);
	char *what = xasprintf("creating %s %s", ms_repo_type_name(repo->type), repo->id);
	cJSON *body = cJSON_CreateObject(), *j = NULL;
	char *text;
	long status = 0;
	int ret;

	cJSON_AddStringToObject(body, "name", repo->name);
	if (repo->owner)
		cJSON_AddStringToObject(body, "organization", repo->owner);
	cJSON_AddStringToObject(body, "type", ms_repo_type_name(repo->type));
	cJSON_AddBoolToObject(body, "private", private);
	text = cJSON_PrintUnformatted(body);
	ret = post_json(s, url, text, NULL, what, &status, &j, err);
	*created = !ret;
	if (ret && status == 409) { /* it exists: never re-scoped */
		ms_error_clear(err);
		ret = 0;
	}
	cJSON_Delete(j);
	cJSON_Delete(body);
	cJSON_free(text);
	free(url);
	free(what);
	return ret;
}

int hf_branch_head(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                   bool create, char **head, bool *created, struct ms_error *err)
{
	char *q, *url, *what;
	cJSON *j = NULL;
	long status = 0;
	int ret;

	*head = NULL;
	*created = false;
	if (ms_is_commit_id(branch))
		return ms_error_set(err, MS_EUSAGE, "--revision %s is a commit: name a branch",
		                    branch);
	ret = s->hub->resolve(s, repo, branch, head, err);
	if (ret != MS_ENOTFOUND || !create)
		return ret;
	/* hf upload --revision B creates B from the default branch (§4.0) */
	ms_error_clear(err);
	q = ms_url_quote_path(branch, false);
	url = xasprintf("%s/api/%s/%s/branch/%s", s->endpoint, hf_api_type(repo->type), repo->id,
	                q);
	what = xasprintf("creating the branch '%s' of %s", branch, repo->id);
	ret = post_json(s, url, "{}", NULL, what, &status, &j, err);
	if (ret && status == 409) { /* made meanwhile */
		ms_error_clear(err);
		ret = 0;
	}
	*created = !ret && status != 409;
	if (!ret)
		ret = s->hub->resolve(s, repo, branch, head, err);
	cJSON_Delete(j);
	free(q);
	free(url);
	free(what);
	return ret;
}

/* ---- preupload ---- */

char *hf_preupload_body(struct ms_upfile *files, size_t n, const char *gitignore,
                        struct ms_error *err)
{
	cJSON *body = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(body, "files");
	struct ms_buf b64 = MS_BUF_INIT;
	char *text = NULL;
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		unsigned char sample[SAMPLE_BYTES];
		ssize_t got = 0;
		int fd = open(files[i].local, O_RDONLY | O_CLOEXEC);
		cJSON *o;

		if (fd < 0 || (got = read(fd, sample, sizeof(sample))) < 0)
			ret = ms_error_errno(err, errno, "cannot read", files[i].local);
		if (fd >= 0)
			close(fd);
		b64.len = 0;
		ms_buf_adds(&b64, "");
		ms_base64_encode(sample, got > 0 ? (size_t)got : 0, &b64);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", files[i].path);
		cJSON_AddStringToObject(o, "sample", b64.data);
		cJSON_AddNumberToObject(o, "size", (double)files[i].size);
		cJSON_AddItemToArray(arr, o);
	}
	/* the .gitignore this commit brings decides what the hub ignores (§4.1) */
	if (gitignore)
		cJSON_AddStringToObject(body, "gitIgnore", gitignore);
	if (!ret) {
		char *p = cJSON_PrintUnformatted(body);

		text = xstrdup(p);
		cJSON_free(p);
	}
	cJSON_Delete(body);
	ms_buf_release(&b64);
	return text;
}

static void plan_entry(struct ms_upfile *f, const cJSON *e)
{
	const char *mode = ms_json_string(e, "uploadMode"), *oid = ms_json_string(e, "oid");

	/* an empty file is regular whatever the hub says: S3 refuses empty PUTs (§4.1) */
	f->lfs = mode && !strcmp(mode, "lfs") && f->size > 0;
	f->algo = f->lfs ? MS_HASH_SHA256 : MS_HASH_GITSHA1;
	f->ignored = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "shouldIgnore"));
	f->remote[0] = '\0';
	/* an oid of the other kind (the file changed mode) matches nothing: it is changed */
	if (oid && strlen(oid) == ms_hash_hexlen(f->algo)) {
		snprintf(f->remote, sizeof(f->remote), "%s", oid);
		ms_lowercase(f->remote);
	}
}

/* One preupload call: at most PREUPLOAD_MAX files (huggingface_hub's chunks, §4.0). */
static int preupload(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                     struct ms_upfile *files, size_t n, const char *gitignore, struct ms_error *err)
{
	char *q = ms_url_quote_path(branch, false);
	char *url = xasprintf("%s/api/%s/%s/preupload/%s", s->endpoint, hf_api_type(repo->type),
	                      repo->id, q);
	char *what = xasprintf("preupload to %s", repo->id);
	char *body = hf_preupload_body(files, n, gitignore, err);
	cJSON *j = NULL;
	const cJSON *e;
	long status;
	int ret = body ? post_json(s, url, body, NULL, what, &status, &j, err) : err->code;

	for (size_t i = 0; !ret && i < n; i++) {
		bool found = false;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "files"))
		{
			const char *p = ms_json_string(e, "path");

			if (p && !strcmp(p, files[i].path)) {
				plan_entry(&files[i], e);
				found = true;
				break;
			}
		}
		if (!found)
			ret = ms_error_set(err, MS_EPROTO,
			                   "%s: %s: the answer does not mention '%s'", what, url,
			                   files[i].path);
	}
	cJSON_Delete(j);
	free(body);
	free(q);
	free(url);
	free(what);
	return ret;
}

int hf_upload_plan(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                   struct ms_upfile *files, size_t n, struct ms_error *err)
{
	char *gitignore = NULL;
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(files[i].path, ".gitignore") &&
		    ms_read_file(files[i].local, 1u << 20, &gitignore, NULL, err) != 0)
			return err->code;
	for (size_t i = 0; i < n && !ret; i += PREUPLOAD_MAX)
		ret = preupload(s, repo, branch, files + i,
		                n - i < PREUPLOAD_MAX ? n - i : PREUPLOAD_MAX, gitignore, err);
	free(gitignore);
	return ret;
}

/* The hub keeps no regular git file of 10 MiB or more (§4.1): such a file is an LFS
 * object, named by its SHA-256, whatever the preupload says of its neighbours. */
unsigned hf_upload_digests(const struct ms_repo *repo, const struct ms_upfile *f)
{
	(void)repo;
	return f->size >= HF_REGULAR_MAX ? MS_HASHES(MS_HASH_SHA256) : 0;
}

/* ---- LFS batch ---- */

/* huggingface_hub's fix_hf_endpoint_in_url: hrefs naming huggingface.co go to the mirror. */
static char *fix_endpoint(struct ms_session *s, const char *href)
{
	size_t n = strlen(HF_HOME_URL);

	if (!strncmp(href, HF_HOME_URL, n) && (href[n] == '/' || !href[n]) &&
	    strcmp(s->endpoint, HF_HOME_URL))
		return xasprintf("%s%s", s->endpoint, href + n);
	return xstrdup(href);
}

static int by_part_number(const void *a, const void *b)
{
	long x = strtol(((const cJSON *const *)a)[0]->string, NULL, 10);
	long y = strtol(((const cJSON *const *)b)[0]->string, NULL, 10);

	return (x > y) - (x < y);
}

/* header = {"chunk_size": "N", "00001": url, ...} (§4.4) */
static int multipart_target(struct ms_session *s, struct ms_upfile *f, const cJSON *header,
                            struct ms_upload_target *t, struct ms_error *err)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(header, "chunk_size"), *h;
	const cJSON **parts = xcalloc((size_t)cJSON_GetArraySize(header) + 1, sizeof(*parts));
	uint64_t chunk = 0;
	size_t n = 0;
	int ret = 0;

	if (cJSON_IsString(cs))
		ms_parse_u64(cs->valuestring, &chunk);
	else
		ms_json_u64(cs, &chunk);
	cJSON_ArrayForEach(h, header)
	{
		if (h->string && h->string[0] &&
		    strspn(h->string, "0123456789") == strlen(h->string))
			parts[n++] = h;
	}
	qsort(parts, n, sizeof(*parts), by_part_number);
	if (!chunk || n != (f->size + chunk - 1) / chunk) {
		ret = ms_error_set(err, MS_EPROTO,
		                   "the hub's multipart answer for '%s' does not add up: %zu parts "
		                   "of %llu bytes for %llu bytes",
		                   f->path, n, (unsigned long long)chunk,
		                   (unsigned long long)f->size);
		goto out;
	}
	t->chunk_size = chunk;
	t->nparts = n;
	t->part_urls = xcalloc(n + 1, sizeof(*t->part_urls));
	for (size_t i = 0; i < n && !ret; i++) {
		if (!cJSON_IsString(parts[i]))
			ret = ms_error_set(err, MS_EPROTO, "a part URL for '%s' is not a string",
			                   f->path);
		else
			t->part_urls[i] = fix_endpoint(s, parts[i]->valuestring);
	}
out:
	free(parts);
	return ret;
}

static int object_target(struct ms_session *s, struct ms_upfile *f, const cJSON *o,
                         struct ms_error *err)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *actions = cJSON_GetObjectItemCaseSensitive(o, "actions");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(actions, "upload");
	const cJSON *verify = cJSON_GetObjectItemCaseSensitive(actions, "verify");
	const cJSON *header = cJSON_GetObjectItemCaseSensitive(up, "header");
	const char *href = ms_json_string(up, "href");
	struct ms_upload_target *t;
	int ret = 0;

	if (error) {
		const char *msg = ms_json_string(error, "message");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");

		return ms_error_set(err, MS_EFAIL, "the hub refuses '%s': %s (LFS error %d)",
		                    f->path, msg ? msg : "no message",
		                    cJSON_IsNumber(code) ? code->valueint : 0);
	}
	if (!up)
		return 0; /* the hub has it */
	if (!href)
		return ms_error_set(err, MS_EPROTO, "the hub's batch answer for '%s' has no href",
		                    f->path);
	t = xcalloc(1, sizeof(*t));
	t->href = fix_endpoint(s, href);
	if (ms_json_string(verify, "href"))
		t->verify_href = fix_endpoint(s, ms_json_string(verify, "href"));
	if (cJSON_GetObjectItemCaseSensitive(header, "chunk_size"))
		ret = multipart_target(s, f, header, t, err);
	if (ret) {
		ms_upload_target_free(t);
		return ret;
	}
	ms_upload_target_free(f->put);
	f->put = t;
	return 0;
}

static char *batch_body(const char *branch, struct ms_upfile **files, size_t n)
{
	cJSON *body = ms_lfs_batch_request(files, n), *transfers, *ref;
	char *p, *text;

	transfers = cJSON_AddArrayToObject(body, "transfers");
	cJSON_AddItemToArray(transfers, cJSON_CreateString("basic"));
	cJSON_AddItemToArray(transfers, cJSON_CreateString("multipart"));
	cJSON_AddStringToObject(body, "hash_algo", "sha256");
	ref = cJSON_AddObjectToObject(body, "ref");
	cJSON_AddStringToObject(ref, "name", branch);
	p = cJSON_PrintUnformatted(body);
	text = xstrdup(p);
	cJSON_free(p);
	cJSON_Delete(body);
	return text;
}

int hf_lfs_batch(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                 struct ms_upfile **files, size_t n, struct ms_error *err)
{
	char *url = xasprintf("%s/%s%s.git/info/lfs/objects/batch", s->endpoint,
	                      hf_url_prefix(repo->type), repo->id);
	char *body = batch_body(branch, files, n);
	cJSON *j = NULL;
	const cJSON *o;
	long status;
	int ret = post_json(s, url, body, LFS_JSON, "the LFS batch", &status, &j, err);

	for (size_t i = 0; !ret && i < n; i++) {
		bool found = false;

		cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(j, "objects"))
		{
			const char *oid = ms_json_string(o, "oid");

			if (oid && !strcmp(oid, files[i]->oid)) {
				ret = object_target(s, files[i], o, err);
				found = true;
				break;
			}
		}
		if (!found) /* git-lfs: an object left out is one the server has */
			ms_verbose("LFS batch: %s (%s) is on the hub already", files[i]->path,
			           files[i]->oid);
	}
	cJSON_Delete(j);
	free(body);
	free(url);
	return ret;
}

/* ---- after the PUTs ---- */

static int complete_multipart(struct ms_session *s, struct ms_upfile *f, struct ms_error *err)
{
	struct ms_upload_target *t = f->put;
	cJSON *body = cJSON_CreateObject(), *parts, *j = NULL;
	struct ms_http_request req = {.method = "POST",
	                              .url = t->href,
	                              .content_type = LFS_JSON,
	                              .accept = LFS_JSON,
	                              .what = "completing a multipart upload",
	                              /* as huggingface_hub: the signed URL is the credential */
	                              .no_auth = true};
	char *text;
	long status;
	int ret = 0;

	cJSON_AddStringToObject(body, "oid", f->oid);
	parts = cJSON_AddArrayToObject(body, "parts");
	for (size_t i = 0; i < t->nparts && !ret; i++) {
		cJSON *p = cJSON_CreateObject();

		if (!t->etags || !t->etags[i] || !*t->etags[i])
			ret = ms_error_set(err, MS_EPROTO,
			                   "part %zu of '%s': the storage answered without an ETag",
			                   i + 1, f->path);
		cJSON_AddNumberToObject(p, "partNumber", (double)(i + 1));
		cJSON_AddStringToObject(p, "etag", t->etags && t->etags[i] ? t->etags[i] : "");
		cJSON_AddItemToArray(parts, p);
	}
	text = cJSON_PrintUnformatted(body);
	req.body = text;
	req.body_len = strlen(text);
	if (!ret)
		ret = hf_request_json(s, &req, &status, &j, err);
	cJSON_Delete(j);
	cJSON_Delete(body);
	cJSON_free(text);
	return ret;
}

int hf_lfs_finish(struct ms_session *s, const struct ms_repo *repo, struct ms_upfile *f,
                  struct ms_error *err)
{
	struct ms_upload_target *t = f->put;
	char *body;
	cJSON *j = NULL;
	long status;
	int ret = 0;

	(void)repo;
	if (t->nparts)
		ret = complete_multipart(s, f, err);
	if (ret || !t->verify_href)
		return ret;
	body = xasprintf("{\"oid\":\"%s\",\"size\":%llu}", f->oid, (unsigned long long)f->size);
	ret = post_json(s, t->verify_href, body, NULL, "verifying an LFS object", &status, &j, err);
	cJSON_Delete(j);
	free(body);
	return ret;
}

/* ---- the commit ---- */

void hf_commit_body(const struct ms_commit *c, struct ms_body *body)
{
	ms_body_text(body, "{\"key\":\"header\",\"value\":{\"summary\":");
	ms_body_json(body, c->message);
	ms_body_text(body, ",\"description\":\"\"");
	if (c->parent) {
		/* the commit fails (412) if the branch moved: a retry never commits twice */
		ms_body_text(body, ",\"parentCommit\":");
		ms_body_json(body, c->parent);
	}
	ms_body_text(body, "}}\n");
	for (size_t i = 0; i < c->n; i++) {
		const struct ms_upfile *f = c->files[i];
		char tail[128];

		if (f->lfs) {
			ms_body_text(body, "{\"key\":\"lfsFile\",\"value\":{\"path\":");
			ms_body_json(body, f->path);
			snprintf(tail, sizeof(tail),
			         ",\"algo\":\"sha256\",\"oid\":\"%s\",\"size\":%llu}}\n", f->oid,
			         (unsigned long long)f->size);
			ms_body_text(body, tail);
		} else {
			ms_body_text(body, "{\"key\":\"file\",\"value\":{\"content\":\"");
			ms_body_file_base64(body, f->local, f->size, f->algo, f->oid);
			ms_body_text(body, "\",\"path\":");
			ms_body_json(body, f->path);
			ms_body_text(body, ",\"encoding\":\"base64\"}}\n");
		}
	}
}

int hf_commit(struct ms_session *s, const struct ms_repo *repo, const struct ms_commit *c,
              struct ms_commit_result *out, struct ms_error *err)
{
	char *q = ms_url_quote_path(c->branch, false);
	char *url = xasprintf("%s/api/%s/%s/commit/%s", s->endpoint, hf_api_type(repo->type),
	                      repo->id, q);
	char *what = xasprintf("committing to '%s' of %s", c->branch, repo->id);
	struct ms_http_request req = {
	        .url = url, .content_type = "application/x-ndjson", .what = what};
	struct ms_body body;
	const char *oid, *curl;
	cJSON *j = NULL;
	int ret;

	ms_body_init(&body);
	hf_commit_body(c, &body);
	ret = ms_session_post_body(s, &req, &body, hf_request_json, &j, err);
	if (!ret) {
		oid = ms_json_string(j, "commitOid");
		curl = ms_json_string(j, "commitUrl");
		out->id = oid ? xstrdup(oid) : NULL;
		out->url = curl ? fix_endpoint(s, curl) : hf_commit_url(s, repo, c->branch, oid);
	}
	cJSON_Delete(j);
	ms_body_release(&body);
	free(q);
	free(url);
	free(what);
	return ret;
}

char *hf_commit_url(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                    const char *id)
{
	if (id)
		return xasprintf("%s/%s%s/commit/%s", s->endpoint, hf_url_prefix(repo->type),
		                 repo->id, id);
	return xasprintf("%s/%s%s/tree/%s", s->endpoint, hf_url_prefix(repo->type), repo->id,
	                 branch);
}
