/*
 * ModelScope's legacy REST API (/api/v1, PascalCase JSON), as read from the
 * official clients: modelscope-protocol.md §2.8 (model files), §2.11
 * (dataset tree, paged), §2.9/2.12 (file bytes), §2.5 (revisions); and the
 * OpenAPI's searches and repo metadata (§2.4, §2.14).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/env.h"
#include <curl/curl.h>

#include "mscli/clock.h"
#include "mscli/fs.h"
#include "mscli/hub-modelscope.h"
#include "mscli/hub.h"
#include "mscli/store-ms.h"
#include "mscli/store-mshub.h"
#include "mscli/store.h"
#include "mscli/json.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/strbuf.h"

#define MS_CN_ENDPOINT   "https://www.modelscope.cn"
#define MS_INTL_ENDPOINT "https://www.modelscope.ai"
#define DATASET_PAGE     200

const char *modelscope_type_segment(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets" : "models";
}

int modelscope_envelope_error(const cJSON *j, const char *what, const char *url,
                              struct ms_error *err)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "Code");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "Success");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "Message");
	const char *m = cJSON_IsString(msg) ? msg->valuestring : "no message";
	int c = cJSON_IsNumber(code) ? code->valueint : 200; /* cJSON saturates valueint */

	if (c == 200 && !cJSON_IsFalse(ok))
		return 0;
	if (c == 404)
		return ms_error_set(err, MS_ENOTFOUND, "%s: %s: %s", what, url, m);
	if (c == 401 || c == 403)
		return ms_error_set(err, MS_EAUTH, "%s: %s: %s (check --token)", what, url, m);
	return ms_error_set(err, MS_EFAIL, "%s: %s: the hub answered code %d: %s", what, url, c, m);
}

static int get_json(struct ms_session *s, const char *url, const char *what, cJSON **out,
                    struct ms_error *err)
{
	struct ms_http_request req = {.url = url, .what = what, .accept = "application/json"};
	struct ms_http_response resp = {0};
	int ret = ms_http_request(&s->http, &req, &resp, err);

	*out = NULL;
	if (ret)
		goto out;
	if (resp.status != 200) {
		ret = ms_http_status_error(&s->auth, &resp, what, err);
		goto out;
	}
	*out = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
	if (!*out) {
		ret = ms_error_set(err, MS_EPROTO, "%s: %s: the hub answered malformed JSON", what,
		                   url);
		goto out;
	}
	ret = modelscope_envelope_error(*out, what, url, err);
	if (ret) {
		cJSON_Delete(*out);
		*out = NULL;
	}
out:
	ms_http_response_release(&resp);
	return ret;
}

int modelscope_request_json(struct ms_session *s, struct ms_http_request *req, long *status,
                            cJSON **out, struct ms_error *err)
{
	struct ms_http_response resp = {0};
	int ret;

	*out = NULL;
	if (!req->accept)
		req->accept = "application/json";
	ret = ms_http_request(&s->http, req, &resp, err);
	*status = resp.status;
	if (!ret && resp.body.len)
		*out = cJSON_ParseWithLength(resp.body.data, resp.body.len);
	if (!ret && (resp.status < 200 || resp.status >= 300)) {
		/* the envelope's message says more than the status */
		if (!*out || !modelscope_envelope_error(*out, req->what, req->url, err))
			ret = ms_http_status_error(&s->auth, &resp, req->what, err);
		else if (resp.status == 401 || resp.status == 403)
			ret = err->code = MS_EAUTH;
		else
			ret = err->code;
		err->http_status = resp.status;
	} else if (!ret && !*out) {
		ret = ms_error_set(err, MS_EPROTO, "%s: %s: the hub answered malformed JSON",
		                   req->what, req->url);
	} else if (!ret) {
		ret = modelscope_envelope_error(*out, req->what, req->url, err);
	}
	ms_http_response_release(&resp);
	return ret;
}

