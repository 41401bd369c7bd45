/* HTTP on libcurl: requests with retries, auth only for the hub's own origin. */
#ifndef MSCLI_HTTP_H
#define MSCLI_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "proxy.h"
#include "strbuf.h"
#include "url.h"

struct curl_slist;

/*
 * Who we are to the hub.  The token is sent only to origin (scheme://host:port);
 * what else a hub wants on its own requests (ModelScope: a request id and the
 * token as a cookie) comes from the hub through extra_headers, so this layer
 * never asks which hub it talks to.
 */
struct ms_auth {
	char *token;  /* NULL when anonymous */
	char *origin; /* the hub endpoint's origin */
	struct curl_slist *(*extra_headers)(const struct ms_auth *auth, struct curl_slist *list);
	/* What a 401/403 should suggest, with and without a token sent. */
	const char *hint_token_sent, *hint_no_token;
};

struct ms_net_opts {
	int retries;           /* attempts after the first */
	double retry_delay;    /* first backoff, doubled per attempt */
	double retry_max_wait; /* a longer Retry-After is "beyond the budget" */
	long connect_timeout;  /* seconds */
	long stall_timeout;    /* seconds without a byte before a transfer fails */
	long api_timeout;      /* seconds for a whole API request */
	/*
	 * The CAs that verify servers (verification is never off).  ca_file
	 * replaces libcurl's bundle: --cacert, else CURL_CA_BUNDLE, else
	 * REQUESTS_CA_BUNDLE, else SSL_CERT_FILE, and ca_from says which.
	 * ca_dir (SSL_CERT_DIR: certificates named by hash, as `openssl rehash`
	 * leaves them) replaces libcurl's directory.  NULL: libcurl's own.
	 */
	const char *ca_file, *ca_from, *ca_dir;
	struct ms_proxy_env proxy; /* the proxy variables */
};

/* Defaults, the CA and proxy variables from the environment. */
void ms_net_opts_init(struct ms_net_opts *n);
/* The CA file can be read and the CA directory is one: else MS_EUSAGE naming the source. */
int ms_net_opts_check(const struct ms_net_opts *n, struct ms_error *err);

/* Room for libcurl's error buffer (CURL_ERROR_SIZE, checked in http-net.c). */
#define MS_NET_ERRBUF 256

/*
 * Why a request got no usable answer, in words: the proxy it failed at, a
 * certificate that does not verify (and how to give its CA), a timeout and
 * the option that set it, else libcurl's own detail; and whether another
 * try may help.
 */
struct ms_net_failure {
	int retry; /* enum ms_retry_class */
	int code;  /* MS_ENET; MS_EPROTO for an answer no client should take */
	/* no other transfer of the run can do better (the CA set, the proxy): the run stops */
	bool stops_all;
	char reason[768];
};

struct ms_http_response {
	long status;
	struct ms_buf body;
	char *url; /* the URL that produced this answer */
	/* Headers we act on (NULL when absent), values trimmed. */
	char *location, *retry_after, *ratelimit, *content_range, *content_type;
	char *x_error_code, *x_error_message, *x_repo_commit, *etag, *x_linked_etag, *x_linked_size,
	        *content_length, *link, *content_encoding;
	/* Who made the answer, when a proxy may have: its Server, Squid's error header. */
	char *server, *x_squid_error, *proxy_authenticate;
	/* The proxy a plain http:// request was forwarded by (borrowed), NULL otherwise. */
	const char *proxy;
	int attempts;           /* >1: a transient status that lasted through this many tries */
	size_t header_bytes;    /* of every response so far (1xx included) */
	bool headers_too_large; /* beyond MS_HTTP_MAX_HEADERS: the transfer was stopped */
};

/* Headers of one exchange beyond this are hostile: the transfer stops (libcurl's own
 * limits, 100 KiB a line and 300 KiB in all, fail less clearly). */
#define MS_HTTP_MAX_HEADERS (256u << 10)

struct ms_http_request {
	const char *method; /* default GET */
	const char *url;
	const char *body;
	size_t body_len;
	const char *content_type;
	const char *accept;
	bool no_follow;   /* return 3xx answers instead of following them */
	size_t max_body;  /* default 64 MiB; larger bodies fail with MS_EPROTO */
	const char *what; /* for messages: "listing of owner/name" */
	/*
	 * Sent once, whatever happens: no retry after a transport error or a 5xx
	 * (a commit whose answer was lost may have landed; the caller finds out).
	 */
	bool once;
	bool no_auth; /* no credential at all, even on the hub's origin */
	/* A body made while it is sent (once only): body_size bytes from body_read, which
	 * returns how many it put in buf (up to n), or SIZE_MAX to abort the request. */
	size_t (*body_read)(void *arg, char *buf, size_t n);
	void *body_arg;
	uint64_t body_size;
};

/* A request that will be tried again: what, where, why, which attempt, and after how long. */
struct ms_retry_note {
	const char *what;
	const char *url;
	const char *reason;
	int attempt, attempts; /* this is try number attempt + 1 of at most attempts */
	double delay;
};

