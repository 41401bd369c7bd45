/*
 * The transfer engine's loop (engine.h).  Shape after curl's
 * parallel_transfers(): jobs hand transfers to one multi handle within a
 * connection budget; the loop drives curl, hands finished transfers back to
 * their job kind, ends stalled ones, emits progress and sleeps in
 * epoll until a socket, a thread (engine_wake) or a timer needs it.
 *
 * curl is driven by curl_multi_socket_action: a pass runs only the transfers
 * whose sockets are ready.  curl_multi_perform ran every transfer and libcurl
 * 7.88 polled each one's socket again (8 poll()s per small file), and it
 * could not be told of TLS records OpenSSL has read ahead (ms_http_read_ahead).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/common.h"
#include "mscli/engine-kind.h"
#include "mscli/http.h"
#include "mscli/url.h"

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
	o->tls_read_ahead = 128u << 10; /* see README, Performance */
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

static int on_close_socket(void *arg, curl_socket_t s);

int engine_add(struct engine *e, struct econn *c, const char *url, const struct engine_kind *kind,
               void *state)
{
	c->kind = kind;
	c->tls = ms_url_is_https(url);
	c->kind_state = state;
	c->last_rx = ms_now();
	c->stalled = false;
	c->sock = CURL_SOCKET_BAD;
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
	curl_easy_setopt(c->easy, CURLOPT_CLOSESOCKETDATA, e);
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
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, NULL); /* on_socket: c goes */
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
	uint64_t one = 1;
	ssize_t n = write(((struct engine *)engine)->wake_fd, &one, sizeof(one));

	(void)n; /* EAGAIN: a wake-up is pending already */
}

/*
 * What the epoll set has for each socket.  When a transfer ends, curl stops
 * watching its kept-alive connection, and the next transfer on it watches it
 * again: two epoll_ctl calls per file, each a system call.  So a socket curl
 * stops watching for input stays in the set, dormant, until curl watches it
 * again (nothing to do), input wakes it (taken out then), or it is closed
 * (on_close_socket).  A socket watched for output (connecting) goes at once.
 */
enum { W_IN = 1, W_OUT = 2, W_DORMANT = 4 };

static uint8_t *watch_of(struct engine *e, curl_socket_t s)
{
	if (s < 0)
		return NULL;
	if ((size_t)s >= e->watch_cap) {
		size_t old = e->watch_cap;

		ms_grow((void **)&e->watch, &e->watch_cap, (size_t)s + 1, sizeof(*e->watch));
		memset(e->watch + old, 0, e->watch_cap - old);
	}
	return &e->watch[s];
}

static void unwatch(struct engine *e, curl_socket_t s, uint8_t *w)
{
	if (*w)
		epoll_ctl(e->ep_fd, EPOLL_CTL_DEL, s, NULL); /* ENOENT, EBADF: gone already */
	*w = 0;
}

/* curl wants s watched for what (CURLMOPT_SOCKETFUNCTION). */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *arg, void *socketp)
{
	struct engine *e = arg;
	struct epoll_event ev = {.data.fd = s};
	struct econn *c = NULL;
	uint8_t *w = watch_of(e, s), want;

	(void)socketp;
	if (easy && curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&c) == CURLE_OK && c)
		c->sock = what == CURL_POLL_REMOVE ? CURL_SOCKET_BAD : s;
	if (!w)
		return what == CURL_POLL_REMOVE ? 0 : -1;
	if (what == CURL_POLL_REMOVE) {
		if (*w == W_IN)
			*w |= W_DORMANT;
		else
			unwatch(e, s, w);
		return 0;
	}
	want = (what & CURL_POLL_IN ? W_IN : 0) | (what & CURL_POLL_OUT ? W_OUT : 0);
	if (*w == (W_IN | W_DORMANT) && want == W_IN) {
		*w = W_IN; /* awake again, as it was */
		return 0;
	}
	ev.events = (want & W_IN ? EPOLLIN : 0u) | (want & W_OUT ? EPOLLOUT : 0u);
	if (*w && epoll_ctl(e->ep_fd, EPOLL_CTL_MOD, s, &ev) == 0) {
		*w = want;
		return 0;
	}
	if (epoll_ctl(e->ep_fd, EPOLL_CTL_ADD, s, &ev) != 0 &&
	    (errno != EEXIST || epoll_ctl(e->ep_fd, EPOLL_CTL_MOD, s, &ev) != 0)) {
		*w = 0;
		return -1;
	}
	*w = want;
	return 0;
}

/*
 * Every socket of the engine's connections is closed here
 * (CURLOPT_CLOSESOCKETFUNCTION): a dormant one leaves the epoll set first, so
 * that a new socket given the same number is never taken for it.
 */
static int on_close_socket(void *arg, curl_socket_t s)
{
	struct engine *e = arg;
	uint8_t *w = watch_of(e, s);

	if (w)
		unwatch(e, s, w);
	return close(s);
}

/* curl wants to be called in ms milliseconds, or (-1) not (CURLMOPT_TIMERFUNCTION). */
static int on_timer(CURLM *multi, long ms, void *arg)
{
	struct engine *e = arg;

	(void)multi;
	e->timer_at = ms < 0 ? -1.0 : ms_now() + (double)ms / 1000.0;
	return 0;
}

static void socket_action(struct engine *e, curl_socket_t s, int ev)
{
	int running;

	curl_multi_socket_action(e->multi, s, ev, &running);
}

