/*
 * mscli download REPO [FILE...]
 *
 * list the revision -> pick files -> check every path -> see what the
 * cache already has -> lock -> fetch the rest (engine) -> write the cache's
 * bookkeeping -> print where it is.  A warm cache costs one listing request
 * and no lock; --offline costs none.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/cli.h"
#include "mscli/clock.h"
#include "mscli/env.h"
#include "mscli/filter.h"
#include "mscli/fs.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/render.h"
#include "mscli/store.h"
#include "mscli/strbuf.h"
#include "mscli/transfer.h"

struct dl_opts {
	int type; /* enum ms_repo_type + 1; 0 when not given */
	char *revision;
	struct ms_filter filter;
	char *local_dir;
	int max_workers, connections;
	bool force, dry_run;
	char *output;
	char *repo; /* --model / --dataset REPO, as `modelscope download` takes it */
};

enum {
	O_TYPE = 1,
	O_REVISION,
	O_INCLUDE,
	O_EXCLUDE,
	O_LOCAL_DIR,
	O_MAX_WORKERS,
	O_CONNECTIONS,
	O_FORCE,
	O_DRY_RUN,
	O_MODEL,
	O_DATASET,
	O_OUTPUT = 'o',
};

static const struct option dl_longopts[] = {
        {"type", required_argument, NULL, O_TYPE},
        {"repo-type", required_argument, NULL, O_TYPE},
        {"repo_type", required_argument, NULL, O_TYPE},
        {"revision", required_argument, NULL, O_REVISION},
        {"include", required_argument, NULL, O_INCLUDE},
        {"exclude", required_argument, NULL, O_EXCLUDE},
        {"local-dir", required_argument, NULL, O_LOCAL_DIR},
        {"local_dir", required_argument, NULL, O_LOCAL_DIR},
        {"model", required_argument, NULL, O_MODEL},
        {"dataset", required_argument, NULL, O_DATASET},
        {"max-workers", required_argument, NULL, O_MAX_WORKERS},
        {"connections", required_argument, NULL, O_CONNECTIONS},
        {"force", no_argument, NULL, O_FORCE},
        {"force-download", no_argument, NULL, O_FORCE},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"output", required_argument, NULL, O_OUTPUT},
        {NULL, 0, NULL, 0},
};

static int dl_option(void *state, int id, const char *arg, struct ms_error *err)
{
	struct dl_opts *o = state;
	uint64_t v;

	switch (id) {
	case O_TYPE:
		if (!strcmp(arg, "model"))
			o->type = MS_REPO_MODEL + 1;
		else if (!strcmp(arg, "dataset"))
			o->type = MS_REPO_DATASET + 1;
		else
			return ms_error_set(err, MS_EUSAGE,
			                    "--type takes model or dataset, not '%s'", arg);
		return 0;
	case O_REVISION:
		free(o->revision);
		o->revision = xstrdup(arg);
		return 0;
	case O_INCLUDE:
	case O_EXCLUDE:
		ms_filter_add(&o->filter, id == O_INCLUDE, arg);
		return 0;
	case O_LOCAL_DIR:
		free(o->local_dir);
		o->local_dir = xstrdup(arg);
		return 0;
	case O_MAX_WORKERS:
	case O_CONNECTIONS:
		if (ms_parse_u64(arg, &v) || v < 1 || v > 64)
			return ms_error_set(
			        err, MS_EUSAGE, "--%s takes a number from 1 to 64, not '%s'",
			        id == O_MAX_WORKERS ? "max-workers" : "connections", arg);
		if (id == O_MAX_WORKERS)
			o->max_workers = (int)v;
		else
			o->connections = (int)v;
		return 0;
	case O_FORCE:
		o->force = true;
		return 0;
	case O_DRY_RUN:
		o->dry_run = true;
		return 0;
	case O_OUTPUT:
		free(o->output);
		o->output = xstrdup(arg);
		return 0;
	case O_MODEL:
	case O_DATASET:
		/* modelscope download --model o/n [FILE...]: every positional is a FILE */
		if (o->repo)
			return ms_error_set(err, MS_EUSAGE, "--model/--dataset given twice");
		o->repo = xstrdup(arg);
		o->type = (id == O_MODEL ? MS_REPO_MODEL : MS_REPO_DATASET) + 1;
		return 0;
	default:
		return ms_error_set(err, MS_EUSAGE, "unknown option");
	}
}

static void dl_release(void *state)
{
	struct dl_opts *o = state;

	free(o->revision);
	free(o->local_dir);
	free(o->output);
	free(o->repo);
	ms_filter_release(&o->filter);
}

/* Everything one run holds. */
struct dl {
	struct ms_global *g;
	struct dl_opts *o;
	struct ms_repo repo;
	struct ms_session sess;
	bool have_sess;
	struct ms_store *st;
	struct ms_listing listing;
	const char *rev;
	struct ms_file **sel; /* selected files, into listing */
	size_t nsel;
	bool *cached; /* per selected file */
	struct ms_xfer_job *jobs;
	size_t njobs;
	struct ms_progress *progress;
	size_t ndownloaded, ncached, nfailed;
	uint64_t fetched;
	double t0;
	bool single_file; /* exactly one FILE: print its path */
	bool reported;    /* the final line (path or "done" event) is out */
};

