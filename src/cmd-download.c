/*
 * mscli download REPO [FILE...]: the command line of the download
 * operation (download.c) and how its results are shown: the path on
 * stdout, progress bars and notes on stderr, or JSON lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/clock.h"
#include "mscli/download.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/render.h"
#include "mscli/ui.h"

struct dl_opts {
	struct ms_filter filter;
	char *local_dir;
	int max_workers, connections;
	bool force, dry_run;
	char *output;
	char *repo; /* --model / --dataset REPO, as `modelscope download` takes it */
	bool repo_is_dataset;
};

enum {
	O_INCLUDE = 1,
	O_EXCLUDE,
	O_LOCAL_DIR,
	O_MAX_WORKERS,
	O_CONNECTIONS,
	O_FORCE,
	O_DRY_RUN,
	O_MODEL,
	O_DATASET,
	O_OUTPUT,
	O_RESUME,
	O_SYMLINKS,
};

static const struct ms_opt dl_opts[] = {
        MS_OPTS_REPO_TYPE,
        MS_OPTS_REVISION,
        {"include", 0, O_INCLUDE, MS_OPT_VALUE | MS_OPT_MORE, "GLOB",
         "only files matching GLOB (repeatable, comma-separated;\nafter REPO, the words up to "
         "the next option are more\nGLOBs; before it, only words with * ? [)",
         0, NULL},
        {"exclude", 0, O_EXCLUDE, MS_OPT_VALUE | MS_OPT_MORE, "GLOB",
         "skip files matching GLOB (the same rules)", 0, NULL},
        {"local-dir", 0, O_LOCAL_DIR, MS_OPT_VALUE, "DIR",
         "plain files in DIR instead of the cache", MS_COMPLETE_DIR, NULL},
        {"local_dir", 0, O_LOCAL_DIR, MS_OPT_VALUE | MS_OPT_HIDDEN, "DIR", NULL, MS_COMPLETE_DIR,
         NULL},
        {"model", 0, O_MODEL, MS_OPT_VALUE, "REPO",
         "the repo as `modelscope download` takes it (then every\nargument is a FILE; "
         "--local_dir, --cache_dir work too)",
         0, NULL},
        {"dataset", 0, O_DATASET, MS_OPT_VALUE, "REPO", "the same for a dataset", 0, NULL},
        {"max-workers", 0, O_MAX_WORKERS, MS_OPT_VALUE, "N",
         "files at once, and the connection budget (8)", 0, NULL},
        {"max_workers", 0, O_MAX_WORKERS, MS_OPT_VALUE | MS_OPT_HIDDEN, "N", NULL, 0, NULL},
        {"connections", 0, O_CONNECTIONS, MS_OPT_VALUE, "N",
         "parallel ranges for one large file (8)", 0, NULL},
        {"force", 0, O_FORCE, 0, NULL, "download again even when cached (no resume)", 0, NULL},
        {"force-download", 0, O_FORCE, MS_OPT_HIDDEN, NULL, NULL, 0, NULL},
        {"force_download", 0, O_FORCE, MS_OPT_HIDDEN, NULL, NULL, 0, NULL},
        /* habits from huggingface_hub's CLI in CI scripts: mscli always resumes, and a
         * --local-dir never holds symlinks (as huggingface_hub >= 0.23) */
        {"resume-download", 0, O_RESUME, MS_OPT_HIDDEN, NULL, NULL, 0, NULL},
        {"resume_download", 0, O_RESUME, MS_OPT_HIDDEN, NULL, NULL, 0, NULL},
        {"local-dir-use-symlinks", 0, O_SYMLINKS, MS_OPT_VALUE | MS_OPT_HIDDEN, "VALUE", NULL, 0,
         NULL},
        {"dry-run", 0, O_DRY_RUN, 0, NULL, "show what would be downloaded; change nothing", 0,
         NULL},
        {"output", 'o', O_OUTPUT, MS_OPT_VALUE, "PATH|-",
         "copy the one FILE to PATH, or stream it to stdout\n('-'), after it is verified",
         MS_COMPLETE_FILE, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int dl_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct dl_opts *o = state;
	uint64_t v;

	switch (id) {
	case O_INCLUDE:
	case O_EXCLUDE:
		ms_filter_add(&o->filter, id == O_INCLUDE, arg);
		return 0;
	case O_LOCAL_DIR:
		free(o->local_dir);
		o->local_dir = ms_expand_tilde(arg); /* "--local-dir=~/x": no shell expands it */
		return 0;
	case O_MAX_WORKERS:
	case O_CONNECTIONS:
		if (ms_parse_u64(arg, &v) || v < 1 || v > 64)
			return ms_error_set(
			        err, MS_EUSAGE, "--%s takes a number from 1 to 64, not '%s'",
			        id == O_MAX_WORKERS ? "max-workers" : "connections", arg);
		*(id == O_MAX_WORKERS ? &o->max_workers : &o->connections) = (int)v;
		return 0;
	case O_FORCE:
		o->force = true;
		return 0;
	case O_DRY_RUN:
		o->dry_run = true;
		return 0;
	case O_OUTPUT:
		free(o->output);
		o->output = ms_expand_tilde(arg);
		return 0;
	case O_RESUME:
		return 0; /* an interrupted download always resumes */
	case O_SYMLINKS:
		ms_warn("--local-dir-use-symlinks is ignored: a --local-dir holds plain files (as "
		        "huggingface_hub does since 0.23)");
		return 0;
	case O_MODEL:
	case O_DATASET:
		/* modelscope download --model o/n [FILE...]: every positional is a FILE */
		if (o->repo)
			return ms_error_set(err, MS_EUSAGE, "--model/--dataset given twice");
		o->repo = xstrdup(arg);
		o->repo_is_dataset = id == O_DATASET;
		return 0;
	default:
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	}
}

/* --model/--dataset REPO: the repo, and its type */
static const char *dl_repo_arg(const void *state, int *type)
{
	const struct dl_opts *o = state;

	if (o->repo)
		*type = o->repo_is_dataset ? MS_REPO_DATASET : MS_REPO_MODEL;
	return o->repo;
}

static void dl_release(void *state)
{
	struct dl_opts *o = state;

	free(o->local_dir);
	free(o->output);
	free(o->repo);
	ms_filter_release(&o->filter);
}

/* One run: the options, the operation, and what has been shown. */
struct dl {
	struct ms_ctx *ctx;
	struct dl_opts *o;
	struct ms_download op;
	struct ms_progress *progress;
	double t0;
	struct ms_retry_notes retries;
};

/* ---- what the operation reports ---- */

static void on_file(void *arg, const struct ms_download *d, const struct ms_file *f,
                    const char *status, const char *actual)
{
	struct dl *dl = arg;

	if (dl->ctx->g->json)
		ms_render_download_file(d, f, status, actual);
}

static void on_event(void *arg, const struct ms_download *d, const struct ms_event *ev)
{
	struct dl *dl = arg;
	const struct ms_global *g = dl->ctx->g;

	(void)d;
	if (ev->type == MS_EV_PLAN && g->progress && !dl->progress) {
		dl->progress = ms_progress_new(stderr);
		ms_ui_set_progress(dl->progress);
	}
	if (!g->json)
		ms_retry_notes_event(&dl->retries, ev, ms_now());
	ms_progress_event(dl->progress, ev);
	if (ev->type == MS_EV_FINISH)
		ms_ui_set_progress(NULL); /* the bars are gone: notes print plainly again */
	if (g->json && ev->type != MS_EV_DONE) {
		/* progress as JSON at most once a second per file */
		if (ev->type == MS_EV_PROGRESS && (int)(ev->elapsed * 10) % 10)
			return;
		ms_json_engine_event(stdout, ev);
	}
}

static void on_note(void *arg, enum ms_note kind, const char *msg)
{
	(void)arg;
	if (kind == MS_NOTE_WARN)
		ms_warn("%s", msg);
	else
		ms_info("%s", msg);
}

static void on_lock_wait(void *arg, const char *path)
{
	(void)arg;
	ms_info("waiting for another process to finish with '%s'", path);
}

/* ---- checks before anything is fetched ---- */

/* FILE arguments are repo paths ("dir/" names a folder). */
static int check_files(char **files, size_t nfiles, struct ms_error *err)
{
	for (size_t i = 0; i < nfiles; i++) {
		const char *why;
		char *f = xstrdup(files[i]);
		size_t len = strlen(f);
		int bad;

		while (len > 1 && f[len - 1] == '/')
			f[--len] = '\0';
		bad = ms_path_check(f, &why);
		free(f);
		if (bad)
			return ms_error_set(err, MS_EUSAGE, "'%s' is not a file path in a repo: %s",
			                    files[i], why);
	}
	return 0;
}

static int check_options(const struct dl *dl, const struct ms_download_opts *o,
                         struct ms_error *err)
{
	const struct ms_global *g = dl->ctx->g;
	const char *out = dl->o->output;
	bool single = o->nfiles == 1 && o->files[0][strlen(o->files[0]) - 1] != '/';
	int ret = check_files(o->files, o->nfiles, err);

	if (ret)
		return ret;
	if (o->nfiles && !ms_filter_empty(&dl->o->filter))
		ms_warn("--include/--exclude are ignored when FILEs are given");
	if (out && !single)
		return ms_error_set(err, MS_EUSAGE, "-o/--output needs exactly one FILE");
	if (out && !strcmp(out, "-") && g->json)
		return ms_error_set(err, MS_EUSAGE,
		                    "--json and -o - both want standard output: use -o PATH");
	if (out && strcmp(out, "-") && (ret = ms_check_new_file(out, err)) != 0) {
		if (ret == MS_EUSAGE)
			ms_error_set(err, ret, "-o '%s' is a directory: name the file", out);
		return ret; /* before any byte is fetched */
	}
	if (dl->o->local_dir && g->cache_dir)
		return ms_error_set(err, MS_EUSAGE,
		                    "--local-dir and --cache-dir cannot be combined");
	if (g->offline && dl->o->force)
		return ms_error_set(err, MS_EUSAGE, "--offline and --force cannot be combined");
	return 0;
}

/* ---- results ---- */

/* The last line (the path, or the "done" object), the copy for -o, a summary on stderr. */
static int report(struct dl *dl, int status, struct ms_error *err)
{
	const struct ms_download *d = &dl->op;
	const char *out = dl->o->output;
	char *where = NULL;
	int ret = status;

	dl->ctx->reported = true;
	if (!status) {
		where = ms_download_result_path(d);
		if (out) {
			ret = ms_copy_out(where, out, err);
			free(where);
			where = !ret && strcmp(out, "-") ? xstrdup(out) : NULL;
		}
	}
	ms_render_download_done(d, dl->ctx->g->json, where, ms_now() - dl->t0, ret, err);
	if (!ret)
		ms_render_download_summary(d, ms_now() - dl->t0);
	free(where);
	return ret;
}

static int print_plan(struct dl *dl, bool offline, int status, const struct ms_error *err)
{
	ms_render_download_plan(&dl->op, dl->ctx->g->json, offline, status, err);
	dl->ctx->reported = true;
	return status;
}

static int run(struct dl *dl, bool offline, struct ms_error *err)
{
	struct ms_download *d = &dl->op;
	int ret;

	if (offline) {
		ret = ms_download_plan_offline(d, err);
		if (dl->o->dry_run && (!ret || ret == MS_EOFFLINE) && d->cached)
			return print_plan(dl, true, ret, err);
		return report(dl, ret, err);
	}
	ret = ms_download_plan(d, err);
	if (ret)
		return ret;
	if (dl->o->dry_run)
		return print_plan(dl, false, 0, err);
	ret = ms_download_fetch(d, err);
	if (ret)
		ms_render_download_failures(d);
	return report(dl, ret, err);
}

static int dl_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct dl_opts *o = state;
	struct dl dl = {.ctx = ctx,
	                .o = o,
	                .t0 = ms_now(),
	                .retries = {.tries = ctx->sess.net.retries + 1}};
	struct ms_download_opts dop = {.filter = &o->filter,
	                               .cache_root = ctx->cache_root,
	                               .force = o->force,
	                               .dry_run = o->dry_run,
	                               .type_given = ctx->type >= 0,
	                               .max_workers = o->max_workers,
	                               .connections = o->connections,
	                               .files = ctx->argv,
	                               .nfiles = (size_t)ctx->argc};
	struct ms_download_cb cb = {.arg = &dl,
	                            .file = on_file,
	                            .event = on_event,
	                            .note = on_note,
	                            .lock_wait = on_lock_wait};
	char *local_dir = NULL;
	int ret;

	if (ctx->repo.file) {
		/* https://huggingface.co/o/n/blob/main/config.json names one file */
		if (dop.nfiles)
			return ms_error_set(err, MS_EUSAGE,
			                    "'%s' names the file '%s': give no FILE as well",
			                    ctx->repo_spec, ctx->repo.file);
		dop.files = &ctx->repo.file;
		dop.nfiles = 1;
	}
	if ((ret = check_options(&dl, &dop, err)) != 0 ||
	    (!o->local_dir && (ret = ms_ctx_need_cache(ctx, err)) != 0))
		goto out;
	if (o->local_dir)
		dop.local_dir = local_dir = ms_absolute_path(o->local_dir);
	ms_download_init(&dl.op, &ctx->sess, &ctx->repo, ctx->rev, &dop, &cb);
	ret = run(&dl, ms_ctx_offline(ctx), err);
	/* --json: a failure before the transfer still ends with its "done" object */
	if (ret && ctx->g->json && !ctx->reported)
		report(&dl, ret, err);
out:
	ms_ui_set_progress(NULL);
	ms_progress_free(dl.progress);
	ms_download_release(&dl.op);
	free(local_dir);
	return ret;
}

const struct ms_cmd ms_cmd_download = {
        .name = "download",
        .summary = "download a model or dataset (or some of its files), verified, into the cache",
        .usage = "download REPO [FILE...] [OPTIONS]",
        .about = "REPO is owner/name, ms:owner/name, hf:owner/name or a hub URL (a mirror's\n"
                 "URL names the mirror; .../blob/REV/FILE names one file).  Prints the\n"
                 "snapshot directory (the file's path when exactly one FILE is given).\n",
        .examples = "  mscli download Qwen/Qwen2.5-0.5B-Instruct\n"
                    "  mscli download Qwen/Qwen2.5-0.5B-Instruct --include '*.json' --local-dir "
                    "./qwen\n"
                    "  mscli download --type dataset owner/name --revision v1.0\n"
                    "  mscli download hf:openai-community/gpt2 config.json -o - | jq .\n",
        .opts = dl_opts,
        .setup = MS_SETUP_REPO | MS_SETUP_SESSION | MS_SETUP_CACHE,
        .min_args = 0,
        .max_args = -1,
        .state_size = sizeof(struct dl_opts),
        .option = dl_option,
        .repo_arg = dl_repo_arg,
        .exec = dl_exec,
        .release = dl_release,
};
