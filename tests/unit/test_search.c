/* Search: paging to the limit over a scripted hub, sort names, times, query strings. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/http.h"
#include "mscli/parse.h"
#include "mscli/search.h"
#include "mscli/strbuf.h"
#include "unit.h"

/* A hub whose search serves `pages` pages of `per_page` results named "o/r<page>-<i>". */
static struct {
	int pages, per_page, calls;
	bool capped_last;  /* the last page says the hub will list no more */
	bool repeat_next;  /* page 2 names itself as the next page */
	bool empty_second; /* page 2 has no result but names a page 3 */
	bool fail_second;  /* page 2 fails */
	char cursors[8][16];
} fake;

static int fake_search(struct ms_session *s, const struct ms_search_query *q, const char *cursor,
                       struct ms_search_page *page, struct ms_error *err)
{
	int n = cursor ? atoi(cursor) : 1, count = fake.per_page;

	(void)s;
	(void)q;
	if (fake.calls < 8)
		snprintf(fake.cursors[fake.calls], sizeof(fake.cursors[0]), "%s",
		         cursor ? cursor : "-");
	fake.calls++;
	if (n == 2 && fake.fail_second)
		return ms_error_set(err, MS_ENET, "page 2 failed");
	if (n == 2 && fake.empty_second)
		count = 0;
	for (int i = 0; i < count; i++) {
		struct ms_repo_meta *m = ms_meta_list_add(&page->results);

		m->id = xasprintf("o/r%d-%d", n, i);
		ms_repo_meta_add_tag(m, "t"); /* something to free for the ones dropped */
	}
	if (n == 2 && fake.repeat_next)
		page->next = xstrdup("2");
	else if (n < fake.pages)
		page->next = xasprintf("%d", n + 1);
	else
		page->capped = fake.capped_last;
	return 0;
}

static const struct ms_hub fake_hub = {.name = "fake", .search = fake_search};

static int run(int pages, int per_page, size_t limit, struct ms_search_results *r,
               struct ms_error *err)
{
	struct ms_session s = {.hub = &fake_hub};
	struct ms_search_query q = {.limit = limit};
	bool capped = fake.capped_last, repeat = fake.repeat_next, empty = fake.empty_second,
	     fail = fake.fail_second;
	int ret;

	memset(&fake, 0, sizeof(fake));
	fake.pages = pages;
	fake.per_page = per_page;
	fake.capped_last = capped;
	fake.repeat_next = repeat;
	fake.empty_second = empty;
	fake.fail_second = fail;
	ret = ms_search_run(&s, &q, r, err);
	/* the flags hold for one run */
	fake.capped_last = fake.repeat_next = fake.empty_second = fake.fail_second = false;
	return ret;
}

static void test_paging(void)
{
	struct ms_search_results r;
	struct ms_error err;

	/* stopped at the limit in the middle of page 3: no page 4 asked for */
	CHECK(run(10, 3, 7, &r, &err) == 0);
	CHECK(r.list.n == 7 && r.pages == 3 && fake.calls == 3);
	CHECK_STR(r.list.items[0].id, "o/r1-0");
	CHECK_STR(r.list.items[6].id, "o/r3-0");
	CHECK_STR(fake.cursors[0], "-");
	CHECK_STR(fake.cursors[2], "3");
	CHECK(!r.capped);
	ms_search_results_release(&r);

	/* fewer than the limit: every page, then the end */
	CHECK(run(2, 3, 100, &r, &err) == 0);
	CHECK(r.list.n == 6 && fake.calls == 2);
	ms_search_results_release(&r);

	/* a hub that lists no further says so, but only when the limit was not reached */
	fake.capped_last = true;
	CHECK(run(2, 3, 100, &r, &err) == 0);
	CHECK(r.capped && r.list.n == 6);
	ms_search_results_release(&r);
	fake.capped_last = true;
	CHECK(run(2, 3, 6, &r, &err) == 0);
	CHECK(!r.capped);
	ms_search_results_release(&r);

	/* a next page that is the same page is an error, not a loop */
	fake.repeat_next = true;
	CHECK(run(5, 3, 100, &r, &err) == MS_EPROTO);
	CHECK(fake.calls == 2 && strstr(err.msg, "same page"));
	ms_search_results_release(&r);

	/* an empty page ends the search even when it names a next one */
	fake.empty_second = true;
	CHECK(run(5, 3, 100, &r, &err) == 0);
	CHECK(r.list.n == 3 && fake.calls == 2);
	ms_search_results_release(&r);

	/* a failing page fails the search with its error */
	fake.fail_second = true;
	CHECK(run(5, 3, 100, &r, &err) == MS_ENET);
	CHECK(strstr(err.msg, "page 2 failed") != NULL);
	ms_search_results_release(&r);

	/* a hub without search */
	{
		static const struct ms_hub none = {.name = "none"};
		struct ms_session s = {.hub = &none};
		struct ms_search_query q = {.limit = 5};

		CHECK(ms_search_run(&s, &q, &r, &err) == MS_EUSAGE);
		ms_search_results_release(&r);
	}
}

