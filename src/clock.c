/* Time, waits, randomness, and the interrupted flag that ends waits. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mscli/clock.h"
#include "mscli/parse.h"

static volatile sig_atomic_t interrupted_flag;

void ms_set_interrupted(int sig)
{
	/* the first signal is the one the exit code reports */
	if (!interrupted_flag)
		interrupted_flag = sig > 0 ? sig : SIGINT;
}

int ms_interrupt_signal(void)
{
	return interrupted_flag;
}

bool ms_interrupted(void)
{
	return interrupted_flag != 0;
}

double ms_timespec_seconds(struct timespec t)
{
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ms_sleep(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ms_interrupted())
		;
}

/* Per thread, seeded from the kernel once: ids and jitter need spread, not secrecy. */
static __thread uint64_t rng_state;

/* xorshift64* */
static uint64_t rng_next(void)
{
	if (!rng_state) {
		if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
			rng_state =
			        (uint64_t)time(NULL) ^ (uint64_t)getpid() ^ (uint64_t)&rng_state;
		rng_state |= 1;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

double ms_random01(void)
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* A request id or a temporary's name: one getrandom(2) per thread, not per call (one
 * per file was a system call per file of every download). */
void ms_random_hex(char out[33])
{
	unsigned char b[16];
	uint64_t hi = rng_next(), lo = rng_next();

	for (size_t i = 0; i < 8; i++) {
		b[i] = (unsigned char)(hi >> (8 * i));
		b[8 + i] = (unsigned char)(lo >> (8 * i));
	}
	ms_hex(b, sizeof(b), out);
}
