/* What the files of `mscli cache` share: its verbs, and how a verb finds its caches. */
#ifndef MSCLI_CMD_CACHE_H
#define MSCLI_CMD_CACHE_H

#include "cache.h"
#include "cli.h"

extern const struct ms_cmd ms_cmd_cache_ls, ms_cmd_cache_path, ms_cmd_cache_verify, ms_cmd_cache_rm,
        ms_cmd_cache_prune, ms_cmd_cache_export, ms_cmd_cache_import;

/* --hub (else MSCLI_HUB), --cache-dir and --type of the command line. */
int ms_cache_cmd_scope(const struct ms_ctx *ctx, struct ms_cache_scope *sc, struct ms_error *err);
/* The one cached repo spec names, and the revision: --revision, else the spec's "@rev". */
int ms_cache_cmd_find(const struct ms_ctx *ctx, const char *spec, struct ms_cache_repo *out,
                      char **rev, struct ms_error *err);
/* The same for every layout that holds the repo (the hub's own first). */
int ms_cache_cmd_find_all(const struct ms_ctx *ctx, const char *spec, struct ms_cache_list *out,
                          char **rev, struct ms_error *err);
/* "hf:org/name", "modelscope:datasets/o/n": a repo as the user can give it back (allocated). */
char *ms_cache_cmd_name(const struct ms_repo *repo);

#endif
