/*
 * The GET job kind of the transfer engine (engine.h): jobs become files,
 * files become chunks, chunks become transfers on the engine's multi handle
 * within its connection budget.  A writer thread puts the bytes on disk, a
 * hasher thread digests the contiguous prefix as it lands.
 *
 * Invariants that make resume and verification safe:
 *  - a chunk's counter in the state sidecar is written only after the bytes
 *    it claims were written to the partial (pwrite, then counter);
 *  - the partial of a one-stream file is a contiguous prefix (its length is
 *    its progress), so the official ModelScope client can resume it too;
 *  - a file is installed only after its size and digest match.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/engine-get.h"
#include "mscli/fs.h"
#include "mscli/hasher.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/resume.h"
#include "mscli/strbuf.h"
#include "mscli/writer.h"

/* Progress that counts as "the transfer is moving": resets the retry count. */
#define PROGRESS_RESETS_RETRIES (1u << 20)
#define MAX_REDIRECTS           10
#define MAX_REFRESHES           5

/* ---- outcomes ---- */

static void integrity_retry(struct get *g, struct xfile *xf, const char *msg)
{
	int r;

	if (xf->hash_retries++ == 0) {
		ms_verbose("%s; fetching it again", msg);
		get_emit(g, MS_EV_RETRY, xf, 1, 0, msg);
		get_abort_conns(g, xf);
		r = get_file_restart(g, xf, false);
		if (r) {
			get_file_fail(g, xf, ms_err_from_errno(r), "cannot truncate '%s': %s",
			              xf->job->part_path, strerror(r));
		} else if (xf->on_disk == xf->job->size) {
			/* an empty file: nothing to fetch again, so nothing would end the wait */
			xf->phase = F_VERIFY;
			get_emit(g, MS_EV_VERIFY, xf, 0, 0, NULL);
		}
		return;
	}
	get_file_fail(g, xf, MS_EINTEGRITY, "%s (also after a retry)", msg);
}

static void chunk_failed(struct get *g, struct xfile *xf, uint32_t ci, int final_code, double wait,
                         const char *reason)
{
	const struct ms_net_opts *net = g->e->o->net;
	struct chunk *ch = &xf->chunks[ci];
	char why[64];

	if (ch->done >= ch->done_at_fail + PROGRESS_RESETS_RETRIES)
		ch->attempts = 0; /* it was moving: a fresh failure, not a persistent one */
	ch->done_at_fail = ch->done;
	ch->attempts++;
	if (!engine_retry(g->e, ch->attempts, &wait, why, sizeof(why))) {
		get_file_fail(g, xf, final_code, "%s: %s (%s)", xf->job->name, reason, why);
		return;
	}
	ch->not_before = ms_now() + wait;
	ms_verbose("%s: %s; retry %d/%d in %.1fs", xf->job->name, reason, ch->attempts,
	           net->retries, wait);
	get_emit(g, MS_EV_RETRY, xf, ch->attempts, wait, reason);
}

static void error_status(struct get *g, struct xfile *xf, uint32_t ci, const char *url, long status,
                         bool foreign, const struct ms_http_response *resp,
                         const struct ms_buf *body)
{
	struct ms_http_response r = *resp;
	struct ms_error tmp;
	char reason[1200];

	xf->last_status = (int)status;
	switch (ms_retry_classify(0, status, foreign)) {
	case MS_RETRY_REFRESH:
		/* An expired signed URL: ask the hub for a fresh one, keep the bytes. */
		if (++xf->refreshes > MAX_REFRESHES) {
			get_file_fail(g, xf, MS_EAUTH, "%s: %s keeps answering HTTP %ld",
			              xf->job->name, url, status);
			return;
		}
		free(xf->cur_url);
		xf->cur_url = NULL;
		xf->url_known = false;
		get_emit(g, MS_EV_RETRY, xf, xf->refreshes, 0,
		         "download URL expired; resolving again");
		ms_verbose("%s: HTTP %ld from %s; resolving a fresh URL", xf->job->name, status,
		           url);
		return;
	case MS_RETRY_YES:
		snprintf(reason, sizeof(reason), "HTTP %ld from %s", status, url);
		chunk_failed(g, xf, ci, status == 429 ? MS_ENET : MS_EFAIL,
		             ms_http_retry_wait(resp), reason);
		return;
	case MS_RETRY_NO:
		break;
	}
	if (status == 416 && !xf->rs.chunk_size) {
		/* our partial is longer than the file: start it over */
		int rr = get_file_restart(g, xf, false);

		if (rr)
			get_file_fail(g, xf, ms_err_from_errno(rr), "cannot truncate '%s': %s",
			              xf->job->part_path, strerror(rr));
		return;
	}
	/* Reuse the API error formatter for the message and the exit code. */
	r.body = *body;
	r.url = (char *)url;
	r.status = status;
	snprintf(reason, sizeof(reason), "downloading '%s'", xf->job->name);
	ms_error_clear(&tmp);
	ms_http_status_error(g->e->o->auth, &r, reason, &tmp);
	get_file_fail(g, xf, tmp.code == MS_ENET ? MS_EFAIL : tmp.code, "%s", tmp.msg);
}

