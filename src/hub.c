/* Repo specs, listings and sessions: what every hub back end shares. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/hub.h"
#include "mscli/index.h"
#include "mscli/pathsafe.h"

const char *ms_repo_type_name(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "dataset" : "model";
}

const char *ms_hub_name(enum ms_hub_kind h)
{
	return h == MS_HUB_HF ? "hf" : "modelscope";
}

/* Repo name segments: what both hubs allow, and what is safe in cache paths. */
static bool valid_segment(const char *s, size_t n)
{
	if (n == 0 || n > 96 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

struct url_hub {
	const char *host;
	enum ms_hub_kind hub;
	const char *endpoint; /* NULL: the hub's home; the endpoint comes from options or env */
};

static const struct url_hub known_hosts[] = {
        {"modelscope.cn", MS_HUB_MODELSCOPE, NULL},
        {"www.modelscope.cn", MS_HUB_MODELSCOPE, NULL},
        {"modelscope.ai", MS_HUB_MODELSCOPE, "https://www.modelscope.ai"},
        {"www.modelscope.ai", MS_HUB_MODELSCOPE, "https://www.modelscope.ai"},
        {"huggingface.co", MS_HUB_HF, NULL},
        {"www.huggingface.co", MS_HUB_HF, NULL},
        {"hf.co", MS_HUB_HF, NULL},
        {"hf-mirror.com", MS_HUB_HF, "https://hf-mirror.com"},
};

/* One path segment of a URL, percent-decoded ("refs%2Fpr%2F1" is one revision). */
static char *url_segment(const char *s, size_t n)
{
	int len = 0;
	char *raw = curl_easy_unescape(NULL, s, (int)n, &len);
	char *out;

	if (!raw) /* out of memory: curl cannot decode, nor can we */
		return xstrndup(s, n);
	out = xstrndup(raw, (size_t)len);
	curl_free(raw);
	return out;
}

/*
 * A hub URL: https://huggingface.co/o/n, .../datasets/o/n, .../tree/<rev>,
 * .../resolve/<rev>/<file> and .../blob/<rev>/<file>; https://modelscope.cn/models/o/n
 * and .../datasets/o/n likewise, plus .../file/view/<rev>/<file>.  A known mirror, or any
 * host when the hub was chosen (--hub, MSCLI_HUB), becomes the endpoint.
 */
static int parse_url(const char *spec, enum ms_hub_kind *hub, bool hub_given, int *type,
                     char **path, struct ms_repo *out, struct ms_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *p = NULL;
	const struct url_hub *known = NULL;
	const char *rest;
	int ret = 0;

	if (!u || curl_url_set(u, CURLUPART_URL, spec, CURLU_PATH_AS_IS) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") && strcmp(scheme, "http"))) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is not an http(s) URL", spec);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	for (size_t i = 0; i < MS_ARRAY_SIZE(known_hosts); i++)
		if (!strcasecmp(host, known_hosts[i].host))
			known = &known_hosts[i];
	if (known && hub_given && known->hub != *hub) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is a %s repo but --hub/MSCLI_HUB says %s",
		                   spec, ms_hub_name(known->hub), ms_hub_name(*hub));
		goto out;
	}
	if (known) {
		*hub = known->hub;
		if (known->endpoint)
			out->endpoint = xstrdup(known->endpoint);
	} else if (hub_given) {
		out->endpoint = port ? xasprintf("%s://%s:%s", scheme, host, port)
		                     : xasprintf("%s://%s", scheme, host);
	} else {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "'%s' is not a ModelScope or Hugging Face URL (for a mirror, "
		                   "add --hub hf or --hub modelscope)",
		                   spec);
		goto out;
	}
	rest = p + strspn(p, "/");
	if (!strncmp(rest, "datasets/", 9)) {
		*type = MS_REPO_DATASET;
		rest += 9;
	} else if (!strncmp(rest, "models/", 7) && *hub == MS_HUB_MODELSCOPE) {
		*type = MS_REPO_MODEL;
		rest += 7;
	} else if (*hub == MS_HUB_MODELSCOPE) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s': expected /models/ or /datasets/", spec);
		goto out;
	} else {
		*type = MS_REPO_MODEL;
	}
	*path = xstrdup(rest);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(p);
	curl_url_cleanup(u);
	return ret;
}

