/*
 * The pickles of the ModelScope clients: .msc (index) and .mdl (id) of the
 * cache, and the cookie jar that holds a login (credentials/cookies).
 */
#ifndef MSCLI_PICKLE_H
#define MSCLI_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "strbuf.h"

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

/*
 * Protocol 2 pickle of a requests.cookies.RequestsCookieJar holding one
 * host-only cookie name=value for host, path "/", expiring at expires (epoch
 * s); now is the jar's _now.  Both ModelScope client generations load it.
 */
void ms_pickle_encode_cookie_jar(const char *host, const char *name, const char *value,
                                 int64_t expires, int64_t now, struct ms_buf *out);
/*
 * The value (allocated) and expiry (-1: none) of the first cookie called name
 * in a pickled RequestsCookieJar, read without running anything: only the
 * jar's own three classes may appear.  0 found, 1 not in the jar, -1 not a
 * cookie jar this reads.
 */
int ms_pickle_decode_cookie(const void *data, size_t len, const char *name, char **value,
                            int64_t *expires);

#endif
