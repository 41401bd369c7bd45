/*
 * Hugging Face tokens (hf-protocol.md §1.8, §5.4; cache-login-notes §D.1):
 * whoami-v2, and the files huggingface_hub reads: the active token in
 * $HF_TOKEN_PATH (else $HF_HOME/token), bare, no newline; every token by
 * name in stored_tokens beside it (configparser INI, sections sorted).  Both
 * are written 0600 in a folder made 0700, through a temporary and a rename
 * (huggingface_hub writes in place; a crash there leaves half a token).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/hub-hf.h"
#include "mscli/ini.h"
#include "mscli/json.h"

char *hf_clean_token(const char *raw)
{
	char *buf = xstrdup(raw), *r, *w;

	for (r = w = buf; *r; r++)
		if (*r != '\r' && *r != '\n')
			*w++ = *r;
	*w = '\0';
	while (w > buf && (w[-1] == ' ' || w[-1] == '\t'))
		*--w = '\0';
	r = buf + strspn(buf, " \t");
	memmove(buf, r, strlen(r) + 1);
	if (!*buf) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *token_path(void)
{
	const char *v = ms_getenv("HF_TOKEN_PATH");
	char *home, *p;

	if (v)
		return ms_expand_path(v);
	home = hf_home();
	p = ms_path_join(home, "token");
	free(home);
	return p;
}

/* stored_tokens lives beside the token file, wherever HF_TOKEN_PATH puts it. */
static char *stored_tokens_path(const char *token_file)
{
	const char *slash = strrchr(token_file, '/');

	if (!slash)
		return xstrdup("stored_tokens");
	return xasprintf("%.*s/stored_tokens", (int)(slash - token_file), token_file);
}

char *hf_stored_token(void)
{
	char *path, *buf = NULL, *tok;

	if (ms_env_true("HF_HUB_DISABLE_IMPLICIT_TOKEN"))
		return NULL;
	path = token_path();
	if (ms_read_file(path, 4096, &buf, NULL, NULL) != 0)
		buf = NULL;
	free(path);
	if (!buf)
		return NULL;
	tok = hf_clean_token(buf);
	free(buf);
	return tok;
}

static void add_orgs(struct ms_account *out, const cJSON *orgs)
{
	const cJSON *o;

	out->orgs_known = cJSON_IsArray(orgs);
	out->orgs = xcalloc((size_t)cJSON_GetArraySize(orgs) + 1, sizeof(*out->orgs));
	cJSON_ArrayForEach(o, orgs)
	{
		const char *name = ms_json_string(o, "name");

		if (name)
			out->orgs[out->norgs++] = xstrdup(name);
	}
}

int hf_whoami(struct ms_session *s, struct ms_account *out, struct ms_error *err)
{
	char *url = xasprintf("%s/api/whoami-v2", s->endpoint);
	struct ms_http_request req = {.url = url, .what = "whoami"};
	const cJSON *auth, *tok;
	const char *name;
	cJSON *j = NULL;
	long status = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!s->auth.token) {
		free(url);
		return ms_error_set(err, MS_EAUTH,
		                    "not logged in to %s: run 'mscli login --hub hf' "
		                    "(or give --token, or set HF_TOKEN)",
		                    s->endpoint);
	}
	ret = hf_request_json(s, &req, &status, &j, err);
	if (ret == MS_EAUTH && status == 401)
		ret = ms_error_set(err, MS_EAUTH,
		                   "%s refuses the token from %s: it is invalid or expired",
		                   s->endpoint, ms_session_token_from(s));
	if (!ret && !(name = ms_json_string(j, "name")))
		ret = ms_error_set(err, MS_EPROTO, "whoami: %s: the answer names no user", url);
	if (!ret) {
		out->name = xstrdup(name);
		if (ms_json_string(j, "email"))
			out->email = xstrdup(ms_json_string(j, "email"));
		auth = cJSON_GetObjectItemCaseSensitive(j, "auth");
		tok = cJSON_GetObjectItemCaseSensitive(auth, "accessToken");
		if (ms_json_string(tok, "displayName"))
			out->token_name = xstrdup(ms_json_string(tok, "displayName"));
		if (ms_json_string(tok, "role"))
			out->role = xstrdup(ms_json_string(tok, "role"));
		add_orgs(out, cJSON_GetObjectItemCaseSensitive(j, "orgs"));
	}
	cJSON_Delete(j);
	free(url);
	return ret;
}

