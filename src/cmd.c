/*
 * The one table of commands, and what every command shares: option parsing
 * (global options before or after COMMAND; getopt_long permutes), --help
 * made from the option tables, the set-up a command's entry asks for, and
 * the one place where errors become exit codes.
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

const struct ms_cmd *const ms_commands[] = {
        &ms_cmd_search, &ms_cmd_info,   &ms_cmd_download, &ms_cmd_upload, &ms_cmd_cache,
        &ms_cmd_login,  &ms_cmd_logout, &ms_cmd_whoami,   NULL,
};

const struct ms_cmd *ms_cmd_find(const struct ms_cmd *const *table, const char *name)
{
	for (size_t i = 0; table && table[i]; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

enum {
	G_HUB = 1000,
	G_ENDPOINT,
	G_TOKEN,
	G_CACHE_DIR,
	G_OFFLINE,
	G_JSON,
	G_QUIET,
	G_VERBOSE,
	G_NO_PROGRESS,
	G_PROGRESS,
	G_HELP,
	G_VERSION,
	G_RETRIES,
	G_RETRY_DELAY,
	G_STALL_TIMEOUT,
	G_CONNECT_TIMEOUT,
	G_FORMAT,
};

const struct ms_opt ms_global_opts[] = {
        {"hub", 0, G_HUB, MS_OPT_VALUE, "modelscope|hf",
         "which hub (default modelscope; env MSCLI_HUB)", MS_COMPLETE_HUB, NULL},
        {"endpoint", 0, G_ENDPOINT, MS_OPT_VALUE, "URL",
         "hub or mirror base URL (env MODELSCOPE_ENDPOINT,\nMODELSCOPE_DOMAIN; HF_ENDPOINT for hf)",
         0, NULL},
        {"token", 0, G_TOKEN, MS_OPT_VALUE, "TOKEN",
         "access token (env MODELSCOPE_API_TOKEN; HF_TOKEN for hf)", 0, NULL},
        {"cache-dir", 0, G_CACHE_DIR, MS_OPT_VALUE, "DIR",
         "cache root (env MODELSCOPE_CACHE; HF_HUB_CACHE, HF_HOME)", MS_COMPLETE_DIR, NULL},
        {"cache_dir", 0, G_CACHE_DIR, MS_OPT_VALUE | MS_OPT_HIDDEN, "DIR", NULL, MS_COMPLETE_DIR,
         NULL}, /* modelscope's CLI spells it so */
        {"offline", 0, G_OFFLINE, 0, NULL,
         "no network; answer from the cache (env MSCLI_OFFLINE=1;\nfor Hugging Face also "
         "HF_HUB_OFFLINE=1)",
         0, NULL},
        {"json", 0, G_JSON, 0, NULL, "JSON lines on stdout", 0, NULL},
        {"format", 0, G_FORMAT, MS_OPT_VALUE, "json|text",
         "--format json is --json (hf's spelling)", MS_COMPLETE_WORDS, "json text"},
        {"quiet", 'q', G_QUIET, 0, NULL, "errors only on stderr", 0, NULL},
        {"verbose", 'v', G_VERBOSE, 0, NULL,
         "log requests, redirects and retries (tokens redacted)", 0, NULL},
        {"no-progress", 0, G_NO_PROGRESS, 0, NULL,
         "no progress bars (the default when stderr is not a tty)", 0, NULL},
        {"progress", 0, G_PROGRESS, 0, NULL,
         "progress even when stderr is not a tty (a line every 5 s)", 0, NULL},
        {"retries", 0, G_RETRIES, MS_OPT_VALUE, "N",
         "attempts after the first for a failed request (5)", 0, NULL},
        {"retry-delay", 0, G_RETRY_DELAY, MS_OPT_VALUE, "SECONDS",
         "first backoff delay, doubled per attempt (1)", 0, NULL},
        {"stall-timeout", 0, G_STALL_TIMEOUT, MS_OPT_VALUE, "SECONDS",
         "a transfer with no byte for this long fails (30)", 0, NULL},
        {"connect-timeout", 0, G_CONNECT_TIMEOUT, MS_OPT_VALUE, "SECONDS",
         "seconds to connect before a try fails (15)", 0, NULL},
        {"help", 'h', G_HELP, 0, NULL, "this help", 0, NULL},
        {"version", 0, G_VERSION, 0, NULL, "the version", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

void ms_global_init(struct ms_global *g)
{
	memset(g, 0, sizeof(*g));
	g->progress = -1;
	ms_net_opts_init(&g->net);
	if (ms_env_true("MSCLI_OFFLINE"))
		g->offline = true;
}

void ms_global_release(struct ms_global *g)
{
	free(g->endpoint);
	free(g->token);
	free(g->cache_dir);
}

/* ---- help ---- */

/* "  --name, -n ARG" then the help text at column 26, continuation lines indented. */
static void print_opt(const struct ms_opt *o, FILE *out)
{
	char head[96];
	const char *h = o->help;
	int n;

	if (o->short_name)
		n = snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->short_name, o->name,
		             o->arg ? " " : "", o->arg ? o->arg : "");
	else
		n = snprintf(head, sizeof(head), "  --%s%s%s", o->name, o->arg ? " " : "",
		             o->arg ? o->arg : "");
	if (o->flags & MS_OPT_MORE && n < (int)sizeof(head) - 4)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "...");
	fputs(head, out);
	if (n > 24)
		fprintf(out, "\n%26s", "");
	else
		fprintf(out, "%*s", 26 - n, "");
	for (; *h; h++) {
		fputc(*h, out);
		if (*h == '\n')
			fprintf(out, "%26s", "");
	}
	fputc('\n', out);
}

