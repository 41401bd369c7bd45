/*
 * The download engine (transfer.h).  Shape of the loop, after curl's
 * parallel_transfers(): jobs become files, files become chunks, chunks
 * become transfers on one multi handle within a connection budget.
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
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/hasher.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/strbuf.h"
#include "mscli/transfer.h"
#include "mscli/writer.h"

/* Progress that counts as "the transfer is moving": resets the retry count. */
#define PROGRESS_RESETS_RETRIES (1u << 20)
#define MAX_REDIRECTS           10
#define MAX_REFRESHES           5
#define ERRBODY_MAX             1024

enum verdict {
	V_OK = 0,
	V_STORAGE,       /* a local write failed: fatal for the file */
	V_PROTO,         /* the answer does not fit the request: retry */
	V_RANGE_IGNORED, /* 200 to a Range request: fall back to one stream */
	V_SIZE,          /* the server's size differs from the listing */
};

enum phase { F_PENDING, F_ACTIVE, F_VERIFY, F_DONE, F_FAILED };

struct chunk {
	uint64_t start, end; /* [start, end) */
	uint64_t done;       /* bytes on disk from start */
	uint64_t done_at_fail;
	bool active;
	int attempts;
	int pending; /* writes queued for the writer thread */
	double not_before;
};

struct xfile {
	struct ms_xfer_job *job;
	enum phase phase;
	int fd, state_fd;
	struct ms_resume_state rs; /* rs.chunk_size == 0: one stream */
	struct chunk *chunks;
	uint32_t nchunks;
	uint64_t watermark; /* contiguous bytes on disk from 0 */
	uint64_t on_disk;   /* sum of chunk done */
	int nconns;
	int hash_retries, refreshes, redirects;
	char *cur_url;    /* final URL after redirects, reused for every range */
	bool cur_foreign; /* cur_url is on another origin than the hub (a CDN) */
	bool url_known;   /* a 2xx or a redirect told us where the bytes are */
	bool single_only; /* the server ignored Range once: one stream from now on */
	bool got_body;    /* file bytes arrived in this run (some may still be queued) */
	struct ms_hash_slot *slot;
	int last_status;    /* the last HTTP error, for the final message */
	struct conn *conns; /* this file's transfers in flight */
	bool locked;        /* job->acquire succeeded: release when finished */
	double start_after; /* its lock was busy: try again then */
	unsigned gen;       /* bumped when the file starts over: its older writes are void */
};

struct conn {
	struct conn *next;
	struct engine *e;
	CURL *easy;
	struct xfile *xf;
	uint32_t chunk;
	uint64_t req_start, req_end; /* bytes asked for: [req_start, req_end) */
	uint64_t off;                /* next byte to receive */
	uint64_t flushed;            /* bytes [req_start, flushed) are on disk */
	bool had_range;
	unsigned char *buf;
	size_t buflen, bufcap;
	bool checked, discard;
	enum verdict verdict;
	int verdict_errno;
	char *url;
	bool foreign;
	bool stalled;   /* no byte for stall_timeout seconds: ended by check_stalls() */
	double last_rx; /* when the last header or body byte arrived */
	struct curl_slist *hdrs;
	struct ms_http_response resp;
	struct ms_buf errbody;
};

struct engine {
	const struct ms_engine_opts *o;
	CURLM *multi;
	struct ms_hasher_pool *hasher;
	struct ms_writer *writer; /* NULL: write from curl's callback (no coalescing) */
	struct xfile *files;
	size_t nfiles;
	size_t first_open;    /* files before it are done or failed, for good */
	uint64_t on_disk_sum; /* bytes on disk over all files (a done file counts whole) */
	int active_conns, active_files;
	int budget;
	CURL **idle;
	size_t nidle, idle_cap;
	uint64_t total_size;
	double started, last_progress;
	int fatal; /* a storage error or an interrupt stops everything */
};

/* ---- resume state ---- */

#define STATE_HDR 96

uint64_t ms_resume_counter_offset(uint32_t i)
{
	return STATE_HDR + 8ull * i;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int ms_resume_load(const char *path, struct ms_resume_state *st)
{
	unsigned char hdr[STATE_HDR];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t n;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return -1;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, MS_STATE_MAGIC, 8))
		goto out;
	st->size = get64(hdr + 8);
	st->chunk_size = get64(hdr + 16);
	n = (uint64_t)hdr[24] | (uint64_t)hdr[25] << 8 | (uint64_t)hdr[26] << 16 |
	    (uint64_t)hdr[27] << 24;
	memcpy(st->digest, hdr + 32, 64);
	st->digest[64] = '\0';
	if (st->chunk_size) {
		unsigned char *tab;

		/* The table must describe exactly this size. */
		if (n == 0 || n > (1u << 24) ||
		    (st->size + st->chunk_size - 1) / st->chunk_size != n)
			goto out;
		tab = xmalloc(8 * n);
		if (pread(fd, tab, 8 * n, STATE_HDR) != (ssize_t)(8 * n)) {
			free(tab);
			goto out;
		}
		st->nchunks = (uint32_t)n;
		st->done = xcalloc(n, sizeof(*st->done));
		for (uint64_t i = 0; i < n; i++)
			st->done[i] = get64(tab + 8 * i);
		free(tab);
	}
	ret = 0;
out:
	close(fd);
	if (ret)
		ms_resume_release(st);
	return ret;
}

