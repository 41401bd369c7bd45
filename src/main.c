/* Global options, dispatch, and the one place errors become exit codes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/clock.h"
#include "mscli/env.h"
#include "mscli/log.h"

static void on_signal(int sig)
{
	(void)sig;
	ms_set_interrupted();
}

static void log_to_stderr(const char *line)
{
	fprintf(stderr, "mscli: %s\n", line);
}

static void print_version(void)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	printf("mscli %s (libcurl %s, %s, cJSON %s)\n", MSCLI_VERSION, cv->version,
	       OpenSSL_version(OPENSSL_VERSION), cJSON_Version());
}

static void global_init(struct ms_global *g)
{
	memset(g, 0, sizeof(*g));
	g->hub = -1;
	g->progress = -1;
	ms_net_opts_init(&g->net);
	if (ms_env_true("MSCLI_OFFLINE"))
		g->offline = true;
}

static void global_release(struct ms_global *g)
{
	free(g->endpoint);
	free(g->token);
	free(g->cache_dir);
}

static int fail(const struct ms_error *err)
{
	if (err->msg[0])
		fprintf(stderr, "mscli: error: %s\n", err->msg);
	return ms_err_exit_code(err->code);
}

int main(int argc, char **argv)
{
	struct ms_global g;
	struct ms_error err;
	const struct ms_cmd *cmd;
	struct sigaction sa;
	void *state = NULL;
	int ret, first, rest;

	global_init(&g);
	ms_error_clear(&err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Global options before COMMAND: stop at the first non-option ("+"). */
	{
		static const struct ms_cmd none = {.name = "mscli", .shortopts = "+"};

		ret = ms_cmd_parse(&g, &none, NULL, argc, argv, &first, &err);
	}
	if (ret == 1) {
		/* "mscli --help download" is download's help, as git does */
		cmd = first < argc ? ms_cmd_find(argv[first]) : NULL;
		if (cmd)
			ms_print_cmd_help(cmd, stdout);
		else
			ms_print_main_help(stdout);
		ret = 0;
		goto out;
	}
	if (ret == 2) {
		print_version();
		ret = 0;
		goto out;
	}
	if (ret) {
		ret = fail(&err);
		goto out;
	}
	if (first >= argc) {
		ms_print_main_help(stderr);
		ret = 2;
		goto out;
	}
	if (!strcmp(argv[first], "help")) {
		cmd = first + 1 < argc ? ms_cmd_find(argv[first + 1]) : NULL;
		ret = 0;
		if (cmd) {
			ms_print_cmd_help(cmd, stdout);
		} else if (first + 1 < argc) {
			ms_error_set(&err, MS_EUSAGE,
			             "'%s' is not an mscli command (see 'mscli --help')",
			             argv[first + 1]);
			ret = fail(&err);
		} else {
			ms_print_main_help(stdout);
		}
		goto out;
	}
	cmd = ms_cmd_find(argv[first]);
	if (!cmd) {
		ms_error_set(&err, MS_EUSAGE, "'%s' is not an mscli command (see 'mscli --help')",
		             argv[first]);
		ret = fail(&err);
		goto out;
	}
	state = xcalloc(1, cmd->state_size ? cmd->state_size : 1);
	ret = ms_cmd_parse(&g, cmd, state, argc - first, argv + first, &rest, &err);
	if (ret == 1 || ret == 2) {
		if (ret == 2)
			print_version();
		ret = 0;
		goto out;
	}
	if (ret) {
		ret = fail(&err);
		goto out;
	}
	if (g.verbose)
		ms_log_set(log_to_stderr);
	if (g.progress < 0)
		g.progress = isatty(STDERR_FILENO) && !g.quiet;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmd->exec(&g, state, argc - first - rest, argv + first + rest, &err);
	ret = ret ? fail(&err) : 0;
	curl_global_cleanup();
out:
	if (state && cmd && cmd->release)
		cmd->release(state);
	free(state);
	global_release(&g);
	if (fflush(stdout) != 0 && ret == 0) {
		fprintf(stderr, "mscli: error: cannot write to standard output\n");
		ret = 8;
	}
	return ret;
}
