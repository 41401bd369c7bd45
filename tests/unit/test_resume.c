#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "mscli/resume.h"
#include "unit.h"

void test_resume(void)
{
	char path[] = "/tmp/mscli-unit-state-XXXXXX";
	int fd = mkstemp(path);
	struct ms_resume_state st = {0}, back;
	uint64_t done[3] = {16, 0, 7};
	unsigned char b[8] = {5, 0, 0, 0, 0, 0, 0, 0};

	CHECK(fd >= 0);
	st.size = 40;
	st.chunk_size = 16;
	st.nchunks = 3;
	st.done = done;
	snprintf(st.digest, sizeof(st.digest), "%s",
	         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(ms_resume_store(fd, &st) == 0);
	CHECK(ms_resume_load(path, &back) == 0);
	CHECK_U64(back.size, 40);
	CHECK_U64(back.chunk_size, 16);
	CHECK_U64(back.nchunks, 3);
	CHECK_STR(back.digest, st.digest);
	if (back.nchunks == 3) {
		CHECK_U64(back.done[0], 16);
		CHECK_U64(back.done[1], 0);
		CHECK_U64(back.done[2], 7);
	}
	ms_resume_release(&back);

	/* a counter updated in place, as the engine does after writing the data */
	CHECK(pwrite(fd, b, 8, (off_t)ms_resume_counter_offset(1)) == 8);
	CHECK(ms_resume_load(path, &back) == 0 && back.nchunks == 3 && back.done[1] == 5);
	ms_resume_release(&back);

	/* one-stream state: no table */
	st.chunk_size = 0;
	st.nchunks = 0;
	CHECK(ms_resume_store(fd, &st) == 0);
	CHECK(ms_resume_load(path, &back) == 0 && back.chunk_size == 0 && back.nchunks == 0);
	ms_resume_release(&back);

	/* a table that does not describe the size, a truncated file, bad magic */
	st.chunk_size = 16;
	st.nchunks = 2;
	CHECK(ms_resume_store(fd, &st) == 0);
	CHECK(ms_resume_load(path, &back) == -1);
	st.nchunks = 3;
	CHECK(ms_resume_store(fd, &st) == 0);
	CHECK(ftruncate(fd, 100) == 0);
	CHECK(ms_resume_load(path, &back) == -1);
	CHECK(pwrite(fd, "XXXXXXXX", 8, 0) == 8);
	CHECK(ms_resume_load(path, &back) == -1);
	CHECK(ms_resume_load("/nonexistent/state", &back) == -1);
	close(fd);
	unlink(path);
}
