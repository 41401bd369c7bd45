/*
 * The Hugging Face Hub protocol (hf-protocol.md): revision -> commit
 * (§1.4), the tree listing with Link pagination (§1.5, §1.6), and the
 * metadata HEAD on /resolve/ that follows only relative redirects (§1.3),
 * repo info and the model and dataset searches (§1.4, §6).
 * Mirrors (HF_ENDPOINT) speak the same protocol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/hub-hf.h"
#include "mscli/hub.h"
#include "mscli/store-hf.h"
#include "mscli/store.h"
#include "mscli/json.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/strbuf.h"

#define MAX_PAGES 100000

const char *hf_api_type(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets" : "models";
}

const char *hf_url_prefix(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets/" : "";
}

int hf_error(struct ms_session *s, const struct ms_http_response *r, const char *what,
             struct ms_error *err)
{
	const char *code = r->x_error_code;
	const char *msg = r->x_error_message;
	int ret;

	if (code && !strcmp(code, "GatedRepo")) {
		ret = ms_error_set(err, MS_EAUTH,
		                   "%s: access to the gated repo is refused (HTTP %ld)%s%s%s", what,
		                   r->status, msg ? ": " : "", msg ? msg : "",
		                   s->auth.token ? "" : " (pass a token with --token or HF_TOKEN)");
	} else if (code && (!strcmp(code, "RepoNotFound") || !strcmp(code, "RevisionNotFound") ||
	                    !strcmp(code, "EntryNotFound"))) {
		ret = ms_error_set(err, MS_ENOTFOUND, "%s: %s%s%s%s", what,
		                   !strcmp(code, "RepoNotFound")       ? "repository not found"
		                   : !strcmp(code, "RevisionNotFound") ? "revision not found"
		                                                       : "file not found",
		                   msg ? ": " : "", msg ? msg : "",
		                   !strcmp(code, "RepoNotFound") && !s->auth.token
		                           ? " (if it is private or gated, pass a token with "
		                             "--token or HF_TOKEN)"
		                           : "");
	} else {
		return ms_http_status_error(&s->auth, r, what, err);
	}
	err->http_status = r->status;
	return ret;
}

static int get_json(struct ms_session *s, const char *url, const char *what,
                    struct ms_http_response *resp, cJSON **out, struct ms_error *err)
{
	struct ms_http_request req = {.url = url, .what = what, .accept = "application/json"};
	int ret = ms_http_request(&s->http, &req, resp, err);

	*out = NULL;
	if (ret)
		return ret;
	if (resp->status != 200)
		return hf_error(s, resp, what, err);
	*out = cJSON_ParseWithLength(resp->body.data ? resp->body.data : "", resp->body.len);
	if (!*out)
		return ms_error_set(err, MS_EPROTO, "%s: %s: the hub answered malformed JSON", what,
		                    url);
	return 0;
}

int hf_request_json(struct ms_session *s, struct ms_http_request *req, long *status, cJSON **out,
                    struct ms_error *err)
{
	struct ms_http_response resp = {0};
	int ret;

	*out = NULL;
	if (!req->accept)
		req->accept = "application/json";
	ret = ms_http_request(&s->http, req, &resp, err);
	*status = resp.status;
	if (!ret && (resp.status < 200 || resp.status >= 300))
		ret = hf_error(s, &resp, req->what, err);
	if (!ret && !(*out = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "{}",
	                                           resp.body.len ? resp.body.len : 2)))
		ret = ms_error_set(err, MS_EPROTO, "%s: %s: the hub answered malformed JSON",
		                   req->what, req->url);
	ms_http_response_release(&resp);
	return ret;
}

static int hf_resolve(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                      char **commit, struct ms_error *err)
{
	struct ms_http_response resp = {0};
	char *qrev, *url, *what;
	const cJSON *sha;
	cJSON *j;
	int ret;

	if (ms_is_commit_id(rev)) {
		/* an immutable revision: nothing to ask */
		*commit = xstrdup(rev);
		ms_lowercase(*commit);
		return 0;
	}
	qrev = ms_url_quote_path(rev, false);
	/* expand=sha keeps the answer small: only id and sha come back */
	url = xasprintf("%s/api/%s/%s/revision/%s?expand=sha", s->endpoint, hf_api_type(repo->type),
	                repo->id, qrev);
	what = xasprintf("resolving %s %s at '%s'", ms_repo_type_name(repo->type), repo->id, rev);
	ret = get_json(s, url, what, &resp, &j, err);
	if (!ret) {
		sha = cJSON_GetObjectItemCaseSensitive(j, "sha");
		if (cJSON_IsString(sha) && ms_is_commit_id(sha->valuestring)) {
			*commit = xstrdup(sha->valuestring);
			ms_lowercase(*commit);
		} else {
			ret = ms_error_set(err, MS_EPROTO, "%s: %s: the answer has no commit (sha)",
			                   what, url);
		}
	}
	cJSON_Delete(j);
	ms_http_response_release(&resp);
	free(url);
	free(what);
	free(qrev);
	return ret;
}

