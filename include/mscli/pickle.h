#include "index.h"
#include "strbuf.h"
/* The two tiny pickles of the ModelScope cache: .msc (index) and .mdl (id). */
#ifndef MSCLI_PICKLE_H
#define MSCLI_PICKLE_H

#include <stddef.h>

struct ms_msc_entry {
	char *path;
	char *revision; /* the file's commit id from the listing; may be NULL */
};

struct ms_msc {
	struct ms_msc_entry *v;
	size_t n, cap;
	struct ms_index *index; /* by path, for ms_msc_find */
};

/* Replace (or add) the entry for path; entries keep their order. */
void ms_msc_set(struct ms_msc *m, const char *path, const char *revision);
struct ms_msc_entry *ms_msc_find(const struct ms_msc *m, const char *path);
/* Forget path's entry (the others keep their order). */
void ms_msc_remove(struct ms_msc *m, const char *path);
void ms_msc_release(struct ms_msc *m);

/* Protocol 2 pickle of [{'Path': p, 'Revision': r}, ...], loadable by pickle.loads. */
void ms_pickle_encode_msc(const struct ms_msc *m, struct ms_buf *out);
/* Protocol 2 pickle of {'id': id}. */
void ms_pickle_encode_mdl(const char *id, struct ms_buf *out);
/*
 * Decode what CPython's pickle.dump writes for a list of dicts of strings
 * (protocols 2 to 5: frames, memo, SETITEMS/APPENDS batches).  Entries
 * without a string 'Path' are skipped.  Returns 0 or -1 on anything else.
 */
int ms_pickle_decode_msc(const void *data, size_t len, struct ms_msc *out);

#endif
