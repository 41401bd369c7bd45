/* Files hashed in parallel (hashfiles.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hashfiles.h"

/* 256 KiB: the copy out of the page cache stays in L2 for SHA-256 (hasher.c measured it). */
#define BLOCK (256u << 10)

struct pool {
	struct ms_hashfile *files;
	size_t *order; /* largest first */
	size_t n, next, done;
	size_t block;
	uint64_t bytes;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void hash_one(struct pool *p, struct ms_hashfile *f, unsigned char *buf)
{
	struct ms_hasher h = {0};
	struct stat st;
	ssize_t r = 0;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		f->errnum = errno;
		f->status = MS_EFAIL;
		if (fd >= 0)
			close(fd);
		return;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ms_hasher_init(&h, f->algo, (uint64_t)st.st_size);
	while (!ms_interrupted() && (r = read(fd, buf, p->block)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		ms_hasher_update(&h, buf, (size_t)r);
		f->size += (uint64_t)r;
		__atomic_add_fetch(&p->bytes, (uint64_t)r, __ATOMIC_RELAXED);
	}
	if (r < 0) {
		f->errnum = errno;
		f->status = MS_EFAIL;
	} else if (ms_interrupted()) {
		f->status = MS_EINTR;
	} else if (f->size != (uint64_t)st.st_size) {
		f->errnum = EIO; /* it changed size while it was read */
		f->status = MS_EFAIL;
	} else {
		ms_hasher_final(&h, f->hex);
	}
	ms_hasher_release(&h);
	close(fd);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	unsigned char *buf = xmalloc(p->block);

	pthread_mutex_lock(&p->mu);
	while (p->next < p->n && !ms_interrupted()) {
		struct ms_hashfile *f = &p->files[p->order[p->next++]];

		pthread_mutex_unlock(&p->mu);
		hash_one(p, f, buf);
		pthread_mutex_lock(&p->mu);
		p->done++;
	}
	p->running--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	free(buf);
	return NULL;
}

static int by_size_desc(const void *a, const void *b, void *arg)
{
	const uint64_t *sizes = arg;
	uint64_t x = sizes[*(const size_t *)a], y = sizes[*(const size_t *)b];

	return x < y ? 1 : x > y ? -1 : 0;
}

static void order_by_size(struct pool *p)
{
	uint64_t *sizes = xcalloc(p->n + 1, sizeof(*sizes));
	struct stat st;

	for (size_t i = 0; i < p->n; i++) {
		p->order[i] = i;
		sizes[i] = stat(p->files[i].path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	qsort_r(p->order, p->n, sizeof(*p->order), by_size_desc, sizes);
	free(sizes);
}

static int cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

int ms_hash_files(struct ms_hashfile *files, size_t n, const struct ms_hashfiles_opts *o)
{
	struct pool p = {.files = files, .n = n, .block = o && o->block ? o->block : BLOCK};
	int threads = o && o->threads > 0 ? o->threads : cores();
	pthread_t *tids;
	int started = 0;

	if (threads > (int)n)
		threads = n ? (int)n : 1;
	for (size_t i = 0; i < n; i++) {
		files[i].status = files[i].errnum = 0;
		files[i].size = 0;
		files[i].hex[0] = '\0';
	}
	p.order = xcalloc(n + 1, sizeof(*p.order));
	order_by_size(&p);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	tids = xcalloc((size_t)threads, sizeof(*tids));
	pthread_mutex_lock(&p.mu);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, worker, &p) == 0)
			started++;
	p.running = started;
	pthread_mutex_unlock(&p.mu);
	if (!started) { /* no thread to be had: this one does the work */
		p.running = 1;
		worker(&p);
	}
	pthread_mutex_lock(&p.mu);
	while (p.running > 0) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p.cv, &p.mu, &until);
		if (o && o->progress && p.running > 0) {
			size_t done = p.done;

			pthread_mutex_unlock(&p.mu);
			o->progress(o->arg, done, __atomic_load_n(&p.bytes, __ATOMIC_RELAXED));
			pthread_mutex_lock(&p.mu);
		}
	}
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (o && o->progress)
		o->progress(o->arg, p.done, p.bytes);
	free(tids);
	free(p.order);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return ms_interrupted() ? MS_EINTR : 0;
}