int ms_resume_store(int fd, const struct ms_resume_state *st)
{
	size_t len = STATE_HDR + 8ull * st->nchunks;
	unsigned char *b = xcalloc(1, len);
	ssize_t n;

	/* the magic is 8 bytes without a NUL: a file format, not a C string */
	memcpy(b, MS_STATE_MAGIC, 8); // NOLINT(bugprone-not-null-terminated-result)
	put64(b + 8, st->size);
	put64(b + 16, st->chunk_size);
	b[24] = (unsigned char)st->nchunks;
	b[25] = (unsigned char)(st->nchunks >> 8);
	b[26] = (unsigned char)(st->nchunks >> 16);
	b[27] = (unsigned char)(st->nchunks >> 24);
	memcpy(b + 32, st->digest, strnlen(st->digest, 64));
	for (uint32_t i = 0; i < st->nchunks; i++)
		put64(b + STATE_HDR + 8 * i, st->done ? st->done[i] : 0);
	n = pwrite(fd, b, len, 0);
	free(b);
	if (n != (ssize_t)len)
		return -1;
	return ftruncate(fd, (off_t)len);
}

void ms_resume_release(struct ms_resume_state *st)
{
	free(st->done);
	st->done = NULL;
	st->nchunks = 0;
}

void ms_engine_opts_init(struct ms_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_workers = 8;
	o->connections = 8;
	o->range_threshold = 64u << 20;
	o->chunk_size = 16u << 20;
	o->write_buffer = 1u << 20;
	o->progress_interval = 0.1;
}

/* ---- events ---- */

static void emit(struct engine *e, enum ms_event_type type, struct xfile *xf, int attempt,
                 double delay, const char *reason)
{
	struct ms_event ev = {
	        .type = type,
	        .job = xf ? xf->job : NULL,
	        .job_done = xf ? xf->on_disk : 0,
	        .total_size = e->total_size,
	        .nfiles = e->nfiles,
	        .attempt = attempt,
	        .delay = delay,
	        .reason = reason,
	        .elapsed = ms_now() - e->started,
	};

	if (!e->o->on_event)
		return;
	ev.total_done = e->on_disk_sum; /* kept as files land: no O(files) sum per event */
	e->o->on_event(e->o->event_arg, &ev);
}

/* ---- files ---- */

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		if (w == 0)
			return EIO;
		p = (const char *)p + w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static void file_unlock(struct xfile *xf)
{
	if (xf->locked && xf->job->release)
		xf->job->release(xf->job->install_arg, xf->job);
	xf->locked = false;
}

static void file_close_fds(struct xfile *xf)
{
	if (xf->fd >= 0)
		close(xf->fd);
	if (xf->state_fd >= 0)
		close(xf->state_fd);
	xf->fd = xf->state_fd = -1;
	ms_hash_slot_free(xf->slot);
	xf->slot = NULL;
}

/* Lay out chunks for the file's mode; done counts come from have (one stream) or rs. */
static void file_layout(struct engine *e, struct xfile *xf, uint64_t chunk_size, uint64_t have)
{
	uint64_t size = xf->job->size;
	uint32_t n = chunk_size ? (uint32_t)((size + chunk_size - 1) / chunk_size) : 1;

	free(xf->chunks);
	if (n == 0)
		n = 1;
	xf->chunks = xcalloc(n, sizeof(*xf->chunks));
	xf->nchunks = n;
	e->on_disk_sum -= xf->on_disk;
	xf->on_disk = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct chunk *c = &xf->chunks[i];

		c->start = chunk_size ? i * chunk_size : 0;
		c->end = chunk_size ? c->start + chunk_size : size;
		if (c->end > size)
			c->end = size;
		if (chunk_size && xf->rs.done && xf->rs.nchunks == n)
			c->done = xf->rs.done[i];
		else
			c->done = have > c->start ? have - c->start : 0;
		if (c->done > c->end - c->start)
			c->done = c->end - c->start;
		c->done_at_fail = c->done;
		xf->on_disk += c->done;
		e->on_disk_sum += c->done;
	}
	ms_resume_release(&xf->rs);
	xf->rs.size = size;
	xf->rs.chunk_size = chunk_size;
	xf->rs.nchunks = chunk_size ? n : 0;
	snprintf(xf->rs.digest, sizeof(xf->rs.digest), "%s", xf->job->digest);
	if (chunk_size) {
		xf->rs.done = xcalloc(n, sizeof(*xf->rs.done));
		for (uint32_t i = 0; i < n; i++)
			xf->rs.done[i] = xf->chunks[i].done;
	}
}

static void advance_watermark(struct xfile *xf)
{
	uint64_t cs = xf->rs.chunk_size;
	uint32_t j = cs ? (uint32_t)(xf->watermark / cs) : 0;

	while (j < xf->nchunks) {
		struct chunk *c = &xf->chunks[j];

		if (xf->watermark < c->start + c->done)
			xf->watermark = c->start + c->done;
		if (c->done < c->end - c->start)
			break;
		j++;
	}
	if (xf->slot)
		ms_hash_slot_advance(xf->slot, xf->watermark);
}

static void file_fail(struct engine *e, struct xfile *xf, int code, const char *fmt, ...)
        MS_PRINTF(4, 5);

static void abort_file_conns(struct engine *e, struct xfile *xf);

