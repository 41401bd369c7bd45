/*
 * Shell completion from the command table: `mscli __complete SHELL WORD...`
 * prints the candidates for the last WORD (the one being completed), so the
 * bash, zsh and fish scripts in completions/ stay a few lines each and can
 * never disagree with the options the binary has.
 *
 * Output: one candidate per line ("word", or "word<TAB>description" for zsh
 * and fish), or a directive for the shell to complete a path itself:
 *   :files<TAB>VALUE<TAB>PREFIX    :dirs<TAB>VALUE<TAB>PREFIX
 * where PREFIX ("--local-dir=") goes back in front of what the shell finds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/env.h"

enum shell { SH_BASH, SH_ZSH, SH_FISH };

struct completion {
	enum shell shell;
	const char *cur; /* what is being completed */
};

/* The first line of help text (descriptions are one line). */
static void first_line(const char *s, char *out, size_t cap)
{
	size_t n = s ? strcspn(s, "\n") : 0;

	snprintf(out, cap, "%.*s", (int)n, s ? s : "");
}

static void candidate(const struct completion *c, const char *prefix, const char *word,
                      const char *help)
{
	char desc[160];

	if (strncmp(word, c->cur + strlen(prefix), strlen(c->cur) - strlen(prefix)))
		return;
	first_line(help, desc, sizeof(desc));
	if (c->shell == SH_BASH || !desc[0]) {
		printf("%s%s\n", prefix, word);
	} else if (c->shell == SH_ZSH) {
		/* _describe splits at the first unescaped ':' */
		for (const char *p = prefix; *p; p++)
			printf("%s%c", *p == ':' ? "\\" : "", *p);
		for (const char *p = word; *p; p++)
			printf("%s%c", *p == ':' ? "\\" : "", *p);
		printf(":%s\n", desc);
	} else {
		printf("%s%s\t%s\n", prefix, word, desc);
	}
}

static const struct ms_opt *find_opt(const struct ms_opt *opts, const char *word)
{
	for (const struct ms_opt *o = opts; o && o->name; o++) {
		if (word[0] == '-' && word[1] == '-' && !strcmp(word + 2, o->name))
			return o;
		if (word[0] == '-' && word[1] && word[1] == o->short_name && !word[2])
			return o;
	}
	return NULL;
}

static const struct ms_opt *lookup(const struct ms_cmd *cmd, const struct ms_cmd *verb,
                                   const char *word)
{
	const struct ms_opt *o = find_opt(ms_global_opts, word);

	if (!o && verb)
		o = find_opt(verb->opts, word);
	if (!o && cmd)
		o = find_opt(cmd->opts, word);
	return o;
}

/* The value of option o; prefix is what stands before it in the word ("--opt="). */
static void complete_value(const struct completion *c, const struct ms_opt *o, const char *prefix)
{
	const char *value = c->cur + strlen(prefix);

	switch (o->complete) {
	case MS_COMPLETE_FILE:
	case MS_COMPLETE_DIR:
		printf(":%s\t%s\t%s\n", o->complete == MS_COMPLETE_DIR ? "dirs" : "files", value,
		       c->shell == SH_BASH ? "" : prefix);
		return;
	case MS_COMPLETE_HUB:
		for (size_t i = 0; ms_hubs[i]; i++)
			candidate(c, prefix, ms_hubs[i]->name, NULL);
		return;
	case MS_COMPLETE_WORDS: {
		char *words = xstrdup(o->values), *save = NULL;

		for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
			candidate(c, prefix, w, NULL);
		free(words);
		return;
	}
	default:
		return;
	}
}

static void complete_opts(const struct completion *c, const struct ms_opt *opts)
{
	char name[128];

	for (const struct ms_opt *o = opts; o && o->name; o++) {
		if (o->flags & MS_OPT_HIDDEN)
			continue;
		snprintf(name, sizeof(name), "--%s", o->name);
		candidate(c, "", name, o->help);
	}
}

