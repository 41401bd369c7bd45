/* Tables: fitted to a width by dropping whole columns, tab-separated for pipes. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/table.h"
#include "unit.h"

static char *render(const struct ms_table *t, bool tty, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ms_table_print(t, f, tty, width);
	fclose(f);
	return buf;
}

static bool lines_fit(const char *s, size_t width)
{
	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n > width)
			return false;
		s += n + (s[n] == '\n');
	}
	return true;
}

/* An id ranked among the drops: shortened before A and B go, given back what a drop frees. */
static void test_table_shrink_rank(void)
{
	static const struct ms_column cols[] = {
	        {"ID", false, 0, 6, 3}, {"A", false, 2, 0, 0}, {"B", false, 1, 0, 0}};
	struct ms_table *t = ms_table_new(cols, 3);
	char *out;

	ms_table_add(t, (const char *const[]){"abcdefghijkl", "aaaa", "bbbb"});
	out = render(t, true, 20);
	CHECK(lines_fit(out, 20) && strstr(out, "abcde...  aaaa  bbbb"));
	free(out);
	out = render(t, true, 14);
	CHECK(lines_fit(out, 14) && !strstr(out, "aaaa") && strstr(out, "abcde...  bbbb"));
	free(out);
	ms_table_free(t);
}

void test_table(void)
{
	static const struct ms_column cols[] = {{"ID", false, 0, 12},
	                                        {"DOWNLOADS", true, 2, 0},
	                                        {"LIKES", true, 3, 0},
	                                        {"TAGS", false, 1, 6}};
	struct ms_table *t = ms_table_new(cols, 4);
	char *out;

	ms_table_add(t, (const char *const[]){"Qwen/Qwen2.5-0.5B-Instruct", "1234567", "89",
	                                      "text-generation,chat"});
	ms_table_addf(t, 0, "%s", "o/tiny");
	ms_table_addf(t, 1, "%d", 5);
	ms_table_addf(t, 2, "%d", 0);
	CHECK(ms_table_rows(t) == 2);

	/* wide enough: everything, numbers right-aligned under their header */
	out = render(t, true, 200);
	CHECK(strstr(out, "ID") == out && strstr(out, "text-generation,chat") != NULL);
	CHECK(strstr(out, "  1234567  ") != NULL && strstr(out, "          5  ") != NULL);
	free(out);
	/* narrower: tags shortened first (never below 6), then LIKES, then DOWNLOADS go */
	out = render(t, true, 60);
	CHECK(lines_fit(out, 60) && strstr(out, "1234567") && strstr(out, "89"));
	free(out);
	out = render(t, true, 46);
	CHECK(lines_fit(out, 46) && strstr(out, "1234567") && !strstr(out, "LIKES"));
	CHECK(strstr(out, "...") != NULL); /* the tags, cut with a mark */
	free(out);
	out = render(t, true, 30);
	CHECK(lines_fit(out, 30) && !strstr(out, "DOWNLOADS") && !strstr(out, "LIKES"));
	CHECK(!strstr(out, "123456")); /* a number is dropped whole, never cut */
	free(out);
	/* a pipe: tab-separated, no header, every column, the id first */
	out = render(t, false, 10);
	CHECK(!strcmp(out, "Qwen/Qwen2.5-0.5B-Instruct\t1234567\t89\ttext-generation,chat\n"
	                   "o/tiny\t5\t0\t\n"));
	free(out);
	ms_table_free(t);
	test_table_shrink_rank();
	CHECK(ms_display_width("abc") == 3);
}
