/*
 * Uploads to ModelScope without git (modelscope-protocol.md §2.15, §2.16):
 * create the repo (a model from JSON, a dataset from a multipart form), the
 * LFS batch (64 objects a call), then the commit with its actions: LFS files
 * by sha256, the others inline in base64.  Which files are LFS is the
 * client's call, made as the official clients make it.  The blob PUTs are
 * the engine's: unlike both official clients, mscli sends neither the token
 * nor the m_session_id cookie to a storage host on another origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hashpool.h"
#include "mscli/hub-modelscope.h"
#include "mscli/json.h"
#include "mscli/log.h"
#include "mscli/parse.h"

#define LFS_THRESHOLD (1u << 20) /* UPLOAD_LFS_ENFORCE_THRESHOLD */

/* modelscope_hub's MODEL_LFS_SUFFIX and DATASET_LFS_SUFFIX (constants.py) */
static const char *const model_suffixes[] = {
        ".7z",      ".arrow",   ".bin",    ".bz2",     ".ckpt", ".ftz", ".gz",   ".h5",
        ".joblib",  ".mlmodel", ".model",  ".msgpack", ".npy",  ".npz", ".onnx", ".ot",
        ".parquet", ".pb",      ".pickle", ".pkl",     ".pt",   ".pth", ".rar",  ".safetensors",
        ".tar",     ".tflite",  ".tgz",    ".wasm",    ".xz",   ".zip", ".zst",  NULL};
static const char *const dataset_suffixes[] = {
        ".7z",   ".aac",     ".arrow", ".audio", ".bmp",  ".bin",     ".bz2",  ".flac",   ".ftz",
        ".gif",  ".gz",      ".h5",    ".jack",  ".jpeg", ".jpg",     ".png",  ".jsonl",  ".joblib",
        ".lz4",  ".msgpack", ".npy",   ".npz",   ".ot",   ".parquet", ".pb",   ".pickle", ".pcm",
        ".pkl",  ".raw",     ".rar",   ".sam",   ".tar",  ".tgz",     ".wasm", ".wav",    ".webm",
        ".webp", ".zip",     ".zst",   ".tiff",  ".mp3",  ".mp4",     ".ogg",  NULL};

bool modelscope_is_lfs(const char *path, uint64_t size, bool dataset)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');

	if (size > LFS_THRESHOLD)
		return true;
	/* Path(p).suffix: ".bashrc" has none, "a." has none */
	if (!dot || dot == base || !dot[1])
		return false;
	for (const char *const *s = dataset ? dataset_suffixes : model_suffixes; *s; s++)
		if (!strcasecmp(dot, *s)) /* modelscope_hub lower-cases the suffix */
			return true;
	return false;
}

/* ---- the repo and its branch ---- */

/* "exists" as both clients read it (§1.5, §2.15): a code, or words in the message. */
static bool says_exists(const cJSON *j)
{
	static const char *const words[] = {"exist",        "already",    "已存在",
	                                    "已被注册",     "名称不可用", "can not be used",
	                                    "not available"};
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "Code");
	const char *msg = ms_json_string(j, "Message");
	double c = cJSON_IsNumber(code) ? code->valuedouble : 0;

	if (c == 10010101001.0 || c == 10020101001.0 || c == 10010202004.0)
		return true;
	for (size_t i = 0; msg && i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

/* A dataset is created from a multipart form (§2.15). */
static char *form_body(const struct ms_repo *repo, int visibility, const char *boundary)
{
	struct ms_buf b = MS_BUF_INIT;
	const char *names[] = {"Owner", "Name", "Visibility", "License"};
	char vis[8];
	const char *values[] = {repo->owner, repo->name, vis, "Apache License 2.0"};

	snprintf(vis, sizeof(vis), "%d", visibility);
	for (size_t i = 0; i < 4; i++)
		ms_buf_addf(&b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
		            boundary, names[i], values[i]);
	ms_buf_addf(&b, "--%s--\r\n", boundary);
	return ms_buf_detach(&b);
}

int modelscope_repo_create(struct ms_session *s, const struct ms_repo *repo, bool private,
                           bool *created, struct ms_error *err)
{
	bool dataset = repo->type == MS_REPO_DATASET;
	char *url = xasprintf("%s/api/v1/%s", s->endpoint, modelscope_type_segment(repo->type));
	char *what = xasprintf("creating %s %s", ms_repo_type_name(repo->type), repo->id);
	int visibility = private ? 1 : 5; /* 1 private, 5 public */
	char boundary[33], *type = NULL, *body;
	struct ms_http_request req = {.method = "POST", .url = url, .what = what};
	cJSON *j = NULL;
	long status = 0;
	int ret;

	if (dataset) {
		ms_random_hex(boundary);
		body = form_body(repo, visibility, boundary);
		type = xasprintf("multipart/form-data; boundary=%s", boundary);
	} else {
		cJSON *o = cJSON_CreateObject();
		char *p;

		cJSON_AddStringToObject(o, "Path", repo->owner);
		cJSON_AddStringToObject(o, "Name", repo->name);
		cJSON_AddNumberToObject(o, "Visibility", visibility);
		cJSON_AddStringToObject(o, "License", "Apache License 2.0");
		p = cJSON_PrintUnformatted(o);
		body = xstrdup(p);
		cJSON_free(p);
		cJSON_Delete(o);
	}
	req.body = body;
	req.body_len = strlen(body);
	req.content_type = type ? type : "application/json";
	ret = modelscope_request_json(s, &req, &status, &j, err);
	*created = !ret;
	if (ret && status == 400 && j && says_exists(j)) { /* never re-scoped */
		ms_error_clear(err);
		ret = 0;
	}
	cJSON_Delete(j);
	free(body);
	free(type);
	free(url);
	free(what);
	return ret;
}

static const cJSON *find_named(const cJSON *map, const char *kind, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(map, kind))
	{
		const char *r = ms_json_string(e, "Revision");

		if (r && !strcmp(r, name))
			return e;
	}
	return NULL;
}