/* What a finished transfer leaves behind once its connection is freed. */
struct outcome {
	uint32_t chunk;
	enum verdict verdict;
	int werr;
	long status;
	CURLcode cc;
	char *url;
	struct ms_http_response resp;
	struct ms_buf body;
	bool foreign, short_body, stalled;
	struct ms_net_failure why; /* when cc is not CURLE_OK */
};

static void take_outcome(struct get *g, struct conn *c, CURLcode cc, struct outcome *o)
{
	struct xfile *xf = c->xf;

	*o = (struct outcome){.chunk = c->chunk,
	                      .verdict = c->verdict,
	                      .werr = c->verdict_errno,
	                      .cc = cc,
	                      .url = c->url,
	                      .resp = c->resp,
	                      .body = c->errbody,
	                      .foreign = c->foreign,
	                      .stalled = c->base.stalled};
	curl_easy_getinfo(c->base.easy, CURLINFO_RESPONSE_CODE, &o->status);
	if (cc != CURLE_OK && !o->stalled)
		ms_http_failure(c->base.easy, (int)cc, c->url, c->base.errbuf, g->e->o->net,
		                &c->resp, &o->why);
	xf->job->fetched += c->off - c->req_start;
	if (o->verdict == V_OK && !c->discard && xf->fd >= 0) {
		o->werr = get_conn_flush(c);
		if (o->werr)
			o->verdict = V_STORAGE;
	}
	o->short_body = !c->discard && c->off != c->req_end;
	/* the outcome owns these now */
	c->url = NULL;
	c->resp = (struct ms_http_response){0};
	c->errbody = (struct ms_buf)MS_BUF_INIT;
	get_conn_free(g, c);
}

/* A verdict the write callback reached; false when there was none (V_OK). */
static bool on_verdict(struct get *g, struct xfile *xf, const struct outcome *o)
{
	const struct ms_http_response *r = &o->resp;
	struct ms_xfer_job *job = xf->job;
	char reason[1200];
	int e;

	switch (o->verdict) {
	case V_STORAGE:
		get_file_fail(g, xf, ms_err_from_errno(o->werr), "cannot write '%s': %s",
		              job->part_path, strerror(o->werr));
		return true;
	case V_RANGE_IGNORED:
		ms_verbose("%s: %s ignores Range; fetching it in one stream", job->name, o->url);
		get_abort_conns(g, xf);
		if ((e = get_file_restart(g, xf, true)) != 0)
			get_file_fail(g, xf, ms_err_from_errno(e), "cannot truncate '%s': %s",
			              job->part_path, strerror(e));
		return true;
	case V_SIZE:
		snprintf(reason, sizeof(reason),
		         "size mismatch for '%s': the listing says %llu bytes, %s sends %s%s",
		         job->name, (unsigned long long)job->size, o->url,
		         r->content_range ? "Content-Range " : "Content-Length ",
		         r->content_range    ? r->content_range
		         : r->content_length ? r->content_length
		                             : "?");
		integrity_retry(g, xf, reason);
		return true;
	case V_PROTO:
		snprintf(reason, sizeof(reason), "unusable answer from %s (HTTP %ld%s%s%s%s)",
		         o->url, o->status, r->content_range ? ", Content-Range " : "",
		         r->content_range ? r->content_range : "",
		         r->content_encoding ? ", Content-Encoding " : "",
		         r->content_encoding ? r->content_encoding : "");
		chunk_failed(g, xf, o->chunk, MS_EPROTO, -1, reason);
		return true;
	case V_OK:
		break;
	}
	return false;
}

