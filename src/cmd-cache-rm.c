/*
 * mscli cache rm and mscli cache prune: what goes is printed on stdout
 * (one line per path with the bytes it frees, then the total), or as JSON
 * lines.  rm asks first on a terminal; -y for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/cmd-cache.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/ui.h"

struct rm_opts {
	bool yes, dry_run;
};

enum { O_YES = 1, O_DRY_RUN, O_INCOMPLETE, O_OLDER_THAN, O_MAX_SIZE };

/* One line per path that goes (or would); JSON: a "removed" object. */
struct shown {
	bool json, dry_run;
	uint64_t total;
};

static void show(struct shown *sh, const char *path, uint64_t size, const char *why)
{
	char sz[32];

	sh->total += size;
	if (sh->json) {
		struct ms_json *j = ms_json_begin(sh->dry_run ? "would_remove" : "removed");

		ms_json_str(j, "path", path);
		ms_json_num(j, "size", (double)size);
		if (why)
			ms_json_str(j, "why", why);
		ms_json_emit(j, stdout);
		return;
	}
	ms_format_size(size, sz, sizeof(sz));
	printf("%s%10s  %s%s%s%s\n", sh->dry_run ? "would remove " : "removed ", sz, path,
	       why ? " (" : "", why ? why : "", why ? ")" : "");
}

static void show_total(struct shown *sh, const char *extra_key, uint64_t extra)
{
	char sz[32];

	if (sh->json) {
		struct ms_json *j = ms_json_begin("done");

		ms_json_str(j, "status", "ok");
		ms_json_bool(j, "dry_run", sh->dry_run);
		ms_json_num(j, "freed", (double)sh->total);
		if (extra_key)
			ms_json_num(j, extra_key, (double)extra);
		ms_json_emit(j, stdout);
		return;
	}
	ms_format_size(sh->total, sz, sizeof(sz));
	printf("%s %s\n", sh->dry_run ? "would free" : "freed", sz);
}

/* ---- rm ---- */

static const struct ms_opt rm_opts[] = {
        MS_OPTS_REPO_TYPE,
        MS_OPTS_REVISION,
        {"yes", 'y', O_YES, 0, NULL, "remove without asking (needed when stdin is no terminal)", 0,
         NULL},
        {"dry-run", 0, O_DRY_RUN, 0, NULL, "show what would go; remove nothing", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int rm_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct rm_opts *o = state;

	(void)arg;
	if (id == O_YES)
		o->yes = true;
	else if (id == O_DRY_RUN)
		o->dry_run = true;
	else
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	return 0;
}

static void on_planned(void *arg, const char *path, uint64_t size)
{
	char sz[32];

	(void)arg;
	ms_format_size(size, sz, sizeof(sz));
	ms_info("  %10s  %s", sz, path);
}

static void on_removed(void *arg, const char *path, uint64_t size)
{
	show(arg, path, size, NULL);
}

static void on_lock_wait(void *arg, const char *path)
{
	(void)arg;
	ms_info("waiting for a download to finish with '%s'", path);
}

/*
 * What would go (every layout that holds the repo), then the question: 0 yes, 1 no (not an
 * error: the user chose, as hf cache rm exits 0), <0 an error.
 */
static int confirm(const struct ms_cache_list *l, const char *rev, struct ms_error *err)
{
	struct ms_cache_removal plan = {.rev = rev, .dry_run = true, .removed = on_planned};
	char *name = ms_cache_cmd_name(&l->v[0].repo), *q, sz[32];
	bool yes;
	int ret = 0;

	if (!isatty(STDIN_FILENO)) {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "cache rm: not removing %s without -y (stdin is not a terminal)",
		                   name);
		free(name);
		return ret;
	}
	ms_info("about to remove %s%s%s:", name, rev ? " at " : "", rev ? rev : "");
	for (size_t i = 0; i < l->n && !ret; i++) {
		struct ms_store *st = ms_cache_repo_store(&l->v[i], NULL);

		ret = st->ops->remove(st, &plan, err);
		st->ops->free(st);
	}
	if (ret) {
		free(name);
		return ret;
	}
	ms_format_size(plan.freed, sz, sizeof(sz));
	q = xasprintf("remove %s%s (%s)?", plan.busy ? "what no download is writing now " : "",
	              plan.count == 1 ? "it" : "these", sz);
	yes = ms_ui_confirm(q);
	free(q);
	free(name);
	return yes ? 0 : 1;
}