int modelscope_branch_head(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                           bool create, char **head, bool *created, struct ms_error *err)
{
	const cJSON *map = NULL, *b;
	cJSON *root = NULL;
	int ret = modelscope_revision_map(s, repo, &root, &map, err);

	(void)create;
	*head = NULL;
	*created = false;
	if (ret)
		goto out;
	if ((b = find_named(map, "Branches", branch)) != NULL) {
		const char *id = ms_json_string(b, "CommitId");

		if (id && ms_is_commit_id(id))
			*head = xstrdup(id);
	} else if (find_named(map, "Tags", branch)) {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "'%s' of %s is a tag: ModelScope commits only to branches",
		                   branch, repo->id);
	} else {
		/* neither client can create a branch, and no API is known to */
		ret = ms_error_set(err, MS_ENOTFOUND,
		                   "%s has no branch '%s', and ModelScope's API cannot create one: "
		                   "create it on the web site, or upload to 'master'",
		                   repo->id, branch);
	}
out:
	cJSON_Delete(root);
	return ret;
}

/* ---- the plan: client-side modes, the branch's digests ---- */

/* Every file, LFS or inline, is named by its SHA-256 (§2.16). */
unsigned modelscope_upload_digests(const struct ms_repo *repo, const struct ms_upfile *f)
{
	(void)repo;
	(void)f;
	return MS_HASHES(MS_HASH_SHA256);
}

int modelscope_upload_plan(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                           struct ms_upfile *files, size_t n, struct ms_error *err)
{
	struct ms_listing l = {0};
	int ret = s->hub->list(s, repo, branch, NULL, &l, err);

	for (size_t i = 0; !ret && i < n; i++) {
		struct ms_upfile *f = &files[i];
		const struct ms_file *have = ms_listing_find(&l, f->path);

		f->lfs = modelscope_is_lfs(f->path, f->size, repo->type == MS_REPO_DATASET);
		f->algo = MS_HASH_SHA256;
		f->remote[0] = '\0';
		if (have && have->algo == MS_HASH_SHA256 && have->size == f->size)
			snprintf(f->remote, sizeof(f->remote), "%s", have->digest);
	}
	ms_listing_release(&l);
	return ret;
}

/* ---- LFS ---- */

int modelscope_lfs_batch(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                         struct ms_upfile **files, size_t n, struct ms_error *err)
{
	char *url = xasprintf("%s/api/v1/repos/%s/%s/info/lfs/objects/batch", s->endpoint,
	                      modelscope_type_segment(repo->type), repo->id);
	cJSON *body = ms_lfs_batch_request(files, n), *j = NULL;
	struct ms_http_request req = {.method = "POST",
	                              .url = url,
	                              .what = "the LFS batch",
	                              .content_type = "application/json"};
	const cJSON *o, *data;
	char *text;
	long status;
	int ret;

	(void)branch;
	text = cJSON_PrintUnformatted(body);
	req.body = text;
	req.body_len = strlen(text);
	ret = modelscope_request_json(s, &req, &status, &j, err);
	data = cJSON_GetObjectItemCaseSensitive(j, "Data");
	for (size_t i = 0; !ret && i < n; i++) {
		cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(data, "objects"))
		{
			const cJSON *up = cJSON_GetObjectItemCaseSensitive(
			        cJSON_GetObjectItemCaseSensitive(o, "actions"), "upload");
			const char *oid = ms_json_string(o, "oid"),
			           *href = ms_json_string(up, "href");

			if (!oid || strcmp(oid, files[i]->oid))
				continue;
			/* with an href it must be sent; without, the hub has it (any repo's) */
			if (href) {
				ms_upload_target_free(files[i]->put);
				files[i]->put = xcalloc(1, sizeof(*files[i]->put));
				files[i]->put->href = xstrdup(href);
			}
			break;
		}
	}
	cJSON_Delete(j);
	cJSON_Delete(body);
	cJSON_free(text);
	free(url);
	return ret;
}