static void on_transport_error(struct get *g, struct xfile *xf, const struct outcome *o)
{
	char reason[1200];

	if (o->stalled)
		snprintf(reason, sizeof(reason), "%s: no data for %ld s (--stall-timeout)", o->url,
		         g->e->o->net->stall_timeout);
	else
		snprintf(reason, sizeof(reason), "%s: %s", o->url, o->why.reason);
	if (o->stalled || o->why.retry == MS_RETRY_YES) {
		chunk_failed(g, xf, o->chunk, MS_ENET, -1, reason);
		return;
	}
	get_file_fail(g, xf, o->why.code, "downloading '%s': %s", xf->job->name, reason);
	if (o->why.stops_all && !g->e->fatal)
		g->e->fatal = o->why.code;
}

/* Every range of the file goes where the redirect points (a signed CDN URL). */
static void follow_redirect(struct get *g, struct xfile *xf, const struct outcome *o)
{
	const char *loc = o->resp.location;
	char *next = loc ? ms_url_resolve(o->url, loc) : NULL;
	char why[600];

	if (!next || ++xf->redirects > MAX_REDIRECTS) {
		free(next);
		get_file_fail(g, xf, MS_EPROTO, "downloading '%s': bad or endless redirect from %s",
		              xf->job->name, o->url);
		return;
	}
	if (!ms_redirect_allowed(o->url, next, why, sizeof(why))) {
		get_file_fail(g, xf, MS_EPROTO, "downloading '%s': %s", xf->job->name, why);
		free(next);
		return;
	}
	ms_verbose("< %ld %s -> %s", o->status, o->url, next);
	free(xf->cur_url);
	xf->cur_url = next;
	xf->cur_foreign = !ms_http_same_origin(next, xf->job->url);
	xf->url_known = true;
}

static void conn_done(struct get *g, struct conn *c, CURLcode cc)
{
	struct xfile *xf = c->xf;
	struct outcome o;
	char reason[1200];

	take_outcome(g, c, cc, &o);
	if (xf->phase != F_ACTIVE || on_verdict(g, xf, &o)) {
		/* the file already ended, or the verdict decided */
	} else if (cc != CURLE_OK) {
		on_transport_error(g, xf, &o);
	} else if (o.status >= 300 && o.status < 400) {
		follow_redirect(g, xf, &o);
	} else if (o.status < 200 || o.status >= 300) {
		ms_verbose("< %ld %s", o.status, o.url);
		error_status(g, xf, o.chunk, o.url, o.status, o.foreign, &o.resp, &o.body);
	} else if (o.short_body) {
		xf->redirects = 0;
		snprintf(reason, sizeof(reason), "%s: the connection ended early", o.url);
		chunk_failed(g, xf, o.chunk, MS_ENET, -1, reason);
	} else {
		xf->redirects = 0;
		if (xf->on_disk == xf->job->size) {
			xf->phase = F_VERIFY;
			get_emit(g, MS_EV_VERIFY, xf, 0, 0, NULL);
		}
	}
	free(o.url);
	ms_http_response_release(&o.resp);
	ms_buf_release(&o.body);
}

/* What the writer thread finished: account for it (the main thread owns the bookkeeping). */
static void process_writes(struct get *g)
{
	struct ms_write *job = g->writer ? ms_writer_completed(g->writer) : NULL;

	while (job) {
		struct ms_write *next = job->next;
		struct xfile *xf = job->owner;

		if (job->gen == xf->gen && xf->phase == F_ACTIVE) {
			xf->chunks[job->chunk].pending--;
			if (job->err)
				get_file_fail(g, xf, ms_err_from_errno(job->err),
				              "cannot write '%s': %s", xf->job->part_path,
				              strerror(job->err));
			else
				get_chunk_landed(g, xf, job->chunk, job->counter_val);
			if (xf->phase == F_ACTIVE && xf->on_disk == xf->job->size) {
				xf->phase = F_VERIFY;
				get_emit(g, MS_EV_VERIFY, xf, 0, 0, NULL);
			}
		}
		free(job);
		job = next;
	}
}