static void file_fail(struct engine *e, struct xfile *xf, int code, const char *fmt, ...)
{
	va_list ap;

	if (xf->phase == F_FAILED || xf->phase == F_DONE)
		return;
	/* formatted aside first: a caller may pass job->err.msg itself as an argument */
	char msg[sizeof(xf->job->err.msg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a storage error names a partial ("blobs/<sha256>.mscli.incomplete"): say whose */
	if (code == MS_ESTORAGE)
		ms_error_set(&xf->job->err, code, "%s: %s", xf->job->name, msg);
	else
		ms_error_set(&xf->job->err, code, "%s", msg);
	xf->job->status = code;
	xf->job->err.http_status = xf->last_status;
	abort_file_conns(e, xf);
	/* nothing may still be writing to the file we close */
	if (e->writer)
		ms_writer_drain(e->writer);
	if (xf->phase != F_PENDING)
		e->active_files--;
	xf->phase = F_FAILED;
	/* A verified-bad partial must not be resumed; one with no byte in it (a 401, a 404
	 * before the body) is litter.  Removed while the file's lock is still held. */
	if (code == MS_EINTEGRITY || (xf->fd >= 0 && xf->on_disk == 0 && !xf->got_body)) {
		unlink(xf->job->part_path);
		unlink(xf->job->state_path);
	}
	file_close_fds(xf);
	file_unlock(xf);
	if (code == MS_ESTORAGE || code == MS_EINTR)
		e->fatal = code;
	emit(e, MS_EV_ERROR, xf, 0, 0, xf->job->err.msg);
}

/* Start over from byte 0 (hash mismatch, or a server that ignores Range). */
static int file_restart(struct engine *e, struct xfile *xf, bool single)
{
	/* no queued write may land after the truncation; later reports are void */
	if (e->writer)
		ms_writer_drain(e->writer);
	xf->gen++;
	if (single)
		xf->single_only = true;
	if (ftruncate(xf->fd, 0) < 0)
		return errno;
	file_layout(e, xf, single || xf->single_only ? 0 : xf->rs.chunk_size, 0);
	if (ms_resume_store(xf->state_fd, &xf->rs) < 0)
		return errno ? errno : EIO;
	xf->watermark = 0;
	if (xf->slot)
		ms_hash_slot_reset(xf->slot);
	return 0;
}

/* Install a verified file (or one another process finished) and end it. */
static void file_finish(struct engine *e, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	int r = job->install(job->install_arg, job, &job->err);

	file_unlock(xf);
	e->active_files--;
	if (r) {
		job->status = r;
		xf->phase = F_FAILED;
		if (r == MS_ESTORAGE)
			e->fatal = r;
		emit(e, MS_EV_ERROR, xf, 0, 0, job->err.msg);
		return;
	}
	xf->phase = F_DONE;
	e->on_disk_sum += job->size - xf->on_disk;
	xf->on_disk = job->size;
	job->done = true;
	emit(e, MS_EV_DONE, xf, 0, 0, NULL);
}

static int file_start(struct engine *e, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	const struct ms_engine_opts *o = e->o;
	struct stat st;
	uint64_t have = 0, chunk_size = 0;
	bool loaded;

	if (job->acquire && !xf->locked) {
		int r = job->acquire(job->install_arg, job, &job->err);

		if (r == 1) {
			/* another process is fetching this blob: look again shortly */
			xf->start_after = ms_now() + 0.2;
			return 1;
		}
		if (r < 0) {
			e->active_files++;
			xf->phase = F_ACTIVE;
			file_fail(e, xf, r, "%s", job->err.msg);
			return -1;
		}
		xf->locked = true;
		if (r == 2) {
			/* finished by another process while we waited for its lock */
			e->active_files++;
			memcpy(job->actual, job->digest, MS_HEX_MAX);
			file_finish(e, xf);
			return -1;
		}
	}
	xf->phase = F_ACTIVE;
	e->active_files++;
	xf->fd = open(job->part_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (xf->fd < 0) {
		file_fail(e, xf, ms_err_from_errno(errno), "cannot open '%s': %s", job->part_path,
		          strerror(errno));
		return -1;
	}
	if (fstat(xf->fd, &st) == 0)
		have = (uint64_t)st.st_size;
	loaded = ms_resume_load(job->state_path, &xf->rs) == 0;
	if (loaded && (xf->rs.size != job->size || strcmp(xf->rs.digest, job->digest))) {
		/* a partial of another version of the file */
		ms_verbose("%s: discarding a partial of another version", job->name);
		loaded = false;
		have = 0;
		if (ftruncate(xf->fd, 0) < 0)
			have = 0;
		ms_resume_release(&xf->rs);
	}
	if (loaded && xf->rs.chunk_size && have != job->size) {
		/* a ranged partial is allocated to full size: this one was replaced */
		ms_verbose("%s: the partial does not match its resume state; starting over",
		           job->name);
		loaded = false;
		ms_resume_release(&xf->rs);
		have = 0;
		if (ftruncate(xf->fd, 0) < 0)
			have = 0;
	}
	if (have > job->size) {
		have = 0;
		if (ftruncate(xf->fd, 0) < 0)
			have = 0;
	}
	if (loaded && xf->rs.chunk_size) {
		chunk_size = xf->rs.chunk_size; /* keep the layout the bytes were written in */
		have = 0;
	} else if (job->size > o->range_threshold && o->connections > 1) {
		/* a one-stream prefix (ours or the official client's) becomes the first chunks */
		chunk_size = o->chunk_size;
	}
	file_layout(e, xf, chunk_size, have);
	job->resumed_from = xf->on_disk;

	xf->state_fd = open(job->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (xf->state_fd < 0 || ms_resume_store(xf->state_fd, &xf->rs) < 0) {
		file_fail(e, xf, ms_err_from_errno(errno), "cannot write '%s': %s", job->state_path,
		          strerror(errno));
		return -1;
	}
	/*
	 * Reserve the space now: a full disk fails here, before any byte is
	 * fetched.  One stream keeps the size so the length stays the progress.
	 */
	if (job->size > xf->on_disk) {
		int r = chunk_size ? fallocate(xf->fd, 0, 0, (off_t)job->size)
		                   : fallocate(xf->fd, FALLOC_FL_KEEP_SIZE, (off_t)have,
		                               (off_t)(job->size - have));

		if (r < 0 && errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) {
			file_fail(e, xf, ms_err_from_errno(errno),
			          "cannot allocate %llu bytes for '%s': %s",
			          (unsigned long long)job->size, job->part_path, strerror(errno));
			return -1;
		}
	}
	xf->slot = ms_hash_slot_new(e->hasher, xf->fd, job->size, job->algo);
	if (!xf->slot) {
		file_fail(e, xf, MS_EFAIL, "cannot start hashing '%s'", job->part_path);
		return -1;
	}
	xf->watermark = 0;
	advance_watermark(xf);
	emit(e, MS_EV_START, xf, 0, 0, NULL);
	if (xf->on_disk == job->size) {
		xf->phase = F_VERIFY;
		emit(e, MS_EV_VERIFY, xf, 0, 0, NULL);
	}
	return 0;
}

/* ---- connections ---- */

static CURL *get_easy(struct engine *e)
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

/* The bytes of chunk ci up to done are on disk: account for them. */
static void chunk_landed(struct engine *e, struct xfile *xf, uint32_t ci, uint64_t done)
{
	struct chunk *ch = &xf->chunks[ci];

	if (done <= ch->done)
		return;
	xf->on_disk += done - ch->done;
	e->on_disk_sum += done - ch->done;
	ch->done = done;
	advance_watermark(xf);
}

/*
 * Hand buffered bytes to the disk.  With the writer thread they are queued
 * (it writes the data, then the chunk's counter) and accounted for when
 * it reports back; without it they are written here, in the same order.
 */
static int conn_flush(struct conn *c)
{
	struct xfile *xf = c->xf;
	struct chunk *ch = &xf->chunks[c->chunk];
	struct ms_writer *w = c->e->writer;
	uint64_t done;
	int r;

	if (!c->buflen)
		return 0;
	done = c->flushed + c->buflen - ch->start;
	if (w) {
		struct ms_write *job = xcalloc(1, sizeof(*job));

		job->owner = xf;
		job->chunk = c->chunk;
		job->gen = xf->gen;
		job->fd = xf->fd;
		job->buf = c->buf;
		job->len = c->buflen;
		job->off = c->flushed;
		job->state_fd = xf->rs.chunk_size ? xf->state_fd : -1;
		job->counter_off = ms_resume_counter_offset(c->chunk);
		job->counter_val = done;
		ch->pending++;
		ms_writer_submit(w, job);
		c->buf = NULL; /* the writer owns it now; a fresh one comes with the next bytes */
		c->flushed += c->buflen;
		c->buflen = 0;
		return 0;
	}
	r = pwrite_all(xf->fd, c->buf, c->buflen, c->flushed);
	if (r)
		return r;
	c->flushed += c->buflen;
	c->buflen = 0;
	if (xf->rs.chunk_size) {
		unsigned char b[8];

		put64(b, done);
		if (pwrite_all(xf->state_fd, b, 8, ms_resume_counter_offset(c->chunk)))
			return errno ? errno : EIO;
	}
	chunk_landed(c->e, xf, c->chunk, done);
	return 0;
}

static bool check_response(struct conn *c)
{
	struct xfile *xf = c->xf;
	long status = 0;
	uint64_t s, en, total;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300) {
		c->discard = true;
		return true;
	}
	if (c->resp.content_encoding && strcasecmp(c->resp.content_encoding, "identity")) {
		c->verdict = V_PROTO;
		return false;
	}
	if (status == 200) {
		uint64_t cl;

		if (c->had_range) {
			c->verdict = V_RANGE_IGNORED;
			return false;
		}
		if (c->resp.content_length && ms_parse_u64(c->resp.content_length, &cl) == 0 &&
		    cl != xf->job->size) {
			c->verdict = V_SIZE;
			return false;
		}
		xf->url_known = true;
		return true;
	}
	if (status != 206 || !c->had_range || !c->resp.content_range ||
	    ms_parse_content_range(c->resp.content_range, &s, &en, &total) != 0) {
		c->verdict = V_PROTO;
		return false;
	}
	if (total != UINT64_MAX && total != xf->job->size) {
		c->verdict = V_SIZE;
		return false;
	}
	if (s != c->req_start || en + 1 != c->req_end) {
		c->verdict = V_PROTO;
		return false;
	}
	xf->url_known = true;
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;

	c->last_rx = ms_now();
	ms_http_capture_header(&c->resp, p, size * n);
	return size * n;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n;

	c->last_rx = ms_now();
	if (!c->checked) {
		c->checked = true;
		if (!check_response(c))
			return 0;
	}
	if (c->discard) {
		if (c->errbody.len < ERRBODY_MAX)
			ms_buf_add(&c->errbody, p, len < ERRBODY_MAX ? len : ERRBODY_MAX);
		return len;
	}
	if (c->off + len > c->req_end) {
		c->verdict = V_PROTO; /* more bytes than asked for */
		return 0;
	}
	c->xf->got_body = true;
	if (!c->bufcap) {
		/* no coalescing: straight from curl's buffer */
		c->buf = (unsigned char *)p;
		c->buflen = len;
		c->off += len;
		c->verdict_errno = conn_flush(c);
		c->buf = NULL;
		if (c->verdict_errno) {
			c->verdict = V_STORAGE;
			return 0;
		}
		return len;
	}
	while (len) {
		size_t take = c->bufcap - c->buflen;

		if (!c->buf)
			c->buf = ms_writer_buffer(c->e->writer);

		if (take > len)
			take = len;
		memcpy(c->buf + c->buflen, p, take);
		c->buflen += take;
		c->off += take;
		p += take;
		len -= take;
		if (c->buflen == c->bufcap) {
			c->verdict_errno = conn_flush(c);
			if (c->verdict_errno) {
				c->verdict = V_STORAGE;
				return 0;
			}
		}
	}
	return size * n;
}

static int conn_start(struct engine *e, struct xfile *xf, uint32_t ci)
{
	const struct ms_engine_opts *o = e->o;
	struct chunk *ch = &xf->chunks[ci];
	struct conn *c = xcalloc(1, sizeof(*c));
	char range[64];
	CURL *h = get_easy(e);

	if (!h) {
		free(c);
		return -1;
	}
	c->easy = h;
	c->e = e;
	c->xf = xf;
	c->chunk = ci;
	c->req_start = ch->start + ch->done;
	c->req_end = ch->end;
	c->off = c->flushed = c->req_start;
	c->url = xstrdup(xf->cur_url ? xf->cur_url : xf->job->url);
	c->foreign = xf->cur_url ? xf->cur_foreign : false;
	c->bufcap = o->write_buffer;
	if (c->bufcap > c->req_end - c->req_start)
		c->bufcap = (size_t)(c->req_end - c->req_start);
	if (c->bufcap && !e->writer)
		c->buf = xmalloc(c->bufcap);

	curl_easy_reset(h);
	ms_http_setup_easy(h, o->net);
	/* curl's low-speed check averages over seconds: check_stalls() is exact */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 0L);
	c->last_rx = ms_now();
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	/* one stream from 0 asks for everything; anything else is a range */
	if (xf->rs.chunk_size || c->req_start > 0) {
		if (xf->rs.chunk_size)
			snprintf(range, sizeof(range), "%llu-%llu",
			         (unsigned long long)c->req_start,
			         (unsigned long long)(c->req_end - 1));
		else
			snprintf(range, sizeof(range), "%llu-", (unsigned long long)c->req_start);
		curl_easy_setopt(h, CURLOPT_RANGE, range);
		c->had_range = true;
	}
	c->hdrs = ms_http_auth_headers(o->auth, c->url, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdrs);
	if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
		curl_slist_free_all(c->hdrs);
		if (!e->writer)
			free(c->buf);
		free(c->url);
		put_easy(e, h);
		free(c);
		return -1;
	}
	ms_verbose("> GET %s%s%s", c->url, c->had_range ? " Range: bytes=" : "",
	           c->had_range ? range : "");
	ch->active = true;
	c->next = xf->conns;
	xf->conns = c;
	xf->nconns++;
	e->active_conns++;
	return 0;
}

static void conn_free(struct engine *e, struct conn *c)
{
	struct xfile *xf = c->xf;
	for (struct conn **pp = &xf->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}

	curl_multi_remove_handle(e->multi, c->easy);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	put_easy(e, c->easy);
	curl_slist_free_all(c->hdrs);
	xf->chunks[c->chunk].active = false;
	xf->nconns--;
	e->active_conns--;
	if (c->buf && c->bufcap) {
		if (e->writer)
			ms_writer_put_buffer(e->writer, c->buf);
		else
			free(c->buf);
	}
	free(c->url);
	ms_http_response_release(&c->resp);
	ms_buf_release(&c->errbody);
	free(c);
}

static void abort_file_conns(struct engine *e, struct xfile *xf)
{
	struct conn *c;

	while ((c = xf->conns) != NULL) {
		xf->conns = c->next; /* popped here; conn_free finds it unlinked */
		/* Keep what arrived: the next run resumes from it. */
		if (xf->fd >= 0 && !c->discard && c->checked && c->verdict == V_OK)
			conn_flush(c);
		conn_free(e, c);
	}
}

/* ---- outcomes ---- */

static void integrity_retry(struct engine *e, struct xfile *xf, const char *msg)
{
	int r;

	if (xf->hash_retries++ == 0) {
		ms_verbose("%s; fetching it again", msg);
		emit(e, MS_EV_RETRY, xf, 1, 0, msg);
		abort_file_conns(e, xf);
		r = file_restart(e, xf, false);
		if (r) {
			file_fail(e, xf, ms_err_from_errno(r), "cannot truncate '%s': %s",
			          xf->job->part_path, strerror(r));
		} else if (xf->on_disk == xf->job->size) {
			/* an empty file: nothing to fetch again, so nothing would end the wait */
			xf->phase = F_VERIFY;
			emit(e, MS_EV_VERIFY, xf, 0, 0, NULL);
		}
		return;
	}
	file_fail(e, xf, MS_EINTEGRITY, "%s (also after a retry)", msg);
}

static void chunk_failed(struct engine *e, struct xfile *xf, uint32_t ci, int final_code,
                         double wait, const char *reason)
{
	const struct ms_net_opts *net = e->o->net;
	struct chunk *ch = &xf->chunks[ci];

	if (ch->done >= ch->done_at_fail + PROGRESS_RESETS_RETRIES)
		ch->attempts = 0; /* it was moving: a fresh failure, not a persistent one */
	ch->done_at_fail = ch->done;
	ch->attempts++;
	if (ch->attempts > net->retries || wait > net->retry_max_wait) {
		file_fail(e, xf, final_code, "%s: %s (%s)", xf->job->name, reason,
		          wait > net->retry_max_wait ? "the server asks to wait too long"
		                                     : "retries exhausted");
		return;
	}
	if (wait < 0)
		wait = ms_backoff_delay(ch->attempts, net->retry_delay, 30, ms_random01());
	ch->not_before = ms_now() + wait;
	ms_verbose("%s: %s; retry %d/%d in %.1fs", xf->job->name, reason, ch->attempts,
	           net->retries, wait);
	emit(e, MS_EV_RETRY, xf, ch->attempts, wait, reason);
}

static double answer_wait(const struct ms_http_response *r)
{
	double w;

	if (r->ratelimit && ms_parse_ratelimit_wait(r->ratelimit, &w) == 0)
		return w + 1;
	if (r->retry_after && ms_parse_retry_after(r->retry_after, time(NULL), &w) == 0)
		return w;
	return -1;
}

static void error_status(struct engine *e, struct xfile *xf, uint32_t ci, const char *url,
                         long status, bool foreign, const struct ms_http_response *resp,
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
			file_fail(e, xf, MS_EAUTH, "%s: %s keeps answering HTTP %ld", xf->job->name,
			          url, status);
			return;
		}
		free(xf->cur_url);
		xf->cur_url = NULL;
		xf->url_known = false;
		emit(e, MS_EV_RETRY, xf, xf->refreshes, 0, "download URL expired; resolving again");
		ms_verbose("%s: HTTP %ld from %s; resolving a fresh URL", xf->job->name, status,
		           url);
		return;
	case MS_RETRY_YES:
		snprintf(reason, sizeof(reason), "HTTP %ld from %s", status, url);
		chunk_failed(e, xf, ci, status == 429 ? MS_ENET : MS_EFAIL, answer_wait(resp),
		             reason);
		return;
	case MS_RETRY_NO:
		break;
	}
	if (status == 416 && !xf->rs.chunk_size) {
		/* our partial is longer than the file: start it over */
		int rr = file_restart(e, xf, false);

		if (rr)
			file_fail(e, xf, ms_err_from_errno(rr), "cannot truncate '%s': %s",
			          xf->job->part_path, strerror(rr));
		return;
	}
	/* Reuse the API error formatter for the message and the exit code. */
	r.body = *body;
	r.url = (char *)url;
	r.status = status;
	snprintf(reason, sizeof(reason), "downloading '%s'", xf->job->name);
	ms_error_clear(&tmp);
	ms_http_status_error(e->o->auth, &r, reason, &tmp);
	file_fail(e, xf, tmp.code == MS_ENET ? MS_EFAIL : tmp.code, "%s", tmp.msg);
}