/* One tree entry (§1.5): regular files carry a git blob sha1, LFS files a sha256. */
static int add_entry(struct ms_listing *l, const cJSON *e, const char *what, struct ms_error *err)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
	const cJSON *oid = cJSON_GetObjectItemCaseSensitive(e, "oid");
	const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs");
	const cJSON *lfs_oid = cJSON_GetObjectItemCaseSensitive(lfs, "oid");
	struct ms_file *f;
	uint64_t sz;

	if (!cJSON_IsObject(e))
		return ms_error_set(err, MS_EPROTO, "%s: a tree entry is not an object", what);
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "file"))
		return 0;
	if (!cJSON_IsString(path) || !ms_json_u64(size, &sz))
		return ms_error_set(err, MS_EPROTO, "%s: a tree entry has no valid path or size",
		                    what);
	if (ms_listing_find(l, path->valuestring))
		return 0;
	f = ms_listing_add(l);
	f->path = xstrdup(path->valuestring);
	f->size = sz;
	if (cJSON_IsString(lfs_oid) &&
	    ms_hash_algo_for_hex(lfs_oid->valuestring) == MS_HASH_SHA256) {
		f->lfs = true;
		f->algo = MS_HASH_SHA256;
		strcpy(f->digest, lfs_oid->valuestring);
	} else if (cJSON_IsString(oid) &&
	           ms_hash_algo_for_hex(oid->valuestring) == MS_HASH_GITSHA1) {
		f->algo = MS_HASH_GITSHA1;
		strcpy(f->digest, oid->valuestring);
	} else {
		return ms_error_set(err, MS_EPROTO, "%s: '%s' has no usable oid", what,
		                    path->valuestring);
	}
	ms_lowercase(f->digest);
	f->etag = xstrdup(f->digest); /* the blob name in the cache */
	if (cJSON_IsString(oid) && ms_hash_algo_for_hex(oid->valuestring) == MS_HASH_GITSHA1)
		f->oid = xstrdup(oid->valuestring);
	return 0;
}

static int hf_list(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                   const char *commit, struct ms_listing *out, struct ms_error *err)
{
	char *what =
	        xasprintf("listing %s %s at '%s'", ms_repo_type_name(repo->type), repo->id, rev);
	char *qrev = ms_url_quote_path(commit ? commit : rev, false);
	char *url = xasprintf("%s/api/%s/%s/tree/%s?recursive=true&expand=false", s->endpoint,
	                      hf_api_type(repo->type), repo->id, qrev);
	int ret = 0, pages = 0;

	out->revision = xstrdup(rev);
	if (commit)
		out->commit = xstrdup(commit);
	while (url && !ret) {
		struct ms_http_response resp = {0};
		const cJSON *e;
		cJSON *j;
		char *next;

		ret = get_json(s, url, what, &resp, &j, err);
		if (!ret && !cJSON_IsArray(j))
			ret = ms_error_set(err, MS_EPROTO, "%s: %s: the tree is not a list", what,
			                   url);
		const cJSON *arr = ret ? NULL : j;

		cJSON_ArrayForEach(e, arr)
		{
			if ((ret = add_entry(out, e, what, err)) != 0)
				break;
		}
		cJSON_Delete(j);
		/* Link: <...cursor...>; rel="next" until the last page */
		next = !ret && resp.link ? ms_link_next(resp.link) : NULL;
		if (next && !strcmp(next, url)) {
			ret = ms_error_set(err, MS_EPROTO, "%s: the next page is the same page",
			                   what);
			free(next);
			next = NULL;
		}
		if (next && ++pages > MAX_PAGES) {
			ret = ms_error_set(err, MS_EPROTO, "%s: more than %d pages", what,
			                   MAX_PAGES);
			free(next);
			next = NULL;
		}
		ms_http_response_release(&resp);
		free(url);
		url = next;
	}
	free(url);
	free(qrev);
	free(what);
	return ret;
}