static void check_verify(struct get *g, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	char hex[MS_HEX_MAX];
	int r = 1;

	if (xf->small)
		ms_hasher_final(&xf->mem_hash, hex); /* every byte was fed as it landed */
	else
		r = ms_hash_slot_result(xf->slot, hex);
	if (r == 0)
		return;
	if (r < 0) {
		get_file_fail(g, xf, ms_err_from_errno(-r), "cannot read back '%s': %s",
		              job->part_path, strerror(-r));
		return;
	}
	memcpy(job->actual, hex, MS_HEX_MAX);
	if (job->digest[0] && strcmp(hex, job->digest)) {
		char msg[600];
		bool empty = !strcmp(
		        hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

		snprintf(msg, sizeof(msg), "%s mismatch for '%s': expected %s, got %s%s",
		         ms_hash_name(job->algo), job->name, job->digest, hex,
		         empty ? " (the digest of no bytes at all)" : "");
		xf->phase = F_ACTIVE;
		integrity_retry(g, xf, msg);
		return;
	}
	/* Stale bytes past the end (an old longer partial) must not survive; a small
	 * file's longer partial was cut when it was opened. */
	if (!xf->small && ftruncate(xf->fd, (off_t)job->size) < 0) {
		get_file_fail(g, xf, ms_err_from_errno(errno), "cannot truncate '%s': %s",
		              job->part_path, strerror(errno));
		return;
	}
	get_file_close(xf);
	if (!xf->small)
		unlink(job->state_path);
	get_file_finish(g, xf);
}

/* ---- the loop ---- */

#define YIELD_WINDOW 0.05 /* seconds over which a lone file's arrival rate is measured */
#define YIELD_NICE   5

/* Start transfers for f within the budget, at most share of them for a large file; false
 * when the budget is spent. */
static bool schedule_file(struct get *g, struct xfile *xf, double now, int share)
{
	int limit;

	if (xf->phase == F_PENDING) {
		if (xf->start_after > now || g->active_files >= g->e->o->max_workers)
			return engine_has_budget(g->e);
		if (get_file_start(g, xf) != 0)
			return engine_has_budget(g->e);
	}
	if (xf->phase != F_ACTIVE)
		return engine_has_budget(g->e);
	/* Until the first answer says where the bytes are, one request at a time. */
	if (!xf->url_known && xf->nconns)
		return engine_has_budget(g->e);
	limit = xf->rs.chunk_size && xf->url_known ? share : 1;
	for (uint32_t ci = 0; ci < xf->nchunks && xf->nconns < limit && engine_has_budget(g->e);
	     ci++) {
		struct chunk *ch = &xf->chunks[ci];

		if (ch->active || ch->pending || ch->done == ch->end - ch->start ||
		    now < ch->not_before)
			continue;
		if (get_conn_start(g, xf, ci) < 0) {
			get_file_fail(g, xf, MS_EFAIL, "cannot start a transfer for '%s'",
			              xf->job->name);
			break;
		}
	}
	return engine_has_budget(g->e);
}

/* Whether f still has bytes to come (pending, or active with bytes not on disk). */
static bool still_arriving(const struct xfile *xf)
{
	return xf->phase == F_PENDING || (xf->phase == F_ACTIVE && xf->on_disk < xf->job->size);
}

/*
 * The connections one large file may have: --connections, and while several large files
 * are still to come, the budget split between as many of them as there are hashing
 * threads.  A file is hashed by one thread, in order, as its prefix lands; with all
 * ranges on one file at a time its hashing trails by the ranges in flight and runs on
 * alone after its last byte (a core idle for the last ~0.2 s of 4 x 512 MiB over HTTP).
 * Two files at half the connections each are hashed side by side, each about as fast
 * as it arrives.
 */
static int large_share(struct get *g)
{
	const struct ms_engine_opts *o = g->e->o;
	int n = 0, share;

	while (g->large_open < g->nlarge && (g->files[g->large[g->large_open]].phase == F_DONE ||
	                                     g->files[g->large[g->large_open]].phase == F_FAILED))
		g->large_open++;
	for (size_t k = g->large_open; k < g->nlarge && n < o->hash_threads; k++)
		if (still_arriving(&g->files[g->large[k]]))
			n++;
	share = n > 1 ? g->e->budget / n : o->connections;
	return share < 1 ? 1 : share > o->connections ? o->connections : share;
}

/*
 * Small files first: a config.json must not wait for a connection behind
 * the ranges of a 5 GB shard.  Then large files, in order, each taking up
 * to its share (large_share) of what is left of the budget.
 */
static void schedule(struct get *g)
{
	double now = ms_now();
	int share = large_share(g);

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = g->first_open; i < g->nfiles && !g->e->fatal; i++) {
			/* the rest were never started, and no file may start now */
			if (i >= g->touched_end && g->active_files >= g->e->o->max_workers)
				break;
			bool large = g->files[i].job->size > g->e->o->range_threshold;

			if (large == (pass == 1) && !schedule_file(g, &g->files[i], now, share))
				return;
		}
}