static void print_opts(const struct ms_opt *opts, FILE *out)
{
	for (const struct ms_opt *o = opts; o && o->name; o++)
		if (o->help && !(o->flags & MS_OPT_HIDDEN))
			print_opt(o, out);
}

void ms_print_main_help(FILE *out)
{
	fprintf(out, "usage: mscli [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
	             "A fast, verifying client for ModelScope and Hugging Face hubs.\n\n"
	             "Commands:\n");
	for (size_t i = 0; ms_commands[i]; i++)
		fprintf(out, "  %-10s %s\n", ms_commands[i]->name, ms_commands[i]->summary);
	fprintf(out, "\nGlobal options (before or after COMMAND):\n");
	print_opts(ms_global_opts, out);
	fprintf(out,
	        "\nRun 'mscli COMMAND --help' for a command's options; 'man mscli' for the rest.\n"
	        "Exit codes: 0 ok, 1 other, 2 usage, 3 network, 4 integrity, 5 not found,\n"
	        "6 auth, 7 offline and not cached, 8 local storage, 128+N stopped by signal N\n"
	        "(130 Ctrl-C, 143 kill, 129 hangup; partials are kept for the next run).\n");
}

void ms_print_cmd_help(const struct ms_cmd *cmd, const char *parent, FILE *out)
{
	fprintf(out, "usage: mscli %s%s%s\n\n%c%s.\n", parent ? parent : "", parent ? " " : "",
	        cmd->usage, toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->about)
		fprintf(out, "\n%s", cmd->about);
	if (cmd->verbs) {
		fprintf(out, "\nCommands:\n");
		for (size_t i = 0; cmd->verbs[i]; i++)
			fprintf(out, "  %-10s %s\n", cmd->verbs[i]->name, cmd->verbs[i]->summary);
	}
	if (cmd->opts && cmd->opts->name) {
		fprintf(out, "\nOptions:\n");
		print_opts(cmd->opts, out);
	}
	if (cmd->examples)
		fprintf(out, "\nExamples:\n%s", cmd->examples);
	fprintf(out, "\nGlobal options (before or after COMMAND):\n");
	print_opts(ms_global_opts, out);
}

/* ---- option values ---- */

