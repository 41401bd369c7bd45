/* Secrets kept out of every message and log line. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/redact.h"

/* a token, the endpoint's password, proxy passwords (one per variable) */
static char *secrets[8];

void ms_redact_add(const char *secret)
{
	/* a 1-3 character "secret" would blank out ordinary words */
	if (!secret || strlen(secret) < 4)
		return;
	for (size_t i = 0; i < MS_ARRAY_SIZE(secrets); i++) {
		if (!secrets[i]) {
			secrets[i] = xstrdup(secret);
			return;
		}
		if (!strcmp(secrets[i], secret))
			return;
	}
}

void ms_redact_url_userinfo(const char *url)
{
	const char *p = strstr(url, "://"), *at, *slash, *colon;
	char *secret;

	/* a proxy may be given without a scheme: user:secret@host:3128 */
	p = p ? p + 3 : url;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (!at)
		return;
	colon = memchr(p, ':', (size_t)(at - p));
	if (colon)
		p = colon + 1;
	secret = xstrndup(p, (size_t)(at - p));
	ms_redact_add(secret);
	free(secret);
}

/* The query parameters of a presigned URL (S3, OSS, a CDN's signed link) that let whoever
 * holds the URL use it until it expires: their values are secrets too. */
static bool signing_param(const char *name, size_t n)
{
	static const char *const suffixes[] = {"signature",   "security-token", "credential",
	                                       "accesskeyid", "token",          "sig"};

	for (size_t i = 0; i < MS_ARRAY_SIZE(suffixes); i++) {
		size_t sl = strlen(suffixes[i]);

		if (n >= sl && !strncasecmp(name + n - sl, suffixes[i], sl))
			return true;
	}
	return false;
}

/* "?...&X-Amz-Signature=abc&..." -> "?...&X-Amz-Signature=***&...", in every URL of s. */
static void redact_signed_urls(char *s)
{
	for (char *q = strchr(s, '?'); q; q = strchr(q, '?')) {
		char *p = q + 1;

		while (*p && !strchr(" \t\"'<>", *p)) {
			size_t n = strcspn(p, "=& \t\"'<>");
			char *v = p + n, *end;

			if (*v != '=') {
				p = *v == '&' ? v + 1 : v;
				continue;
			}
			end = v + 1 + strcspn(v + 1, "& \t\"'<>");
			/* "URL: reason": the colon is the message's, not the value's */
			if (end > v + 1 && end[-1] == ':' && (*end == ' ' || !*end))
				end--;
			if (signing_param(p, n) && end - (v + 1) > 3) {
				memset(v + 1, '*', 3);
				memmove(v + 4, end, strlen(end) + 1);
				end = v + 4;
			}
			p = *end == '&' ? end + 1 : end;
		}
		q = p;
	}
}

void ms_redact_in_place(char *s)
{
	redact_signed_urls(s);
	for (size_t i = 0; i < MS_ARRAY_SIZE(secrets) && secrets[i]; i++) {
		size_t sl = strlen(secrets[i]);
		char *p;

		while ((p = strstr(s, secrets[i])) != NULL) {
			memset(p, '*', 3);
			memmove(p + 3, p + sl, strlen(p + sl) + 1);
		}
	}
}