static const char *digest_or_null(const struct ms_file *f, const char *actual)
{
	if (f->algo == MS_HASH_SHA256 && f->digest[0])
		return f->digest;
	if (f->algo != MS_HASH_GITSHA1 && actual && actual[0])
		return actual;
	return NULL;
}

/* A listing entry without a hash (ModelScope's "Sha256": null) can only be checked by size. */
static void warn_unhashed(const struct dl *d)
{
	const struct ms_file *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < d->nsel; i++)
		if (d->sel[i]->algo == MS_HASH_NONE && n++ == 0)
			first = d->sel[i];
	if (n && !d->g->quiet)
		ms_warn("%zu file(s) of %s have no hash in the hub's listing ('%s'%s): checked by "
		        "size only",
		        n, d->repo.id, first->path, n > 1 ? ", ..." : "");
}

static void json_file(struct dl *d, const struct ms_file *f, const char *status, const char *actual)
{
	struct ms_json *j = ms_json_begin("file");
	char *local = d->st->ops->file_path(d->st, f);

	ms_json_str(j, "path", f->path);
	ms_json_num(j, "size", (double)f->size);
	ms_json_str(j, "sha256", digest_or_null(f, actual));
	if (f->algo == MS_HASH_GITSHA1)
		ms_json_str(j, "git_sha1", f->digest);
	/* false: the hub gave no hash, only the size was checked ("sha256" is what we got) */
	ms_json_bool(j, "verified", f->algo != MS_HASH_NONE);
	ms_json_str(j, "status", status);
	ms_json_str(j, "local_path", local);
	ms_json_emit(j, stdout);
	free(local);
}

static void on_event(void *arg, const struct ms_event *ev)
{
	struct dl *d = arg;

	ms_progress_event(d->progress, ev);
	if (ev->type == MS_EV_DONE) {
		d->ndownloaded++;
		if (d->g->json)
			json_file(d, ev->job->user, "downloaded", ev->job->actual);
	} else if (ev->type == MS_EV_ERROR) {
		d->nfailed++;
	}
	if (d->g->json && ev->type != MS_EV_DONE) {
		/* progress as JSON at most once a second per file */
		if (ev->type == MS_EV_PROGRESS && (int)(ev->elapsed * 10) % 10)
			return;
		ms_json_engine_event(stdout, ev);
	} else if (!d->progress && !d->g->quiet && ev->type == MS_EV_RETRY) {
		fprintf(stderr, "mscli: retrying '%s': %s\n", ev->job->name,
		        ev->reason ? ev->reason : "");
	}
}

static void on_lock_wait(void *arg, const char *path)
{
	struct dl *d = arg;

	if (!d->g->quiet)
		fprintf(stderr, "mscli: waiting for another process to finish with '%s'\n", path);
}

static int install_cb(void *arg, struct ms_xfer_job *job, struct ms_error *err)
{
	struct dl *d = arg;

	return d->st->ops->install(d->st, job->user, job->part_path, err);
}

static int acquire_cb(void *arg, struct ms_xfer_job *job, struct ms_error *err)
{
	struct dl *d = arg;

	return d->st->ops->acquire(d->st, job, err);
}

static void release_cb(void *arg, struct ms_xfer_job *job)
{
	struct dl *d = arg;

	d->st->ops->release(d->st, job);
}

/* NAME is no file, but files live under NAME/ */
static bool is_folder(const struct ms_listing *l, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->files[i].path, name, n) && l->files[i].path[n] == '/')
			return true;
	return false;
}

/* FILE arguments select exactly those paths; a FILE ending in '/' is a folder. */
static int select_files(struct dl *d, char **files, size_t nfiles, struct ms_error *err)
{
	struct ms_filter folders = {0};
	struct ms_buf missing = MS_BUF_INIT;
	size_t nmissing = 0, nexplicit = 0;
	bool *picked;
	int ret = 0;

	d->sel = xcalloc(d->listing.n + 1, sizeof(*d->sel));
	picked = xcalloc(d->listing.n + 1, sizeof(*picked)); /* a FILE given twice counts once */
	for (size_t i = 0; i < nfiles; i++) {
		size_t len = strlen(files[i]);

		if (len && files[i][len - 1] == '/') {
			ms_filter_add(&folders, true, files[i]);
			continue;
		}
		nexplicit++;
		struct ms_file *f = ms_listing_find(&d->listing, files[i]);

		if (!f) {
			if (nmissing++ < 5)
				ms_buf_addf(
				        &missing, "%s'%s'%s", nmissing > 1 ? ", " : "", files[i],
				        is_folder(&d->listing, files[i]) ? " (a folder: add a '/')"
				                                         : "");
			/* a known-missing file saves transformers a request next time */
			if (d->listing.commit && d->st && d->st->ops->no_exist && !d->o->dry_run)
				d->st->ops->no_exist(d->st, d->listing.commit, files[i]);
			continue;
		}
		if (!picked[f - d->listing.files]) {
			picked[f - d->listing.files] = true;
			d->sel[d->nsel++] = f;
		}
	}
	if (nmissing) {
		ret = ms_error_set(err, MS_ENOTFOUND, "%s %s at '%s' has no file %s%s",
		                   ms_repo_type_name(d->repo.type), d->repo.id, d->rev,
		                   missing.data, nmissing > 5 ? " and more" : "");
		goto out;
	}
	for (size_t i = 0; i < d->listing.n; i++) {
		struct ms_file *f = &d->listing.files[i];
		bool take;

		if (nfiles)
			take = folders.ninclude && ms_filter_match(&folders, f->path);
		else
			take = ms_filter_match(&d->o->filter, f->path);
		if (take && !picked[i]) {
			picked[i] = true;
			d->sel[d->nsel++] = f;
		}
	}
	if (nfiles > nexplicit && !d->nsel)
		ret = ms_error_set(err, MS_ENOTFOUND,
		                   "no file of %s at '%s' is in the folders given", d->repo.id,
		                   d->rev);
out:
	free(picked);
	ms_filter_release(&folders);
	ms_buf_release(&missing);
	return ret;
}

