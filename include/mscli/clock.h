/*
 * Time, waits and randomness.  Ctrl-C: the signal handler raises the
 * interrupted flag; long waits (backoff sleeps, API requests, the engine)
 * check it and stop, keeping what they have.
 */
#ifndef MSCLI_CLOCK_H
#define MSCLI_CLOCK_H

#include <stdbool.h>
#include <time.h>

/* From a signal handler: sig is the signal (SIGINT, SIGTERM, SIGHUP). */
void ms_set_interrupted(int sig);
bool ms_interrupted(void);
/* The signal that interrupted the run, 0 when none. */
int ms_interrupt_signal(void);
/* A struct stat time in seconds. */
double ms_timespec_seconds(struct timespec t);
/* Monotonic clock in seconds. */
double ms_now(void);
/* Returns early when interrupted. */
void ms_sleep(double seconds);
/* Uniform in [0,1) from a per-process seeded generator (jitter only). */
double ms_random01(void);
/* 32 lower-case hex chars of fresh randomness (request ids, temp names). */
void ms_random_hex(char out[33]);

#endif
