/* Command table, global options and what a command gets to run with. */
#ifndef MSCLI_CLI_H
#define MSCLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "hub.h"

#define MSCLI_VERSION "0.1.0"

/* Settings shared by every command (global options and environment). */
struct ms_global {
	int hub;         /* enum ms_hub_kind, or -1 when not chosen */
	char *endpoint;  /* --endpoint */
	char *token;     /* --token */
	char *cache_dir; /* --cache-dir */
	bool offline;
	bool json;
	bool quiet;
	bool verbose;
	int progress; /* -1 auto (stderr is a tty), 0 off, 1 forced */
	struct ms_net_opts net;
	bool stall_set; /* --stall-timeout given: HF_HUB_DOWNLOAD_TIMEOUT does not apply */
};

struct ms_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* full --help text after the "usage:" line */
	const char *shortopts;
	const struct option *longopts;
	/* Called for each command option; arg is optarg.  0 or MS_EUSAGE. */
	int (*option)(void *state, int id, const char *arg, struct ms_error *err);
	/* Optional: option id takes further values, as argparse's nargs='+' does ("--include
	 * '*.json' '*.md'"): the words after its value that look like globs. */
	bool (*more_values)(int id);
	size_t state_size;
	int (*exec)(struct ms_global *g, void *state, int argc, char **argv, struct ms_error *err);
	void (*release)(void *state);
};

extern const struct ms_cmd ms_cmd_download;

/* The one table of commands (NULL-terminated), in cmd.c. */
extern const struct ms_cmd *const ms_commands[];
const struct ms_cmd *ms_cmd_find(const char *name);

/* Parse global and command options together (globals go before or after COMMAND). */
int ms_cmd_parse(struct ms_global *g, const struct ms_cmd *cmd, void *state, int argc, char **argv,
                 int *optind_out, struct ms_error *err);
int ms_global_option(struct ms_global *g, int id, const char *arg, struct ms_error *err);
void ms_print_main_help(FILE *out);
void ms_print_cmd_help(const struct ms_cmd *cmd, FILE *out);

/* Session settings for g's hub: endpoint and token from options, env, files. */
int ms_global_session(struct ms_global *g, enum ms_hub_kind hub, struct ms_session *s,
                      struct ms_error *err);
/* Info messages (stderr, silenced by -q). */
void ms_info(const struct ms_global *g, const char *fmt, ...) MS_PRINTF(2, 3);
void ms_warn(const char *fmt, ...) MS_PRINTF(1, 2);

#endif