/* What follows owner/name in a URL: tree/<rev>, resolve|blob/<rev>/<file>, file/view/... */
static int url_tail(const char *spec, const char *t, struct ms_repo *out, struct ms_error *err)
{
	bool with_file = false;
	size_t n;

	t += strspn(t, "/");
	if (!*t)
		return 0;
	if (!strncmp(t, "tree/", 5)) {
		t += 5;
	} else if (!strncmp(t, "resolve/", 8) || !strncmp(t, "blob/", 5)) {
		t = strchr(t, '/') + 1;
		with_file = true;
	} else if (!strncmp(t, "file/view/", 10)) {
		t += 10;
		with_file = true;
	} else if (!strcmp(t, "files") || !strncmp(t, "files/", 6) || !strcmp(t, "summary")) {
		return 0; /* web pages of the repo itself */
	} else {
		return ms_error_set(err, MS_EUSAGE, "'%s': cannot tell what '/%s' names", spec, t);
	}
	n = strcspn(t, "/");
	if (n)
		out->revision = url_segment(t, n);
	t += n;
	t += strspn(t, "/");
	if (with_file && *t) {
		const char *why;

		out->file = url_segment(t, strlen(t));
		if (ms_path_check(out->file, &why))
			return ms_error_set(err, MS_EUSAGE, "'%s': '%s' is not a file path: %s",
			                    spec, out->file, why);
	}
	return 0;
}

int ms_repo_parse(const char *spec, enum ms_hub_kind hub, bool hub_given, int type,
                  struct ms_repo *out, struct ms_error *err)
{
	const char *rest = spec;
	int spec_type = -1;
	const char *seg2, *end;
	size_t n1, n2;
	char *url_path = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (strstr(spec, "://") && strncmp(spec, "hf://", 5)) {
		ret = parse_url(spec, &hub, hub_given, &spec_type, &url_path, out, err);
		if (ret || !url_path)
			goto fail;
		rest = url_path;
	} else if (!strncmp(spec, "hf://", 5) || !strncmp(spec, "hf:", 3) ||
	           !strncmp(spec, "ms:", 3) || !strncmp(spec, "modelscope:", 11)) {
		hub = spec[0] == 'h' ? MS_HUB_HF : MS_HUB_MODELSCOPE;
		rest = strchr(spec, ':') + 1;
		while (*rest == '/')
			rest++;
	}
	/*
	 * hf:datasets/o/n (hf:datasets/squad too), ms:models/o/n, and a plain
	 * datasets/o/n as the hub's web path reads (there two segments must follow:
	 * "datasets/x" is the repo x of an owner called datasets).
	 */
	if (!url_path && !strncmp(rest, "datasets/", 9) &&
	    (rest != spec || strchr(rest + 9, '/'))) {
		spec_type = MS_REPO_DATASET;
		rest += 9;
	} else if (!url_path && !strncmp(rest, "models/", 7) &&
	           (rest != spec || strchr(rest + 7, '/'))) {
		spec_type = MS_REPO_MODEL;
		rest += 7;
	}
	if (spec_type >= 0 && type >= 0 && spec_type != type) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is a %s but --type says %s", spec,
		                   ms_repo_type_name(spec_type), ms_repo_type_name(type));
		goto fail;
	}
	if (spec_type < 0)
		spec_type = type < 0 ? MS_REPO_MODEL : type;

	n1 = strcspn(rest, "/@");
	seg2 = rest[n1] == '/' ? rest + n1 + 1 : NULL;
	n2 = seg2 ? strcspn(seg2, "/@") : 0;
	end = seg2 ? seg2 + n2 : rest + n1;
	if (url_path && *end == '/') {
		/* a single-segment HF id ("gpt2") has no second segment before the tail */
		if (hub == MS_HUB_HF && seg2 &&
		    (!strncmp(seg2, "tree/", 5) || !strncmp(seg2, "resolve/", 8) ||
		     !strncmp(seg2, "blob/", 5))) {
			end = seg2 - 1;
			seg2 = NULL;
		}
		ret = url_tail(spec, end, out, err);
		if (ret)
			goto fail;
	} else if (*end == '@' && !url_path) {
		out->revision = xstrdup(end + 1);
	} else if (*end) {
		ret = ms_error_set(err, MS_EUSAGE, "invalid repo id '%s' (expected owner/name)",
		                   spec);
		goto fail;
	}
	if (!valid_segment(rest, n1) || (!seg2 && hub != MS_HUB_HF) ||
	    (seg2 && !valid_segment(seg2, n2))) {
		ret = ms_error_set(err, MS_EUSAGE, "invalid repo id '%s' (expected owner/name)",
		                   spec);
		goto fail;
	}
	out->hub = hub;
	out->type = spec_type;
	if (seg2) {
		out->owner = xstrndup(rest, n1);
		out->name = xstrndup(seg2, n2);
		out->id = xasprintf("%s/%s", out->owner, out->name);
	} else {
		out->name = xstrndup(rest, n1);
		out->id = xstrdup(out->name);
	}
	free(url_path);
	return 0;
