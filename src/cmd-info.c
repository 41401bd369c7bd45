/*
 * mscli info REPO: what a repo holds at a revision (the file list that
 * `download --dry-run` plans) and what its hub tells of it; a table on a
 * terminal, tab-separated lines into a pipe, JSON lines, or paths only.
 */
#include <stdbool.h>
#include <unistd.h>

#include "mscli/cli.h"
#include "mscli/info.h"
#include "mscli/render.h"

struct info_opts {
	bool files;
};

enum {
	O_FILES = 1,
};

static const struct ms_opt info_opts[] = {
        MS_OPTS_REPO_TYPE,
        MS_OPTS_REVISION,
        {"files", 0, O_FILES, 0, NULL, "only the paths of the files, one per line", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int info_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct info_opts *o = state;

	(void)arg;
	if (id != O_FILES)
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	o->files = true;
	return 0;
}

static int info_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	const struct info_opts *o = state;
	struct ms_info in = {0};
	int ret;

	if (ctx->repo.file)
		return ms_error_set(err, MS_EUSAGE, "'%s' names the file '%s': info takes a repo",
		                    ctx->repo_spec, ctx->repo.file);
	if (o->files && ctx->g->json)
		return ms_error_set(err, MS_EUSAGE, "--files and --json cannot be combined");
	if (ms_ctx_offline(ctx))
		return ms_error_set(err, MS_EOFFLINE,
		                    "offline: info needs the hub (the cache: mscli --offline "
		                    "download --dry-run %s)",
		                    ctx->repo_spec);
	if ((ret = ms_ctx_need_cache(ctx, err)) != 0)
		return ret;
	ret = ms_info_load(&in, &ctx->sess, &ctx->repo, ctx->rev, ctx->cache_root, ctx->type >= 0,
	                   err);
	if (!ret)
		ms_render_info(&in, &ctx->repo, ctx->rev,
		               ctx->g->json ? MS_INFO_JSON
		               : o->files   ? MS_INFO_FILES
		                            : MS_INFO_TABLE,
		               isatty(STDOUT_FILENO));
	ms_info_release(&in);
	return ret;
}

const struct ms_cmd ms_cmd_info = {
        .name = "info",
        .summary = "show a repo's metadata and its files at a revision",
        .usage = "info REPO [OPTIONS]",
        .about = "REPO is written as for download.  Shows the id, type, revision and its\n"
                 "commit, last change, visibility, total size and file count, then every\n"
                 "file with its size and SHA-256 (the git object id for Hugging Face files\n"
                 "outside LFS): the files `download --dry-run` would fetch.\n",
        .examples = "  mscli info Qwen/Qwen2.5-0.5B-Instruct\n"
                    "  mscli info hf:openai-community/gpt2 --revision main --json\n"
                    "  mscli info --type dataset owner/name --files | grep '\\.parquet$'\n",
        .opts = info_opts,
        .setup = MS_SETUP_REPO | MS_SETUP_SESSION | MS_SETUP_CACHE,
        .min_args = 0,
        .max_args = 0,
        .state_size = sizeof(struct info_opts),
        .option = info_option,
        .exec = info_exec,
};
