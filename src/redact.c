/* Secrets kept out of every message and log line. */
#include <stdlib.h>
#include <string.h>

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

void ms_redact_in_place(char *s)
{
	for (size_t i = 0; i < MS_ARRAY_SIZE(secrets) && secrets[i]; i++) {
		size_t sl = strlen(secrets[i]);
		char *p;

		while ((p = strstr(s, secrets[i])) != NULL) {
			memset(p, '*', 3);
			memmove(p + 3, p + sl, strlen(p + sl) + 1);
		}
	}
}
