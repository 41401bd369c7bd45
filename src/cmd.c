/*
 * The one table of commands, and option parsing shared by all of them:
 * global options are accepted before or after COMMAND (getopt_long
 * permutes), each command adds its own.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/common.h"
#include "mscli/env.h"
#include "mscli/fs.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/redact.h"
#include "mscli/store.h"

const struct ms_cmd *const ms_commands[] = {
        &ms_cmd_download,
        NULL,
};

const struct ms_cmd *ms_cmd_find(const char *name)
{
	for (size_t i = 0; ms_commands[i]; i++)
		if (!strcmp(ms_commands[i]->name, name))
			return ms_commands[i];
	return NULL;
}

enum {
	G_HUB = 1000,
	G_ENDPOINT,
	G_TOKEN,
	G_CACHE_DIR,
	G_OFFLINE,
	G_JSON,
	G_NO_PROGRESS,
	G_PROGRESS,
	G_VERSION,
	G_RETRIES,
	G_RETRY_DELAY,
	G_STALL_TIMEOUT,
	G_CONNECT_TIMEOUT,
};

static const struct option global_options[] = {
        {"hub", required_argument, NULL, G_HUB},
        {"endpoint", required_argument, NULL, G_ENDPOINT},
        {"token", required_argument, NULL, G_TOKEN},
        {"cache-dir", required_argument, NULL, G_CACHE_DIR},
        {"cache_dir", required_argument, NULL, G_CACHE_DIR}, /* as modelscope's CLI */
        {"offline", no_argument, NULL, G_OFFLINE},
        {"json", no_argument, NULL, G_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"no-progress", no_argument, NULL, G_NO_PROGRESS},
        {"progress", no_argument, NULL, G_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, G_VERSION},
        {"retries", required_argument, NULL, G_RETRIES},
        {"retry-delay", required_argument, NULL, G_RETRY_DELAY},
        {"stall-timeout", required_argument, NULL, G_STALL_TIMEOUT},
        {"connect-timeout", required_argument, NULL, G_CONNECT_TIMEOUT},
};

#define GLOBAL_SHORT "hqv"

/* -q: errors only (ms_warn has no ms_global to look at) */
static bool warnings_off;

static const char global_help[] =
        "Global options (before or after COMMAND):\n"
        "  --hub modelscope|hf     which hub (default modelscope; env MSCLI_HUB)\n"
        "  --endpoint URL          hub or mirror base URL (env MODELSCOPE_ENDPOINT,\n"
        "                          MODELSCOPE_DOMAIN; HF_ENDPOINT for hf)\n"
        "  --token TOKEN           access token (env MODELSCOPE_API_TOKEN; HF_TOKEN for hf)\n"
        "  --cache-dir DIR         cache root (env MODELSCOPE_CACHE; HF_HUB_CACHE, HF_HOME)\n"
        "  --offline               no network; answer from the cache (env MSCLI_OFFLINE=1;\n"
        "                          for Hugging Face also HF_HUB_OFFLINE=1)\n"
        "  --json                  JSON lines on stdout\n"
        "  -q, --quiet             errors only on stderr\n"
        "  -v, --verbose           log requests, redirects and retries (tokens redacted)\n"
        "  --no-progress           no progress bars (the default when stderr is not a tty)\n"
        "  --progress              progress even when stderr is not a tty (a line every 5 s)\n"
        "  --retries N             attempts after the first for a failed request (5)\n"
        "  --retry-delay SECONDS   first backoff delay, doubled per attempt (1)\n"
        "  --stall-timeout SECONDS a transfer with no byte for this long fails (30)\n"
        "  --connect-timeout SECONDS  (15)\n"
        "  -h, --help; --version\n";

void ms_print_main_help(FILE *out)
{
	fprintf(out, "usage: mscli [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
	             "A fast, verifying client for ModelScope and Hugging Face hubs.\n\n"
	             "Commands:\n");
	for (size_t i = 0; ms_commands[i]; i++)
		fprintf(out, "  %-10s %s\n", ms_commands[i]->name, ms_commands[i]->summary);
	fprintf(out,
	        "\n%s\n"
	        "Run 'mscli COMMAND --help' for a command's options; 'man mscli' for the rest.\n"
	        "Exit codes: 0 ok, 1 other, 2 usage, 3 network, 4 integrity, 5 not found,\n"
	        "6 auth, 7 offline and not cached, 8 local storage.\n",
	        global_help);
}

