/* Repo specs, listings and sessions: what every hub back end shares. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mscli/hub.h"
#include "mscli/util.h"

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
};

static const struct url_hub known_hosts[] = {
        {"modelscope.cn", MS_HUB_MODELSCOPE},
        {"www.modelscope.cn", MS_HUB_MODELSCOPE},
        {"modelscope.ai", MS_HUB_MODELSCOPE},
        {"www.modelscope.ai", MS_HUB_MODELSCOPE},
        {"huggingface.co", MS_HUB_HF},
        {"www.huggingface.co", MS_HUB_HF},
        {"hf.co", MS_HUB_HF},
        {"hf-mirror.com", MS_HUB_HF},
};

static int parse_url(const char *spec, enum ms_hub_kind *hub, int *type, const char **rest,
                     struct ms_error *err)
{
	const char *host = strstr(spec, "://") + 3;
	size_t hl = strcspn(host, "/:");
	size_t i;

	for (i = 0; i < MS_ARRAY_SIZE(known_hosts); i++)
		if (strlen(known_hosts[i].host) == hl &&
		    !strncasecmp(host, known_hosts[i].host, hl))
			break;
	if (i == MS_ARRAY_SIZE(known_hosts))
		return ms_error_set(err, MS_EUSAGE,
		                    "'%s' is not a ModelScope or Hugging Face repo URL (give "
		                    "owner/name and --endpoint for a mirror)",
		                    spec);
	*hub = known_hosts[i].hub;
	*rest = host + strcspn(host, "/");
	while (**rest == '/')
		(*rest)++;
	if (*hub == MS_HUB_MODELSCOPE) {
		/* https://modelscope.cn/models/o/n[/...] */
		if (!strncmp(*rest, "models/", 7)) {
			*type = MS_REPO_MODEL;
			*rest += 7;
		} else if (!strncmp(*rest, "datasets/", 9)) {
			*type = MS_REPO_DATASET;
			*rest += 9;
		} else
			return ms_error_set(err, MS_EUSAGE, "'%s': expected /models/ or /datasets/",
			                    spec);
	} else if (!strncmp(*rest, "datasets/", 9)) {
		*type = MS_REPO_DATASET;
		*rest += 9;
	} else {
		*type = MS_REPO_MODEL;
	}
	return 0;
}

int ms_repo_parse(const char *spec, enum ms_hub_kind hub, int type, struct ms_repo *out,
                  struct ms_error *err)
{
	const char *rest = spec;
	int spec_type = -1;
	const char *seg2, *end;
	size_t n1, n2;
	char *rev = NULL;
	bool url = false;

	memset(out, 0, sizeof(*out));
	if (strstr(spec, "://") && strncmp(spec, "hf://", 5)) {
		int ret = parse_url(spec, &hub, &spec_type, &rest, err);

		if (ret)
			return ret;
		url = true;
	} else if (!strncmp(spec, "hf://", 5) || !strncmp(spec, "hf:", 3) ||
	           !strncmp(spec, "ms:", 3) || !strncmp(spec, "modelscope:", 11)) {
		hub = spec[0] == 'h' ? MS_HUB_HF : MS_HUB_MODELSCOPE;
		rest = strchr(spec, ':') + 1;
		while (*rest == '/')
			rest++;
		/* hf:datasets/o/n, ms:models/o/n */
		if (!strncmp(rest, "datasets/", 9)) {
			spec_type = MS_REPO_DATASET;
			rest += 9;
		} else if (!strncmp(rest, "models/", 7)) {
			spec_type = MS_REPO_MODEL;
			rest += 7;
		}
	}
	if (spec_type >= 0 && type >= 0 && spec_type != type)
		return ms_error_set(err, MS_EUSAGE, "'%s' is a %s but --type says %s", spec,
		                    ms_repo_type_name(spec_type), ms_repo_type_name(type));
	if (spec_type < 0)
		spec_type = type < 0 ? MS_REPO_MODEL : type;

	n1 = strcspn(rest, "/@");
	seg2 = rest[n1] == '/' ? rest + n1 + 1 : NULL;
	n2 = seg2 ? strcspn(seg2, "/@") : 0;
	end = seg2 ? seg2 + n2 : rest + n1;
	if (*end == '@' && !url) {
		rev = xstrdup(end + 1);
	} else if (url && *end == '/') {
		/* .../tree/<rev> or .../resolve/<rev>/... keeps the revision */
		const char *t = end + 1;

		if (!strncmp(t, "tree/", 5) || !strncmp(t, "resolve/", 8) ||
		    !strncmp(t, "blob/", 5)) {
			t = strchr(t, '/') + 1;
			if (*t)
				rev = xstrndup(t, strcspn(t, "/"));
		}
	} else if (*end && !(url && *end == '/')) {
		return ms_error_set(err, MS_EUSAGE, "invalid repo id '%s' (expected owner/name)",
		                    spec);
	}
	if (!valid_segment(rest, n1) || (!seg2 && hub != MS_HUB_HF) ||
	    (seg2 && !valid_segment(seg2, n2))) {
		free(rev);
		return ms_error_set(err, MS_EUSAGE, "invalid repo id '%s' (expected owner/name)",
		                    spec);
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
	out->revision = rev;
	return 0;
}

void ms_repo_release(struct ms_repo *r)
{
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
	memset(f, 0, sizeof(*f));
}

void ms_file_copy(struct ms_file *dst, const struct ms_file *src)
{
	*dst = *src;
	dst->path = xstrdup(src->path);
	dst->revision = src->revision ? xstrdup(src->revision) : NULL;
	dst->etag = src->etag ? xstrdup(src->etag) : NULL;
	dst->oid = src->oid ? xstrdup(src->oid) : NULL;
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