static char *normalize_etag(const char *v)
{
	size_t n;

	if (!v)
		return NULL;
	if (!strncmp(v, "W/", 2))
		v += 2;
	if (*v == '"')
		v++;
	n = strlen(v);
	if (n && v[n - 1] == '"')
		n--;
	return xstrndup(v, n);
}

/* A relative redirect has no scheme/host: "/api/resolve-cache/..." */
static bool is_relative(const char *location)
{
	return location && !strstr(location, "://") && strncmp(location, "//", 2);
}

/* HEAD url, following only relative redirects: an absolute one is the CDN's URL. */
static int head_on_hub(struct ms_session *s, char **url, const char *what,
                       struct ms_http_response *resp, struct ms_error *err)
{
	struct ms_http_request req = {.method = "HEAD", .what = what, .no_follow = true};
	int ret, hops = 0;

	for (;;) {
		req.url = *url;
		if ((ret = ms_http_request(&s->http, &req, resp, err)) != 0)
			return ret;
		if (resp->status >= 300 && resp->status < 400 && is_relative(resp->location) &&
		    hops++ < 10) {
			char *next = ms_url_resolve(*url, resp->location);

			if (!next)
				return 0;
			free(*url);
			*url = next;
			continue;
		}
		return 0;
	}
}

/* The file a successful HEAD describes (§1.3): its size, etag and where its bytes are. */
static int file_from_head(const struct ms_http_response *resp, const char *url, const char *path,
                          const char *what, struct ms_listing *out, struct ms_error *err)
{
	char *etag = normalize_etag(resp->x_linked_etag ? resp->x_linked_etag : resp->etag);
	struct ms_file *f;
	uint64_t size = 0;
	int ret = 0;
	char why[600];

	/* the Content-Length of a redirect is the redirect's own body */
	if (!(resp->x_linked_size && ms_parse_u64(resp->x_linked_size, &size) == 0) &&
	    !(resp->status < 300 && resp->content_length &&
	      ms_parse_u64(resp->content_length, &size) == 0)) {
		ret = ms_error_set(err, MS_EPROTO, "%s: %s gave no size (X-Linked-Size)", what,
		                   url);
		goto out;
	}
	f = ms_listing_add(out);
	f->path = xstrdup(path);
	f->size = size;
	f->algo = ms_hash_algo_for_hex(etag);
	if (f->algo != MS_HASH_NONE) {
		strcpy(f->digest, etag);
		ms_lowercase(f->digest);
		f->etag = xstrdup(f->digest);
		f->lfs = f->algo == MS_HASH_SHA256;
	} else {
		/* an etag that is not a content hash: size check only */
		ms_verbose("%s: etag '%s' is not a sha256 or git sha1", what, etag ? etag : "");
		f->etag = etag && *etag ? xstrdup(etag) : NULL;
	}
	if (!f->etag) {
		ret = ms_error_set(err, MS_EPROTO, "%s: %s gave no ETag", what, url);
		goto out;
	}
	/* where the bytes are: the CDN it redirects to, or the end of the relative
	 * redirects; the GET goes there first, as hf_hub_download's does */
	if (resp->status >= 300 && resp->status < 400 && resp->location)
		f->location = ms_url_resolve(url, resp->location);
	else if (resp->status < 300)
		f->location = xstrdup(url);
	if (f->location && !ms_redirect_allowed(url, f->location, why, sizeof(why)))
		ret = ms_error_set(err, MS_EPROTO, "%s: %s", what, why);
out:
	free(etag);
	return ret;
}