/* One Data.Files[] entry; directories are skipped.  1 added, 0 skipped, <0 error. */
static int add_entry(struct ms_listing *l, const cJSON *e, const char *what, struct ms_error *err)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "Type");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "Path");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "Size");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(e, "Sha256");
	const cJSON *rev = cJSON_GetObjectItemCaseSensitive(e, "Revision");
	const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "IsLFS");
	struct ms_file *f;
	uint64_t sz;

	if (cJSON_IsString(type) && !strcmp(type->valuestring, "tree"))
		return 0;
	if (!cJSON_IsString(path) || !ms_json_u64(size, &sz))
		return ms_error_set(err, MS_EPROTO, "%s: a file entry has no valid Path or Size",
		                    what);
	if (ms_listing_find(l, path->valuestring))
		return 0; /* pages can overlap when the tree changes while we page */
	f = ms_listing_add(l);
	f->path = xstrdup(path->valuestring);
	f->size = sz;
	f->lfs = cJSON_IsTrue(lfs);
	if (cJSON_IsString(rev) && rev->valuestring[0])
		f->revision = xstrdup(rev->valuestring);
	if (cJSON_IsString(sha) && ms_hash_algo_for_hex(sha->valuestring) == MS_HASH_SHA256) {
		f->algo = MS_HASH_SHA256;
		strcpy(f->digest, sha->valuestring);
		ms_lowercase(f->digest);
	}
	return 1;
}

static int add_files(struct ms_listing *l, const cJSON *root, const char *what, size_t *count,
                     struct ms_error *err)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "Data");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(data, "Files");
	const cJSON *e;

	*count = 0;
	if (cJSON_IsNull(data) || !data || cJSON_IsNull(files) || !files)
		return 0; /* no files at all */
	if (!cJSON_IsArray(files))
		return ms_error_set(err, MS_EPROTO, "%s: Data.Files is not a list", what);
	cJSON_ArrayForEach(e, files)
	{
		int r = add_entry(l, e, what, err);

		if (r < 0)
			return r;
		(*count)++;
	}
	return 0;
}

static int list_model(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                      struct ms_listing *out, const char *what, struct ms_error *err)
{
	char *qrev = ms_url_quote_plus(rev);
	char *url = xasprintf("%s/api/v1/models/%s/repo/files?Revision=%s&Recursive=True",
	                      s->endpoint, repo->id, qrev);
	cJSON *j;
	size_t n;
	int ret = get_json(s, url, what, &j, err);

	if (!ret)
		ret = add_files(out, j, what, &n, err);
	cJSON_Delete(j);
	free(url);
	free(qrev);
	return ret;
}

static int list_dataset(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                        struct ms_listing *out, const char *what, struct ms_error *err)
{
	char *qrev = ms_url_quote_plus(rev);
	int ret = 0;

	/* Page N+1 is asked for while a page comes back full (§2.11). */
	for (int page = 1; !ret; page++) {
		char *url = xasprintf("%s/api/v1/datasets/%s/repo/tree?Revision=%s&Root=%%2F"
		                      "&Recursive=True&PageNumber=%d&PageSize=%d",
		                      s->endpoint, repo->id, qrev, page, DATASET_PAGE);
		size_t before = out->n, n = 0;
		cJSON *j;

		ret = get_json(s, url, what, &j, err);
		if (!ret)
			ret = add_files(out, j, what, &n, err);
		cJSON_Delete(j);
		free(url);
		if (ret || n < DATASET_PAGE)
			break;
		/* A server that ignores PageNumber would make us loop for ever. */
		if (out->n == before) {
			ret = ms_error_set(err, MS_EPROTO, "%s: page %d repeats the previous pages",
			                   what, page);
			break;
		}
		if (page >= 100000) {
			ret = ms_error_set(err, MS_EPROTO, "%s: more than 100000 pages", what);
			break;
		}
	}
	free(qrev);
	return ret;
}

int modelscope_revision_map(struct ms_session *s, const struct ms_repo *repo, cJSON **root,
                            const cJSON **map, struct ms_error *err)
{
	char *url = xasprintf("%s/api/v1/%s/%s/revisions", s->endpoint,
	                      modelscope_type_segment(repo->type), repo->id);
	int ret = get_json(s, url, "revisions", root, err);

	free(url);
	if (!ret)
		*map = cJSON_GetObjectItemCaseSensitive(
		        cJSON_GetObjectItemCaseSensitive(*root, "Data"), "RevisionMap");
	return ret;
}

static const char *const revision_kinds[] = {"Branches", "Tags"};

