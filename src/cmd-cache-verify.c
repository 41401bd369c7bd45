/*
 * mscli cache verify [REPO...]: each problem on one line of stdout (or a
 * JSON "file" object), what could not be checked and the totals on stderr,
 * exit 4 while anything is corrupt or missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/cmd-cache.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/ui.h"
#include "mscli/verify.h"

struct verify_opts {
	bool online, repair;
};

enum { O_ONLINE = 1, O_REPAIR };

static const struct ms_opt verify_opts[] = {
        MS_OPTS_REPO_TYPE,
        MS_OPTS_REVISION,
        {"online", 0, O_ONLINE, 0, NULL,
         "for files nothing recorded a hash of (caches of other\nclients): the hub's listing, one "
         "request per revision",
         0, NULL},
        {"repair", 0, O_REPAIR, 0, NULL, "download again exactly the files that are bad", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int verify_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct verify_opts *o = state;

	(void)arg;
	if (id == O_ONLINE)
		o->online = true;
	else if (id == O_REPAIR)
		o->repair = true;
	else
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	return 0;
}

struct run {
	struct ms_ctx *ctx;
	struct ms_progress *bars;
	double t0;
	bool online;
};

static void on_begin(void *arg, size_t nfiles, uint64_t bytes)
{
	struct run *r = arg;

	if (r->ctx->g->progress && nfiles) {
		r->bars = ms_progress_start("verify", nfiles, bytes);
	}
}

static void on_progress(void *arg, size_t files_done, uint64_t bytes_done)
{
	ms_progress_update(((struct run *)arg)->bars, files_done, bytes_done);
}

static void on_note(void *arg, enum ms_note kind, const char *msg)
{
	(void)arg;
	if (kind == MS_NOTE_WARN)
		ms_warn("%s", msg);
	else
		ms_info("%s", msg);
}

static const char *status_name(enum ms_verify_status s)
{
	static const char *const names[] = {"ok",        "corrupt",    "missing", "unexpected",
	                                    "unchecked", "unreadable", "repaired"};

	return names[s];
}

/* What is wrong with item k of r, in words. */
static void detail(const struct ms_verify_repo *r, size_t k, char *out, size_t cap)
{
	const struct ms_cache_item *it = &r->items.v[k];

	switch (r->status[k]) {
	case MS_VERIFY_CORRUPT:
		if (it->size != UINT64_MAX && it->size != r->actual_size[k])
			snprintf(out, cap, "%llu bytes, expected %llu (from %s)",
			         (unsigned long long)r->actual_size[k],
			         (unsigned long long)it->size, it->source);
		else
			snprintf(out, cap, "%s %s, expected %s (from %s)", ms_hash_name(it->algo),
			         r->actual[k], it->digest, it->source);
		return;
	case MS_VERIFY_UNREADABLE:
		snprintf(out, cap, "cannot read it: %s", strerror(r->errnum[k]));
		return;
	case MS_VERIFY_REPAIRED:
		snprintf(out, cap, "downloaded again");
		return;
	default:
		snprintf(out, cap, "%s", it->source ? it->source : "");
	}
}

static void show_item(const struct ms_verify_repo *r, size_t k, bool json)
{
	const struct ms_cache_item *it = &r->items.v[k];
	char *name = ms_cache_cmd_name(&r->repo.repo), why[400];
	const char *rev = it->rev && ms_is_commit_id(it->rev) ? NULL : it->rev;

	detail(r, k, why, sizeof(why));
	if (json) {
		struct ms_json *j = ms_json_begin("file");

		ms_json_str(j, "status", status_name(r->status[k]));
		ms_json_str(j, "hub", r->repo.repo.hub->name);
		ms_json_str(j, "type", ms_repo_type_name(r->repo.repo.type));
		ms_json_str(j, "id", r->repo.repo.id);
		ms_json_str(j, "revision", it->rev);
		ms_json_str(j, "path", it->path);
		ms_json_str(j, "local_path", it->disk);
		if (it->algo != MS_HASH_NONE) {
			ms_json_str(j, "algorithm", ms_hash_name(it->algo));
			ms_json_str(j, "expected", it->digest);
		}
		if (r->status[k] == MS_VERIFY_CORRUPT)
			ms_json_str(j, "actual", r->actual[k]);
		ms_json_str(j, "detail", why);
		ms_json_emit(j, stdout);
	} else if (r->status[k] != MS_VERIFY_UNCHECKED) {
		printf("%-10s %s  %s", status_name(r->status[k]), name,
		       it->path ? it->path : it->disk);
		if (it->rev)
			printf(" (%.*s)", rev ? 40 : 7, rev ? rev : it->rev);
		printf(": %s%s%s\n", why, why[0] ? "; " : "", it->disk);
	}
	free(name);
}

