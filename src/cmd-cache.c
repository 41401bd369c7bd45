/*
 * mscli cache: the caches of both hubs, as written by mscli and by the
 * official clients.  This file holds the parent command with its table of
 * verbs, what the verbs share (which caches, which repo), and the two that
 * only look: ls and path.  verify is in cmd-cache-verify.c, rm and prune in
 * cmd-cache-rm.c, export and import in cmd-cache-bundle.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/cmd-cache.h"
#include "mscli/env.h"
#include "mscli/hub.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/strbuf.h"
#include "mscli/table.h"
#include "mscli/ui.h"

/* Without --cache-dir the caches are found from a home: none (a container's arbitrary uid
 * with HOME unset) is a usage error, not a cache below "/". */
static int scope_home(const struct ms_cache_scope *sc, struct ms_error *err)
{
	if (sc->cache_dir)
		return 0;
	ms_home_missing();
	for (size_t i = 0; ms_hubs[i]; i++)
		if (!sc->hub || sc->hub == ms_hubs[i])
			free(ms_hubs[i]->default_cache());
	return ms_home_missing() ? ms_home_error(err) : 0;
}

int ms_cache_cmd_scope(const struct ms_ctx *ctx, struct ms_cache_scope *sc, struct ms_error *err)
{
	int ret;

	sc->hub = ctx->g->hub;
	sc->cache_dir = ctx->g->cache_dir;
	sc->type = ctx->type;
	if (!sc->hub && (ret = ms_hub_from_env(&sc->hub, err)) != 0)
		return ret;
	return scope_home(sc, err);
}

/* --revision against the spec's "@rev": *rev the one that holds, NULL when none. */
static int spec_revision(const struct ms_ctx *ctx, const char *spec, char *spec_rev, char **rev,
                         struct ms_error *err)
{
	int ret = 0;

	*rev = NULL;
	if (ctx->revision && spec_rev && strcmp(ctx->revision, spec_rev))
		ret = ms_error_set(err, MS_EUSAGE,
		                   "'%s' names revision '%s' but --revision says '%s'", spec,
		                   spec_rev, ctx->revision);
	else
		*rev = ctx->revision ? xstrdup(ctx->revision) : spec_rev;
	if (ret || ctx->revision)
		free(spec_rev);
	return ret;
}

int ms_cache_cmd_find(const struct ms_ctx *ctx, const char *spec, struct ms_cache_repo *out,
                      char **rev, struct ms_error *err)
{
	struct ms_cache_scope sc;
	char *spec_rev = NULL;
	int ret = ms_cache_cmd_scope(ctx, &sc, err);

	*rev = NULL;
	if (!ret)
		ret = ms_cache_find(&sc, spec, out, &spec_rev, err);
	if (ret)
		return ret;
	if ((ret = spec_revision(ctx, spec, spec_rev, rev, err)) != 0)
		ms_cache_repo_release(out);
	return ret;
}

int ms_cache_cmd_find_all(const struct ms_ctx *ctx, const char *spec, struct ms_cache_list *out,
                          char **rev, struct ms_error *err)
{
	struct ms_cache_scope sc;
	char *spec_rev = NULL;
	int ret = ms_cache_cmd_scope(ctx, &sc, err);

	*rev = NULL;
	memset(out, 0, sizeof(*out));
	if (!ret)
		ret = ms_cache_find_all(&sc, spec, out, &spec_rev, err);
	if (ret)
		return ret;
	if ((ret = spec_revision(ctx, spec, spec_rev, rev, err)) != 0)
		ms_cache_list_release(out);
	return ret;
}

char *ms_cache_cmd_name(const struct ms_repo *repo)
{
	return xasprintf("%s:%s%s", repo->hub->name,
	                 repo->type == MS_REPO_DATASET ? "datasets/" : "", repo->id);
}

/* ---- ls ---- */