/* The branch or tag entry named rev, or NULL. */
static const cJSON *find_revision(const cJSON *map, const char *rev)
{
	for (size_t k = 0; k < MS_ARRAY_SIZE(revision_kinds); k++) {
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(map, revision_kinds[k]))
		{
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "Revision");

			if (cJSON_IsString(r) && !strcmp(r->valuestring, rev))
				return e;
		}
	}
	return NULL;
}

/*
 * A revision the hub does not know: say which ones it has.  Only asked
 * for when the listing was empty or not found, so a warm run stays at one
 * request.  Returns 0 when rev exists (or cannot be checked).
 */
static int check_revision(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                          struct ms_error *err)
{
	struct ms_buf names = MS_BUF_INIT;
	const cJSON *map = NULL;
	cJSON *root = NULL;
	struct ms_error ignored;
	int ret = 0;

	ms_error_clear(&ignored);
	if (ms_is_commit_id(rev) || modelscope_revision_map(s, repo, &root, &map, &ignored) ||
	    !map || find_revision(map, rev))
		goto out;
	for (size_t k = 0; k < MS_ARRAY_SIZE(revision_kinds); k++) {
		struct ms_buf one = MS_BUF_INIT;
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(map, revision_kinds[k]))
		{
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "Revision");

			if (cJSON_IsString(r))
				ms_buf_addf(&one, "%s%s", one.len ? ", " : "", r->valuestring);
		}
		ms_buf_addf(&names, "%s%s: %s", k ? "; " : "", k ? "tags" : "branches",
		            one.len ? one.data : "none");
		ms_buf_release(&one);
	}
	ret = ms_error_set(err, MS_ENOTFOUND, "%s %s has no revision '%s' (%s)",
	                   ms_repo_type_name(repo->type), repo->id, rev, names.data);
out:
	ms_buf_release(&names);
	cJSON_Delete(root);
	return ret;
}

static int ms_list(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                   const char *commit, struct ms_listing *out, struct ms_error *err)
{
	char *what =
	        xasprintf("listing %s %s at '%s'", ms_repo_type_name(repo->type), repo->id, rev);
	int ret;

	(void)commit;
	out->revision = xstrdup(rev);
	ret = repo->type == MS_REPO_DATASET ? list_dataset(s, repo, rev, out, what, err)
	                                    : list_model(s, repo, rev, out, what, err);
	/*
	 * Without a configured endpoint the official clients look for a repo
	 * on modelscope.cn, then on modelscope.ai (§3.2); so do we.
	 */
	if (ret == MS_ENOTFOUND && !s->endpoint_explicit) {
		const char *alt =
		        !strcmp(s->endpoint, MS_INTL_ENDPOINT) ? MS_CN_ENDPOINT : MS_INTL_ENDPOINT;
		struct ms_error alt_err;

		ms_verbose("%s not found on %s, trying %s", repo->id, s->endpoint, alt);
		ms_session_set_endpoint(s, alt);
		ms_error_clear(&alt_err);
		if (repo->type == MS_REPO_DATASET)
			ret = list_dataset(s, repo, rev, out, what, &alt_err);
		else
			ret = list_model(s, repo, rev, out, what, &alt_err);
		if (ret == MS_ENOTFOUND) {
			char first[sizeof(err->msg)];

			strcpy(first, err->msg);
			ms_error_set(err, MS_ENOTFOUND, "%s (nor on %s)", first, alt);
		} else if (ret)
			*err = alt_err;
	}
	/* The listing does not tell an unknown revision from an empty repo: /revisions does. */
	if ((ret == 0 && out->n == 0) || ret == MS_ENOTFOUND) {
		int r = check_revision(s, repo, rev, err);

		if (r)
			ret = r;
	}
	free(what);
	return ret;
}

static char *ms_file_url(struct ms_session *s, const struct ms_repo *repo,
                         const struct ms_listing *l, const struct ms_file *f)
{
	char *qrev = ms_url_quote_plus(l->revision);
	char *qpath = ms_url_quote_plus(f->path);
	char *url = xasprintf("%s/api/v1/%s/%s/repo?Revision=%s&FilePath=%s", s->endpoint,
	                      modelscope_type_segment(repo->type), repo->id, qrev, qpath);

	free(qrev);
	free(qpath);
	return url;
}

