/*
 * Which files of a listing a command is about: the FILE arguments (a FILE
 * ending in '/' is a folder), else --include/--exclude; then the checks that
 * must pass before anything is written (safe paths, names the layout keeps
 * for itself, no path that is both a file and a folder).  Pure: no I/O.
 */
#ifndef MSCLI_SELECT_H
#define MSCLI_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "filter.h"
#include "repo.h"

struct ms_selection {
	struct ms_file **files; /* into the listing, in listing order after named FILEs */
	size_t n;
	char **missing; /* named FILEs the listing does not have (borrowed from the arguments) */
	size_t nmissing;
};

/*
 * Select from l.  A FILE the listing lacks is MS_ENOTFOUND naming it (and
 * saying when it is a folder named without its '/'); folders that match
 * nothing are MS_ENOTFOUND too (repo and rev name them in messages).
 */
int ms_select(const struct ms_listing *l, char *const *files, size_t nfiles,
              const struct ms_filter *filter, const struct ms_repo *repo, const char *rev,
              struct ms_selection *out, struct ms_error *err);

/* Why path cannot be stored, or NULL (a store's reserved names). */
typedef const char *(*ms_reserved_fn)(void *arg, const char *path);

/* Every selected path is safe and storable: else MS_EUNSAFE naming it.  repo_id for messages. */
int ms_select_check(const struct ms_selection *s, ms_reserved_fn reserved, void *arg,
                    const char *repo_id, struct ms_error *err);

/* How many selected files the hub gave no hash for (first: the first of them). */
size_t ms_select_unhashed(const struct ms_selection *s, const struct ms_file **first);

void ms_selection_release(struct ms_selection *s);

#endif
