/*
 * A thread that writes downloaded buffers to disk.  Receiving (the main
 * thread, in curl) and writing into the page cache are the two largest
 * costs of a fast download; on separate threads they overlap.  Writes are
 * done in submission order, the data before its resume counter, and each
 * completion is handed back to the main thread, which alone updates the
 * engine's bookkeeping.  Buffers come from a bounded pool: memory stays
 * at max_buffers * buffer_size whatever the file sizes.
 */
#ifndef MSCLI_WRITER_H
#define MSCLI_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct ms_writer;

struct ms_write {
	struct ms_write *next;
	void *owner; /* the engine's file */
	uint32_t chunk;
	unsigned gen;
	int fd;
	unsigned char *buf;
	size_t len;
	uint64_t off;
	int state_fd; /* -1: no counter to update */
	uint64_t counter_off, counter_val;
	int err; /* errno of a failed write, set by the writer */
};

struct ms_writer *ms_writer_start(size_t buffer_size, size_t max_buffers, void (*wake)(void *),
                                  void *arg);
void ms_writer_stop(struct ms_writer *w);
/* Add inc to the writing thread's nice value (that thread's only); returns the new one. */
int ms_writer_renice(struct ms_writer *w, int inc);
/* A free buffer of buffer_size bytes (waits while all are in use). */
unsigned char *ms_writer_buffer(struct ms_writer *w);
void ms_writer_put_buffer(struct ms_writer *w, unsigned char *buf);
/* Queue w (its buffer goes back to the pool once written). */
void ms_writer_submit(struct ms_writer *w, struct ms_write *job);
/* Completed writes, in order (the caller frees them). */
struct ms_write *ms_writer_completed(struct ms_writer *w);
/* Wait until everything submitted has been written. */
void ms_writer_drain(struct ms_writer *w);

#endif
