/* The hub registry, repo specs and sessions: what every hub back end shares. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/env.h"
#include "mscli/hub.h"
#include "mscli/index.h"
#include "mscli/pathsafe.h"
#include "mscli/redact.h"
#include "mscli/strbuf.h"

/* The hubs (hub-*.c); nothing else names them: generic code goes through the registry. */
extern const struct ms_hub ms_hub_modelscope, ms_hub_hf;

const struct ms_hub *const ms_hubs[] = {
        &ms_hub_modelscope,
        &ms_hub_hf,
        NULL,
};

const struct ms_hub *ms_hub_default(void)
{
	return ms_hubs[0];
}

size_t ms_hub_index(const struct ms_hub *h)
{
	size_t i = 0;

	while (ms_hubs[i] && ms_hubs[i] != h)
		i++;
	return i;
}

const struct ms_hub *ms_hub_find(const char *name)
{
	/* any case: MSCLI_HUB=HF is as clear as hf */
	for (size_t i = 0; ms_hubs[i]; i++) {
		if (!strcasecmp(ms_hubs[i]->name, name))
			return ms_hubs[i];
		for (const char *const *a = ms_hubs[i]->aliases; a && *a; a++)
			if (!strcasecmp(*a, name))
				return ms_hubs[i];
	}
	return NULL;
}

const char *ms_hub_names(void)
{
	static char names[128];

	if (!names[0])
		for (size_t i = 0; ms_hubs[i]; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			         i ? (ms_hubs[i + 1] ? ", " : " or ") : "", ms_hubs[i]->name);
	return names;
}

int ms_hub_from_env(const struct ms_hub **hub, struct ms_error *err)
{
	const char *v = ms_getenv("MSCLI_HUB");

	*hub = NULL;
	if (v && !(*hub = ms_hub_find(v)))
		return ms_error_set(err, MS_EUSAGE, "MSCLI_HUB is '%s', not %s", v, ms_hub_names());
	return 0;
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

/* A file page's ?fileName=<path> (ModelScope: .../file/view/master?fileName=config.json). */
static char *query_file(CURLU *u)
{
	char *q = NULL, *file = NULL, *save = NULL;

	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) != CURLUE_OK || !q)
		return NULL;
	for (char *kv = strtok_r(q, "&", &save); kv && !file; kv = strtok_r(NULL, "&", &save))
		if (!strncmp(kv, "fileName=", 9) && kv[9]) {
			int len = 0;
			char *v = curl_easy_unescape(NULL, kv + 9, 0, &len);

			if (v) {
				file = xstrndup(v, (size_t)len);
				curl_free(v);
			}
		}
	curl_free(q);
	return file;
}

/* The hub whose URLs live on host, and that host's entry. */
static const struct ms_hub *hub_of_host(const char *host, const struct ms_hub_host **entry)
{
	for (size_t i = 0; ms_hubs[i]; i++)
		for (const struct ms_hub_host *h = ms_hubs[i]->hosts; h && h->host; h++)
			if (!strcasecmp(host, h->host)) {
				*entry = h;
				return ms_hubs[i];
			}
	return NULL;
}

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

/* "'URL' is not a ModelScope or Hugging Face URL (for a mirror, add --hub hf or --hub
 * modelscope)": the hubs of the registry, the mirror's choices the other hubs first (the
 * default one is what a plain owner/name gets anyway). */
static int not_a_hub_url(const char *spec, struct ms_error *err)
{
	struct ms_buf titles = MS_BUF_INIT, choices = MS_BUF_INIT;
	size_t n = 0;
	int ret;

	while (ms_hubs[n])
		n++;
	for (size_t i = 0; i < n; i++) {
		ms_buf_addf(&titles, "%s%s",
		            !i          ? ""
		            : i + 1 < n ? ", "
		                        : " or ",
		            ms_hubs[i]->title);
		ms_buf_addf(&choices, "%s--hub %s",
		            !i          ? ""
		            : i + 1 < n ? ", "
		                        : " or ",
		            ms_hubs[n - 1 - i]->name);
	}
	ret = ms_error_set(err, MS_EUSAGE, "'%s' is not a %s URL (for a mirror, add %s)", spec,
	                   titles.data, choices.data);
	ms_buf_release(&titles);
	ms_buf_release(&choices);
	return ret;
}

/*
 * A hub URL: https://huggingface.co/o/n, .../datasets/o/n, .../tree/<rev>,
 * .../resolve/<rev>/<file> and .../blob/<rev>/<file>; https://modelscope.cn/models/o/n
 * and .../datasets/o/n likewise, plus .../file/view/<rev>/<file>.  A known mirror, or any
 * host when the hub was chosen (--hub, MSCLI_HUB), becomes the endpoint.
 */
