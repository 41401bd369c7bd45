/*
 * Requests to hub APIs.  Redirects are followed here rather than by curl so
 * that the auth headers are rebuilt for every hop: the token goes to the
 * hub's own origin only, never to a CDN it redirects to.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/common.h"
#include "mscli/http.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/strbuf.h"

void ms_http_init(struct ms_http *h, const struct ms_net_opts *net, const struct ms_auth *auth)
{
	memset(h, 0, sizeof(*h));
	h->easy = NULL;
	h->net = net;
	h->auth = auth;
}

void ms_http_release(struct ms_http *h)
{
	if (h->easy)
		curl_easy_cleanup(h->easy);
	h->easy = NULL;
}

void ms_http_response_release(struct ms_http_response *r)
{
	char **fields[] = {&r->url,
	                   &r->location,
	                   &r->retry_after,
	                   &r->ratelimit,
	                   &r->content_range,
	                   &r->content_type,
	                   &r->x_error_code,
	                   &r->x_error_message,
	                   &r->x_repo_commit,
	                   &r->etag,
	                   &r->x_linked_etag,
	                   &r->x_linked_size,
	                   &r->content_length,
	                   &r->link,
	                   &r->content_encoding,
	                   &r->server,
	                   &r->x_squid_error,
	                   &r->proxy_authenticate};

	for (size_t i = 0; i < MS_ARRAY_SIZE(fields); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
	ms_buf_release(&r->body);
	r->status = 0;
	r->attempts = 0;
	r->header_bytes = 0;
	r->headers_too_large = false;
}

struct curl_slist *ms_http_auth_headers(const struct ms_auth *auth, const char *url,
                                        struct curl_slist *list)
{
	char *origin;
	bool ours;

	if (!auth || !auth->origin)
		return list;
	origin = ms_url_origin(url);
	ours = origin && !strcmp(origin, auth->origin);
	free(origin);
	if (!ours)
		return list;
	if (auth->token) {
		char *h = xasprintf("Authorization: Bearer %s", auth->token);

		list = curl_slist_append(list, h);
		free(h);
	}
	return auth->extra_headers ? auth->extra_headers(auth, list) : list;
}

/* ---- one request ---- */

struct capture {
	struct ms_http_response *resp;
	size_t max_body;
	bool too_big;
};

static void set_field(char **field, const char *v, size_t n)
{
	while (n && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	free(*field);
	*field = xstrndup(v, n);
}

int ms_http_capture_header(struct ms_http_response *r, const char *line, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
#define F(n, f) {n, offsetof(struct ms_http_response, f)}
	        F("location", location),
	        F("retry-after", retry_after),
	        F("ratelimit", ratelimit),
	        F("content-range", content_range),
	        F("content-type", content_type),
	        F("x-error-code", x_error_code),
	        F("x-error-message", x_error_message),
	        F("x-repo-commit", x_repo_commit),
	        F("etag", etag),
	        F("x-linked-etag", x_linked_etag),
	        F("x-linked-size", x_linked_size),
	        F("content-length", content_length),
	        F("link", link),
	        F("content-encoding", content_encoding),
	        F("server", server),
	        F("x-squid-error", x_squid_error),
	        F("proxy-authenticate", proxy_authenticate),
#undef F
	};
	const char *colon = memchr(line, ':', len);
	size_t seen = r->header_bytes + len;

	/* a server that never ends its headers must not fill memory */
	if (seen > MS_HTTP_MAX_HEADERS) {
		r->headers_too_large = true;
		return -1;
	}
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new response (after a 1xx): forget the previous headers, not their size. */
		struct ms_buf body = r->body;
		char *url = r->url;

		r->body = (struct ms_buf)MS_BUF_INIT;
		r->url = NULL;
		ms_http_response_release(r);
		r->body = body;
		r->url = url;
		r->header_bytes = seen;
		return 0;
	}
	r->header_bytes = seen;
	if (!colon)
		return 0;
	for (size_t i = 0; i < MS_ARRAY_SIZE(known); i++) {
		size_t nl = strlen(known[i].name);

		if ((size_t)(colon - line) == nl && !strncasecmp(line, known[i].name, nl)) {
			set_field((char **)((char *)r + known[i].off), colon + 1, len - nl - 1);
			return 0;
		}
	}
	return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct capture *c = arg;

	return ms_http_capture_header(c->resp, p, size * n) ? 0 : size * n;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct capture *c = arg;

	if (c->resp->body.len + size * n > c->max_body) {
		c->too_big = true;
		return 0;
	}
	ms_buf_add(&c->resp->body, p, size * n);
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	const struct ms_http_request *req = arg;
	size_t got = req->body_read(req->body_arg, buf, size * n);

	return got == SIZE_MAX ? CURL_READFUNC_ABORT : got;
}

