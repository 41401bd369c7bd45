/* The writing thread (see writer.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/resume.h"
#include "mscli/writer.h"

struct ms_writer {
	pthread_t thread;
	pid_t tid;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	struct ms_write *head, *tail;           /* to write */
	struct ms_write *done_head, *done_tail; /* written, for the main thread */
	unsigned char **free;
	size_t nfree, nalloc, max, size;
	bool busy, stop;
	void (*wake)(void *);
	void *wake_arg;
};

static void *run(void *arg)
{
	struct ms_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	w->tid = gettid();
	pthread_cond_broadcast(&w->idle);
	for (;;) {
		struct ms_write *job = w->head;

		if (!job) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->work, &w->mu);
			continue;
		}
		w->head = job->next;
		if (!w->head)
			w->tail = NULL;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);

		job->err = ms_pwrite_all(job->fd, job->buf, job->len, job->off);
		/* the counter claims the bytes only once they are written */
		if (!job->err && job->state_fd >= 0) {
			unsigned char b[8];

			ms_resume_counter_bytes(job->counter_val, b);
			job->err = ms_pwrite_all(job->state_fd, b, 8, job->counter_off);
		}

		pthread_mutex_lock(&w->mu);
		w->free[w->nfree++] = job->buf;
		job->buf = NULL;
		job->next = NULL;
		if (w->done_tail)
			w->done_tail->next = job;
		else
			w->done_head = job;
		w->done_tail = job;
		w->busy = false;
		pthread_cond_broadcast(&w->idle);
		if (w->wake)
			w->wake(w->wake_arg);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct ms_writer *ms_writer_start(size_t buffer_size, size_t max_buffers, void (*wake)(void *),
                                  void *arg)
{
	struct ms_writer *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->idle, NULL);
	w->size = buffer_size;
	w->max = max_buffers ? max_buffers : 1;
	w->free = xcalloc(w->max, sizeof(*w->free));
	w->wake = wake;
	w->wake_arg = arg;
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		free(w->free);
		free(w);
		return NULL;
	}
	return w;
}

int ms_writer_renice(struct ms_writer *w, int inc)
{
	int nice;

	pthread_mutex_lock(&w->mu);
	while (!w->tid) /* the thread has not run yet */
		pthread_cond_wait(&w->idle, &w->mu);
	/* Linux: PRIO_PROCESS with a thread id sets that thread's nice value only */
	nice = getpriority(PRIO_PROCESS, (id_t)w->tid) + inc;
	setpriority(PRIO_PROCESS, (id_t)w->tid, nice);
	nice = getpriority(PRIO_PROCESS, (id_t)w->tid);
	pthread_mutex_unlock(&w->mu);
	return nice;
}

void ms_writer_stop(struct ms_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	while (w->done_head) {
		struct ms_write *j = w->done_head;

		w->done_head = j->next;
		free(j);
	}
	for (size_t i = 0; i < w->nfree; i++)
		free(w->free[i]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->idle);
	free(w->free);
	free(w);
}

unsigned char *ms_writer_buffer(struct ms_writer *w)
{
	unsigned char *b = NULL;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (w->nfree) {
			b = w->free[--w->nfree];
			break;
		}
		if (w->nalloc < w->max) {
			w->nalloc++;
			break;
		}
		/* all buffers are queued: the disk is the bottleneck, wait for it */
		pthread_cond_wait(&w->idle, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return b ? b : xmalloc(w->size);
}

void ms_writer_put_buffer(struct ms_writer *w, unsigned char *buf)
{
	pthread_mutex_lock(&w->mu);
	w->free[w->nfree++] = buf;
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->mu);
}

void ms_writer_submit(struct ms_writer *w, struct ms_write *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

struct ms_write *ms_writer_completed(struct ms_writer *w)
{
	struct ms_write *list;

	pthread_mutex_lock(&w->mu);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	return list;
}

void ms_writer_drain(struct ms_writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->head || w->busy)
		pthread_cond_wait(&w->idle, &w->mu);
	pthread_mutex_unlock(&w->mu);
}