/* Before anything is written: every path must be safe and storable. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a" and "a/b" both listed: one would have to be a file and a directory at once. */
static int check_file_dir_clash(struct dl *d, struct ms_error *err)
{
	const char **paths = xcalloc(d->nsel + 1, sizeof(*paths));
	int ret = 0;

	for (size_t i = 0; i < d->nsel; i++)
		paths[i] = d->sel[i]->path;
	qsort(paths, d->nsel, sizeof(*paths), cmp_str);
	for (size_t i = 0; i < d->nsel && !ret; i++) {
		char *dir = xstrdup(paths[i]), *slash;

		while (!ret && (slash = strrchr(dir, '/')) != NULL) {
			const char *key = dir;

			*slash = '\0';
			if (bsearch(&key, paths, d->nsel, sizeof(*paths), cmp_str))
				ret = ms_error_set(
				        err, MS_EUNSAFE,
				        "the listing of %s has both a file '%s' and '%s' "
				        "inside it; nothing was written",
				        d->repo.id, dir, paths[i]);
		}
		free(dir);
	}
	free(paths);
	return ret;
}

static int check_paths(struct dl *d, struct ms_error *err)
{
	for (size_t i = 0; i < d->nsel; i++) {
		const char *why = NULL, *p = d->sel[i]->path;

		if (ms_path_check(p, &why) == 0 && d->st->ops->reserved)
			why = d->st->ops->reserved(d->st, p);
		if (why) {
			struct ms_buf shown = MS_BUF_INIT;

			/* show control characters escaped: the message is one line */
			for (const unsigned char *c = (const unsigned char *)p; *c; c++)
				if (*c < 0x20 || *c == 0x7f)
					ms_buf_addf(&shown, "\\x%02x", *c);
				else
					ms_buf_addch(&shown, (char)*c);
			ms_error_set(err, MS_EUNSAFE,
			             "refusing unsafe path '%s' in the listing of %s: %s; nothing "
			             "was written",
			             shown.data ? shown.data : "", d->repo.id, why);
			ms_buf_release(&shown);
			return MS_EUNSAFE;
		}
	}
	return check_file_dir_clash(d, err);
}

/* --offline, or HF_HUB_OFFLINE for Hugging Face */
static bool is_offline(const struct dl *d)
{
	return d->g->offline || (d->repo.hub == MS_HUB_HF && ms_hf_offline());
}

/* --dry-run: what a real run would do.  Offline, what is not cached is "missing". */
static void print_plan(struct dl *d, int status, const struct ms_error *err)
{
	uint64_t bytes = 0;
	size_t n = 0;
	char sz[32];
	bool offline = is_offline(d);

	for (size_t i = 0; i < d->nsel; i++) {
		const struct ms_file *f = d->sel[i];
		bool get = d->o->force || !d->cached[i];

		if (d->g->json) {
			struct ms_json *j = ms_json_begin("plan");

			ms_json_str(j, "path", f->path);
			ms_json_num(j, "size", (double)f->size);
			ms_json_str(j, "sha256", digest_or_null(f, NULL));
			if (f->algo == MS_HASH_GITSHA1)
				ms_json_str(j, "git_sha1", f->digest);
			ms_json_str(j, "status",
			            !get      ? "cached"
			            : offline ? "missing"
			                      : "would_download");
			ms_json_emit(j, stdout);
		} else {
			ms_format_size(f->size, sz, sizeof(sz));
			printf("%-14s %10s  %s\n",
			       !get      ? "cached"
			       : offline ? "missing"
			                 : "download",
			       sz, f->path);
		}
		if (get) {
			n++;
			bytes += f->size;
		}
	}
	ms_format_size(bytes, sz, sizeof(sz));
	if (d->g->json) {
		struct ms_json *j = ms_json_begin("done");
		char *where = d->single_file && d->nsel ? d->st->ops->file_path(d->st, d->sel[0])
		                                        : d->st->ops->result_path(d->st);

		ms_json_bool(j, "dry_run", true);
		ms_json_str(j, "status", status ? "error" : "ok");
		ms_json_str(j, "repo", d->repo.id);
		ms_json_str(j, "revision", d->rev);
		ms_json_num(j, "files", (double)d->nsel);
		ms_json_num(j, offline ? "missing" : "would_download", (double)n);
		ms_json_num(j, "bytes", (double)bytes);
		if (status) {
			ms_json_str(j, "code", ms_err_name(status));
			ms_json_num(j, "exit_code", ms_err_exit_code(status));
			ms_json_str(j, "message", err->msg);
		}
		ms_json_str(j, "path", where);
		ms_json_emit(j, stdout);
		free(where);
	} else if (offline) {
		printf("[dry-run] offline: %zu of %zu files are not in the cache (%s)\n", n,
		       d->nsel, sz);
	} else {
		printf("[dry-run] would download %zu of %zu files (%s)\n", n, d->nsel, sz);
	}
	d->reported = true;
}