/* A section name configparser can read back: no brackets, no line breaks. */
static char *section_name(const struct ms_account *who)
{
	char *n = who->token_name && *who->token_name
	                  ? xstrdup(who->token_name)
	                  : xasprintf("oauth-%s", who->name ? who->name : "mscli");

	for (char *p = n; *p; p++)
		if (*p == '[' || *p == ']' || *p == '\n' || *p == '\r')
			*p = '_';
	return n;
}

static int read_ini(const char *path, struct ms_ini *ini, struct ms_error *err)
{
	char *data = NULL;
	size_t len = 0;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0; /* no file yet */
	if (ms_read_file(path, 1u << 20, &data, &len, err) != 0)
		return err->code;
	ms_ini_parse(data, len, ini);
	free(data);
	return 0;
}

int hf_token_store(struct ms_session *s, const char *token, const struct ms_account *who,
                   struct ms_strlist *written, struct ms_error *err)
{
	char *path, *stored, *dir, *name = section_name(who);
	char *body = xasprintf("hf_token = %s\n", token);
	struct ms_ini ini = {0};
	struct ms_buf out = MS_BUF_INIT;
	int ret;

	(void)s;
	ms_home_missing();
	path = token_path();
	stored = stored_tokens_path(path);
	dir = xstrndup(path, strrchr(path, '/') ? (size_t)(strrchr(path, '/') - path) : 0);
	if (ms_home_missing()) /* no home: not secrets below "/" */
		ret = ms_home_error_for(err, "HF_HOME or HF_TOKEN_PATH");
	else
		ret = *dir ? ms_mkdirs(dir, 0700, err) : 0;
	if (!ret)
		ret = read_ini(stored, &ini, err);
	if (!ret) {
		ms_ini_set(&ini, name, body);
		ms_ini_write(&ini, &out);
		ret = ms_write_file_atomic(stored, out.data, out.len, 0600, err);
	}
	if (!ret)
		ms_strlist_add(written, stored);
	if (!ret)
		ret = ms_write_file_atomic(path, token, strlen(token), 0600, err);
	if (!ret)
		ms_strlist_add(written, path);
	ms_ini_release(&ini);
	ms_buf_release(&out);
	free(path);
	free(stored);
	free(dir);
	free(name);
	free(body);
	return ret;
}

/* Drop the sections holding token; the file goes when none is left. */
static int forget_stored(const char *stored, const char *token, struct ms_strlist *removed,
                         struct ms_error *err)
{
	struct ms_ini ini = {0};
	struct ms_buf out = MS_BUF_INIT;
	bool changed = false;
	int ret = read_ini(stored, &ini, err);

	for (size_t i = 0; !ret && i < ini.n;) {
		char *v = ms_ini_value(&ini.v[i], "hf_token");
		bool mine = v && token && !strcmp(v, token);

		free(v);
		if (mine) {
			ms_ini_remove(&ini, ini.v[i].name);
			changed = true;
		} else {
			i++;
		}
	}
	if (!ret && changed) {
		if (ini.n) {
			ms_ini_write(&ini, &out);
			ret = ms_write_file_atomic(stored, out.data, out.len, 0600, err);
		} else if (ms_unlink_replaced(stored) < 0 && errno != ENOENT) {
			ret = ms_error_errno(err, errno, "cannot remove", stored);
		}
		if (!ret)
			ms_strlist_add(removed, stored);
	}
	ms_ini_release(&ini);
	ms_buf_release(&out);
	return ret;
}

int hf_token_forget(struct ms_strlist *removed, struct ms_error *err)
{
	char *path = token_path(), *stored = stored_tokens_path(path), *buf = NULL, *token = NULL;
	int ret = 0;

	if (ms_read_file(path, 4096, &buf, NULL, NULL) == 0)
		token = hf_clean_token(buf);
	if (ms_unlink_replaced(path) == 0)
		ms_strlist_add(removed, path);
	else if (errno != ENOENT)
		ret = ms_error_errno(err, errno, "cannot remove", path);
	if (!ret && token)
		ret = forget_stored(stored, token, removed, err);
	free(buf);
	free(token);
	free(path);
	free(stored);
	return ret;
}