static int hf_stat_file(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                        const char *path, struct ms_listing *out, struct ms_error *err)
{
	char *qrev = ms_url_quote_path(rev, false), *qpath = ms_url_quote_path(path, true);
	char *url = xasprintf("%s/%s%s/resolve/%s/%s", s->endpoint, hf_url_prefix(repo->type),
	                      repo->id, qrev, qpath);
	char *what = xasprintf("'%s' in %s at '%s'", path, repo->id, rev);
	struct ms_http_response resp = {0};
	int ret;

	out->revision = xstrdup(rev);
	if ((ret = head_on_hub(s, &url, what, &resp, err)) != 0)
		goto out;
	if (resp.x_repo_commit && ms_is_commit_id(resp.x_repo_commit)) {
		out->commit = xstrdup(resp.x_repo_commit);
		ms_lowercase(out->commit);
	}
	if (resp.status >= 400)
		ret = hf_error(s, &resp, what, err);
	else if (!out->commit)
		/* huggingface_hub fails the same way, but reports it as a connection problem */
		ret = ms_error_set(err, MS_EPROTO,
		                   "%s: %s answered without X-Repo-Commit: it does not look like a "
		                   "Hugging Face hub or mirror (HTTP %ld)",
		                   what, url, resp.status);
	else
		ret = file_from_head(&resp, url, path, what, out, err);
out:
	ms_http_response_release(&resp);
	free(url);
	free(what);
	free(qrev);
	free(qpath);
	return ret;
}

static char *hf_file_url(struct ms_session *s, const struct ms_repo *repo,
                         const struct ms_listing *l, const struct ms_file *f)
{
	char *qrev = ms_url_quote_path(l->commit ? l->commit : l->revision, false);
	char *qpath = ms_url_quote_path(f->path, true);
	char *url = xasprintf("%s/%s%s/resolve/%s/%s", s->endpoint, hf_url_prefix(repo->type),
	                      repo->id, qrev, qpath);

	free(qrev);
	free(qpath);
	return url;
}

static bool hf_exists(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                      const char *folder)
{
	struct ms_http_response resp = {0};
	char *q = folder ? ms_url_quote_path(folder, true) : NULL;
	char *url =
	        folder ? xasprintf("%s/api/%s/%s/tree/%s/%s", s->endpoint, hf_api_type(repo->type),
	                           repo->id, rev, q)
	               : xasprintf("%s/api/%s/%s", s->endpoint, hf_api_type(repo->type), repo->id);
	bool yes = ms_session_probe(s, url, &resp);

	ms_http_response_release(&resp);
	free(url);
	free(q);
	return yes;
}

/* ---- search and repo info (§1.4, §1.6, §6) ---- */

/* What search and info ask for with expand: a small answer with just these (and id). */
static const char *const model_props[] = {"downloads",    "likes",   "lastModified", "tags",
                                          "pipeline_tag", "private", "gated",        NULL};
/* datasets have no pipeline_tag: the Hub answers 400 to expand=pipeline_tag */
static const char *const dataset_props[] = {"downloads", "likes", "lastModified", "tags", "private",
                                            "gated",     NULL};

static void add_expand(struct ms_buf *url, enum ms_repo_type t)
{
	for (const char *const *p = t == MS_REPO_DATASET ? dataset_props : model_props; *p; p++)
		ms_url_add_query(url, "expand", *p);
}

static const char *const hf_sorts[] = {
        [MS_SORT_DOWNLOADS] = "downloads",
        [MS_SORT_LIKES] = "likes",
        [MS_SORT_UPDATED] = "lastModified",
};

/* One search result or repo info document in our terms. */
static int hf_meta(const cJSON *o, enum ms_repo_type type, struct ms_repo_meta *m, const char *what,
                   struct ms_error *err)
{
	const char *sha = ms_json_string(o, "sha"), *pipeline = ms_json_string(o, "pipeline_tag");
	const char *modified = ms_json_string(o, "lastModified");
	const cJSON *gated = cJSON_GetObjectItemCaseSensitive(o, "gated");
	char t[MS_TIME_LEN];
	int ret = ms_repo_meta_from_json(m, o, type, what, err);

	if (ret)
		return ret;
	if (modified && ms_parse_time(modified, t) == 0)
		m->last_modified = xstrdup(t);
	if (pipeline)
		m->task = xstrdup(pipeline);
	/* a dataset names its task in a tag */
	for (size_t i = 0; i < m->ntags && !m->task; i++)
		if (!strncmp(m->tags[i], "task_categories:", 16))
			m->task = xstrdup(m->tags[i] + 16);
	/* false, "auto" or "manual" */
	m->gated = cJSON_IsTrue(gated) ||
	           (cJSON_IsString(gated) && strcmp(gated->valuestring, "false"));
	if (sha && ms_is_commit_id(sha)) {
		m->commit = xstrdup(sha);
		ms_lowercase(m->commit);
	}
	return 0;
}

