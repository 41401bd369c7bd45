/*
 * The PUT job kind of the transfer engine (engine.h): each job sends one
 * region of a file (a whole LFS object, or one part of a multipart upload)
 * to a URL, as many at once as the connection budget allows.  The bytes are
 * read from disk when curl asks for them (pread at the job's offset), so
 * memory does not grow with the file.  Transport errors, 408/429 and 5xx are
 * retried from the job's first byte with the download's backoff; an answer
 * keeps its status, ETag and body for the caller.
 *
 * The auth headers come from ms_http_auth_headers(): a storage host on
 * another origin than the hub never sees the token or the hub's cookie.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/engine-kind.h"
#include "mscli/log.h"
#include "mscli/strbuf.h"

/* The answer of a storage host is small (an ETag, a JSON envelope): keep this much. */
#define ANSWER_MAX (64u << 10)
/* curl's upload buffer: fewer, larger reads from the page cache. */
#define UPLOAD_BUFFER (512L << 10)

enum pphase { P_PENDING, P_ACTIVE, P_DONE, P_FAILED };

struct pjob {
	struct ms_xfer_job *job;
	enum pphase phase;
	uint64_t sent; /* bytes of this attempt handed to curl */
	int attempts;
	double not_before;
	bool started; /* START was emitted */
	struct pconn *conn;
};

struct pconn {
	struct econn base; /* first: what the engine sees */
	struct put *p;
	struct pjob *pj;
	int fd;
	int read_err; /* errno of a failed read; -1: the file ended before the region did */
	bool foreign; /* the URL is not on the hub's origin */
	struct curl_slist *hdrs;
	struct ms_http_response resp;
};

struct put {
	struct engine *e;
	struct pjob **jobs; /* each its own allocation: transfers point at them as jobs come */
	size_t n, cap;
	size_t first_open;  /* jobs before it are done or failed */
	size_t touched_end; /* jobs from here on were never started */
};

static void emit(struct put *p, enum ms_event_type type, struct pjob *pj, int attempt, double delay,
                 const char *reason)
{
	engine_emit(p->e, type, pj->job, pj->sent, attempt, delay, reason);
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct pconn *c = arg;

	c->base.last_rx = ms_now();
	return ms_http_capture_header(&c->resp, buf, size * n) ? 0 : size * n;
}

static size_t on_answer(char *buf, size_t size, size_t n, void *arg)
{
	struct pconn *c = arg;
	struct ms_buf *a = &c->pj->job->answer;

	c->base.last_rx = ms_now();
	if (a->len < ANSWER_MAX)
		ms_buf_add(a, buf, size * n < ANSWER_MAX - a->len ? size * n : ANSWER_MAX - a->len);
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct pconn *c = arg;
	struct pjob *pj = c->pj;
	uint64_t left = pj->job->size - pj->sent;
	size_t want = size * n < left ? size * n : (size_t)left;
	ssize_t r;

	if (!want)
		return 0;
	do
		r = pread(c->fd, buf, want, (off_t)(pj->job->offset + pj->sent));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		c->read_err = r < 0 ? errno : -1;
		return CURL_READFUNC_ABORT;
	}
	pj->sent += (uint64_t)r;
	pj->job->sent += (uint64_t)r;
	c->p->e->total_done += (uint64_t)r;
	/* bytes leaving count as life: the stall check must not end a transfer that sends */
	c->base.last_rx = ms_now();
	return (size_t)r;
}

static void conn_free(struct put *p, struct pconn *c)
{
	engine_remove(p->e, &c->base);
	curl_slist_free_all(c->hdrs);
	if (c->fd >= 0)
		close(c->fd);
	ms_http_response_release(&c->resp);
	c->pj->conn = NULL;
	free(c);
}

static void job_fail(struct put *p, struct pjob *pj, int code, const char *fmt, ...)
        MS_PRINTF(4, 5);

static void job_fail(struct put *p, struct pjob *pj, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_error_vset(ms_job_err(pj->job), code, fmt, ap);
	va_end(ap);
	pj->job->status = code;
	pj->phase = P_FAILED;
	emit(p, MS_EV_ERROR, pj, 0, 0, pj->job->err->msg);
}

/* This attempt's bytes no longer count: the next one starts from the region's start. */
static void rewind_job(struct put *p, struct pjob *pj)
{
	p->e->total_done -= pj->sent;
	pj->sent = 0;
	ms_buf_release(&pj->job->answer);
	free(pj->job->etag);
	pj->job->etag = NULL;
}

static void retry_or_fail(struct put *p, struct pjob *pj, int final_code, double wait,
                          const char *reason)
{
	const struct ms_net_opts *net = p->e->o->net;
	char why[64];

	rewind_job(p, pj);
	if (!engine_retry(p->e, ++pj->attempts, &wait, why, sizeof(why))) {
		job_fail(p, pj, final_code, "uploading '%s': %s (%s)", pj->job->name, reason, why);
		return;
	}
	pj->not_before = ms_now() + wait;
	pj->phase = P_PENDING;
	ms_verbose("%s: %s; retry %d/%d in %.1fs", pj->job->name, reason, pj->attempts,
	           net->retries, wait);
	emit(p, MS_EV_RETRY, pj, pj->attempts, wait, reason);
}

