/*
 * The verify operation (verify.h): the stores say what to hash and against
 * what; hashfiles.c hashes on every core; the download operation repairs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mscli/alloc.h"
#include "mscli/hashfiles.h"
#include "mscli/parse.h"
#include "mscli/verify.h"

void ms_verify_init(struct ms_verify *v)
{
	memset(v, 0, sizeof(*v));
}

void ms_verify_add(struct ms_verify *v, struct ms_cache_repo *repo, const char *rev)
{
	struct ms_verify_repo *r;

	ms_grow((void **)&v->v, &v->cap, v->n + 1, sizeof(*v->v));
	r = &v->v[v->n++];
	memset(r, 0, sizeof(*r));
	r->repo = *repo;
	memset(repo, 0, sizeof(*repo));
	r->rev = rev ? xstrdup(rev) : NULL;
}

static void note(const struct ms_verify_cb *cb, enum ms_note kind, const char *fmt, ...)
        MS_PRINTF(3, 4);

static void note(const struct ms_verify_cb *cb, enum ms_note kind, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	if (!cb || !cb->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb->note(cb->arg, kind, msg);
}

/* The store's MS_ITEM_UNLISTED markers move out of the items into r->unlisted. */
static void take_unlisted(struct ms_verify_repo *r)
{
	size_t m = 0;

	r->unlisted = xcalloc(r->items.n + 1, sizeof(*r->unlisted));
	for (size_t k = 0; k < r->items.n; k++) {
		struct ms_cache_item *it = &r->items.v[k];

		if (it->kind != MS_ITEM_UNLISTED) {
			r->items.v[m++] = *it;
			continue;
		}
		r->unlisted[r->nunlisted++] =
		        (struct ms_verify_unlisted){it->rev, it->disk, it->target, false, 0};
		free(it->path);
		free(it->rel);
	}
	r->items.n = m;
}

/* Room for the per-item results of items from..items.n (added after the plan). */
static void grow_results(struct ms_verify_repo *r, size_t from)
{
	size_t n = r->items.n + 1;

	r->status = xrealloc(r->status, n * sizeof(*r->status));
	r->actual = xrealloc(r->actual, n * sizeof(*r->actual));
	r->actual_size = xrealloc(r->actual_size, n * sizeof(*r->actual_size));
	r->errnum = xrealloc(r->errnum, n * sizeof(*r->errnum));
	for (size_t k = from; k < n; k++) {
		r->status[k] = MS_VERIFY_OK;
		r->actual[k][0] = '\0';
		r->actual_size[k] = 0;
		r->errnum[k] = 0;
	}
}

int ms_verify_plan(struct ms_verify *v, struct ms_error *err)
{
	int ret = 0;

	for (size_t i = 0; i < v->n && !ret; i++) {
		struct ms_verify_repo *r = &v->v[i];
		struct ms_store *st = ms_cache_repo_store(&r->repo, NULL);

		ret = st->ops->check_list(st, r->rev, &r->items, err);
		st->ops->free(st);
		take_unlisted(r);
		grow_results(r, 0);
		for (size_t k = 0; k < r->items.n; k++) {
			const struct ms_cache_item *it = &r->items.v[k];

			r->status[k] = it->kind == MS_ITEM_MISSING      ? MS_VERIFY_MISSING
			               : it->kind == MS_ITEM_UNEXPECTED ? MS_VERIFY_UNEXPECTED
			               : it->algo == MS_HASH_NONE       ? MS_VERIFY_UNCHECKED
			                                                : MS_VERIFY_OK;
		}
	}
	return ret;
}

/* ---- --online ---- */

struct sessions {
	struct ms_session s[8];
	bool open[8];
};

static struct ms_session *session_for(struct sessions *ss, const struct ms_hub *hub,
                                      const struct ms_session_opts *so, struct ms_error *err)
{
	size_t i = ms_hub_index(hub);

	if (i >= 8)
		return NULL;
	if (!ss->open[i] && ms_session_open(&ss->s[i], hub, so, err) != 0)
		return NULL;
	ss->open[i] = true;
	return &ss->s[i];
}

static void sessions_release(struct sessions *ss)
{
	for (size_t i = 0; i < 8; i++)
		if (ss->open[i])
			ms_session_release(&ss->s[i]);
}

