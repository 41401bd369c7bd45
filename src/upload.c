/*
 * The upload operation (upload.h), in the order the work is done:
 *
 *   walk     PATH's files (upload-walk.c)
 *   account  whoami: a token that works, a namespace that is the user's
 *   repo     created when missing; the branch and its head
 *   plan     the hub's mode for each file and its digest of the same path
 *   hash     every file once, on all cores, in the digest the hub names it by
 *   objects  LFS objects the hub lacks go out through the engine (in parallel,
 *            parts too), then are completed and verified
 *   commit   in batches the hub accepts; a commit whose answer is lost is not
 *            sent again blindly: the branch is read to learn whether it landed
 *
 * A file the branch already has is left out; when nothing is left there is
 * no commit.  Objects the hub has (from an interrupted run, or any repo)
 * send no byte, which is what makes a second run resume.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hashpool.h"
#include "mscli/log.h"
#include "mscli/upload.h"

/* Bytes of inline files per commit: the body is streamed, but hubs cap request sizes. */
#define COMMIT_MAX_INLINE (256ull << 20)
/* Rounds of "PUT, then ask again for the URLs that expired". */
#define MAX_REFRESH_ROUNDS 3
/* Attempts of a commit that is known not to have landed. */
#define MAX_COMMIT_ATTEMPTS 3

void ms_upload_init(struct ms_upload *u, struct ms_session *sess, const struct ms_repo *repo,
                    const char *branch, const struct ms_upload_opts *o,
                    const struct ms_upload_cb *cb)
{
	memset(u, 0, sizeof(*u));
	u->sess = sess;
	u->repo = repo;
	u->branch = branch;
	u->o = *o;
	u->cb = *cb;
}

void ms_upload_release(struct ms_upload *u)
{
	ms_upfiles_free(u->files, u->n);
	ms_account_release(&u->who);
	free(u->head);
	ms_commit_result_release(&u->result);
	memset(u, 0, sizeof(*u));
}

static void note(struct ms_upload *u, bool warning, const char *fmt, ...) MS_PRINTF(3, 4);

static void note(struct ms_upload *u, bool warning, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap, NULL);
	va_end(ap);
	if (u->cb.note)
		u->cb.note(u->cb.arg, warning, msg);
	free(msg);
}

static void report(struct ms_upload *u, const struct ms_upfile *f, enum ms_upload_status st)
{
	if (u->cb.file)
		u->cb.file(u->cb.arg, u, f, st);
}

/* ---- account, repo, branch ---- */

static int check_account(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	int ret;

	if (!u->sess->auth.token)
		return ms_error_set(err, MS_EAUTH,
		                    "uploading needs a token: run 'mscli login --hub %s' (or give "
		                    "--token, or set %s)",
		                    hub->name, hub->token_env);
	if (!u->repo->owner)
		return ms_error_set(err, MS_EUSAGE, "name the repo with its namespace: owner/%s",
		                    u->repo->name);
	if (!hub->whoami)
		return 0;
	ret = hub->whoami(u->sess, &u->who, err);
	if (ret)
		return ret;
	if (!ms_account_owns(&u->who, u->repo->owner)) {
		struct ms_buf orgs = MS_BUF_INIT;

		for (size_t i = 0; i < u->who.norgs; i++)
			ms_buf_addf(&orgs, "%s%s", i ? ", " : "", u->who.orgs[i]);
		ret = ms_error_set(err, MS_EAUTH,
		                   "'%s' is not your namespace: the token is %s's (organisations: "
		                   "%s)",
		                   u->repo->owner, u->who.name, orgs.len ? orgs.data : "none");
		ms_buf_release(&orgs);
	}
	return ret;
}

static int prepare_repo(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	int ret = hub->repo_create(u->sess, u->repo, u->o.private, &u->created_repo, err);

	if (ret)
		return ret;
	if (u->created_repo)
		note(u, false, "created %s %s %s%s", hub->name, ms_repo_type_name(u->repo->type),
		     u->repo->id, u->o.private ? " (private)" : "");
	else if (u->o.private)
		note(u, true,
		     "%s exists: --private applies only when the repo is created; its "
		     "visibility is unchanged",
		     u->repo->id);
	ret = hub->branch_head(u->sess, u->repo, u->branch, true, &u->head, &u->created_branch,
	                       err);
	if (!ret && u->created_branch)
		note(u, false, "created the branch '%s' from the default branch", u->branch);
	return ret;
}

