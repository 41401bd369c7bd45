/* The environment. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

char *ms_home_path(const char *rel)
{
	const char *home = ms_getenv("HOME");

	return ms_path_join(home ? home : "/", rel);
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
	/* then a leading ~ or ~/, as os.path.expanduser (not ~user) */
	if (b.data[0] == '~' && (b.data[1] == '/' || !b.data[1])) {
		const char *home = ms_getenv("HOME");
		char *out = b.data[1] ? ms_home_path(b.data + 2) : xstrdup(home ? home : "/");

		ms_buf_release(&b);
		return out;
	}
	return b.data;
}
