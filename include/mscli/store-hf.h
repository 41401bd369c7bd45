/* Shared by the two Hugging Face layouts: store-hf.c (the cache) and store-localdir.c. */
#ifndef MSCLI_STORE_HF_H
#define MSCLI_STORE_HF_H

#include "repo.h"

/*
 * Partials are <name>.mscli.incomplete, not huggingface_hub's "<name>.incomplete":
 * huggingface_hub <= 1.17 takes a full-length file of that name as done, and a
 * ranged partial is allocated to full length.
 */
#define MS_HF_PARTIAL_SUFFIX ".mscli.incomplete"
#define MS_HF_RESUME_SUFFIX  ".mscli-resume"

/* dir/CACHEDIR.TAG (dir created), as huggingface_hub writes it. */
int ms_hf_cachedir_tag(const char *dir, struct ms_error *err);
/* dir/trees/<commit>.json: 0 with out filled, -1 when absent or not usable. */
int ms_hf_tree_read(const char *dir, const char *commit, struct ms_listing *out);
/* The whole tree, atomically (nothing when l comes from HEADs, not a tree). */
int ms_hf_tree_write(const char *dir, const struct ms_listing *l, struct ms_error *err);
/* The regular files below top/rel (links followed); a link into blobs/ names the etag. */
void ms_hf_walk_files(const char *top, const char *rel, struct ms_listing *out);

#endif