static int ms_revision_created_at(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                                  long *created_at, struct ms_error *err)
{
	const cJSON *map = NULL, *e, *c;
	cJSON *root = NULL;
	int ret = modelscope_revision_map(s, repo, &root, &map, err);

	*created_at = 0;
	if (!ret && (e = find_revision(map, rev)) != NULL &&
	    (c = cJSON_GetObjectItemCaseSensitive(e, "CreatedAt")) != NULL &&
	    !ms_json_epoch(c, created_at))
		*created_at = 0;
	cJSON_Delete(root);
	return ret;
}

/* Repos only: a folder shows in the listing already. */
static bool ms_exists(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                      const char *folder)
{
	struct ms_http_response resp = {0};
	struct ms_error e;
	char *url;
	bool yes;

	(void)rev;
	if (folder)
		return false;
	url = xasprintf("%s/api/v1/%s/%s", s->endpoint, modelscope_type_segment(repo->type),
	                repo->id);
	yes = ms_session_probe(s, url, &resp);
	if (yes) {
		/* the legacy envelope says 200 in its body too: {"Code":200,...} */
		cJSON *j =
		        cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);

		yes = j && modelscope_envelope_error(j, "probe", url, &e) == 0;
		cJSON_Delete(j);
	}
	ms_http_response_release(&resp);
	free(url);
	return yes;
}

/* ---- search and repo info: the OpenAPI (§2.4, §2.14) ---- */

#define SEARCH_PAGE_MAX   50   /* the page_size the OpenAPI takes: 1..50 */
#define SEARCH_OFFSET_MAX 3000 /* page_number * page_size may not exceed it */

static const char *const ms_sorts[] = {
        [MS_SORT_DOWNLOADS] = "downloads",
        [MS_SORT_LIKES] = "likes",
        [MS_SORT_UPDATED] = "last_modified",
};

/* The filter.KEY the OpenAPI takes, per type ([MS-OAS] in tests/hub/emu_search.py). */
static const char *const model_filters[] = {"task",    "library", "model_type", "custom_tag",
                                            "license", "deploy",  NULL};
static const char *const dataset_filters[] = {"task", "license", NULL};

/* GET an OpenAPI URL: {"success": true, "data": {...}}; *data lies in *root. */
static int openapi_get(struct ms_session *s, const char *url, const char *what, cJSON **root,
                       const cJSON **data, struct ms_error *err)
{
	int ret = get_json(s, url, what, root, err);

	if (ret)
		return ret;
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(*root, "success"))) {
		const char *m = ms_json_string(*root, "message");

		return ms_error_set(err, MS_EFAIL, "%s: %s: the hub answered: %s", what, url,
		                    m ? m : "no message");
	}
	*data = cJSON_GetObjectItemCaseSensitive(*root, "data");
	if (!cJSON_IsObject(*data))
		return ms_error_set(err, MS_EPROTO, "%s: %s: the answer has no data", what, url);
	return 0;
}

/* One OpenAPI model or dataset in our terms. */
static int ms_meta(const cJSON *o, enum ms_repo_type type, struct ms_repo_meta *m, const char *what,
                   struct ms_error *err)
{
	const cJSON *mod = cJSON_GetObjectItemCaseSensitive(o, "last_modified");
	const cJSON *task = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "tasks"), 0);
	char t[MS_TIME_LEN] = "";
	long epoch;
	int ret = ms_repo_meta_from_json(m, o, type, what, err);

	if (ret)
		return ret;
	/* ISO 8601 text; epoch seconds as the legacy API gives them are taken too */
	if (cJSON_IsString(mod) && ms_parse_time(mod->valuestring, t) != 0)
		t[0] = '\0';
	else if (ms_json_epoch(mod, &epoch))
		ms_format_time(epoch, t);
	if (t[0])
		m->last_modified = xstrdup(t);
	if (cJSON_IsObject(task)) /* the legacy form: {"name": ...} */
		task = cJSON_GetObjectItemCaseSensitive(task, "name");
	if (cJSON_IsString(task) && task->valuestring[0])
		m->task = xstrdup(task->valuestring);
	m->gated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "gated"));
	return 0;
}

/*
 * --filter KEY:VALUE (or KEY=VALUE) -> filter.KEY=VALUE, as the items' tags
 * read ("task:text-generation"); a bare TAG is a custom tag.  The OpenAPI
 * takes one value per key and ignores keys it does not know: both are
 * refused here rather than answered with results that ignore them.
 */