static void complete_cmds(const struct completion *c, const struct ms_cmd *const *table,
                          bool with_help)
{
	for (size_t i = 0; table && table[i]; i++)
		candidate(c, "", table[i]->name, table[i]->summary);
	if (with_help)
		candidate(c, "", "help", "show a command's help");
}

/* What the words before the one being completed chose: --hub and --cache-dir. */
struct chosen {
	const struct ms_hub *hub;
	const char *cache_dir;
};

struct ids {
	const char *prefix; /* "hf:" when the word starts with one, else "" */
	char **v;
	size_t n, cap;
};

static int add_id(void *arg, const struct ms_repo *repo)
{
	struct ids *w = arg;

	ms_grow((void **)&w->v, &w->cap, w->n + 1, sizeof(*w->v));
	w->v[w->n++] = xasprintf("%s%s", w->prefix, repo->id);
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of the cached repos: a walk of each hub's cache directory, nothing read. */
static void complete_cached(const struct completion *c, const struct chosen *ch)
{
	struct ids w = {"", NULL, 0, 0};

	for (size_t i = 0; ms_hubs[i]; i++) {
		const struct ms_hub *h = ms_hubs[i];
		const char *prefix = "";
		char *root;
		struct ms_error e;

		/* "hf:" typed (zsh and fish keep it in the word): that hub's ids, prefixed */
		for (const char *const *p = h->prefixes; strchr(c->cur, ':') && p && *p; p++)
			if (!strncmp(c->cur, *p, strlen(*p)) && strlen(*p) > strlen(prefix))
				prefix = *p;
		if ((ch->hub && ch->hub != h) || !h->cache_walk ||
		    (strchr(c->cur, ':') && !*prefix))
			continue;
		w.prefix = prefix;
		root = ch->cache_dir ? ms_expand_path(ch->cache_dir) : h->default_cache();
		h->cache_walk(root, add_id, &w, &e);
		free(root);
		for (size_t k = 0; h->cache_layouts && h->cache_layouts[k]; k++) {
			const struct ms_cache_layout *l = h->cache_layouts[k];

			root = ch->cache_dir ? ms_expand_path(ch->cache_dir) : l->default_root();
			l->walk(root, add_id, &w, &e);
			free(root);
		}
	}
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), str_cmp);
	for (size_t i = 0; i < w.n; i++)
		if (!i || strcmp(w.v[i - 1], w.v[i])) /* an id in both hubs is offered once */
			candidate(c, "", w.v[i], NULL);
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
}

static void choose(struct chosen *ch, const struct ms_opt *o, const char *value)
{
	if (o->complete == MS_COMPLETE_HUB)
		ch->hub = ms_hub_find(value);
	else if (!strcmp(o->name, "cache-dir") || !strcmp(o->name, "cache_dir"))
		ch->cache_dir = value;
}

/* The npos-th positional argument of cmd (the first one, or any when there may be many). */
static void complete_args(const struct completion *c, const struct ms_cmd *cmd, int npos,
                          const struct chosen *ch)
{
	if (npos > 0 && cmd->max_args >= 0)
		return;
	if (cmd->args == MS_COMPLETE_CACHED)
		complete_cached(c, ch);
	else if (cmd->args == MS_COMPLETE_FILE || cmd->args == MS_COMPLETE_DIR)
		printf(":%s\t%s\t\n", cmd->args == MS_COMPLETE_DIR ? "dirs" : "files", c->cur);
}

/*
 * bash splits "--opt=value" at '=' (COMP_WORDBREAKS): put such words back
 * together.  *after_eq: the word being completed followed a '='.
 */
static int join_words(int n, char **in, char **out, bool *after_eq)
{
	int m = 0;

	*after_eq = false;
	for (int i = 0; i < n; i++) {
		if (m && !strcmp(in[i], "=") && !strncmp(out[m - 1], "--", 2)) {
			char *joined = xasprintf("%s=%s", out[m - 1], i + 1 < n ? in[i + 1] : "");

			free(out[m - 1]);
			out[m - 1] = joined;
			*after_eq = i + 1 >= n - 1;
			i++;
			continue;
		}
		out[m++] = xstrdup(in[i]);
		*after_eq = false;
	}
	return m;
}