static int lookup_all(struct dl *d)
{
	size_t missing = 0;

	for (size_t i = 0; i < d->nsel; i++) {
		d->cached[i] =
		        !d->o->force && d->st->ops->lookup(d->st, d->sel[i]) == MS_FILE_CACHED;
		missing += !d->cached[i];
	}
	return (int)missing;
}

static uint64_t env_size(const char *name, uint64_t def)
{
	const char *v = ms_getenv(name);
	uint64_t n;

	if (v && ms_parse_size(v, &n) == 0)
		return n;
	if (v)
		ms_warn("ignoring %s='%s': not a size", name, v);
	return def;
}

static int fetch(struct dl *d, struct ms_error *err)
{
	struct ms_engine_opts eo;
	int ret = 0;

	d->jobs = xcalloc(d->nsel, sizeof(*d->jobs));
	for (size_t i = 0; i < d->nsel; i++) {
		struct ms_file *f = d->sel[i];
		struct ms_xfer_job *job;

		if (d->cached[i])
			continue;
		job = &d->jobs[d->njobs++];
		ret = d->st->ops->prepare(d->st, f, job, err);
		if (ret)
			return ret;
		job->url = d->sess.ops->file_url(&d->sess, &d->repo, &d->listing, f);
		job->first_url = f->location; /* HF: the HEAD's answer saves a redirect */
		job->name = f->path;
		job->size = f->size;
		job->algo = f->algo;
		memcpy(job->digest, f->digest, sizeof(job->digest));
		job->install = install_cb;
		job->install_arg = d;
		job->lock_fd = -1;
		if (d->st->ops->acquire) {
			job->acquire = acquire_cb;
			job->release = release_cb;
		}
		job->user = f;
		if (d->o->force) {
			/* --force: do not resume either */
			unlink(job->part_path);
			unlink(job->state_path);
		}
	}
	ms_engine_opts_init(&eo);
	if (d->o->max_workers)
		eo.max_workers = d->o->max_workers;
	if (d->o->connections)
		eo.connections = d->o->connections;
	eo.range_threshold = env_size("MSCLI_RANGE_THRESHOLD", eo.range_threshold);
	eo.chunk_size = env_size("MSCLI_CHUNK_SIZE", eo.chunk_size);
	if (eo.chunk_size < 65536)
		eo.chunk_size = 65536;
	eo.write_buffer = (size_t)env_size("MSCLI_WRITE_BUFFER", eo.write_buffer);
	eo.net = &d->sess.net;
	eo.auth = &d->sess.auth;
	eo.on_event = on_event;
	eo.event_arg = d;
	if (d->g->progress)
		d->progress = ms_progress_new(stderr);
	ret = ms_engine_run(&eo, d->jobs, d->njobs);
	for (size_t i = 0; i < d->njobs; i++)
		d->fetched += d->jobs[i].fetched;
	if (ret) {
		/* one line per failed file; the first one is the returned error */
		const struct ms_xfer_job *first = NULL;

		for (size_t i = 0; i < d->njobs; i++) {
			if (!d->jobs[i].status)
				continue;
			if (!first)
				first = &d->jobs[i];
			else if (d->jobs[i].status != MS_EINTR)
				fprintf(stderr, "mscli: error: %s\n", d->jobs[i].err.msg);
		}
		if (!first)
			return ms_error_set(err, ret, "download failed");
		*err = first->err;
		err->code = first->status;
		if (first->status == MS_EINTR)
			ms_error_set(err, MS_EINTR,
			             "interrupted; the partial downloads are kept: run the same "
			             "command again to resume");
	}
	return ret;
}

/* -o PATH: its directory must exist and take a new file; PATH must not be a directory. */
static int check_output(const char *path, struct ms_error *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *parent = slash ? dir : ".";
	struct stat st;
	int ret = 0, e = 0;

	if (slash)
		slash[slash == dir ? 1 : 0] = '\0'; /* "/x" -> "/" */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		ret = ms_error_set(err, MS_EUSAGE, "-o '%s' is a directory: name the file", path);
	else if (stat(parent, &st) != 0)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else if (access(parent, W_OK) != 0)
		e = errno;
	if (e) {
		ms_error_errno(err, e, "cannot write into", parent);
		/* a local path that cannot take the file: storage, whatever errno says */
		ret = err->code = MS_ESTORAGE;
	}
	free(dir);
	return ret;
}