/* ---- hashing ---- */

struct hashing {
	struct ms_upload *u;
	size_t done, n;
};

static void hashed(void *arg, struct ms_hash_item *it)
{
	struct hashing *h = arg;
	struct ms_upfile *f = it->user;

	h->done++;
	if (it->status)
		return;
	snprintf(f->oid, sizeof(f->oid), "%s",
	         f->algo == MS_HASH_GITSHA1 ? it->gitsha1 : it->sha256);
	f->mtime_ns = it->mtime_ns;
	h->u->nhashed++;
	report(h->u, f, MS_UP_HASHED);
}

static void hash_progress(void *arg, uint64_t done, uint64_t total)
{
	struct hashing *h = arg;

	if (h->u->cb.hashing)
		h->u->cb.hashing(h->u->cb.arg, done, total, h->done, h->n);
}

static int hash_files(struct ms_upload *u, struct ms_error *err)
{
	struct ms_hash_item *items = xcalloc(u->n + 1, sizeof(*items));
	struct hashing h = {.u = u};
	struct ms_hashpool_opts o = {.arg = &h, .item_done = hashed, .progress = hash_progress};
	int ret;

	for (size_t i = 0; i < u->n; i++) {
		struct ms_upfile *f = &u->files[i];

		if (f->ignored)
			continue;
		items[h.n].path = f->local;
		items[h.n].size = f->size;
		items[h.n].algos = MS_HASHES(f->algo);
		items[h.n].user = f;
		h.n++;
	}
	ret = ms_hashpool_run(items, h.n, &o, err);
	free(items);
	return ret;
}

/* The file is as it was hashed (size and mtime): else its bytes may not match its oid. */
static int still_same(const struct ms_upfile *f, struct ms_error *err)
{
	struct stat st;

	if (stat(f->local, &st) < 0)
		return ms_error_errno(err, errno, "cannot read", f->local);
	if ((uint64_t)st.st_size != f->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != f->mtime_ns)
		return ms_error_set(err, MS_EFAIL,
		                    "'%s' changed while it was uploaded; upload again when it is "
		                    "still",
		                    f->local);
	return 0;
}

/* ---- LFS objects ---- */

/* Changed LFS files, one per object (the same bytes at two paths go once). */
static struct ms_upfile **unique_objects(struct ms_upload *u, size_t *n)
{
	struct ms_upfile **v = xcalloc(u->n + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < u->n; i++) {
		struct ms_upfile *f = &u->files[i];
		bool dup = false;

		if (!f->lfs || f->ignored || !strcmp(f->oid, f->remote))
			continue;
		for (size_t j = 0; j < *n && !dup; j++)
			dup = !strcmp(v[j]->oid, f->oid);
		if (!dup)
			v[(*n)++] = f;
	}
	return v;
}

static int batch(struct ms_upload *u, struct ms_upfile **objs, size_t n, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	size_t step = hub->lfs_batch_max ? hub->lfs_batch_max : 64;

	for (size_t i = 0; i < n; i += step) {
		int ret = hub->lfs_batch(u->sess, u->repo, u->branch, objs + i,
		                         n - i < step ? n - i : step, err);

		if (ret)
			return ret;
	}
	return 0;
}

/* One PUT job per object, or per part of a multipart object; small objects first. */
static struct ms_xfer_job *make_jobs(struct ms_upfile **objs, size_t n, size_t *njobs)
{
	struct ms_xfer_job *jobs;
	size_t k = 0, total = 0;

	for (size_t i = 0; i < n; i++)
		if (objs[i]->put)
			total += objs[i]->put->nparts ? objs[i]->put->nparts : 1;
	jobs = xcalloc(total + 1, sizeof(*jobs));
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct ms_upfile *f = objs[i];
			struct ms_upload_target *t = f->put;

