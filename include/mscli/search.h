/*
 * The search operation: a query sent to the hub (the author and filters are
 * the hub's to apply), its pages followed until the limit is reached or the
 * hub has no more.  It prints nothing.
 */
#ifndef MSCLI_SEARCH_H
#define MSCLI_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "hub.h"

#define MS_SEARCH_DEFAULT_LIMIT 20
#define MS_SEARCH_MAX_LIMIT     100000

struct ms_search_results {
	struct ms_meta_list list; /* at most the query's limit, in the hub's order */
	size_t pages;             /* pages asked for */
	bool capped;              /* the hub had more than it would list */
};

/* "downloads", "likes", "updated" (also the hubs' spellings "last_modified",
 * "lastModified") -> 0 with *out set; -1 otherwise. */
int ms_search_sort_parse(const char *s, enum ms_search_sort *out);

/* Run q on the session's hub.  MS_EUSAGE when the hub cannot take a filter. */
int ms_search_run(struct ms_session *s, const struct ms_search_query *q,
                  struct ms_search_results *out, struct ms_error *err);
void ms_search_results_release(struct ms_search_results *r);

#endif