static const struct ms_opt ls_opts[] = {
        MS_OPTS_REPO_TYPE,
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

enum { C_ID, C_HUB, C_TYPE, C_REVS, C_FILES, C_SIZE, C_USED, C_STATUS, C_PATH, C_LAYOUT, NCOLS };

/* Too wide: LAYOUT and PATH go, then a long id is shortened, then REVISIONS, and only
 * then do the facts go, STATUS last; REVISIONS takes the width left over. */
static const struct ms_column ls_cols[NCOLS] = {
        [C_ID] = {"REPO", false, 0, 24, 8},       [C_HUB] = {"HUB", false, 2, 0, 0},
        [C_TYPE] = {"TYPE", false, 3, 0, 0},      [C_REVS] = {"REVISIONS", false, 5, 14, 7},
        [C_FILES] = {"FILES", true, 4, 0, 0},     [C_SIZE] = {"SIZE", true, 0, 0, 0},
        [C_USED] = {"LAST USED", false, 6, 0, 0}, [C_STATUS] = {"STATUS", false, 1, 0, 0},
        [C_PATH] = {"PATH", false, 9, 0, 0},      [C_LAYOUT] = {"LAYOUT", false, 10, 0, 0},
};

/* "main,v1@1a2b3c4 5d6e7f8": refs at a short commit; ModelScope: the revision */
static void revisions_cell(const struct ms_cache_stat *s, struct ms_buf *b)
{
	ms_buf_adds(b, "");
	for (size_t i = 0; i < s->nrevs; i++) {
		const struct ms_cache_rev *r = &s->revs[i];
		bool commit = r->name && ms_is_commit_id(r->name);

		ms_buf_adds(b, i ? " " : "");
		for (size_t j = 0; j < r->nrefs; j++)
			ms_buf_addf(b, "%s%s", j ? "," : "", r->refs[j]);
		if (commit)
			ms_buf_addf(b, "%s%.7s", r->nrefs ? "@" : "", r->name);
		else
			ms_buf_adds(b, r->name ? r->name : "?");
	}
}

static void status_cell(const struct ms_cache_stat *s, struct ms_buf *b)
{
	bool missing = false;

	for (size_t i = 0; i < s->nrevs; i++)
		missing |= !s->revs[i].complete;
	ms_buf_adds(b, "");
	if (s->nbroken)
		ms_buf_addf(b, "%zu broken", s->nbroken);
	else if (missing || !s->nrevs)
		ms_buf_adds(b, "incomplete");
	if (s->npartials)
		ms_buf_addf(b, "%s%zu partial", b->len ? ", " : "", s->npartials);
}

static void iso_time(double t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void ls_row(struct ms_table *t, const struct ms_cache_repo *r, bool tty, double now)
{
	const struct ms_cache_stat *s = &r->stat;
	struct ms_buf revs = MS_BUF_INIT, status = MS_BUF_INIT;
	char size[32], used[40];

	revisions_cell(s, &revs);
	status_cell(s, &status);
	if (tty) {
		ms_format_size(s->size, size, sizeof(size));
		ms_format_ago(now - s->last_used, used, sizeof(used));
	} else { /* for sort, awk and cut: bytes and ISO 8601 */
		snprintf(size, sizeof(size), "%llu", (unsigned long long)s->size);
		iso_time(s->last_used, used, sizeof(used));
	}
	ms_table_addf(t, C_ID, "%s", r->repo.id);
	ms_table_addf(t, C_HUB, "%s", r->repo.hub->name);
	ms_table_addf(t, C_TYPE, "%s", ms_repo_type_name(r->repo.type));
	ms_table_addf(t, C_REVS, "%s", revs.data);
	ms_table_addf(t, C_FILES, "%zu", s->files);
	ms_table_addf(t, C_SIZE, "%s", size);
	ms_table_addf(t, C_USED, "%s", used);
	ms_table_addf(t, C_STATUS, "%s", status.data);
	ms_table_addf(t, C_PATH, "%s", s->path);
	ms_table_addf(t, C_LAYOUT, "%s", ms_cache_repo_layout(r));
	ms_buf_release(&revs);
	ms_buf_release(&status);
}

static void ls_json(const struct ms_cache_repo *r)
{
	const struct ms_cache_stat *s = &r->stat;
	struct ms_json *j = ms_json_begin("repo");

	ms_json_str(j, "hub", r->repo.hub->name);
	ms_json_str(j, "type", ms_repo_type_name(r->repo.type));
	ms_json_str(j, "id", r->repo.id);
	ms_json_str(j, "layout", ms_cache_repo_layout(r));
	for (size_t i = 0; i < s->nrevs; i++) {
		const struct ms_cache_rev *v = &s->revs[i];
		struct ms_json *o = ms_json_push(j, "revisions");

		ms_json_str(o, "revision", v->name);
		ms_json_strv(o, "refs", v->refs, v->nrefs);
		ms_json_num(o, "files", (double)v->files);
		ms_json_num(o, "size", (double)v->size);
		ms_json_num(o, "last_modified", (double)(long long)v->last_modified);
		ms_json_bool(o, "complete", v->complete);
		ms_json_bool(o, "listed", v->listed);
		ms_json_str(o, "path", v->path);
	}
	if (!s->nrevs)
		ms_json_strv(j, "revisions", NULL, 0);
	ms_json_num(j, "files", (double)s->files);
	ms_json_num(j, "size", (double)s->size);
	ms_json_num(j, "last_used", (double)(long long)s->last_used);
	ms_json_num(j, "last_modified", (double)(long long)s->last_modified);
	ms_json_str(j, "path", s->path);
	ms_json_bool(j, "incomplete", s->incomplete);
	ms_json_num(j, "partials", (double)s->npartials);
	ms_json_num(j, "partial_size", (double)s->partial_size);
	ms_json_num(j, "state_size", (double)s->state_size);
	ms_json_emit(j, stdout);
}

static void ls_summary(const struct ms_cache_list *l)
{
	uint64_t size = 0, partial = 0;
	size_t npartials = 0;
	char a[32], b[32];

	for (size_t i = 0; i < l->n; i++) {
		size += l->v[i].stat.size;
		partial += l->v[i].stat.partial_size;
		npartials += l->v[i].stat.npartials;
	}
	ms_format_size(size, a, sizeof(a));
	ms_format_size(partial, b, sizeof(b));
	if (npartials)
		ms_info("%zu repo(s), %s on disk; %zu partial download(s), %s ('mscli cache prune "
		        "--incomplete' removes them)",
		        l->n, a, npartials, b);
	else
		ms_info("%zu repo(s), %s on disk", l->n, a);
}

/* "nothing cached in A, B": which roots were looked in, so an empty answer says where */
static void note_empty(const struct ms_cache_list *l)
{
	struct ms_buf b = MS_BUF_INIT;

	for (size_t i = 0; i < l->roots.n; i++)
		ms_buf_addf(&b, "%s%s", i ? ", " : "", l->roots.v[i]);
	if (b.len)
		ms_info("nothing cached in %s", b.data);
	ms_buf_release(&b);
}

static int ls_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct ms_cache_scope sc;
	struct ms_cache_list l;
	bool tty = isatty(STDOUT_FILENO);
	struct ms_table *t;
	int ret;

	(void)state;
	if ((ret = ms_cache_cmd_scope(ctx, &sc, err)) ||
	    (ret = ms_cache_list(&sc, ctx->argc ? ctx->argv[0] : NULL, &l, err)))
		return ret;
	if (ctx->argc && !l.n) {
		ret = ms_error_set(err, MS_EOFFLINE, "'%s' is not in the cache", ctx->argv[0]);
	} else if (!l.n) {
		note_empty(&l);
	} else if (ctx->g->json) {
		for (size_t i = 0; i < l.n; i++)
			ls_json(&l.v[i]);
	} else {
		double now = (double)time(NULL);

		t = ms_table_new(ls_cols, NCOLS);
		for (size_t i = 0; i < l.n; i++)
			ls_row(t, &l.v[i], tty, now);
		if (ms_table_print(t, stdout, tty, 0) < 0)
			ret = ms_error_set(err, MS_ESTORAGE, "cannot write to standard output");
		ms_table_free(t);
		if (tty && !ret)
			ls_summary(&l);
	}
	ms_cache_list_release(&l);
	return ret;
}

const struct ms_cmd ms_cmd_cache_ls = {
        .name = "ls",
        .summary = "list the cached repos of both hubs",
        .usage = "ls [REPO] [OPTIONS]",
        .about = "One row per repo: revisions (refs at their commit), files, size on disk (a blob\n"
                 "shared by revisions counts once), when it was last used, whether partial\n"
                 "downloads or missing files make it incomplete, and the layout (modelscope,\n"
                 "modelscope_hub, huggingface).  Into a pipe: tab-separated, size in bytes,\n"
                 "time in ISO 8601.  --hub narrows it to one hub.\n",
        .examples = "  mscli cache ls\n"
                    "  mscli --hub hf cache ls --type dataset\n"
                    "  mscli --json cache ls | jq -r 'select(.incomplete) | .id'\n",
        .opts = ls_opts,
        .min_args = 0,
        .max_args = 1,
        .args = MS_COMPLETE_CACHED,
        .exec = ls_exec,
};

/* ---- path ---- */

static const struct ms_opt path_opts[] = {
        MS_OPTS_REPO_TYPE,
        MS_OPTS_REVISION,
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int path_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct ms_cache_repo r;
	char *rev, *where = NULL;
	int ret = ms_cache_cmd_find(ctx, ctx->argv[0], &r, &rev, err);

	(void)state;
	if (ret)
		return ret;
	ret = ms_cache_path(&r, rev, ctx->argc > 1 ? ctx->argv[1] : NULL, &where, err);
	if (!ret && ctx->g->json) {
		struct ms_json *j = ms_json_begin("path");

		ms_json_str(j, "hub", r.repo.hub->name);
		ms_json_str(j, "type", ms_repo_type_name(r.repo.type));
		ms_json_str(j, "id", r.repo.id);
		ms_json_str(j, "layout", ms_cache_repo_layout(&r));
		ms_json_str(j, "path", where);
		ms_json_emit(j, stdout);
	} else if (!ret) {
		printf("%s\n", where);
	}
	free(where);
	free(rev);
	ms_cache_repo_release(&r);
	return ret;
}

const struct ms_cmd ms_cmd_cache_path = {
        .name = "path",
        .summary = "print where a cached repo (or one of its files) is, with no request",
        .usage = "path REPO [FILE] [OPTIONS]",
        .about = "The snapshot directory of the revision (--revision, else the hub's default\n"
                 "branch, else the one revision cached), or FILE in it: what `mscli --offline\n"
                 "download` prints.  Exit 7 when it is not cached, or not complete.\n",
        .examples = "  python train.py --model \"$(mscli cache path Qwen/Qwen2.5-0.5B-Instruct)\"\n"
                    "  mscli cache path hf:openai-community/gpt2 config.json\n",
        .opts = path_opts,
        .min_args = 1,
        .max_args = 2,
        .args = MS_COMPLETE_CACHED,
        .exec = path_exec,
};

/* ---- the parent ---- */

static const struct ms_cmd *const cache_verbs[] = {
        &ms_cmd_cache_ls,   &ms_cmd_cache_verify, &ms_cmd_cache_rm,     &ms_cmd_cache_prune,
        &ms_cmd_cache_path, &ms_cmd_cache_export, &ms_cmd_cache_import, NULL,
};

const struct ms_cmd ms_cmd_cache = {
        .name = "cache",
        .summary = "see, verify, prune and carry the caches (both hubs)",
        .usage = "cache COMMAND [ARGS...] [OPTIONS]",
        .about = "The ModelScope cache ($MODELSCOPE_CACHE, ~/.cache/modelscope/hub), the layout\n"
                 "of the current ModelScope client (modelscope_hub: <owner>--<name>/snapshots/\n"
                 "under $MODELSCOPE_CACHE, ~/.cache/modelscope) and the Hugging Face cache\n"
                 "($HF_HUB_CACHE, ~/.cache/huggingface/hub), as mscli and the official clients\n"
                 "write them; --hub narrows every command to one hub, --cache-dir names the\n"
                 "root.  REPO is owner/name in whichever hub and type has\n"
                 "it (hf:o/n, ms:o/n, datasets/o/n or --type when two have it).  Every command\n"
                 "takes the locks a download takes.\n",
        .examples = "  mscli cache ls\n"
                    "  mscli cache verify --repair\n"
                    "  mscli cache prune --incomplete --max-size 200G\n"
                    "  mscli cache export hf:openai-community/gpt2 -o gpt2.tar.zst\n",
        .verbs = cache_verbs,
};
