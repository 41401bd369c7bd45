/*
 * Hashing and sending, overlapped (upload-send.h): the hashing pool works
 * through the files largest first while the engine runs; the files whose
 * digest is known before the plan (on Hugging Face, those of 10 MiB or more:
 * SHA-256) are already being hashed while the hub is asked about the account,
 * the repo and the plan, in a pool of their own.  Each pass of the
 * engine takes the files hashed since the last one, asks the hub (LFS
 * batch) about the new objects, and feeds the PUTs of those it lacks.  The
 * first shard goes out while the others are still being read, so the
 * upload costs little more than the slower of the two.  Then the objects
 * are completed and verified; URLs that expired on the way are asked for
 * again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hashpool.h"
#include "mscli/index.h"
#include "mscli/log.h"
#include "mscli/upload-send.h"

/* Rounds of "PUT, then ask again for the URLs that expired". */
#define MAX_REFRESH_ROUNDS 3
/* Hashed objects wait this long for others to share their batch call. */
#define BATCH_WAIT 0.05
/* Files taken from the hashing pool per pass. */
#define TAKE_MAX 256

struct jobs {
	struct ms_xfer_job **v; /* each its own allocation: the engine keeps pointers */
	size_t n, cap;
};

/* The overlapped run: what is hashed, what waits for a batch call, what was fed. */
struct sender {
	struct ms_upload *u;
	struct ms_hashpool *pool[2]; /* the early one (or NULL), the rest (or NULL) */
	struct ms_hash_item *items;  /* the rest's */
	size_t nitems, nhashed;      /* files to hash (both pools), hashed */
	struct ms_upfile **objs;     /* one file per object (the same bytes at two paths go once) */
	size_t nobjs;
	struct ms_index by_oid;
	size_t batched;       /* objs[0..batched) were asked about */
	double first_waiting; /* when objs[batched] was hashed */
	struct jobs all;      /* every PUT fed */
	struct ms_xfer_job **fresh;
	size_t fresh_cap;
	double last_report;
	int ret; /* the first failure while feeding (err has it) */
	struct ms_error err;
};

int upload_still_same(const struct ms_upfile *f, struct ms_error *err)
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

/* The PUTs of f's object that are still to do: one, or one per part. */
static void add_jobs(struct jobs *l, struct ms_upfile *f)
{
	struct ms_upload_target *t = f->put;

	if (!t || t->done)
		return;
	for (size_t p = 0; p < (t->nparts ? t->nparts : 1); p++) {
		struct ms_xfer_job *j = xcalloc(1, sizeof(*j));

		j->kind = MS_JOB_PUT;
		j->user = f;
		j->src_path = f->local;
		if (t->nparts) {
			j->url = xstrdup(t->part_urls[p]);
			j->name = xasprintf("%s (part %zu/%zu)", f->path, p + 1, t->nparts);
			j->offset = p * t->chunk_size;
			j->size = f->size - j->offset < t->chunk_size ? f->size - j->offset
			                                              : t->chunk_size;
		} else {
			j->url = xstrdup(t->href);
			j->name = xstrdup(f->path);
			j->size = f->size;
		}
		ms_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = j;
	}
}

