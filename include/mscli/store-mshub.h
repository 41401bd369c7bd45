/*
 * The layout modelscope_hub (modelscope >= 1.38: `ms download`, `ms-hub download`)
 * writes, which mscli reads and manages but does not write (store-mshub.c):
 *
 *   B/{models|datasets}/<owner>--<name>/snapshots/<revision as given>/<path>
 *   B/.lock/<type>_<owner>___<name>_<path, '/' -> "___", '.' -> '_'>.lock
 *
 * B is $MODELSCOPE_CACHE, else ~/.cache/modelscope (no /hub).  No hashes are recorded.
 */
#ifndef MSCLI_STORE_MSHUB_H
#define MSCLI_STORE_MSHUB_H

#include "hub.h"
#include "store.h"

/* The repo's folder at root: the cache commands' ops only (stat, check_list, remove,
 * prune_partials). */
struct ms_store *ms_store_mshub_new(const char *root, const struct ms_repo *repo);
/* Every <owner>--<name> folder with a snapshots/ directory below root, for hub. */
int ms_store_mshub_walk(const struct ms_hub *hub, const char *root,
                        int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
                        struct ms_error *err);
/* The folder name "<owner>--<name>" is of a repo in this layout (for the other walk). */
bool ms_store_mshub_is_repo_dir(const char *type_dir, const char *name);

#endif
