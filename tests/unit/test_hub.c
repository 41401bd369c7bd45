/* The hub registry and sessions: names, environment, what goes to which origin. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mscli/fs.h"
#include "mscli/hub.h"
#include "unit.h"

static bool has_header(const struct curl_slist *l, const char *prefix)
{
	for (; l; l = l->next)
		if (!strncmp(l->data, prefix, strlen(prefix)))
			return true;
	return false;
}

static void test_registry(void)
{
	const struct ms_hub *ms = ms_hub_find("modelscope"), *hf = ms_hub_find("hf");

	CHECK(ms && hf && ms != hf);
	CHECK(ms_hub_default() == ms);
	CHECK(ms_hub_find("ms") == ms && ms_hub_find("huggingface") == hf);
	CHECK(ms_hub_find("github") == NULL);
	CHECK_STR(ms_hub_names(), "modelscope or hf");
	CHECK(!strcmp(ms->default_revision, "master") && !strcmp(hf->default_revision, "main"));
	/* what generic code builds its text from (--help, messages): every hub has it */
	for (size_t i = 0; ms_hubs[i]; i++)
		CHECK(ms_hubs[i]->title && ms_hubs[i]->help_endpoint_env &&
		      ms_hubs[i]->help_cache_env && ms_hubs[i]->token_env);
}

/* MSCLI_HUB, read in one place for every command */
static void test_hub_from_env(void)
{
	const struct ms_hub *h = ms_hub_default();
	struct ms_error err;

	ms_error_clear(&err);
	unsetenv("MSCLI_HUB");
	CHECK(ms_hub_from_env(&h, &err) == 0 && h == NULL);
	setenv("MSCLI_HUB", "HuggingFace", 1); /* an alias, any case */
	CHECK(ms_hub_from_env(&h, &err) == 0 && h == ms_hub_find("hf"));
	setenv("MSCLI_HUB", "github", 1);
	CHECK(ms_hub_from_env(&h, &err) == MS_EUSAGE && h == NULL);
	CHECK_STR(err.msg, "MSCLI_HUB is 'github', not modelscope or hf");
	unsetenv("MSCLI_HUB");
}

static void test_sessions(void)
{
	const struct ms_hub *ms = ms_hub_find("modelscope"), *hf = ms_hub_find("hf");
	struct ms_session_opts o = {0};
	struct ms_session s;
	struct ms_error err;
	struct curl_slist *h;
	char tmpl[] = "/tmp/mscli-unit-hub-XXXXXX", *dir = mkdtemp(tmpl), *tok;

	ms_net_opts_init(&o.net);
	/* ModelScope: a bare MODELSCOPE_DOMAIN means https; the token goes as bearer and cookie,
	 * to the hub's origin only */
	setenv("MODELSCOPE_DOMAIN", "ms.example", 1);
	setenv("MODELSCOPE_API_TOKEN", "ms-secret-1", 1);
	CHECK(ms_session_open(&s, ms, &o, &err) == 0);
	CHECK_STR(s.endpoint, "https://ms.example");
	CHECK(s.endpoint_explicit);
	h = ms_http_auth_headers(&s.auth, "https://ms.example/api/v1/x", NULL);
	CHECK(has_header(h, "Authorization: Bearer ms-secret-1"));
	CHECK(has_header(h, "Cookie: m_session_id=ms-secret-1") && has_header(h, "X-Request-ID: "));
	curl_slist_free_all(h);
	h = ms_http_auth_headers(&s.auth, "https://cdn.example/blob", NULL);
	CHECK(h == NULL); /* a CDN gets nothing of ours */
	ms_session_release(&s);
	/* an option wins over the environment */
	o.token = "from-option";
	o.endpoint = "http://127.0.0.1:9";
	CHECK(ms_session_open(&s, ms, &o, &err) == 0);
	CHECK(!strcmp(s.auth.token, "from-option") && !strcmp(s.endpoint, "http://127.0.0.1:9"));
	ms_session_release(&s);
	o.endpoint = "ftp://x";
	CHECK(ms_session_open(&s, ms, &o, &err) == MS_EUSAGE);
	unsetenv("MODELSCOPE_DOMAIN");
	unsetenv("MODELSCOPE_API_TOKEN");

	/* Hugging Face: the token file (blanks and newline stripped), no cookie */
	o.endpoint = NULL;
	o.token = NULL;
	if (dir) {
		tok = ms_path_join(dir, "token");
		FILE *f = fopen(tok, "w");

		if (f) {
			fputs("  hf_filetoken \n", f);
			fclose(f);
		}
		setenv("HF_TOKEN_PATH", tok, 1);
		unsetenv("HF_TOKEN");
		CHECK(ms_session_open(&s, hf, &o, &err) == 0);
		CHECK(s.auth.token && !strcmp(s.auth.token, "hf_filetoken"));
		CHECK_STR(s.endpoint, "https://huggingface.co");
		h = ms_http_auth_headers(&s.auth, "https://huggingface.co/api/models/x", NULL);
		CHECK(has_header(h, "Authorization: Bearer hf_filetoken"));
		CHECK(!has_header(h, "Cookie:"));
		curl_slist_free_all(h);
		ms_session_release(&s);
		/* HF_HUB_DOWNLOAD_TIMEOUT, unless --stall-timeout was given */
		setenv("HF_HUB_DOWNLOAD_TIMEOUT", "7", 1);
		CHECK(ms_session_open(&s, hf, &o, &err) == 0 && s.net.stall_timeout == 7);
		ms_session_release(&s);
		o.stall_given = true;
		CHECK(ms_session_open(&s, hf, &o, &err) == 0 && s.net.stall_timeout == 30);
		ms_session_release(&s);
		unsetenv("HF_HUB_DOWNLOAD_TIMEOUT");
		unsetenv("HF_TOKEN_PATH");
		unlink(tok);
		rmdir(dir);
		free(tok);
	}
}

void test_hub(void)
{
	test_registry();
	test_hub_from_env();
	test_sessions();
}