static int parse_url(const char *spec, const struct ms_hub **hub, enum ms_hub_choice hub_given,
                     int *type, char **path, struct ms_repo *out, struct ms_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *p = NULL;
	const struct ms_hub_host *entry = NULL;
	const struct ms_hub *known;
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
	out->file = query_file(u);
	known = hub_of_host(host, &entry);
	if (known && hub_given == MS_CHOSEN_BY_OPTION && known != *hub) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is a %s repo but --hub/MSCLI_HUB says %s",
		                   spec, known->name, (*hub)->name);
		goto out;
	}
	if (known) {
		*hub = known;
		if (entry->endpoint)
			out->endpoint = xstrdup(entry->endpoint);
	} else if (hub_given != MS_CHOSEN_DEFAULT) {
		out->endpoint = port ? xasprintf("%s://%s:%s", scheme, host, port)
		                     : xasprintf("%s://%s", scheme, host);
	} else {
		ret = not_a_hub_url(spec, err);
		goto out;
	}
	rest = p + strspn(p, "/");
	if (!strncmp(rest, "datasets/", 9)) {
		*type = MS_REPO_DATASET;
		rest += 9;
	} else if (!strncmp(rest, "models/", 7) && (*hub)->url_models_segment) {
		*type = MS_REPO_MODEL;
		rest += 7;
	} else if ((*hub)->url_models_segment) {
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
		free(out->file);
		out->file = url_segment(t, strlen(t));
	}
	return 0;
}

/* The hub whose prefix spec starts with ("hf:o/n"); *rest is what follows it. */
static const struct ms_hub *hub_of_prefix(const char *spec, const char **rest)
{
	for (size_t i = 0; ms_hubs[i]; i++)
		for (const char *const *p = ms_hubs[i]->prefixes; p && *p; p++)
			if (!strncmp(spec, *p, strlen(*p))) {
				*rest = spec + strlen(*p);
				return ms_hubs[i];
			}
	return NULL;
}

/*
 * hf:datasets/o/n (hf:datasets/squad too), ms:models/o/n, and a plain
 * datasets/o/n as the hub's web path reads (there two segments must follow:
 * "datasets/x" is the repo x of an owner called datasets).
 */
static const char *type_prefix(const char *spec, const char *rest, int *spec_type)
{
	if (!strncmp(rest, "datasets/", 9) && (rest != spec || strchr(rest + 9, '/'))) {
		*spec_type = MS_REPO_DATASET;
		return rest + 9;
	}
	if (!strncmp(rest, "models/", 7) && (rest != spec || strchr(rest + 7, '/'))) {
		*spec_type = MS_REPO_MODEL;
		return rest + 7;
	}
	return rest;
}

/*
 * "@rev[/file]" (huggingface_hub's hf:// paths: "hf://datasets/o/n@main/README.md").  A
 * revision with a '/' is percent-encoded ("@feature%2Fx"), except HF's own refs/pr/N and
 * refs/convert/<name>.
 */
static void at_revision(const char *at, struct ms_repo *out)
{
	size_t n = strcspn(at, "/");

	if (!strncmp(at, "refs/", 5)) {
		const char *p = at + 5 + strcspn(at + 5, "/");

		if (*p == '/')
			p += 1 + strcspn(p + 1, "/");
		n = (size_t)(p - at);
	}
	out->revision = url_segment(at, n);
	if (at[n] == '/' && at[n + 1])
		out->file = xstrdup(at + n + 1);
}

/* "owner/name" (or "name"), then "@rev" or, in a URL, the tail naming a revision or file. */
static int parse_id(const char *spec, const char *rest, bool in_url, bool fs_path,
                    const struct ms_hub *hub, struct ms_repo *out, struct ms_error *err)
{
	size_t n1 = strcspn(rest, "/@"), n2;
	const char *seg2 = rest[n1] == '/' ? rest + n1 + 1 : NULL, *end;
	int ret;

	n2 = seg2 ? strcspn(seg2, "/@") : 0;
	end = seg2 ? seg2 + n2 : rest + n1;
	if (in_url && *end == '/') {
		/* a single-segment HF id ("gpt2") has no second segment before the tail */
		if (hub->single_segment_ids && seg2 &&
		    (!strncmp(seg2, "tree/", 5) || !strncmp(seg2, "resolve/", 8) ||
		     !strncmp(seg2, "blob/", 5))) {
			end = seg2 - 1;
			seg2 = NULL;
		}
		if ((ret = url_tail(spec, end, out, err)) != 0)
			return ret;
	} else if (*end == '@' && !in_url) {
		at_revision(end + 1, out);
	} else if (*end == '/' && fs_path && end[1]) {
		out->file = xstrdup(end + 1); /* hf://o/n/config.json */
	} else if (*end) {
		return ms_error_set(err, MS_EUSAGE, "invalid repo id '%s' (expected owner/name)",
		                    spec);
	}
	if (!valid_segment(rest, n1) || (!seg2 && !hub->single_segment_ids) ||
	    (seg2 && !valid_segment(seg2, n2)))
		return ms_error_set(err, MS_EUSAGE, "invalid repo id '%s' (expected owner/name)",
		                    spec);
	if (seg2) {
		out->owner = xstrndup(rest, n1);
		out->name = xstrndup(seg2, n2);
		out->id = xasprintf("%s/%s", out->owner, out->name);
	} else {
		out->name = xstrndup(rest, n1);
		out->id = xstrdup(out->name);
	}
	return 0;
}

