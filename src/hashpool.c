/*
 * A pool of hashing threads (hashpool.h).  Work is handed out largest file
 * first, so one 5 GB shard does not start last and run alone; each thread
 * reads its file sequentially in large blocks (the page cache reads ahead)
 * and feeds every digest the file needs from the same buffer.  The caller's
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

struct pool {
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
	int running;
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
static void fail(struct pool *p, struct ms_hash_item *it, int code, int errnum)
{
	pthread_mutex_lock(&p->mu);
	it->status = code;
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
static int hash_one(struct pool *p, struct ms_hash_item *it, unsigned char *buf)
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
		ssize_t r = read(fd, buf, p->block);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(p, it, ms_err_from_errno(errno), errno);
			goto out;
		}
		if (r == 0 || atomic_load(&p->stop))
			break;
		for (int i = 0; i < nalg; i++)
			ms_hasher_update(&h[i], buf, (size_t)r);
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
	struct pool *p = arg;
	unsigned char *buf = xmalloc(p->block);

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
		hash_one(p, &p->items[i], buf);
		pthread_mutex_lock(&p->mu);
		p->finished[p->nfinished++] = i;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	free(buf);
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

/* The caller's side: report finished items and progress until every thread is out. */
static void report(struct pool *p, const struct ms_hashpool_opts *o, uint64_t total)
{
	double interval = o->interval > 0 ? o->interval : 0.1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct timespec ts;
		double secs;

		while (p->taken < p->nfinished) {
			size_t i = p->finished[p->taken++];

			pthread_mutex_unlock(&p->mu);
			if (o->item_done)
				o->item_done(o->arg, &p->items[i]);
			pthread_mutex_lock(&p->mu);
		}
		if (!p->running)
			break;
		pthread_mutex_unlock(&p->mu);
		if (o->progress)
			o->progress(o->arg, atomic_load(&p->done_bytes), total);
		if (ms_interrupted())
			atomic_store(&p->stop, true);
		pthread_mutex_lock(&p->mu);
		if (p->taken < p->nfinished || !p->running)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + interval;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	if (o->progress)
		o->progress(o->arg, atomic_load(&p->done_bytes), total);
}

int ms_hashpool_run(struct ms_hash_item *items, size_t n, const struct ms_hashpool_opts *o,
                    struct ms_error *err)
{
	struct pool p = {.items = items, .n = n};
	int threads = o->threads > 0 ? o->threads : ms_cores();
	pthread_t *tids;
	uint64_t total = 0;
	int started = 0, ret = 0;

	p.block = o->block ? o->block : 1u << 20;
	p.order = xcalloc(n + 1, sizeof(*p.order));
	p.finished = xcalloc(n + 1, sizeof(*p.finished));
	for (size_t i = 0; i < n; i++) {
		p.order[i] = i;
		items[i].status = 0;
		total += items[i].size;
	}
	qsort_r(p.order, n, sizeof(*p.order), larger_first, items);
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	atomic_init(&p.done_bytes, 0);
	atomic_init(&p.stop, false);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	tids = xcalloc((size_t)threads, sizeof(*tids));
	for (int i = 0; i < threads; i++) {
		pthread_mutex_lock(&p.mu);
		p.running++; /* before the thread exists: it may be done before we look */
		pthread_mutex_unlock(&p.mu);
		if (pthread_create(&tids[started], NULL, worker, &p) != 0) {
			pthread_mutex_lock(&p.mu);
			p.running--;
			pthread_mutex_unlock(&p.mu);
			break;
		}
		started++;
	}
	if (!started) {
		ret = ms_error_set(err, MS_EFAIL, "cannot start a hashing thread");
	} else {
		report(&p, o, total);
		for (int i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
		if (atomic_load(&p.stop) && !p.code)
			ret = ms_error_set(err, MS_EINTR, "interrupted");
		else if (p.code)
			ret = ms_error_set(err, p.code, "%s", p.msg);
	}
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	free(tids);
	free(p.order);
	free(p.finished);
	return ret;
}