static void conn_done(struct engine *e, struct conn *c, CURLcode cc)
{
	struct xfile *xf = c->xf;
	struct ms_xfer_job *job = xf->job;
	uint32_t ci = c->chunk;
	enum verdict verdict = c->verdict;
	int werr = c->verdict_errno;
	long status = 0;
	char *url = c->url, *location = NULL;
	struct ms_http_response resp = c->resp;
	struct ms_buf body = c->errbody;
	bool foreign = c->foreign, short_body, stalled = c->stalled;
	char reason[1200];

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	job->fetched += c->off - c->req_start;
	if (verdict == V_OK && !c->discard && xf->fd >= 0) {
		werr = conn_flush(c);
		if (werr)
			verdict = V_STORAGE;
	}
	short_body = !c->discard && c->off != c->req_end;
	/* take what we still need out of the connection before freeing it */
	c->url = NULL;
	c->resp = (struct ms_http_response){0};
	c->errbody = (struct ms_buf)MS_BUF_INIT;
	if (resp.location)
		location = xstrdup(resp.location);
	conn_free(e, c);
	if (xf->phase != F_ACTIVE)
		goto out;

	switch (verdict) {
	case V_STORAGE:
		file_fail(e, xf, ms_err_from_errno(werr), "cannot write '%s': %s", job->part_path,
		          strerror(werr));
		goto out;
	case V_RANGE_IGNORED:
		ms_verbose("%s: %s ignores Range; fetching it in one stream", job->name, url);
		abort_file_conns(e, xf);
		werr = file_restart(e, xf, true);
		if (werr)
			file_fail(e, xf, ms_err_from_errno(werr), "cannot truncate '%s': %s",
			          job->part_path, strerror(werr));
		goto out;
	case V_SIZE:
		snprintf(reason, sizeof(reason),
		         "size mismatch for '%s': the listing says %llu bytes, %s sends %s%s",
		         job->name, (unsigned long long)job->size, url,
		         resp.content_range ? "Content-Range " : "Content-Length ",
		         resp.content_range    ? resp.content_range
		         : resp.content_length ? resp.content_length
		                               : "?");
		integrity_retry(e, xf, reason);
		goto out;
	case V_PROTO:
		snprintf(reason, sizeof(reason), "unusable answer from %s (HTTP %ld%s%s%s%s)", url,
		         status, resp.content_range ? ", Content-Range " : "",
		         resp.content_range ? resp.content_range : "",
		         resp.content_encoding ? ", Content-Encoding " : "",
		         resp.content_encoding ? resp.content_encoding : "");
		chunk_failed(e, xf, ci, MS_EPROTO, -1, reason);
		goto out;
	case V_OK:
		break;
	}
	if (cc != CURLE_OK) {
		if (stalled)
			snprintf(reason, sizeof(reason), "%s: no data for %ld s (--stall-timeout)",
			         url, e->o->net->stall_timeout);
		else
			snprintf(reason, sizeof(reason), "%s: %s", url, curl_easy_strerror(cc));
		if (ms_retry_classify((int)cc, 0, foreign) == MS_RETRY_YES)
			chunk_failed(e, xf, ci, MS_ENET, -1, reason);
		else
			file_fail(e, xf, MS_ENET, "downloading '%s': %s", job->name, reason);
		goto out;
	}
	if (status >= 300 && status < 400) {
		char *next = location ? ms_url_resolve(url, location) : NULL;

		if (!next || ++xf->redirects > MAX_REDIRECTS) {
			free(next);
			file_fail(e, xf, MS_EPROTO,
			          "downloading '%s': bad or endless redirect from %s", job->name,
			          url);
			goto out;
		}
		ms_verbose("< %ld %s -> %s", status, url, next);
		free(xf->cur_url);
		xf->cur_url = next;
		xf->cur_foreign = !ms_http_same_origin(next, job->url);
		xf->url_known = true;
		goto out;
	}
	if (status < 200 || status >= 300) {
		ms_verbose("< %ld %s", status, url);
		error_status(e, xf, ci, url, status, foreign, &resp, &body);
		goto out;
	}
	xf->redirects = 0;
	if (short_body) {
		snprintf(reason, sizeof(reason), "%s: the connection ended early", url);
		chunk_failed(e, xf, ci, MS_ENET, -1, reason);
		goto out;
	}
	if (xf->on_disk == job->size) {
		xf->phase = F_VERIFY;
		emit(e, MS_EV_VERIFY, xf, 0, 0, NULL);
	}
out:
	free(location);
	free(url);
	ms_http_response_release(&resp);
	ms_buf_release(&body);
}

