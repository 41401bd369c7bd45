/* Runs every unit test group; exit status 1 on any failure. */
#include <stdbool.h>
#include <stdlib.h>

#include "unit.h"

int unit_failures;
int unit_checks;

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
        {"pathsafe", test_pathsafe}, {"filter", test_filter}, {"http", test_http},
        {"pickle", test_pickle},     {"hash", test_hash},     {"resume", test_resume},
        {"util", test_util},         {"repo", test_repo},     {"writer", test_writer},
        {"select", test_select},     {"store", test_store},   {"hub", test_hub},
        {"table", test_table},       {"search", test_search}, {"cache", test_cache},
        {"upload", test_upload},     {"proxy", test_proxy},   {"store-cache", test_store_cache},
        {"render", test_render},
};

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		int before = unit_failures;

		if (argc > 1 && strcmp(argv[1], groups[i].name))
			continue;
		groups[i].fn();
		printf("%s %zu - %s\n", unit_failures == before ? "ok" : "not ok", i + 1,
		       groups[i].name);
	}
	printf("%d checks, %d failures\n", unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}
