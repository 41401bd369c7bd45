/*
 * libFuzzer target for the parsers that read what other programs wrote:
 * .msc pickles (the official client's), listing records, Content-Range,
 * Retry-After and RateLimit headers, Link headers, repo specs, paths, the
 * proxy variables (no_proxy lists, proxy URLs) and header lines.
 * Build and run: make fuzz (clang, -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/http.h"
#include "mscli/hub.h"
#include "mscli/pathsafe.h"
#include "mscli/pickle.h"
#include "mscli/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct ms_msc m = {0};
	struct ms_listing l = {0};
	struct ms_repo r;
	struct ms_error err;
	uint64_t a, b, c;
	double w;
	const char *why;
	char *link, *shown;
	struct ms_http_response resp = {0};
	struct ms_proxy_env env = {.https = {s, "HTTPS_PROXY"}, .no = {s, "NO_PROXY"}};
	const char *nl;

	memcpy(s, data, size);
	s[size] = '\0';
	ms_pickle_decode_msc(data, size, &m);
	ms_msc_release(&m);
	ms_listing_from_json(s, size, &l);
	ms_listing_release(&l);
	ms_parse_content_range(s, &a, &b, &c);
	ms_parse_retry_after(s, 0, &w);
	ms_parse_ratelimit_wait(s, &w);
	link = ms_link_next(s);
	free(link);
	ms_path_check(s, &why);
	/* the first line is a no_proxy list, the rest a host; then as a proxy URL */
	nl = memchr(s, '\n', size);
	if (nl) {
		s[nl - s] = '\0';
		ms_no_proxy_match(s, nl + 1);
		s[nl - s] = '\n';
	}
	shown = ms_proxy_display(s);
	free(shown);
	ms_proxy_for(&env, s, &why);
	for (const char *p = s; p < s + size; p += strcspn(p, "\n") + 1)
		ms_http_capture_header(&resp, p, strcspn(p, "\n"));
	ms_http_response_release(&resp);
	if (ms_repo_parse(s, ms_hub_find("hf"), (enum ms_hub_choice)((unsigned char)s[0] % 3), -1, &r, &err) == 0)
		ms_repo_release(&r);
	free(s);
	return 0;
}