/* Per repo: how many files could not be checked, and why. */
static void show_unchecked(const struct ms_verify *v, bool online)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct ms_verify_repo *r = &v->v[i];
		size_t n = 0, first = 0;
		const char *src;
		char *name;

		name = ms_cache_cmd_name(&r->repo.repo);
		for (size_t u = 0; u < r->nunlisted; u++)
			if (!r->unlisted[u].listed)
				ms_warn("%s: revision %.7s: completeness could not be checked: the "
				        "cache "
				        "recorded no list of its files (written by another "
				        "client?), so "
				        "a file lost from it is not seen%s",
				        name, r->unlisted[u].rev,
				        online ? "" : "; --online asks the hub for its listing");
		for (size_t k = 0; k < r->items.n; k++)
			if (r->status[k] == MS_VERIFY_UNCHECKED && !n++)
				first = k;
		if (!n) {
			free(name);
			continue;
		}
		src = r->items.v[first].source;
		ms_warn("%s: %zu file(s) could not be checked ('%s'%s): %s%s", name, n,
		        r->items.v[first].path, n > 1 ? ", ..." : "",
		        online ? "the hub's listing has no hash for them"
		        : src  ? src
		               : "the cache recorded no hash for them (written by another client?)",
		        online ? "" : "; --online asks the hub for its listing");
		free(name);
	}
}

static void show_results(struct run *run, const struct ms_verify *v, int status,
                         const struct ms_error *err)
{
	const struct ms_global *g = run->ctx->g;
	char sz[32];

	for (size_t i = 0; i < v->n; i++)
		for (size_t k = 0; k < v->v[i].items.n; k++)
			if (v->v[i].status[k] != MS_VERIFY_OK &&
			    (g->json || v->v[i].status[k] != MS_VERIFY_UNCHECKED))
				show_item(&v->v[i], k, g->json);
	if (g->json) {
		struct ms_json *j = ms_json_begin("done");

		ms_json_str(j, "status", status ? "error" : "ok");
		ms_json_num(j, "repos", (double)v->n);
		ms_json_num(j, "hashed", (double)v->nhashed);
		ms_json_num(j, "bytes", (double)v->bytes);
		ms_json_num(j, "ok", (double)v->nok);
		ms_json_num(j, "corrupt", (double)v->ncorrupt);
		ms_json_num(j, "missing", (double)v->nmissing);
		ms_json_num(j, "unexpected", (double)v->nunexpected);
		ms_json_num(j, "unchecked", (double)v->nunchecked);
		ms_json_num(j, "unlisted_revisions", (double)v->nunlisted);
		ms_json_num(j, "unreadable", (double)v->nunreadable);
		ms_json_num(j, "repaired", (double)v->nrepaired);
		ms_json_num(j, "seconds", ms_now() - run->t0);
		if (status)
			ms_json_error(j, status, err);
		ms_json_emit(j, stdout);
		run->ctx->reported = true;
		return;
	}
	fflush(stdout);
	ms_format_size(v->bytes, sz, sizeof(sz));
	ms_info("%zu file(s) of %zu repo(s) hashed (%s in %.1fs): %zu ok, %zu corrupt, %zu "
	        "missing, "
	        "%zu unexpected",
	        v->nhashed, v->n, sz, ms_now() - run->t0, v->nok, v->ncorrupt, v->nmissing,
	        v->nunexpected);
	if (v->nrepaired)
		ms_info("%zu file(s) downloaded again", v->nrepaired);
	show_unchecked(v, run->online);
}