/* curl's progress callback: a non-zero return aborts the transfer (Ctrl-C). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return ms_interrupted();
}

static int perform_once(struct ms_http *h, const struct ms_http_request *req, const char *url,
                        struct ms_http_response *resp, bool *too_big, CURLcode *cc)
{
	struct capture cap = {resp, req->max_body ? req->max_body : 64u << 20, false};
	struct curl_slist *hdrs = NULL;
	CURL *e;
	const char *method = req->method ? req->method : "GET";
	const char *proxy;

	if (!h->easy)
		h->easy = curl_easy_init();
	e = h->easy;
	if (!e)
		return -1;
	curl_easy_reset(e);
	ms_http_setup_easy(e, h->net, url, h->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, h->net->api_timeout);
	/*
	 * API answers may be compressed; file bytes never are (transfer.c), and
	 * neither is a HEAD: its Content-Length must be the file's (HF §1.3).
	 * An answer that says it is larger than we take is refused before its body.
	 */
	if (strcmp(method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap.max_body);
	} else {
		hdrs = curl_slist_append(hdrs, "Accept-Encoding: identity");
	}
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &cap);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &cap);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (req->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (req->body_read) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, req);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
		/* a large body takes its time; a stalled one still fails (LOW_SPEED_TIME) */
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 0L);
		hdrs = curl_slist_append(hdrs, "Expect:");
	}
	if (req->content_type) {
		char *ct = xasprintf("Content-Type: %s", req->content_type);

		hdrs = curl_slist_append(hdrs, ct);
		free(ct);
	}
	if (req->accept) {
		char *a = xasprintf("Accept: %s", req->accept);

		hdrs = curl_slist_append(hdrs, a);
		free(a);
	}
	if (!req->no_auth)
		hdrs = ms_http_auth_headers(h->auth, url, hdrs);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);

	proxy = ms_proxy_for(&h->net->proxy, url, NULL);
	resp->proxy = proxy && !strncasecmp(url, "http://", 7) ? proxy : NULL;
	ms_verbose("> %s %s", method, url);
	*cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	*too_big = cap.too_big;
	if (*cc == CURLE_OK)
		ms_verbose("< %ld %s (%zu bytes)", resp->status, url, resp->body.len);
	else
		ms_verbose("< %s: %s", url, h->errbuf[0] ? h->errbuf : curl_easy_strerror(*cc));
	return 0;
}

double ms_http_retry_wait(const struct ms_http_response *r)
{
	double w = -1;

	if (r->ratelimit && ms_parse_ratelimit_wait(r->ratelimit, &w) == 0)
		return w + 1; /* the window resets after t seconds; huggingface_hub adds one */
	if (r->retry_after && ms_parse_retry_after(r->retry_after, time(NULL), &w) == 0)
		return w;
	return -1;
}

/* Retries are spent (or the wait asked for is too long); why: a transport failure, or NULL. */
static int give_up(const struct ms_http *h, const struct ms_http_response *resp, const char *why,
                   const char *what, const char *url, int attempts, double wait,
                   struct ms_error *err)
{
	if (why)
		return ms_error_set(err, MS_ENET, "%s: %s: %s (after %d attempts)", what, url, why,
		                    attempts);
	if (resp->status == 429)
		return ms_error_set(
		        err, MS_ENET, "%s: %s: rate limited (429)%s after %d attempts", what, url,
		        wait > h->net->retry_max_wait ? ", retry wait too long" : "", attempts);
	return 0; /* a persisting 5xx is returned for the caller to map */
}

