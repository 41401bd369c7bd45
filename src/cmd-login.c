/*
 * mscli login | whoami | logout: three commands over the account operation
 * (account.c).  The token of a login comes from --token, else standard
 * input (a no-echo prompt on a terminal, the first line of a pipe); it is
 * checked against the hub before anything is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/account.h"
#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/env.h"
#include "mscli/render.h"
#include "mscli/ui.h"

static const struct ms_opt no_opts[] = {
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

/* The variable that still wins over what login stores, when it is set. */
static void warn_env(const struct ms_hub *hub, const char *doing)
{
	if (hub->token_env && ms_getenv(hub->token_env))
		ms_warn("%s is set: it is used before the %s token", hub->token_env, doing);
}

static char *token_to_store(struct ms_ctx *ctx, struct ms_error *err)
{
	char *tok, *start, *end;

	if (ctx->g->token)
		return xstrdup(ctx->g->token);
	tok = ms_ui_read_secret("Token (input hidden): ");
	if (!tok) {
		ms_error_set(err, MS_EUSAGE,
		             "no token: give --token, type it at the prompt, or "
		             "pipe it in");
		return NULL;
	}
	start = tok + strspn(tok, " \t");
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	memmove(tok, start, strlen(start) + 1);
	if (!*tok) {
		free(tok);
		ms_error_set(err, MS_EUSAGE, "no token: the input was empty");
		return NULL;
	}
	return tok;
}

static int login_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct ms_account who = {0};
	struct ms_strlist written = {0};
	char *token;
	int ret;

	(void)state;
	if (!(token = token_to_store(ctx, err)))
		return MS_EUSAGE;
	ret = ms_login(&ctx->sess, token, &who, &written, err);
	if (!ret) {
		if (ctx->g->json)
			ms_render_account("login", &who, ctx->sess.endpoint, &written, true);
		ms_info("logged in to %s as %s; the token is saved in:", ctx->sess.endpoint,
		        who.name);
		for (size_t i = 0; i < written.n; i++)
			ms_info("  %s", written.v[i]);
		warn_env(ctx->hub, "saved");
	}
	free(token);
	ms_account_release(&who);
	ms_strlist_release(&written);
	return ret;
}

static int whoami_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct ms_account who = {0};
	int ret;

	(void)state;
	ret = ms_whoami(&ctx->sess, &who, err);
	if (!ret) {
		ms_render_account("whoami", &who, ctx->sess.endpoint, NULL, ctx->g->json);
		ms_info("on %s, with the token from %s%s", ctx->sess.endpoint,
		        ms_session_token_from(&ctx->sess), who.norgs ? "; organisations:" : "");
		for (size_t i = 0; i < who.norgs; i++)
			ms_info("  %s", who.orgs[i]);
	}
	ms_account_release(&who);
	return ret;
}

static int logout_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct ms_strlist removed = {0};
	int ret;

	(void)state;
	ret = ms_logout(ctx->hub, &removed, err);
	if (!ret) {
		if (ctx->g->json)
			ms_render_account("logout", NULL, ctx->sess.endpoint, &removed, true);
		if (!removed.n)
			ms_info("not logged in to %s: no saved token", ctx->hub->name);
		for (size_t i = 0; i < removed.n; i++)
			ms_info("removed %s", removed.v[i]);
		warn_env(ctx->hub, "(now erased)");
	}
	ms_strlist_release(&removed);
	return ret;
}

const struct ms_cmd ms_cmd_login = {
        .name = "login",
        .summary = "check a token with the hub and save it for mscli and the hub's own clients",
        .usage = "login [--token TOKEN]",
        .about = "The token comes from --token, else standard input: typed at a prompt that\n"
                 "does not echo it, or the first line of a pipe.  It is checked with the hub\n"
                 "first; a refused token is saved nowhere (exit 6).  Hugging Face: saved to\n"
                 "$HF_TOKEN_PATH (else $HF_HOME/token) and stored_tokens beside it, where\n"
                 "hf and huggingface_hub read it.  ModelScope: saved as the cookie jar both\n"
                 "modelscope clients read (credentials/cookies, with git_token and user).\n",
        .examples = "  mscli login --hub hf\n"
                    "  echo \"$MS_TOKEN\" | mscli login\n",
        .opts = no_opts,
        .setup = MS_SETUP_SESSION,
        .max_args = 0,
        .exec = login_exec,
};

const struct ms_cmd ms_cmd_whoami = {
        .name = "whoami",
        .summary = "print the user the token belongs to (exit 6 when not logged in)",
        .usage = "whoami",
        .about = "The token is --token, else the hub's variable, else the saved login.\n",
        .opts = no_opts,
        .setup = MS_SETUP_SESSION,
        .max_args = 0,
        .exec = whoami_exec,
};

const struct ms_cmd ms_cmd_logout = {
        .name = "logout",
        .summary = "erase the token a login saved",
        .usage = "logout",
        .about = "Removes what 'mscli login' wrote (Hugging Face: the token file and its\n"
                 "entry in stored_tokens; ModelScope: cookies, git_token and user).  The hub's\n"
                 "variable, when set, still provides a token.\n",
        .opts = no_opts,
        .setup = MS_SETUP_SESSION,
        .max_args = 0,
        .exec = logout_exec,
};
