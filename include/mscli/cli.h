/*
 * The command line: the one table of commands (cmd.c), each command's
 * options written once (name, value, help, completion), from which the
 * parser, --help and the shell completions are made; and the set-up a
 * command asks for in its table entry (git's RUN_SETUP, tmux's argument
 * bounds), done before it runs.
 */
#ifndef MSCLI_CLI_H
#define MSCLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "hub.h"
#include "version.h"

/* Settings shared by every command (global options and environment). */
struct ms_global {
	const struct ms_hub *hub; /* --hub, else MSCLI_HUB; NULL when neither */
	bool hub_given;
	char *endpoint;  /* --endpoint */
	char *token;     /* --token */
	char *cache_dir; /* --cache-dir */
	char *cacert;    /* --cacert (net.ca_file points here) */
	bool offline;
	bool json;
	bool quiet;
	bool verbose;
	int progress; /* -1 auto (stderr is a tty), 0 off, 1 forced */
	struct ms_net_opts net;
	bool stall_given; /* --stall-timeout given: HF_HUB_DOWNLOAD_TIMEOUT does not apply */
};

enum ms_opt_flags {
	MS_OPT_VALUE = 1 << 0,  /* takes a value */
	MS_OPT_HIDDEN = 1 << 1, /* an old or foreign spelling: accepted, not shown */
	MS_OPT_MORE = 1 << 2,   /* later words with * ? [ are more values (argparse nargs='+') */
};

enum ms_complete {
	MS_COMPLETE_NONE = 0,
	MS_COMPLETE_WORDS, /* the words in values */
	MS_COMPLETE_FILE,
	MS_COMPLETE_DIR,
	MS_COMPLETE_HUB,    /* the hub registry's names */
	MS_COMPLETE_CACHED, /* the ids of the cached repos (a directory walk, no hashing) */
};

struct ms_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0 when none */
	int id;
	unsigned flags;
	const char *arg;  /* the value's name in help ("GLOB") */
	const char *help; /* '\n' continues on the next line */
	enum ms_complete complete;
	const char *values; /* MS_COMPLETE_WORDS: space-separated */
};

/* Options several commands share; handled by cmd.c into struct ms_ctx. */
enum {
	MS_OPT_ID_TYPE = 900,
	MS_OPT_ID_REVISION,
};
#define MS_OPTS_REPO_TYPE                                                                   \
	{"type",                                                                            \
	 0,                                                                                 \
	 MS_OPT_ID_TYPE,                                                                    \
	 MS_OPT_VALUE,                                                                      \
	 "model|dataset",                                                                   \
	 "repo type (default model)",                                                       \
	 MS_COMPLETE_WORDS,                                                                 \
	 "model dataset"},                                                                  \
	        {"repo-type", 0,    MS_OPT_ID_TYPE,    MS_OPT_VALUE | MS_OPT_HIDDEN,        \
	         "TYPE",      NULL, MS_COMPLETE_WORDS, "model dataset"},                    \
	{                                                                                   \
		"repo_type", 0, MS_OPT_ID_TYPE, MS_OPT_VALUE | MS_OPT_HIDDEN, "TYPE", NULL, \
		        MS_COMPLETE_WORDS, "model dataset"                                  \
	}
#define MS_OPTS_REVISION                                                                \
	{                                                                               \
		"revision", 0, MS_OPT_ID_REVISION, MS_OPT_VALUE, "REV",                 \
		        "branch, tag or commit (ModelScope: master; HF: main)", 0, NULL \
	}

/* Set-up a command asks for in its table entry; done in this order before exec. */
enum ms_setup {
	MS_SETUP_REPO = 1 << 0,    /* REPO: the first argument (or the command's repo_arg) */
	MS_SETUP_SESSION = 1 << 1, /* a session with REPO's hub (or --hub's) */
	MS_SETUP_CACHE = 1 << 2,   /* the cache root of that hub, absolute */
};