static int parse_int(const char *arg, const char *opt, int min, int max, int *out,
                     struct ms_error *err)
{
	uint64_t v;

	if (ms_parse_u64(arg, &v) || v < (uint64_t)min || v > (uint64_t)max)
		return ms_error_set(err, MS_EUSAGE,
		                    "%s takes a whole number from %d to %d, not '%s'", opt, min,
		                    max, arg);
	*out = (int)v;
	return 0;
}

static int parse_secs(const char *arg, const char *opt, double *out, struct ms_error *err)
{
	if (ms_parse_seconds(arg, out))
		return ms_error_set(err, MS_EUSAGE, "%s takes a number of seconds, not '%s'", opt,
		                    arg);
	return 0;
}

static void set_str(char **field, const char *arg)
{
	free(*field);
	*field = xstrdup(arg);
}

static int global_option(struct ms_global *g, int id, const char *arg, struct ms_error *err)
{
	double d = 0;
	int n = 0;

	switch (id) {
	case G_HUB:
		if (!(g->hub = ms_hub_find(arg)))
			return ms_error_set(err, MS_EUSAGE, "--hub takes %s, not '%s'",
			                    ms_hub_names(), arg);
		return 0;
	case G_ENDPOINT:
		set_str(&g->endpoint, arg);
		return 0;
	case G_TOKEN:
		set_str(&g->token, arg);
		ms_redact_add(arg);
		return 0;
	case G_CACHE_DIR:
		/* "--cache-dir=~/x": no shell expands a ~ after '=' */
		free(g->cache_dir);
		g->cache_dir = ms_expand_tilde(arg);
		return 0;
	case G_OFFLINE:
		g->offline = true;
		return 0;
	case G_JSON:
		g->json = true;
		return 0;
	case G_FORMAT:
		if (!arg || (strcasecmp(arg, "json") && strcasecmp(arg, "text") &&
		             strcasecmp(arg, "table") && strcasecmp(arg, "human")))
			return ms_error_set(err, MS_EUSAGE, "--format takes json or text, not '%s'",
			                    arg);
		g->json = !strcasecmp(arg, "json");
		return 0;
	case G_QUIET:
		g->quiet = true;
		return 0;
	case G_VERBOSE:
		g->verbose = true;
		return 0;
	case G_NO_PROGRESS:
		g->progress = 0;
		return 0;
	case G_PROGRESS:
		g->progress = 1;
		return 0;
	case G_RETRIES:
		if (parse_int(arg, "--retries", 0, 100, &n, err))
			return MS_EUSAGE;
		g->net.retries = n;
		return 0;
	case G_RETRY_DELAY:
		if (parse_secs(arg, "--retry-delay", &d, err))
			return MS_EUSAGE;
		g->net.retry_delay = d;
		return 0;
	case G_STALL_TIMEOUT:
		if (parse_int(arg, "--stall-timeout", 1, 86400, &n, err))
			return MS_EUSAGE;
		g->net.stall_timeout = n;
		g->stall_given = true;
		return 0;
	case G_CONNECT_TIMEOUT:
		if (parse_int(arg, "--connect-timeout", 1, 3600, &n, err))
			return MS_EUSAGE;
		g->net.connect_timeout = n;
		return 0;
	default:
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	}
}

/* Options every command with a repo shares (cli.h MS_OPTS_*). */
static int shared_option(struct ms_ctx *ctx, int id, const char *arg, struct ms_error *err)
{
	enum ms_repo_type t;

	if (id == MS_OPT_ID_TYPE) {
		if (ms_repo_type_parse(arg, &t))
			return ms_error_set(err, MS_EUSAGE,
			                    "--type takes model or dataset, not '%s'", arg);
		ctx->type = (int)t;
		return 0;
	}
	ctx->revision = arg;
	return 0;
}

/* ---- parsing ---- */

enum { PARSED = 0, SHOW_HELP = 1, SHOW_VERSION = 2 };

struct parser {
	const struct ms_opt **by_index; /* getopt's val - 1 -> entry */
	size_t n;
	struct option *longopts;
	char *shortopts;
};

