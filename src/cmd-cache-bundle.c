/*
 * mscli cache export REPO... -o FILE|-  and  mscli cache import FILE|-:
 * bundles for offline machines (archive.c).  export writes FILE through a
 * temporary beside it, so a failed export leaves no half bundle; either
 * end may be a pipe (ssh, mbuffer), never a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/archive.h"
#include "mscli/clock.h"
#include "mscli/cmd-cache.h"
#include "mscli/fs.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/ui.h"

enum { O_OUTPUT = 1 };

struct bundle_run {
	struct ms_ctx *ctx;
	struct ms_progress *bars;
	size_t files;
	uint64_t bytes;
	double t0;
};

static void on_begin(void *arg, size_t nfiles, uint64_t bytes)
{
	struct bundle_run *r = arg;

	r->files = nfiles;
	r->bytes = bytes;
	if (r->ctx->g->progress && nfiles && !r->bars) {
		r->bars = ms_progress_start("bundle", nfiles, bytes);
	}
}

static void on_progress(void *arg, size_t files_done, uint64_t bytes_done)
{
	ms_progress_update(((struct bundle_run *)arg)->bars, files_done, bytes_done);
}

/* ---- export ---- */

struct export_opts {
	char *output;
};

static const struct ms_opt export_opts[] = {
        MS_OPTS_REPO_TYPE,
        MS_OPTS_REVISION,
        {"output", 'o', O_OUTPUT, MS_OPT_VALUE, "FILE|-",
         "the bundle: .tar.zst (default), .tar or .tar.gz by its\nname; '-' writes to stdout",
         MS_COMPLETE_FILE, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int export_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct export_opts *o = state;

	if (id != O_OUTPUT)
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	free(o->output);
	o->output = xstrdup(arg);
	return 0;
}

static void export_release(void *state)
{
	free(((struct export_opts *)state)->output);
}

static int find_repos(struct ms_ctx *ctx, struct ms_export_repo *v, size_t *n, struct ms_error *err)
{
	int ret = 0;

	for (int i = 0; i < ctx->argc && !ret; i++) {
		if ((ret = ms_cache_cmd_find(ctx, ctx->argv[i], &v[i].repo, &v[i].rev, err)) != 0)
			break;
		(*n)++;
		if ((ret = ms_bundle_can_export(&v[i].repo, err)) != 0)
			break;
		for (size_t k = 0; k + 1 < *n; k++)
			if (v[k].repo.repo.hub == v[i].repo.repo.hub &&
			    v[k].repo.repo.type == v[i].repo.repo.type &&
			    !strcmp(v[k].repo.repo.id, v[i].repo.repo.id))
				ret = ms_error_set(err, MS_EUSAGE, "'%s' is given twice",
				                   ctx->argv[i]);
	}
	return ret;
}

/* Where the bytes go: stdout, or a temporary beside FILE (*tmp) renamed at the end. */
static int open_output(const char *out, char **tmp, struct ms_error *err)
{
	int fd, ret;

	*tmp = NULL;
	if (!strcmp(out, "-")) {
		if (isatty(STDOUT_FILENO))
			return ms_error_set(
			        err, MS_EUSAGE,
			        "not writing a bundle to a terminal: -o FILE, or a pipe");
		return STDOUT_FILENO;
	}
	if ((ret = ms_check_new_file(out, err)) != 0)
		return ret;
	*tmp = ms_temp_beside(out);
	fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = ms_error_errno(err, errno, "cannot create", *tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return fd < 0 ? ret : fd;
}

static int close_output(int fd, char *tmp, const char *out, int status, struct ms_error *err)
{
	if (!tmp)
		return status;
	if (!status && fsync(fd) < 0)
		status = ms_error_errno(err, errno, "cannot write", tmp);
	if (close(fd) < 0 && !status)
		status = ms_error_errno(err, errno, "cannot write", tmp);
	if (!status && rename(tmp, out) < 0)
		status = ms_error_errno(err, errno, "cannot rename to", out);
	if (status)
		unlink(tmp);
	free(tmp);
	return status;
}

static void export_done(struct bundle_run *r, const char *out, size_t nrepos)
{
	char sz[32];

	ms_format_size(r->bytes, sz, sizeof(sz));
	if (r->ctx->g->json) {
		struct ms_json *j = ms_json_begin("done");

		ms_json_str(j, "status", "ok");
		ms_json_str(j, "path", strcmp(out, "-") ? out : NULL);
		ms_json_num(j, "repos", (double)nrepos);
		ms_json_num(j, "files", (double)r->files);
		ms_json_num(j, "bytes", (double)r->bytes);
		ms_json_num(j, "seconds", ms_now() - r->t0);
		ms_json_emit(j, stdout);
		r->ctx->reported = true;
	} else if (strcmp(out, "-")) {
		printf("%s\n", out);
	}
	ms_info("%zu repo(s), %zu file(s), %s bundled in %.1fs", nrepos, r->files, sz,
	        ms_now() - r->t0);
}

static int export_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct export_opts *o = state;
	struct bundle_run run = {.ctx = ctx, .t0 = ms_now()};
	struct ms_bundle_cb cb = {.arg = &run, .begin = on_begin, .progress = on_progress};
	struct ms_export_repo *v = xcalloc((size_t)ctx->argc + 1, sizeof(*v));
	size_t n = 0;
	char *tmp = NULL;
	int fd = -1, ret;

	if (!o->output) {
		free(v);
		return ms_error_set(err, MS_EUSAGE,
		                    "cache export: where to? (-o FILE, or -o - for stdout)");
	}
	if (!strcmp(o->output, "-") && ctx->g->json)
		ret = ms_error_set(err, MS_EUSAGE, "--json and -o - both want standard output");
	else
		ret = find_repos(ctx, v, &n, err);
	if (!ret && (fd = open_output(o->output, &tmp, err)) < 0)
		ret = fd;
	if (!ret) {
		ret = ms_bundle_export(v, n, fd, ms_bundle_format_for(o->output), &cb, err);
		ms_progress_stop(&run.bars);
		ret = close_output(fd, tmp, o->output, ret, err);
	}
	if (!ret)
		export_done(&run, o->output, n);
	ms_progress_stop(&run.bars);
	for (size_t i = 0; i < n; i++) {
		ms_cache_repo_release(&v[i].repo);
		free(v[i].rev);
	}
	free(v);
	return ret;
}

const struct ms_cmd ms_cmd_cache_export = {
        .name = "export",
        .summary = "bundle cached repos for an offline machine",
        .usage = "export REPO... -o FILE|- [OPTIONS]",
        .about = "One file holding each repo exactly as the cache has it (Hugging Face blobs\n"
                 "once; every revision, or --revision's / REPO@REV's) and a manifest of every\n"
                 "file's size and hash.  Streamed, and the same cache gives the same bytes.\n"
                 "Each file is checked against its recorded hash as it is written (exit 4).\n"
                 "A repo in modelscope_hub's layout is refused (exit 2): no hashes recorded.\n",
        .examples = "  mscli cache export Qwen/Qwen2.5-0.5B-Instruct -o qwen.tar.zst\n"
                    "  mscli cache export hf:openai-community/gpt2 -o - | ssh host mscli cache "
                    "import -\n",
        .opts = export_opts,
        .min_args = 1,
        .max_args = -1,
        .args = MS_COMPLETE_CACHED,
        .state_size = sizeof(struct export_opts),
        .option = export_option,
        .exec = export_exec,
        .release = export_release,
};

/* ---- import ---- */

static const struct ms_opt import_opts[] = {
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static void on_imported(void *arg, const struct ms_repo *repo, const char *path)
{
	struct bundle_run *r = arg;
	char *name = ms_cache_cmd_name(repo);

	if (r->ctx->g->json) {
		struct ms_json *j = ms_json_begin("imported");

		ms_json_str(j, "hub", repo->hub->name);
		ms_json_str(j, "type", ms_repo_type_name(repo->type));
		ms_json_str(j, "id", repo->id);
		ms_json_str(j, "path", path);
		ms_json_emit(j, stdout);
	} else {
		printf("%s\n", path);
		ms_info("imported %s", name);
	}
	free(name);
}

static int import_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct bundle_run run = {.ctx = ctx, .t0 = ms_now()};
	struct ms_bundle_cb cb = {
	        .arg = &run, .begin = on_begin, .progress = on_progress, .imported = on_imported};
	struct ms_cache_scope sc;
	const char *in = ctx->argv[0];
	int fd = STDIN_FILENO, ret = ms_cache_cmd_scope(ctx, &sc, err);

	(void)state;
	if (ret)
		return ret;
	if (!strcmp(in, "-") && isatty(STDIN_FILENO))
		return ms_error_set(err, MS_EUSAGE,
		                    "cache import -: the bundle comes on stdin, not "
		                    "from a terminal");
	if (strcmp(in, "-") && (fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return ms_error_errno(err, errno, "cannot open", in);
	ret = ms_bundle_import(fd, &sc, &cb, err);
	ms_progress_stop(&run.bars);
	if (fd != STDIN_FILENO)
		close(fd);
	if (!ret && ctx->g->json) {
		struct ms_json *j = ms_json_begin("done");

		ms_json_str(j, "status", "ok");
		ms_json_num(j, "files", (double)run.files);
		ms_json_num(j, "bytes", (double)run.bytes);
		ms_json_num(j, "seconds", ms_now() - run.t0);
		ms_json_emit(j, stdout);
		ctx->reported = true;
	}
	return ret;
}

const struct ms_cmd ms_cmd_cache_import = {
        .name = "import",
        .summary = "unpack a bundle into the cache, every file verified",
        .usage = "import FILE|- [OPTIONS]",
        .about = "Reads a bundle of 'mscli cache export' (FILE, or '-' for stdin): every entry\n"
                 "is checked (no absolute path, '..', symlink out of its repo, hard link,\n"
                 "device, FIFO or set-id bit) and every file hashed against the manifest before\n"
                 "anything becomes visible; then each repo is merged into the cache, other\n"
                 "repos and revisions untouched.  A failed import changes nothing.  Prints each\n"
                 "repo's folder.\n",
        .examples = "  mscli cache import qwen.tar.zst\n"
                    "  ssh host mscli cache export hf:openai-community/gpt2 -o - | mscli cache "
                    "import -\n",
        .opts = import_opts,
        .min_args = 1,
        .max_args = 1,
        .args = MS_COMPLETE_FILE,
        .exec = import_exec,
};