static double get_next_wakeup(struct engine *e, void *state, double now, double t)
{
	struct get *g = state;

	(void)e;
	for (size_t i = g->first_open; i < g->touched_end; i++) {
		struct xfile *xf = &g->files[i];

		if (xf->phase == F_PENDING && xf->start_after > now && xf->start_after - now < t)
			t = xf->start_after - now;
		if (xf->phase != F_ACTIVE)
			continue;
		for (uint32_t ci = 0; ci < xf->nchunks; ci++)
			if (!xf->chunks[ci].active && xf->chunks[ci].not_before > now &&
			    xf->chunks[ci].not_before - now < t)
				t = xf->chunks[ci].not_before - now;
	}
	return t;
}

static bool get_finished(void *state)
{
	const struct get *g = state;

	for (size_t i = g->first_open; i < g->nfiles; i++)
		if (g->files[i].phase != F_DONE && g->files[i].phase != F_FAILED)
			return false;
	return true;
}

static void get_progress(struct engine *e, void *state)
{
	struct get *g = state;

	(void)e;
	for (size_t i = g->first_open; i < g->touched_end; i++)
		if (g->files[i].phase == F_ACTIVE || g->files[i].phase == F_VERIFY)
			get_emit(g, MS_EV_PROGRESS, &g->files[i], 0, 0, NULL);
}

static void get_schedule(struct engine *e, void *state)
{
	(void)e;
	schedule(state);
}

static void get_transfer_done(struct engine *e, void *state, struct econn *c, CURLcode cc)
{
	(void)e;
	conn_done(state, (struct conn *)c, cc);
}

/*
 * On two cores, one file whose bytes arrive faster than one core hashes them makes
 * its hashing thread the critical path; when it shares a core with this thread, the
 * writer and the server, the download ends early and its hashing runs on alone.  So
 * once the last file still downloading is one such file, this thread and the writer
 * run at a lower priority (nice + 5, for good: an unprivileged process cannot take it
 * back), and the hashing keeps a whole core (one 2 GiB file over HTTP, 8 paired rounds:
 * 1.54 s against 1.76 s).  Over TLS the bytes arrive slower than they are hashed:
 * receiving is the critical path and nothing changes (a lag test alone fired there too,
 * and cost 8%).
 */
static void maybe_yield_to_hashing(struct get *g, double now)
{
	struct xfile *lone = NULL;
	size_t left = 0;
	double speed, rate;

	if (g->yielded || now < g->yield_check_at)
		return;
	g->yield_check_at = now + YIELD_WINDOW;
	for (size_t i = g->first_open; i < g->nfiles; i++) {
		struct xfile *xf = &g->files[i];

		if (still_arriving(xf)) {
			lone = xf;
			if (++left > 1)
				break; /* not alone */
		}
	}
	if (left != 1 || !lone->slot || lone != g->yield_file) {
		g->yield_file = left == 1 ? lone : NULL;
		g->yield_from = lone ? lone->on_disk : 0;
		g->yield_since = now;
		return;
	}
	speed = ms_hasher_pool_speed(g->hasher);
	rate = ((double)lone->on_disk - (double)g->yield_from) / (now - g->yield_since);
	g->yield_from = lone->on_disk;
	g->yield_since = now;
	if (speed <= 0 || rate <= speed)
		return;
	g->yielded = true;
	ms_verbose("'%s' arrives at %.0f MB/s and one core hashes %.0f MB/s: the transfer "
	           "threads yield to the hashing",
	           lone->job->name, rate / 1e6, speed / 1e6);
	setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + YIELD_NICE);
	if (g->writer)
		ms_writer_renice(g->writer, YIELD_NICE);
}

