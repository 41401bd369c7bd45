/* The environment. */
#include <ctype.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/strbuf.h"

const char *ms_getenv(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

bool ms_env_true(const char *name)
{
	const char *v = ms_getenv(name);

	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
	             !strcasecmp(v, "true"));
}

/* Set when a path was made below "/" for want of a home (ms_home_missing). */
static bool home_missing;

/* $HOME, else the password database's entry for the user (as Python's expanduser). */
static const char *home_dir(void)
{
	const char *home = ms_getenv("HOME");
	struct passwd *pw;

	if (home)
		return home;
	pw = getpwuid(getuid());
	if (pw && pw->pw_dir && *pw->pw_dir)
		return pw->pw_dir;
	home_missing = true;
	return "/";
}

bool ms_home_missing(void)
{
	bool missing = home_missing;

	home_missing = false;
	return missing;
}

int ms_home_error(struct ms_error *err)
{
	return ms_home_error_for(err, "--cache-dir");
}

int ms_home_error_for(struct ms_error *err, const char *instead)
{
	return ms_error_set(err, MS_EUSAGE,
	                    "HOME is not set and uid %lu has no entry in the password database; "
	                    "set HOME or %s",
	                    (unsigned long)getuid(), instead);
}

char *ms_home_path(const char *rel)
{
	return ms_path_join(home_dir(), rel);
}

char *ms_expand_tilde(const char *v)
{
	const char *slash;
	struct passwd *pw;
	char *user;

	if (v[0] != '~')
		return xstrdup(v);
	if (v[1] == '/' || !v[1])
		return v[1] ? ms_home_path(v + 2) : xstrdup(home_dir());
	/* ~user/... */
	slash = strchr(v, '/');
	user = xstrndup(v + 1, slash ? (size_t)(slash - v - 1) : strlen(v + 1));
	pw = getpwnam(user);
	free(user);
	if (!pw || !pw->pw_dir)
		return xstrdup(v); /* left as written, as expanduser does */
	return slash ? ms_path_join(pw->pw_dir, slash + 1) : xstrdup(pw->pw_dir);
}

char *ms_expand_path(const char *v)
{
	struct ms_buf b = MS_BUF_INIT;

	/* $VAR and ${VAR} (left as written when unset), as os.path.expandvars */
	for (const char *p = v; *p;) {
		const char *name = p + 1, *end;
		bool braced = *name == '{';
		char *key, *val;

		if (*p != '$') {
			ms_buf_addch(&b, *p++);
			continue;
		}
		if (braced)
			name++;
		for (end = name; isalnum((unsigned char)*end) || *end == '_'; end++)
			;
		if (end == name || (braced && *end != '}')) {
			ms_buf_addch(&b, *p++);
			continue;
		}
		key = xstrndup(name, (size_t)(end - name));
		val = getenv(key);
		free(key);
		if (braced)
			end++;
		if (val)
			ms_buf_adds(&b, val);
		else
			ms_buf_addf(&b, "%.*s", (int)(end - p), p);
		p = end;
	}
	if (!b.data)
		ms_buf_adds(&b, "");
	/* then a leading ~, ~/ or ~user, as os.path.expanduser */
	if (b.data[0] == '~') {
		char *out = ms_expand_tilde(b.data);

		ms_buf_release(&b);
		return out;
	}
	return b.data;
}