			if (!t || t->done || (pass == 0) != (t->nparts == 0))
				continue;
			for (size_t p = 0; p < (t->nparts ? t->nparts : 1); p++) {
				struct ms_xfer_job *j = &jobs[k++];

				j->kind = MS_JOB_PUT;
				j->user = f;
				j->src_path = f->local;
				if (t->nparts) {
					j->url = xstrdup(t->part_urls[p]);
					j->name = xasprintf("%s (part %zu/%zu)", f->path, p + 1,
					                    t->nparts);
					j->offset = p * t->chunk_size;
					j->size = f->size - j->offset < t->chunk_size
					                  ? f->size - j->offset
					                  : t->chunk_size;
				} else {
					j->url = xstrdup(t->href);
					j->name = xstrdup(f->path);
					j->size = f->size;
				}
			}
		}
	}
	*njobs = k;
	return jobs;
}

static void free_jobs(struct ms_xfer_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].url);
		free((char *)jobs[i].name);
		free(jobs[i].etag);
		ms_buf_release(&jobs[i].answer);
	}
	free(jobs);
}

static void on_engine_event(void *arg, const struct ms_event *ev)
{
	struct ms_upload *u = arg;

	if (u->cb.event)
		u->cb.event(u->cb.arg, ev);
}

/* What the PUTs left: ETags and answers to the targets; objects whose URL expired lose
 * their target (asked for again); *expired counts them. */
static int collect(struct ms_upload *u, struct ms_xfer_job *jobs, size_t n, size_t *expired,
                   struct ms_error *err)
{
	int ret = 0;

	*expired = 0;
	for (size_t i = 0; i < n; i++) {
		struct ms_xfer_job *j = &jobs[i];
		struct ms_upfile *f = j->user;
		struct ms_upload_target *t = f->put;

		u->bytes_sent += j->sent;
		if (!t)
			continue; /* another part of it expired already */
		if (j->status && j->expired) {
			ms_upload_target_free(t);
			f->put = NULL;
			(*expired)++;
			continue;
		}
		if (j->status) {
			if (!ret) {
				ret = j->status;
				*err = j->err;
			}
			continue;
		}
		if (t->nparts) {
			size_t part = (size_t)(j->offset / t->chunk_size) + 1;

			if (!t->etags)
				t->etags = xcalloc(t->nparts, sizeof(*t->etags));
			free(t->etags[part - 1]);
			t->etags[part - 1] = j->etag;
			j->etag = NULL;
		} else {
			ms_buf_release(&t->answer);
			t->answer = j->answer;
			j->answer = (struct ms_buf)MS_BUF_INIT;
		}
		t->done = ++t->parts_done == (t->nparts ? t->nparts : 1);
	}
	return ret;
}

/* PUT what needs a PUT, asking again for URLs that expired on the way. */
static int send_objects(struct ms_upload *u, struct ms_upfile **objs, size_t n,
                        struct ms_error *err)
{
	struct ms_engine_opts eo;
	int ret = 0;

	ms_engine_opts_init(&eo);
	if (u->o.max_workers > 0)
		eo.max_workers = eo.connections = u->o.max_workers;
	eo.net = &u->sess->net;
	eo.auth = &u->sess->auth;
	eo.on_event = on_engine_event;
	eo.event_arg = u;
	for (int round = 0; round < MAX_REFRESH_ROUNDS && !ret; round++) {
		size_t njobs, expired = 0;
		struct ms_xfer_job *jobs = make_jobs(objs, n, &njobs);

		if (!njobs) {
			free(jobs);
			break;
		}
		/* each job has its own status: collect() reads them all */
		(void)ms_engine_run(&eo, jobs, njobs);
		ret = collect(u, jobs, njobs, &expired, err);
		free_jobs(jobs, njobs);
		if (ret || !expired)
			break;
		ms_verbose("%zu upload URL(s) expired; asking the hub for new ones", expired);
		{
			struct ms_upfile **again = xcalloc(n + 1, sizeof(*again));
			size_t k = 0;

			for (size_t i = 0; i < n; i++)
				if (!objs[i]->put && objs[i]->sent) /* it had a URL, it expired */
					again[k++] = objs[i];
			ret = batch(u, again, k, err);
			free(again);
		}
		if (!ret && round + 1 == MAX_REFRESH_ROUNDS)
			ret = ms_error_set(err, MS_EAUTH,
			                   "the storage keeps refusing the upload "
			                   "URLs the hub hands out (expired)");
	}
	return ret;
}

