/*
 * What lies under every request: the CAs that verify servers, the proxy a
 * request goes through (proxy.h), the options every handle shares, and what
 * a transfer that got no usable answer means -- in words that name the
 * proxy or the host at fault, with what to do about it, and whether another
 * try may help.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/env.h"
#include "mscli/http.h"
#include "mscli/url.h"
#include "mscli/log.h"
#include "mscli/version.h"

_Static_assert(MS_NET_ERRBUF >= CURL_ERROR_SIZE, "room for libcurl's error buffer");

static const char *const ca_vars[] = {"CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"};

void ms_net_opts_init(struct ms_net_opts *n)
{
	memset(n, 0, sizeof(*n));
	n->retries = 5;
	n->retry_delay = 1.0;
	n->retry_max_wait = 120.0;
	n->connect_timeout = 15;
	n->stall_timeout = 30;
	n->api_timeout = 120;
	/* curl's variable, then the one Python's requests reads, then OpenSSL's */
	for (size_t i = 0; i < MS_ARRAY_SIZE(ca_vars) && !n->ca_file; i++)
		if ((n->ca_file = ms_getenv(ca_vars[i])) != NULL)
			n->ca_from = ca_vars[i];
	n->ca_dir = ms_getenv("SSL_CERT_DIR");
	ms_proxy_env_read(&n->proxy);
}

int ms_net_opts_check(const struct ms_net_opts *n, struct ms_error *err)
{
	struct stat st;
	const char *p;

	if (n->ca_file) {
		if (stat(n->ca_file, &st) != 0 || access(n->ca_file, R_OK) != 0)
			return ms_error_set(err, MS_EUSAGE, "cannot read the CA file '%s' (%s): %s",
			                    n->ca_file, n->ca_from, strerror(errno));
		if (S_ISDIR(st.st_mode))
			return ms_error_set(err, MS_EUSAGE,
			                    "the CA file '%s' (%s) is a directory (SSL_CERT_DIR "
			                    "takes directories)",
			                    n->ca_file, n->ca_from);
	}
	/* OpenSSL takes a list, as PATH: every entry must be a directory */
	for (p = n->ca_dir; p && *p; p += strcspn(p, ":"), p += *p == ':') {
		size_t len = strcspn(p, ":");
		char *dir = xstrndup(p, len);
		int bad = !len                   ? 0
		          : stat(dir, &st) != 0  ? errno
		          : !S_ISDIR(st.st_mode) ? ENOTDIR
		                                 : 0;

		if (bad)
			ms_error_set(err, MS_EUSAGE, "SSL_CERT_DIR names '%s': %s", dir,
			             strerror(bad));
		free(dir);
		if (bad)
			return MS_EUSAGE;
	}
	return 0;
}

/*
 * The CA store, read once per run.  With both a CA file and a CA directory,
 * libcurl reads the file again for every TLS connection (its cache of the
 * store is for a file alone), and Debian's libcurl has both by default: ~19 ms
 * of CPU per connection for the 145 certificates of ca-certificates, on the
 * thread that runs every transfer (2000 small files over TLS with that
 * bundle: 0.89 s against 0.70 s with a one-certificate file).  So libcurl is
 * given no CA file or directory, and each TLS context it makes (for servers and
 * https:// proxies) gets this store: the file and the directory it would have
 * read -- ours (--cacert, the variables, SSL_CERT_DIR) or its defaults -- with
 * the flags libcurl sets on its own.  Verification itself stays libcurl's.
 */
static struct {
	pthread_mutex_t lock;
	const char *def_file, *def_dir; /* libcurl's defaults (CURLINFO_CAINFO, _CAPATH) */
	bool defaults_known;
	X509_STORE *store;
	char *file, *dir; /* what store holds */
	char why[300];    /* why the last one could not be made */
} cas = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The store for net's CA file and directory (cas.lock held); NULL when the file
 * cannot be read as certificates. */
static X509_STORE *ca_store(const struct ms_net_opts *net)
{
	const char *file = net->ca_file ? net->ca_file : cas.def_file;
	const char *dir = net->ca_dir ? net->ca_dir : cas.def_dir;
	const char *bad = NULL;
	X509_STORE *s;

	if (cas.store && same_str(file, cas.file) && same_str(dir, cas.dir))
		return cas.store;
	if (!(s = X509_STORE_new()))
		return NULL;
	if (file && !X509_STORE_load_file(s, file))
		bad = file;
	else if (dir && !X509_STORE_load_path(s, dir))
		bad = dir;
	if (bad) {
		unsigned long e = ERR_peek_last_error();
		const char *reason = e ? ERR_reason_error_string(e) : NULL;

		snprintf(cas.why, sizeof(cas.why), "no certificates read from %s (%s)", bad,
		         reason ? reason : "?");
		ERR_clear_error();
		X509_STORE_free(s);
		return NULL;
	}
	/* as libcurl's: the trusted store first, and an intermediate CA may anchor */
	X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_free(cas.store); /* contexts made with it keep their own reference */
	cas.why[0] = '\0';
	free(cas.file);
	free(cas.dir);
	cas.store = s;
	cas.file = file ? xstrdup(file) : NULL;
	cas.dir = dir ? xstrdup(dir) : NULL;
	return s;
}