static void announce_retry(const struct ms_http *h, const char *what, const char *url,
                           const struct ms_http_response *resp, const char *why, int attempt,
                           double wait)
{
	char reason[sizeof(((struct ms_net_failure *)0)->reason)];
	struct ms_retry_note note = {.what = what,
	                             .url = url,
	                             .reason = reason,
	                             .attempt = attempt,
	                             .attempts = h->net->retries + 1,
	                             .delay = wait};

	if (why)
		snprintf(reason, sizeof(reason), "%s", why);
	else
		snprintf(reason, sizeof(reason), "HTTP %ld", resp->status);
	ms_verbose("  retry %d/%d in %.1fs (%s)", attempt, h->net->retries, wait, reason);
	if (h->on_retry)
		h->on_retry(h->retry_arg, &note);
}

/* A 3xx followed by hand: *url becomes where it leads, if it may lead there. */
static int redirect(const char *what, char **url, const char *location, int *redirects,
                    struct ms_error *err)
{
	char *next = ms_url_resolve(*url, location);
	char why[600];

	if (!next || ++*redirects > 10) {
		free(next);
		return ms_error_set(err, MS_EPROTO, "%s: %s: bad or endless redirect", what, *url);
	}
	if (!ms_redirect_allowed(*url, next, why, sizeof(why))) {
		free(next);
		return ms_error_set(err, MS_EPROTO, "%s: %s", what, why);
	}
	ms_verbose("  redirect to %s", next);
	free(*url);
	*url = next;
	return 0;
}

/* One attempt at url: 0 with an answer, 1 to try again, or an error. */
static int attempt_once(struct ms_http *h, const struct ms_http_request *req, const char *what,
                        const char *url, struct ms_http_response *resp, struct ms_net_failure *fail,
                        struct ms_error *err)
{
	bool too_big = false;
	CURLcode cc = CURLE_OK;
	enum ms_retry_class rc;

	ms_http_response_release(resp);
	resp->url = xstrdup(url);
	fail->reason[0] = '\0';
	if (perform_once(h, req, url, resp, &too_big, &cc) < 0)
		return ms_error_set(err, MS_EFAIL, "cannot initialise libcurl");
	if (too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return ms_error_set(err, MS_EPROTO, "%s: answer from %s is larger than %zu bytes",
		                    what, url, req->max_body ? req->max_body : 64u << 20);
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return ms_error_set(err, MS_EINTR, "interrupted");
	if (cc != CURLE_OK) {
		ms_http_failure(h->easy, (int)cc, url, h->errbuf, h->net, resp, fail);
		rc = (enum ms_retry_class)fail->retry;
	} else {
		rc = ms_retry_classify(0, resp->status, false);
	}
	if (req->once && rc == MS_RETRY_YES)
		rc = MS_RETRY_NO;
	if (rc == MS_RETRY_NO && cc != CURLE_OK)
		return ms_error_set(err, fail->code, "%s: %s: %s", what, url, fail->reason);
	return rc == MS_RETRY_NO ? 0 : 1;
}

int ms_http_request(struct ms_http *h, const struct ms_http_request *req,
                    struct ms_http_response *resp, struct ms_error *err)
{
	char *url = xstrdup(req->url);
	/* a copy: url itself changes when a redirect is followed */
	char *what = xstrdup(req->what ? req->what : req->url);
	int attempt = 0, redirects = 0, ret = 0;
	struct ms_net_failure fail;

