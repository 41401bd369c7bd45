/*
 * A pool of hashing threads (hashpool.h).  Work is handed out largest file
 * first, so one 5 GB shard does not start last and run alone; each thread
 * maps its file in 4 MiB windows, in order (the page cache reads ahead), and
 * feeds every digest the file needs from the same pages.  The caller's
 * thread only waits, takes finished files off a queue and reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hashpool.h"

struct ms_hashpool {
	struct ms_hash_item *items;
	size_t *order; /* largest first */
	size_t n, next;
	size_t block;
	atomic_uint_fast64_t done_bytes;
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t *finished; /* a queue of item indexes for the caller */
	size_t nfinished, taken;
	int running, started;
	pthread_t *tids;
	uint64_t total;
	/* the first failure */
	int code;
	char msg[1024];
};

int ms_cores(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* errnum: why it could not be read; 0: it changed while it was read. */
static void fail(struct ms_hashpool *p, struct ms_hash_item *it, int code, int errnum)
{
	pthread_mutex_lock(&p->mu);
	it->status = code;
	it->errnum = errnum;
	if (!p->code) {
		p->code = code;
		if (errnum)
			snprintf(p->msg, sizeof(p->msg), "cannot read '%s': %s", it->path,
			         strerror(errnum));
		else
			snprintf(p->msg, sizeof(p->msg),
			         "'%s' changed while it was read; try again when it is still",
			         it->path);
	}
	pthread_mutex_unlock(&p->mu);
}

/* One file through its digests: 0, or -1 after fail(). */
static int hash_one(struct ms_hashpool *p, struct ms_hash_item *it)
{
	struct ms_hasher h[2] = {{0}};
	enum ms_hash_algo algos[2];
	int nalg = 0, fd, ret = -1;
	struct stat before, after;
	uint64_t got = 0;

	if (it->algos & MS_HASHES(MS_HASH_SHA256))
		algos[nalg++] = MS_HASH_SHA256;
	if (it->algos & MS_HASHES(MS_HASH_GITSHA1))
		algos[nalg++] = MS_HASH_GITSHA1;
	fd = open(it->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &before) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		/* a file named by the user that is gone or unreadable is a usage error */
		fail(p, it,
		     e == ENOENT || e == EACCES || e == EPERM ? MS_EUSAGE : ms_err_from_errno(e),
		     e);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (int i = 0; i < nalg; i++)
		ms_hasher_init(&h[i], algos[i], it->size);
	for (;;) {
		int64_t r = ms_hasher_feed_fd(h, nalg, fd, got, p->block);

		if (r < 0) {
			/* -EIO: cut short under the mapping, or a bad disk; the file tells which */
			if (r == -EIO &&
			    (fstat(fd, &after) < 0 || after.st_size != before.st_size ||
			     mtime_ns(&after) != mtime_ns(&before)))
				fail(p, it, MS_EFAIL, 0);
			else
				fail(p, it, ms_err_from_errno((int)-r), (int)-r);
			goto out;
		}
		if (r == 0 || atomic_load(&p->stop))
			break;
		got += (uint64_t)r;
		atomic_fetch_add(&p->done_bytes, (uint64_t)r);
	}
	if (atomic_load(&p->stop)) {
		it->status = MS_EINTR;
		goto out;
	}
	if (fstat(fd, &after) < 0 || got != it->size || (uint64_t)after.st_size != it->size ||
	    mtime_ns(&after) != mtime_ns(&before)) {
		fail(p, it, MS_EFAIL, 0);
		goto out;
	}
	for (int i = 0; i < nalg; i++)
		ms_hasher_final(&h[i], algos[i] == MS_HASH_SHA256 ? it->sha256 : it->gitsha1);
	it->mtime_ns = mtime_ns(&after);
	ret = 0;
out:
	for (int i = 0; i < nalg; i++)
		ms_hasher_release(&h[i]);
	close(fd);
	return ret;
}

static void *worker(void *arg)
{
	struct ms_hashpool *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n || atomic_load(&p->stop)) {
			p->running--;
			pthread_cond_signal(&p->cv);
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->order[p->next++];
		pthread_mutex_unlock(&p->mu);
		hash_one(p, &p->items[i]);
		pthread_mutex_lock(&p->mu);
		p->finished[p->nfinished++] = i;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static int larger_first(const void *a, const void *b, void *arg)
{
	const struct ms_hash_item *items = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	if (items[ia].size != items[ib].size)
		return items[ia].size < items[ib].size ? 1 : -1;
	return (ia > ib) - (ia < ib);
}

struct ms_hashpool *ms_hashpool_start(struct ms_hash_item *items, size_t n,
                                      const struct ms_hashpool_opts *o)
{
	struct ms_hashpool *p = xcalloc(1, sizeof(*p));
	int threads = o->threads > 0 ? o->threads : ms_cores();

	p->items = items;
	p->n = n;
	p->block = o->block ? o->block : 4u << 20; /* a mapping window (hash.h) */
	p->order = xcalloc(n + 1, sizeof(*p->order));
	p->finished = xcalloc(n + 1, sizeof(*p->finished));
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		p->order[i] = i;
		items[i].status = items[i].errnum = 0;
		/* the size, for the order and the total, of a file the caller did not measure */
		if (items[i].size == MS_HASH_SIZE_OF_FILE)
			items[i].size = stat(items[i].path, &st) == 0 ? (uint64_t)st.st_size : 0;
		p->total += items[i].size;
	}
	qsort_r(p->order, n, sizeof(*p->order), larger_first, items);
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	atomic_init(&p->done_bytes, 0);
	atomic_init(&p->stop, false);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->tids = xcalloc((size_t)threads, sizeof(*p->tids));
	for (int i = 0; i < threads; i++) {
		pthread_mutex_lock(&p->mu);
		p->running++; /* before the thread exists: it may be done before we look */
		pthread_mutex_unlock(&p->mu);
		if (pthread_create(&p->tids[p->started], NULL, worker, p) != 0) {
			pthread_mutex_lock(&p->mu);
			p->running--;
			pthread_mutex_unlock(&p->mu);
			break;
		}
		p->started++;
	}
	return p;
}

size_t ms_hashpool_take(struct ms_hashpool *p, struct ms_hash_item **out, size_t max)
{
	size_t k = 0;

	pthread_mutex_lock(&p->mu);
	while (k < max && p->taken < p->nfinished)
		out[k++] = &p->items[p->finished[p->taken++]];
	pthread_mutex_unlock(&p->mu);
	if (ms_interrupted())
		atomic_store(&p->stop, true);
	return k;
}

bool ms_hashpool_busy(struct ms_hashpool *p)
{
	bool busy;

	pthread_mutex_lock(&p->mu);
	busy = p->running > 0 || p->taken < p->nfinished;
	pthread_mutex_unlock(&p->mu);
	return busy;
}

uint64_t ms_hashpool_progress(struct ms_hashpool *p, uint64_t *total)
{
	*total = p->total;
	return atomic_load(&p->done_bytes);
}

int ms_hashpool_finish(struct ms_hashpool *p, bool stop, struct ms_error *err)
{
	int ret = 0;

	if (stop)
		atomic_store(&p->stop, true);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->tids[i], NULL);
	if (!p->started)
		ret = ms_error_set(err, MS_EFAIL, "cannot start a hashing thread");
	else if (p->code)
		ret = ms_error_set(err, p->code, "%s", p->msg);
	else if (atomic_load(&p->stop) && !stop)
		ret = ms_error_set(err, MS_EINTR, "interrupted");
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->tids);
	free(p->order);
	free(p->finished);
	free(p);
	return ret;
}