static void parser_add(struct parser *p, struct ms_buf *shorts, const struct ms_opt *opts)
{
	for (const struct ms_opt *o = opts; o && o->name; o++) {
		p->by_index[p->n] = o;
		p->longopts[p->n] = (struct option){
		        o->name, o->flags & MS_OPT_VALUE ? required_argument : no_argument, NULL,
		        (int)p->n + 1 + 256};
		p->n++;
		if (o->short_name) {
			ms_buf_addch(shorts, o->short_name);
			if (o->flags & MS_OPT_VALUE)
				ms_buf_addch(shorts, ':');
		}
	}
}

static size_t count(const struct ms_opt *opts)
{
	size_t n = 0;

	while (opts && opts[n].name)
		n++;
	return n;
}

/* "+" stops at the first argument that is not an option (COMMAND). */
static void parser_init(struct parser *p, const struct ms_opt *cmd_opts, bool stop_at_arg)
{
	struct ms_buf shorts = MS_BUF_INIT;
	size_t n = count(ms_global_opts) + count(cmd_opts);

	/* ':' first: we report missing values ourselves */
	ms_buf_adds(&shorts, stop_at_arg ? "+:" : ":");
	p->n = 0;
	p->by_index = xcalloc(n + 1, sizeof(*p->by_index));
	p->longopts = xcalloc(n + 1, sizeof(*p->longopts));
	parser_add(p, &shorts, ms_global_opts);
	parser_add(p, &shorts, cmd_opts);
	p->shortopts = ms_buf_detach(&shorts);
}

static void parser_release(struct parser *p)
{
	free(p->by_index);
	free(p->longopts);
	free(p->shortopts);
}

static const struct ms_opt *parser_entry(const struct parser *p, int c)
{
	if (c > 256 && (size_t)(c - 257) < p->n)
		return p->by_index[c - 257];
	for (size_t i = 0; i < p->n; i++)
		if (p->by_index[i]->short_name && p->by_index[i]->short_name == c)
			return p->by_index[i];
	return NULL;
}

static bool is_global(const struct ms_opt *o)
{
	return o >= ms_global_opts && o < ms_global_opts + count(ms_global_opts);
}

static int take_option(struct ms_ctx *ctx, void *state, const struct ms_opt *o, const char *arg,
                       struct ms_error *err)
{
	if (is_global(o))
		return global_option(ctx->g, o->id, arg, err);
	if (o->id == MS_OPT_ID_TYPE || o->id == MS_OPT_ID_REVISION)
		return shared_option(ctx, o->id, arg, err);
	return ctx->cmd && ctx->cmd->option ? ctx->cmd->option(state, o->id, arg, err)
	                                    : ms_error_set(err, MS_EUSAGE, "unknown option");
}

/*
 * Parse global options and cmd's (cmd NULL: the globals before COMMAND).
 * Returns PARSED (*first_arg: the index of the first argument left), SHOW_HELP,
 * SHOW_VERSION or a negative ms_err.
 */
/* The option a word names ("--name", "--name=v", "-x", "-xVALUE"), or NULL. */
static const struct ms_opt *word_option(const struct parser *p, const char *w, bool *attached)
{
	*attached = false;
	if (w[0] != '-' || !w[1])
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		const struct ms_opt *o = p->by_index[i];
		size_t n = strlen(o->name);

		if (w[1] == '-' && !strncmp(w + 2, o->name, n) && (!w[2 + n] || w[2 + n] == '=')) {
			*attached = w[2 + n] == '=';
			return o;
		}
		if (w[1] != '-' && o->short_name == w[1]) {
			*attached = w[2] != '\0';
			return o;
		}
	}
	return NULL;
}

static bool is_glob(const char *w)
{
	return strpbrk(w, "*?[") != NULL;
}

