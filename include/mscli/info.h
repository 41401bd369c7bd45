/*
 * The info operation: what a repo holds at a revision and what its hub
 * tells of it.  The file list is the download operation's plan, made as
 * `download --dry-run` makes it, so the two always agree.  It prints nothing.
 */
#ifndef MSCLI_INFO_H
#define MSCLI_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "download.h"
#include "hub.h"

struct ms_info {
	struct ms_download plan; /* plan.sel: every file, in the hub's order */
	struct ms_repo_meta meta;
	const char *commit; /* the revision's commit when known (the listing's, else the hub's) */
	size_t nfiles;
	uint64_t size;
};

/*
 * List repo at rev and ask its hub about it.  Not found, refused and the
 * hints that go with them are download's (type_given: --type was given).
 */
int ms_info_load(struct ms_info *in, struct ms_session *s, const struct ms_repo *repo,
                 const char *rev, const char *cache_root, bool type_given, struct ms_error *err);
void ms_info_release(struct ms_info *in);

#endif