static CURLcode on_ssl_ctx(CURL *e, void *ssl_ctx, void *arg)
{
	X509_STORE *s;

	(void)e;
	pthread_mutex_lock(&cas.lock);
	if ((s = ca_store(arg)) != NULL)
		SSL_CTX_set1_cert_store(ssl_ctx, s); /* its own reference */
	pthread_mutex_unlock(&cas.lock);
	return s ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

/*
 * TLS records read ahead, for the transfer engine's sockets only (ms_http_read_ahead).
 * Without it OpenSSL reads a record's 5-byte header and then its body, two recv()s
 * per 16 KiB, and libcurl 7.88 polls every ready socket once more per record.
 */
static _Atomic size_t read_ahead_bytes; /* ms_http_read_ahead's, for on_ssl_ctx_ahead */

/* TLS records whose header OpenSSL has parsed, on connections that read ahead */
static _Atomic unsigned long tls_records;

static void on_tls_msg(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
	(void)version;
	(void)buf;
	(void)len;
	(void)ssl;
	(void)arg;
	if (!write_p && content_type == SSL3_RT_HEADER)
		atomic_fetch_add_explicit(&tls_records, 1, memory_order_relaxed);
}

static void read_ahead(void *ssl_ctx)
{
	SSL_CTX_set_read_ahead(ssl_ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ssl_ctx, atomic_load(&read_ahead_bytes));
	SSL_CTX_set_msg_callback(ssl_ctx, on_tls_msg);
}

unsigned long ms_http_tls_records(void)
{
	return atomic_load_explicit(&tls_records, memory_order_relaxed);
}

static CURLcode on_ssl_ctx_ahead(CURL *e, void *ssl_ctx, void *arg)
{
	(void)e;
	(void)arg;
	read_ahead(ssl_ctx);
	return CURLE_OK;
}

static CURLcode on_ssl_ctx(CURL *e, void *ssl_ctx, void *arg);

static CURLcode on_ssl_ctx_store_ahead(CURL *e, void *ssl_ctx, void *arg)
{
	read_ahead(ssl_ctx);
	return on_ssl_ctx(e, ssl_ctx, arg);
}

/* Hand the CA set to on_ssl_ctx; false when this libcurl cannot (another TLS library, or
 * too old to say its defaults), and it reads the CAs itself. */
static bool shared_ca_store(CURL *e, const struct ms_net_opts *net)
{
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO, CURLINFO_CAPATH: 7.84 */
	bool any;

	pthread_mutex_lock(&cas.lock);
	if (!cas.defaults_known) {
		char *file = NULL, *dir = NULL;

		curl_easy_getinfo(e, CURLINFO_CAINFO, &file);
		curl_easy_getinfo(e, CURLINFO_CAPATH, &dir);
		cas.def_file = file; /* libcurl's own constants */
		cas.def_dir = dir;
		cas.defaults_known = true;
	}
	/* nothing to read: a libcurl built to fall back on OpenSSL's own default paths */
	any = net->ca_file || net->ca_dir || cas.def_file || cas.def_dir;
	pthread_mutex_unlock(&cas.lock);
	if (!any || curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK)
		return false;
	curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, (void *)net);
	curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L); /* no store of its own in between */
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_PROXY_CAPATH, NULL);
	return true;
#else
	(void)e;
	(void)net;
	return false;
#endif
}