/* What a command runs with. */
struct ms_ctx {
	struct ms_global *g;
	const struct ms_cmd *cmd;
	const char *parent;   /* a nested verb's command ("cache"), else NULL */
	char cmd_name[64];    /* how messages name it: "download", "cache rm" */
	int type;             /* --type: enum ms_repo_type, or -1 */
	const char *revision; /* --revision, or NULL */
	/* MS_SETUP_REPO */
	const char *repo_spec; /* REPO as given */
	struct ms_repo repo;
	const char *rev; /* --revision, else REPO's, else the hub's default */
	/* MS_SETUP_SESSION */
	const struct ms_hub *hub;
	struct ms_session sess;
	bool have_sess;
	/* MS_SETUP_CACHE; NULL when no home gives one (ms_ctx_need_cache) */
	char *cache_root;
	/* the arguments left for the command */
	int argc;
	char **argv;
	/* --json: the command has written its final "done" object */
	bool reported;
};

struct ms_cmd {
	const char *name;
	const char *summary; /* one line, lower case, no full stop */
	const char *usage;   /* the usage line after "mscli " */
	const char *about;   /* paragraphs between the summary and the options */
	const char *examples;
	const struct ms_opt *opts; /* terminated by an entry with name NULL */
	unsigned setup;            /* enum ms_setup */
	int min_args, max_args;    /* positionals after set-up took REPO; max -1: any */
	enum ms_complete args;     /* what the positionals complete to */
	size_t state_size;
	/* One command option (optarg in arg): 0 or MS_EUSAGE. */
	int (*option)(void *state, int id, const char *arg, struct ms_error *err);
	/* The repo given by an option instead of the first argument, or NULL; *type is set
	 * when that option names the type too. */
	const char *(*repo_arg)(const void *state, int *type);
	int (*exec)(struct ms_ctx *ctx, void *state, struct ms_error *err);
	void (*release)(void *state);
	/* Nested verbs (cache ls, cache rm ...): NULL-terminated; exec is then unused. */
	const struct ms_cmd *const *verbs;
};

extern const struct ms_cmd ms_cmd_download;
extern const struct ms_cmd ms_cmd_cache;
extern const struct ms_cmd ms_cmd_search;
extern const struct ms_cmd ms_cmd_info;
extern const struct ms_cmd ms_cmd_upload, ms_cmd_login, ms_cmd_logout, ms_cmd_whoami;

/* 0 when the cache root is set up, else the usage error that says why not (no home). */
int ms_ctx_need_cache(const struct ms_ctx *ctx, struct ms_error *err);
/* --offline, or the hub's own offline variable (HF_HUB_OFFLINE), is in force. */
bool ms_ctx_offline(const struct ms_ctx *ctx);

/* The one table of commands (NULL-terminated), in cmd.c. */
extern const struct ms_cmd *const ms_commands[];
const struct ms_cmd *ms_cmd_find(const struct ms_cmd *const *table, const char *name);

/* The word a mistyped one ("downlaod", "inculde") was meant to be: each candidate is
 * tried, best is the nearest within two edits (or one the word begins), else NULL. */
struct ms_nearest {
	const char *word, *best;
	size_t best_d;
};
void ms_nearest_init(struct ms_nearest *n, const char *word);
void ms_nearest_try(struct ms_nearest *n, const char *candidate);

void ms_global_init(struct ms_global *g);
void ms_global_release(struct ms_global *g);

/*
 * Run argv (argv[0] is "mscli"): global options, the command and its options,
 * its set-up, the command.  Returns the exit code; the only place errors
 * become exit codes.
 */
int ms_cli_main(int argc, char **argv);

/* `mscli __complete SHELL WORDS...`: the candidates for the last word (complete.c). */
int ms_complete(int argc, char **argv);
/* The global options table (for help and completion). */
extern const struct ms_opt ms_global_opts[];
void ms_print_main_help(FILE *out);
void ms_print_cmd_help(const struct ms_cmd *cmd, const char *parent, FILE *out);

/* Inside the command layer: options.c and setup.c, for cmd.c. */
enum { MS_PARSED = 0, MS_SHOW_HELP = 1, MS_SHOW_VERSION = 2 };
/* Global and cmd's options (cmd NULL: the globals before COMMAND). */
int ms_cli_parse(struct ms_ctx *ctx, const struct ms_cmd *cmd, void *state, int argc, char **argv,
                 int *first_arg, struct ms_error *err);
/* The set-up cmd's entry asks for (enum ms_setup), and the argument bounds. */
int ms_cli_setup(struct ms_ctx *ctx, const void *state, struct ms_error *err);
void ms_ctx_release(struct ms_ctx *ctx);

#endif
