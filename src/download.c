/*
 * The download operation (download.h):
 *
 *   list the revision -> select files -> check every path -> see what the
 *   store already has -> lock -> fetch the rest (engine) -> write the
 *   store's bookkeeping.
 *
 * A warm cache costs one listing request and no lock; --offline costs none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/download.h"
#include "mscli/env.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/strbuf.h"

#define MAX_NAMED 5 /* files named in one message */

static void note(const struct ms_download *d, enum ms_note kind, const char *fmt, ...)
        MS_PRINTF(3, 4);

static void note(const struct ms_download *d, enum ms_note kind, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	if (!d->cb.note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->cb.note(d->cb.arg, kind, msg);
}

void ms_download_init(struct ms_download *d, struct ms_session *sess, const struct ms_repo *repo,
                      const char *rev, const struct ms_download_opts *o,
                      const struct ms_download_cb *cb)
{
	memset(d, 0, sizeof(*d));
	d->sess = sess;
	d->repo = repo;
	d->rev = rev;
	d->o = *o;
	if (cb)
		d->cb = *cb;
	d->single_file = o->nfiles == 1 && o->files[0][strlen(o->files[0]) - 1] != '/';
}

const char *ms_download_sha256(const struct ms_file *f, const char *actual)
{
	if (f->algo == MS_HASH_SHA256 && f->digest[0])
		return f->digest;
	if (f->algo != MS_HASH_GITSHA1 && actual && actual[0])
		return actual;
	return NULL;
}

char *ms_download_result_path(const struct ms_download *d)
{
	if (d->single_file && d->sel.n)
		return d->st->ops->file_path(d->st, d->sel.files[0]);
	return d->st->ops->result_path(d->st);
}

static void store_notice(void *arg, const char *msg)
{
	note(arg, MS_NOTE_WARN, "%s", msg);
}

static void store_lock_wait(void *arg, const char *path)
{
	const struct ms_download *d = arg;

	if (d->cb.lock_wait)
		d->cb.lock_wait(d->cb.arg, path);
}

static void make_store(struct ms_download *d, const char *commit)
{
	const struct ms_hub *hub = d->repo->hub;

	if (d->o.local_dir)
		d->st = hub->local_store(d->o.local_dir, d->repo, d->rev, commit);
	else
		d->st = hub->cache_store(d->o.cache_root, d->repo, d->rev, commit);
	d->st->on_lock_wait = store_lock_wait;
	d->st->on_notice = store_notice;
	d->st->lock_wait_arg = d;
	d->st->force = d->o.force;
}

/* After a not-found answer, one request may tell what was meant. */
static void hint_not_found(struct ms_download *d, struct ms_error *err)
{
	const struct ms_hub *hub = d->repo->hub;
	struct ms_repo as_dataset = *d->repo;

	if (!hub->exists)
		return;
	as_dataset.type = MS_REPO_DATASET;
	/* the most common slip: a dataset asked for as a model */
	if (!d->o.type_given && d->repo->type == MS_REPO_MODEL && !d->o.nfiles &&
	    hub->exists(d->sess, &as_dataset, d->rev, NULL))
		ms_error_append(err, " (there is a dataset %s: add --type dataset)", d->repo->id);
	/* one FILE by HEAD (Hugging Face) that is a folder of the commit */
	else if (d->single_file && d->listing.commit &&
	         hub->exists(d->sess, d->repo, d->listing.commit, d->o.files[0]))
		ms_error_append(err, " ('%s' is a folder: add a '/')", d->o.files[0]);
}

/* FILE is in the snapshot of a commit (no tree cached): its pointer is the listing. */
static bool have_pointer(struct ms_download *d, const char *file)
{
	struct ms_error e;
	bool complete;
	const struct ms_file *f;

	/* a --local-dir file may have been edited: only a cache pointer names its blob */
	if (d->o.local_dir || !d->st->ops->offline_listing ||
	    d->st->ops->offline_listing(d->st, d->rev, &d->listing, &complete, &e) != 0)
		return false;
	f = ms_listing_find(&d->listing, file);
	if (f && f->etag) {
		/* only that file: the rest of the walk is not a listing of the commit */
		struct ms_listing one = {.revision = d->listing.revision,
		                         .commit = d->listing.commit};

		ms_file_copy(ms_listing_add(&one), f);
		d->listing.revision = d->listing.commit = NULL;
		ms_listing_release(&d->listing);
		d->listing = one;
		return true;
	}
	ms_listing_release(&d->listing);
	return false;
}

/* One FILE on a hub that can stat it: one HEAD, or no request for a commit already here. */
static int list_one(struct ms_download *d, struct ms_error *err)
{
	const struct ms_hub *hub = d->repo->hub;
	const char *file = d->o.files[0];
	int ret;

	if (ms_is_commit_id(d->rev)) {
		make_store(d, d->rev);
		if (d->st->ops->local_listing &&
		    d->st->ops->local_listing(d->st, d->rev, &d->listing) == 0 &&
		    ms_listing_find(&d->listing, file))
			return 0;
		ms_listing_release(&d->listing);
		if (!d->o.force && have_pointer(d, file))
			return 0; /* in the snapshot already: no request, as hf_hub_download */
		d->st->ops->free(d->st);
		d->st = NULL;
	}
	ret = hub->stat_file(d->sess, d->repo, d->rev, file, &d->listing, err);
	if (!d->st)
		make_store(d, d->listing.commit);
	if (ret == MS_ENOTFOUND && d->listing.commit && d->st->ops->no_exist && !d->o.dry_run)
		d->st->ops->no_exist(d->st, d->listing.commit, file);
	return ret;
}

/*
 * What the revision holds, with as few requests as the hub allows: one HEAD
 * for a single file on Hugging Face; a revision lookup plus the tree the
 * cache already has for that commit; none at all for a cached commit id.
 */
static int list_revision(struct ms_download *d, struct ms_error *err)
{
	const struct ms_hub *hub = d->repo->hub;
	char *commit = NULL;
	int ret;

	ms_verbose("listing %s %s at '%s' on %s", ms_repo_type_name(d->repo->type), d->repo->id,
	           d->rev, d->sess->endpoint);
	if (d->single_file && hub->stat_file)
		return list_one(d, err);
	if (hub->resolve && (ret = hub->resolve(d->sess, d->repo, d->rev, &commit, err)) != 0)
		return ret;
	make_store(d, commit);
	if (commit && d->st->ops->local_listing &&
	    d->st->ops->local_listing(d->st, commit, &d->listing) == 0) {
		ms_verbose("using the cached tree of %s", commit);
		free(commit);
		return 0;
	}
	ms_listing_release(&d->listing);
	ret = hub->list(d->sess, d->repo, d->rev, commit, &d->listing, err);
	free(commit);
	return ret;
}

static const char *store_reserved(void *arg, const char *path)
{
	struct ms_store *st = arg;

	return st->ops->reserved ? st->ops->reserved(st, path) : NULL;
}

/* Select; a named FILE the listing lacks is remembered (HF .no_exist) for loaders. */
static int select_files(struct ms_download *d, struct ms_error *err)
{
	int ret = ms_select(&d->listing, d->o.files, d->o.nfiles, d->o.filter, d->repo, d->rev,
	                    &d->sel, err);

	if (ret == MS_ENOTFOUND && d->listing.commit && d->st->ops->no_exist && !d->o.dry_run)
		for (size_t i = 0; i < d->sel.nmissing; i++)
			d->st->ops->no_exist(d->st, d->listing.commit, d->sel.missing[i]);
	return ret;
}

/* Each selected file looked up; until_missing: stop at the first missing one (then 1). */
static size_t lookup(struct ms_download *d, bool until_missing)
{
	struct ms_dirprobe probe;
	size_t missing = 0;

	if (!d->cached)
		d->cached = xcalloc(d->sel.n + 1, sizeof(*d->cached));
	ms_dirprobe_init(&probe);
	d->st->probe = &probe;
	for (size_t i = 0; i < d->sel.n; i++) {
		d->cached[i] =
		        !d->o.force && d->st->ops->lookup(d->st, d->sel.files[i]) == MS_FILE_CACHED;
		missing += !d->cached[i];
		if (missing && until_missing)
			break;
	}
	d->st->probe = NULL;
	ms_dirprobe_release(&probe);
	return missing;
}

/* A listing entry without a hash (ModelScope's "Sha256": null) can only be checked by size. */
static void warn_unhashed(const struct ms_download *d)
{
	const struct ms_file *first;
	size_t n = ms_select_unhashed(&d->sel, &first);

	if (n)
		note(d, MS_NOTE_WARN,
		     "%zu file(s) of %s have no hash in the hub's listing ('%s'%s): checked by "
		     "size only",
		     n, d->repo->id, first->path, n > 1 ? ", ..." : "");
}

int ms_download_plan(struct ms_download *d, struct ms_error *err)
{
	int ret = list_revision(d, err);

	if (ret == MS_ENOTFOUND)
		hint_not_found(d, err);
	if (!ret)
		ret = select_files(d, err);
	if (ret)
		return ret;
	if (!d->sel.n)
		note(d, MS_NOTE_WARN, "nothing to download: no file of %s at '%s' matches",
		     d->repo->id, d->rev);
	warn_unhashed(d);
	ret = ms_select_check(&d->sel, store_reserved, d->st, d->repo->id, err);
	/*
	 * A download that misses a file looks at every file again under the lock
	 * (ms_download_fetch): here the first missing one is enough to know (2000
	 * stat calls fewer before a cold run's first request).  A dry run shows
	 * each file's state.
	 */
	if (!ret)
		d->nmissing = lookup(d, !d->o.dry_run);
	return ret;
}

/* The error of an offline run: exit 7, with what made it fail. */
static int offline_error(struct ms_error *err)
{
	char why[sizeof(err->msg)];

	strcpy(why, err->msg);
	return ms_error_set(err, MS_EOFFLINE, "offline: %s", why);
}

int ms_download_plan_offline(struct ms_download *d, struct ms_error *err)
{
	struct ms_buf miss = MS_BUF_INIT;
	int ret;

	make_store(d, NULL);
	ret = d->st->ops->offline_listing(d->st, d->rev, &d->listing, &d->complete_known, err);
	if (ret)
		return ret;
	if (!d->listing.n) {
		char *where = d->st->ops->result_path(d->st);

		ret = ms_error_set(err, MS_EOFFLINE, "offline: %s at '%s' is not in the cache (%s)",
		                   d->repo->id, d->rev, where);
		free(where);
		return ret;
	}
	ret = select_files(d, err);
	if (ret == MS_ENOTFOUND)
		return offline_error(err);
	if (ret)
		return ret;
	d->nmissing = lookup(d, false);
	for (size_t i = 0, n = 0; i < d->sel.n && n < MAX_NAMED; i++)
		if (!d->cached[i])
			ms_buf_addf(&miss, "%s'%s'", n++ ? ", " : "", d->sel.files[i]->path);
	if (d->nmissing)
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "offline: %zu of %zu file(s) of %s at '%s' are not cached: %s%s",
		                   d->nmissing, d->sel.n, d->repo->id, d->rev, miss.data,
		                   d->nmissing > MAX_NAMED ? " and more" : "");
	ms_buf_release(&miss);
	/* named FILEs are there or not; only a whole snapshot can be incomplete */
	if (!ret && !d->complete_known && !d->o.nfiles && !d->o.dry_run)
		note(d, MS_NOTE_WARN,
		     "offline: the cache has no file list of %s at '%s' (written by another "
		     "client?); it cannot tell whether the snapshot is complete",
		     d->repo->id, d->rev);
	for (size_t i = 0; i < d->sel.n && !ret && !d->o.dry_run; i++) {
		d->ncached++;
		if (d->cb.file)
			d->cb.file(d->cb.arg, d, d->sel.files[i], "cached", NULL);
	}
	return ret;
}

