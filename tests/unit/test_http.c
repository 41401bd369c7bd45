#include <stdbool.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "mscli/http.h"
#include "unit.h"

void test_http(void)
{
	uint64_t s, e, t;
	double w;
	char *p;

	CHECK(ms_parse_content_range("bytes 0-99/1000", &s, &e, &t) == 0);
	CHECK_U64(s, 0);
	CHECK_U64(e, 99);
	CHECK_U64(t, 1000);
	CHECK(ms_parse_content_range("bytes 100-199/*", &s, &e, &t) == 0 && t == UINT64_MAX);
	CHECK(ms_parse_content_range("bytes */1000", &s, &e, &t) == 1 && t == 1000);
	CHECK(ms_parse_content_range("bytes 5-4/10", &s, &e, &t) == -1);
	CHECK(ms_parse_content_range("bytes 0-10/10", &s, &e, &t) == -1);
	CHECK(ms_parse_content_range("items 0-1/2", &s, &e, &t) == -1);
	CHECK(ms_parse_content_range("bytes 0-1", &s, &e, &t) == -1);
	CHECK(ms_parse_content_range("bytes 18446744073709551616-1/2", &s, &e, &t) == -1);

	CHECK(ms_parse_retry_after("120", 0, &w) == 0 && w == 120);
	CHECK(ms_parse_retry_after(" 3 ", 0, &w) == 0 && w == 3);
	CHECK(ms_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470, &w) == 0 &&
	      w == 10);
	CHECK(ms_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490, &w) == 0 && w == 0);
	CHECK(ms_parse_retry_after("soon", 0, &w) == -1);
	CHECK(ms_parse_retry_after("-1", 0, &w) == -1);

	CHECK(ms_parse_ratelimit_wait("\"resolvers\";r=0;t=55", &w) == 0 && w == 55);
	CHECK(ms_parse_ratelimit_wait("\"api\";r=10;t=55", &w) == -1);
	CHECK(ms_parse_ratelimit_wait("garbage", &w) == -1);

	CHECK(ms_retry_classify(CURLE_COULDNT_CONNECT, 0, false) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_OPERATION_TIMEDOUT, 0, false) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_PARTIAL_FILE, 0, false) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_PEER_FAILED_VERIFICATION, 0, false) == MS_RETRY_NO);
	/* what another try cannot fix fails at once */
	CHECK(ms_retry_classify(CURLE_COULDNT_RESOLVE_HOST, 0, false) == MS_RETRY_NO);
	CHECK(ms_retry_classify(CURLE_SSL_CONNECT_ERROR, 0, false) == MS_RETRY_NO);
	CHECK(ms_retry_classify(CURLE_RECV_ERROR, 0, false) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_OK, 200, false) == MS_RETRY_NO);
	CHECK(ms_retry_classify(CURLE_OK, 404, false) == MS_RETRY_NO);
	CHECK(ms_retry_classify(CURLE_OK, 403, false) == MS_RETRY_NO);
	CHECK(ms_retry_classify(CURLE_OK, 403, true) == MS_RETRY_REFRESH);
	CHECK(ms_retry_classify(CURLE_OK, 410, true) == MS_RETRY_REFRESH);
	CHECK(ms_retry_classify(CURLE_OK, 429, false) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_OK, 503, true) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_OK, 408, false) == MS_RETRY_YES);
	CHECK(ms_retry_classify(CURLE_OK, 501, false) == MS_RETRY_NO);

	for (int a = 1; a < 10; a++) {
		double d = ms_backoff_delay(a, 1.0, 8.0, 0.999);

		CHECK(d <= 8.0 && d >= 0.5);
	}
	CHECK(ms_backoff_delay(1, 1.0, 8.0, 0.0) == 0.5);
	CHECK(ms_backoff_delay(3, 1.0, 8.0, 0.0) == 2.0);
	CHECK(ms_backoff_delay(30, 1.0, 8.0, 0.0) == 4.0);

	p = ms_link_next("<https://h/api/models?cursor=abc&limit=2>; rel=\"next\"");
	CHECK_STR(p, "https://h/api/models?cursor=abc&limit=2");
	free(p);
	p = ms_link_next("<https://h/p1>; rel=\"prev\", <https://h/p3>; rel=\"next\"");
	CHECK_STR(p, "https://h/p3");
	free(p);
	CHECK(ms_link_next("<https://h/p1>; rel=\"prev\"") == NULL);

	p = ms_url_origin("HTTPS://Example.COM/a/b?c");
	CHECK_STR(p, "https://example.com:443");
	free(p);
	CHECK(ms_http_same_origin("http://127.0.0.1:80/x", "http://127.0.0.1/y"));
	CHECK(!ms_http_same_origin("http://127.0.0.1:8080/x", "http://localhost:8080/x"));
	CHECK(!ms_http_same_origin("http://h:1/x", "http://h:2/x"));
	CHECK(!ms_http_same_origin("http://h/x", "https://h/x"));
	/* remembered per authority: each asked twice, in turns, more than it keeps */
	for (int round = 0; round < 2; round++) {
		static const char *const urls[][2] = {
		        {"http://h:1/a", "http://h:1"},
		        {"http://H:1?q", "http://h:1"},
		        {"http://u@h:2/a", "http://h:2"},
		        {"https://h/a#f", "https://h:443"},
		        {"http://h.example/a", "http://h.example:80"},
		        {"HTTP://h.example:80/b", "http://h.example:80"},
		};

		for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
			p = ms_url_origin(urls[i][0]);
			CHECK_STR(p, urls[i][1]);
			free(p);
		}
	}
	/* what curl refuses after a known authority is still refused */
	CHECK(ms_url_origin("http://h:1/a b") == NULL);
	CHECK(ms_url_origin("http://h:1/a\x01") == NULL);
	CHECK(ms_url_origin("http://h:99999/a") == NULL);
	CHECK(ms_url_origin("h:1/a") == NULL);
	CHECK(ms_url_origin("/a?x=http://h:1/") == NULL);

	p = ms_url_resolve("http://h:1/a/resolve/main/f.json?x=1",
	                   "/api/resolve-cache/m/c/f.json?etag=1");
	CHECK_STR(p, "http://h:1/api/resolve-cache/m/c/f.json?etag=1");
	free(p);
	p = ms_url_resolve("http://h:1/a/b", "https://cdn.example/x?sig=2");
	CHECK_STR(p, "https://cdn.example/x?sig=2");
	free(p);
	/* an absolute Location is curl's parse of it alone, dot segments gone */
	p = ms_url_resolve("http://h:1/a/b", "HTTPS://cdn.example/x/../y?sig=3");
	CHECK_STR(p, "https://cdn.example/y?sig=3");
	free(p);
	p = ms_url_resolve("http://h:1/a/b", "https://cdn.example/a b");
	CHECK(p == NULL); /* refused, as before */
	p = ms_url_resolve("http://h:1/a/b", "//cdn.example/z");
	CHECK_STR(p, "http://cdn.example/z"); /* scheme-relative: the base's scheme */
	free(p);

	p = ms_url_quote_plus("data/train file+1.csv");
	CHECK_STR(p, "data%2Ftrain+file%2B1.csv");
	free(p);
	p = ms_url_quote_path("a b/c%d", true);
	CHECK_STR(p, "a%20b/c%25d");
	free(p);
	p = ms_url_quote_path("refs/pr/1", false);
	CHECK_STR(p, "refs%2Fpr%2F1");
	free(p);
}
