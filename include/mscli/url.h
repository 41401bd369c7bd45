/* URLs as hubs and their redirects use them: origins, resolution, quoting, Link. */
#ifndef MSCLI_URL_H
#define MSCLI_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* An http:// or https:// URL: the only places a redirect may lead. */
bool ms_url_is_http(const char *url);
/* True for an https:// URL (any case). */
bool ms_url_is_https(const char *url);
/* May a redirect from `from` lead to `to`?  If not, why (for a message) in why[n]. */
bool ms_redirect_allowed(const char *from, const char *to, char *why, size_t n);
/* The same scheme, host and port (the token's test). */
bool ms_http_same_origin(const char *a, const char *b);
/* scheme://host[:port] of url (lower-case host, default port omitted); NULL if unparsable. */
char *ms_url_origin(const char *url);
/* RFC 3986 resolution of a Location against the URL it came from. */
char *ms_url_resolve(const char *base, const char *location);
/* Percent-encode for a query value (spaces as '+', like Python's quote_plus). */
char *ms_url_quote_plus(const char *s);
/* Percent-encode a path; keep '/' when keep_slash (Python quote() vs quote(safe="")). */
char *ms_url_quote_path(const char *s, bool keep_slash);
/* Add "?key=value" or "&key=value" to url, value quoted (nothing when value is NULL). */
void ms_url_add_query(struct ms_buf *url, const char *key, const char *value);
/* The URL from a Link header's rel="next" entry, or NULL. */
char *ms_link_next(const char *link);

#endif
