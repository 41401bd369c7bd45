#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/err.h"
#include "mscli/http.h"
#include "mscli/proxy.h"
#include "unit.h"

static void no_proxy(void)
{
	static const struct {
		const char *list, *host;
		bool match;
	} cases[] = {
	        {"*", "anything.example", true},
	        {"example.com", "example.com", true},
	        {"example.com", "cdn.Example.COM", true},
	        {".example.com", "cdn.example.com", true},
	        {".example.com", "example.com", true},
	        {"example.com.", "example.com", true},
	        {"example.com", "example.com.", true},
	        /* a domain boundary, not a suffix of the name */
	        {"example.com", "badexample.com", false},
	        {"cdn.example.com", "example.com", false},
	        {"a.test, b.test ,c.test", "c.test", true},
	        {"a.test b.test\tc.test", "b.test", true},
	        {"", "a.test", false},
	        {" , ,", "a.test", false},
	        {"*.example.com", "cdn.example.com", false}, /* curl: no globs */
	        /* addresses: themselves, or their network */
	        {"127.0.0.1", "127.0.0.1", true},
	        {"127.0.0.1", "127.0.0.2", false},
	        {"10.0.0.0/8", "10.200.3.4", true},
	        {"10.0.0.0/8", "11.0.0.1", false},
	        {"192.168.1.0/23", "192.168.0.7", true},
	        {"192.168.1.0/24", "192.168.0.7", false},
	        {"0.0.0.0/0", "8.8.8.8", true},
	        {"10.0.0.0/33", "10.0.0.1", false},
	        {"10.0.0.0/", "10.0.0.1", false},
	        {"::1", "[::1]", true},
	        {"[::1]", "[::1]", true},
	        {"fd00::/8", "[fd12:3456::1]", true},
	        {"[fd00::]/8", "[fd12:3456::1]", true},
	        /* the prefix length is read within the entry, digits only */
	        {"[fd00::]/129", "[fd12:3456::1]", false},
	        {"[fd12::]/16,x", "[fd12:3456::1]", true},
	        {"[fd13::]/16", "[fd12:3456::1]", false},
	        {"10.0.0.0/+8", "10.0.0.1", false},
	        {"10.0.0.0/8x", "10.0.0.1", false},
	        {"fd00::/8", "[fe80::1]", false},
	        /* no resolution: a name never matches an address, nor the other way */
	        {"localhost", "127.0.0.1", false},
	        {"127.0.0.1", "localhost", false},
	        {"127.0.0.1", "[::1]", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unit_checks++;
		if (ms_no_proxy_match(cases[i].list, cases[i].host) != cases[i].match) {
			unit_failures++;
			fprintf(stderr, "FAIL no_proxy '%s' for host '%s': expected %s\n",
			        cases[i].list, cases[i].host, cases[i].match ? "a match" : "none");
		}
	}
}

static void choice(void)
{
	struct ms_proxy_env env = {
	        .http = {"http://plain:3128", "http_proxy"},
	        .https = {"http://u:secret@tls:3128", "HTTPS_PROXY"},
	        .all = {"socks5h://all:1080", "all_proxy"},
	        .no = {"hub.internal,10.0.0.0/8", "NO_PROXY"},
	};
	const char *from;

	CHECK_STR(ms_proxy_for(&env, "https://cdn.example.com/x", &from),
	          "http://u:secret@tls:3128");
	CHECK_STR(from, "HTTPS_PROXY");
	CHECK_STR(ms_proxy_for(&env, "http://cdn.example.com/x", &from), "http://plain:3128");
	CHECK_STR(from, "http_proxy");
	CHECK(ms_proxy_for(&env, "https://hub.internal:8443/api", &from) == NULL && !from);
	CHECK(ms_proxy_for(&env, "http://api.hub.internal/", NULL) == NULL);
	CHECK(ms_proxy_for(&env, "http://10.1.2.3:80/", NULL) == NULL);
	CHECK(ms_proxy_for(&env, "ftp://cdn.example.com/x", NULL) == NULL);
	CHECK(ms_proxy_for(&env, "not a url", NULL) == NULL);
	/* all_proxy when the scheme has none; an empty one turns it off */
	env.https.value = NULL;
	CHECK_STR(ms_proxy_for(&env, "https://cdn.example.com/x", &from), "socks5h://all:1080");
	CHECK_STR(from, "all_proxy");
	env.https.value = "";
	CHECK(ms_proxy_for(&env, "https://cdn.example.com/x", NULL) == NULL);
	env.no.value = "*";
	CHECK(ms_proxy_for(&env, "http://cdn.example.com/x", NULL) == NULL);
	/* none set (or all empty): direct, and *from says no variable chose it */
	env.no.value = NULL;
	env.http.value = "";
	env.https.value = NULL;
	env.all.value = NULL;
	from = "x";
	CHECK(ms_proxy_for(&env, "http://cdn.example.com/x", &from) == NULL && !from);
	env.all.value = "http://all:3128";
	CHECK_STR(ms_proxy_for(&env, "https://cdn.example.com/x", &from), "http://all:3128");
	CHECK(ms_proxy_for(&env, "http://cdn.example.com/x", NULL) == NULL); /* http_proxy="" */
}

static void display(void)
{
	struct {
		const char *in, *out;
	} cases[] = {
	        {"http://user:pa@ss@proxy:3128", "http://proxy:3128"},
	        {"http://user:secret@proxy:3128/", "http://proxy:3128"},
	        {"socks5h://proxy:1080", "socks5h://proxy:1080"},
	        {"proxy.corp:8080", "http://proxy.corp:8080"},
	        {"bob:pw@proxy.corp:8080", "http://proxy.corp:8080"},
	        {"https://[::1]:3129", "https://[::1]:3129"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = ms_proxy_display(cases[i].in);

		CHECK_STR(s, cases[i].out);
		free(s);
	}
}

static void redirects_and_headers(void)
{
	char why[300];
	struct ms_http_response r = {0};
	char line[1024];

	CHECK(ms_url_is_http("HTTPS://cdn/x") && ms_url_is_http("http://cdn/x"));
	CHECK(!ms_url_is_http("file:///etc/passwd") && !ms_url_is_http("ftp://h/x"));
	CHECK(ms_url_is_https("HTTPS://cdn/x") && !ms_url_is_https("http://cdn/x"));
	CHECK(!ms_url_is_https("httpsx://cdn/x") && !ms_url_is_https("https:/cdn"));
	CHECK(ms_redirect_allowed("http://hub/a", "https://cdn/b", why, sizeof(why)));
	CHECK(!ms_redirect_allowed("http://hub/a", "file:///etc/passwd", why, sizeof(why)));
	CHECK_STR(why, "http://hub/a redirects to 'file:///etc/passwd', which is not an http(s) "
	               "URL: refused");
	/* headers that never end are cut off, whatever their lines look like */
	memset(line, 'x', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	CHECK(ms_http_capture_header(&r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(ms_http_capture_header(&r, "ETag: \"abc\"\r\n", 13) == 0);
	CHECK_STR(r.etag, "\"abc\"");
	while (ms_http_capture_header(&r, line, sizeof(line)) == 0 && r.header_bytes < (1u << 30))
		;
	CHECK(r.headers_too_large);
	CHECK(r.header_bytes <= MS_HTTP_MAX_HEADERS);
	CHECK(r.header_bytes + sizeof(line) > MS_HTTP_MAX_HEADERS);
	/* an interim answer does not reset the count */
	ms_http_response_release(&r);
	CHECK(!r.headers_too_large && r.header_bytes == 0);
	for (int i = 0; i < 300; i++)
		ms_http_capture_header(&r, "HTTP/1.1 100 Continue\r\n", 23);
	CHECK_U64(r.header_bytes, 300 * 23);
	ms_http_response_release(&r);
}

/* A 403 forwarded by a proxy: the proxy's own refusal is a network failure, the hub's
 * (JSON, its headers) stays an auth one. */
static void whose_refusal(void)
{
	static const char *const proxy_made[][2] = {
	        {"Server: tinyproxy/1.11.1\r\n", "Content-Type: text/html\r\n"},
	        {"Server: squid/5.7\r\n", "X-Squid-Error: ERR_ACCESS_DENIED 0\r\n"},
	};
	static const char *const hub_made[][2] = {
	        {"Server: tinyproxy/1.11.1\r\n", "Content-Type: application/json\r\n"},
	        {"Server: nginx\r\n", "Content-Type: text/html\r\n"},
	};
	struct ms_error err;

	for (int hub = 0; hub < 2; hub++)
		for (size_t i = 0; i < 2; i++) {
			const char *const *h = hub ? hub_made[i] : proxy_made[i];
			struct ms_http_response r = {0};

			ms_http_capture_header(&r, "HTTP/1.1 403 Forbidden\r\n", 24);
			ms_http_capture_header(&r, h[0], strlen(h[0]));
			ms_http_capture_header(&r, h[1], strlen(h[1]));
			r.url = xstrdup("http://hub/api/x");
			r.status = 403;
			r.proxy = "http://u:pw@px:3128";
			CHECK(ms_http_status_error(NULL, &r, "listing", &err) ==
			      (hub ? MS_EAUTH : MS_ENET));
			CHECK(strstr(err.msg, "through proxy http://px:3128") != NULL);
			CHECK(!strstr(err.msg, "pw"));
			CHECK((strstr(err.msg, "from the proxy itself") == NULL) == (hub == 1));
			ms_http_response_release(&r);
		}
}

void test_proxy(void)
{
	no_proxy();
	choice();
	display();
	redirects_and_headers();
	whose_refusal();
}