/* With a revision, only the layouts that hold it (the first says why when none does). */
static void keep_revision(struct ms_cache_list *l, const char *rev)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct ms_error e;
		char *picked = NULL;

		if (!rev || (k == 0 && i == l->n - 1) ||
		    ms_cache_pick_revision(&l->v[i], rev, &picked, &e) == 0)
			l->v[k++] = l->v[i];
		else
			ms_cache_repo_release(&l->v[i]);
		free(picked);
	}
	l->n = k;
}

static int rm_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct rm_opts *o = state;
	struct ms_cache_list l;
	struct shown sh = {ctx->g->json, o->dry_run, 0};
	struct ms_cache_removal rm = {
	        .dry_run = o->dry_run, .wait = true, .removed = on_removed, .arg = &sh};
	char *rev, *name;
	int ret = ms_cache_cmd_find_all(ctx, ctx->argv[0], &l, &rev, err);

	if (ret)
		return ret;
	keep_revision(&l, rev);
	rm.rev = rev;
	if (!o->yes && !o->dry_run && (ret = confirm(&l, rev, err)) == 1) {
		ms_info("nothing removed");
		ctx->reported = true;
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < l.n && !ret; i++) {
		struct ms_store *st = ms_cache_repo_store(&l.v[i], NULL);

		st->on_lock_wait = on_lock_wait;
		ret = st->ops->remove(st, &rm, err);
		st->ops->free(st);
		if (!ret && rm.busy) {
			/* a layout whose downloads lock file by file: nothing to wait for */
			name = ms_cache_cmd_name(&l.v[i].repo);
			if (o->dry_run)
				ms_warn("%s is being downloaded now (%s)", name, l.v[i].stat.path);
			else
				ret = ms_error_set(err, MS_EFAIL,
				                   "cache rm: %s is being downloaded (a lock in "
				                   "%s/.lock is held): nothing removed from %s",
				                   name, l.v[i].root, l.v[i].stat.path);
			free(name);
			rm.busy = false;
		}
	}
	if (!ret) {
		show_total(&sh, NULL, 0);
		ctx->reported = true;
	}
out:
	free(rev);
	ms_cache_list_release(&l);
	return ret;
}

const struct ms_cmd ms_cmd_cache_rm = {
        .name = "rm",
        .summary = "remove a cached repo, or one of its revisions",
        .usage = "rm REPO [--revision REV] [-y] [OPTIONS]",
        .about = "The whole repo: ModelScope's folder with its index files, the dotted-name\n"
                 "link, its partial downloads and mscli's records; Hugging Face's repo folder.\n"
                 "One revision (--revision or REPO@REV, a ref or a commit): Hugging Face's\n"
                 "snapshot, the refs naming it and the blobs no other revision uses.  Lists what\n"
                 "goes and asks on a terminal; waits for a download of the repo to finish.\n"
                 "modelscope_hub's layout: the <owner>--<name> folder and its lock files, or\n"
                 "one snapshot; busy (exit 1, nothing removed) while its download holds a\n"
                 "lock.  A repo in both ModelScope layouts goes from both.  Symlinks are\n"
                 "removed, never followed.\n",
        .examples = "  mscli cache rm Qwen/Qwen2.5-0.5B-Instruct\n"
                    "  mscli cache rm hf:openai-community/gpt2 --revision v1.0 -y\n",
        .opts = rm_opts,
        .min_args = 1,
        .max_args = 1,
        .args = MS_COMPLETE_CACHED,
        .state_size = sizeof(struct rm_opts),
        .option = rm_option,
        .exec = rm_exec,
};

/* ---- prune ---- */

struct prune_opts {
	struct ms_prune_opts p;
	bool any;
};