static int copy_out(const char *src, const char *dst, struct ms_error *err)
{
	int in, r, e;

	if (strcmp(dst, "-"))
		return ms_copy_file_atomic(src, dst, err);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return ms_error_errno(err, errno, "cannot open", src);
	r = ms_copy_fd(in, STDOUT_FILENO);
	e = errno;
	close(in);
	if (r == -2 && e == EPIPE)
		return 0; /* the reader had enough (| head): not an error */
	if (r)
		return ms_error_errno(err, e, r == -1 ? "cannot read" : "cannot write",
		                      r == -1 ? src : "standard output");
	return 0;
}

static int report(struct dl *d, int status, struct ms_error *err)
{
	char *where = NULL;
	char sz[32];
	int ret = status;

	d->reported = true;
	if (!status) {
		if (d->single_file)
			where = d->st->ops->file_path(d->st, d->sel[0]);
		else
			where = d->st->ops->result_path(d->st);
		if (d->o->output) {
			ret = copy_out(where, d->o->output, err);
			free(where);
			where = !ret && strcmp(d->o->output, "-") ? xstrdup(d->o->output) : NULL;
		}
	}
	if (d->g->json) {
		struct ms_json *j = ms_json_begin("done");

		ms_json_str(j, "status", ret ? "error" : "ok");
		ms_json_str(j, "repo", d->repo.id);
		ms_json_str(j, "revision", d->rev);
		ms_json_num(j, "files", (double)d->nsel);
		ms_json_num(j, "downloaded", (double)d->ndownloaded);
		ms_json_num(j, "cached", (double)d->ncached);
		ms_json_num(j, "failed", (double)d->nfailed);
		ms_json_num(j, "bytes_fetched", (double)d->fetched);
		ms_json_num(j, "seconds", ms_now() - d->t0);
		if (ret) {
			ms_json_str(j, "code", ms_err_name(ret));
			ms_json_num(j, "exit_code", ms_err_exit_code(ret));
			ms_json_str(j, "message", err->msg);
		}
		ms_json_str(j, "path", where);
		ms_json_emit(j, stdout);
	} else if (where) {
		printf("%s\n", where);
	}
	if (!ret && !d->g->quiet && d->nsel) { /* nothing selected: the warning said so */
		ms_format_size(d->fetched, sz, sizeof(sz));
		if (d->ndownloaded)
			fprintf(stderr, "mscli: %zu file(s) downloaded (%s in %.1fs), %zu cached\n",
			        d->ndownloaded, sz, ms_now() - d->t0, d->ncached);
		else
			fprintf(stderr, "mscli: all %zu file(s) cached\n", d->ncached);
	}
	free(where);
	return ret;
}

static int run_offline(struct dl *d, char **files, size_t nfiles, struct ms_error *err)
{
	bool complete_known = false;
	struct ms_buf miss = MS_BUF_INIT;
	size_t nmiss = 0;
	int ret;

	ret = d->st->ops->offline_listing(d->st, d->rev, &d->listing, &complete_known, err);
	if (ret)
		return ret;
	if (!d->listing.n) {
		char *where = d->st->ops->result_path(d->st);

		ret = ms_error_set(err, MS_EOFFLINE, "offline: %s at '%s' is not in the cache (%s)",
		                   d->repo.id, d->rev, where);
		free(where);
		return ret;
	}
	ret = select_files(d, files, nfiles, err);
	if (ret == MS_ENOTFOUND) {
		char why[sizeof(err->msg)];

		strcpy(why, err->msg);
		return ms_error_set(err, MS_EOFFLINE, "offline: %s", why);
	}
	if (ret)
		return ret;
	d->cached = xcalloc(d->nsel + 1, sizeof(*d->cached));
	for (size_t i = 0; i < d->nsel; i++) {
		d->cached[i] = d->st->ops->lookup(d->st, d->sel[i]) == MS_FILE_CACHED;
		if (!d->cached[i] && nmiss++ < 5)
			ms_buf_addf(&miss, "%s'%s'", nmiss > 1 ? ", " : "", d->sel[i]->path);
	}
	if (nmiss)
		ret = ms_error_set(err, MS_EOFFLINE,
		                   "offline: %zu of %zu file(s) of %s at '%s' are not cached: %s%s",
		                   nmiss, d->nsel, d->repo.id, d->rev, miss.data,
		                   nmiss > 5 ? " and more" : "");
	ms_buf_release(&miss);
	if (d->o->dry_run) {
		/* the plan, and the exit code the real run would have */
		print_plan(d, ret, err);
		return ret;
	}
	if (ret)
		return report(d, ret, err);
	/* named FILEs are there or not; only a whole snapshot can be incomplete */
	if (!complete_known && !nfiles && !d->g->quiet)
		ms_warn("offline: the cache has no file list of %s at '%s' (written by another "
		        "client?); it cannot tell whether the snapshot is complete",
		        d->repo.id, d->rev);
	for (size_t i = 0; i < d->nsel; i++) {
		d->ncached++;
		if (d->g->json)
			json_file(d, d->sel[i], "cached", NULL);
	}
	return report(d, 0, err);
}