/* The hub's listing of rev (l); the unchecked files of rev take their digests from it. */
static int list_revision(struct ms_verify_repo *r, struct ms_session *sess, const char *rev,
                         struct ms_listing *l, struct ms_error *err)
{
	const struct ms_hub *hub = r->repo.repo.hub;
	char *commit = NULL;
	int ret = 0;

	if (hub->resolve && !ms_is_commit_id(rev))
		ret = hub->resolve(sess, &r->repo.repo, rev, &commit, err);
	if (!ret)
		ret = hub->list(sess, &r->repo.repo, rev,
		                commit ? commit : (ms_is_commit_id(rev) ? rev : NULL), l, err);
	for (size_t k = 0; !ret && k < r->items.n; k++) {
		struct ms_cache_item *it = &r->items.v[k];
		const struct ms_file *f;

		if (r->status[k] != MS_VERIFY_UNCHECKED || !it->path || !it->rev ||
		    strcmp(it->rev, rev) || !(f = ms_listing_find(l, it->path)) || !f->digest[0])
			continue;
		it->algo = f->algo;
		strcpy(it->digest, f->digest);
		it->size = f->size;
		it->source = "the hub's listing";
		r->status[k] = MS_VERIFY_OK;
	}
	free(commit);
	return ret;
}

/* Once per revision that has a file want() takes; fn must move all of them on. */
struct per_revision {
	bool (*want)(const struct ms_verify_repo *r, size_t k);
	int (*fn)(struct ms_verify *v, struct ms_verify_repo *r, const char *rev,
	          struct ms_session *sess, const void *arg, struct ms_error *err);
	const void *arg;
	bool unlisted; /* and once per revision of r->unlisted not listed yet */
};

static int each_revision(struct ms_verify *v, const struct ms_session_opts *so,
                         const struct per_revision *p, struct ms_error *err)
{
	struct sessions ss;
	int ret = 0;

	memset(&ss, 0, sizeof(ss));
	for (size_t i = 0; i < v->n && !ret; i++) {
		struct ms_verify_repo *r = &v->v[i];

		for (size_t k = 0; k < r->items.n && !ret; k++) {
			struct ms_session *sess;

			if (!r->items.v[k].rev || !r->items.v[k].path || !p->want(r, k))
				continue;
			if (!(sess = session_for(&ss, r->repo.repo.hub, so, err)))
				ret = err->code ? err->code : MS_EFAIL;
			else
				ret = p->fn(v, r, r->items.v[k].rev, sess, p->arg, err);
		}
		for (size_t u = 0; p->unlisted && u < r->nunlisted && !ret; u++) {
			struct ms_session *sess;

			if (r->unlisted[u].listed)
				continue;
			if (!(sess = session_for(&ss, r->repo.repo.hub, so, err)))
				ret = err->code ? err->code : MS_EFAIL;
			else
				ret = p->fn(v, r, r->unlisted[u].rev, sess, p->arg, err);
		}
	}
	sessions_release(&ss);
	return ret;
}

static bool unchecked(const struct ms_verify_repo *r, size_t k)
{
	return r->status[k] == MS_VERIFY_UNCHECKED;
}

/* One listing for the revision; what it lacks is unexpected (one note says so). */
static int online_revision(struct ms_verify *v, struct ms_verify_repo *r, const char *rev,
                           struct ms_session *sess, const void *arg, struct ms_error *err)
{
	const struct ms_verify_cb *cb = arg;
	const char *first = NULL;
	struct ms_listing l = {0};
	size_t n = 0;
	int ret = list_revision(r, sess, rev, &l, err);