/* The storage answers nothing (a presigned URL) or ModelScope's envelope (§2.16 step 4). */
int modelscope_lfs_finish(struct ms_session *s, const struct ms_repo *repo, struct ms_upfile *f,
                          struct ms_error *err)
{
	const struct ms_buf *a = &f->put->answer;
	cJSON *j;
	int ret = 0;

	(void)s;
	(void)repo;
	if (!a->len || !(j = cJSON_ParseWithLength(a->data, a->len)))
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(j, "Code")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "Code");
		bool ok = (cJSON_IsNumber(code) && code->valueint == 200) ||
		          (cJSON_IsString(code) && !strcmp(code->valuestring, "200"));

		if (!ok)
			ret = ms_error_set(err, MS_EFAIL, "the hub refuses '%s': %s", f->path,
			                   ms_json_string(j, "Message")
			                           ? ms_json_string(j, "Message")
			                           : "no message");
	}
	cJSON_Delete(j);
	return ret;
}

/* ---- the commit ---- */

void modelscope_commit_body(const struct ms_commit *c, struct ms_body *body)
{
	ms_body_text(body, "{\"commit_message\":");
	ms_body_json(body, c->message);
	ms_body_text(body, ",\"actions\":[");
	for (size_t i = 0; i < c->n; i++) {
		const struct ms_upfile *f = c->files[i];
		char mid[160];

		ms_body_text(body, i ? ",{\"action\":\"create\",\"path\":"
		                     : "{\"action\":\"create\",\"path\":");
		ms_body_json(body, f->path);
		snprintf(mid, sizeof(mid), ",\"type\":\"%s\",\"size\":%llu,\"sha256\":\"%s\"",
		         f->lfs ? "lfs" : "normal", (unsigned long long)f->size,
		         f->lfs ? f->oid : "");
		ms_body_text(body, mid);
		if (f->lfs) {
			ms_body_text(body, ",\"content\":\"\",\"encoding\":\"\"}");
		} else {
			ms_body_text(body, ",\"content\":\"");
			ms_body_file_base64(body, f->local, f->size, f->algo, f->oid);
			ms_body_text(body, "\",\"encoding\":\"base64\"}");
		}
	}
	ms_body_text(body, "]}");
}

int modelscope_commit(struct ms_session *s, const struct ms_repo *repo, const struct ms_commit *c,
                      struct ms_commit_result *out, struct ms_error *err)
{
	char *q = ms_url_quote_path(c->branch, true);
	char *url = xasprintf("%s/api/v1/repos/%s/%s/commit/%s", s->endpoint,
	                      modelscope_type_segment(repo->type), repo->id, q);
	char *what = xasprintf("committing to '%s' of %s", c->branch, repo->id);
	struct ms_http_request req = {.url = url, .content_type = "application/json", .what = what};
	struct ms_body body;
	const char *oid;
	cJSON *j = NULL;
	int ret;

	ms_body_init(&body);
	modelscope_commit_body(c, &body);
	ret = ms_session_post_body(s, &req, &body, modelscope_request_json, &j, err);
	if (!ret) {
		oid = ms_json_string(cJSON_GetObjectItemCaseSensitive(j, "Data"), "oid");
		out->id = oid ? xstrdup(oid) : NULL;
		out->url = modelscope_commit_url(s, repo, c->branch, oid);
	}
	cJSON_Delete(j);
	ms_body_release(&body);
	free(q);
	free(url);
	free(what);
	return ret;
}

char *modelscope_commit_url(struct ms_session *s, const struct ms_repo *repo, const char *branch,
                            const char *id)
{
	(void)branch;
	if (id)
		return xasprintf("%s/%s/%s/commit/%s", s->endpoint,
		                 modelscope_type_segment(repo->type), repo->id, id);
	return xasprintf("%s/%s/%s/files", s->endpoint, modelscope_type_segment(repo->type),
	                 repo->id);
}
