#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hash.h"
#include "mscli/hasher.h"
#include "unit.h"

static void wake(void *arg)
{
	(void)arg;
}

void test_hash(void)
{
	struct ms_hasher h = {0};
	char hex[MS_HEX_MAX];
	char path[] = "/tmp/mscli-unit-hash-XXXXXX";
	struct ms_error err;
	int fd;
	unsigned char *data;
	const size_t big = (9u << 20) + 12345; /* more than two hasher blocks */

	ms_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ms_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* git hash-object: huggingface_hub's utils/sha.py example */
	CHECK(ms_hasher_init(&h, MS_HASH_GITSHA1, 13) == 0);
	ms_hasher_update(&h, "Hello, World!", 13);
	ms_hasher_final(&h, hex);
	CHECK_STR(hex, "b45ef6fec89518d314f546fd6c3025367b721684");
	ms_hasher_release(&h);

	CHECK(ms_hash_algo_for_hex("b45ef6fec89518d314f546fd6c3025367b721684") == MS_HASH_GITSHA1);
	CHECK(ms_hash_algo_for_hex(
	              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ==
	      MS_HASH_SHA256);
	CHECK(ms_hash_algo_for_hex("xyz") == MS_HASH_NONE);
	CHECK(ms_hash_algo_for_hex(NULL) == MS_HASH_NONE);

	/* the hasher thread: file written in pieces, watermark advanced, reset midway */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	data = xmalloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 31 + (i >> 13));
	{
		struct ms_hasher_pool *pool = ms_hasher_pool_start(wake, NULL);
		struct ms_hash_slot *slot = ms_hash_slot_new(pool, fd, big, MS_HASH_SHA256);
		char want[MS_HEX_MAX], got[MS_HEX_MAX];
		int r = 0;

		ms_sha256_hex(data, big, want);
		CHECK(pwrite(fd, data, 1 << 20, 0) == 1 << 20);
		ms_hash_slot_advance(slot, 1 << 20);
		/* a reset (the file starts over) must not leave stale state */
		for (int i = 0; i < 200 && ms_hash_slot_hashed(slot) < (1u << 20); i++)
			ms_sleep(0.005);
		ms_hash_slot_reset(slot);
		CHECK(pwrite(fd, data, big, 0) == (ssize_t)big);
		ms_hash_slot_advance(slot, big / 3);
		ms_hash_slot_advance(slot, big);
		for (int i = 0; i < 2000 && (r = ms_hash_slot_result(slot, got)) == 0; i++)
			ms_sleep(0.005);
		CHECK(r == 1);
		CHECK_STR(got, want);
		ms_hash_slot_free(slot);

		/* an empty file finalises at once */
		slot = ms_hash_slot_new(pool, fd, 0, MS_HASH_SHA256);
		for (int i = 0; i < 2000 && (r = ms_hash_slot_result(slot, got)) == 0; i++)
			ms_sleep(0.005);
		CHECK(r == 1);
		CHECK_STR(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		ms_hash_slot_free(slot);

		/* a file shorter than claimed is an error, not a hang */
		CHECK(ftruncate(fd, 100) == 0);
		slot = ms_hash_slot_new(pool, fd, 200, MS_HASH_SHA256);
		ms_hash_slot_advance(slot, 200);
		for (int i = 0; i < 2000 && (r = ms_hash_slot_result(slot, got)) == 0; i++)
			ms_sleep(0.005);
		CHECK(r < 0);
		ms_hash_slot_free(slot);
		ms_hasher_pool_stop(pool);
	}
	CHECK(pwrite(fd, "abc", 3, 0) == 3 && ftruncate(fd, 3) == 0);
	ms_error_clear(&err);
	CHECK(ms_hash_file(path, MS_HASH_SHA256, hex, &err) == 0);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(ms_hash_file("/nonexistent/x", MS_HASH_SHA256, hex, &err) != 0);
	close(fd);
	unlink(path);
	free(data);
}
