/*
 * Retry lines on stderr: the retries of one pass of the engine that share a
 * cause are one line ("retrying 13 files ...: <reason>"), not one per file.
 * The reason without its URLs (they differ per file) and the attempt make
 * the key; lines are printed when the engine's next tick or another event
 * comes (ms_retry_notes_flush).
 */
#include <stdio.h>
#include <string.h>

#include "mscli/ui.h"
#include "mscli/render.h"

void ms_retry_notes_flush(struct ms_retry_notes *rn)
{
	for (size_t i = 0; i < rn->n; i++) {
		const struct ms_retry_group *r = &rn->groups[i];

		if (r->n == 1)
			ms_info("retrying '%s' (try %d of %d, in %.1f s): %s", r->first,
			        r->attempt + 1, rn->tries, r->delay, r->reason);
		else
			ms_info("retrying %zu files (try %d of %d, in about %.1f s): %s", r->n,
			        r->attempt + 1, rn->tries, r->delay, r->reason);
	}
	rn->n = 0;
}

void ms_retry_notes_add(struct ms_retry_notes *rn, const struct ms_event *ev)
{
	const char *reason = ev->reason ? ev->reason : "";
	char key[sizeof(rn->groups[0].key)];
	size_t k = 0, i;

	for (const char *p = reason; *p && k + 16 < sizeof(key);) {
		if (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8)) {
			p += strcspn(p, " ");
			key[k++] = '*';
		} else {
			key[k++] = *p++;
		}
	}
	snprintf(key + k, sizeof(key) - k, "#%d", ev->attempt);
	for (i = 0; i < rn->n && strcmp(rn->groups[i].key, key); i++)
		;
	if (i == MS_RETRY_GROUPS) {
		ms_retry_notes_flush(rn);
		i = 0;
	}
	if (i == rn->n) {
		struct ms_retry_group *r = &rn->groups[rn->n++];

		snprintf(r->key, sizeof(r->key), "%s", key);
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
		r->first = ev->job->name;
		r->n = 0;
		r->attempt = ev->attempt;
		r->delay = ev->delay;
	}
	rn->groups[i].n++;
}

void ms_retry_notes_event(struct ms_retry_notes *rn, const struct ms_event *ev)
{
	if (ev->type == MS_EV_RETRY)
		ms_retry_notes_add(rn, ev);
	else if (rn->n && (ev->type != MS_EV_PROGRESS || !ev->job))
		ms_retry_notes_flush(rn); /* a tick, or something else happened: say it now */
}
