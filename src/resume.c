/*
 * The resume sidecar (resume.h): a 96-byte header (magic, size, chunk size,
 * chunk count, expected digest) and one little-endian 64-bit counter per
 * chunk, each updated in place with pwrite.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/resume.h"

#define STATE_HDR 96

uint64_t ms_resume_counter_offset(uint32_t i)
{
	return STATE_HDR + 8ull * i;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void ms_resume_counter_bytes(uint64_t v, unsigned char out[8])
{
	put64(out, v);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int ms_resume_load(const char *path, struct ms_resume_state *st)
{
	unsigned char hdr[STATE_HDR];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t n;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return -1;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, MS_STATE_MAGIC, 8))
		goto out;
	st->size = get64(hdr + 8);
	st->chunk_size = get64(hdr + 16);
	n = (uint64_t)hdr[24] | (uint64_t)hdr[25] << 8 | (uint64_t)hdr[26] << 16 |
	    (uint64_t)hdr[27] << 24;
	memcpy(st->digest, hdr + 32, 64);
	st->digest[64] = '\0';
	if (st->chunk_size) {
		unsigned char *tab;

		/* The table must describe exactly this size. */
		if (n == 0 || n > (1u << 24) ||
		    (st->size + st->chunk_size - 1) / st->chunk_size != n)
			goto out;
		tab = xmalloc(8 * n);
		if (pread(fd, tab, 8 * n, STATE_HDR) != (ssize_t)(8 * n)) {
			free(tab);
			goto out;
		}
		st->nchunks = (uint32_t)n;
		st->done = xcalloc(n, sizeof(*st->done));
		for (uint64_t i = 0; i < n; i++)
			st->done[i] = get64(tab + 8 * i);
		free(tab);
	}
	ret = 0;
out:
	close(fd);
	if (ret)
		ms_resume_release(st);
	return ret;
}

int ms_resume_store(int fd, const struct ms_resume_state *st)
{
	size_t len = STATE_HDR + 8ull * st->nchunks;
	unsigned char *b = xcalloc(1, len);
	ssize_t n;

	/* the magic is 8 bytes without a NUL: a file format, not a C string */
	memcpy(b, MS_STATE_MAGIC, 8); // NOLINT(bugprone-not-null-terminated-result)
	put64(b + 8, st->size);
	put64(b + 16, st->chunk_size);
	b[24] = (unsigned char)st->nchunks;
	b[25] = (unsigned char)(st->nchunks >> 8);
	b[26] = (unsigned char)(st->nchunks >> 16);
	b[27] = (unsigned char)(st->nchunks >> 24);
	memcpy(b + 32, st->digest, strnlen(st->digest, 64));
	for (uint32_t i = 0; i < st->nchunks; i++)
		put64(b + STATE_HDR + 8 * i, st->done ? st->done[i] : 0);
	n = pwrite(fd, b, len, 0);
	free(b);
	if (n != (ssize_t)len)
		return -1;
	return ftruncate(fd, (off_t)len);
}

void ms_resume_release(struct ms_resume_state *st)
{
	free(st->done);
	st->done = NULL;
	st->nchunks = 0;
}