static int add_filters(struct ms_buf *url, const struct ms_search_query *q, struct ms_error *err)
{
	const char *const *keys = q->type == MS_REPO_DATASET ? dataset_filters : model_filters;
	unsigned used = 0;

	for (size_t i = 0; i < q->nfilters; i++) {
		const char *f = q->filters[i], *value = f;
		size_t n = strcspn(f, ":="), k;
		char *key = f[n] ? xstrndup(f, n) : xstrdup("custom_tag"), *param;

		if (f[n])
			value = f + n + 1;
		for (k = 0; keys[k] && strcmp(keys[k], key); k++)
			;
		if (!keys[k] || !*value) {
			struct ms_buf names = MS_BUF_INIT;

			for (k = 0; keys[k]; k++)
				ms_buf_addf(&names, "%s%s:VALUE", k ? ", " : "", keys[k]);
			ms_error_set(err, MS_EUSAGE, "--filter '%s': ModelScope filters %ss by %s",
			             f, ms_repo_type_name(q->type), names.data);
			ms_buf_release(&names);
			free(key);
			return MS_EUSAGE;
		}
		if (used & (1u << k)) {
			free(key);
			return ms_error_set(err, MS_EUSAGE,
			                    "--filter '%s': ModelScope takes one value per key "
			                    "('%s' is given twice)",
			                    f, keys[k]);
		}
		used |= 1u << k;
		param = xasprintf("filter.%s", key);
		ms_url_add_query(url, param, value);
		free(param);
		free(key);
	}
	return 0;
}

static int ms_search(struct ms_session *s, const struct ms_search_query *q, const char *cursor,
                     struct ms_search_page *page, struct ms_error *err)
{
	/* page_number counts pages of one size: the size stays the same from page to page */
	size_t size = q->limit < SEARCH_PAGE_MAX ? q->limit : SEARCH_PAGE_MAX;
	size_t number = cursor ? (size_t)strtoul(cursor, NULL, 10) : 1, n = 0;
	char *what = xasprintf("searching %ss on %s", ms_repo_type_name(q->type), s->endpoint);
	struct ms_buf url = MS_BUF_INIT;
	const cJSON *data = NULL, *list, *e;
	cJSON *root = NULL;
	char num[32];
	long long total;
	int ret;

	ms_buf_addf(&url, "%s/openapi/v1/%s", s->endpoint, modelscope_type_segment(q->type));
	ms_url_add_query(&url, "search", q->text);
	ms_url_add_query(&url, "owner", q->author);
	if (q->sort != MS_SORT_NONE)
		ms_url_add_query(&url, "sort", ms_sorts[q->sort]);
	snprintf(num, sizeof(num), "%zu", number);
	ms_url_add_query(&url, "page_number", num);
	snprintf(num, sizeof(num), "%zu", size);
	ms_url_add_query(&url, "page_size", num);
	if ((ret = add_filters(&url, q, err)) != 0 ||
	    (ret = openapi_get(s, url.data, what, &root, &data, err)) != 0)
		goto out;
	list = cJSON_GetObjectItemCaseSensitive(data, modelscope_type_segment(q->type));
	if (!list)
		list = cJSON_GetObjectItemCaseSensitive(data, "items");
	if (!cJSON_IsArray(list) && !cJSON_IsNull(list) && list) {
		ret = ms_error_set(err, MS_EPROTO, "%s: %s: data.%s is not a list", what, url.data,
		                   modelscope_type_segment(q->type));
		goto out;
	}
	for (e = list ? list->child : NULL; e && !ret; e = e->next, n++)
		ret = ms_meta(e, q->type, ms_meta_list_add(&page->results), what, err);
	/* a full page is followed by the next while the total says there is more */
	total = ms_json_count(data, "total_count");
	if (!ret && n == size && (total < 0 || number * size < (unsigned long long)total)) {
		if ((number + 1) * size > SEARCH_OFFSET_MAX)
			page->capped = true;
		else
			page->next = xasprintf("%zu", number + 1);
	}
out:
	cJSON_Delete(root);
	ms_buf_release(&url);
	free(what);
	return ret;
}