void ms_http_setup_easy(void *easy, const struct ms_net_opts *net, const char *url, char *errbuf)
{
	CURL *e = easy;
	const char *from, *proxy = ms_proxy_for(&net->proxy, url, &from);

	curl_easy_setopt(e, CURLOPT_USERAGENT, "mscli/" MSCLI_VERSION);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, net->connect_timeout);
	/* A stall (no byte for stall_timeout seconds) fails the attempt. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, net->stall_timeout);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_URL, url);
	/* the proxy chosen here or none: libcurl must not pick another from the environment */
	curl_easy_setopt(e, CURLOPT_PROXY, proxy ? proxy : "");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "");
	if (proxy && ms_log_enabled()) {
		char *shown = ms_proxy_display(proxy);

		ms_verbose("  through proxy %s (%s): %s", shown, from, url);
		free(shown);
	}
	/* TLS verification stays on (curl's default); only the CA set can change, for the
	 * servers and for an https:// proxy alike */
	if (!shared_ca_store(e, net)) {
		if (net->ca_file) {
			curl_easy_setopt(e, CURLOPT_CAINFO, net->ca_file);
			curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, net->ca_file);
		}
		if (net->ca_dir) {
			curl_easy_setopt(e, CURLOPT_CAPATH, net->ca_dir);
			curl_easy_setopt(e, CURLOPT_PROXY_CAPATH, net->ca_dir);
		}
	}
	if (errbuf) {
		errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	}
}

void ms_http_read_ahead(void *easy, const struct ms_net_opts *net, const char *url, size_t bytes)
{
	const char *proxy = ms_proxy_for(&net->proxy, url, NULL);
	bool store;

	/* an https:// proxy is a TLS layer of its own, under the one ms_http_tls_pending sees */
	if (!bytes || (proxy && ms_url_is_https(proxy)))
		return;
	atomic_store(&read_ahead_bytes, bytes);
	pthread_mutex_lock(&cas.lock);
	store = cas.defaults_known &&
	        (net->ca_file || net->ca_dir || cas.def_file || cas.def_dir); /* shared_ca_store */
	pthread_mutex_unlock(&cas.lock);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION,
	                 store ? on_ssl_ctx_store_ahead : on_ssl_ctx_ahead);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, (void *)net);
}

bool ms_http_tls_pending(void *easy)
{
	struct curl_tlssessioninfo *ti = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
	    ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals)
		return false;
	return SSL_has_pending(ti->internals) == 1;
}

/* "host:port" of url, for messages. */
static void host_port(const char *url, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	snprintf(out, n, "%s", url);
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		snprintf(out, n, "%s:%s", host, port);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* A certificate that does not verify: which check failed, and what would fix it. */
static void tls_failure(CURL *e, const char *host, const char *detail,
                        const struct ms_net_opts *net, struct ms_net_failure *f)
{
	long verify = 0;

	curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &verify);
	if (verify == X509_V_ERR_CERT_HAS_EXPIRED || verify == X509_V_ERR_CERT_NOT_YET_VALID) {
		snprintf(f->reason, sizeof(f->reason),
		         "the TLS certificate of %s is out of its validity dates: %s", host,
		         detail);
		return;
	}
	/* libcurl 7.88 checks the name itself once the chain verified, and says so in words
	 * ("... target host name"); OpenSSL's own check says X509_V_ERR_HOSTNAME_MISMATCH */
	if (verify == X509_V_ERR_HOSTNAME_MISMATCH || strstr(detail, "host name")) {
		snprintf(f->reason, sizeof(f->reason),
		         "the TLS certificate of %s is for another host name: %s", host, detail);
		return;
	}
	/* which CAs it was checked against, then how to give the right one */
	snprintf(f->reason, sizeof(f->reason),
	         "the TLS certificate of %s does not verify with %s%s%s%s%s%s%s: %s; give the CA "
	         "that signed it with --cacert FILE (or CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, "
	         "SSL_CERT_FILE, SSL_CERT_DIR)",
	         host, net->ca_file ? "the CAs of '" : "the system's CAs",
	         net->ca_file ? net->ca_file : "", net->ca_file ? "' (" : "",
	         net->ca_file ? net->ca_from : "", net->ca_file ? ")" : "",
	         net->ca_dir ? " and SSL_CERT_DIR " : "", net->ca_dir ? net->ca_dir : "", detail);
}