/* A connection that received nothing for stall_timeout seconds fails like a timeout. */
static void check_stalls(struct engine *e)
{
	double now = ms_now(), limit = (double)e->o->net->stall_timeout;

	for (size_t i = e->first_open; i < e->nfiles; i++) {
		struct xfile *xf = &e->files[i];

		/* conn_done frees the connection and may change the list: search it again */
		while (xf->phase == F_ACTIVE) {
			struct conn *c = xf->conns;

			/* conn_free unlinks what it frees; the analyzer cannot see that */
			while (c && now - c->last_rx < limit) // NOLINT(clang-analyzer-unix.Malloc)
				c = c->next;
			if (!c)
				break;
			c->stalled = true;
			conn_done(e, c, CURLE_OPERATION_TIMEDOUT);
		}
	}
}

/* What the writer thread finished: account for it (the main thread owns the bookkeeping). */
static void process_writes(struct engine *e)
{
	struct ms_write *job = e->writer ? ms_writer_completed(e->writer) : NULL;

	while (job) {
		struct ms_write *next = job->next;
		struct xfile *xf = job->owner;

		if (job->gen == xf->gen && xf->phase == F_ACTIVE) {
			xf->chunks[job->chunk].pending--;
			if (job->err)
				file_fail(e, xf, ms_err_from_errno(job->err),
				          "cannot write '%s': %s", xf->job->part_path,
				          strerror(job->err));
			else
				chunk_landed(e, xf, job->chunk, job->counter_val);
			if (xf->phase == F_ACTIVE && xf->on_disk == xf->job->size) {
				xf->phase = F_VERIFY;
				emit(e, MS_EV_VERIFY, xf, 0, 0, NULL);
			}
		}
		free(job);
		job = next;
	}
}

