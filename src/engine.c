/*
 * The transfer engine's loop (engine.h).  Shape after curl's
 * parallel_transfers(): jobs hand transfers to one multi handle within a
 * connection budget; the loop drives curl, hands finished transfers back to
 * their job kind, ends stalled ones, emits progress and sleeps in
 * curl_multi_poll until a socket, a thread (engine_wake) or a timer needs it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/common.h"
#include "mscli/engine-kind.h"

static const struct engine_kind *const kinds[] = {
        [MS_JOB_GET] = &engine_get,
        [MS_JOB_PUT] = &engine_put,
};

#define NKINDS MS_ARRAY_SIZE(kinds)

void ms_engine_opts_init(struct ms_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_workers = 8;
	o->connections = 8;
	o->range_threshold = 64u << 20;
	o->chunk_size = 16u << 20;
	o->write_buffer = 1u << 20;
	/*
	 * Two hashers when there are two cores: big files arrive faster than one core of
	 * SHA-256, so a second thread takes the next file's prefix while the first still
	 * hashes the one before (4 x 512 MiB over HTTP, 6 paired rounds: 1.51 s against
	 * 1.73, CPU 2.33 against 2.27; one huge file and TLS: no change).  More were not
	 * measured: MSCLI_HASH_THREADS sets it.
	 */
	o->hash_threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
	o->progress_interval = 0.1;
}

CURL *engine_easy(struct engine *e)
{
	if (e->nidle)
		return e->idle[--e->nidle];
	return curl_easy_init();
}

static void put_easy(struct engine *e, CURL *h)
{
	ms_grow((void **)&e->idle, &e->idle_cap, e->nidle + 1, sizeof(*e->idle));
	e->idle[e->nidle++] = h;
}

int engine_add(struct engine *e, struct econn *c, const struct engine_kind *kind, void *state)
{
	c->kind = kind;
	c->kind_state = state;
	c->last_rx = ms_now();
	c->stalled = false;
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	if (curl_multi_add_handle(e->multi, c->easy) != CURLM_OK) {
		put_easy(e, c->easy);
		return -1;
	}
	c->prev = NULL;
	c->next = e->conns;
	if (e->conns)
		e->conns->prev = c;
	e->conns = c;
	e->active_conns++;
	return 0;
}

void engine_remove(struct engine *e, struct econn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	curl_multi_remove_handle(e->multi, c->easy);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL); /* c goes, the handle stays */
	put_easy(e, c->easy);
	c->easy = NULL;
	e->active_conns--;
}

bool engine_has_budget(const struct engine *e)
{
	return e->active_conns < e->budget;
}

void engine_emit(struct engine *e, enum ms_event_type type, struct ms_xfer_job *job,
                 uint64_t job_done, int attempt, double delay, const char *reason)
{
	struct ms_event ev = {
	        .type = type,
	        .job = job,
	        .job_done = job_done,
	        .total_done = e->total_done, /* kept as jobs land: no O(jobs) sum per event */
	        .total_size = e->total_size,
	        .nfiles = e->njobs,
	        .attempt = attempt,
	        .delay = delay,
	        .reason = reason,
	        .elapsed = ms_now() - e->started,
	};

	if (e->o->on_event)
		e->o->on_event(e->o->event_arg, &ev);
}

void engine_wake(void *engine)
{
	curl_multi_wakeup(((struct engine *)engine)->multi);
}

/* A transfer that received nothing for stall_timeout seconds fails like a timeout.  curl's
 * own low-speed check averages over seconds; this one is exact. */
static void check_stalls(struct engine *e)
{
	double now = ms_now(), limit = (double)e->o->net->stall_timeout;
	struct econn *c = e->conns;

	while (c) {
		if (now - c->last_rx < limit) {
			c = c->next;
			continue;
		}
		c->stalled = true;
		/* the kind frees c and may end others of its job: start over */
		c->kind->transfer_done(e, c->kind_state, c, CURLE_OPERATION_TIMEDOUT);
		c = e->conns;
	}
}

static void progress(struct engine *e, void *const *states)
{
	double now = ms_now();

	if (now - e->last_progress < e->o->progress_interval)
		return;
	e->last_progress = now;
	for (size_t k = 0; k < NKINDS; k++)
		if (states[k])
			kinds[k]->progress(e, states[k]);
	engine_emit(e, MS_EV_PROGRESS, NULL, 0, 0, 0, NULL);
}

static bool all_finished(const struct engine *e, void *const *states)
{
	if (e->feeding)
		return false;
	for (size_t k = 0; k < NKINDS; k++)
		if (states[k] && !kinds[k]->finished(states[k]))
			return false;
	return true;
}

static double next_wakeup(struct engine *e, void *const *states)
{
	double now = ms_now(), t = e->o->progress_interval > 0 ? e->o->progress_interval : 0.2;

	for (size_t k = 0; k < NKINDS; k++)
		if (states[k])
			t = kinds[k]->next_wakeup(e, states[k], now, t);
	/* what the feeder waits for (hashing threads) does not wake curl: look often */
	return e->feeding && t > 0.01 ? 0.01 : t;
}

