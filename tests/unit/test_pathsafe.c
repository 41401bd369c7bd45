#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/fs.h"
#include "mscli/pathsafe.h"
#include "unit.h"

static int check(const char *p)
{
	const char *why;

	return ms_path_check(p, &why);
}

void test_pathsafe(void)
{
	char tmpl[] = "/tmp/mscli-unit-XXXXXX";
	char *root, *outside, *link;
	struct ms_error err;
	char longseg[300];

	CHECK(check("config.json") == 0);
	CHECK(check("a/b/c.safetensors") == 0);
	CHECK(check(".gitattributes") == 0);
	CHECK(check("a..b/c") == 0);
	CHECK(check("spaces in name.txt") == 0);
	CHECK(check("中文/文件.bin") == 0);

	CHECK(check("") == MS_EUNSAFE);
	CHECK(check("/etc/passwd") == MS_EUNSAFE);
	CHECK(check("../x") == MS_EUNSAFE);
	CHECK(check("a/../../x") == MS_EUNSAFE);
	CHECK(check("a/..") == MS_EUNSAFE);
	CHECK(check("./a") == MS_EUNSAFE);
	CHECK(check("a//b") == MS_EUNSAFE);
	CHECK(check("a/") == MS_EUNSAFE);
	CHECK(check("a\nb") == MS_EUNSAFE);
	CHECK(check("a\x7f") == MS_EUNSAFE);
	CHECK(check("a\x1b[2Jb") == MS_EUNSAFE);
	CHECK(check("..\\x") == MS_EUNSAFE);
	CHECK(check("C:evil") == MS_EUNSAFE);
	memset(longseg, 'a', 299);
	longseg[299] = '\0';
	CHECK(check(longseg) == MS_EUNSAFE);

	/* mkdirs_beneath refuses to go through a symlink planted in the tree */
	CHECK(mkdtemp(tmpl) != NULL);
	root = ms_path_join(tmpl, "root");
	outside = ms_path_join(tmpl, "outside");
	CHECK(mkdir(root, 0755) == 0);
	CHECK(mkdir(outside, 0755) == 0);
	link = ms_path_join(root, "evil");
	CHECK(symlink(outside, link) == 0);
	ms_error_clear(&err);
	CHECK(ms_mkdirs_beneath(root, "ok/deeper", &err) == 0);
	CHECK(ms_is_dir(root) && access("/tmp", F_OK) == 0);
	CHECK(ms_mkdirs_beneath(root, "evil/sub", &err) == MS_EUNSAFE);
	{
		char *sub = ms_path_join(outside, "sub");

		CHECK(access(sub, F_OK) != 0); /* nothing created outside */
		free(sub);
	}
	CHECK(ms_mkparents_beneath(root, "x/y/file.bin", &err) == 0);
	{
		char *xy = ms_path_join(root, "x/y");

		CHECK(ms_is_dir(xy));
		free(xy);
	}
	ms_remove_tree(tmpl, &err);
	free(root);
	free(outside);
	free(link);
}