/*
 * The options that come after a positional argument (REPO) on the command line, found in
 * argv before getopt permutes it.  After --include/--exclude (MS_OPT_MORE) come several
 * patterns, as modelscope's CLI (argparse nargs) takes them: every word up to the next
 * option once REPO was given, and before it only words with * ? [ (so
 * "--include '*.json' owner/name" still names the repo).
 */
static char **options_after_args(const struct parser *p, int argc, char **argv)
{
	char **after = xcalloc((size_t)argc + 1, sizeof(*after));
	bool seen_arg = false;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		bool attached;
		const struct ms_opt *o = word_option(p, argv[i], &attached);

		if (!strcmp(argv[i], "--"))
			break;
		if (!o) {
			seen_arg |= argv[i][0] != '-' || !argv[i][1];
			continue;
		}
		if (seen_arg)
			after[n++] = argv[i];
		if ((o->flags & MS_OPT_VALUE) && !attached)
			i++;
		while ((o->flags & MS_OPT_MORE) && i + 1 < argc && argv[i + 1][0] != '-' &&
		       (seen_arg || is_glob(argv[i + 1])))
			i++;
	}
	return after;
}

static bool in_list(char *const *list, const char *w)
{
	for (; *list; list++)
		if (*list == w)
			return true;
	return false;
}

/* A value in its own word that is an option, or empty: a script's mistake, said now. */
static int check_value(const struct ms_opt *o, const char *arg, bool own_word, struct ms_error *err)
{
	if (!*arg)
		return ms_error_set(err, MS_EUSAGE,
		                    "option '--%s' needs a value, not an empty string", o->name);
	if (own_word && arg[0] == '-' && arg[1])
		return ms_error_set(err, MS_EUSAGE,
		                    "option '--%s' needs a value, not the option '%s' (write "
		                    "--%s=%s if that is the value)",
		                    o->name, arg, o->name, arg);
	return 0;
}

/*
 * Parse global options and cmd's (cmd NULL: the globals before COMMAND).
 * Returns PARSED (*first_arg: the index of the first argument left), SHOW_HELP,
 * SHOW_VERSION or a negative ms_err.
 */
static int parse(struct ms_ctx *ctx, const struct ms_cmd *cmd, void *state, int argc, char **argv,
                 int *first_arg, struct ms_error *err)
{
	struct parser p;
	int c, ret = PARSED, type;
	const char *where = cmd ? cmd->name : NULL;
	char **after;

	parser_init(&p, cmd ? cmd->opts : NULL, !cmd);
	after = options_after_args(&p, argc, argv);
	optind = 0; /* glibc: 0 resets getopt's internal state between argument vectors */
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		const struct ms_opt *o = parser_entry(&p, c);
		bool own_word = o && optarg && optarg == argv[optind - 1];
		const char *word = !o ? NULL : own_word ? argv[optind - 2] : argv[optind - 1];

		if (c == '?' && !where) {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "unknown option '%s' (see 'mscli --help')",
			                   argv[optind - 1]);
		} else if (c == '?') {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "%s: unknown option '%s' (see 'mscli %s --help')", where,
			                   argv[optind - 1], where);
		} else if (c == ':') {
			ret = ms_error_set(err, MS_EUSAGE, "%s%soption '%s' needs a value",
			                   where ? where : "", where ? ": " : "", argv[optind - 1]);
		} else if (o && o->id == G_HELP) {
			ret = SHOW_HELP;
		} else if (o && o->id == G_VERSION) {
			ret = SHOW_VERSION;
		} else if (o && optarg && (ret = check_value(o, optarg, own_word, err)) != 0) {
			break;
		} else if (o) {
			bool more_words = in_list(after, word) ||
			                  (cmd && cmd->repo_arg && cmd->repo_arg(state, &type));

			ret = take_option(ctx, state, o, optarg, err);
			/* more values (moving optind past a word is how getopt lets a program
			 * consume arguments) */
			while (!ret && (o->flags & MS_OPT_MORE) && optind < argc &&
			       argv[optind][0] != '-' && (more_words || is_glob(argv[optind])))
				ret = take_option(ctx, state, o, argv[optind++], err);
		}
	}
	*first_arg = optind;
	free(after);
	parser_release(&p);
	return ret;
}