static void make_store(struct dl *d, const char *root, const char *commit)
{
	if (d->repo.hub == MS_HUB_HF)
		d->st = ms_store_hf_new(root, d->o->local_dir, &d->repo, d->rev, commit);
	else
		d->st = ms_store_modelscope_new(root, d->o->local_dir, &d->repo, d->rev);
	d->st->on_lock_wait = on_lock_wait;
	d->st->lock_wait_arg = d;
	d->st->force = d->o->force;
}

static bool is_commit_id(const char *rev)
{
	return strlen(rev) == 40 && ms_is_hex(rev, 40);
}

/* After a not-found answer, one request may tell what was meant. */
static void hint_not_found(struct dl *d, char **files, size_t nfiles, struct ms_error *err)
{
	const struct ms_hub_ops *ops = d->sess.ops;
	struct ms_repo as_dataset = d->repo;

	if (!ops->exists)
		return;
	as_dataset.type = MS_REPO_DATASET;
	/* the most common slip: a dataset asked for as a model */
	if (!d->o->type && d->repo.type == MS_REPO_MODEL && !nfiles &&
	    ops->exists(&d->sess, &as_dataset, d->rev, NULL))
		ms_error_append(err, " (there is a dataset %s: add --type dataset)", d->repo.id);
	/* one FILE by HEAD (Hugging Face) that is a folder of the commit */
	else if (d->single_file && d->listing.commit &&
	         ops->exists(&d->sess, &d->repo, d->listing.commit, files[0]))
		ms_error_append(err, " ('%s' is a folder: add a '/')", files[0]);
}

