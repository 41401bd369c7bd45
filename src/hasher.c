/* The hashing thread (see hasher.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/hasher.h"

/*
 * Up to 4 MiB per turn, mapped from the page cache (ms_hasher_feed_fd): the
 * turn is the unit a reset waits for, and the mapping costs little at that
 * size.  Copying reads went into 256 KiB blocks so the copy stayed in L2
 * (984 MB/s with 4 MiB copies, 1089 with 512 KiB, 1049 with 256 KiB, paired
 * rounds); a mapping copies nothing.
 */
#define HASH_BLOCK (4u << 20)
/* ms_hasher_pool_speed needs this much hashed to say anything */
#define HASH_SPEED_SAMPLE (16u << 20)

struct ms_hash_slot {
	struct ms_hash_slot *next;
	struct ms_hasher_pool *pool;
	int fd;
	uint64_t size;
	enum ms_hash_algo algo;
	/* Guarded by pool->mu. */
	uint64_t ready, hashed;
	unsigned gen;
	bool done, busy, detached;
	int error;
	char hex[MS_HEX_MAX];
	/* Owned by the hasher thread. */
	struct ms_hasher h;
	unsigned h_gen;
	bool h_init;
};

struct ms_hasher_pool {
	pthread_t threads[MS_HASHER_MAX_THREADS];
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ms_hash_slot *slots;
	bool stop;
	void (*wake)(void *);
	void *wake_arg;
	pthread_cond_t idle;  /* a busy slot was let go */
	uint64_t fed, fed_ns; /* bytes hashed, and the thread CPU time it took */
};

static void slot_destroy(struct ms_hash_slot *s)
{
	struct ms_hash_slot **pp = &s->pool->slots;

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	close(s->fd);
	ms_hasher_release(&s->h);
	free(s);
}

/*
 * A slot with work that no other thread holds: bytes to hash, or a complete (maybe
 * empty) file to finalize.  A file is hashed in order, so one thread at a time.
 */
static struct ms_hash_slot *pick(struct ms_hasher_pool *p)
{
	for (struct ms_hash_slot *s = p->slots; s; s = s->next)
		if (!s->done && !s->detached && !s->busy &&
		    (s->hashed < s->ready || s->hashed == s->size))
			return s;
	return NULL;
}

static void *run(void *arg)
{
	struct ms_hasher_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct ms_hash_slot *s = pick(p);
		uint64_t from, len;
		unsigned gen;
		int64_t n = 0;
		uint64_t cpu_ns = 0;
		bool wake = false;

		if (!s) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		gen = s->gen;
		from = s->hashed;
		len = s->ready - from;
		if (len > HASH_BLOCK)
			len = HASH_BLOCK;
		s->busy = true;
		pthread_mutex_unlock(&p->mu);

		/* Hashing runs unlocked; a reset meanwhile is seen through gen. */
		if (!s->h_init || s->h_gen != gen) {
			ms_hasher_init(&s->h, s->algo, s->size);
			s->h_gen = gen;
			s->h_init = true;
		}
		if (len) {
			struct timespec t0, t1;

			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
			n = ms_hasher_feed_fd(&s->h, 1, s->fd, from, len);
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
			cpu_ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec -
			                    t0.tv_nsec);
		}

		pthread_mutex_lock(&p->mu);
		if (n > 0) {
			p->fed += (uint64_t)n;
			p->fed_ns += cpu_ns;
		}
		s->busy = false;
		pthread_cond_broadcast(&p->idle); /* a reset may wait for it (one per 4 MiB) */
		if (s->detached) {
			slot_destroy(s);
			continue;
		}
		if (s->gen != gen) {
			s->h_init = false; /* stale context: start over */
			continue;
		}
		if (len && n <= 0) {
			s->error = n < 0 ? (int)-n : EIO; /* the file is shorter than claimed */
			s->done = wake = true;
		} else {
			s->hashed += (uint64_t)n;
			if (s->hashed == s->size) {
				ms_hasher_final(&s->h, s->hex);
				s->h_init = false;
				s->done = wake = true;
			}
		}
		if (wake && p->wake)
			p->wake(p->wake_arg);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct ms_hasher_pool *ms_hasher_pool_start(int nthreads, void (*wake)(void *), void *arg)
{
	struct ms_hasher_pool *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->wake = wake;
	p->wake_arg = arg;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > MS_HASHER_MAX_THREADS)
		nthreads = MS_HASHER_MAX_THREADS;
	while (p->nthreads < nthreads &&
	       pthread_create(&p->threads[p->nthreads], NULL, run, p) == 0)
		p->nthreads++;
	if (!p->nthreads) {
		pthread_cond_destroy(&p->idle);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	return p;
}

void ms_hasher_pool_stop(struct ms_hasher_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while (p->slots)
		slot_destroy(p->slots);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pthread_cond_destroy(&p->idle);
	free(p);
}

double ms_hasher_pool_speed(struct ms_hasher_pool *p)
{
	double v = 0;

	pthread_mutex_lock(&p->mu);
	if (p->fed >= HASH_SPEED_SAMPLE && p->fed_ns)
		v = (double)p->fed * 1e9 / (double)p->fed_ns;
	pthread_mutex_unlock(&p->mu);
	return v;
}

struct ms_hash_slot *ms_hash_slot_new(struct ms_hasher_pool *p, int fd, uint64_t size,
                                      enum ms_hash_algo algo)
{
	struct ms_hash_slot *s = xcalloc(1, sizeof(*s));

	s->pool = p;
	s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (s->fd < 0) {
		free(s);
		return NULL;
	}
	s->size = size;
	s->algo = algo == MS_HASH_NONE ? MS_HASH_SHA256 : algo;
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	pthread_mutex_lock(&p->mu);
	s->next = p->slots;
	p->slots = s;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return s;
}

void ms_hash_slot_advance(struct ms_hash_slot *s, uint64_t ready)
{
	pthread_mutex_lock(&s->pool->mu);
	if (ready > s->ready) {
		s->ready = ready > s->size ? s->size : ready;
		pthread_cond_signal(&s->pool->cv);
	}
	pthread_mutex_unlock(&s->pool->mu);
}

void ms_hash_slot_reset(struct ms_hash_slot *s)
{
	pthread_mutex_lock(&s->pool->mu);
	s->gen++;
	s->ready = s->hashed = 0;
	s->done = false;
	s->error = 0;
	s->hex[0] = '\0';
	/* the thread may be reading the file: the caller truncates it next */
	while (s->busy)
		pthread_cond_wait(&s->pool->idle, &s->pool->mu);
	pthread_cond_signal(&s->pool->cv);
	pthread_mutex_unlock(&s->pool->mu);
}

int ms_hash_slot_result(struct ms_hash_slot *s, char hex[MS_HEX_MAX])
{
	int r = 0;

	pthread_mutex_lock(&s->pool->mu);
	if (s->done) {
		r = s->error ? -s->error : 1;
		memcpy(hex, s->hex, MS_HEX_MAX);
	}
	pthread_mutex_unlock(&s->pool->mu);
	return r;
}

uint64_t ms_hash_slot_hashed(struct ms_hash_slot *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->pool->mu);
	v = s->hashed;
	pthread_mutex_unlock(&s->pool->mu);
	return v;
}

void ms_hash_slot_free(struct ms_hash_slot *s)
{
	struct ms_hasher_pool *p;

	if (!s)
		return;
	p = s->pool;
	pthread_mutex_lock(&p->mu);
	if (s->busy)
		s->detached = true; /* the thread frees it when it lets go */
	else
		slot_destroy(s);
	pthread_mutex_unlock(&p->mu);
}