static void free_jobs(struct jobs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]->url);
		free((char *)l->v[i]->name);
		free(l->v[i]->etag);
		ms_buf_release(&l->v[i]->answer);
		ms_job_err_free(l->v[i]);
		free(l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What the PUTs left: ETags and answers to the targets; objects whose URL expired lose
 * their target (to be asked for again); *expired counts them. */
static int collect(struct ms_upload *u, struct jobs *l, size_t *expired, struct ms_error *err)
{
	int ret = 0;
	bool from_stopped = false;

	*expired = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct ms_xfer_job *j = l->v[i];
		struct ms_upfile *f = j->user;
		struct ms_upload_target *t = f->put;

		u->bytes_sent += j->sent;
		if (!t)
			continue; /* another part of it expired already */
		if (j->status && j->expired) {
			ms_upload_target_free(t);
			f->put = NULL;
			(*expired)++;
		} else if (j->status) {
			/* the first cause, not a file the run stopped for it; a file rewritten
			 * since it was hashed: say so, not the hub's refusal */
			if (!ret || (from_stopped && !j->stopped)) {
				from_stopped = j->stopped;
				if ((ret = upload_still_same(f, err)) == 0) {
					ret = j->status;
					*err = *j->err;
				}
			}
		} else {
			if (t->nparts) {
				size_t part = (size_t)(j->offset / t->chunk_size);

				if (!t->etags)
					t->etags = xcalloc(t->nparts, sizeof(*t->etags));
				free(t->etags[part]);
				t->etags[part] = j->etag;
				j->etag = NULL;
			} else {
				ms_buf_release(&t->answer);
				t->answer = j->answer;
				j->answer = (struct ms_buf)MS_BUF_INIT;
			}
			t->done = ++t->parts_done == (t->nparts ? t->nparts : 1);
		}
	}
	return ret;
}

static void on_engine_event(void *arg, const struct ms_event *ev)
{
	struct ms_upload *u = arg;

	if (u->cb.event)
		u->cb.event(u->cb.arg, ev);
}

static void engine_opts(struct ms_upload *u, struct ms_engine_opts *eo)
{
	ms_engine_opts_init(eo);
	if (u->o.max_workers > 0)
		eo->max_workers = eo->connections = u->o.max_workers;
	eo->net = &u->sess->net;
	eo->auth = &u->sess->auth;
	eo->on_event = on_engine_event;
	eo->event_arg = u;
}

/* ---- feeding the engine ---- */

static const char *obj_key(const void *base, size_t i)
{
	return (*((struct ms_upfile *const *)base + i))->oid;
}

/* What the hashing pool takes for f. */
static struct ms_hash_item item_of(struct ms_upfile *f, unsigned algos)
{
	return (struct ms_hash_item){.path = f->local, .size = f->size, .algos = algos, .user = f};
}

/* An item of the early pool is of no use when the plan ignores its file or names it by
 * another digest (the other pool hashes it then). */
static bool used(const struct ms_hash_item *it)
{
	const struct ms_upfile *f = it->user;

	return !f->ignored && (it->algos & MS_HASHES(f->algo));
}

/* A file is hashed: report it; a changed LFS file with new bytes is a new object. */
static void hashed(struct sender *s, struct ms_hash_item *it)
{
	struct ms_upfile *f = it->user;

	snprintf(f->oid, sizeof(f->oid), "%s",
	         f->algo == MS_HASH_GITSHA1 ? it->gitsha1 : it->sha256);
	f->mtime_ns = it->mtime_ns;
	s->u->nhashed++;
	upload_report(s->u, f, MS_UP_HASHED);
	if (!f->lfs || f->ignored || !strcmp(f->oid, f->remote))
		return;
	if (ms_index_find(&s->by_oid, s->objs, s->nobjs, obj_key, f->oid) != SIZE_MAX)
		return;
	if (s->nobjs == s->batched)
		s->first_waiting = ms_now();
	s->objs[s->nobjs++] = f;
}

static void report_hashing(struct sender *s, bool last)
{
	uint64_t total = 0, done = 0;
	double now = ms_now();

	for (int p = 0; p < 2; p++) {
		uint64_t t;

		if (s->pool[p]) {
			done += ms_hashpool_progress(s->pool[p], &t);
			total += t;
		}
	}

	if (!s->u->cb.hashing || (!last && now - s->last_report < 0.1))
		return;
	s->last_report = now;
	s->u->cb.hashing(s->u->cb.arg, done, total, s->nhashed, s->nitems);
}

/* The objects hashed since the last batch call: asked about, their PUTs queued. */
static int ask(struct sender *s, size_t *fresh)
{
	size_t from = s->batched, before = s->all.n;
	int ret = batch(s->u, s->objs + from, s->nobjs - from, &s->err);

	s->batched = s->nobjs;
	if (ret)
		return ret;
	for (size_t i = from; i < s->nobjs; i++) {
		/* objects the batch found on the hub need no byte */
		s->objs[i]->sent = s->objs[i]->put != NULL;
		add_jobs(&s->all, s->objs[i]);
	}
	*fresh = s->all.n - before;
	return 0;
}

