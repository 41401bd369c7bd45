/*
 * mscli search [QUERY]: the command line of the search operation
 * (search.c) and its results on stdout: a table on a terminal,
 * tab-separated lines into a pipe, or JSON lines.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/search.h"
#include "mscli/strbuf.h"
#include "mscli/ui.h"

struct search_opts {
	char *text; /* --search (hf models ls, ms-hub list), instead of QUERY */
	char *author;
	char **filters;
	size_t nfilters;
	enum ms_search_sort sort;
	size_t limit;
};

enum {
	O_AUTHOR = 1,
	O_FILTER,
	O_SORT,
	O_LIMIT,
	O_SEARCH,
};

static const struct ms_opt search_opts[] = {
        MS_OPTS_REPO_TYPE,
        {"author", 0, O_AUTHOR, MS_OPT_VALUE, "NAME", "only repos of this user or organisation", 0,
         NULL},
        {"owner", 0, O_AUTHOR, MS_OPT_VALUE | MS_OPT_HIDDEN, "NAME", NULL, 0, NULL},
        {"filter", 0, O_FILTER, MS_OPT_VALUE, "TAG",
         "only repos with this tag (repeatable: all of them);\nModelScope: KEY:VALUE (task, "
         "library, license, ...)",
         0, NULL},
        {"sort", 0, O_SORT, MS_OPT_VALUE, "downloads|likes|updated",
         "most downloaded, most liked or last updated first", MS_COMPLETE_WORDS,
         "downloads likes updated"},
        {"limit", 0, O_LIMIT, MS_OPT_VALUE, "N", "at most N results (20)", 0, NULL},
        {"search", 0, O_SEARCH, MS_OPT_VALUE | MS_OPT_HIDDEN, "QUERY", NULL, 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static void set_str(char **field, const char *arg)
{
	free(*field);
	*field = xstrdup(arg);
}

static int search_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct search_opts *o = state;
	uint64_t n;

	switch (id) {
	case O_AUTHOR:
		set_str(&o->author, arg);
		return 0;
	case O_SEARCH:
		set_str(&o->text, arg);
		return 0;
	case O_FILTER:
		if (!*arg)
			return ms_error_set(err, MS_EUSAGE, "--filter takes a tag, not ''");
		o->filters = xrealloc(o->filters, (o->nfilters + 1) * sizeof(*o->filters));
		o->filters[o->nfilters++] = xstrdup(arg);
		return 0;
	case O_SORT:
		if (ms_search_sort_parse(arg, &o->sort))
			return ms_error_set(err, MS_EUSAGE,
			                    "--sort takes downloads, likes or updated, not '%s'",
			                    arg);
		return 0;
	case O_LIMIT:
		if (ms_parse_u64(arg, &n) || n < 1 || n > MS_SEARCH_MAX_LIMIT)
			return ms_error_set(err, MS_EUSAGE,
			                    "--limit takes a whole number from 1 to %d, not '%s'",
			                    MS_SEARCH_MAX_LIMIT, arg);
		o->limit = (size_t)n;
		return 0;
	default:
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	}
}

static void search_release(void *state)
{
	struct search_opts *o = state;

	for (size_t i = 0; i < o->nfilters; i++)
		free(o->filters[i]);
	free(o->filters);
	free(o->text);
	free(o->author);
}

/* "no models on hf by alice match 'qwen' with the tags a, b" */
static void note_nothing(const struct ms_ctx *ctx, const struct ms_search_query *q)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_addf(&b, "no %ss on %s", ms_repo_type_name(q->type), ctx->hub->name);
	if (q->author)
		ms_buf_addf(&b, " by %s", q->author);
	if (q->text)
		ms_buf_addf(&b, " match '%s'", q->text);
	for (size_t i = 0; i < q->nfilters; i++)
		ms_buf_addf(&b, "%s%s", i ? ", " : " with the tags ", q->filters[i]);
	ms_info("%s", b.data);
	ms_buf_release(&b);
}

static int search_exec(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	struct search_opts *o = state;
	struct ms_search_query q = {.type = ctx->type >= 0 ? ctx->type : MS_REPO_MODEL,
	                            .text = ctx->argc ? ctx->argv[0] : o->text,
	                            .author = o->author,
	                            .filters = o->filters,
	                            .nfilters = o->nfilters,
	                            .sort = o->sort,
	                            .limit = o->limit ? o->limit : MS_SEARCH_DEFAULT_LIMIT};
	struct ms_search_results res;
	int ret;

	if (ctx->argc && o->text)
		return ms_error_set(err, MS_EUSAGE, "search: give QUERY or --search, not both");
	if (q.text && !*q.text)
		q.text = NULL;
	if (ms_ctx_offline(ctx))
		return ms_error_set(err, MS_EOFFLINE, "offline: searching needs the hub");
	ret = ms_search_run(&ctx->sess, &q, &res, err);
	if (!ret && !res.list.n)
		note_nothing(ctx, &q);
	else if (!ret)
		ms_render_search(&res, ctx->hub->name, ctx->g->json, isatty(STDOUT_FILENO));
	if (!ret && res.capped)
		ms_info("%s lists no more than %zu results for this search", ctx->hub->name,
		        res.list.n);
	ms_search_results_release(&res);
	return ret;
}

const struct ms_cmd ms_cmd_search = {
        .name = "search",
        .summary = "search a hub for models or datasets",
        .usage = "search [QUERY] [OPTIONS]",
        .about = "QUERY is matched against repo names.  The author, filters and order are\n"
                 "the hub's to apply; pages are followed until --limit results.  On a\n"
                 "terminal: a table fitted to its width; into a pipe: one tab-separated\n"
                 "line per repo, the id first; --json: one object per repo.\n",
        .examples = "  mscli search qwen --limit 5\n"
                    "  mscli search --author Qwen --sort downloads\n"
                    "  mscli search --filter task:text-generation --sort likes\n"
                    "  mscli --hub hf search --type dataset --filter language:en\n"
                    "  mscli search qwen --limit 5 | cut -f1 | xargs -n1 mscli info\n",
        .opts = search_opts,
        .setup = MS_SETUP_SESSION,
        .min_args = 0,
        .max_args = 1,
        .state_size = sizeof(struct search_opts),
        .option = search_option,
        .exec = search_exec,
        .release = search_release,
};