static char *search_url(struct ms_session *s, const struct ms_search_query *q)
{
	struct ms_buf url = MS_BUF_INIT;
	char limit[32];

	ms_buf_addf(&url, "%s/api/%s", s->endpoint, hf_api_type(q->type));
	ms_url_add_query(&url, "search", q->text);
	ms_url_add_query(&url, "author", q->author);
	for (size_t i = 0; i < q->nfilters; i++)
		ms_url_add_query(&url, "filter", q->filters[i]);
	if (q->sort != MS_SORT_NONE)
		ms_url_add_query(&url, "sort", hf_sorts[q->sort]);
	/* the total wanted, as list_models sends it; the Hub pages by Link */
	snprintf(limit, sizeof(limit), "%zu", q->limit);
	ms_url_add_query(&url, "limit", limit);
	add_expand(&url, q->type);
	return ms_buf_detach(&url);
}

static int hf_search(struct ms_session *s, const struct ms_search_query *q, const char *cursor,
                     struct ms_search_page *page, struct ms_error *err)
{
	char *url = cursor ? xstrdup(cursor) : search_url(s, q);
	char *what = xasprintf("searching %ss on %s", ms_repo_type_name(q->type), s->endpoint);
	struct ms_http_response resp = {0};
	const cJSON *e, *list = NULL;
	cJSON *j;
	int ret = get_json(s, url, what, &resp, &j, err);

	if (!ret && !cJSON_IsArray(j))
		ret = ms_error_set(err, MS_EPROTO, "%s: %s: the answer is not a list", what, url);
	else if (!ret)
		list = j;
	cJSON_ArrayForEach(e, list)
	{
		if ((ret = hf_meta(e, q->type, ms_meta_list_add(&page->results), what, err)) != 0)
			break;
	}
	if (!ret && resp.link) {
		char *next = ms_link_next(resp.link);

		/* the cursor is opaque: the next page is whatever URL the Hub names */
		page->next = next ? ms_url_resolve(url, next) : NULL;
		free(next);
	}
	cJSON_Delete(j);
	ms_http_response_release(&resp);
	free(url);
	free(what);
	return ret;
}

static int hf_repo_info(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                        struct ms_repo_meta *out, struct ms_error *err)
{
	char *qrev = ms_url_quote_path(rev, false);
	char *what =
	        xasprintf("info of %s %s at '%s'", ms_repo_type_name(repo->type), repo->id, rev);
	struct ms_http_response resp = {0};
	struct ms_buf url = MS_BUF_INIT;
	cJSON *j;
	int ret;

	ms_buf_addf(&url, "%s/api/%s/%s/revision/%s", s->endpoint, hf_api_type(repo->type),
	            repo->id, qrev);
	ms_url_add_query(&url, "expand", "sha");
	add_expand(&url, repo->type);
	ret = get_json(s, url.data, what, &resp, &j, err);
	if (!ret)
		ret = hf_meta(j, repo->type, out, what, err);
	cJSON_Delete(j);
	ms_http_response_release(&resp);
	ms_buf_release(&url);
	free(what);
	free(qrev);
	return ret;
}

/* ---- the environment (hf-protocol.md §2.1, §5.4) ---- */

static char *hf_env_endpoint(bool *from_env)
{
	const char *v = ms_getenv("HF_ENDPOINT");

	if (v)
		return strstr(v, "://") ? xstrdup(v) : xasprintf("https://%s", v);
	*from_env = false;
	return xstrdup("https://huggingface.co");
}

char *hf_home(void)
{
	const char *v = ms_getenv("HF_HOME"), *xdg;
	char *x, *out;

	if (v)
		return ms_expand_path(v);
	xdg = ms_getenv("XDG_CACHE_HOME");
	if (!xdg)
		return ms_home_path(".cache/huggingface");
	x = ms_expand_path(xdg);
	out = ms_path_join(x, "huggingface");
	free(x);
	return out;
}

/* HF_TOKEN, then HUGGING_FACE_HUB_TOKEN (§5.4); the token file is hf_stored_token's. */
static char *hf_env_token(void)
{
	const char *v;

	/* HF_HUB_DISABLE_IMPLICIT_TOKEN: only a token given on the command line */
	if (ms_env_true("HF_HUB_DISABLE_IMPLICIT_TOKEN"))
		return NULL;
	v = ms_getenv("HF_TOKEN");
	if (!v)
		v = ms_getenv("HUGGING_FACE_HUB_TOKEN");
	return v ? hf_clean_token(v) : NULL;
}