/* ---- fetching ---- */

static void on_engine_event(void *arg, const struct ms_event *ev)
{
	struct ms_download *d = arg;

	if (ev->type == MS_EV_DONE) {
		d->ndownloaded++;
		if (d->cb.file)
			d->cb.file(d->cb.arg, d, ev->job->user, "downloaded", ev->job->actual);
	} else if (ev->type == MS_EV_ERROR) {
		d->nfailed++;
	}
	if (d->cb.event)
		d->cb.event(d->cb.arg, d, ev);
}

static int install_cb(void *arg, struct ms_xfer_job *job, struct ms_error *err)
{
	struct ms_download *d = arg;

	return d->st->ops->install(d->st, job->user, job->part_path, err);
}

static int acquire_cb(void *arg, struct ms_xfer_job *job, struct ms_error *err)
{
	struct ms_download *d = arg;

	return d->st->ops->acquire(d->st, job->user, &job->lock_fd, err);
}

static void release_cb(void *arg, struct ms_xfer_job *job)
{
	struct ms_download *d = arg;

	d->st->ops->release(d->st, job->user, job->lock_fd);
	job->lock_fd = -1;
}

/* Tuning knobs for benchmarks and tests (MSCLI_CHUNK_SIZE=1M, MSCLI_HASH_THREADS=1...):
 * sizes, or plain counts when count is set. */
