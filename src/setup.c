/*
 * The set-up a command's table entry asks for (enum ms_setup), done before
 * it runs: REPO parsed with the hub chosen by --hub, MSCLI_HUB or the
 * repo's own URL or prefix; a session with that hub (retries said on
 * stderr); the cache root, absolute.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/redact.h"
#include "mscli/render.h"
#include "mscli/strbuf.h"
#include "mscli/ui.h"

/* --hub, else MSCLI_HUB, else the default hub. */
static int choose_hub(struct ms_ctx *ctx, enum ms_hub_choice *how, struct ms_error *err)
{
	int ret;

	*how = MS_CHOSEN_BY_OPTION;
	if (ctx->g->hub) {
		ctx->hub = ctx->g->hub;
		return 0;
	}
	if ((ret = ms_hub_from_env(&ctx->hub, err)) != 0)
		return ret;
	if (ctx->hub) {
		*how = MS_CHOSEN_BY_ENV;
		return 0;
	}
	*how = MS_CHOSEN_DEFAULT;
	ctx->hub = ms_hub_default();
	return 0;
}

/* The command's usage line as the user types it: "cache rm REPO ...", not "rm REPO ...". */
static const char *usage_line(const struct ms_ctx *ctx, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", ctx->parent ? ctx->parent : "", ctx->parent ? " " : "",
	         ctx->cmd->usage);
	return buf;
}

static int setup_repo(struct ms_ctx *ctx, const void *state, struct ms_error *err)
{
	int type = -1;
	const char *spec = ctx->cmd->repo_arg ? ctx->cmd->repo_arg(state, &type) : NULL;
	const char *why;
	enum ms_hub_choice hub_given;
	char usage[256];
	int ret;

	if (type >= 0)
		ctx->type = type;
	if (!spec && ctx->argc) {
		spec = ctx->argv[0];
		ctx->argc--;
		ctx->argv++;
	}
	if (!spec)
		return ms_error_set(err, MS_EUSAGE, "%s: which repo? (mscli %s)", ctx->cmd_name,
		                    usage_line(ctx, usage, sizeof(usage)));
	ctx->repo_spec = spec;
	if ((ret = choose_hub(ctx, &hub_given, err)) != 0 ||
	    (ret = ms_repo_parse(spec, ctx->hub, hub_given, ctx->type, &ctx->repo, err)) != 0)
		return ret;
	ctx->hub = ctx->repo.hub;
	if (ctx->g->hub && ctx->repo.hub != ctx->g->hub)
		return ms_error_set(err, MS_EUSAGE, "'%s' is a %s repo but --hub says %s", spec,
		                    ctx->repo.hub->name, ctx->g->hub->name);
	if (ctx->revision && ctx->repo.revision && strcmp(ctx->revision, ctx->repo.revision))
		return ms_error_set(err, MS_EUSAGE,
		                    "'%s' names revision '%s' but --revision says '%s'", spec,
		                    ctx->repo.revision, ctx->revision);
	ctx->rev = ctx->revision        ? ctx->revision
	           : ctx->repo.revision ? ctx->repo.revision
	                                : ctx->hub->default_revision;
	/* it names files in the cache (refs/<rev>, .mv): refuse what would escape */
	if (ms_path_check(ctx->rev, &why))
		return ms_error_set(err, MS_EUSAGE, "'%s' is not a revision name: %s", ctx->rev,
		                    why);
	return 0;
}

/* A hub request will be tried again: one line (a JSON "retry" object with --json). */
static void on_http_retry(void *arg, const struct ms_retry_note *n)
{
	const struct ms_ctx *ctx = arg;

	if (ctx->g->json) {
		struct ms_json *j = ms_json_begin("retry");

		ms_json_str(j, "what", n->what);
		ms_json_str(j, "url", n->url);
		ms_json_num(j, "attempt", n->attempt);
		ms_json_num(j, "delay", n->delay);
		ms_json_str(j, "reason", n->reason);
		ms_json_emit(j, stdout);
	} else {
		ms_info("retrying %s (try %d of %d, in %.1f s): %s: %s", n->what, n->attempt + 1,
		        n->attempts, n->delay, n->url, n->reason);
	}
}