/*
 * Records OpenSSL read ahead wake no socket: hand them to curl, which takes one per
 * action, while it takes any; true when it still did after 64 rounds (do not sleep).
 */
static bool drain_tls(struct engine *e)
{
	for (int round = 0; round < 64; round++) {
		bool any = false;

		for (struct econn *c = e->conns; c; c = c->next) {
			unsigned long before = ms_http_tls_records();

			if (!c->tls || c->sock == CURL_SOCKET_BAD || !ms_http_tls_pending(c->easy))
				continue;
			socket_action(e, c->sock, CURL_CSELECT_IN);
			/* no record begun: the rest is part of one; its socket will wake us */
			any |= ms_http_tls_records() != before;
		}
		if (!any)
			return false;
	}
	return true;
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
	int left;

	for (size_t k = 0; k < NKINDS && !e->fatal; k++)
		if (states[k])
			kinds[k]->schedule(e, states[k]);
	if (e->timer_at >= 0 && e->timer_at <= ms_now()) {
		e->timer_at = -1;
		socket_action(e, CURL_SOCKET_TIMEOUT, 0);
	}
	e->tls_pending = drain_tls(e);
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
		ms_job_err_free(jobs[i]);
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
				        ms_error_set(ms_job_err(mine[i]), MS_EFAIL,
				                     "'%s' could not be started", mine[i]->name);
		}
		free(mine);
	}
}

/* Input on a dormant socket (its server closed it, say): out of the set; curl finds out
 * when it next looks at that connection. */
static bool ev_dormant(struct engine *e, curl_socket_t s)
{
	uint8_t *w = watch_of(e, s);

	if (!w || !(*w & W_DORMANT))
		return false;
	unwatch(e, s, w);
	return true;
}

/* Sleep until a socket, engine_wake or a timer (curl's, or the kinds' in `max` seconds). */
static void wait_events(struct engine *e, double max)
{
	struct epoll_event evs[32];
	double now = ms_now();
	int ms, n;

	if (e->timer_at >= 0 && e->timer_at - now < max)
		max = e->timer_at - now;
	ms = e->tls_pending || max <= 0 ? 0 : (int)(max * 1000) + 1;
	n = epoll_wait(e->ep_fd, evs, (int)MS_ARRAY_SIZE(evs), ms);
	for (int i = 0; i < n; i++) {
		uint32_t ev = evs[i].events;

		if (evs[i].data.fd == e->wake_fd) {
			uint64_t count;
			ssize_t r = read(e->wake_fd, &count, sizeof(count));

			(void)r;
			continue;
		}
		if (ev_dormant(e, evs[i].data.fd))
			continue;
		/* an error or a hang-up alone: curl looks at the socket itself */
		socket_action(e, evs[i].data.fd,
		              (ev & EPOLLIN ? CURL_CSELECT_IN : 0) |
		                      (ev & EPOLLOUT ? CURL_CSELECT_OUT : 0));
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
		wait_events(e, next_wakeup(e, states));
	}
}

bool engine_retry(const struct engine *e, int attempts, double *wait, char *why, size_t n)
{
	if (ms_retry_next(e->o->net, attempts, wait))
		return true;
	if (*wait > e->o->net->retry_max_wait)
		snprintf(why, n, "the server asks to wait too long");
	else
		snprintf(why, n, "after %d attempts", attempts);
	return false;
}

struct ms_error *ms_job_err(struct ms_xfer_job *job)
{
	if (!job->err)
		job->err = xcalloc(1, sizeof(*job->err));
	return job->err;
}

void ms_job_err_free(struct ms_xfer_job *job)
{
	free(job->err);
	job->err = NULL;
}

int ms_engine_run(const struct ms_engine_opts *o, struct ms_xfer_job *jobs, size_t n)
{
	struct engine e = {.o = o,
	                   .njobs = n,
	                   .feeding = o->feed != NULL,
	                   .timer_at = -1,
	                   .ep_fd = -1,
	                   .wake_fd = -1};
	void *states[NKINDS] = {0};
	int ret = 0;

	e.budget = o->max_workers > o->connections ? o->max_workers : o->connections;
	if (e.budget < 1)
		e.budget = 1;
	e.multi = curl_multi_init();
	e.ep_fd = epoll_create1(EPOLL_CLOEXEC);
	e.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!e.multi || e.ep_fd < 0 || e.wake_fd < 0 ||
	    epoll_ctl(e.ep_fd, EPOLL_CTL_ADD, e.wake_fd,
	              &(struct epoll_event){.events = EPOLLIN, .data.fd = e.wake_fd}) != 0) {
		if (e.multi)
			curl_multi_cleanup(e.multi);
		if (e.ep_fd >= 0)
			close(e.ep_fd);
		if (e.wake_fd >= 0)
			close(e.wake_fd);
		return MS_EFAIL;
	}
	curl_multi_setopt(e.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(e.multi, CURLMOPT_SOCKETDATA, &e);
	curl_multi_setopt(e.multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(e.multi, CURLMOPT_TIMERDATA, &e);
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
		ms_job_err_free(&jobs[i]);
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
	curl_multi_cleanup(e.multi); /* its sockets leave the epoll set: close it after */
	free(e.watch);
	close(e.ep_fd);
	close(e.wake_fd);
	return ret;
}
