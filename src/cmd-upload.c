/*
 * mscli upload REPO PATH [PATH_IN_REPO]: the command line of the upload
 * operation (upload.c) and how it is shown: the commit's URL on stdout;
 * on a terminal a hashing bar, then the transfer bars; with --json a line
 * per file and a final "done" object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/clock.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/ui.h"
#include "mscli/upload.h"

struct up_opts {
	struct ms_filter filter;
	char *message;
	bool private;
	int max_workers;
};

enum {
	O_INCLUDE = 1,
	O_EXCLUDE,
	O_MESSAGE,
	O_PRIVATE,
	O_MAX_WORKERS,
};

static const struct ms_opt up_opts[] = {
        MS_OPTS_REPO_TYPE,
        {"revision", 0, MS_OPT_ID_REVISION, MS_OPT_VALUE, "BRANCH",
         "the branch to commit to (made from the default branch\nwhen missing, where the hub "
         "allows)",
         0, NULL},
        {"include", 0, O_INCLUDE, MS_OPT_VALUE | MS_OPT_MORE, "GLOB",
         "only files matching GLOB (paths inside PATH; repeatable,\ncomma-separated)", 0, NULL},
        {"exclude", 0, O_EXCLUDE, MS_OPT_VALUE | MS_OPT_MORE, "GLOB",
         "skip files matching GLOB (the same rules)", 0, NULL},
        {"message", 'm', O_MESSAGE, MS_OPT_VALUE, "MSG",
         "the commit message (default \"Upload ... with mscli\")", 0, NULL},
        {"commit-message", 0, O_MESSAGE, MS_OPT_VALUE | MS_OPT_HIDDEN, "MSG", NULL, 0, NULL},
        {"private", 0, O_PRIVATE, 0, NULL,
         "create the repo private (an existing repo keeps its\nvisibility)", 0, NULL},
        {"max-workers", 0, O_MAX_WORKERS, MS_OPT_VALUE, "N",
         "transfers at once (8); parts of large files count", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int up_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct up_opts *o = state;
	uint64_t v;

	switch (id) {
	case O_INCLUDE:
	case O_EXCLUDE:
		ms_filter_add(&o->filter, id == O_INCLUDE, arg);
		return 0;
	case O_MESSAGE:
		free(o->message);
		o->message = xstrdup(arg);
		return 0;
	case O_PRIVATE:
		o->private = true;
		return 0;
	case O_MAX_WORKERS:
		if (ms_parse_u64(arg, &v) || v < 1 || v > 64)
			return ms_error_set(err, MS_EUSAGE,
			                    "--max-workers takes a number from 1 to 64, not '%s'",
			                    arg);
		o->max_workers = (int)v;
		return 0;
	default:
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	}
}

static void up_release(void *state)
{
	struct up_opts *o = state;

	free(o->message);
	ms_filter_release(&o->filter);
}

/* One run: what has been shown. */
struct up {
	struct ms_ctx *ctx;
	struct ms_progress *progress;
	struct ms_xfer_job hashing; /* a bar for the hashing */
	bool hashing_done;
	double t0;
	struct ms_retry_notes retries;
};

static void show_bars(struct up *up)
{
	if (up->ctx->g->progress && !up->progress) {
		up->progress = ms_progress_new(stderr);
		ms_ui_set_progress(up->progress);
	}
}

static void hide_bars(struct up *up)
{
	ms_ui_set_progress(NULL);
	ms_progress_free(up->progress);
	up->progress = NULL;
}

/* Hashing runs while the engine sends what is hashed: one more bar among the engine's,
 * which redraw it; it goes when every file is hashed. */
static void on_hashing(void *arg, uint64_t done, uint64_t total, size_t files_done, size_t n)
{
	struct up *up = arg;
	struct ms_event ev = {.type = MS_EV_START, .job = &up->hashing, .job_done = done};
	char name[64];

	if (!up->ctx->g->progress || !up->progress || up->hashing_done)
		return;
	if (!up->hashing.name) {
		snprintf(name, sizeof(name), "hashing %zu file%s", n, n == 1 ? "" : "s");
		up->hashing.name = xstrdup(name);
		up->hashing.size = total;
		ms_progress_event(up->progress, &ev);
	}
	ev.type = MS_EV_PROGRESS;
	ms_progress_event(up->progress, &ev);
	if (files_done == n && done == total) {
		ms_progress_drop(up->progress, &up->hashing);
		up->hashing_done = true;
	}
}

