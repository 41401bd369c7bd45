/*
 * ModelScope logins (modelscope-protocol.md §2.1, §2.2, §3.4;
 * cache-login-notes §D.2-D.4).  Neither client generation reads a plain
 * token file: both take the token from the m_session_id cookie of a pickled
 * requests cookie jar, credentials/cookies.  So a login writes that jar
 * (pickle.c writes it opcode by opcode; reading it back never runs it), plus
 * git_token and user as the clients do, in the credentials folder each
 * generation reads: $MODELSCOPE_CREDENTIALS_PATH (modelscope <= 1.37) and
 * $MODELSCOPE_HOME/credentials (modelscope_hub); both default to
 * ~/.modelscope/credentials.  Files 0600, folders 0700, written atomically.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/hub-modelscope.h"
#include "mscli/json.h"
#include "mscli/pickle.h"

#define COOKIE   "m_session_id"
#define LIFETIME (30 * 86400) /* the cookie the hub sets lives 30 days (§2.1) */
#define MAX_DIRS 2

/* The credentials folders, modelscope_hub's first; *n is 1 when both name the same. */
static void credential_dirs(char *dirs[MAX_DIRS], size_t *n)
{
	const char *home = ms_getenv("MODELSCOPE_HOME"),
	           *old = ms_getenv("MODELSCOPE_CREDENTIALS_PATH");
	char *h;

	if (home) {
		h = ms_expand_path(home);
		dirs[0] = ms_path_join(h, "credentials");
		free(h);
	} else {
		dirs[0] = ms_home_path(".modelscope/credentials");
	}
	dirs[1] = old ? ms_expand_path(old) : ms_home_path(".modelscope/credentials");
	*n = 2;
	if (!strcmp(dirs[0], dirs[1])) {
		free(dirs[1]);
		*n = 1;
	}
}

static void free_dirs(char *dirs[MAX_DIRS], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
}

/* The token in dir's cookie jar, unless it expired; NULL otherwise. */
static char *jar_token(const char *dir)
{
	char *path = ms_path_join(dir, "cookies"), *data = NULL, *value = NULL;
	size_t len = 0;
	int64_t expires = -1;

	if (ms_read_file(path, 1u << 20, &data, &len, NULL) == 0 &&
	    ms_pickle_decode_cookie(data, len, COOKIE, &value, &expires) == 0 && expires >= 0 &&
	    expires < (int64_t)time(NULL)) {
		free(value); /* expired: the clients treat it as logged out */
		value = NULL;
	}
	free(data);
	free(path);
	if (value && !*value) {
		free(value);
		value = NULL;
	}
	return value;
}

char *modelscope_stored_token(void)
{
	char *dirs[MAX_DIRS], *tok = NULL;
	size_t n;

	credential_dirs(dirs, &n);
	for (size_t i = 0; i < n && !tok; i++)
		tok = jar_token(dirs[i]);
	free_dirs(dirs, n);
	return tok;
}

/* POST /api/v1/login {"AccessToken"} (§2.1): the git token, user name and email. */
static int login(struct ms_session *s, const char *token, cJSON **data, cJSON **root,
                 struct ms_error *err)
{
	char *url = xasprintf("%s/api/v1/login", s->endpoint);
	cJSON *body = cJSON_CreateObject();
	char *text;
	struct ms_http_request req = {
	        .method = "POST", .url = url, .what = "login", .content_type = "application/json"};
	long status = 0;
	int ret;

	cJSON_AddStringToObject(body, "AccessToken", token);
	text = cJSON_PrintUnformatted(body);
	req.body = text;
	req.body_len = strlen(text);
	ret = modelscope_request_json(s, &req, &status, root, err);
	if (ret && (status == 401 || status == 403))
		ret = ms_error_set(err, MS_EAUTH,
		                   "%s refuses the token (HTTP %ld): it is invalid "
		                   "or expired",
		                   s->endpoint, status);
	*data = ret ? NULL : cJSON_GetObjectItemCaseSensitive(*root, "Data");
	cJSON_Delete(body);
	cJSON_free(text);
	free(url);
	return ret;
}

static int users_me(struct ms_session *s, struct ms_account *out, long *status,
                    struct ms_error *err)
{
	char *url = xasprintf("%s/openapi/v1/users/me", s->endpoint);
	struct ms_http_request req = {.url = url, .what = "whoami", .accept = "application/json"};
	struct ms_http_response resp = {0};
	const cJSON *data;
	cJSON *j = NULL;
	int ret = ms_http_request(&s->http, &req, &resp, err);

	*status = resp.status;
	if (!ret && resp.status != 200)
		ret = ms_http_status_error(&s->auth, &resp, "whoami", err);
	if (!ret &&
	    !(j = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len)))
		ret = ms_error_set(err, MS_EPROTO, "whoami: %s: malformed JSON", url);
	data = cJSON_GetObjectItemCaseSensitive(j, "data");
	if (!data)
		data = cJSON_GetObjectItemCaseSensitive(j, "Data");
	if (!ret && !ms_json_string(data, "username"))
		ret = ms_error_set(err, MS_EPROTO, "whoami: %s: the answer names no user", url);
	if (!ret) {
		out->name = xstrdup(ms_json_string(data, "username"));
		if (ms_json_string(data, "email"))
			out->email = xstrdup(ms_json_string(data, "email"));
	}
	cJSON_Delete(j);
	ms_http_response_release(&resp);
	free(url);
	return ret;
}

