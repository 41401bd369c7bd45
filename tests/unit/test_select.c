/* File selection and the checks before anything is written (select.c). */
#include <stdbool.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/hub.h"
#include "mscli/select.h"
#include "unit.h"

static void add(struct ms_listing *l, const char *path, bool hashed)
{
	struct ms_file *f = ms_listing_add(l);

	f->path = xstrdup(path);
	f->size = strlen(path);
	if (hashed) {
		f->algo = MS_HASH_SHA256;
		memset(f->digest, 'a', 64);
	}
}

static const char *reserve_msc(void *arg, const char *path)
{
	(void)arg;
	return !strcmp(path, ".msc") ? "reserved" : NULL;
}

static bool selected(const struct ms_selection *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->files[i]->path, path))
			return true;
	return false;
}

void test_select(void)
{
	struct ms_listing l = {0};
	struct ms_repo repo = {.type = MS_REPO_MODEL, .id = "o/n"};
	struct ms_filter f = {0};
	struct ms_selection s;
	struct ms_error err;
	const struct ms_file *first;
	char *files[4];

	add(&l, "config.json", true);
	add(&l, "sub/a.bin", true);
	add(&l, "sub/b.bin", false);
	add(&l, "README.md", false);

	/* no FILEs, no filter: everything, in listing order */
	CHECK(ms_select(&l, NULL, 0, &f, &repo, "main", &s, &err) == 0);
	CHECK(s.n == 4 && s.files[0] == &l.files[0] && s.files[3] == &l.files[3]);
	CHECK(ms_select_unhashed(&s, &first) == 2 && first == &l.files[2]);
	ms_selection_release(&s);

	/* --include/--exclude */
	ms_filter_add(&f, true, "*.bin,*.md");
	ms_filter_add(&f, false, "sub/b*");
	CHECK(ms_select(&l, NULL, 0, &f, &repo, "main", &s, &err) == 0);
	CHECK(s.n == 2 && selected(&s, "sub/a.bin") && selected(&s, "README.md"));
	ms_selection_release(&s);

	/* FILEs: exactly those (the filter does not apply), twice counts once, a folder/ */
	files[0] = "README.md";
	files[1] = "README.md";
	files[2] = "sub/";
	CHECK(ms_select(&l, files, 3, &f, &repo, "main", &s, &err) == 0);
	CHECK(s.n == 3 && s.files[0] == &l.files[3] && selected(&s, "sub/b.bin"));
	ms_selection_release(&s);

	/* a missing FILE is named; a folder named without its '/' is told so */
	files[0] = "nope.txt";
	files[1] = "sub";
	ms_error_clear(&err);
	CHECK(ms_select(&l, files, 2, &f, &repo, "v1", &s, &err) == MS_ENOTFOUND);
	CHECK(s.nmissing == 2 && !strcmp(s.missing[0], "nope.txt"));
	CHECK(strstr(err.msg, "model o/n at 'v1' has no file 'nope.txt', 'sub' (a folder: add a "
	                      "'/')") != NULL);
	ms_selection_release(&s);
	files[0] = "other/";
	CHECK(ms_select(&l, files, 1, &f, &repo, "v1", &s, &err) == MS_ENOTFOUND);
	CHECK(strstr(err.msg, "in the folders given") != NULL);
	ms_selection_release(&s);

	/* checks: safe, not reserved, no path that is a file and a folder */
	CHECK(ms_select(&l, NULL, 0, NULL, &repo, "main", &s, &err) == 0);
	CHECK(ms_select_check(&s, reserve_msc, NULL, "o/n", &err) == 0);
	ms_selection_release(&s);
	add(&l, "sub", true); /* both a file and the folder of sub/a.bin */
	CHECK(ms_select(&l, NULL, 0, NULL, &repo, "main", &s, &err) == 0);
	CHECK(ms_select_check(&s, reserve_msc, NULL, "o/n", &err) == MS_EUNSAFE);
	CHECK(strstr(err.msg, "both a file 'sub' and 'sub/") != NULL);
	ms_selection_release(&s);
	ms_listing_release(&l);
	add(&l, ".msc", true);
	CHECK(ms_select(&l, NULL, 0, NULL, &repo, "main", &s, &err) == 0);
	CHECK(ms_select_check(&s, reserve_msc, NULL, "o/n", &err) == MS_EUNSAFE);
	ms_selection_release(&s);
	ms_listing_release(&l);
	add(&l, "a/../../etc/x\n", true);
	CHECK(ms_select(&l, NULL, 0, NULL, &repo, "main", &s, &err) == 0);
	CHECK(ms_select_check(&s, NULL, NULL, "o/n", &err) == MS_EUNSAFE);
	CHECK(strstr(err.msg, "etc/x\\x0a") != NULL); /* one line: control characters shown */
	ms_selection_release(&s);
	ms_listing_release(&l);
	ms_filter_release(&f);
}