int ms_repo_parse(const char *spec, const struct ms_hub *hub, enum ms_hub_choice hub_given,
                  int type, struct ms_repo *out, struct ms_error *err)
{
	const struct ms_hub *prefixed;
	const char *rest = spec, *why;
	int spec_type = -1;
	char *url_path = NULL;
	bool fs_path = false;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if ((prefixed = hub_of_prefix(spec, &rest)) != NULL) {
		fs_path = strstr(spec, "://") != NULL; /* hf://o/n/path, as HfFileSystem */
		hub = prefixed;
		while (*rest == '/')
			rest++;
	} else if (strstr(spec, "://")) {
		ret = parse_url(spec, &hub, hub_given, &spec_type, &url_path, out, err);
		if (ret || !url_path)
			goto fail;
		rest = url_path;
	}
	if (!url_path)
		rest = type_prefix(spec, rest, &spec_type);
	if (spec_type >= 0 && type >= 0 && spec_type != type) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is a %s but --type says %s", spec,
		                   ms_repo_type_name(spec_type), ms_repo_type_name(type));
		goto fail;
	}
	if ((ret = parse_id(spec, rest, url_path != NULL, fs_path, hub, out, err)) != 0)
		goto fail;
	if (out->file && ms_path_check(out->file, &why)) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s': '%s' is not a file path: %s", spec,
		                   out->file, why);
		goto fail;
	}
	out->hub = hub;
	out->type = spec_type >= 0 ? spec_type : type >= 0 ? type : MS_REPO_MODEL;
	free(url_path);
	return 0;
fail:
	free(url_path);
	ms_repo_release(out);
	return ret;
}

static char *endpoint_url(const char *v)
{
	/* A bare host means https, as modelscope's MODELSCOPE_DOMAIN does. */
	if (strstr(v, "://"))
		return xstrdup(v);
	return xasprintf("https://%s", v);
}

int ms_session_open(struct ms_session *s, const struct ms_hub *hub, const struct ms_session_opts *o,
                    struct ms_error *err)
{
	bool from_env = true;
	char *endpoint, *token;

	memset(s, 0, sizeof(*s));
	endpoint = o->endpoint ? endpoint_url(o->endpoint) : hub->env_endpoint(&from_env);
	if (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)) {
		ms_error_set(err, MS_EUSAGE, "endpoint '%s' is not an http(s) URL", endpoint);
		free(endpoint);
		return MS_EUSAGE;
	}
	/* --token, then the environment, then what a login stored */
	s->token_source = MS_TOKEN_OPTION;
	token = o->token ? xstrdup(o->token) : NULL;
	if (!token && (token = hub->env_token()) != NULL)
		s->token_source = MS_TOKEN_ENV;
	if (!token && hub->stored_token && (token = hub->stored_token()) != NULL)
		s->token_source = MS_TOKEN_STORED;
	if (!token)
		s->token_source = MS_TOKEN_NONE;
	if (token)
		ms_redact_add(token);
	ms_redact_url_userinfo(endpoint);
	s->hub = hub;
	s->endpoint_explicit = o->endpoint || from_env;
	s->auth.token = token;
	s->auth.extra_headers = hub->extra_headers;
	s->auth.hint_token_sent = hub->hint_token_sent;
	s->auth.hint_no_token = hub->hint_no_token;
	s->net = o->net;
	if (hub->env_net)
		hub->env_net(&s->net, o->stall_given);
	ms_session_set_endpoint(s, endpoint);
	ms_http_init(&s->http, &s->net, &s->auth);
	free(endpoint);
	return 0;
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

const char *ms_session_token_from(const struct ms_session *s)
{
	switch (s->token_source) {
	case MS_TOKEN_OPTION:
		return "--token";
	case MS_TOKEN_ENV:
		return s->hub->token_env ? s->hub->token_env : "the environment";
	case MS_TOKEN_STORED:
		return "the saved login";
	case MS_TOKEN_GIVEN:
		return "the login";
	default:
		return "nowhere";
	}
}

int ms_session_post_body(struct ms_session *s, struct ms_http_request *req, struct ms_body *body,
                         ms_json_request_fn request, struct cJSON **out, struct ms_error *err)
{
	long status = 0;
	int ret;

	req->method = "POST";
	req->once = true; /* a commit is never blindly repeated: the caller reads the branch */
	req->body_read = ms_body_read;
	req->body_arg = body;
	req->body_size = body->size;
	ret = request(s, req, &status, out, err);
	if (body->err.code)
		ret = ms_error_set(err, body->err.code, "%s", body->err.msg);
	return ret;
}

void ms_session_set_token(struct ms_session *s, const char *token)
{
	free(s->auth.token);
	s->auth.token = token ? xstrdup(token) : NULL;
	s->token_source = token ? MS_TOKEN_GIVEN : MS_TOKEN_NONE;
	if (token)
		ms_redact_add(token);
}

void ms_session_release(struct ms_session *s)
{
	ms_http_release(&s->http);
	free(s->endpoint);
	free(s->auth.token);
	free(s->auth.origin);
	memset(s, 0, sizeof(*s));
}