int modelscope_whoami(struct ms_session *s, struct ms_account *out, struct ms_error *err)
{
	cJSON *root = NULL, *data = NULL;
	long status = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!s->auth.token)
		return ms_error_set(err, MS_EAUTH,
		                    "not logged in to %s: run 'mscli login' (or give "
		                    "--token, or set MODELSCOPE_API_TOKEN)",
		                    s->endpoint);
	ret = users_me(s, out, &status, err);
	if (ret && (status == 401 || status == 403))
		return ms_error_set(err, MS_EAUTH,
		                    "%s refuses the token from %s: it is invalid or expired",
		                    s->endpoint, ms_session_token_from(s));
	if (!ret || status != 404)
		return ret;
	/* a hub without the OpenAPI (an older mirror): the login answer names the user too */
	ms_error_clear(err);
	ret = login(s, s->auth.token, &data, &root, err);
	if (!ret && ms_json_string(data, "Username")) {
		out->name = xstrdup(ms_json_string(data, "Username"));
		if (ms_json_string(data, "Email"))
			out->email = xstrdup(ms_json_string(data, "Email"));
	} else if (!ret) {
		ret = ms_error_set(err, MS_EPROTO, "login: the answer names no user");
	}
	cJSON_Delete(root);
	return ret;
}

/* The host the cookie is for: the endpoint's, without a port (as requests keeps it). */
static char *endpoint_host(const char *endpoint)
{
	CURLU *u = curl_url();
	char *host = NULL, *out;

	if (u && curl_url_set(u, CURLUPART_URL, endpoint, 0) == CURLUE_OK)
		curl_url_get(u, CURLUPART_HOST, &host, 0);
	out = xstrdup(host ? host : "www.modelscope.cn");
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

static int write_secret(const char *dir, const char *name, const void *data, size_t len,
                        struct ms_strlist *written, struct ms_error *err)
{
	char *path = ms_path_join(dir, name);
	int ret = ms_write_file_atomic(path, data, len, 0600, err);

	if (!ret)
		ms_strlist_add(written, path);
	free(path);
	return ret;
}

int modelscope_token_store(struct ms_session *s, const char *token, const struct ms_account *who,
                           struct ms_strlist *written, struct ms_error *err)
{
	char *dirs[MAX_DIRS], *host = endpoint_host(s->endpoint), *user;
	const char *git_token, *name, *email;
	struct ms_buf jar = MS_BUF_INIT;
	cJSON *root = NULL, *data = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t n;
	int ret;

	ms_home_missing();
	credential_dirs(dirs, &n);
	/* no home: no secrets below "/", and no login request to find that out after */
	if (ms_home_missing())
		ret = ms_home_error_for(err, "MODELSCOPE_HOME and MODELSCOPE_CREDENTIALS_PATH");
	else /* the login call gives the git token both clients keep beside the jar */
		ret = login(s, token, &data, &root, err);
	if (ret) {
		free_dirs(dirs, n);
		free(host);
		return ret;
	}
	git_token = ms_json_string(data, "AccessToken");
	name = ms_json_string(data, "Username") ? ms_json_string(data, "Username") : who->name;
	email = ms_json_string(data, "Email") ? ms_json_string(data, "Email") : who->email;
	user = xasprintf("%s:%s", name ? name : "", email ? email : "");
	ms_pickle_encode_cookie_jar(host, COOKIE, token, now + LIFETIME, now, &jar);
	for (size_t i = 0; i < n && !ret; i++) {
		ret = ms_mkdirs(dirs[i], 0700, err);
		/* a folder of secrets only (the clients make it 0755): nobody else reads in it */
		if (!ret && chmod(dirs[i], 0700) < 0)
			ret = ms_error_errno(err, errno, "cannot protect", dirs[i]);
		if (!ret)
			ret = write_secret(dirs[i], "cookies", jar.data, jar.len, written, err);
		if (!ret && git_token)
			ret = write_secret(dirs[i], "git_token", git_token, strlen(git_token),
			                   written, err);
		if (!ret)
			ret = write_secret(dirs[i], "user", user, strlen(user), written, err);
	}
	free_dirs(dirs, n);
	ms_buf_release(&jar);
	cJSON_Delete(root);
	free(user);
	free(host);
	return ret;
}

int modelscope_token_forget(struct ms_strlist *removed, struct ms_error *err)
{
	static const char *const names[] = {"cookies", "git_token", "user"};
	char *dirs[MAX_DIRS];
	size_t n;
	int ret = 0;

	credential_dirs(dirs, &n);
	for (size_t i = 0; i < n && !ret; i++) {
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !ret; k++) {
			char *path = ms_path_join(dirs[i], names[k]);

			if (ms_unlink_replaced(path) == 0)
				ms_strlist_add(removed, path);
			else if (errno != ENOENT)
				ret = ms_error_errno(err, errno, "cannot remove", path);
			free(path);
		}
	}
	free_dirs(dirs, n);
	return ret;
}
