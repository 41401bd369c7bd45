/*
 * Retry lines on stderr: one cause, one line per round.  A cause is the
 * reason with each URL cut to its scheme and host (the paths differ per
 * file, the host is what the user can act on).  Per-file delays carry
 * jitter, so the files of one round come back spread over the backoff
 * window: a cause's line waits until the files its previous line counted
 * have all been tried again (and a moment for their answers), and until a
 * file has reached a try no line has named yet (or a file no line has named
 * is retried), then counts every file retried since.  Files that start
 * together thus get at most one line per cause per retry round (--retries N:
 * N lines) however many share it.  A later batch (files that waited for a
 * free worker) gets one more line, for its first retries; the tries after
 * those were named by the first batch's lines, and are not named again.
 * -v keeps a line per file (the engine's) and --json a retry event per file.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mscli/ui.h"
#include "mscli/render.h"

/* The retries of a round come within a tick or two of each other once their
 * wait is over: a line waits this long more so it can count them. */
#define FIRST_GRACE 0.15

/* The reason with "scheme://host[:port]/path?query" cut to "scheme://host[:port]". */
static void cause_of(const char *reason, char *out, size_t size)
{
	size_t k = 0;

	for (const char *p = reason; *p && k + 1 < size;) {
		if (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8)) {
			const char *host = strstr(p, "://") + 3;
			size_t n = (size_t)(host - p) + strcspn(host, "/?# ");

			if (n > size - 1 - k)
				n = size - 1 - k;
			memcpy(out + k, p, n);
			k += n;
			p += strcspn(p, " ");
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = '\0';
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h ? h : 1; /* 0 marks a free slot */
}

/* Adds h to a set of name hashes: 1 when new, 0 when there, -1 when the set is full. */
static int set_add(uint32_t *set, uint32_t h)
{
	size_t i = h % MS_RETRY_SEEN;

	for (size_t probe = 0; probe < MS_RETRY_SEEN; probe++, i = (i + 1) % MS_RETRY_SEEN) {
		if (set[i] == h)
			return 0;
		if (!set[i]) {
			set[i] = h;
			return 1;
		}
	}
	return -1;
}

/* Counts a file once per line: a file retried twice before the next line is one file. */
static void count_file(struct ms_retry_group *r, const char *name)
{
	uint32_t h = name_hash(name);

	if (set_add(r->seen, h))
		r->n++; /* new, or more files than slots: then each retry counts */
	/* a file no line has named yet is news even in a round already named */
	for (size_t i = h % MS_RETRY_SEEN, probe = 0; probe < MS_RETRY_SEEN;
	     probe++, i = (i + 1) % MS_RETRY_SEEN) {
		if (r->named[i] == h)
			return;
		if (!r->named[i])
			break;
	}
	r->fresh = true;
}

static void print_group(struct ms_retry_group *r, int tries, double now)
{
	char at[48];

	if (r->lo == r->hi)
		snprintf(at, sizeof(at), "try %d of %d", r->hi + 1, tries);
	else
		snprintf(at, sizeof(at), "tries %d to %d of %d", r->lo + 1, r->hi + 1, tries);
	if (r->n == 1)
		ms_info("retrying '%s' (%s, in %.1f s): %s", r->first, at, r->delay, r->reason);
	else
		ms_info("retrying %zu files (%s, in up to %.1f s): %s", r->n, at, r->delay,
		        r->reason);
	/* a later batch's line names tries a line named already: they stay named */
	if (r->hi > r->shown)
		r->shown = r->hi;
	r->window = r->back > now ? r->back - now : 0;
	r->quiet_until = r->back + FIRST_GRACE;
	for (size_t i = 0; i < MS_RETRY_SEEN; i++)
		if (r->seen[i])
			set_add(r->named, r->seen[i]);
	r->n = 0;
	r->fresh = false;
	memset(r->seen, 0, sizeof(r->seen));
}

void ms_retry_notes_flush(struct ms_retry_notes *rn, double now, bool all)
{
	for (size_t i = 0; i < rn->n; i++) {
		struct ms_retry_group *r = &rn->groups[i];

		if (!r->n || (r->hi <= r->shown && !r->fresh))
			continue; /* nothing new: stragglers of a round already named */
		if (all || (now >= r->quiet_until && now >= r->since + FIRST_GRACE))
			print_group(r, rn->tries, now);
	}
}

void ms_retry_notes_add(struct ms_retry_notes *rn, const struct ms_event *ev, double now)
{
	char cause[sizeof(rn->groups[0].reason)];
	struct ms_retry_group *r;
	size_t i;

	cause_of(ev->reason ? ev->reason : "", cause, sizeof(cause));
	for (i = 0; i < rn->n && strcmp(rn->groups[i].reason, cause); i++)
		;
	if (i == MS_RETRY_GROUPS) {
		/* many causes at once: the oldest says what it has and makes room */
		ms_retry_notes_flush(rn, now, true);
		memmove(rn->groups, rn->groups + 1, sizeof(rn->groups[0]) * --rn->n);
		i = rn->n;
	}
	r = &rn->groups[i];
	if (i == rn->n) {
		memset(r, 0, sizeof(*r));
		snprintf(r->reason, sizeof(r->reason), "%s", cause);
		rn->n++;
	}
	if (!r->n && now > r->quiet_until + r->window) {
		/* quiet for two windows: a new episode, not a straggler */
		r->shown = 0;
		memset(r->named, 0, sizeof(r->named));
	}
	if (!r->n) {
		snprintf(r->first, sizeof(r->first), "%s", ev->job->name);
		r->lo = r->hi = ev->attempt;
		r->delay = 0;
		r->back = 0;
		r->since = now;
	}
	count_file(r, ev->job->name);
	if (ev->attempt < r->lo)
		r->lo = ev->attempt;
	if (ev->attempt > r->hi)
		r->hi = ev->attempt;
	if (ev->delay > r->delay)
		r->delay = ev->delay;
	if (now + ev->delay > r->back)
		r->back = now + ev->delay;
}

void ms_retry_notes_event(struct ms_retry_notes *rn, const struct ms_event *ev, double now)
{
	if (ev->type == MS_EV_RETRY && ev->job)
		ms_retry_notes_add(rn, ev, now);
	else if (ev->type == MS_EV_FINISH)
		ms_retry_notes_flush(rn, now, true);
	else if (rn->n && !ev->job)
		ms_retry_notes_flush(rn, now, false); /* a tick */
}
