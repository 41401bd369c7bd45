/* What a download shows on stdout: the path or JSON lines, and the --dry-run plan. */
#include <stdio.h>
#include <stdlib.h>

#include "mscli/download.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/ui.h"

void ms_render_download_file(const struct ms_download *d, const struct ms_file *f,
                             const char *status, const char *actual)
{
	struct ms_json *j = ms_json_begin("file");
	char *local = d->st->ops->file_path(d->st, f);

	ms_json_str(j, "path", f->path);
	ms_json_num(j, "size", (double)f->size);
	ms_json_str(j, "sha256", ms_download_sha256(f, actual));
	if (f->algo == MS_HASH_GITSHA1)
		ms_json_str(j, "git_sha1", f->digest);
	/* false: the hub gave no hash, only the size was checked ("sha256" is what we got) */
	ms_json_bool(j, "verified", f->algo != MS_HASH_NONE);
	ms_json_str(j, "status", status);
	ms_json_str(j, "local_path", local);
	ms_json_emit(j, stdout);
	free(local);
}

void ms_render_download_done(const struct ms_download *d, bool json, const char *where,
                             double seconds, int status, const struct ms_error *err)
{
	struct ms_json *j;

	if (!json) {
		if (where)
			printf("%s\n", where);
		return;
	}
	j = ms_json_begin("done");
	ms_json_str(j, "status", status ? "error" : "ok");
	ms_json_str(j, "repo", d->repo->id);
	ms_json_str(j, "revision", d->rev);
	ms_json_num(j, "files", (double)d->sel.n);
	ms_json_num(j, "downloaded", (double)d->ndownloaded);
	ms_json_num(j, "cached", (double)d->ncached);
	ms_json_num(j, "failed", (double)d->nfailed);
	ms_json_num(j, "bytes_fetched", (double)d->fetched);
	ms_json_num(j, "seconds", seconds);
	if (status)
		ms_json_error(j, status, err);
	ms_json_str(j, "path", where);
	ms_json_emit(j, stdout);
}

static void plan_entry(const struct ms_file *f, const char *what, bool json)
{
	char sz[32];

	if (json) {
		struct ms_json *j = ms_json_begin("plan");

		ms_json_str(j, "path", f->path);
		ms_json_num(j, "size", (double)f->size);
		ms_json_str(j, "sha256", ms_download_sha256(f, NULL));
		if (f->algo == MS_HASH_GITSHA1)
			ms_json_str(j, "git_sha1", f->digest);
		ms_json_str(j, "status", what ? what : "would_download");
		ms_json_emit(j, stdout);
	} else {
		ms_format_size(f->size, sz, sizeof(sz));
		printf("%-14s %10s  %s\n", what ? what : "download", sz, f->path);
	}
}

void ms_render_download_plan(const struct ms_download *d, bool json, bool offline, int status,
                             const struct ms_error *err)
{
	uint64_t bytes = 0;
	size_t n = 0;
	char sz[32];

	for (size_t i = 0; i < d->sel.n; i++) {
		bool get = d->o.force || !d->cached[i];

		plan_entry(d->sel.files[i], !get ? "cached" : offline ? "missing" : NULL, json);
		if (get) {
			n++;
			bytes += d->sel.files[i]->size;
		}
	}
	ms_format_size(bytes, sz, sizeof(sz));
	if (json) {
		struct ms_json *j = ms_json_begin("done");
		char *where = ms_download_result_path(d);

		ms_json_bool(j, "dry_run", true);
		ms_json_str(j, "status", status ? "error" : "ok");
		ms_json_str(j, "repo", d->repo->id);
		ms_json_str(j, "revision", d->rev);
		ms_json_num(j, "files", (double)d->sel.n);
		ms_json_num(j, offline ? "missing" : "would_download", (double)n);
		ms_json_num(j, "bytes", (double)bytes);
		if (status)
			ms_json_error(j, status, err);
		ms_json_str(j, "path", where);
		ms_json_emit(j, stdout);
		free(where);
	} else if (offline) {
		printf("[dry-run] offline: %zu of %zu files are not in the cache (%s)\n", n,
		       d->sel.n, sz);
	} else {
		printf("[dry-run] would download %zu of %zu files (%s)\n", n, d->sel.n, sz);
	}
}

void ms_render_download_summary(const struct ms_download *d, double seconds)
{
	char sz[32];

	if (!d->sel.n) /* nothing selected: the warning said so */
		return;
	ms_format_size(d->fetched, sz, sizeof(sz));
	if (d->ndownloaded)
		ms_info("%zu file(s) downloaded (%s in %.1fs), %zu cached", d->ndownloaded, sz,
		        seconds, d->ncached);
	else
		ms_info("all %zu file(s) cached", d->ncached);
}

/* After a failed transfer: each other cause once, with how many files it stopped. */
void ms_render_download_failures(const struct ms_download *d)
{
	const struct ms_xfer_job *causes[8];
	size_t counts[8], n = ms_download_other_failures(d, causes, counts, 8);
	size_t stopped = ms_download_stopped(d);

	for (size_t i = 0; i < n; i++)
		if (counts[i] > 1)
			ms_ui_error("%s (and %zu more file(s) failed the same way)",
			            causes[i]->err->msg, counts[i] - 1);
		else
			ms_ui_error("%s", causes[i]->err->msg);
	if (stopped && d->first_failure && d->first_failure->status == MS_ESTORAGE)
		ms_info("%zu other file(s) were not finished; their partials are kept: run the "
		        "same command again to resume",
		        stopped);
	else if (stopped && d->first_failure && d->first_failure->status != MS_EINTR)
		ms_info("%zu other file(s) were stopped: they would fail the same way", stopped);
}