/*
 * The commit rev names and when it was made, from the head of its history
 * (§2.6, as modelscope's model_info asks); left unknown when the hub does
 * not say.  A revision other than the default branch was last modified then.
 */
static void revision_commit(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                            struct ms_repo_meta *m)
{
	char *qrev = ms_url_quote_plus(rev);
	char *url = xasprintf("%s/api/v1/%s/%s/commits?Ref=%s&PageNumber=1&PageSize=1", s->endpoint,
	                      modelscope_type_segment(repo->type), repo->id, qrev);
	const cJSON *head, *id;
	struct ms_error e;
	cJSON *root = NULL;
	long at;

	ms_error_clear(&e);
	if (get_json(s, url, "commits", &root, &e) != 0)
		ms_verbose("no commit for '%s': %s", rev, e.msg);
	head = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	                                  cJSON_GetObjectItemCaseSensitive(root, "Data"), "Commit"),
	                          0);
	id = cJSON_GetObjectItemCaseSensitive(head, "Id");
	if (cJSON_IsString(id) && ms_is_commit_id(id->valuestring))
		m->commit = xstrdup(id->valuestring);
	else if (ms_is_commit_id(rev))
		m->commit = xstrdup(rev);
	if (m->commit)
		ms_lowercase(m->commit);
	if (strcmp(rev, s->hub->default_revision) &&
	    ms_json_epoch(cJSON_GetObjectItemCaseSensitive(head, "CommittedDate"), &at)) {
		char t[MS_TIME_LEN];

		ms_format_time(at, t);
		free(m->last_modified);
		m->last_modified = t[0] ? xstrdup(t) : NULL;
	}
	cJSON_Delete(root);
	free(url);
	free(qrev);
}

static int ms_repo_info(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                        struct ms_repo_meta *out, struct ms_error *err)
{
	char *url = xasprintf("%s/openapi/v1/%s/%s", s->endpoint,
	                      modelscope_type_segment(repo->type), repo->id);
	char *what = xasprintf("info of %s %s", ms_repo_type_name(repo->type), repo->id);
	const cJSON *data = NULL;
	cJSON *root = NULL;
	int ret = openapi_get(s, url, what, &root, &data, err);

	if (!ret) {
		/* the README's text is content, not metadata */
		cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)data, "readme");
		ret = ms_meta(data, repo->type, out, what, err);
	}
	if (!ret)
		revision_commit(s, repo, rev, out);
	cJSON_Delete(root);
	free(url);
	free(what);
	return ret;
}

/* ---- the environment (modelscope-protocol.md §3.3) ---- */

static char *ms_env_endpoint(bool *from_env)
{
	const char *v = ms_getenv("MODELSCOPE_ENDPOINT");

	if (!v)
		v = ms_getenv("MODELSCOPE_DOMAIN");
	if (v) /* a bare host means https, as modelscope's MODELSCOPE_DOMAIN does */
		return strstr(v, "://") ? xstrdup(v) : xasprintf("https://%s", v);
	*from_env = false;
	return xstrdup(ms_env_true("MODELSCOPE_PREFER_AI_SITE") ? MS_INTL_ENDPOINT
	                                                        : MS_CN_ENDPOINT);
}

static char *ms_env_token(void)
{
	const char *v = ms_getenv("MODELSCOPE_API_TOKEN");

	return v ? xstrdup(v) : NULL;
}

static char *ms_default_cache(void)
{
	const char *env = ms_getenv("MODELSCOPE_CACHE");

	/* expanded as the official clients do (os.path.expanduser) */
	return env ? ms_expand_tilde(env) : ms_home_path(".cache/modelscope/hub");
}

/* Both client generations send a request id; the legacy API reads the token from a cookie. */
static struct curl_slist *ms_extra_headers(const struct ms_auth *auth, struct curl_slist *list)
{
	char id[33], *h;

	ms_random_hex(id);
	h = xasprintf("X-Request-ID: %s", id);
	list = curl_slist_append(list, h);
	free(h);
	if (auth->token) {
		h = xasprintf("Cookie: m_session_id=%s", auth->token);
		list = curl_slist_append(list, h);
		free(h);
	}
	return list;
}

static struct ms_store *ms_cache_store(const char *root, const struct ms_repo *repo,
                                       const char *rev, const char *commit)
{
	(void)commit;
	return ms_store_ms_new(root, repo, rev);
}