static int setup_session(struct ms_ctx *ctx, struct ms_error *err)
{
	struct ms_session_opts so = {.endpoint = ctx->g->endpoint,
	                             .token = ctx->g->token,
	                             .net = ctx->g->net,
	                             .stall_given = ctx->g->stall_given};
	enum ms_hub_choice given;
	int ret;

	if (!ctx->hub && (ret = choose_hub(ctx, &given, err)) != 0)
		return ret;
	/* a CA file that cannot be read is said now, not as a TLS failure at each request */
	if ((!ms_ctx_offline(ctx) && (ret = ms_net_opts_check(&ctx->g->net, err)) != 0) ||
	    (ret = ms_session_open(&ctx->sess, ctx->hub, &so, err)) != 0)
		return ret;
	ctx->have_sess = true;
	ctx->sess.http.on_retry = on_http_retry;
	ctx->sess.http.retry_arg = ctx;
	if (ctx->repo.endpoint && !ctx->g->endpoint) {
		/* a mirror's URL names the mirror; only --endpoint overrides it */
		ms_session_set_endpoint(&ctx->sess, ctx->repo.endpoint);
		ctx->sess.endpoint_explicit = true;
	}
	return 0;
}

static int setup_cache(struct ms_ctx *ctx, struct ms_error *err)
{
	char *root;
	enum ms_hub_choice given;
	int ret;

	if (!ctx->hub && (ret = choose_hub(ctx, &given, err)) != 0)
		return ret;
	ms_home_missing();
	root = ctx->g->cache_dir ? xstrdup(ctx->g->cache_dir) : ctx->hub->default_cache();
	if (ms_home_missing()) {
		/* no cache, said when one is needed: a --local-dir needs none */
		free(root);
		return 0;
	}
	/* printed paths work from any directory: "$(mscli download ...)" after a cd */
	ctx->cache_root = ms_absolute_path(root);
	free(root);
	return 0;
}

int ms_cli_setup(struct ms_ctx *ctx, const void *state, struct ms_error *err)
{
	const struct ms_cmd *cmd = ctx->cmd;
	char usage[256];
	int ret = 0;

	if (cmd->setup & MS_SETUP_REPO)
		ret = setup_repo(ctx, state, err);
	if (!ret && ctx->argc < cmd->min_args)
		ret = ms_error_set(err, MS_EUSAGE, "%s: too few arguments (mscli %s)",
		                   ctx->cmd_name, usage_line(ctx, usage, sizeof(usage)));
	if (!ret && cmd->max_args >= 0 && ctx->argc > cmd->max_args)
		ret = ms_error_set(err, MS_EUSAGE, "%s: unexpected argument '%s' (mscli %s)",
		                   ctx->cmd_name, ctx->argv[cmd->max_args],
		                   usage_line(ctx, usage, sizeof(usage)));
	if (!ret && (cmd->setup & MS_SETUP_SESSION))
		ret = setup_session(ctx, err);
	if (!ret && (cmd->setup & MS_SETUP_CACHE))
		ret = setup_cache(ctx, err);
	return ret;
}

int ms_ctx_need_cache(const struct ms_ctx *ctx, struct ms_error *err)
{
	return ctx->cache_root ? 0 : ms_home_error(err);
}

bool ms_ctx_offline(const struct ms_ctx *ctx)
{
	const struct ms_hub *hub = ctx->hub;

	return ctx->g->offline || (hub && hub->env_offline && hub->env_offline());
}

void ms_ctx_release(struct ms_ctx *ctx)
{
	if (ctx->have_sess)
		ms_session_release(&ctx->sess);
	ms_repo_release(&ctx->repo);
	free(ctx->cache_root);
}