struct ms_http {
	void *easy; /* CURL *, reused so connections persist */
	char errbuf[MS_NET_ERRBUF];
	const struct ms_net_opts *net;
	const struct ms_auth *auth;
	/* Told before each retry wait, so a user sees why nothing happens; may be NULL. */
	void (*on_retry)(void *arg, const struct ms_retry_note *note);
	void *retry_arg;
};

void ms_http_init(struct ms_http *h, const struct ms_net_opts *net, const struct ms_auth *auth);
void ms_http_release(struct ms_http *h);
void ms_http_response_release(struct ms_http_response *r);

/*
 * Perform a request, following redirects by hand (auth headers are rebuilt
 * for every hop and dropped when the origin changes) and retrying transport
 * errors, 408, 429 and 5xx with backoff, Retry-After and RateLimit.  Returns
 * 0 with any final HTTP status in resp (the caller decides what a 404
 * means), or MS_ENET/MS_EPROTO when no usable answer arrived.
 */
int ms_http_request(struct ms_http *h, const struct ms_http_request *req,
                    struct ms_http_response *resp, struct ms_error *err);

/* Seconds a 429/503 asks to wait (RateLimit, then Retry-After); -1 when it does not say. */
double ms_http_retry_wait(const struct ms_http_response *r);

/* Feed one raw header line (status lines reset the captured set).  -1 when the headers
 * went beyond MS_HTTP_MAX_HEADERS (headers_too_large): stop the transfer. */
int ms_http_capture_header(struct ms_http_response *r, const char *line, size_t len);

/* An HTTP error status as an ms_error with the server's message; a 401/403 adds the
 * auth's hint (the hub's own token sources). */
int ms_http_status_error(const struct ms_auth *auth, const struct ms_http_response *r,
                         const char *what, struct ms_error *err);

/*
 * Set easy up for url with the options every mscli request shares (TLS,
 * timeouts, UA, the proxy for url); errbuf (MS_NET_ERRBUF bytes, may be
 * NULL) gets libcurl's detail of a failure.
 */
void ms_http_setup_easy(void *easy, const struct ms_net_opts *net, const char *url, char *errbuf);
/*
 * For easy handles driven by curl_multi_socket_action (the transfer engine): TLS
 * records are read ahead, up to `bytes` per recv() (0: not), unless url goes
 * through an https:// proxy.  libcurl 7.88 asks OpenSSL only for bytes it has decrypted, not for
 * records it has read ahead, so the caller must call ms_http_tls_pending after
 * each action and, while it is true, tell curl the socket is readable.
 */
void ms_http_read_ahead(void *easy, const struct ms_net_opts *net, const char *url, size_t bytes);
/* Bytes of easy's TLS connection that OpenSSL holds and curl has not read. */
bool ms_http_tls_pending(void *easy);
/* How many TLS records connections that read ahead have begun to read: a count that
 * moves when curl took a record, and stays when all that is left is part of one. */
unsigned long ms_http_tls_records(void);
/* What curlcode on easy (set up for url with errbuf) means, for a message and a retry. */
void ms_http_failure(void *easy, int curlcode, const char *url, const char *errbuf,
                     const struct ms_net_opts *net, const struct ms_http_response *resp,
                     struct ms_net_failure *f);
/* Auth (and per-hub) headers for url, appended to list; token only for auth->origin. */
struct curl_slist *ms_http_auth_headers(const struct ms_auth *auth, const char *url,
                                        struct curl_slist *list);

/* ---- pure helpers (unit-tested) ---- */

/* "bytes a-b/total" -> 0; "bytes * /total" -> 1 with *start = *end = UINT64_MAX; -1 invalid. */
int ms_parse_content_range(const char *v, uint64_t *start, uint64_t *end, uint64_t *total);
/* Retry-After: delta seconds or an HTTP-date relative to now; -1 when invalid. */
int ms_parse_retry_after(const char *v, time_t now, double *seconds);
/* IETF RateLimit ("bucket";r=0;t=55): seconds until reset when r == 0, else -1. */
int ms_parse_ratelimit_wait(const char *v, double *seconds);

enum ms_retry_class {
	MS_RETRY_NO = 0,  /* final answer */
	MS_RETRY_YES,     /* transient: back off and try again */
	MS_RETRY_REFRESH, /* a signed URL expired: go back to the hub for a new one */
};
/*
 * Classify one attempt.  Transport failures another try can fix (a refused or
 * reset connection, a timeout) are retried; those it cannot (a name that does
 * not resolve, a certificate that does not verify, a TLS handshake with a
 * plain-HTTP port, a bad URL) fail at once.  curlcode is a CURLcode (0 when a response came),
 * status the HTTP status, from_redirect whether the URL came from a
 * redirect to another origin (a CDN), where 401/403/410 mean "expired".
 */
enum ms_retry_class ms_retry_classify(int curlcode, long status, bool from_redirect);
/* Exponential backoff with jitter: base * 2^(attempt-1), capped, times [0.5, 1). */
double ms_backoff_delay(int attempt, double base, double cap, double rnd01);
/*
 * After the attempts-th failure in a row, the server asking to wait *wait seconds (<0:
 * it did not say): true with *wait the delay before the next try, or false when that
 * ends it (the retries spent, or the wait longer than net allows; *wait untouched).
 */
bool ms_retry_next(const struct ms_net_opts *net, int attempts, double *wait);

#endif