	for (;;) {
		const char *why;
		double wait;

		if (ms_interrupted()) {
			ret = ms_error_set(err, MS_EINTR, "interrupted");
			break;
		}
		ret = attempt_once(h, req, what, url, resp, &fail, err);
		if (ret < 0)
			break;
		if (!ret && resp->status >= 300 && resp->status < 400 && resp->location &&
		    !req->no_follow && !req->body_read) {
			if ((ret = redirect(what, &url, resp->location, &redirects, err)) != 0)
				break;
			continue;
		}
		if (!ret)
			break;
		/* transient */
		why = fail.reason[0] ? fail.reason : NULL;
		wait = why ? -1 : ms_http_retry_wait(resp);
		if (!ms_retry_next(h->net, ++attempt, &wait)) {
			ret = give_up(h, resp, why, what, url, attempt, wait, err);
			resp->attempts = attempt; /* for the caller's message of a lasting 5xx */
			break;
		}
		announce_retry(h, what, url, resp, why, attempt, wait);
		ms_sleep(wait);
	}
	free(url);
	free(what);
	return ret;
}

/* First line of a JSON or text error body, for messages. */
static char *server_message(const struct ms_http_response *r)
{
	static const char *const keys[] = {"message", "Message", "msg",    "Msg",
	                                   "error",   "Error",   "detail", "Detail"};
	cJSON *j;
	char *out = NULL;

	if (r->x_error_message)
		return xstrdup(r->x_error_message);
	if (!r->body.len)
		return NULL;
	j = cJSON_ParseWithLength(r->body.data, r->body.len);
	if (j) {
		for (size_t i = 0; i < MS_ARRAY_SIZE(keys) && !out; i++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);

			if (cJSON_IsString(v) && v->valuestring[0])
				out = xstrdup(v->valuestring);
		}
		cJSON_Delete(j);
		return out;
	}
	if (r->content_type && strstr(r->content_type, "html"))
		return NULL;
	{
		size_t n = strcspn(r->body.data, "\r\n");

		out = xstrndup(r->body.data, n > 200 ? 200 : n);
	}
	return out;
}

/* What a 401/403 should suggest: the hub's own token sources, and whether one was sent. */
static const char *auth_hint(const struct ms_auth *auth)
{
	const char *hint = !auth ? NULL : auth->token ? auth->hint_token_sent : auth->hint_no_token;

	return hint ? hint : " (check the token: --token)";
}

/*
 * A plain http:// request is forwarded, not tunnelled: a 401/403 may be the proxy's own
 * refusal, and curl cannot tell.  The hubs answer in JSON or with their X-Error headers;
 * a proxy's own page says who made it (Server: tinyproxy/..., squid/..., X-Squid-Error),
 * and a 407 or a Proxy-Authenticate is always the proxy's.
 */
static bool from_the_proxy(const struct ms_http_response *r)
{
	if (!r->proxy)
		return false;
	if (r->status == 407 || r->proxy_authenticate)
		return true;
	if ((r->status != 401 && r->status != 403) || r->x_error_code || r->x_error_message ||
	    (r->content_type && strstr(r->content_type, "json")))
		return false;
	return r->x_squid_error ||
	       (r->server && (strcasestr(r->server, "proxy") || strcasestr(r->server, "squid")));
}

/* The proxy's own refusal: a network failure (exit 3) that names it, not the hub's. */
static int proxy_status_error(const struct ms_http_response *r, const char *what,
                              struct ms_error *err)
{
	char *shown = ms_proxy_display(r->proxy);
	bool creds = r->status == 407 || r->status == 401 || r->proxy_authenticate;

	ms_error_set(err, MS_ENET, "%s: %s: HTTP %ld through proxy %s, from the proxy itself: %s",
	             what, r->url ? r->url : "?", r->status, shown,
	             creds ? "it wants credentials: give them in its URL, "
	                     "http://user:password@host:port"
	                   : "it refused to forward the request (its rules, not the hub's)");
	err->http_status = r->status;
	free(shown);
	return MS_ENET;
}

int ms_http_status_error(const struct ms_auth *auth, const struct ms_http_response *r,
                         const char *what, struct ms_error *err)
{
	char *msg, via[300] = "";
	int code;
	const char *hint = "";

	if (from_the_proxy(r))
		return proxy_status_error(r, what, err);
	msg = server_message(r);
	if (r->status == 404 || r->status == 410)
		code = MS_ENOTFOUND;
	else if (r->status == 401 || r->status == 403) {
		code = MS_EAUTH;
		hint = auth_hint(auth);
	} else if (r->status == 429) {
		code = MS_ENET;
	} else if (r->status == 407) {
		code = MS_ENET;
		hint = " (the proxy wants credentials: give them in its URL, "
		       "http://user:password@host:port)";
	} else {
		code = MS_EFAIL;
	}
	if (r->proxy) {
		/* forwarded, and the hub's own answer: the way it came is still worth saying */
		char *shown = ms_proxy_display(r->proxy);

		snprintf(via, sizeof(via), " through proxy %s", shown);
		free(shown);
	}
	ms_error_set(err, code, "%s: %s: HTTP %ld%s%s%s%s", what, r->url ? r->url : "?", r->status,
	             via, msg ? ": " : "", msg ? msg : "", hint);
	if (r->attempts > 1)
		ms_error_append(err, " (after %d attempts)", r->attempts);
	err->http_status = r->status;
	free(msg);
	return code;
}