static const struct ms_opt prune_opts[] = {
        {"incomplete", 0, O_INCOMPLETE, 0, NULL,
         "partial downloads and abandoned temporaries (the\ndefault when no other is given)", 0,
         NULL},
        {"older-than", 0, O_OLDER_THAN, MS_OPT_VALUE, "DURATION",
         "repos not used for DURATION (30d, 12h, 2w, 90m)", 0, NULL},
        {"max-size", 0, O_MAX_SIZE, MS_OPT_VALUE, "SIZE",
         "least recently used repos until the cache fits SIZE\n(500M, 10G, 1T)", 0, NULL},
        {"dry-run", 0, O_DRY_RUN, 0, NULL, "show what would go; remove nothing", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int prune_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct prune_opts *o = state;

	switch (id) {
	case O_INCOMPLETE:
		o->p.incomplete = o->any = true;
		return 0;
	case O_OLDER_THAN:
		if (ms_parse_duration(arg, &o->p.older_than) || o->p.older_than <= 0)
			return ms_error_set(err, MS_EUSAGE,
			                    "--older-than takes a duration such as 30d, 12h or 2w, "
			                    "not '%s'",
			                    arg);
		o->any = true;
		return 0;
	case O_MAX_SIZE:
		if (ms_parse_size(arg, &o->p.max_size))
			return ms_error_set(err, MS_EUSAGE,
			                    "--max-size takes a size such as 500M or 10G, not '%s'",
			                    arg);
		o->p.have_max_size = o->any = true;
		return 0;
	case O_DRY_RUN:
		o->p.dry_run = true;
		return 0;
	default:
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	}
}

struct prune_run {
	struct shown sh;
};

static void on_pruned(void *arg, const struct ms_cache_repo *r, const char *path, uint64_t size,
                      const char *why)
{
	struct prune_run *p = arg;

	(void)r;
	show(&p->sh, path, size, why);
}

static void on_busy(void *arg, const struct ms_cache_repo *r)
{
	char *name = ms_cache_cmd_name(&r->repo);

	(void)arg;
	ms_warn("%s is being downloaded: left alone", name);
	free(name);
}

static int prune_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct prune_opts *o = state;
	struct prune_run run = {{ctx->g->json, o->p.dry_run, 0}};
	struct ms_prune_cb cb = {.arg = &run, .removed = on_pruned, .busy = on_busy};
	struct ms_cache_scope sc;
	uint64_t freed, left;
	char a[32], b[32];
	int ret = ms_cache_cmd_scope(ctx, &sc, err);

	if (ret)
		return ret;
	if (!o->any)
		o->p.incomplete = true;
	o->p.now = (double)time(NULL);
	if ((ret = ms_cache_prune(&sc, &o->p, &cb, &freed, &left, err)) != 0)
		return ret;
	show_total(&run.sh, "left", left);
	ctx->reported = true;
	ms_format_size(left, a, sizeof(a));
	if (o->p.have_max_size && left > o->p.max_size) {
		ms_format_size(o->p.max_size, b, sizeof(b));
		ms_warn("the cache still takes %s, more than %s (what is left is in use)", a, b);
	} else {
		ms_info("the cache %s %s", o->p.dry_run ? "would take" : "takes", a);
	}
	return 0;
}

const struct ms_cmd ms_cmd_cache_prune = {
        .name = "prune",
        .summary = "remove partial downloads, unused repos, or the least used until it fits",
        .usage = "prune [--incomplete] [--older-than DURATION] [--max-size SIZE] [--dry-run]",
        .about =
                "Partial downloads nobody is writing, imports that did not finish (--incomplete,\n"
                "the default); repos not used for DURATION; then the least recently used repos\n"
                "until the cache fits SIZE (files, partials and mscli's records counted).  A repo\n"
                "goes with its partials and records.  A repo being downloaded is left alone.\n",
        .examples = "  mscli cache prune\n"
                    "  mscli cache prune --older-than 30d --dry-run\n"
                    "  mscli --hub hf cache prune --incomplete --max-size 100G\n",
        .opts = prune_opts,
        .min_args = 0,
        .max_args = 0,
        .state_size = sizeof(struct prune_opts),
        .option = prune_option,
        .exec = prune_exec,
};