fail:
	free(url_path);
	ms_repo_release(out);
	return ret;
}

void ms_repo_release(struct ms_repo *r)
{
	free(r->endpoint);
	free(r->file);
	free(r->id);
	free(r->owner);
	free(r->name);
	free(r->revision);
	memset(r, 0, sizeof(*r));
}

struct ms_file *ms_listing_add(struct ms_listing *l)
{
	struct ms_file *f;

	if (!l->index)
		l->index = xcalloc(1, sizeof(*l->index));
	ms_grow((void **)&l->files, &l->cap, l->n + 1, sizeof(*l->files));
	f = &l->files[l->n++];
	memset(f, 0, sizeof(*f));
	return f;
}

static const char *file_key(const void *base, size_t i)
{
	return ((const struct ms_file *)base)[i].path;
}

/* Hashed: a listing of 100k files is parsed in linear time (each entry is looked up). */
struct ms_file *ms_listing_find(const struct ms_listing *l, const char *path)
{
	size_t i;

	if (!l->n || !l->index)
		return NULL;
	i = ms_index_find(l->index, l->files, l->n, file_key, path);
	return i == SIZE_MAX ? NULL : &l->files[i];
}

void ms_file_release(struct ms_file *f)
{
	free(f->path);
	free(f->revision);
	free(f->etag);
	free(f->oid);
	free(f->location);
	memset(f, 0, sizeof(*f));
}

void ms_file_copy(struct ms_file *dst, const struct ms_file *src)
{
	*dst = *src;
	dst->path = xstrdup(src->path);
	dst->revision = src->revision ? xstrdup(src->revision) : NULL;
	dst->etag = src->etag ? xstrdup(src->etag) : NULL;
	dst->oid = src->oid ? xstrdup(src->oid) : NULL;
	dst->location = src->location ? xstrdup(src->location) : NULL;
}

void ms_listing_release(struct ms_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		ms_file_release(&l->files[i]);
	free(l->files);
	if (l->index)
		ms_index_release(l->index);
	free(l->index);
	free(l->revision);
	free(l->commit);
	memset(l, 0, sizeof(*l));
}

void ms_session_init(struct ms_session *s, enum ms_hub_kind hub, const char *endpoint,
                     bool endpoint_explicit, const char *token, const struct ms_net_opts *net)
{
	memset(s, 0, sizeof(*s));
	s->hub = hub;
	s->ops = hub == MS_HUB_HF ? &ms_hub_hf : &ms_hub_modelscope;
	s->endpoint_explicit = endpoint_explicit;
	s->auth.hub = hub;
	s->auth.token = token ? xstrdup(token) : NULL;
	s->net = *net;
	ms_session_set_endpoint(s, endpoint);
	ms_http_init(&s->http, &s->net, &s->auth);
}

bool ms_session_probe(struct ms_session *s, const char *url, struct ms_http_response *resp)
{
	struct ms_http_request req = {.url = url,
	                              .what = "a probe after a not-found answer",
	                              .accept = "application/json",
	                              .max_body = 1u << 20};
	struct ms_error e;

	ms_error_clear(&e);
	return ms_http_request(&s->http, &req, resp, &e) == 0 && resp->status == 200;
}

void ms_session_set_endpoint(struct ms_session *s, const char *endpoint)
{
	size_t n = strlen(endpoint);

	while (n && endpoint[n - 1] == '/')
		n--;
	free(s->endpoint);
	free(s->auth.origin);
	s->endpoint = xstrndup(endpoint, n);
	s->auth.origin = ms_url_origin(s->endpoint);
}

void ms_session_release(struct ms_session *s)
{
	ms_http_release(&s->http);
	free(s->endpoint);
	free(s->auth.token);
	free(s->auth.origin);
	memset(s, 0, sizeof(*s));
}
