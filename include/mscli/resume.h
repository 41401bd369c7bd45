/*
 * Resume state of a partial: a small sidecar file that says how far each
 * range of the file got.  A chunk's counter is written only after the bytes
 * it claims are in the partial, so the state never claims what is not on
 * disk (a kill -9 between the two loses a little, never corrupts).
 */
#ifndef MSCLI_RESUME_H
#define MSCLI_RESUME_H

#include <stdint.h>

#include "hash.h"

#define MS_STATE_MAGIC "MSCLIRS1"

struct ms_resume_state {
	uint64_t size;
	uint64_t chunk_size; /* 0: one stream, progress is the partial's length */
	char digest[MS_HEX_MAX];
	uint32_t nchunks;
	uint64_t *done; /* per chunk: bytes on disk from the chunk's start */
};

/* 0 loaded, -1 absent or invalid. */
int ms_resume_load(const char *path, struct ms_resume_state *st);
int ms_resume_store(int fd, const struct ms_resume_state *st);
/* Offset of chunk i's counter in the sidecar (updated in place with pwrite). */
uint64_t ms_resume_counter_offset(uint32_t i);
/* The 8 bytes of a counter value, as stored at ms_resume_counter_offset(). */
void ms_resume_counter_bytes(uint64_t v, unsigned char out[8]);
void ms_resume_release(struct ms_resume_state *st);

#endif
