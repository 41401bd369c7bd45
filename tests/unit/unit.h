/* A minimal test harness: CHECK macros and a failure count.  TAP-ish output. */
#ifndef MSCLI_UNIT_H
#define MSCLI_UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int unit_failures;
extern int unit_checks;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		unit_checks++;                                                             \
		if (!(cond)) {                                                             \
			unit_failures++;                                                   \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *a_ = (a), *b_ = (b);                                           \
		unit_checks++;                                                             \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                        \
			unit_failures++;                                                   \
			fprintf(stderr, "FAIL %s:%d: %s == \"%s\", expected \"%s\"\n",       \
				__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		}                                                                          \
	} while (0)

#define CHECK_U64(a, b)                                                                    \
	do {                                                                               \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                          \
		unit_checks++;                                                             \
		if (a_ != b_) {                                                            \
			unit_failures++;                                                   \
			fprintf(stderr, "FAIL %s:%d: %s == %" PRIu64 ", expected %" PRIu64 "\n", \
				__FILE__, __LINE__, #a, a_, b_);                           \
		}                                                                          \
	} while (0)

/* One function per source file under test. */
void test_pathsafe(void);
void test_filter(void);
void test_http(void);
void test_pickle(void);
void test_hash(void);
void test_resume(void);
void test_util(void);
void test_repo(void);
void test_writer(void);
void test_select(void);
void test_store(void);
void test_hub(void);
void test_table(void);
void test_search(void);
void test_cache(void);
void test_upload(void);
void test_proxy(void);
void test_store_cache(void);
void test_render(void);

/* test_store.c's helpers: a file of a listing as a hub gives it (content hashed), written
 * (unit_put) or downloaded into a store as the download operation does (contents[i] of
 * files[i]; NULL: "hello"). */
struct ms_listing;
struct ms_store;
struct ms_file *unit_add_file(struct ms_listing *l, const char *path, const char *content,
                              bool git_sha1);
void unit_put(const char *path, const char *content);
int unit_fetch(struct ms_store *st, const struct ms_listing *l, const char *const *contents);

#endif