/* Wait for the next finished item, or the interval; false when every thread is out. */
static bool wait_some(struct ms_hashpool *p, double interval)
{
	struct timespec ts;
	double secs;
	bool more;

	pthread_mutex_lock(&p->mu);
	if (p->taken == p->nfinished && p->running) {
		clock_gettime(CLOCK_REALTIME, &ts);
		secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + interval;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	more = p->running > 0 || p->taken < p->nfinished;
	pthread_mutex_unlock(&p->mu);
	return more;
}

int ms_hashpool_run(struct ms_hash_item *items, size_t n, const struct ms_hashpool_opts *o,
                    struct ms_error *err)
{
	struct ms_hashpool *p = ms_hashpool_start(items, n, o);
	double interval = o->interval > 0 ? o->interval : 0.1;
	struct ms_hash_item *done[64];
	uint64_t total, bytes;
	bool more = true;

	while (more) {
		size_t k;

		more = wait_some(p, interval);
		while ((k = ms_hashpool_take(p, done, 64)) != 0)
			for (size_t i = 0; i < k; i++)
				if (o->item_done)
					o->item_done(o->arg, done[i]);
		bytes = ms_hashpool_progress(p, &total);
		if (o->progress)
			o->progress(o->arg, bytes, total);
	}
	return ms_hashpool_finish(p, false, err);
}