static void test_sort_names(void)
{
	enum ms_search_sort s = MS_SORT_NONE;

	CHECK(ms_search_sort_parse("downloads", &s) == 0 && s == MS_SORT_DOWNLOADS);
	CHECK(ms_search_sort_parse("likes", &s) == 0 && s == MS_SORT_LIKES);
	CHECK(ms_search_sort_parse("updated", &s) == 0 && s == MS_SORT_UPDATED);
	s = MS_SORT_NONE;
	CHECK(ms_search_sort_parse("lastModified", &s) == 0 && s == MS_SORT_UPDATED);
	s = MS_SORT_NONE;
	CHECK(ms_search_sort_parse("last_modified", &s) == 0 && s == MS_SORT_UPDATED);
	CHECK(ms_search_sort_parse("stars", &s) == -1);
	CHECK(ms_search_sort_parse("", &s) == -1);
	CHECK(ms_search_sort_parse("Downloads", &s) == -1);
}

static void check_time(const char *in, const char *want)
{
	char out[MS_TIME_LEN] = "";

	if (want) {
		CHECK(ms_parse_time(in, out) == 0);
		CHECK_STR(out, want);
	} else {
		CHECK(ms_parse_time(in, out) == -1);
	}
}

static void test_times(void)
{
	char out[MS_TIME_LEN];

	/* Hugging Face, ModelScope, and what else a hub or mirror may write */
	check_time("2025-01-10T08:30:00.000Z", "2025-01-10T08:30:00Z");
	check_time("2025-01-10T08:30:00Z", "2025-01-10T08:30:00Z");
	check_time("2025-01-10T16:30:00+08:00", "2025-01-10T08:30:00Z");
	check_time("2025-01-10T01:30:00-0700", "2025-01-10T08:30:00Z");
	check_time("2025-01-01T02:00:00+03", "2024-12-31T23:00:00Z");
	check_time("2025-01-10 08:30:00", "2025-01-10T08:30:00Z");
	check_time("2025-01-10T08:30", "2025-01-10T08:30:00Z");
	check_time("2025-01-10T08:30:00.123456789z", "2025-01-10T08:30:00Z");
	check_time("2025-01-10", "2025-01-10T00:00:00Z");
	check_time("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z");
	check_time("", NULL);
	check_time("yesterday", NULL);
	check_time("2025-13-01T00:00:00Z", NULL);
	check_time("2025-01-10T25:00:00Z", NULL);
	check_time("2025-01-10T08:30:00Q", NULL);
	check_time("2025-01-10T08:30:00+08:00 ", NULL);
	check_time("20250110", NULL);
	check_time(NULL, NULL);
	ms_format_time(0, out);
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	ms_format_time(1736497800, out);
	CHECK_STR(out, "2025-01-10T08:30:00Z");
}

static void test_query_strings(void)
{
	struct ms_buf u = MS_BUF_INIT;

	ms_buf_adds(&u, "http://h/api/models");
	ms_url_add_query(&u, "search", "qwen 2.5");
	ms_url_add_query(&u, "author", NULL); /* not given: not sent */
	ms_url_add_query(&u, "filter", "task:text-generation");
	ms_url_add_query(&u, "filter", "a&b=c");
	CHECK_STR(u.data, "http://h/api/"
	                  "models?search=qwen+2.5&filter=task%3Atext-generation&filter=a%26b%3Dc");
	ms_buf_release(&u);
}

void test_search(void)
{
	test_paging();
	test_sort_names();
	test_times();
	test_query_strings();
}
