/*
 * URLs on libcurl's URL API: where a redirect may lead, origins (who gets the
 * token), resolution of a Location, quoting as the official Python clients
 * quote, and Link headers' next page.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/parse.h"
#include "mscli/strbuf.h"
#include "mscli/url.h"

bool ms_url_is_https(const char *url)
{
	return !strncasecmp(url, "https://", 8);
}

bool ms_url_is_http(const char *url)
{
	return !strncasecmp(url, "http://", 7) || ms_url_is_https(url);
}

bool ms_redirect_allowed(const char *from, const char *to, char *why, size_t n)
{
	/* file://, ftp:// and the like are never followed (libcurl would refuse them too) */
	if (ms_url_is_http(to))
		return true;
	snprintf(why, n, "%s redirects to '%s', which is not an http(s) URL: refused", from, to);
	return false;
}

static char *origin_parsed(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	/* CURLU_DEFAULT_PORT makes http://h and http://h:80 the same origin */
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	ms_lowercase(host);
	ms_lowercase(scheme);
	out = xasprintf("%s://%s:%s", scheme, host, port ? port : "");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/*
 * An origin is decided by what precedes the path ("scheme://authority"), and a
 * download asks for one or two per transfer, each a parse of a dozen
 * allocations, so each thread keeps its last few.  A URL is looked up only when
 * nothing after its authority is a byte curl refuses (a control or a space):
 * then it parses, and to the same origin, exactly when another URL with the
 * same authority did.
 */
#define ORIGIN_MEMO 4

static __thread struct origin_memo {
	char prefix[200];
	char origin[240];
} origin_memo[ORIGIN_MEMO];
static __thread unsigned origin_memo_next;

static size_t origin_prefix(const char *url)
{
	const char *sep = strstr(url, "://"), *end;

	if (!sep || sep == url || strcspn(url, "/?#") < (size_t)(sep - url))
		return 0;
	end = sep + 3 + strcspn(sep + 3, "/?#");
	for (const unsigned char *p = (const unsigned char *)end; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return (size_t)(end - url);
}

char *ms_url_origin(const char *url)
{
	size_t n = origin_prefix(url);
	struct origin_memo *m;
	char *out;

	if (!n || n >= sizeof(m->prefix))
		return origin_parsed(url);
	for (int i = 0; i < ORIGIN_MEMO; i++) {
		m = &origin_memo[i];
		if (!strncmp(m->prefix, url, n) && m->prefix[n] == '\0')
			return xstrdup(m->origin);
	}
	out = origin_parsed(url);
	if (out && strlen(out) < sizeof(m->origin)) {
		m = &origin_memo[origin_memo_next++ % ORIGIN_MEMO];
		memcpy(m->prefix, url, n);
		m->prefix[n] = '\0';
		strcpy(m->origin, out);
	}
	return out;
}

bool ms_http_same_origin(const char *a, const char *b)
{
	char *oa = ms_url_origin(a), *ob = ms_url_origin(b);
	bool same = oa && ob && !strcmp(oa, ob);

	free(oa);
	free(ob);
	return same;
}

char *ms_url_resolve(const char *base, const char *location)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	/* an absolute http(s) Location replaces the base whole in curl_url_set (a CDN's
	 * signed URL, once per file): the base need not be parsed for it */
	if (u &&
	    (ms_url_is_http(location) || curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK) &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = xstrdup(s);
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

static char *quote(const char *s, const char *safe, bool plus)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_adds(&b, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) || (*p && safe && strchr(safe, *p)))
			ms_buf_addch(&b, (char)*p);
		else if (plus && *p == ' ')
			ms_buf_addch(&b, '+');
		else
			ms_buf_addf(&b, "%%%02X", *p);
	}
	return ms_buf_detach(&b);
}

char *ms_url_quote_plus(const char *s)
{
	return quote(s, NULL, true);
}

char *ms_url_quote_path(const char *s, bool keep_slash)
{
	return quote(s, keep_slash ? "/" : NULL, false);
}

void ms_url_add_query(struct ms_buf *url, const char *key, const char *value)
{
	char *q;

	if (!value)
		return;
	q = ms_url_quote_plus(value);
	ms_buf_addf(url, "%c%s=%s", url->data && strchr(url->data, '?') ? '&' : '?', key, q);
	free(q);
}

char *ms_link_next(const char *link)
{
	/* Link: <url>; rel="next", <url2>; rel="prev" */
	const char *p = link;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *end;

		if (!lt || !(gt = strchr(lt, '>')))
			return NULL;
		end = strchr(gt, ',');
		if (!end)
			end = gt + strlen(gt);
		for (const char *q = gt; q < end; q++) {
			if (!strncasecmp(q, "rel=\"next\"", 10) || !strncasecmp(q, "rel=next", 8))
				return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}