static void check_verify(struct engine *e, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	char hex[MS_HEX_MAX];
	int r = ms_hash_slot_result(xf->slot, hex);

	if (r == 0)
		return;
	if (r < 0) {
		file_fail(e, xf, ms_err_from_errno(-r), "cannot read back '%s': %s", job->part_path,
		          strerror(-r));
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
		integrity_retry(e, xf, msg);
		return;
	}
	/* Stale bytes past the end (an old longer partial) must not survive. */
	if (ftruncate(xf->fd, (off_t)job->size) < 0) {
		file_fail(e, xf, ms_err_from_errno(errno), "cannot truncate '%s': %s",
		          job->part_path, strerror(errno));
		return;
	}
	file_close_fds(xf);
	unlink(job->state_path);
	file_finish(e, xf);
}

/* ---- the loop ---- */

/* Start transfers for f within the budget; false when the budget is spent. */
static bool schedule_file(struct engine *e, struct xfile *xf, double now)
{
	int limit;

	if (xf->phase == F_PENDING) {
		if (xf->start_after > now || e->active_files >= e->o->max_workers)
			return e->active_conns < e->budget;
		if (file_start(e, xf) != 0)
			return e->active_conns < e->budget;
	}
	if (xf->phase != F_ACTIVE)
		return e->active_conns < e->budget;
	/* Until the first answer says where the bytes are, one request at a time. */
	if (!xf->url_known && xf->nconns)
		return e->active_conns < e->budget;
	limit = xf->rs.chunk_size && xf->url_known ? e->o->connections : 1;
	for (uint32_t ci = 0; ci < xf->nchunks && xf->nconns < limit && e->active_conns < e->budget;
	     ci++) {
		struct chunk *ch = &xf->chunks[ci];

		if (ch->active || ch->pending || ch->done == ch->end - ch->start ||
		    now < ch->not_before)
			continue;
		if (conn_start(e, xf, ci) < 0) {
			file_fail(e, xf, MS_EFAIL, "cannot start a transfer for '%s'",
			          xf->job->name);
			break;
		}
	}
	return e->active_conns < e->budget;
}