/* ---- set-up ---- */

/* --hub, else MSCLI_HUB, else the default hub. */
static int choose_hub(struct ms_ctx *ctx, enum ms_hub_choice *how, struct ms_error *err)
{
	const char *v;

	*how = MS_CHOSEN_BY_OPTION;
	if (ctx->g->hub) {
		ctx->hub = ctx->g->hub;
		return 0;
	}
	if ((v = ms_getenv("MSCLI_HUB")) != NULL) {
		*how = MS_CHOSEN_BY_ENV;
		if (!(ctx->hub = ms_hub_find(v)))
			return ms_error_set(err, MS_EUSAGE, "MSCLI_HUB is '%s', not %s", v,
			                    ms_hub_names());
		return 0;
	}
	*how = MS_CHOSEN_DEFAULT;
	ctx->hub = ms_hub_default();
	return 0;
}

static int setup_repo(struct ms_ctx *ctx, const void *state, struct ms_error *err)
{
	int type = -1;
	const char *spec = ctx->cmd->repo_arg ? ctx->cmd->repo_arg(state, &type) : NULL;
	const char *why;
	enum ms_hub_choice hub_given;
	int ret;

	if (type >= 0)
		ctx->type = type;
	if (!spec && ctx->argc) {
		spec = ctx->argv[0];
		ctx->argc--;
		ctx->argv++;
	}
	if (!spec)
		return ms_error_set(err, MS_EUSAGE, "%s: which repo? (mscli %s)", ctx->cmd->name,
		                    ctx->cmd->usage);
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
	if ((ret = ms_session_open(&ctx->sess, ctx->hub, &so, err)) != 0)
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
	root = ctx->g->cache_dir ? xstrdup(ctx->g->cache_dir) : ctx->hub->default_cache();
	/* printed paths work from any directory: "$(mscli download ...)" after a cd */
	ctx->cache_root = ms_absolute_path(root);
	free(root);
	return 0;
}

static int setup(struct ms_ctx *ctx, const void *state, struct ms_error *err)
{
	const struct ms_cmd *cmd = ctx->cmd;
	int ret = 0;

	if (cmd->setup & MS_SETUP_REPO)
		ret = setup_repo(ctx, state, err);
	if (!ret && ctx->argc < cmd->min_args)
		ret = ms_error_set(err, MS_EUSAGE, "%s: too few arguments (mscli %s)", cmd->name,
		                   cmd->usage);
	if (!ret && cmd->max_args >= 0 && ctx->argc > cmd->max_args)
		ret = ms_error_set(err, MS_EUSAGE, "%s: unexpected argument '%s' (mscli %s)",
		                   cmd->name, ctx->argv[cmd->max_args], cmd->usage);
	if (!ret && (cmd->setup & MS_SETUP_SESSION))
		ret = setup_session(ctx, err);
	if (!ret && (cmd->setup & MS_SETUP_CACHE))
		ret = setup_cache(ctx, err);
	return ret;
}

bool ms_ctx_offline(const struct ms_ctx *ctx)
{
	const struct ms_hub *hub = ctx->hub;

	return ctx->g->offline || (hub && hub->env_offline && hub->env_offline());
}

static void ctx_release(struct ms_ctx *ctx)
{
	if (ctx->have_sess)
		ms_session_release(&ctx->sess);
	ms_repo_release(&ctx->repo);
	free(ctx->cache_root);
}

/* ---- running ---- */

static int fail(const struct ms_error *err)
{
	if (err->msg[0])
		ms_ui_error("%s", err->msg);
	return ms_err_exit_code(err->code);
}

/* --json: a failure the command did not report itself still ends with a "done" object. */
static void json_failure(const struct ms_ctx *ctx, const struct ms_error *err)
{
	struct ms_json *j = ms_json_begin("done");

	ms_json_str(j, "status", "error");
	ms_json_str(j, "repo", ctx->repo.id);
	ms_json_str(j, "revision", ctx->rev);
	ms_json_error(j, err->code, err);
	ms_json_emit(j, stdout);
}

