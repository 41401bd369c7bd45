/* render-retry.c: the retry lines of a download, driven on a clock of the test's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/engine.h"
#include "mscli/render.h"
#include "unit.h"

#define NFILES 13

static struct ms_xfer_job jobs[NFILES];
static char names[NFILES][24];

/* What the notes print between start_capture and end_capture: stderr goes to a file. */
static FILE *captured;
static int saved_stderr = -1;

static void start_capture(void)
{
	fflush(stderr);
	captured = tmpfile();
	saved_stderr = dup(2);
	if (captured && saved_stderr >= 0)
		dup2(fileno(captured), 2);
}

/* The "retrying" lines printed, one per element (at most max); returns how many. */
static size_t end_capture(char lines[][160], size_t max)
{
	char buf[512];
	size_t n = 0;

	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (!captured)
		return 0;
	rewind(captured);
	while (fgets(buf, sizeof(buf), captured))
		if (!strncmp(buf, "mscli: retrying", 15)) {
			if (n < max)
				snprintf(lines[n], 160, "%.*s", (int)strcspn(buf, "\n"), buf);
			n++;
		}
	fclose(captured);
	captured = NULL;
	return n;
}

/* File i failed its try attempt (1: the first) and waits delay seconds. */
static void retry(struct ms_retry_notes *rn, double now, int i, int attempt, double delay)
{
	char reason[128];
	struct ms_event ev = {.type = MS_EV_RETRY,
	                      .job = &jobs[i],
	                      .attempt = attempt,
	                      .delay = delay,
	                      .reason = reason};

	snprintf(reason, sizeof(reason), "HTTP 500 from http://cdn.test:8080/x/%s?sig=%d", names[i],
	         i);
	ms_retry_notes_event(rn, &ev, now);
}

/* The engine's ticks (aggregate progress events) from t0 to t1, every 0.1 s. */
static void ticks(struct ms_retry_notes *rn, double t0, double t1)
{
	struct ms_event ev = {.type = MS_EV_PROGRESS};

	for (double t = t0; t < t1; t += 0.1)
		ms_retry_notes_event(rn, &ev, t);
}

static void finish(struct ms_retry_notes *rn, double now)
{
	struct ms_event ev = {.type = MS_EV_FINISH};

	ms_retry_notes_event(rn, &ev, now);
}

/* Thirteen files fail together, on every try of --retries 2: a line per round. */
static void test_one_batch(void)
{
	struct ms_retry_notes rn = {.tries = 3};
	char lines[8][160];
	size_t n;

	start_capture();
	for (int i = 0; i < NFILES; i++)
		retry(&rn, 100.0 + i * 0.002, i, 1, 0.5 + 0.03 * i); /* back by 100.9 */
	ticks(&rn, 100.05, 100.95);
	for (int i = 0; i < NFILES; i++)
		retry(&rn, 101.0 + i * 0.002, i, 2, 1.0 + 0.07 * i); /* back by 102.9 */
	ticks(&rn, 101.05, 103.0);
	finish(&rn, 103.0);
	n = end_capture(lines, 8);
	CHECK_U64(n, 2);
	if (n == 2) {
		CHECK_STR(lines[0], "mscli: retrying 13 files (try 2 of 3, in up to 0.9 s): "
		                    "HTTP 500 from http://cdn.test:8080");
		CHECK_STR(lines[1], "mscli: retrying 13 files (try 3 of 3, in up to 1.8 s): "
		                    "HTTP 500 from http://cdn.test:8080");
	}
}

/*
 * --max-workers 8: eight files fail twice, then, as their workers come free, the other
 * five start and fail twice.  Whether the five's second retries come before or after
 * their first line depends on the jitter: either way they add one line, not two.
 */
static void test_later_batch(double later_delay)
{
	struct ms_retry_notes rn = {.tries = 3};
	char lines[8][160];
	size_t n;

	start_capture();
	for (int i = 0; i < 8; i++)
		retry(&rn, 100.0 + i * 0.002, i, 1, 0.5 + 0.05 * i); /* back by 100.9 */
	ticks(&rn, 100.05, 100.95);
	for (int i = 0; i < 8; i++)
		retry(&rn, 101.0 + i * 0.002, i, 2, 1.9 + 0.01 * i); /* back by 102.99 */
	ticks(&rn, 101.05, 103.0);
	/* the eight are out of tries; the five take their workers */
	for (int i = 8; i < NFILES; i++)
		retry(&rn, 103.0 + i * 0.002, i, 1, later_delay);
	ticks(&rn, 103.05, 103.0 + later_delay + 0.05);
	for (int i = 8; i < NFILES; i++)
		retry(&rn, 103.1 + later_delay + i * 0.002, i, 2, 1.5);
	ticks(&rn, 103.15 + later_delay, 105.0 + later_delay);
	finish(&rn, 105.0 + later_delay);
	n = end_capture(lines, 8);
	CHECK_U64(n, 3);
	if (n == 3) {
		CHECK(strstr(lines[0], "retrying 8 files (try 2 of 3"));
		CHECK(strstr(lines[1], "retrying 8 files (try 3 of 3"));
		CHECK(strstr(lines[2], "retrying 5 files (tr"));
	}
}

/* One file, retried long after an earlier episode of the same cause: a line again. */
static void test_new_episode(void)
{
	struct ms_retry_notes rn = {.tries = 3};
	char lines[8][160];
	size_t n;

	start_capture();
	retry(&rn, 100.0, 0, 1, 0.5);
	ticks(&rn, 100.05, 100.6);
	finish(&rn, 100.6);
	retry(&rn, 200.0, 0, 1, 0.5);
	ticks(&rn, 200.05, 200.6);
	finish(&rn, 200.6);
	n = end_capture(lines, 8);
	CHECK_U64(n, 2);
	if (n == 2)
		CHECK_STR(lines[1], "mscli: retrying 'f00.txt' (try 2 of 3, in 0.5 s): "
		                    "HTTP 500 from http://cdn.test:8080");
}

void test_render(void)
{
	for (int i = 0; i < NFILES; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02d.txt", i);
		jobs[i].name = names[i];
	}
	test_one_batch();
	test_later_batch(0.1);  /* the five's second retries before their line is due */
	test_later_batch(0.85); /* after it */
	test_new_episode();
}