void ms_print_cmd_help(const struct ms_cmd *cmd, FILE *out)
{
	const char *usage = cmd->usage ? cmd->usage : cmd->name;
	const char *rest = strchr(usage, '\n');

	/* the usage line, what the command does, then its own text and the global options */
	fprintf(out, "usage: mscli %.*s\n\n%c%s.\n%s\n%s",
	        rest ? (int)(rest - usage) : (int)strlen(usage), usage, toupper(cmd->summary[0]),
	        cmd->summary + 1, rest ? rest + 1 : "", global_help);
}

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

int ms_global_option(struct ms_global *g, int id, const char *arg, struct ms_error *err)
{
	double d = 0;
	int n = 0;

	switch (id) {
	case G_HUB:
		if (!strcmp(arg, "modelscope") || !strcmp(arg, "ms"))
			g->hub = MS_HUB_MODELSCOPE;
		else if (!strcmp(arg, "hf") || !strcmp(arg, "huggingface"))
			g->hub = MS_HUB_HF;
		else
			return ms_error_set(err, MS_EUSAGE,
			                    "--hub takes modelscope or hf, not '%s'", arg);
		return 0;
	case G_ENDPOINT:
		free(g->endpoint);
		g->endpoint = xstrdup(arg);
		return 0;
	case G_TOKEN:
		free(g->token);
		g->token = xstrdup(arg);
		ms_redact_add(arg);
		return 0;
	case G_CACHE_DIR:
		free(g->cache_dir);
		g->cache_dir = xstrdup(arg);
		return 0;
	case G_OFFLINE:
		g->offline = true;
		return 0;
	case G_JSON:
		g->json = true;
		return 0;
	case 'q':
		g->quiet = warnings_off = true;
		return 0;
	case 'v':
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
		g->stall_set = true;
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

int ms_cmd_parse(struct ms_global *g, const struct ms_cmd *cmd, void *state, int argc, char **argv,
                 int *optind_out, struct ms_error *err)
{
	size_t ng = MS_ARRAY_SIZE(global_options), nc = 0;
	struct option *all;
	char *shortopts;
	int c, ret = 0;

	while (cmd->longopts && cmd->longopts[nc].name)
		nc++;
	all = xcalloc(ng + nc + 1, sizeof(*all));
	memcpy(all, global_options, sizeof(global_options));
	if (nc)
		memcpy(all + ng, cmd->longopts, nc * sizeof(*all));
	/* ':' first: we report missing arguments ourselves; "+" stops at COMMAND */
	if (cmd->shortopts && cmd->shortopts[0] == '+')
		shortopts = xasprintf("+:" GLOBAL_SHORT "%s", cmd->shortopts + 1);
	else
		shortopts = xasprintf(":" GLOBAL_SHORT "%s", cmd->shortopts ? cmd->shortopts : "");
	optind = 0; /* glibc: 0 resets getopt's internal state between argument vectors */
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		if (c == 'h') {
			if (cmd->exec)
				ms_print_cmd_help(cmd, stdout);
			ret = 1; /* handled: exit 0 */
		} else if (c == G_VERSION) {
			ret = 2;
		} else if (c == '?' && !cmd->exec) {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "unknown option '%s' (see 'mscli --help')",
			                   argv[optind - 1]);
		} else if (c == '?') {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "%s: unknown option '%s' (see 'mscli %s --help')",
			                   cmd->name, argv[optind - 1], cmd->name);
		} else if (c == ':') {
			ret = ms_error_set(err, MS_EUSAGE, "%s%soption '%s' needs a value",
			                   cmd->exec ? cmd->name : "", cmd->exec ? ": " : "",
			                   argv[optind - 1]);
		} else if (c >= G_HUB || c == 'q' || c == 'v') {
			ret = ms_global_option(g, c, optarg, err);
		} else {
			ret = cmd->option ? cmd->option(state, c, optarg, err)
			                  : ms_error_set(err, MS_EUSAGE, "unknown option");
			/* a word with * ? or [ is no repo id: take it as one more value (moving
			 * optind past it is how getopt lets a program consume arguments) */
			while (!ret && cmd->option && cmd->more_values && cmd->more_values(c) &&
			       optind < argc && argv[optind][0] != '-' &&
			       strpbrk(argv[optind], "*?["))
				ret = cmd->option(state, c, argv[optind++], err);
		}
	}
	*optind_out = optind;
	free(all);
	free(shortopts);
	return ret;
}