	(void)v;
	for (size_t u = 0; u < r->nunlisted && !ret; u++) {
		size_t from = r->items.n;

		if (r->unlisted[u].listed || strcmp(r->unlisted[u].rev, rev))
			continue;
		r->unlisted[u].listed = true;
		if (ms_cache_items_add_missing(&r->items, &l, r->unlisted[u].dir, rev,
		                               "the hub's listing has it, its blob is there",
		                               r->unlisted[u].blobs, &r->unlisted[u].absent))
			grow_results(r, from);
		for (size_t k = from; k < r->items.n; k++)
			r->status[k] = MS_VERIFY_MISSING;
		/* hf_hub_download fetches some files of a revision: not a fault, but said */
		if (r->unlisted[u].absent)
			note(cb, MS_NOTE_INFO,
			     "%s: %zu file(s) of the hub's listing of %.7s were never downloaded "
			     "(or went with their blobs): 'mscli download' of that revision "
			     "fetches "
			     "them",
			     r->repo.repo.id, r->unlisted[u].absent, rev);
	}
	ms_listing_release(&l);
	for (size_t k = 0; k < r->items.n && !ret; k++)
		if (unchecked(r, k) && r->items.v[k].path && r->items.v[k].rev &&
		    !strcmp(r->items.v[k].rev, rev)) {
			r->status[k] = MS_VERIFY_UNEXPECTED;
			r->items.v[k].source = "the hub's listing does not have it";
			if (!n++)
				first = r->items.v[k].path;
		}
	if (n)
		note(cb, MS_NOTE_WARN,
		     "%zu file(s) of %s are not in the hub's listing of '%s' ('%s'%s)", n,
		     r->repo.repo.id, rev, first, n > 1 ? ", ..." : "");
	return ret;
}

int ms_verify_online(struct ms_verify *v, const struct ms_session_opts *so,
                     const struct ms_verify_cb *cb, struct ms_error *err)
{
	struct per_revision p = {unchecked, online_revision, cb, true};

	return each_revision(v, so, &p, err);
}

/* ---- hashing ---- */

struct hashed {
	struct ms_verify_repo *r;
	size_t k;
};

/* The run's counts, from each file's status. */
static void tally(struct ms_verify *v)
{
	for (size_t i = 0; i < v->n; i++) {
		for (size_t u = 0; u < v->v[i].nunlisted; u++)
			v->nunlisted += !v->v[i].unlisted[u].listed;
		for (size_t k = 0; k < v->v[i].items.n; k++) {
			switch (v->v[i].status[k]) {
			case MS_VERIFY_OK:
				v->nok++;
				break;
			case MS_VERIFY_CORRUPT:
				v->ncorrupt++;
				break;
			case MS_VERIFY_MISSING:
				v->nmissing++;
				break;
			case MS_VERIFY_UNEXPECTED:
				v->nunexpected++;
				break;
			case MS_VERIFY_UNCHECKED:
				v->nunchecked++;
				break;
			case MS_VERIFY_UNREADABLE:
				v->nunreadable++;
				break;
			case MS_VERIFY_REPAIRED:
				break;
			}
		}
	}
}

int ms_verify_run(struct ms_verify *v, const struct ms_verify_cb *cb, struct ms_error *err)
{
	struct ms_hashfiles_opts o = {0};
	struct ms_hashfile *files;
	struct hashed *at;
	size_t n = 0, total = 0;
	uint64_t bytes = 0;
	int ret;

	for (size_t i = 0; i < v->n; i++)
		total += v->v[i].items.n;
	files = xcalloc(total + 1, sizeof(*files));
	at = xcalloc(total + 1, sizeof(*at));
	for (size_t i = 0; i < v->n; i++)
		for (size_t k = 0; k < v->v[i].items.n; k++) {
			struct ms_cache_item *it = &v->v[i].items.v[k];
			struct stat st;

			if (v->v[i].status[k] != MS_VERIFY_OK)
				continue;
			files[n].path = it->disk;
			files[n].algo = it->algo;
			at[n++] = (struct hashed){&v->v[i], k};
			if (stat(it->disk, &st) == 0)
				bytes += (uint64_t)st.st_size;
		}
	if (cb && cb->begin)
		cb->begin(cb->arg, n, bytes);
	if (cb) {
		o.progress = cb->progress;
		o.arg = cb->arg;
	}
	ret = ms_hash_files(files, n, &o);
	if (ret)
		ms_error_set(err, ret, "interrupted");
	for (size_t j = 0; j < n && !ret; j++) {
		struct ms_verify_repo *r = at[j].r;
		size_t k = at[j].k;
		const struct ms_cache_item *it = &r->items.v[k];

		r->actual_size[k] = files[j].size;
		strcpy(r->actual[k], files[j].hex);
		r->errnum[k] = files[j].errnum;
		if (files[j].status)
			r->status[k] = MS_VERIFY_UNREADABLE;
		else if ((it->size != UINT64_MAX && it->size != files[j].size) ||
		         strcmp(files[j].hex, it->digest))
			r->status[k] = MS_VERIFY_CORRUPT;
		v->nhashed++;
		v->bytes += files[j].size;
	}
	if (!ret)
		tally(v);
	free(files);
	free(at);
	return ret;
}