static int upload_objects(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	size_t n;
	struct ms_upfile **objs = unique_objects(u, &n);
	int ret = batch(u, objs, n, err);

	/* objects the batch found on the hub need no byte */
	for (size_t i = 0; !ret && i < n; i++)
		objs[i]->sent = objs[i]->put != NULL;
	if (!ret)
		ret = send_objects(u, objs, n, err);
	for (size_t i = 0; !ret && i < n; i++) {
		struct ms_upfile *f = objs[i];

		if (!f->sent) {
			u->objects_present++;
			continue;
		}
		if ((ret = still_same(f, err)) == 0 && hub->lfs_finish)
			ret = hub->lfs_finish(u->sess, u->repo, f, err);
		u->objects_sent++;
	}
	free(objs);
	return ret;
}

/* ---- commits ---- */

static bool in_commit(const struct ms_upfile *f)
{
	return !f->ignored && strcmp(f->oid, f->remote);
}

/* After a commit failed without a clear answer: has the branch got these files now? */
static bool landed(struct ms_upload *u, struct ms_upfile **files, size_t n)
{
	const struct ms_hub *hub = u->sess->hub;
	struct ms_upfile *copy = xcalloc(n + 1, sizeof(*copy));
	struct ms_error e;
	bool yes = true;

	for (size_t i = 0; i < n; i++) {
		copy[i].local = files[i]->local;
		copy[i].path = files[i]->path;
		copy[i].size = files[i]->size;
	}
	ms_error_clear(&e);
	if (hub->upload_plan(u->sess, u->repo, u->branch, copy, n, &e))
		yes = false;
	for (size_t i = 0; yes && i < n; i++)
		yes = !strcmp(copy[i].remote, files[i]->oid);
	free(copy);
	ms_verbose("the commit %s on '%s'", yes ? "landed" : "did not land", u->branch);
	return yes;
}

/* Transport errors, 5xx, a lost answer: the commit may or may not have landed. */
static bool unknown_outcome(const struct ms_error *err)
{
	return err->code == MS_ENET || err->code == MS_EPROTO ||
	       (err->code == MS_EFAIL && (err->http_status >= 500 || err->http_status == 0));
}

static int commit_once(struct ms_upload *u, struct ms_commit *c, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	struct ms_commit_result res = {0};
	int ret = 0;

	for (int attempt = 1;; attempt++) {
		char *head = NULL;
		bool created;

		ret = hub->commit(u->sess, u->repo, c, &res, err);
		if (!ret || !unknown_outcome(err))
			break;
		ms_verbose("commit: %s; reading '%s' to learn whether it landed", err->msg,
		           u->branch);
		if (landed(u, c->files, c->n)) {
			ret = 0;
			hub->branch_head(u->sess, u->repo, u->branch, false, &head, &created, err);
			ms_error_clear(err);
			res.id = head;
			res.url = hub->commit_url(u->sess, u->repo, u->branch, head);
			break;
		}
		if (attempt >= MAX_COMMIT_ATTEMPTS)
			break;
		/* it is known not to be there: sending it again cannot make two */
		ms_sleep(ms_backoff_delay(attempt, u->sess->net.retry_delay, 30, ms_random01()));
	}
	if (!ret) {
		ms_commit_result_release(&u->result);
		u->result = res;
		u->ncommits++;
	}
	return ret;
}

/* Where the commits split: by the hub's count, and by the bytes they inline.  Returns
 * the number of commits; ends[k] is one past the last changed file of commit k. */
static size_t split(struct ms_upload *u, struct ms_upfile **changed, size_t n, size_t *ends)
{
	size_t max = u->sess->hub->commit_max ? u->sess->hub->commit_max : 256, k = 0, count = 0;
	uint64_t inline_bytes = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t add = changed[i]->lfs ? 0 : changed[i]->size;

		if (count && (count == max || inline_bytes + add > COMMIT_MAX_INLINE)) {
			ends[k++] = i;
			count = 0;
			inline_bytes = 0;
		}
		count++;
		inline_bytes += add;
	}
	if (count)
		ends[k++] = n;
	return k;
}