extern const struct ms_hub ms_hub_modelscope;

static int ms_cache_walk(const char *root, int (*fn)(void *arg, const struct ms_repo *repo),
                         void *arg, struct ms_error *err)
{
	return ms_store_ms_walk(&ms_hub_modelscope, root, fn, arg, err);
}

/* modelscope_hub's root: $MODELSCOPE_CACHE, else ~/.cache/modelscope (no /hub) */
static char *mshub_default_root(void)
{
	const char *env = ms_getenv("MODELSCOPE_CACHE");

	return env ? ms_expand_tilde(env) : ms_home_path(".cache/modelscope");
}

static int mshub_walk(const char *root, int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                      struct ms_error *err)
{
	return ms_store_mshub_walk(&ms_hub_modelscope, root, fn, arg, err);
}

static const struct ms_cache_layout mshub_layout = {
        .name = "modelscope_hub",
        .default_root = mshub_default_root,
        .walk = mshub_walk,
        .store = ms_store_mshub_new,
};
static const struct ms_cache_layout *const ms_layouts[] = {&mshub_layout, NULL};

static const char *const ms_aliases[] = {"ms", NULL};
static const char *const ms_prefixes[] = {"ms:", "modelscope:", NULL};
static const struct ms_hub_host ms_hosts[] = {
        {"modelscope.cn", NULL},
        {"www.modelscope.cn", NULL},
        {"modelscope.ai", MS_INTL_ENDPOINT},
        {"www.modelscope.ai", MS_INTL_ENDPOINT},
        {NULL, NULL},
};

/* the client's partials, mscli's --local-dir records; the index (.msc .mv .mdl) and
 * modelscope_hub's upload state */
static const char *const ms_private_dirs[] = {"._____temp", ".cache/modelscope", NULL};
static const char *const ms_private_names[] = {
        ".msc", ".mv", ".mdl", ".ms_upload_cache", ".ms_upload_progress", NULL};

const struct ms_hub ms_hub_modelscope = {
        .name = "modelscope",
        .title = "ModelScope",
        .aliases = ms_aliases,
        .prefixes = ms_prefixes,
        .hosts = ms_hosts,
        .default_revision = "master",
        .url_models_segment = true,
        .env_endpoint = ms_env_endpoint,
        .env_token = ms_env_token,
        .stored_token = modelscope_stored_token,
        .default_cache = ms_default_cache,
        .extra_headers = ms_extra_headers,
        .hint_token_sent = " (check the token from --token, MODELSCOPE_API_TOKEN or the saved "
                           "login)",
        .hint_no_token = " (no token was sent: run 'mscli login', give --token or set "
                         "MODELSCOPE_API_TOKEN)",
        .help_endpoint_env = "MODELSCOPE_ENDPOINT, MODELSCOPE_DOMAIN",
        .help_cache_env = "MODELSCOPE_CACHE",
        .cache_store = ms_cache_store,
        .local_store = ms_store_localdir_ms_new,
        .cache_walk = ms_cache_walk,
        .cache_layout = "modelscope",
        .cache_layouts = ms_layouts,
        .cache_scratch = ms_store_ms_scratch,
        .private_dirs = ms_private_dirs,
        .private_names = ms_private_names,
        .list = ms_list,
        .file_url = ms_file_url,
        .exists = ms_exists,
        .revision_created_at = ms_revision_created_at,
        .search = ms_search,
        .repo_info = ms_repo_info,
        .whoami = modelscope_whoami,
        .token_store = modelscope_token_store,
        .token_forget = modelscope_token_forget,
        .token_env = "MODELSCOPE_API_TOKEN",
        .repo_create = modelscope_repo_create,
        .branch_head = modelscope_branch_head,
        .upload_plan = modelscope_upload_plan,
        .upload_digests = modelscope_upload_digests,
        .lfs_batch = modelscope_lfs_batch,
        .lfs_batch_max = 64, /* UPLOAD_VALIDATE_BLOB_BATCH_SIZE */
        .lfs_finish = modelscope_lfs_finish,
        .commit = modelscope_commit,
        .commit_max = 256, /* UPLOAD_COMMIT_BATCH_SIZE */
        .commit_url = modelscope_commit_url,
};