static size_t feed(void *arg, struct ms_xfer_job ***jobs, bool *more)
{
	struct sender *s = arg;
	struct ms_hash_item *done[TAKE_MAX];
	size_t k, fresh = 0;
	bool busy;

	for (int p = 0; p < 2; p++) {
		while (s->pool[p] && (k = ms_hashpool_take(s->pool[p], done, TAKE_MAX)) != 0) {
			for (size_t i = 0; i < k; i++) {
				if (!used(done[i]))
					continue;
				s->nhashed++;
				if (done[i]->status) /* the pool has the message */
					return SIZE_MAX;
				hashed(s, done[i]);
			}
		}
	}
	busy = (s->pool[0] && ms_hashpool_busy(s->pool[0])) ||
	       (s->pool[1] && ms_hashpool_busy(s->pool[1]));
	report_hashing(s, !busy);
	/* small objects share a call; the last ones go as soon as hashing is over */
	if (s->nobjs > s->batched &&
	    (!busy || s->nobjs - s->batched >= s->u->sess->hub->lfs_batch_max ||
	     ms_now() - s->first_waiting > BATCH_WAIT)) {
		if ((s->ret = ask(s, &fresh)) != 0)
			return SIZE_MAX;
	}
	*more = busy || s->nobjs > s->batched;
	if (fresh) {
		ms_grow((void **)&s->fresh, &s->fresh_cap, fresh, sizeof(*s->fresh));
		memcpy(s->fresh, s->all.v + s->all.n - fresh, fresh * sizeof(*s->fresh));
	}
	*jobs = s->fresh;
	return fresh;
}

/* ---- after the overlapped run ---- */

/* A run of the engine over a list of jobs: all of them at its first pass. */
struct given {
	struct jobs *l;
	bool done;
};

static size_t give_all(void *arg, struct ms_xfer_job ***jobs, bool *more)
{
	struct given *g = arg;

	*more = false;
	if (g->done)
		return 0;
	g->done = true;
	*jobs = g->l->v;
	return g->l->n;
}

/* PUT again what expired: ask for new URLs, send, until none expires. */
static int refresh(struct sender *s, size_t expired, struct ms_error *err)
{
	struct ms_engine_opts eo;
	int ret = 0;

	engine_opts(s->u, &eo);
	for (int round = 0; expired && !ret; round++) {
		struct ms_upfile **again = xcalloc(s->nobjs + 1, sizeof(*again));
		struct jobs l = {0};
		struct given g = {.l = &l};
		size_t k = 0;

		if (round == MAX_REFRESH_ROUNDS) {
			free(again);
			return ms_error_set(
			        err, MS_EAUTH,
			        "the storage keeps refusing the upload URLs the hub hands "
			        "out (expired)");
		}
		ms_verbose("%zu upload URL(s) expired; asking the hub for new ones", expired);
		for (size_t i = 0; i < s->nobjs; i++)
			if (!s->objs[i]->put && s->objs[i]->sent) /* it had a URL, it expired */
				again[k++] = s->objs[i];
		ret = batch(s->u, again, k, err);
		free(again);
		for (size_t i = 0; i < s->nobjs && !ret; i++)
			add_jobs(&l, s->objs[i]);
		eo.feed = give_all;
		eo.feed_arg = &g;
		/* each job has its own status: collect() reads them all */
		if (!ret)
			(void)ms_engine_run(&eo, NULL, 0);
		if (!ret)
			ret = collect(s->u, &l, &expired, err);
		free_jobs(&l);
	}
	return ret;
}

/* Completed and verified where the hub wants it; the counts of what went and what not. */
static int finish_objects(struct sender *s, struct ms_error *err)
{
	const struct ms_hub *hub = s->u->sess->hub;
	int ret = 0;

	for (size_t i = 0; i < s->nobjs && !ret; i++) {
		struct ms_upfile *f = s->objs[i];

		if (!f->sent) {
			s->u->objects_present++;
			continue;
		}
		if ((ret = upload_still_same(f, err)) == 0 && hub->lfs_finish)
			ret = hub->lfs_finish(s->u->sess, s->u->repo, f, err);
		s->u->objects_sent++;
	}
	return ret;
}