static bool json_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--format=json") ||
		    (!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[i + 1], "json")))
			return true;
	return false;
}

static void print_version(void)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	printf("mscli %s (libcurl %s, %s, cJSON %s)\n", MSCLI_VERSION, cv->version,
	       OpenSSL_version(OPENSSL_VERSION), cJSON_Version());
}

static void log_line(const char *line)
{
	ms_ui_verbose(line);
}

/* The nested verb of cmd: its first argument that is not an option or an option's value. */
static const struct ms_cmd *find_verb(const struct ms_cmd *cmd, int argc, char **argv, int *at)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct ms_opt *o = NULL;

		if (a[0] != '-' || !a[1]) {
			*at = i;
			return ms_cmd_find(cmd->verbs, a);
		}
		if (!strcmp(a, "--"))
			break;
		for (const struct ms_opt *g = ms_global_opts; g->name && !o; g++)
			if ((a[1] == '-' && !strcmp(a + 2, g->name)) ||
			    (a[1] == g->short_name && !a[2]))
				o = g;
		if (o && (o->flags & MS_OPT_VALUE))
			i++;
	}
	*at = -1;
	return NULL;
}

static int run_cmd(struct ms_ctx *ctx, const struct ms_cmd *cmd, const char *parent, int argc,
                   char **argv, struct ms_error *err)
{
	void *state = xcalloc(1, cmd->state_size ? cmd->state_size : 1);
	int rest, ret;

	ctx->cmd = cmd;
	ret = parse(ctx, cmd, state, argc, argv, &rest, err);
	if (ret == SHOW_HELP || ret == SHOW_VERSION) {
		if (ret == SHOW_HELP)
			ms_print_cmd_help(cmd, parent, stdout);
		else
			print_version();
		ret = 0;
		goto out;
	}
	if (ret) {
		ret = fail(err);
		goto out;
	}
	if (ctx->g->verbose)
		ms_log_set(log_line);
	if (ctx->g->progress < 0)
		ctx->g->progress = isatty(STDERR_FILENO) && !ctx->g->quiet;
	ms_ui_set_quiet(ctx->g->quiet);
	ctx->argc = argc - rest;
	ctx->argv = argv + rest;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = setup(ctx, state, err);
	if (!ret)
		ret = cmd->exec(ctx, state, err);
	ret = ret ? fail(err) : 0;
	curl_global_cleanup();
out:
	if (cmd->release)
		cmd->release(state);
	free(state);
	return ret;
}

static int verb_usage(const struct ms_cmd *cmd, const char *name, struct ms_error *err)
{
	if (!name)
		return ms_error_set(err, MS_EUSAGE, "%s: which command? (see 'mscli %s --help')",
		                    cmd->name, cmd->name);
	return ms_error_set(err, MS_EUSAGE,
	                    "'%s' is not an mscli %s command (see 'mscli %s --help')", name,
	                    cmd->name, cmd->name);
}

/* COMMAND [VERB] with its arguments (argv[0] is COMMAND). */
static int run(struct ms_ctx *ctx, const struct ms_cmd *cmd, int argc, char **argv,
               struct ms_error *err)
{
	const struct ms_cmd *verb;
	int at, ret;
	char **rest;

	if (!cmd->verbs)
		return run_cmd(ctx, cmd, NULL, argc, argv, err);
	verb = find_verb(cmd, argc, argv, &at);
	if (!verb) {
		bool help = false;

		for (int i = 1; i < argc; i++)
			help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
		if (help && at < 0) {
			ms_print_cmd_help(cmd, NULL, stdout);
			return 0;
		}
		verb_usage(cmd, at < 0 ? NULL : argv[at], err);
		return fail(err);
	}
	/* the verb's own arguments: COMMAND's options stay, the verb's name goes */
	rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	for (int i = 0, j = 0; i < argc; i++)
		if (i != at)
			rest[j++] = argv[i];
	ret = run_cmd(ctx, verb, cmd->name, argc - 1, rest, err);
	free(rest);
	return ret;
}