/* FILE is in the snapshot of a commit (no tree cached): its pointer is the listing. */
static bool have_pointer(struct dl *d, const char *file)
{
	struct ms_error e;
	bool complete;
	const struct ms_file *f;

	/* a --local-dir file may have been edited: only a cache pointer names its blob */
	if (d->o->local_dir || !d->st->ops->offline_listing ||
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

/*
 * What the revision holds, with as few requests as the hub allows: one HEAD
 * for a single file on Hugging Face; a revision lookup plus the tree the
 * cache already has for that commit; none at all for a cached commit id.
 */
static int plan(struct dl *d, const char *root, char **files, size_t nfiles, struct ms_error *err)
{
	const struct ms_hub_ops *ops = d->sess.ops;
	char *commit = NULL;
	int ret;

	ms_verbose("listing %s %s at '%s' on %s", ms_repo_type_name(d->repo.type), d->repo.id,
	           d->rev, d->sess.endpoint);
	if (d->single_file && ops->stat_file) {
		if (is_commit_id(d->rev)) {
			make_store(d, root, d->rev);
			if (d->st->ops->local_listing &&
			    d->st->ops->local_listing(d->st, d->rev, &d->listing) == 0 &&
			    ms_listing_find(&d->listing, files[0]))
				return 0;
			ms_listing_release(&d->listing);
			if (!d->o->force && have_pointer(d, files[0]))
				return 0; /* in the snapshot already: no request, as hf_hub_download
				           */
			d->st->ops->free(d->st);
			d->st = NULL;
		}
		ret = ops->stat_file(&d->sess, &d->repo, d->rev, files[0], &d->listing, err);
		if (!d->st)
			make_store(d, root, d->listing.commit);
		if (ret == MS_ENOTFOUND && d->listing.commit && d->st->ops->no_exist &&
		    !d->o->dry_run)
			d->st->ops->no_exist(d->st, d->listing.commit, files[0]);
		return ret;
	}
	if (ops->resolve) {
		ret = ops->resolve(&d->sess, &d->repo, d->rev, &commit, err);
		if (ret)
			return ret;
	}
	make_store(d, root, commit);
	if (commit && d->st->ops->local_listing &&
	    d->st->ops->local_listing(d->st, commit, &d->listing) == 0) {
		ms_verbose("using the cached tree of %s", commit);
		free(commit);
		return 0;
	}
	ms_listing_release(&d->listing);
	ret = ops->list(&d->sess, &d->repo, d->rev, commit, &d->listing, err);
	free(commit);
	(void)nfiles;
	return ret;
}

static int dl_exec(struct ms_global *g, void *state, int argc, char **argv, struct ms_error *err)
{
	struct dl_opts *o = state;
	struct dl d = {.g = g, .o = o, .t0 = ms_now()};
	enum ms_hub_kind hub = MS_HUB_MODELSCOPE;
	char **files = o->repo ? argv : argv + 1;
	size_t nfiles = o->repo ? (size_t)argc : argc > 1 ? (size_t)argc - 1 : 0;
	const char *spec = o->repo ? o->repo : argc ? argv[0] : NULL;
	const char *v = NULL;
	char *root = NULL;
	int ret, missing;

	if (!spec) {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "download: which repo? (mscli download OWNER/NAME [FILE...])");
		goto out;
	}
	if (g->hub >= 0)
		hub = (enum ms_hub_kind)g->hub;
	else if ((v = ms_getenv("MSCLI_HUB")) != NULL) {
		if (!strcmp(v, "hf") || !strcmp(v, "huggingface"))
			hub = MS_HUB_HF;
		else if (strcmp(v, "modelscope") && strcmp(v, "ms")) {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "MSCLI_HUB is '%s', not modelscope or hf", v);
			goto out;
		}
	}
	ret = ms_repo_parse(spec, hub, g->hub >= 0 || v, o->type - 1, &d.repo, err);
	if (ret)
		goto out;
	if (d.repo.file) {
		/* https://huggingface.co/o/n/blob/main/config.json names one file */
		if (nfiles) {
			ret = ms_error_set(err, MS_EUSAGE,
			                   "'%s' names the file '%s': give no FILE as well", spec,
			                   d.repo.file);
			goto out;
		}
		files = &d.repo.file;
		nfiles = 1;
	}
	if (g->hub >= 0 && (int)d.repo.hub != g->hub) {
		ret = ms_error_set(err, MS_EUSAGE, "'%s' is a %s repo but --hub says %s", spec,
		                   ms_hub_name(d.repo.hub), ms_hub_name((enum ms_hub_kind)g->hub));
		goto out;
	}
	if (o->revision && d.repo.revision && strcmp(o->revision, d.repo.revision)) {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "'%s' names revision '%s' but --revision says '%s'", spec,
		                   d.repo.revision, o->revision);
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		const char *why;
		char *f = xstrdup(files[i]);
		size_t len = strlen(f);

		while (len > 1 && f[len - 1] == '/')
			f[--len] = '\0';
		ret = ms_path_check(f, &why);
		free(f);
		if (ret) {
			ret = ms_error_set(err, MS_EUSAGE, "'%s' is not a file path in a repo: %s",
			                   files[i], why);
			goto out;
		}
	}
	if (nfiles && !ms_filter_empty(&o->filter) && !g->quiet)
		ms_warn("--include/--exclude are ignored when FILEs are given");
	d.single_file = nfiles == 1 && files[0][strlen(files[0]) - 1] != '/';
	if (o->output && !d.single_file) {
		ret = ms_error_set(err, MS_EUSAGE, "-o/--output needs exactly one FILE");
		goto out;
	}
	if (o->output && !strcmp(o->output, "-") && g->json) {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "--json and -o - both want standard output: use -o PATH");
		goto out;
	}
	if (o->output && strcmp(o->output, "-") && (ret = check_output(o->output, err)) != 0)
		goto out; /* before any byte is fetched */
	if (o->local_dir && g->cache_dir) {
		ret = ms_error_set(err, MS_EUSAGE,
		                   "--local-dir and --cache-dir cannot be combined");
		goto out;
	}
	if (g->offline && o->force) {
		ret = ms_error_set(err, MS_EUSAGE, "--offline and --force cannot be combined");
		goto out;
	}
	ret = ms_global_session(g, d.repo.hub, &d.sess, err);
	if (ret)
		goto out;
	d.have_sess = true;
	if (d.repo.endpoint && !g->endpoint) {
		/* a mirror's URL names the mirror; only --endpoint overrides it */
		ms_session_set_endpoint(&d.sess, d.repo.endpoint);
		d.sess.endpoint_explicit = true;
	}
	d.rev = o->revision       ? o->revision
	        : d.repo.revision ? d.repo.revision
	                          : d.sess.ops->default_revision;
	{
		/* it names files in the cache (refs/<rev>, .mv): refuse what would escape */
		const char *why;

		if (ms_path_check(d.rev, &why)) {
			ret = ms_error_set(err, MS_EUSAGE, "'%s' is not a revision name: %s", d.rev,
			                   why);
			goto out;
		}
	}
	root = g->cache_dir              ? xstrdup(g->cache_dir)
	       : d.repo.hub == MS_HUB_HF ? ms_hf_default_cache()
	                                 : ms_modelscope_default_cache();
	{
		/* printed paths work from any directory: "$(mscli download ...)" after a cd */
		char *abs = ms_absolute_path(root);

		free(root);
		root = abs;
		if (o->local_dir) {
			abs = ms_absolute_path(o->local_dir);
			free(o->local_dir);
			o->local_dir = abs;
		}
	}
	if (is_offline(&d)) {
		make_store(&d, root, NULL);
		ret = run_offline(&d, files, nfiles, err);
		goto out;
	}
	ret = plan(&d, root, files, nfiles, err);
	if (ret == MS_ENOTFOUND)
		hint_not_found(&d, files, nfiles, err);
	if (ret)
		goto out;
	ret = select_files(&d, files, nfiles, err);
	if (ret)
		goto out;
	if (!d.nsel && !g->quiet)
		ms_warn("nothing to download: no file of %s at '%s' matches", d.repo.id, d.rev);
	warn_unhashed(&d);
	ret = check_paths(&d, err);
	if (ret)
		goto out;
	d.cached = xcalloc(d.nsel + 1, sizeof(*d.cached));
	missing = lookup_all(&d);
	if (o->dry_run) {
		print_plan(&d, 0, err);
		goto out;
	}
	if (missing) {
		/* Under the lock, look again: another process may have fetched files meanwhile. */
		if ((ret = d.st->ops->lock(d.st, err)) ||
		    (ret = d.st->ops->begin(d.st, &d.listing, err)))
			goto out;
		d.st->adopt_unindexed = !o->force;
		lookup_all(&d);
	} else if ((ret = d.st->ops->begin(d.st, &d.listing, err)) != 0) {
		/* warm: no lock, and begin() writes only what changed */
		goto out;
	}
	for (size_t i = 0; i < d.nsel; i++) {
		if (!d.cached[i])
			continue;
		d.ncached++;
		if (g->json)
			json_file(&d, d.sel[i], "cached", NULL);
	}
	if (missing && d.nsel > d.ncached && !g->quiet)
		ms_info(g, "mscli: downloading %zu file(s) of %s %s (%s) from %s",
		        d.nsel - d.ncached, ms_repo_type_name(d.repo.type), d.repo.id, d.rev,
		        d.sess.endpoint);
	ret = missing ? fetch(&d, err) : 0;
	{
		struct ms_error ferr;
		int fret;

		/*
		 * Record what is there, also after a failure (what did arrive) and
		 * on a warm run (a ref that moved, .mv of another revision); both
		 * layouts write only what changed.
		 */
		if (ret != MS_EINTR && d.st->ops->needs_created_at &&
		    d.st->ops->needs_created_at(d.st)) {
			ms_error_clear(&ferr);
			if (ms_modelscope_revision_created_at(&d.sess, &d.repo, d.rev,
			                                      &d.listing.created_at, &ferr))
				ms_verbose("no CreatedAt for '%s': %s", d.rev, ferr.msg);
		}
		ms_error_clear(&ferr);
		fret = d.st->ops->finish(d.st, &ferr);
		if (fret && !ret) {
			ret = fret;
			*err = ferr;
		}
	}
	ret = report(&d, ret, err);