/* What the words before the one being completed say. */
struct context {
	const struct ms_cmd *cmd, *verb;
	bool help_cmd, dashdash;
	int npos; /* positional arguments after the command (and verb) */
	struct chosen ch;
};

static void read_context(char **words, int n, struct context *x)
{
	const struct ms_opt *o;

	for (int i = 0; i < n; i++) {
		const char *w = words[i];

		if (!strcmp(w, "--")) {
			x->dashdash = true;
		} else if (w[0] == '-' && w[1] && !x->dashdash) {
			if (!strchr(w, '=') && (o = lookup(x->cmd, x->verb, w)) &&
			    (o->flags & MS_OPT_VALUE) && i + 1 < n) {
				choose(&x->ch, o, words[i + 1]);
				i++; /* its value */
			}
		} else if (!x->cmd && !x->help_cmd) {
			x->help_cmd = !strcmp(w, "help");
			x->cmd = ms_cmd_find(ms_commands, w);
		} else if (x->cmd && x->cmd->verbs && !x->verb) {
			x->verb = ms_cmd_find(x->cmd->verbs, w);
		} else {
			x->npos++;
		}
	}
}

/* "--opt=<TAB>": bash completes only what follows '=' */
static void complete_after_eq(const struct completion *c, const struct context *x, const char *eq,
                              bool after_eq)
{
	char *name = xstrndup(c->cur, (size_t)(eq - c->cur)), *prefix;
	const struct ms_opt *o = lookup(x->cmd, x->verb, name);
	struct completion v = *c;

	prefix = xstrndup(c->cur, (size_t)(eq - c->cur) + 1);
	if (o && (o->flags & MS_OPT_VALUE)) {
		if (c->shell == SH_BASH || after_eq) {
			/* bash replaces only the part after '=' */
			v.cur = eq + 1;
			complete_value(&v, o, "");
		} else {
			complete_value(c, o, prefix);
		}
	}
	free(name);
	free(prefix);
}

int ms_complete(int argc, char **argv)
{
	struct completion c = {.shell = SH_BASH};
	struct context x = {0};
	bool after_eq = false;
	char **words;
	int n;
	const struct ms_opt *o;
	const char *eq;

	if (argc < 1)
		return 2;
	if (!strcmp(argv[0], "zsh"))
		c.shell = SH_ZSH;
	else if (!strcmp(argv[0], "fish"))
		c.shell = SH_FISH;
	words = xcalloc((size_t)argc + 1, sizeof(*words));
	n = join_words(argc - 1, argv + 1, words, &after_eq);
	if (n == 0)
		words[n++] = xstrdup("");
	c.cur = words[n - 1];
	read_context(words, n - 1, &x);
	/* the value of the option before it ("--type <TAB>") */
	if (n >= 2 && words[n - 2][0] == '-' && !strchr(words[n - 2], '=') &&
	    (o = lookup(x.cmd, x.verb, words[n - 2])) && (o->flags & MS_OPT_VALUE)) {
		complete_value(&c, o, "");
	} else if (!strncmp(c.cur, "--", 2) && (eq = strchr(c.cur, '=')) != NULL) {
		complete_after_eq(&c, &x, eq, after_eq);
	} else if (c.cur[0] == '-' && !x.dashdash) {
		if (x.verb)
			complete_opts(&c, x.verb->opts);
		else if (x.cmd)
			complete_opts(&c, x.cmd->opts);
		complete_opts(&c, ms_global_opts);
	} else if (!x.cmd && !x.help_cmd) {
		complete_cmds(&c, ms_commands, true);
	} else if (x.help_cmd && !x.cmd) {
		complete_cmds(&c, ms_commands, false);
	} else if (x.cmd && x.cmd->verbs && !x.verb) {
		complete_cmds(&c, x.cmd->verbs, false);
	} else if (x.cmd) {
		complete_args(&c, x.verb ? x.verb : x.cmd, x.npos, &x.ch);
	}
	for (int i = 0; i < n; i++)
		free(words[i]);
	free(words);
	return fflush(stdout) == 0 ? 0 : 8;
}