static int commit_all(struct ms_upload *u, const char *message, struct ms_error *err)
{
	struct ms_upfile **changed = xcalloc(u->n + 1, sizeof(*changed));
	size_t *ends = xcalloc(u->n + 1, sizeof(*ends));
	size_t n = 0, parts, start = 0;
	int ret = 0;

	for (size_t i = 0; i < u->n; i++)
		if (in_commit(&u->files[i]))
			changed[n++] = &u->files[i];
	parts = split(u, changed, n, ends);
	for (size_t k = 0; k < parts && !ret; start = ends[k++]) {
		struct ms_commit c = {.branch = u->branch,
		                      .files = changed + start,
		                      .n = ends[k] - start,
		                      .parent = u->result.id ? u->result.id : u->head};
		char *msg = parts > 1 ? xasprintf("%s (part %zu/%zu)", message, k + 1, parts)
		                      : xstrdup(message);

		c.message = msg;
		for (size_t i = 0; i < c.n && !ret; i++)
			if (!c.files[i]->lfs)
				ret = still_same(c.files[i], err);
		if (!ret)
			ret = commit_once(u, &c, err);
		free(msg);
		for (size_t i = 0; !ret && i < c.n; i++) {
			u->ncommitted++;
			if (!c.files[i]->lfs) {
				c.files[i]->sent = true;
				u->bytes_sent += c.files[i]->size;
			}
			report(u, c.files[i], MS_UP_COMMITTED);
		}
	}
	free(changed);
	free(ends);
	return ret;
}

/* ---- the whole ---- */

static char *default_message(const struct ms_upload *u)
{
	if (u->n == 1 && !u->o.path_in_repo)
		return xasprintf("Upload %s with mscli", u->files[0].path);
	if (u->o.path_in_repo && *u->o.path_in_repo)
		return xasprintf("Upload %s with mscli", u->o.path_in_repo);
	return xstrdup("Upload folder with mscli");
}

/* What the plan and the hashes say is unchanged or ignored. */
static size_t sort_out(struct ms_upload *u)
{
	size_t changed = 0;

	for (size_t i = 0; i < u->n; i++) {
		struct ms_upfile *f = &u->files[i];

		if (f->ignored) {
			u->nignored++;
			report(u, f, MS_UP_IGNORED);
		} else if (!strcmp(f->oid, f->remote)) {
			u->nunchanged++;
			report(u, f, MS_UP_UNCHANGED);
		} else {
			changed++;
		}
	}
	return changed;
}

int ms_upload_run(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	char *dest = NULL, *message = NULL;
	int ret;

	if (!hub->commit)
		return ms_error_set(err, MS_EUSAGE, "uploads to %s are not supported", hub->name);
	if ((ret = ms_upload_dest(u->o.path_in_repo, &dest, err)) != 0)
		return ret;
	ret = ms_upload_walk(u->o.local, dest, u->o.filter, &u->files, &u->n, NULL, err);
	free(dest);
	if (ret)
		return ret;
	if (!u->n)
		return ms_error_set(err, MS_EUSAGE,
		                    "nothing to upload in '%s' (after --include/--exclude and the "
		                    "files never published)",
		                    u->o.local);
	if ((ret = check_account(u, err)) != 0 || (ret = prepare_repo(u, err)) != 0)
		return ret;
	ret = hub->upload_plan(u->sess, u->repo, u->branch, u->files, u->n, err);
	if (!ret)
		ret = hash_files(u, err);
	if (ret)
		return ret;
	if (!sort_out(u)) {
		u->result.id = u->head ? xstrdup(u->head) : NULL;
		u->result.url = hub->commit_url(u->sess, u->repo, u->branch, u->head);
		note(u, false, "nothing to commit: '%s' of %s has these files already", u->branch,
		     u->repo->id);
		return 0;
	}
	if ((ret = upload_objects(u, err)) != 0)
		return ret;
	message = u->o.message ? xstrdup(u->o.message) : default_message(u);
	ret = commit_all(u, message, err);
	free(message);
	return ret;
}