static uint64_t env_knob(const struct ms_download *d, const char *name, uint64_t def, bool count)
{
	const char *v = ms_getenv(name);
	uint64_t n;

	if (v && (count ? ms_parse_u64(v, &n) : ms_parse_size(v, &n)) == 0)
		return n;
	if (v)
		note(d, MS_NOTE_WARN, "ignoring %s='%s': not a %s", name, v,
		     count ? "number" : "size");
	return def;
}

static uint64_t env_size(const struct ms_download *d, const char *name, uint64_t def)
{
	return env_knob(d, name, def, false);
}

/* At the file's turn in the engine: where its partial goes (the store makes the folders). */
static int prepare_cb(void *arg, struct ms_xfer_job *job, struct ms_error *err)
{
	struct ms_download *d = arg;
	int ret = d->st->ops->prepare(d->st, job->user, &job->part_path, &job->state_path, err);

	if (!ret && d->o.force) {
		/* --force: do not resume either */
		unlink(job->part_path);
		unlink(job->state_path);
	}
	return ret;
}

static void add_job(struct ms_download *d, struct ms_file *f)
{
	struct ms_xfer_job *job = &d->jobs[d->njobs++];

	job->kind = MS_JOB_GET;
	job->url = d->repo->hub->file_url(d->sess, d->repo, &d->listing, f);
	job->first_url = f->location; /* HF: the HEAD's answer saves a redirect */
	job->name = f->path;
	job->size = f->size;
	job->algo = f->algo;
	memcpy(job->digest, f->digest, sizeof(job->digest));
	job->prepare = prepare_cb;
	job->install = install_cb;
	job->install_arg = d;
	job->lock_fd = -1;
	if (d->st->ops->acquire) {
		job->acquire = acquire_cb;
		job->release = release_cb;
	}
	job->user = f;
}