static void get_after_pass(struct engine *e, void *state)
{
	struct get *g = state;

	(void)e;
	process_writes(g);
	maybe_yield_to_hashing(g, ms_now());
	while (g->first_open < g->nfiles && (g->files[g->first_open].phase == F_DONE ||
	                                     g->files[g->first_open].phase == F_FAILED))
		g->first_open++;
	for (size_t i = g->first_open; i < g->touched_end; i++)
		if (g->files[i].phase == F_VERIFY)
			check_verify(g, &g->files[i]);
	/* small files end here, not in the hasher thread (whose wake-up started the next
	 * pass): start the next ones now rather than after the poll's timeout */
	if (engine_has_budget(g->e) && !g->e->fatal)
		schedule(g);
}

static void get_stop(struct engine *e, void *state, int code)
{
	struct get *g = state;

	(void)e;
	for (size_t i = 0; i < g->nfiles; i++) {
		struct xfile *xf = &g->files[i];

		if (xf->phase == F_DONE || xf->phase == F_FAILED)
			continue;
		/* not a cause of its own: the run stopped (the storage error named it) */
		xf->job->stopped = true;
		if (code == MS_ESTORAGE) /* the name is prefixed for storage errors */
			get_file_fail(g, xf, code, "stopped after a storage error");
		else if (code == MS_EINTR)
			get_file_fail(g, xf, code, "%s: interrupted", xf->job->name);
		else
			get_file_fail(g, xf, code, "%s: stopped after a failure no file can escape",
			              xf->job->name);
	}
}

static void *get_start(struct engine *e, struct ms_xfer_job **jobs, size_t n)
{
	const struct ms_engine_opts *o = e->o;
	struct get *g = xcalloc(1, sizeof(*g));

	g->e = e;
	g->hasher = ms_hasher_pool_start(o->hash_threads, engine_wake, e);
	/*
	 * Two buffers per connection (one filling, one being written), within
	 * 32 MiB whatever the buffer size: memory must not grow with the load.
	 */
	if (o->write_buffer) {
		size_t nbuf = 2 * (size_t)e->budget + 2, cap = (32u << 20) / o->write_buffer;

		if (nbuf > cap)
			nbuf = cap < 4 ? 4 : cap;
		g->writer = ms_writer_start(o->write_buffer, nbuf, engine_wake, e);
	}
	if (!g->hasher || (o->write_buffer && !g->writer)) {
		ms_writer_stop(g->writer);
		ms_hasher_pool_stop(g->hasher);
		free(g);
		return NULL;
	}
	g->files = xcalloc(n, sizeof(*g->files));
	g->nfiles = n;
	for (size_t i = 0; i < n; i++) {
		struct xfile *xf = &g->files[i];

		xf->job = jobs[i];
		if (jobs[i]->first_url) {
			/* a failure there (an expired CDN URL) falls back to job->url */
			xf->cur_url = xstrdup(jobs[i]->first_url);
			xf->cur_foreign = !ms_http_same_origin(jobs[i]->first_url, jobs[i]->url);
		}
		xf->fd = xf->state_fd = -1;
		if (jobs[i]->size > o->range_threshold) {
			if (!g->large)
				g->large = xcalloc(n, sizeof(*g->large));
			g->large[g->nlarge++] = i;
		}
	}
	return g;
}

static void get_finish(struct engine *e, void *state)
{
	struct get *g = state;

	(void)e;
	/* keep what arrived: queue the connections' last bytes, let them land, then close */
	for (size_t i = 0; i < g->nfiles; i++)
		get_abort_conns(g, &g->files[i]);
	if (g->writer)
		ms_writer_drain(g->writer);
	for (size_t i = 0; i < g->nfiles; i++) {
		get_file_close(&g->files[i]);
		get_file_unlock(&g->files[i]);
		free(g->files[i].chunks);
		free(g->files[i].cur_url);
		ms_resume_release(&g->files[i].rs);
	}
	ms_writer_stop(g->writer);
	ms_hasher_pool_stop(g->hasher);
	free(g->files);
	free(g->large);
	free(g);
}

const struct engine_kind engine_get = {
        .job_kind = MS_JOB_GET,
        .start = get_start,
        .schedule = get_schedule,
        .transfer_done = get_transfer_done,
        .after_pass = get_after_pass,
        .next_wakeup = get_next_wakeup,
        .finished = get_finished,
        .stop = get_stop,
        .progress = get_progress,
        .finish = get_finish,
};
