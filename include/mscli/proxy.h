/*
 * Which proxy a request goes through.  mscli reads the proxy variables
 * itself (as curl and Python's clients do) and hands curl the one it chose,
 * so that a failure can name the proxy it happened at, and -v can say which
 * requests went through it.
 */
#ifndef MSCLI_PROXY_H
#define MSCLI_PROXY_H

#include <stdbool.h>

/* One proxy setting: its value, and the variable it came from (for messages). */
struct ms_proxy_var {
	const char *value; /* NULL when unset; "" means "no proxy" */
	const char *name;
};

/*
 * The proxy variables; each lower-case name wins over its upper-case one,
 * and an empty lower-case one turns the setting off, as in curl.
 * HTTP_PROXY (upper case) counts as Python's clients take it, except in a
 * CGI environment (REQUEST_METHOD set), where a request's "Proxy:" header
 * could have put it there (httpoxy); curl never reads it.
 */
struct ms_proxy_env {
	struct ms_proxy_var http;  /* http_proxy, HTTP_PROXY */
	struct ms_proxy_var https; /* https_proxy, HTTPS_PROXY */
	struct ms_proxy_var all;   /* all_proxy, ALL_PROXY: for either scheme */
	struct ms_proxy_var no;    /* no_proxy, NO_PROXY: hosts reached directly */
};

/* Read the environment; proxy passwords are registered for redaction. */
void ms_proxy_env_read(struct ms_proxy_env *p);

/*
 * The proxy for url, or NULL to go direct: the scheme's own variable, else
 * all_proxy, unless no_proxy names url's host.  *from (may be NULL) gets the
 * variable's name.
 */
const char *ms_proxy_for(const struct ms_proxy_env *p, const char *url, const char **from);

/*
 * Does a no_proxy list name host?  Entries are separated by commas or
 * blanks; "*" names every host; a name matches itself and its subdomains
 * (a leading dot is optional); an IPv4 or IPv6 address matches itself, or
 * the hosts of its network with a /bits suffix.  As curl 7.88 reads it:
 * no resolution, no ports.
 */
bool ms_no_proxy_match(const char *list, const char *host);

/* A proxy as messages show it: scheme://host:port, never its credentials. */
char *ms_proxy_display(const char *proxy);

#endif