out:
	/* --json: a failure before the transfer still ends with its "done" object */
	if (ret && g->json && !d.reported)
		report(&d, ret, err);
	ms_progress_free(d.progress);
	for (size_t i = 0; i < d.njobs; i++) {
		free(d.jobs[i].url);
		free(d.jobs[i].part_path);
		free(d.jobs[i].state_path);
	}
	free(d.jobs);
	free(d.sel);
	free(d.cached);
	if (d.st)
		d.st->ops->free(d.st);
	ms_listing_release(&d.listing);
	if (d.have_sess)
		ms_session_release(&d.sess);
	ms_repo_release(&d.repo);
	free(root);
	return ret;
}

static bool dl_more_values(int id)
{
	return id == O_INCLUDE || id == O_EXCLUDE;
}

const struct ms_cmd ms_cmd_download = {
        .name = "download",
        .summary = "download a model or dataset (or some of its files), verified, into the cache",
        .usage =
                "download REPO [FILE...] [OPTIONS]\n"
                "\n"
                "REPO is owner/name, ms:owner/name, hf:owner/name or a hub URL (a mirror's\n"
                "URL names the mirror; .../blob/REV/FILE names one file).  Prints the\n"
                "snapshot directory (the file's path when exactly one FILE is given).\n"
                "\n"
                "Options:\n"
                "  --type model|dataset    repo type (default model)\n"
                "  --revision REV          branch, tag or commit (ModelScope: master; HF: main)\n"
                "  --include GLOB...       only files matching GLOB (repeatable, comma-separated;\n"
                "                          words after it with * ? [ are more GLOBs)\n"
                "  --exclude GLOB...       skip files matching GLOB (the same rules)\n"
                "  --local-dir DIR         plain files in DIR instead of the cache\n"
                "  --model, --dataset REPO the repo as `modelscope download` takes it (then every\n"
                "                          argument is a FILE; --local_dir, --cache_dir work too)\n"
                "  --max-workers N         files at once, and the connection budget (8)\n"
                "  --connections N         parallel ranges for one large file (8)\n"
                "  --force                 download again even when cached (no resume)\n"
                "  --dry-run               show what would be downloaded; change nothing\n"
                "  -o, --output PATH|-     copy the one FILE to PATH, or stream it to stdout\n"
                "                          ('-'), after it is verified\n"
                "\n"
                "Examples:\n"
                "  mscli download Qwen/Qwen2.5-0.5B-Instruct\n"
                "  mscli download Qwen/Qwen2.5-0.5B-Instruct --include '*.json' --local-dir "
                "./qwen\n"
                "  mscli download --type dataset owner/name --revision v1.0\n"
                "  mscli download hf:openai-community/gpt2 config.json -o - | jq .\n",
        .shortopts = "o:",
        .longopts = dl_longopts,
        .option = dl_option,
        .more_values = dl_more_values,
        .state_size = sizeof(struct dl_opts),
        .exec = dl_exec,
        .release = dl_release,
};
