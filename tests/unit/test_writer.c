#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/writer.h"
#include "unit.h"

static void wake(void *arg)
{
	(void)arg;
}

void test_writer(void)
{
	char data_path[] = "/tmp/mscli-unit-writer-XXXXXX";
	char state_path[] = "/tmp/mscli-unit-wstate-XXXXXX";
	int fd = mkstemp(data_path), sfd = mkstemp(state_path);
	struct ms_writer *w = ms_writer_start(64, 3, wake, NULL);
	struct ms_write *done, *j;
	unsigned char expect[64 * 40], got[64 * 40], counter[8];
	size_t n = 0;
	uint64_t last = 0;
	bool ordered = true;

	CHECK(fd >= 0 && sfd >= 0 && w != NULL);
	/* 40 writes through a pool of 3 buffers: the submitter waits for buffers */
	for (int i = 0; i < 40; i++) {
		unsigned char *b = ms_writer_buffer(w);

		for (int k = 0; k < 64; k++)
			b[k] = expect[i * 64 + k] = (unsigned char)(i * 7 + k);
		j = xcalloc(1, sizeof(*j));
		j->fd = fd;
		j->buf = b;
		j->len = 64;
		j->off = (uint64_t)i * 64;
		j->state_fd = sfd;
		j->counter_off = 0;
		j->counter_val = (uint64_t)(i + 1) * 64;
		j->chunk = (uint32_t)i;
		ms_writer_submit(w, j);
	}
	ms_writer_drain(w);
	done = ms_writer_completed(w);
	for (j = done; j; j = done) {
		done = j->next;
		ordered &= j->chunk == n && j->err == 0 && j->buf == NULL;
		last = j->counter_val;
		n++;
		free(j);
	}
	CHECK(n == 40);
	CHECK(ordered);
	CHECK_U64(last, 40 * 64);
	CHECK(pread(fd, got, sizeof(got), 0) == (ssize_t)sizeof(got));
	CHECK(memcmp(got, expect, sizeof(got)) == 0);
	CHECK(pread(sfd, counter, 8, 0) == 8);
	CHECK_U64(counter[0] | counter[1] << 8 | counter[2] << 16, 40 * 64);

	/* a failed write is reported, and its counter is not written */
	j = xcalloc(1, sizeof(*j));
	j->fd = -1;
	j->buf = ms_writer_buffer(w);
	j->len = 64;
	j->state_fd = sfd;
	j->counter_val = 99999;
	ms_writer_submit(w, j);
	ms_writer_drain(w);
	done = ms_writer_completed(w);
	CHECK(done && done->err != 0 && !done->next);
	free(done);
	CHECK(pread(sfd, counter, 8, 0) == 8 && counter[0] == (40 * 64 & 0xff));

	/* the writing thread alone yields (the hashing's critical path keeps its core) */
	{
		int mine = getpriority(PRIO_PROCESS, 0), want = mine + 3 > 19 ? 19 : mine + 3;

		CHECK(ms_writer_renice(w, 3) == want);
		CHECK(getpriority(PRIO_PROCESS, 0) == mine);
	}
	ms_writer_stop(w);
	close(fd);
	close(sfd);
	unlink(data_path);
	unlink(state_path);
}