static void hf_env_net(struct ms_net_opts *net, bool stall_given)
{
	const char *v = ms_getenv("HF_HUB_DOWNLOAD_TIMEOUT");
	double t;

	if (!stall_given && v && ms_parse_seconds(v, &t) == 0 && t >= 1)
		net->stall_timeout = (long)t;
}

static bool hf_env_offline(void)
{
	return ms_env_true("HF_HUB_OFFLINE") || ms_env_true("TRANSFORMERS_OFFLINE");
}

/* $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub
 */
static char *hf_default_cache(void)
{
	const char *v = ms_getenv("HF_HUB_CACHE");
	char *home, *out;

	if (!v)
		v = ms_getenv("HUGGINGFACE_HUB_CACHE");
	if (v)
		return ms_expand_path(v);
	home = hf_home();
	out = ms_path_join(home, "hub");
	free(home);
	return out;
}

static struct ms_store *hf_cache_store(const char *root, const struct ms_repo *repo,
                                       const char *rev, const char *commit)
{
	return ms_store_hf_new(root, repo, rev, commit);
}

extern const struct ms_hub ms_hub_hf;

static int hf_cache_walk(const char *root, int (*fn)(void *arg, const struct ms_repo *repo),
                         void *arg, struct ms_error *err)
{
	return ms_store_hf_walk(&ms_hub_hf, root, fn, arg, err);
}

static const char *const hf_aliases[] = {"huggingface", NULL};
static const char *const hf_prefixes[] = {"hf://", "hf:", NULL};
static const struct ms_hub_host hf_hosts[] = {
        {"huggingface.co", NULL},
        {"www.huggingface.co", NULL},
        {"hf.co", NULL},
        {"hf-mirror.com", "https://hf-mirror.com"},
        {NULL, NULL},
};

/* the records of a --local-dir (huggingface_hub's); mscli's partials and resume state */
static const char *const hf_private_dirs[] = {".cache/huggingface", NULL};
static const char *const hf_private_suffixes[] = {MS_HF_PARTIAL_SUFFIX, MS_HF_RESUME_SUFFIX, NULL};

const struct ms_hub ms_hub_hf = {
        .name = "hf",
        .title = "Hugging Face",
        .aliases = hf_aliases,
        .prefixes = hf_prefixes,
        .hosts = hf_hosts,
        .default_revision = "main",
        .single_segment_ids = true,
        .env_endpoint = hf_env_endpoint,
        .env_token = hf_env_token,
        .stored_token = hf_stored_token,
        .env_net = hf_env_net,
        .env_offline = hf_env_offline,
        .default_cache = hf_default_cache,
        .hint_token_sent = " (check the token from --token, HF_TOKEN or the token file; "
                           "a gated repo also needs access granted on the hub)",
        .hint_no_token = " (no token was sent: run 'mscli login --hub hf', give --token or set "
                         "HF_TOKEN)",
        .help_endpoint_env = "HF_ENDPOINT",
        .help_cache_env = "HF_HUB_CACHE, HF_HOME",
        .help_offline_env = "HF_HUB_OFFLINE=1",
        .cache_store = hf_cache_store,
        .local_store = ms_store_localdir_new,
        .cache_walk = hf_cache_walk,
        .cache_layout = "huggingface",
        .cache_scratch = ms_store_hf_scratch,
        .private_dirs = hf_private_dirs,
        .private_suffixes = hf_private_suffixes,
        .resolve = hf_resolve,
        .list = hf_list,
        .stat_file = hf_stat_file,
        .file_url = hf_file_url,
        .exists = hf_exists,
        .search = hf_search,
        .repo_info = hf_repo_info,
        .whoami = hf_whoami,
        .token_store = hf_token_store,
        .token_forget = hf_token_forget,
        .token_env = "HF_TOKEN",
        .repo_create = hf_repo_create,
        .branch_head = hf_branch_head,
        .upload_plan = hf_upload_plan,
        .upload_digests = hf_upload_digests,
        .lfs_batch = hf_lfs_batch,
        .lfs_batch_max = 256, /* huggingface_hub's chunks (§4.0) */
        .lfs_finish = hf_lfs_finish,
        .commit = hf_commit,
        /* upload-large-folder's largest batch: commits beyond it hit the hub's limits */
        .commit_max = 1000,
        .commit_url = hf_commit_url,
};