void ms_info(const struct ms_global *g, const char *fmt, ...)
{
	va_list ap;

	if (g->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ms_warn(const char *fmt, ...)
{
	va_list ap;

	if (warnings_off)
		return;
	fputs("mscli: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* http://user:secret@host/: -v must not show the secret (curl sends it as Basic auth). */
static void redact_userinfo(const char *url)
{
	const char *p = strstr(url, "://"), *at, *slash, *colon;
	char *secret;

	if (!p)
		return;
	p += 3;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (!at)
		return;
	colon = memchr(p, ':', (size_t)(at - p));
	if (colon)
		p = colon + 1;
	secret = xstrndup(p, (size_t)(at - p));
	ms_redact_add(secret);
	free(secret);
}

static char *endpoint_url(const char *v)
{
	/* A bare host means https, as modelscope's MODELSCOPE_DOMAIN does. */
	if (strstr(v, "://"))
		return xstrdup(v);
	return xasprintf("https://%s", v);
}

/* HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then $HF_TOKEN_PATH or $HF_HOME/token (§5.4). */
static const char *hf_token(char **buf)
{
	const char *v = ms_getenv("HF_TOKEN");
	char *path, *home;

	if (!v)
		v = ms_getenv("HUGGING_FACE_HUB_TOKEN");
	if (v) {
		*buf = xstrdup(v);
	} else {
		if (ms_getenv("HF_TOKEN_PATH")) {
			path = ms_expand_path(ms_getenv("HF_TOKEN_PATH"));
		} else {
			home = ms_hf_home();
			path = ms_path_join(home, "token");
			free(home);
		}
		if (ms_read_file(path, 4096, buf, NULL, NULL) != 0)
			*buf = NULL;
		free(path);
	}
	if (!*buf)
		return NULL;
	/* like huggingface_hub: drop CR/LF, strip blanks; empty means none */
	{
		char *r = *buf, *w = *buf;

		for (; *r; r++)
			if (*r != '\r' && *r != '\n')
				*w++ = *r;
		*w = '\0';
		while (w > *buf && (w[-1] == ' ' || w[-1] == '\t'))
			*--w = '\0';
		r = *buf + strspn(*buf, " \t");
		memmove(*buf, r, strlen(r) + 1);
	}
	if (!**buf) {
		free(*buf);
		*buf = NULL;
	}
	return *buf;
}

int ms_global_session(struct ms_global *g, enum ms_hub_kind hub, struct ms_session *s,
                      struct ms_error *err)
{
	char *endpoint = NULL, *token_buf = NULL;
	const char *token = g->token, *v;
	bool explicit_ep = true;

	if (hub == MS_HUB_MODELSCOPE) {
		if (g->endpoint)
			endpoint = endpoint_url(g->endpoint);
		else if ((v = ms_getenv("MODELSCOPE_ENDPOINT")) != NULL)
			endpoint = endpoint_url(v);
		else if ((v = ms_getenv("MODELSCOPE_DOMAIN")) != NULL)
			endpoint = endpoint_url(v);
		else {
			endpoint = xstrdup(ms_modelscope_default_endpoint());
			explicit_ep = false;
		}
		if (!token)
			token = ms_getenv("MODELSCOPE_API_TOKEN");
	} else {
		if (g->endpoint)
			endpoint = endpoint_url(g->endpoint);
		else if ((v = ms_getenv("HF_ENDPOINT")) != NULL)
			endpoint = endpoint_url(v);
		else
			endpoint = xstrdup("https://huggingface.co");
		/* HF_HUB_DISABLE_IMPLICIT_TOKEN: only a token given on the command line */
		if (!token && !ms_env_true("HF_HUB_DISABLE_IMPLICIT_TOKEN"))
			token = hf_token(&token_buf);
		if (!g->stall_set && (v = ms_getenv("HF_HUB_DOWNLOAD_TIMEOUT")) != NULL) {
			double t;

			if (ms_parse_seconds(v, &t) == 0 && t >= 1)
				g->net.stall_timeout = (long)t;
		}
	}
	if (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)) {
		ms_error_set(err, MS_EUSAGE, "endpoint '%s' is not an http(s) URL", endpoint);
		free(endpoint);
		return MS_EUSAGE;
	}
	if (token)
		ms_redact_add(token);
	redact_userinfo(endpoint);
	ms_session_init(s, hub, endpoint, explicit_ep, token, &g->net);
	free(endpoint);
	free(token_buf);
	return 0;
}