/* ---- pure helpers ---- */

static bool parse_u64(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	*p = s;
	*out = v;
	return true;
}

int ms_parse_content_range(const char *v, uint64_t *start, uint64_t *end, uint64_t *total)
{
	const char *p = v;

	while (*p == ' ')
		p++;
	if (strncasecmp(p, "bytes", 5))
		return -1;
	p += 5;
	if (*p != ' ' && *p != '=')
		return -1;
	while (*p == ' ' || *p == '=')
		p++;
	if (*p == '*') {
		p++;
		*start = *end = UINT64_MAX;
		if (*p++ != '/' || !parse_u64(&p, total))
			return -1;
		return *p == '\0' || isspace((unsigned char)*p) ? 1 : -1;
	}
	if (!parse_u64(&p, start) || *p++ != '-' || !parse_u64(&p, end) || *p++ != '/')
		return -1;
	if (*p == '*')
		*total = UINT64_MAX, p++;
	else if (!parse_u64(&p, total))
		return -1;
	if (*p != '\0' && !isspace((unsigned char)*p))
		return -1;
	if (*end < *start || (*total != UINT64_MAX && *end >= *total))
		return -1;
	return 0;
}

int ms_parse_retry_after(const char *v, time_t now, double *seconds)
{
	const char *p = v;
	uint64_t n;
	time_t t;

	while (*p == ' ')
		p++;
	if (isdigit((unsigned char)*p)) {
		if (!parse_u64(&p, &n))
			return -1;
		while (*p == ' ')
			p++;
		if (*p)
			return -1;
		*seconds = (double)n;
		return 0;
	}
	t = curl_getdate(p, NULL);
	if (t < 0)
		return -1;
	*seconds = t > now ? (double)(t - now) : 0;
	return 0;
}

int ms_parse_ratelimit_wait(const char *v, double *seconds)
{
	/* "resolvers";r=0;t=55 : wait only when nothing remains */
	const char *r = strstr(v, ";r="), *t = strstr(v, ";t=");
	uint64_t rem, reset;

	if (!r || !t)
		return -1;
	r += 3;
	t += 3;
	if (!parse_u64(&r, &rem) || !parse_u64(&t, &reset))
		return -1;
	if (rem > 0)
		return -1;
	*seconds = (double)reset;
	return 0;
}

enum ms_retry_class ms_retry_classify(int curlcode, long status, bool from_redirect)
{
	switch (curlcode) {
	case CURLE_OK:
		break;
	/* Transport failures worth another attempt. */
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return MS_RETRY_YES;
	default:
		/* name resolution, TLS (verification, or a handshake with a server that does not
		 * speak it), a bad URL, a reply that is not HTTP, out of memory...: final */
		return MS_RETRY_NO;
	}
	if (status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	    status == 504 || status == 522 || status == 524)
		return MS_RETRY_YES;
	/* A signed CDN URL that expired answers 403 (S3), 401 or 410. */
	if (from_redirect && (status == 401 || status == 403 || status == 410))
		return MS_RETRY_REFRESH;
	return MS_RETRY_NO;
}

bool ms_retry_next(const struct ms_net_opts *net, int attempts, double *wait)
{
	if (attempts > net->retries || *wait > net->retry_max_wait)
		return false;
	if (*wait < 0)
		*wait = ms_backoff_delay(attempts, net->retry_delay, 30, ms_random01());
	return true;
}

double ms_backoff_delay(int attempt, double base, double cap, double rnd01)
{
	double d = base;

	for (int i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d * (0.5 + rnd01 / 2);
}