static bool same_cause(const struct ms_xfer_job *a, const struct ms_xfer_job *b)
{
	/* failed jobs: each has its err */
	return a->status == b->status && a->err->http_status == b->err->http_status;
}

/*
 * One cause, one line: the error is the first file that failed for a reason of its own
 * (not one stopped because another filled the disk), with how many failed the same way.
 * The other causes are left for the caller (ms_download_other_failures), each file's
 * message for -v.
 */
static int failure(struct ms_download *d, int ret, struct ms_error *err)
{
	const struct ms_xfer_job *first = NULL;
	size_t same = 0;

	for (size_t i = 0; i < d->njobs; i++) {
		const struct ms_xfer_job *j = &d->jobs[i];

		if (!j->status)
			continue;
		ms_verbose("failed: %s", j->err->msg);
		if (!first || (first->stopped && !j->stopped))
			first = j;
	}
	if (!first)
		return ms_error_set(err, ret, "download failed");
	for (size_t i = 0; i < d->njobs; i++)
		same += d->jobs[i].status && !d->jobs[i].stopped && same_cause(&d->jobs[i], first);
	*err = *first->err;
	err->code = first->status;
	if (first->status == MS_EINTR)
		return ms_error_set(err, MS_EINTR,
		                    "interrupted; the partial downloads are kept: run the same "
		                    "command again to resume");
	if (same > 1)
		ms_error_append(err, " (and %zu more file(s) failed the same way)", same - 1);
	d->first_failure = first;
	return first->status;
}

size_t ms_download_other_failures(const struct ms_download *d, const struct ms_xfer_job **causes,
                                  size_t *counts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->njobs; i++) {
		const struct ms_xfer_job *j = &d->jobs[i];
		size_t k;

		if (!j->status || j->stopped || !d->first_failure ||
		    same_cause(j, d->first_failure))
			continue;
		for (k = 0; k < n && !same_cause(causes[k], j); k++)
			;
		if (k < n) {
			counts[k]++;
		} else if (n < max) {
			causes[n] = j;
			counts[n++] = 1;
		}
	}
	return n;
}

size_t ms_download_stopped(const struct ms_download *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->njobs; i++)
		n += d->jobs[i].status && d->jobs[i].stopped;
	return n;
}