/*
 * Small files first: a config.json must not wait for a connection behind
 * the ranges of a 5 GB shard.  Then large files, in order, each taking up
 * to --connections of what is left of the budget.
 */
static void schedule(struct engine *e)
{
	double now = ms_now();

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = e->first_open; i < e->nfiles && !e->fatal; i++) {
			bool large = e->files[i].job->size > e->o->range_threshold;

			if (large == (pass == 1) && !schedule_file(e, &e->files[i], now))
				return;
		}
}

static double next_wakeup(struct engine *e)
{
	double now = ms_now(), t = e->o->progress_interval > 0 ? e->o->progress_interval : 0.2;

	for (size_t i = e->first_open; i < e->nfiles; i++) {
		struct xfile *xf = &e->files[i];

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

static void wake_multi(void *arg)
{
	curl_multi_wakeup(arg);
}

static bool all_finished(const struct engine *e)
{
	for (size_t i = e->first_open; i < e->nfiles; i++)
		if (e->files[i].phase != F_DONE && e->files[i].phase != F_FAILED)
			return false;
	return true;
}

static void progress(struct engine *e)
{
	double now = ms_now();

	if (now - e->last_progress < e->o->progress_interval)
		return;
	e->last_progress = now;
	for (size_t i = e->first_open; i < e->nfiles; i++)
		if (e->files[i].phase == F_ACTIVE || e->files[i].phase == F_VERIFY)
			emit(e, MS_EV_PROGRESS, &e->files[i], 0, 0, NULL);
	emit(e, MS_EV_PROGRESS, NULL, 0, 0, NULL);
}

int ms_engine_run(const struct ms_engine_opts *o, struct ms_xfer_job *jobs, size_t n)
{
	struct engine e = {.o = o};
	int ret = 0;

	e.budget = o->max_workers > o->connections ? o->max_workers : o->connections;
	if (e.budget < 1)
		e.budget = 1;
	e.multi = curl_multi_init();
	if (!e.multi)
		return MS_EFAIL;
	curl_multi_setopt(e.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e.budget);
	curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, (long)e.budget + 4);
	e.hasher = ms_hasher_pool_start(wake_multi, e.multi);
	/*
	 * Two buffers per connection (one filling, one being written), within
	 * 32 MiB whatever the buffer size: memory must not grow with the load.
	 */
	if (o->write_buffer) {
		size_t nbuf = 2 * (size_t)e.budget + 2, cap = (32u << 20) / o->write_buffer;

		if (nbuf > cap)
			nbuf = cap < 4 ? 4 : cap;
		e.writer = ms_writer_start(o->write_buffer, nbuf, wake_multi, e.multi);
	}
	if (!e.hasher || (o->write_buffer && !e.writer)) {
		ms_hasher_pool_stop(e.hasher);
		curl_multi_cleanup(e.multi);
		return MS_EFAIL;
	}
	e.files = xcalloc(n ? n : 1, sizeof(*e.files));
	e.nfiles = n;
	for (size_t i = 0; i < n; i++) {
		e.files[i].job = &jobs[i];
		if (jobs[i].first_url) {
			/* a failure there (an expired CDN URL) falls back to job->url */
			e.files[i].cur_url = xstrdup(jobs[i].first_url);
			e.files[i].cur_foreign =
			        !ms_http_same_origin(jobs[i].first_url, jobs[i].url);
		}
		e.files[i].fd = e.files[i].state_fd = -1;
		jobs[i].status = 0;
		jobs[i].done = false;
		ms_error_clear(&jobs[i].err);
		e.total_size += jobs[i].size;
	}
	e.started = e.last_progress = ms_now();
	emit(&e, MS_EV_PLAN, NULL, 0, 0, NULL);

	while (!all_finished(&e)) {
		struct CURLMsg *m;
		int running, left;

		if (ms_interrupted() && !e.fatal)
			e.fatal = MS_EINTR;
		if (e.fatal) {
			for (size_t i = 0; i < n; i++)
				if (e.files[i].phase != F_DONE && e.files[i].phase != F_FAILED)
					file_fail(&e, &e.files[i], e.fatal, "%s: %s", jobs[i].name,
					          e.fatal == MS_EINTR
					                  ? "interrupted"
					                  : "stopped after a storage error");
			break;
		}
		schedule(&e);
		curl_multi_perform(e.multi, &running);
		while ((m = curl_multi_info_read(e.multi, &left)) != NULL) {
			struct conn *c = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			conn_done(&e, c, m->data.result);
		}
		process_writes(&e);
		check_stalls(&e);
		while (e.first_open < n && (e.files[e.first_open].phase == F_DONE ||
		                            e.files[e.first_open].phase == F_FAILED))
			e.first_open++;
		for (size_t i = e.first_open; i < n; i++)
			if (e.files[i].phase == F_VERIFY)
				check_verify(&e, &e.files[i]);
		progress(&e);
		if (all_finished(&e))
			break;
		curl_multi_poll(e.multi, NULL, 0, (int)(next_wakeup(&e) * 1000) + 1, NULL);
	}

	/* keep what arrived: queue the connections' last bytes, let them land, then close */
	for (size_t i = 0; i < n; i++)
		abort_file_conns(&e, &e.files[i]);
	if (e.writer)
		ms_writer_drain(e.writer);
	for (size_t i = 0; i < n; i++) {
		file_close_fds(&e.files[i]);
		file_unlock(&e.files[i]);
		free(e.files[i].chunks);
		free(e.files[i].cur_url);
		ms_resume_release(&e.files[i].rs);
		if (!ret && jobs[i].status)
			ret = jobs[i].status;
	}
	emit(&e, MS_EV_FINISH, NULL, 0, 0, NULL);
	ms_writer_stop(e.writer);
	ms_hasher_pool_stop(e.hasher);
	while (e.nidle)
		curl_easy_cleanup(e.idle[--e.nidle]);
	free(e.idle);
	curl_multi_cleanup(e.multi);
	free(e.files);
	return ret;
}