static void on_status(struct put *p, struct pjob *pj, const struct ms_http_response *resp,
                      bool foreign)
{
	struct ms_xfer_job *job = pj->job;
	struct ms_http_response r = *resp;
	char reason[1200], what[600];
	struct ms_error tmp;

	job->http_status = resp->status;
	if (resp->status >= 200 && resp->status < 300) {
		job->etag = resp->etag ? xstrdup(resp->etag) : NULL;
		pj->phase = P_DONE;
		job->done = true;
		emit(p, MS_EV_DONE, pj, 0, 0, NULL);
		return;
	}
	snprintf(reason, sizeof(reason), "HTTP %ld from %s", resp->status, job->url);
	switch (ms_retry_classify(0, resp->status, foreign)) {
	case MS_RETRY_YES:
		retry_or_fail(p, pj, resp->status == 429 ? MS_ENET : MS_EFAIL,
		              ms_http_retry_wait(resp), reason);
		return;
	case MS_RETRY_REFRESH:
		job->expired = true;
		break;
	case MS_RETRY_NO:
		break;
	}
	/* the API error formatter gives the message (the server's own) and the exit code */
	r.body = job->answer;
	r.url = job->url;
	snprintf(what, sizeof(what), "uploading '%s'", job->name);
	ms_error_clear(&tmp);
	ms_http_status_error(foreign ? NULL : p->e->o->auth, &r, what, &tmp);
	job_fail(p, pj, tmp.code == MS_ENET ? MS_EFAIL : tmp.code, "%s", tmp.msg);
	job->err->http_status = resp->status; /* job_fail made it */
}

static void transfer_done(struct put *p, struct pconn *c, CURLcode cc)
{
	struct pjob *pj = c->pj;
	struct ms_xfer_job *job = pj->job;
	struct ms_http_response resp = c->resp;
	int read_err = c->read_err;
	bool stalled = c->base.stalled, foreign = c->foreign;
	char reason[1200];
	struct ms_net_failure why = {0};

	curl_easy_getinfo(c->base.easy, CURLINFO_RESPONSE_CODE, &resp.status);
	if (cc != CURLE_OK && !stalled)
		ms_http_failure(c->base.easy, (int)cc, job->url, c->base.errbuf, p->e->o->net,
		                &resp, &why);
	c->resp = (struct ms_http_response){0}; /* ours now */
	conn_free(p, c);
	if (read_err > 0) {
		job_fail(p, pj, ms_err_from_errno(read_err), "cannot read '%s': %s", job->src_path,
		         strerror(read_err));
	} else if (read_err < 0) {
		job_fail(p, pj, MS_EFAIL, "'%s' became shorter while it was uploaded",
		         job->src_path);
	} else if (cc != CURLE_OK) {
		if (stalled)
			snprintf(reason, sizeof(reason),
			         "%s: no progress for %ld s (--stall-timeout)", job->url,
			         p->e->o->net->stall_timeout);
		else
			snprintf(reason, sizeof(reason), "%s: %s", job->url, why.reason);
		if (stalled || why.retry == MS_RETRY_YES) {
			retry_or_fail(p, pj, MS_ENET, -1, reason);
		} else {
			job_fail(p, pj, why.code, "uploading '%s': %s", job->name, reason);
			if (why.stops_all && !p->e->fatal)
				p->e->fatal = why.code; /* the same storage host and CAs for all */
		}
	} else {
		ms_verbose("< %ld %s", resp.status, job->url);
		on_status(p, pj, &resp, foreign);
	}
	ms_http_response_release(&resp);
}

static int conn_start(struct put *p, struct pjob *pj)
{
	const struct ms_engine_opts *o = p->e->o;
	struct ms_xfer_job *job = pj->job;
	struct pconn *c;
	CURL *h;
	int fd = open(job->src_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		job_fail(p, pj, ms_err_from_errno(errno), "cannot open '%s': %s", job->src_path,
		         strerror(errno));
		return -1;
	}
	posix_fadvise(fd, (off_t)job->offset, (off_t)job->size, POSIX_FADV_SEQUENTIAL);
	if (!(h = engine_easy(p->e))) {
		close(fd);
		job_fail(p, pj, MS_EFAIL, "cannot start a transfer for '%s'", job->name);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->base.easy = h;
	c->p = p;
	c->pj = pj;
	c->fd = fd;
	c->foreign =
	        !o->auth || !o->auth->origin || !ms_http_same_origin(job->url, o->auth->origin);
	curl_easy_reset(h);
	ms_http_setup_easy(h, o->net, job->url, c->base.errbuf);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 0L); /* the engine's stall check is exact */
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)job->size);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, c);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	for (const struct curl_slist *l = job->headers; l; l = l->next)
		c->hdrs = curl_slist_append(c->hdrs, l->data);
	/* no 100-continue round trip before every object: storage answers after the body */
	c->hdrs = curl_slist_append(c->hdrs, "Expect:");
	c->hdrs = ms_http_auth_headers(o->auth, job->url, c->hdrs);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdrs);
	if (engine_add(p->e, &c->base, job->url, &engine_put, p) < 0) {
		curl_slist_free_all(c->hdrs);
		close(fd);
		free(c);
		job_fail(p, pj, MS_EFAIL, "cannot start a transfer for '%s'", job->name);
		return -1;
	}
	ms_verbose("> PUT %s (%llu bytes)", job->url, (unsigned long long)job->size);
	pj->conn = c;
	pj->phase = P_ACTIVE;
	if (!pj->started) {
		pj->started = true;
		emit(p, MS_EV_START, pj, 0, 0, NULL);
	}
	return 0;
}