static int fetch_missing(struct ms_download *d, struct ms_error *err)
{
	struct ms_engine_opts eo;
	int ret = 0;

	d->jobs = xcalloc(d->sel.n + 1, sizeof(*d->jobs));
	for (size_t i = 0; i < d->sel.n; i++)
		if (!d->cached[i])
			add_job(d, d->sel.files[i]);
	ms_engine_opts_init(&eo);
	if (d->o.max_workers)
		eo.max_workers = d->o.max_workers;
	if (d->o.connections)
		eo.connections = d->o.connections;
	eo.range_threshold = env_size(d, "MSCLI_RANGE_THRESHOLD", eo.range_threshold);
	eo.chunk_size = env_size(d, "MSCLI_CHUNK_SIZE", eo.chunk_size);
	if (eo.chunk_size < 65536)
		eo.chunk_size = 65536;
	eo.write_buffer = (size_t)env_size(d, "MSCLI_WRITE_BUFFER", eo.write_buffer);
	eo.hash_threads = (int)env_knob(d, "MSCLI_HASH_THREADS", (uint64_t)eo.hash_threads, true);
	eo.tls_read_ahead =
	        (size_t)env_size(d, "MSCLI_TLS_READ_AHEAD", (uint64_t)eo.tls_read_ahead);
	if (eo.tls_read_ahead > (4u << 20))
		eo.tls_read_ahead = 4u << 20; /* per connection */
	eo.net = &d->sess->net;
	eo.auth = &d->sess->auth;
	eo.on_event = on_engine_event;
	eo.event_arg = d;
	ret = ms_engine_run(&eo, d->jobs, d->njobs);
	for (size_t i = 0; i < d->njobs; i++)
		d->fetched += d->jobs[i].fetched;
	return ret ? failure(d, ret, err) : 0;
}

/*
 * Record what is there, also after a failure (what did arrive) and on a warm
 * run (a ref that moved, .mv of another revision); the stores write only what
 * changed.
 */
static int record(struct ms_download *d, int status, struct ms_error *err)
{
	const struct ms_hub *hub = d->repo->hub;
	struct ms_error ferr;
	int fret;

	if (status != MS_EINTR && hub->revision_created_at && d->st->ops->needs_created_at &&
	    d->st->ops->needs_created_at(d->st)) {
		ms_error_clear(&ferr);
		if (hub->revision_created_at(d->sess, d->repo, d->rev, &d->listing.created_at,
		                             &ferr))
			ms_verbose("no CreatedAt for '%s': %s", d->rev, ferr.msg);
	}
	ms_error_clear(&ferr);
	fret = d->st->ops->finish(d->st, &ferr);
	if (fret && !status) {
		*err = ferr;
		return fret;
	}
	return status;
}

int ms_download_fetch(struct ms_download *d, struct ms_error *err)
{
	int ret;

	if (d->nmissing) {
		/* Under the lock, look again: another process may have fetched files meanwhile. */
		if ((ret = d->st->ops->lock(d->st, err)) ||
		    (ret = d->st->ops->begin(d->st, &d->listing, err)))
			return ret;
		d->st->adopt_unindexed = !d->o.force;
		lookup(d, false);
	} else if ((ret = d->st->ops->begin(d->st, &d->listing, err)) != 0) {
		/* warm: no lock, and begin() writes only what changed */
		return ret;
	}
	for (size_t i = 0; i < d->sel.n; i++) {
		if (!d->cached[i])
			continue;
		d->ncached++;
		if (d->cb.file)
			d->cb.file(d->cb.arg, d, d->sel.files[i], "cached", NULL);
	}
	if (d->nmissing && d->sel.n > d->ncached)
		note(d, MS_NOTE_INFO, "downloading %zu file(s) of %s %s (%s) from %s",
		     d->sel.n - d->ncached, ms_repo_type_name(d->repo->type), d->repo->id, d->rev,
		     d->sess->endpoint);
	ret = d->nmissing ? fetch_missing(d, err) : 0;
	return record(d, ret, err);
}

void ms_download_release(struct ms_download *d)
{
	for (size_t i = 0; i < d->njobs; i++) {
		free(d->jobs[i].url);
		free(d->jobs[i].part_path);
		free(d->jobs[i].state_path);
		ms_job_err_free(&d->jobs[i]);
	}
	free(d->jobs);
	free(d->cached);
	ms_selection_release(&d->sel);
	if (d->st)
		d->st->ops->free(d->st);
	ms_listing_release(&d->listing);
	memset(d, 0, sizeof(*d));
}