/* Edit distance (insertions, deletions, substitutions, swaps of neighbours), capped. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) !=
			                                 tolower((unsigned char)b[j - 1]));

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* A mistyped command ("downlaod"): the command it was meant to be, or NULL. */
static const char *nearest_command(const char *word)
{
	const char *best = NULL;
	size_t best_d = 3; /* more than two edits away is another word */

	for (size_t i = 0; ms_commands[i]; i++) {
		size_t d = distance(word, ms_commands[i]->name);

		if (d < best_d ||
		    (strlen(word) >= 3 && !strncmp(ms_commands[i]->name, word, strlen(word)))) {
			best_d = d < best_d ? d : best_d;
			best = ms_commands[i]->name;
		}
	}
	return best;
}

/* "mscli help [COMMAND [VERB]]"; "mscli --help [COMMAND]" (lenient: the main help). */
static int help(int argc, char **argv, bool lenient, struct ms_error *err)
{
	const struct ms_cmd *cmd = argc ? ms_cmd_find(ms_commands, argv[0]) : NULL;
	const struct ms_cmd *verb = cmd && argc > 1 ? ms_cmd_find(cmd->verbs, argv[1]) : NULL;

	if (!argc || (!cmd && lenient)) {
		ms_print_main_help(stdout);
		return 0;
	}
	if (!cmd) {
		ms_error_set(err, MS_EUSAGE, "'%s' is not an mscli command (see 'mscli --help')",
		             argv[0]);
		return fail(err);
	}
	if (verb)
		ms_print_cmd_help(verb, cmd->name, stdout);
	else
		ms_print_cmd_help(cmd, NULL, stdout);
	return 0;
}

int ms_cli_main(int argc, char **argv)
{
	struct ms_global g;
	struct ms_ctx ctx = {.g = &g, .type = -1};
	struct ms_error err;
	const struct ms_cmd *cmd;
	int first, ret;

	ms_global_init(&g);
	ms_error_clear(&err);
	if (argc > 1 && !strcmp(argv[1], "__complete"))
		return ms_complete(argc - 2, argv + 2);
	/* global options before COMMAND: stop at the first non-option */
	ret = parse(&ctx, NULL, NULL, argc, argv, &first, &err);
	if (ret == SHOW_HELP) {
		/* "mscli --help download" is download's help, as git does */
		ret = help(argc - first, argv + first, true, &err);
	} else if (ret == SHOW_VERSION) {
		print_version();
		ret = 0;
	} else if (ret) {
		ret = fail(&err);
	} else if (first >= argc) {
		ms_print_main_help(stderr);
		ms_error_set(&err, MS_EUSAGE, "which command? (see 'mscli --help')");
		ret = 2;
	} else if (!strcmp(argv[first], "help")) {
		ret = help(argc - first - 1, argv + first + 1, false, &err);
	} else if (!(cmd = ms_cmd_find(ms_commands, argv[first]))) {
		const char *near = nearest_command(argv[first]);

		ms_error_set(&err, MS_EUSAGE,
		             "'%s' is not an mscli command%s%s%s (see 'mscli --help')", argv[first],
		             near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		ret = fail(&err);
	} else {
		ret = run(&ctx, cmd, argc - first, argv + first, &err);
	}
	/* --json (anywhere): every failure ends with a "done" object, usage errors too */
	if (ret && json_wanted(argc, argv) && !ctx.reported)
		json_failure(&ctx, &err);
	ctx_release(&ctx);
	ms_global_release(&g);
	/* stdout was the result: not writing it (a full disk, /dev/full) is a storage error */
	if ((fflush(stdout) != 0 || ferror(stdout)) && ret == 0) {
		ms_ui_error("cannot write to standard output: %s", strerror(errno));
		ret = 8;
	}
	return ret;
}