/* ---- the kind ---- */

static void put_add(struct engine *e, void *state, struct ms_xfer_job **jobs, size_t n)
{
	struct put *p = state;

	(void)e;
	ms_grow((void **)&p->jobs, &p->cap, p->n + n, sizeof(*p->jobs));
	for (size_t i = 0; i < n; i++) {
		struct pjob *pj = xcalloc(1, sizeof(*pj));

		pj->job = jobs[i];
		p->jobs[p->n++] = pj;
		jobs[i]->http_status = 0;
		jobs[i]->sent = 0;
		jobs[i]->expired = false;
		free(jobs[i]->etag);
		jobs[i]->etag = NULL;
		ms_buf_release(&jobs[i]->answer);
	}
}

static void *put_start(struct engine *e, struct ms_xfer_job **jobs, size_t n)
{
	struct put *p = xcalloc(1, sizeof(*p));

	p->e = e;
	put_add(e, p, jobs, n);
	return p;
}

static void put_schedule(struct engine *e, void *state)
{
	struct put *p = state;
	double now = ms_now();

	for (size_t i = p->first_open; i < p->n && engine_has_budget(e) && !e->fatal; i++)
		if (p->jobs[i]->phase == P_PENDING && p->jobs[i]->not_before <= now) {
			if (i >= p->touched_end)
				p->touched_end = i + 1;
			conn_start(p, p->jobs[i]);
		}
}

static void put_transfer_done(struct engine *e, void *state, struct econn *c, CURLcode cc)
{
	(void)e;
	transfer_done(state, (struct pconn *)c, cc);
}

static void put_after_pass(struct engine *e, void *state)
{
	struct put *p = state;

	(void)e;
	while (p->first_open < p->n && (p->jobs[p->first_open]->phase == P_DONE ||
	                                p->jobs[p->first_open]->phase == P_FAILED))
		p->first_open++;
}

static double put_next_wakeup(struct engine *e, void *state, double now, double t)
{
	struct put *p = state;

	(void)e;
	for (size_t i = p->first_open; i < p->touched_end; i++)
		if (p->jobs[i]->phase == P_PENDING && p->jobs[i]->not_before > now &&
		    p->jobs[i]->not_before - now < t)
			t = p->jobs[i]->not_before - now;
	return t;
}

static bool put_finished(void *state)
{
	const struct put *p = state;

	for (size_t i = p->first_open; i < p->n; i++)
		if (p->jobs[i]->phase != P_DONE && p->jobs[i]->phase != P_FAILED)
			return false;
	return true;
}

static void put_stop(struct engine *e, void *state, int code)
{
	struct put *p = state;

	(void)e;
	for (size_t i = 0; i < p->n; i++) {
		struct pjob *pj = p->jobs[i];

		if (pj->phase == P_DONE || pj->phase == P_FAILED)
			continue;
		if (pj->conn)
			conn_free(p, pj->conn);
		pj->job->stopped = true; /* not a cause of its own */
		job_fail(p, pj, code, "%s: %s", pj->job->name,
		         code == MS_EINTR ? "interrupted" : "stopped");
	}
}

static void put_progress(struct engine *e, void *state)
{
	struct put *p = state;

	(void)e;
	for (size_t i = p->first_open; i < p->touched_end; i++)
		if (p->jobs[i]->phase == P_ACTIVE)
			emit(p, MS_EV_PROGRESS, p->jobs[i], 0, 0, NULL);
}

static void put_finish(struct engine *e, void *state)
{
	struct put *p = state;

	(void)e;
	for (size_t i = 0; i < p->n; i++) {
		if (p->jobs[i]->conn)
			conn_free(p, p->jobs[i]->conn);
		free(p->jobs[i]);
	}
	free(p->jobs);
	free(p);
}

const struct engine_kind engine_put = {
        .job_kind = MS_JOB_PUT,
        .start = put_start,
        .add = put_add,
        .schedule = put_schedule,
        .transfer_done = put_transfer_done,
        .after_pass = put_after_pass,
        .next_wakeup = put_next_wakeup,
        .finished = put_finished,
        .stop = put_stop,
        .progress = put_progress,
        .finish = put_finish,
};
