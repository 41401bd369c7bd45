/*
 * The Hugging Face Hub protocol (hf-protocol.md): revision -> commit
 * (§1.4), the tree listing with Link pagination (§1.5, §1.6), and the
 * metadata HEAD on /resolve/ that follows only relative redirects (§1.3).
 * Mirrors (HF_ENDPOINT) speak the same protocol.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/hub.h"
#include "mscli/json.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"

#define MAX_PAGES 100000

static const char *api_type(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets" : "models";
}

static const char *url_prefix(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "datasets/" : "";
}

static bool is_commit(const char *rev)
{
	return rev && strlen(rev) == 40 && ms_is_hex(rev, 40);
}

/* X-Error-Code first (§1.2), then the status. */
static int hf_error(struct ms_session *s, const struct ms_http_response *r, const char *what,
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

static int hf_resolve(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                      char **commit, struct ms_error *err)
{
	struct ms_http_response resp = {0};
	char *qrev, *url, *what;
	const cJSON *sha;
	cJSON *j;
	int ret;

	if (is_commit(rev)) {
		/* an immutable revision: nothing to ask */
		*commit = xstrdup(rev);
		ms_lowercase(*commit);
		return 0;
	}
	qrev = ms_url_quote_path(rev, false);
	/* expand=sha keeps the answer small: only id and sha come back */
	url = xasprintf("%s/api/%s/%s/revision/%s?expand=sha", s->endpoint, api_type(repo->type),
	                repo->id, qrev);
	what = xasprintf("resolving %s %s at '%s'", ms_repo_type_name(repo->type), repo->id, rev);
	ret = get_json(s, url, what, &resp, &j, err);
	if (!ret) {
		sha = cJSON_GetObjectItemCaseSensitive(j, "sha");
		if (cJSON_IsString(sha) && is_commit(sha->valuestring)) {
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
	                      api_type(repo->type), repo->id, qrev);
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

static int hf_stat_file(struct ms_session *s, const struct ms_repo *repo, const char *rev,
                        const char *path, struct ms_listing *out, struct ms_error *err)
{
	char *qrev = ms_url_quote_path(rev, false), *qpath = ms_url_quote_path(path, true);
	char *url = xasprintf("%s/%s%s/resolve/%s/%s", s->endpoint, url_prefix(repo->type),
	                      repo->id, qrev, qpath);
	char *what = xasprintf("'%s' in %s at '%s'", path, repo->id, rev);
	struct ms_http_response resp = {0};
	struct ms_http_request req = {.method = "HEAD", .what = what, .no_follow = true};
	int ret = 0, hops = 0;
	char *etag = NULL;
	uint64_t size = 0;
	bool have_size = false;

	out->revision = xstrdup(rev);
	for (;;) {
		req.url = url;
		ret = ms_http_request(&s->http, &req, &resp, err);
		if (ret)
			goto out;
		/* Only relative redirects are followed: an absolute one is the CDN's URL. */
		if (resp.status >= 300 && resp.status < 400 && is_relative(resp.location) &&
		    hops++ < 10) {
			char *next = ms_url_resolve(url, resp.location);

			if (!next)
				break;
			free(url);
			url = next;
			continue;
		}
		break;
	}
	if (resp.x_repo_commit && is_commit(resp.x_repo_commit)) {
		out->commit = xstrdup(resp.x_repo_commit);
		ms_lowercase(out->commit);
	}
	if (resp.status >= 400) {
		ret = hf_error(s, &resp, what, err);
		goto out;
	}
	if (!out->commit) {
		/* huggingface_hub fails the same way, but reports it as a connection problem */
		ret = ms_error_set(err, MS_EPROTO,
		                   "%s: %s answered without X-Repo-Commit: it does not look like a "
		                   "Hugging Face hub or mirror (HTTP %ld)",
		                   what, url, resp.status);
		goto out;
	}
	etag = normalize_etag(resp.x_linked_etag ? resp.x_linked_etag : resp.etag);
	/* the Content-Length of a redirect is the redirect's own body (§1.3) */
	if (resp.x_linked_size && ms_parse_u64(resp.x_linked_size, &size) == 0)
		have_size = true;
	else if (resp.status < 300 && resp.content_length &&
	         ms_parse_u64(resp.content_length, &size) == 0)
		have_size = true;
	if (!have_size) {
		ret = ms_error_set(err, MS_EPROTO, "%s: %s gave no size (X-Linked-Size)", what,
		                   url);
		goto out;
	}
	{
		struct ms_file *f = ms_listing_add(out);

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
			ms_verbose("%s: etag '%s' is not a sha256 or git sha1", what,
			           etag ? etag : "");
			f->etag = etag && *etag ? xstrdup(etag) : NULL;
		}
		if (!f->etag) {
			ret = ms_error_set(err, MS_EPROTO, "%s: %s gave no ETag", what, url);
			goto out;
		}
		/* where the bytes are: the CDN it redirects to, or the end of the relative
		 * redirects; the GET goes there first, as hf_hub_download's does */
		if (resp.status >= 300 && resp.status < 400 && resp.location)
			f->location = ms_url_resolve(url, resp.location);
		else if (resp.status < 300)
			f->location = xstrdup(url);
	}
out:
	free(etag);
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
	char *url = xasprintf("%s/%s%s/resolve/%s/%s", s->endpoint, url_prefix(repo->type),
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
	char *url = folder ? xasprintf("%s/api/%s/%s/tree/%s/%s", s->endpoint, api_type(repo->type),
	                               repo->id, rev, q)
	                   : xasprintf("%s/api/%s/%s", s->endpoint, api_type(repo->type), repo->id);
	bool yes = ms_session_probe(s, url, &resp);

	ms_http_response_release(&resp);
	free(url);
	free(q);
	return yes;
}

const struct ms_hub_ops ms_hub_hf = {
        .name = "hf",
        .default_revision = "main",
        .resolve = hf_resolve,
        .list = hf_list,
        .stat_file = hf_stat_file,
        .file_url = hf_file_url,
        .exists = hf_exists,
};
