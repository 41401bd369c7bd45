/*
 * Options: the global ones (written once, as every command's are: the
 * parser, --help and the completions come from these tables), their values,
 * getopt_long over global and command options together (globals before or
 * after COMMAND), and --help made from the tables.
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
	G_CACERT,
};

/* What the global options say of the hubs, made from the registry (registry_help): the
 * table holds these buffers, filled before anything reads it. */
static char hub_arg[64], hub_help[96], endpoint_help[256], token_help[192], cache_help[192],
        offline_help[256];

const struct ms_opt ms_global_opts[] = {
        {"hub", 0, G_HUB, MS_OPT_VALUE, hub_arg, hub_help, MS_COMPLETE_HUB, NULL},
        {"endpoint", 0, G_ENDPOINT, MS_OPT_VALUE, "URL", endpoint_help, 0, NULL},
        {"token", 0, G_TOKEN, MS_OPT_VALUE, "TOKEN", token_help, 0, NULL},
        {"cache-dir", 0, G_CACHE_DIR, MS_OPT_VALUE, "DIR", cache_help, MS_COMPLETE_DIR, NULL},
        {"cache_dir", 0, G_CACHE_DIR, MS_OPT_VALUE | MS_OPT_HIDDEN, "DIR", NULL, MS_COMPLETE_DIR,
         NULL}, /* modelscope's CLI spells it so */
        {"offline", 0, G_OFFLINE, 0, NULL, offline_help, 0, NULL},
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
        {"cacert", 0, G_CACERT, MS_OPT_VALUE, "FILE",
         "CA certificates (PEM) that verify servers (env CURL_CA_BUNDLE,\n"
         "REQUESTS_CA_BUNDLE, SSL_CERT_FILE; SSL_CERT_DIR)",
         MS_COMPLETE_FILE, NULL},
        {"help", 'h', G_HELP, 0, NULL, "this help", 0, NULL},
        {"version", 0, G_VERSION, 0, NULL, "the version", 0, NULL},
        {NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const char *endpoint_env(const struct ms_hub *h)
{
	return h->help_endpoint_env;
}

static const char *token_env(const struct ms_hub *h)
{
	return h->token_env;
}

static const char *cache_env(const struct ms_hub *h)
{
	return h->help_cache_env;
}

/* "env A, B; C for hf": each hub's variables, the default hub's first; the others' named by
 * their hub when name_others. */
static void env_list(struct ms_buf *b, const char *(*pick)(const struct ms_hub *), bool name_others)
{
	for (size_t i = 0, k = 0; ms_hubs[i]; i++) {
		const char *v = pick(ms_hubs[i]);

		if (!v)
			continue;
		ms_buf_addf(b, "%s%s", k++ ? "; " : "env ", v);
		if (i && name_others)
			ms_buf_addf(b, " for %s", ms_hubs[i]->name);
	}
}

/* b's text into dst, broken into lines of at most 58 columns after the help column (the
 * width the hand-written help lines keep). */
static void set_help(char *dst, size_t size, struct ms_buf *b)
{
	size_t line = 0, last_space = 0;

	snprintf(dst, size, "%s", b->data ? b->data : "");
	for (size_t i = 0; dst[i]; i++) {
		if (dst[i] == ' ')
			last_space = i;
		if (i - line >= 58 && last_space > line) {
			dst[last_space] = '\n';
			line = last_space + 1;
		}
	}
	ms_buf_release(b);
}

/* The global options' help about hubs, from the registry: a new hub adds its own. */
/* "what (the hubs' variables)" into dst */
static void env_help(struct ms_buf *b, const char *what, const char *(*env)(const struct ms_hub *),
                     bool all, char *dst, size_t size)
{
	ms_buf_addf(b, "%s (", what);
	env_list(b, env, all);
	ms_buf_adds(b, ")");
	set_help(dst, size, b);
}

static void registry_help(void)
{
	struct ms_buf b = MS_BUF_INIT;

	if (hub_arg[0])
		return;
	for (size_t i = 0; ms_hubs[i]; i++)
		ms_buf_addf(&b, "%s%s", i ? "|" : "", ms_hubs[i]->name);
	set_help(hub_arg, sizeof(hub_arg), &b);
	ms_buf_addf(&b, "which hub (default %s; env MSCLI_HUB)", ms_hub_default()->name);
	set_help(hub_help, sizeof(hub_help), &b);
	env_help(&b, "hub or mirror base URL", endpoint_env, true, endpoint_help,
	         sizeof(endpoint_help));
	env_help(&b, "access token", token_env, true, token_help, sizeof(token_help));
	env_help(&b, "cache root", cache_env, false, cache_help, sizeof(cache_help));
	ms_buf_adds(&b, "no network; answer from the cache (env MSCLI_OFFLINE=1");
	for (size_t i = 0; ms_hubs[i]; i++)
		if (ms_hubs[i]->help_offline_env)
			ms_buf_addf(&b, "; for %s also %s", ms_hubs[i]->title,
			            ms_hubs[i]->help_offline_env);
	ms_buf_adds(&b, ")");
	set_help(offline_help, sizeof(offline_help), &b);
}

void ms_global_init(struct ms_global *g)
{
	registry_help();
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
	free(g->cacert);
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
	        "\nProxies: https_proxy, http_proxy, all_proxy, no_proxy (or upper case), as\n"
	        "curl reads them; CAs: --cacert, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE,\n"
	        "SSL_CERT_FILE, SSL_CERT_DIR ('man mscli': TLS AND PROXIES).\n"
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
	case G_CACERT:
		/* wins over the CA variables; checked, with them, before the first request */
		free(g->cacert);
		g->cacert = ms_expand_tilde(arg);
		g->net.ca_file = g->cacert;
		g->net.ca_from = "--cacert";
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

/* A mistyped long option ("--inculde=x"): the name it was meant to be, or NULL. */
static const char *nearest_option(const struct parser *p, const char *word)
{
	struct ms_nearest n;
	char name[64];

	if (strncmp(word, "--", 2) != 0)
		return NULL; /* -X: one letter says too little */
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(word + 2, "="), word + 2);
	ms_nearest_init(&n, name);
	for (size_t i = 0; i < p->n; i++)
		ms_nearest_try(&n, p->by_index[i]->name);
	return n.best;
}

/*
 * Parse global options and cmd's (cmd NULL: the globals before COMMAND).
 * Returns MS_PARSED (*first_arg: the index of the first argument left), MS_SHOW_HELP,
 * MS_SHOW_VERSION or a negative ms_err.
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
 * Returns MS_PARSED (*first_arg: the index of the first argument left), MS_SHOW_HELP,
 * MS_SHOW_VERSION or a negative ms_err.
 */
int ms_cli_parse(struct ms_ctx *ctx, const struct ms_cmd *cmd, void *state, int argc, char **argv,
                 int *first_arg, struct ms_error *err)
{
	struct parser p;
	int c, ret = MS_PARSED, type;
	const char *where = cmd ? ctx->cmd_name : NULL;
	char **after;

	parser_init(&p, cmd ? cmd->opts : NULL, !cmd);
	after = options_after_args(&p, argc, argv);
	optind = 0; /* glibc: 0 resets getopt's internal state between argument vectors */
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		const struct ms_opt *o = parser_entry(&p, c);
		bool own_word = o && optarg && optarg == argv[optind - 1];
		const char *word = !o ? NULL : own_word ? argv[optind - 2] : argv[optind - 1];

		/* "-o=x" is x, as argparse reads it (getopt would make it "=x"), and "-o=" empty */
		if (o && optarg && !own_word && word[1] != '-' && optarg[0] == '=')
			optarg++;

		if (c == '?') {
			const char *near = nearest_option(&p, argv[optind - 1]);

			ret = ms_error_set(err, MS_EUSAGE,
			                   "%s%sunknown option '%s'%s%s%s (see 'mscli%s%s --help')",
			                   where ? where : "", where ? ": " : "", argv[optind - 1],
			                   near ? "; did you mean '--" : "", near ? near : "",
			                   near ? "'?" : "", where ? " " : "", where ? where : "");
		} else if (c == ':') {
			ret = ms_error_set(err, MS_EUSAGE, "%s%soption '%s' needs a value",
			                   where ? where : "", where ? ": " : "", argv[optind - 1]);
		} else if (o && o->id == G_HELP) {
			ret = MS_SHOW_HELP;
		} else if (o && o->id == G_VERSION) {
			ret = MS_SHOW_VERSION;
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