/* ---- --repair ---- */

static bool bad(const struct ms_verify_repo *r, size_t k)
{
	return r->status[k] == MS_VERIFY_CORRUPT || r->status[k] == MS_VERIFY_MISSING;
}

/* The bad files of r at rev, fetched again in one download. */
static int repair_revision(struct ms_verify *v, struct ms_verify_repo *r, const char *rev,
                           struct ms_session *sess, const void *arg, struct ms_error *err)
{
	const struct ms_download_cb *dcb = arg;
	char **files = xcalloc(r->items.n + 1, sizeof(*files));
	struct ms_download_opts o = {.cache_root = r->repo.root, .force = true};
	struct ms_download d;
	size_t n = 0;
	int ret;

	for (size_t k = 0; k < r->items.n; k++) {
		const struct ms_cache_item *it = &r->items.v[k];
		bool dup = false;

		if (!bad(r, k) || !it->path || !it->rev || strcmp(it->rev, rev))
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = !strcmp(files[j], it->path);
		if (!dup)
			files[n++] = it->path;
	}
	o.files = files;
	o.nfiles = n;
	ms_download_init(&d, sess, &r->repo.repo, rev, &o, dcb);
	ret = ms_download_plan(&d, err);
	if (!ret)
		ret = ms_download_fetch(&d, err);
	ms_download_release(&d);
	for (size_t k = 0; k < r->items.n && !ret; k++)
		if (bad(r, k) && r->items.v[k].path && r->items.v[k].rev &&
		    !strcmp(r->items.v[k].rev, rev)) {
			if (r->status[k] == MS_VERIFY_CORRUPT)
				v->ncorrupt--;
			else
				v->nmissing--;
			r->status[k] = MS_VERIFY_REPAIRED;
			v->nrepaired++;
		}
	free(files);
	return ret;
}

/* A layout mscli does not download into (modelscope_hub's) keeps its bad files. */
static bool repairable(const struct ms_verify_repo *r, size_t k)
{
	return bad(r, k) && !r->repo.layout;
}

bool ms_verify_repairable(const struct ms_verify *v)
{
	for (size_t i = 0; i < v->n; i++)
		for (size_t k = 0; k < v->v[i].items.n; k++)
			if (repairable(&v->v[i], k))
				return true;
	return false;
}

static void not_repairable(const struct ms_verify *v, const struct ms_download_cb *dcb)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct ms_verify_repo *r = &v->v[i];
		size_t n = 0;
		char msg[1200];

		for (size_t k = 0; k < r->items.n && r->repo.layout; k++)
			n += bad(r, k);
		if (!n || !dcb || !dcb->note)
			continue;
		snprintf(msg, sizeof(msg),
		         "%s: %zu bad file(s) left as they are: mscli does not write %s's layout "
		         "(%s); 'ms download %s%s --force' fetches them again",
		         r->repo.repo.id, n, ms_cache_repo_layout(&r->repo), r->repo.stat.path,
		         r->repo.repo.type == MS_REPO_DATASET ? "--repo-type dataset " : "",
		         r->repo.repo.id);
		dcb->note(dcb->arg, MS_NOTE_WARN, msg);
	}
}

int ms_verify_repair(struct ms_verify *v, const struct ms_session_opts *so,
                     const struct ms_download_cb *dcb, struct ms_error *err)
{
	/* the first bad file of a revision repairs all of that revision's */
	struct per_revision p = {repairable, repair_revision, dcb, false};

	not_repairable(v, dcb);
	return each_revision(v, so, &p, err);
}

void ms_verify_release(struct ms_verify *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct ms_verify_repo *r = &v->v[i];

		ms_cache_repo_release(&r->repo);
		ms_cache_items_release(&r->items);
		for (size_t u = 0; u < r->nunlisted; u++) {
			free(r->unlisted[u].rev);
			free(r->unlisted[u].dir);
			free(r->unlisted[u].blobs);
		}
		free(r->unlisted);
		free(r->rev);
		free(r->status);
		free(r->actual);
		free(r->actual_size);
		free(r->errnum);
	}
	free(v->v);
	memset(v, 0, sizeof(*v));
}
