/* Digests on OpenSSL EVP. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mscli/alloc.h"
#include "mscli/hash.h"
#include "mscli/parse.h"

int ms_hasher_init(struct ms_hasher *h, enum ms_hash_algo algo, uint64_t size)
{
	const EVP_MD *md = algo == MS_HASH_GITSHA1 ? EVP_sha1() : EVP_sha256();

	h->algo = algo;
	if (!h->ctx)
		h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, md, NULL))
		return -1;
	if (algo == MS_HASH_GITSHA1) {
		/* git hashes the object header too: "blob <size>\0" */
		char hdr[48];
		int n = snprintf(hdr, sizeof(hdr), "blob %llu", (unsigned long long)size);

		EVP_DigestUpdate(h->ctx, hdr, (size_t)n + 1);
	}
	return 0;
}

void ms_hasher_update(struct ms_hasher *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void ms_hasher_final(struct ms_hasher *h, char hex[MS_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_DigestFinal_ex(h->ctx, md, &len);
	ms_hex(md, len, hex);
}

void ms_hasher_release(struct ms_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

const char *ms_hash_name(enum ms_hash_algo algo)
{
	switch (algo) {
	case MS_HASH_SHA256:
		return "sha256";
	case MS_HASH_GITSHA1:
		return "git-sha1";
	default:
		return "none";
	}
}

size_t ms_hash_hexlen(enum ms_hash_algo algo)
{
	return algo == MS_HASH_SHA256 ? 64 : algo == MS_HASH_GITSHA1 ? 40 : 0;
}

enum ms_hash_algo ms_hash_algo_for_hex(const char *hex)
{
	size_t n = hex ? strlen(hex) : 0;

	if (n == 64 && ms_is_hex(hex, n))
		return MS_HASH_SHA256;
	if (n == 40 && ms_is_hex(hex, n))
		return MS_HASH_GITSHA1;
	return MS_HASH_NONE;
}

int ms_hash_file(const char *path, enum ms_hash_algo algo, char hex[MS_HEX_MAX],
                 struct ms_error *err)
{
	struct ms_hasher h = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf;
	off_t size;
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return ms_error_errno(err, errno, "cannot open", path);
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	if (size < 0 || ms_hasher_init(&h, algo, (uint64_t)size) < 0) {
		close(fd);
		ms_hasher_release(&h);
		return ms_error_set(err, MS_EFAIL, "cannot hash '%s'", path);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = xmalloc(1 << 20);
	while ((n = read(fd, buf, 1 << 20)) > 0)
		ms_hasher_update(&h, buf, (size_t)n);
	if (n < 0)
		ret = ms_error_errno(err, errno, "cannot read", path);
	else
		ms_hasher_final(&h, hex);
	free(buf);
	close(fd);
	ms_hasher_release(&h);
	return ret;
}

void ms_sha256_hex(const void *p, size_t n, char hex[MS_HEX_MAX])
{
	unsigned char md[32];
	unsigned int len = sizeof(md);

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	ms_hex(md, len, hex);
}