/* The repos named, else every cached repo in scope. */
static int collect(struct ms_ctx *ctx, struct ms_verify *v, struct ms_error *err)
{
	struct ms_cache_scope sc;
	struct ms_cache_list l;
	int ret = ms_cache_cmd_scope(ctx, &sc, err);

	for (int i = 0; i < ctx->argc && !ret; i++) {
		struct ms_cache_repo r;
		char *rev;

		if ((ret = ms_cache_cmd_find(ctx, ctx->argv[i], &r, &rev, err)) == 0)
			ms_verify_add(v, &r, rev);
		free(rev);
	}
	if (ret || ctx->argc)
		return ret;
	if (ctx->revision)
		return ms_error_set(err, MS_EUSAGE, "cache verify: --revision needs a REPO");
	if ((ret = ms_cache_list(&sc, NULL, &l, err)) != 0)
		return ret;
	for (size_t i = 0; i < l.n; i++)
		ms_verify_add(v, &l.v[i], NULL);
	ms_cache_list_release(&l);
	return 0;
}

static void on_lock_wait(void *arg, const char *path)
{
	(void)arg;
	ms_info("waiting for another process to finish with '%s'", path);
}

static int verify_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct verify_opts *o = state;
	struct run run = {.ctx = ctx, .t0 = ms_now(), .online = o->online};
	struct ms_verify_cb cb = {
	        .arg = &run, .begin = on_begin, .progress = on_progress, .note = on_note};
	struct ms_download_cb dcb = {.note = on_note, .lock_wait = on_lock_wait};
	struct ms_session_opts so = {.endpoint = ctx->g->endpoint,
	                             .token = ctx->g->token,
	                             .net = ctx->g->net,
	                             .stall_given = ctx->g->stall_given};
	struct ms_verify v;
	int ret;

	ms_verify_init(&v);
	if ((ret = collect(ctx, &v, err)) || (ret = ms_verify_plan(&v, err)))
		goto out;
	if (o->online && !ctx->g->offline && (ret = ms_verify_online(&v, &so, &cb, err)))
		goto out;
	ret = ms_verify_run(&v, &cb, err);
	ms_progress_stop(&run.bars);
	if (!ret && o->repair && (v.ncorrupt || v.nmissing)) {
		if (ctx->g->offline)
			ret = ms_error_set(err, MS_EUSAGE,
			                   "--repair needs the network (--offline)");
		else
			ret = ms_verify_repair(&v, &so, &dcb, err);
	}
	if (!ret && (v.ncorrupt || v.nmissing || v.nunreadable))
		ret = ms_error_set(
		        err,
		        v.nunreadable && !v.ncorrupt && !v.nmissing ? MS_ESTORAGE : MS_EINTEGRITY,
		        "%zu corrupt, %zu missing%s%s", v.ncorrupt, v.nmissing,
		        v.nunreadable ? ", some unreadable" : "",
		        o->repair || !ms_verify_repairable(&v)
		                ? ""
		                : " ('mscli cache verify --repair' downloads them again)");
	if (!ret || ret == MS_EINTEGRITY || ret == MS_ESTORAGE || ctx->g->json)
		show_results(&run, &v, ret, err);
out:
	ms_progress_stop(&run.bars);
	ms_verify_release(&v);
	return ret;
}

const struct ms_cmd ms_cmd_cache_verify = {
        .name = "verify",
        .summary = "re-hash cached files against the hashes recorded at download",
        .usage = "verify [REPO...] [OPTIONS]",
        .about = "Every file of the repos named (else of every cached repo) is hashed on every\n"
                 "core with no request: SHA-256 for ModelScope files and Hugging Face LFS\n"
                 "blobs, the git blob SHA-1 for Hugging Face regular files, against mscli's\n"
                 "listings, the blob names and huggingface_hub's trees.  Corrupt, missing and\n"
                 "unexpected files are named on stdout; files nothing recorded a hash of (a\n"
                 "ModelScope cache of another client, all of modelscope_hub's layout) are\n"
                 "counted, or checked against the hub's listing with --online; so is a\n"
                 "Hugging Face revision with no tree (hf_hub_download's caches), whose lost\n"
                 "files only the listing shows.  --repair leaves modelscope_hub's to 'ms\n"
                 "download --force'.  Exit 4 while a file is corrupt or missing.\n",
        .examples = "  mscli cache verify\n"
                    "  mscli cache verify hf:openai-community/gpt2 --repair\n"
                    "  mscli cache verify Qwen/Qwen2.5-0.5B-Instruct --online\n",
        .opts = verify_opts,
        .min_args = 0,
        .max_args = -1,
        .args = MS_COMPLETE_CACHED,
        .state_size = sizeof(struct verify_opts),
        .option = verify_option,
        .exec = verify_exec,
};