static void on_file(void *arg, const struct ms_upload *u, const struct ms_upfile *f,
                    enum ms_upload_status status)
{
	struct up *up = arg;

	if (up->ctx->g->json)
		ms_render_upload_file(u, f, (int)status);
}

static void on_event(void *arg, const struct ms_event *ev)
{
	struct up *up = arg;
	const struct ms_global *g = up->ctx->g;

	if (ev->type == MS_EV_PLAN)
		show_bars(up);
	ms_progress_event(up->progress, ev);
	if (ev->type == MS_EV_FINISH)
		hide_bars(up);
	/* no "transfer" object: the objects are known one by one as they are hashed */
	if (g->json && ev->type != MS_EV_DONE && ev->type != MS_EV_PLAN) {
		if (ev->type == MS_EV_PROGRESS && (int)(ev->elapsed * 10) % 10)
			return; /* progress as JSON at most once a second */
		ms_json_engine_event(stdout, ev);
	} else if (!g->json) {
		ms_retry_notes_event(&up->retries, ev, ms_now());
	}
}

static void on_note(void *arg, bool warning, const char *msg)
{
	(void)arg;
	if (warning)
		ms_warn("%s", msg);
	else
		ms_info("%s", msg);
}

static void summary(const struct ms_upload *u, double seconds)
{
	char sz[32];

	if (!u->ncommits)
		return;
	ms_format_size(u->bytes_sent, sz, sizeof(sz));
	ms_info("%zu file(s) committed in %zu commit(s), %s sent in %.1fs; %zu unchanged, %zu LFS "
	        "object(s) the hub had already",
	        u->ncommitted, u->ncommits, sz, seconds, u->nunchanged, u->objects_present);
}

static int up_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct up_opts *o = state;
	struct up up = {
	        .ctx = ctx, .t0 = ms_now(), .retries = {.tries = ctx->sess.net.retries + 1}};
	struct ms_upload_opts uo = {.local = ctx->argv[0],
	                            .path_in_repo = ctx->argc > 1 ? ctx->argv[1] : NULL,
	                            .filter = &o->filter,
	                            .message = o->message,
	                            .private = o->private,
	                            .max_workers = o->max_workers};
	struct ms_upload_cb cb = {.arg = &up,
	                          .file = on_file,
	                          .hashing = on_hashing,
	                          .event = on_event,
	                          .note = on_note};
	struct ms_upload u;
	int ret;

	if (ctx->g->offline)
		return ms_error_set(err, MS_EUSAGE, "--offline: an upload needs the network");
	ms_upload_init(&u, &ctx->sess, &ctx->repo, ctx->rev, &uo, &cb);
	ret = ms_upload_run(&u, err);
	hide_bars(&up);
	ms_render_upload_done(&u, ctx->g->json, ms_now() - up.t0, ret, err);
	ctx->reported = ctx->g->json;
	if (!ret)
		summary(&u, ms_now() - up.t0);
	ms_upload_release(&u);
	free((char *)up.hashing.name);
	return ret;
}

const struct ms_cmd ms_cmd_upload = {
        .name = "upload",
        .summary = "upload a file or a folder to a repo, as one commit",
        .usage = "upload REPO PATH [PATH_IN_REPO] [OPTIONS]",
        .about = "PATH is a file or a folder; PATH_IN_REPO is where it goes (default: the\n"
                 "file's name, or the repo's root for a folder).  The repo is created when\n"
                 "missing.  A folder upload skips .git/, .cache/huggingface/, ModelScope's\n"
                 "index files and partials, and mscli's own files; a symlink that leads out\n"
                 "of PATH is refused.  Files the branch already has are left out; objects\n"
                 "the hub already has send no byte (a second run resumes an interrupted one).\n"
                 "Prints the commit's URL.  Needs a token: mscli login, --token or the\n"
                 "hub's variable.\n",
        .examples = "  mscli upload alice/qwen-lora ./output\n"
                    "  mscli upload --hub hf alice/qwen-lora ./output --exclude '*.pt' -m "
                    "\"epoch 3\"\n"
                    "  mscli upload --type dataset alice/corpus ./train.jsonl data/train.jsonl\n"
                    "  mscli upload hf:alice/new-model ./model --private\n",
        .opts = up_opts,
        .setup = MS_SETUP_REPO | MS_SETUP_SESSION,
        .min_args = 1,
        .max_args = 2,
        .state_size = sizeof(struct up_opts),
        .option = up_option,
        .exec = up_exec,
        .release = up_release,
};