/* A failure at the proxy itself; false when the proxy is not to blame. */
static bool proxy_failure(CURL *e, int cc, const char *host, const char *detail, const char *proxy,
                          const char *from, const struct ms_net_opts *net, struct ms_net_failure *f)
{
	long tunnel = 0;
	curl_off_t connected = 0;

	curl_easy_getinfo(e, CURLINFO_HTTP_CONNECTCODE, &tunnel);
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connected);
	f->retry = MS_RETRY_NO;
	/* every transfer goes through the proxy: unless it refused one host, none will pass */
	f->stops_all = tunnel < 300;
	if (cc == CURLE_COULDNT_RESOLVE_PROXY)
		snprintf(f->reason, sizeof(f->reason), "cannot find proxy %s (%s): %s", proxy, from,
		         detail);
	else if (cc == CURLE_COULDNT_CONNECT)
		snprintf(f->reason, sizeof(f->reason), "cannot connect to proxy %s (%s): %s", proxy,
		         from, detail);
	else if (cc == CURLE_OPERATION_TIMEDOUT && !connected && !tunnel)
		snprintf(f->reason, sizeof(f->reason),
		         "no connection to proxy %s (%s) within %ld s (--connect-timeout): %s",
		         proxy, from, net->connect_timeout, detail);
	else if (tunnel == 407 || tunnel == 401) /* tinyproxy says 401 to wrong ones */
		snprintf(f->reason, sizeof(f->reason),
		         "proxy %s (%s) wants credentials (HTTP %ld to CONNECT %s): give them in "
		         "its URL, http://user:password@host:port",
		         proxy, from, tunnel, host);
	else if (tunnel >= 500) {
		f->retry = MS_RETRY_YES; /* it could not reach the host, this time */
		snprintf(f->reason, sizeof(f->reason),
		         "proxy %s (%s) could not reach %s (HTTP %ld to CONNECT)", proxy, from,
		         host, tunnel);
	} else if (tunnel >= 300)
		snprintf(f->reason, sizeof(f->reason),
		         "proxy %s (%s) refused to connect to %s (HTTP %ld to CONNECT)", proxy,
		         from, host, tunnel);
	else {
		f->stops_all = false;
		return false;
	}
	return true;
}

void ms_http_failure(void *easy, int cc, const char *url, const char *errbuf,
                     const struct ms_net_opts *net, const struct ms_http_response *resp,
                     struct ms_net_failure *f)
{
	CURL *e = easy;
	const char *from = NULL, *proxy = ms_proxy_for(&net->proxy, url, &from);
	const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror((CURLcode)cc);
	char *shown = proxy ? ms_proxy_display(proxy) : NULL;
	char host[300];
	size_t n;

	host_port(url, host, sizeof(host));
	f->retry = ms_retry_classify(cc, 0, false);
	f->code = MS_ENET;
	f->stops_all = false;
	if (shown && proxy_failure(e, cc, host, detail, shown, from, net, f))
		goto out;
	if ((resp && resp->headers_too_large) || cc == CURLE_OUT_OF_MEMORY) {
		/* libcurl takes a header line of up to 100 KiB, then fails "out of memory" */
		f->retry = MS_RETRY_NO;
		f->code = MS_EPROTO;
		snprintf(f->reason, sizeof(f->reason), "%s sends headers larger than %u KiB%s",
		         host, MS_HTTP_MAX_HEADERS >> 10,
		         cc == CURLE_OUT_OF_MEMORY ? " (or memory ran out)" : "");
	} else if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		/* the next file goes to the same host (a CDN) with the same CAs: 2000 files
		 * took 2000 handshakes and 43 s to say so */
		f->stops_all = true;
		tls_failure(e, host, detail, net, f);
	} else if (cc == CURLE_SSL_CACERT_BADFILE) {
		char why[sizeof(cas.why)];

		f->stops_all = true;
		pthread_mutex_lock(&cas.lock); /* what on_ssl_ctx met, not libcurl's "error
		                                * signaled by ssl ctx callback" */
		snprintf(why, sizeof(why), "%s", cas.why[0] ? cas.why : detail);
		pthread_mutex_unlock(&cas.lock);
		if (net->ca_file || net->ca_dir)
			snprintf(f->reason, sizeof(f->reason),
			         "cannot use the CAs of '%s' (%s): %s",
			         net->ca_file ? net->ca_file : net->ca_dir,
			         net->ca_file ? net->ca_from : "SSL_CERT_DIR", why);
		else
			snprintf(f->reason, sizeof(f->reason), "cannot use the system's CAs: %s",
			         why);
	} else if (cc == CURLE_SSL_CONNECT_ERROR) {
		snprintf(f->reason, sizeof(f->reason), "TLS handshake with %s failed: %s", host,
		         detail);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t connected = 0;

		curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connected);
		snprintf(f->reason, sizeof(f->reason), "%s (%s %ld)", detail,
		         connected ? "--stall-timeout" : "--connect-timeout",
		         connected ? net->stall_timeout : net->connect_timeout);
	} else {
		snprintf(f->reason, sizeof(f->reason), "%s", detail);
	}
	/* through a proxy, say so: one that intercepts TLS is the usual cause of a bad CA */
	n = strlen(f->reason);
	if (shown && n < sizeof(f->reason))
		snprintf(f->reason + n, sizeof(f->reason) - n, " (through proxy %s from %s)", shown,
		         from);
out:
	free(shown);
}