/* One pass: start what can start, let curl move, take back what ended. */
static void pass(struct engine *e, void *const *states)
{
	struct CURLMsg *m;
	int running, left;

	for (size_t k = 0; k < NKINDS && !e->fatal; k++)
		if (states[k])
			kinds[k]->schedule(e, states[k]);
	curl_multi_perform(e->multi, &running);
	while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
		struct econn *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		c->kind->transfer_done(e, c->kind_state, c, m->data.result);
	}
	for (size_t k = 0; k < NKINDS; k++)
		if (states[k])
			kinds[k]->after_pass(e, states[k]);
	check_stalls(e);
}

/* The jobs of kind k, in order: *state stays NULL when there are none. */
static int start_kind(struct engine *e, size_t k, struct ms_xfer_job *jobs, size_t n, void **state)
{
	struct ms_xfer_job **mine = xcalloc(n + 1, sizeof(*mine));
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if ((size_t)jobs[i].kind == k)
			mine[m++] = &jobs[i];
	if (m)
		*state = kinds[k]->start(e, mine, m);
	free(mine);
	return m && !*state ? MS_EFAIL : 0; /* its threads could not start */
}

/* Jobs from the feeder go to their kind: started, or added to its running state. */
static void feed(struct engine *e, void **states)
{
	struct ms_xfer_job **jobs = NULL;
	bool more = false;
	size_t n;

	if (!e->feeding)
		return;
	n = e->o->feed(e->o->feed_arg, &jobs, &more);
	e->feeding = more && n != SIZE_MAX;
	if (n == SIZE_MAX) {
		if (!e->fatal)
			e->fatal = MS_EFAIL;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i]->status = 0;
		jobs[i]->done = false;
		ms_error_clear(&jobs[i]->err);
		e->total_size += jobs[i]->size;
		e->njobs++;
	}
	for (size_t k = 0; k < NKINDS && n; k++) {
		struct ms_xfer_job **mine = xcalloc(n + 1, sizeof(*mine));
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if ((size_t)jobs[i]->kind == k)
				mine[m++] = jobs[i];
		if (m && states[k] && kinds[k]->add) {
			kinds[k]->add(e, states[k], mine, m);
		} else if (m && !states[k] && (states[k] = kinds[k]->start(e, mine, m)) != NULL) {
			/* started */
		} else {
			/* a kind that takes no job while it runs, or whose threads failed */
			for (size_t i = 0; i < m; i++)
				mine[i]->status =
				        ms_error_set(&mine[i]->err, MS_EFAIL,
				                     "'%s' could not be started", mine[i]->name);
		}
		free(mine);
	}
}

static void run(struct engine *e, void **states)
{
	engine_emit(e, MS_EV_PLAN, NULL, 0, 0, 0, NULL);
	while (!all_finished(e, states)) {
		if (ms_interrupted() && !e->fatal)
			e->fatal = MS_EINTR;
		if (e->fatal) {
			for (size_t k = 0; k < NKINDS; k++)
				if (states[k])
					kinds[k]->stop(e, states[k], e->fatal);
			break;
		}
		feed(e, states);
		pass(e, states);
		progress(e, states);
		if (all_finished(e, states))
			break;
		curl_multi_poll(e->multi, NULL, 0, (int)(next_wakeup(e, states) * 1000) + 1, NULL);
	}
}

int ms_engine_run(const struct ms_engine_opts *o, struct ms_xfer_job *jobs, size_t n)
{
	struct engine e = {.o = o, .njobs = n, .feeding = o->feed != NULL};
	void *states[NKINDS] = {0};
	int ret = 0;

	e.budget = o->max_workers > o->connections ? o->max_workers : o->connections;
	if (e.budget < 1)
		e.budget = 1;
	e.multi = curl_multi_init();
	if (!e.multi)
		return MS_EFAIL;
	/*
	 * The budget is per host: a file's first request goes to the hub and the
	 * rest to its CDN, and one budget shared by both made curl close one
	 * host's idle connections to open the other's (nginx saw ~250 CDN
	 * connections for 2000 small files).  The engine keeps at most budget
	 * transfers in flight, so each host needs budget connections, and the
	 * cache keeps them all.
	 */
	curl_multi_setopt(e.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e.budget);
	curl_multi_setopt(e.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 2L * e.budget);
	curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, 2L * e.budget + 4);
	for (size_t i = 0; i < n; i++) {
		jobs[i].status = 0;
		jobs[i].done = false;
		jobs[i].stopped = false;
		ms_error_clear(&jobs[i].err);
		e.total_size += jobs[i].size;
	}
	e.started = e.last_progress = ms_now();
	for (size_t k = 0; k < NKINDS && !ret; k++)
		ret = start_kind(&e, k, jobs, n, &states[k]);
	if (!ret) {
		run(&e, states);
		/* keep what arrived: the kinds let queued bytes land and close their files */
		for (size_t k = 0; k < NKINDS; k++)
			if (states[k])
				kinds[k]->finish(&e, states[k]);
		for (size_t i = 0; i < n && !ret; i++)
			ret = jobs[i].status;
		engine_emit(&e, MS_EV_FINISH, NULL, 0, 0, 0, NULL);
	} else {
		for (size_t k = 0; k < NKINDS; k++)
			if (states[k])
				kinds[k]->finish(&e, states[k]);
	}
	while (e.nidle)
		curl_easy_cleanup(e.idle[--e.nidle]);
	free(e.idle);
	curl_multi_cleanup(e.multi);
	return ret;
}
