/*
 * The proxy for a URL (proxy.h): the variables read once, a URL's scheme and
 * host matched against them, no_proxy as curl 7.88's check_noproxy() reads it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/parse.h"
#include "mscli/proxy.h"
#include "mscli/redact.h"

static void read_var(struct ms_proxy_var *v, const char *lower, const char *upper)
{
	/* set but empty still counts: an empty lower-case variable turns the proxy off */
	v->name = lower;
	v->value = getenv(lower);
	if (!v->value && upper) {
		v->name = upper;
		v->value = getenv(upper);
	}
	if (!v->value)
		v->name = NULL;
	else if (*v->value)
		ms_redact_url_userinfo(v->value);
}

void ms_proxy_env_read(struct ms_proxy_env *p)
{
	read_var(&p->http, "http_proxy", getenv("REQUEST_METHOD") ? NULL : "HTTP_PROXY");
	read_var(&p->https, "https_proxy", "HTTPS_PROXY");
	read_var(&p->all, "all_proxy", "ALL_PROXY");
	read_var(&p->no, "no_proxy", "NO_PROXY");
}

/* An address (IPv4 or IPv6) into addr: its length in bytes, or 0 when s is none. */
static size_t parse_ip(const char *s, size_t n, unsigned char addr[16])
{
	char buf[64];

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, addr) == 1)
		return 16;
	return 0;
}

/* Do a and b share their first bits bits? */
static bool same_prefix(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole))
		return false;
	return !rest || ((a[whole] ^ b[whole]) & (0xFFu << (8 - rest)) & 0xFFu) == 0;
}

/* One no_proxy entry (a network) against an address of len bytes. */
static bool ip_entry_match(const char *tok, size_t n, const unsigned char *addr, size_t len)
{
	const char *slash = memchr(tok, '/', n);
	unsigned char net[16];
	uint64_t bits = len * 8;

	if (slash) {
		/* tok is a slice, not a string: its prefix length is parsed from a copy */
		char digits[4];
		size_t dn = n - (size_t)(slash + 1 - tok);

		if (dn >= sizeof(digits))
			return false;
		memcpy(digits, slash + 1, dn);
		digits[dn] = '\0';
		if (ms_parse_u64(digits, &bits) < 0 || bits > len * 8)
			return false;
		n = (size_t)(slash - tok);
	}
	return parse_ip(tok, n, net) == len && same_prefix(net, addr, (unsigned)bits);
}

/* One entry against a host name: itself, or a domain it is in. */
static bool name_entry_match(const char *tok, size_t n, const char *host, size_t hn)
{
	if (n && tok[0] == '.') {
		tok++;
		n--;
	}
	if (n && tok[n - 1] == '.')
		n--;
	if (!n || n > hn)
		return false;
	if (n == hn)
		return !strncasecmp(tok, host, n);
	return host[hn - n - 1] == '.' && !strncasecmp(tok, host + hn - n, n);
}

bool ms_no_proxy_match(const char *list, const char *host)
{
	unsigned char addr[16];
	size_t hn = strlen(host), alen;

	if (hn >= 2 && host[0] == '[' && host[hn - 1] == ']') {
		host++;
		hn -= 2;
	}
	if (hn && host[hn - 1] == '.')
		hn--;
	alen = parse_ip(host, hn, addr);
	for (const char *p = list; *p;) {
		size_t n;

		p += strspn(p, ", \t\r\n");
		n = strcspn(p, ", \t\r\n");
		if (!n)
			break;
		if (n == 1 && *p == '*')
			return true;
		if (p[0] == '[' && memchr(p, ']', n)) {
			/* [::1] or [::1]/64 */
			const char *close = memchr(p, ']', n);
			char tok[80];
			size_t tn = (size_t)(close - p - 1);

			if (alen && tn + (n - (size_t)(close - p) - 1) < sizeof(tok)) {
				memcpy(tok, p + 1, tn);
				memcpy(tok + tn, close + 1, n - (size_t)(close - p) - 1);
				if (ip_entry_match(tok, n - 2, addr, alen))
					return true;
			}
		} else if (alen ? ip_entry_match(p, n, addr, alen)
		                : name_entry_match(p, n, host, hn)) {
			return true;
		}
		p += n;
	}
	return false;
}

static bool proxy_set(const struct ms_proxy_var *v)
{
	return v->value && *v->value;
}

const char *ms_proxy_for(const struct ms_proxy_env *p, const char *url, const char **from)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	const struct ms_proxy_var *v = NULL;

	if (from)
		*from = NULL;
	if (!proxy_set(&p->http) && !proxy_set(&p->https) && !proxy_set(&p->all))
		return NULL; /* no proxy to choose: nothing to parse (it runs per transfer) */
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (!strcasecmp(scheme, "https"))
		v = &p->https;
	else if (!strcasecmp(scheme, "http"))
		v = &p->http;
	else
		goto out;
	if (!v->value)
		v = &p->all;
	if (!v->value || !*v->value || (p->no.value && ms_no_proxy_match(p->no.value, host)))
		v = NULL;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (v && from)
		*from = v->name;
	return v ? v->value : NULL;
}

char *ms_proxy_display(const char *proxy)
{
	const char *sep = strstr(proxy, "://");
	const char *start = sep ? sep + 3 : proxy, *end = start + strcspn(start, "/?#");
	const char *at = start;

	/* the last '@' before the path: a password may hold one */
	for (const char *q = start; q < end; q++)
		if (*q == '@')
			at = q + 1;
	if (sep)
		return xasprintf("%.*s://%.*s", (int)(sep - proxy), proxy, (int)(end - at), at);
	/* curl takes a proxy without a scheme as http:// */
	return xasprintf("http://%.*s", (int)(end - at), at);
}