/* ---- hashing before the plan ---- */

void upload_hash_early(struct ms_upload *u)
{
	unsigned (*digests)(const struct ms_repo *, const struct ms_upfile *) =
	        u->sess->hub->upload_digests;
	struct ms_hashpool_opts ho = {0};
	size_t k = 0;

	if (!digests || !u->n)
		return;
	u->early_items = xcalloc(u->n, sizeof(*u->early_items));
	for (size_t i = 0; i < u->n; i++) {
		struct ms_upfile *f = &u->files[i];

		f->early = digests(u->repo, f);
		if (f->early)
			u->early_items[k++] = item_of(f, f->early);
	}
	u->n_early = k;
	if (k)
		u->early = ms_hashpool_start(u->early_items, k, &ho);
}

void upload_hash_early_release(struct ms_upload *u)
{
	struct ms_error ignored;

	if (u->early)
		(void)ms_hashpool_finish(u->early, true, &ignored);
	u->early = NULL;
	free(u->early_items);
	u->early_items = NULL;
	u->n_early = 0;
}

/* The early pool failed only on files the plan ignores or hashes again in the other. */
static bool early_failure_moot(const struct ms_upload *u)
{
	bool failed = false;

	for (size_t i = 0; i < u->n_early; i++) {
		if (!u->early_items[i].status)
			continue;
		if (used(&u->early_items[i]))
			return false;
		failed = true;
	}
	return failed; /* no file failed: the pool itself did */
}

/* Both pools waited for: the first failure that matters. */
static int finish_hashing(struct sender *s, struct ms_error *err)
{
	int ret = 0;

	for (int p = 0; p < 2; p++) {
		struct ms_error e;
		int r;

		if (!s->pool[p])
			continue;
		r = ms_hashpool_finish(s->pool[p], true, &e);
		s->pool[p] = NULL;
		if (r && !ret && !(p == 0 && early_failure_moot(s->u))) {
			ret = r;
			*err = e;
		}
	}
	return ret;
}

int upload_send(struct ms_upload *u, struct ms_error *err)
{
	struct sender s = {.u = u};
	struct ms_hashpool_opts ho = {0};
	struct ms_engine_opts eo;
	size_t expired = 0, nlate = 0;
	int ret, hret;

	s.items = xcalloc(u->n + 1, sizeof(*s.items));
	s.objs = xcalloc(u->n + 1, sizeof(*s.objs));
	for (size_t i = 0; i < u->n; i++) {
		struct ms_upfile *f = &u->files[i];

		if (f->ignored)
			continue;
		s.nitems++;
		if (f->early & MS_HASHES(f->algo))
			continue; /* the early pool has it */
		s.items[nlate++] = item_of(f, MS_HASHES(f->algo));
	}
	s.pool[0] = u->early;
	u->early = NULL;
	if (nlate)
		s.pool[1] = ms_hashpool_start(s.items, nlate, &ho);
	engine_opts(u, &eo);
	eo.feed = feed;
	eo.feed_arg = &s;
	/* each job has its own status: collect() reads them all */
	(void)ms_engine_run(&eo, NULL, 0);
	hret = finish_hashing(&s, err);
	if (s.ret) {
		ret = s.ret;
		*err = s.err;
	} else {
		ret = hret;
	}
	if (!ret && ms_interrupted())
		ret = ms_error_set(err, MS_EINTR, "interrupted");
	if (!ret)
		ret = collect(u, &s.all, &expired, err);
	if (!ret)
		ret = refresh(&s, expired, err);
	if (!ret)
		ret = finish_objects(&s, err);
	free_jobs(&s.all);
	ms_index_release(&s.by_oid);
	free(s.fresh);
	free(s.objs);
	free(s.items);
	return ret;
}
