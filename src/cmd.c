/*
 * The one table of commands, and running one: its options parsed
 * (options.c), its nested verb found, the set-up its entry asks for done
 * (setup.c), `mscli help`; and the one place where errors become exit codes.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
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
	ctx->parent = parent;
	/* a nested verb is named with its parent, as its help does: "mscli cache rm" */
	snprintf(ctx->cmd_name, sizeof(ctx->cmd_name), "%s%s%s", parent ? parent : "",
	         parent ? " " : "", cmd->name);
	ret = ms_cli_parse(ctx, cmd, state, argc, argv, &rest, err);
	if (ret == MS_SHOW_HELP || ret == MS_SHOW_VERSION) {
		if (ret == MS_SHOW_HELP)
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
	ret = ms_cli_setup(ctx, state, err);
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

void ms_nearest_init(struct ms_nearest *n, const char *word)
{
	n->word = word;
	n->best = NULL;
	n->best_d = 3; /* more than two edits away is another word */
}

void ms_nearest_try(struct ms_nearest *n, const char *candidate)
{
	size_t d = distance(n->word, candidate), len = strlen(n->word);

	if (d < n->best_d || (len >= 3 && !strncmp(candidate, n->word, len))) {
		n->best_d = d < n->best_d ? d : n->best_d;
		n->best = candidate;
	}
}

/* A mistyped command ("downlaod") or verb ("cache lss"): the one it was meant to be, or
 * NULL. */
static const char *nearest_command(const struct ms_cmd *const *table, const char *word)
{
	struct ms_nearest n;

	ms_nearest_init(&n, word);
	for (size_t i = 0; table && table[i]; i++)
		ms_nearest_try(&n, table[i]->name);
	return n.best;
}

static int verb_usage(const struct ms_cmd *cmd, const char *name, struct ms_error *err)
{
	const char *near;

	if (!name)
		return ms_error_set(err, MS_EUSAGE, "%s: which command? (see 'mscli %s --help')",
		                    cmd->name, cmd->name);
	near = nearest_command(cmd->verbs, name);
	return ms_error_set(err, MS_EUSAGE,
	                    "'%s' is not an mscli %s command%s%s%s (see 'mscli %s --help')", name,
	                    cmd->name, near ? "; did you mean '" : "", near ? near : "",
	                    near ? "'?" : "", cmd->name);
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

static const struct ms_error *unknown_command(const char *word, struct ms_error *err)
{
	const char *near = nearest_command(ms_commands, word);

	ms_error_set(err, MS_EUSAGE, "'%s' is not an mscli command%s%s%s (see 'mscli --help')",
	             word, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	return err;
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
	if (!cmd)
		return fail(unknown_command(argv[0], err));
	if (verb)
		ms_print_cmd_help(verb, cmd->name, stdout);
	else
		ms_print_cmd_help(cmd, NULL, stdout);
	return 0;
}

/* Standard output is a pipe whose reader has gone (the write failed with EPIPE, or the
 * pipe reports an error to a writer: the failed write may not have been the last one). */
static bool stdout_reader_gone(int e)
{
	struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};

	if (e == EPIPE)
		return true;
	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
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
	ret = ms_cli_parse(&ctx, NULL, NULL, argc, argv, &first, &err);
	if (ret == MS_SHOW_HELP) {
		/* "mscli --help download" is download's help, as git does */
		ret = help(argc - first, argv + first, true, &err);
	} else if (ret == MS_SHOW_VERSION) {
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
		ret = fail(unknown_command(argv[first], &err));
	} else {
		ret = run(&ctx, cmd, argc - first, argv + first, &err);
	}
	/* --json (anywhere): every failure ends with a "done" object, usage errors too */
	if (ret && json_wanted(argc, argv) && !ctx.reported)
		json_failure(&ctx, &err);
	ms_ctx_release(&ctx);
	ms_global_release(&g);
	/* stdout was the result: not writing it (a full disk, /dev/full) is a storage error,
	 * but a reader that had enough (| head) is not: as ms_copy_out says */
	if ((fflush(stdout) != 0 || ferror(stdout)) && ret == 0 && !stdout_reader_gone(errno)) {
		ms_ui_error("cannot write to standard output: %s", strerror(errno));
		ret = 8;
	}
	return ret;
}
