/* The search operation (search.h): pages of results until the limit. */
#include <stdlib.h>
#include <string.h>

#include "mscli/log.h"
#include "mscli/search.h"

/* A bound on pages, against a hub whose next page never ends. */
#define MAX_PAGES 10000

int ms_search_sort_parse(const char *s, enum ms_search_sort *out)
{
	static const struct {
		const char *name;
		enum ms_search_sort sort;
	} names[] = {
	        {"downloads", MS_SORT_DOWNLOADS},  {"likes", MS_SORT_LIKES},
	        {"updated", MS_SORT_UPDATED},      {"last_modified", MS_SORT_UPDATED},
	        {"lastModified", MS_SORT_UPDATED},
	};

	for (size_t i = 0; i < MS_ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i].name)) {
			*out = names[i].sort;
			return 0;
		}
	return -1;
}

/* Move the page's results to out, up to limit; the rest are dropped. */
static void take(struct ms_search_results *out, struct ms_search_page *page, size_t limit)
{
	for (size_t i = 0; i < page->results.n; i++) {
		if (out->list.n < limit)
			*ms_meta_list_add(&out->list) = page->results.items[i];
		else
			ms_repo_meta_release(&page->results.items[i]);
	}
	page->results.n = 0;
}

int ms_search_run(struct ms_session *s, const struct ms_search_query *q,
                  struct ms_search_results *out, struct ms_error *err)
{
	const struct ms_hub *hub = s->hub;
	char *cursor = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!hub->search)
		return ms_error_set(err, MS_EUSAGE, "%s has no search", hub->name);
	do {
		struct ms_search_page page = {0};
		size_t got;

		ms_verbose("searching %s, page %zu", hub->name, out->pages + 1);
		ret = hub->search(s, q, cursor, &page, err);
		got = page.results.n;
		if (!ret) {
			take(out, &page, q->limit);
			out->pages++;
			out->capped = page.capped && out->list.n < q->limit;
		}
		if (!ret && page.next && cursor && !strcmp(page.next, cursor))
			ret = ms_error_set(err, MS_EPROTO,
			                   "searching %s: the next page is the same page",
			                   hub->name);
		free(cursor);
		cursor = page.next;
		ms_meta_list_release(&page.results);
		/* a page without results but with a next one makes no progress: the end */
		if (!got)
			break;
	} while (!ret && cursor && out->list.n < q->limit && out->pages < MAX_PAGES);
	free(cursor);
	return ret;
}

void ms_search_results_release(struct ms_search_results *r)
{
	ms_meta_list_release(&r->list);
	memset(r, 0, sizeof(*r));
}
