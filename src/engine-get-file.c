/*
 * A file of the engine's GET kind (engine-get.h) from start to end: its
 * lock, its partial and resume state (only what can be trusted is kept),
 * the space reserved before any byte is fetched, its chunk layout, and how
 * it ends: installed after it verified, failed, or started over.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/engine-get.h"
#include "mscli/fs.h"
#include "mscli/log.h"
#include "mscli/writer.h"

void get_emit(struct get *g, enum ms_event_type type, struct xfile *xf, int attempt, double delay,
              const char *reason)
{
	engine_emit(g->e, type, xf ? xf->job : NULL, xf ? xf->on_disk : 0, attempt, delay, reason);
}

void get_file_unlock(struct xfile *xf)
{
	if (xf->locked && xf->job->release)
		xf->job->release(xf->job->install_arg, xf->job);
	xf->locked = false;
}

void get_file_close(struct xfile *xf)
{
	if (xf->fd >= 0)
		close(xf->fd);
	if (xf->state_fd >= 0)
		close(xf->state_fd);
	xf->fd = xf->state_fd = -1;
	ms_hash_slot_free(xf->slot);
	xf->slot = NULL;
	ms_hasher_release(&xf->mem_hash);
}

bool get_file_is_small(const struct get *g, const struct ms_xfer_job *job)
{
	const struct ms_engine_opts *o = g->e->o;

	/* the same test as open_partial's for ranges: a ranged file keeps its state */
	return job->size <= GET_SMALL_FILE_MAX &&
	       (job->size <= o->range_threshold || o->connections <= 1);
}

/* Feed the digest the bytes [0, have) already on disk: at most GET_SMALL_FILE_MAX. */
static int small_hash_start(struct xfile *xf, uint64_t have)
{
	unsigned char *buf;
	ssize_t n;
	int r = 0;

	if (ms_hasher_init(&xf->mem_hash, xf->job->algo, xf->job->size) < 0)
		return ENOMEM;
	if (!have)
		return 0;
	buf = xmalloc((size_t)have);
	n = pread(xf->fd, buf, (size_t)have, 0);
	if (n != (ssize_t)have)
		r = n < 0 ? errno : EIO;
	else
		ms_hasher_update(&xf->mem_hash, buf, (size_t)have);
	free(buf);
	return r;
}

int get_small_write(struct xfile *xf, const void *p, size_t n, uint64_t off)
{
	int r = ms_pwrite_all(xf->fd, p, n, off);

	/* one stream: off is always the end of what the digest has seen */
	if (!r)
		ms_hasher_update(&xf->mem_hash, p, n);
	return r;
}

/* Lay out chunks for the file's mode; done counts come from have (one stream) or rs. */
static void file_layout(struct get *g, struct xfile *xf, uint64_t chunk_size, uint64_t have)
{
	uint64_t size = xf->job->size;
	uint32_t n = chunk_size ? (uint32_t)((size + chunk_size - 1) / chunk_size) : 1;

	free(xf->chunks);
	if (n == 0)
		n = 1;
	xf->chunks = xcalloc(n, sizeof(*xf->chunks));
	xf->nchunks = n;
	g->e->total_done -= xf->on_disk;
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
		g->e->total_done += c->done;
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

void get_file_fail(struct get *g, struct xfile *xf, int code, const char *fmt, ...)
{
	va_list ap;

	if (xf->phase == F_FAILED || xf->phase == F_DONE)
		return;
	/* formatted aside first: a caller may pass job->err->msg itself as an argument */
	char msg[sizeof(xf->job->err->msg)];
	struct ms_error *err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a storage error names a partial ("blobs/<sha256>.mscli.incomplete"): say whose */
	err = ms_job_err(xf->job);
	if (code == MS_ESTORAGE)
		ms_error_set(err, code, "%s: %s", xf->job->name, msg);
	else
		ms_error_set(err, code, "%s", msg);
	xf->job->status = code;
	err->http_status = xf->last_status;
	get_abort_conns(g, xf);
	/* nothing may still be writing to the file we close */
	if (g->writer)
		ms_writer_drain(g->writer);
	if (xf->phase != F_PENDING)
		g->active_files--;
	xf->phase = F_FAILED;
	/* A verified-bad partial must not be resumed; one with no byte in it (a 401, a 404
	 * before the body) is litter.  Removed while the file's lock is still held. */
	if (code == MS_EINTEGRITY || (xf->fd >= 0 && xf->on_disk == 0 && !xf->got_body)) {
		unlink(xf->job->part_path);
		unlink(xf->job->state_path);
	}
	get_file_close(xf);
	get_file_unlock(xf);
	if (code == MS_ESTORAGE || code == MS_EINTR)
		g->e->fatal = code;
	get_emit(g, MS_EV_ERROR, xf, 0, 0, err->msg);
}

/* Start over from byte 0 (hash mismatch, or a server that ignores Range). */
int get_file_restart(struct get *g, struct xfile *xf, bool single)
{
	/* no queued write may land after the truncation; later reports are void */
	if (g->writer)
		ms_writer_drain(g->writer);
	xf->gen++;
	if (single)
		xf->single_only = true;
	/* the hasher lets go of the file before it is cut (it reads it mapped) */
	if (xf->slot)
		ms_hash_slot_reset(xf->slot);
	if (ftruncate(xf->fd, 0) < 0)
		return errno;
	file_layout(g, xf, single || xf->single_only ? 0 : xf->rs.chunk_size, 0);
	if (xf->state_fd >= 0 && ms_resume_store(xf->state_fd, &xf->rs) < 0)
		return errno ? errno : EIO;
	xf->watermark = 0;
	if (xf->small && ms_hasher_init(&xf->mem_hash, xf->job->algo, xf->job->size) < 0)
		return ENOMEM;
	return 0;
}

/* Install a verified file (or one another process finished) and end it. */
void get_file_finish(struct get *g, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	struct ms_error err;
	int r;

	ms_error_clear(&err);
	r = job->install(job->install_arg, job, &err);
	get_file_unlock(xf);
	g->active_files--;
	if (r) {
		*ms_job_err(job) = err;
		job->status = r;
		xf->phase = F_FAILED;
		if (r == MS_ESTORAGE)
			g->e->fatal = r;
		get_emit(g, MS_EV_ERROR, xf, 0, 0, job->err->msg);
		return;
	}
	xf->phase = F_DONE;
	g->e->total_done += job->size - xf->on_disk;
	xf->on_disk = job->size;
	job->done = true;
	get_emit(g, MS_EV_DONE, xf, 0, 0, NULL);
}

/*
 * The file's paths (prepared once, at its turn) and its lock: 0 taken (or none needed),
 * 1 busy (try later), -1 the file ended.
 */
static int file_acquire(struct get *g, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	struct ms_error err;
	int r = 0;

	ms_error_clear(&err);
	if (!job->part_path && job->prepare)
		r = job->prepare(job->install_arg, job, &err);
	if (r == 0) {
		if (!job->acquire || xf->locked)
			return 0;
		r = job->acquire(job->install_arg, job, &err);
	}
	if (r == 1) {
		/* another process is fetching this blob: look again shortly */
		xf->start_after = ms_now() + 0.2;
		return 1;
	}
	if (r == 0) {
		xf->locked = true;
		return 0;
	}
	/* it ends here: as a started file, which file_fail and file_finish expect */
	g->active_files++;
	xf->phase = F_ACTIVE;
	if (r < 0) {
		get_file_fail(g, xf, r, "%s", err.msg);
		return -1;
	}
	/* 2: finished by another process while we waited for its lock */
	xf->locked = true;
	memcpy(job->actual, job->digest, MS_HEX_MAX);
	get_file_finish(g, xf);
	return -1;
}

static void truncate_partial(struct xfile *xf, uint64_t *have)
{
	*have = 0;
	if (ftruncate(xf->fd, 0) < 0)
		*have = 0; /* the layout starts from 0 either way */
}

/*
 * Open the partial and its resume state; keep only what can be trusted.
 * Returns the chunk size to use (0: one stream) and the bytes already there.
 */
static int open_partial(struct get *g, struct xfile *xf, uint64_t *chunk_size, uint64_t *have)
{
	struct ms_xfer_job *job = xf->job;
	const struct ms_engine_opts *o = g->e->o;
	struct stat st;
	bool loaded;

	*have = *chunk_size = 0;
	/* most partials are new: made so, they need no fstat to say they are empty */
	xf->fd = ms_open_memo(job->part_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (xf->fd < 0 && errno == EEXIST) {
		xf->fd = ms_open_memo(job->part_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (xf->fd >= 0 && fstat(xf->fd, &st) == 0)
			*have = (uint64_t)st.st_size;
	}
	if (xf->fd < 0)
		return -errno;
	if (xf->small) {
		/* its length is its progress; a state file there is an older run's litter */
		if (*have)
			unlink(job->state_path);
		if (*have > job->size)
			truncate_partial(xf, have);
		return 0;
	}
	loaded = ms_resume_load(job->state_path, &xf->rs) == 0;
	if (loaded && (xf->rs.size != job->size || strcmp(xf->rs.digest, job->digest))) {
		ms_verbose("%s: discarding a partial of another version", job->name);
		loaded = false;
		ms_resume_release(&xf->rs);
		truncate_partial(xf, have);
	}
	if (loaded && xf->rs.chunk_size && *have != job->size) {
		/* a ranged partial is allocated to full size: this one was replaced */
		ms_verbose("%s: the partial does not match its resume state; starting over",
		           job->name);
		loaded = false;
		ms_resume_release(&xf->rs);
		truncate_partial(xf, have);
	}
	if (*have > job->size)
		truncate_partial(xf, have);
	if (loaded && xf->rs.chunk_size) {
		*chunk_size = xf->rs.chunk_size; /* keep the layout the bytes were written in */
		*have = 0;
	} else if (job->size > o->range_threshold && o->connections > 1) {
		/* a one-stream prefix (ours or the official client's) becomes the first chunks */
		*chunk_size = o->chunk_size;
	}
	return 0;
}

/*
 * Below this a file is not reserved: its first write fails as soon as a reservation
 * would, having fetched no more than this.  (2000 files of 64 KiB: the fallocate
 * calls were 4% of the CPU.)
 */
#define RESERVE_MIN (256u << 10)

/*
 * Reserve the space now: a full disk fails here, before any byte is fetched.
 * One stream keeps the size so the length stays the progress.
 */
static int reserve(struct xfile *xf, uint64_t chunk_size, uint64_t have)
{
	uint64_t size = xf->job->size;
	int r;

	if (size <= xf->on_disk || (size < RESERVE_MIN && !chunk_size))
		return 0;
	r = chunk_size ? fallocate(xf->fd, 0, 0, (off_t)size)
	               : fallocate(xf->fd, FALLOC_FL_KEEP_SIZE, (off_t)have, (off_t)(size - have));
	if (r < 0 && errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return errno;
	return 0;
}

static int open_state(struct get *g, struct xfile *xf)
{
	const char *path = xf->job->state_path;

	xf->state_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (xf->state_fd < 0 || ms_resume_store(xf->state_fd, &xf->rs) < 0) {
		get_file_fail(g, xf, ms_err_from_errno(errno), "cannot write '%s': %s", path,
		              strerror(errno));
		return -1;
	}
	return 0;
}

int get_file_start(struct get *g, struct xfile *xf)
{
	struct ms_xfer_job *job = xf->job;
	uint64_t have, chunk_size;
	size_t idx = (size_t)(xf - g->files);
	int r;

	if (idx >= g->touched_end)
		g->touched_end = idx + 1;
	if ((r = file_acquire(g, xf)) != 0)
		return r;
	xf->phase = F_ACTIVE;
	g->active_files++;
	xf->small = get_file_is_small(g, job);
	if ((r = open_partial(g, xf, &chunk_size, &have)) < 0) {
		get_file_fail(g, xf, ms_err_from_errno(-r), "cannot open '%s': %s", job->part_path,
		              strerror(-r));
		return -1;
	}
	file_layout(g, xf, chunk_size, have);
	job->resumed_from = xf->on_disk;
	if (!xf->small && open_state(g, xf) != 0)
		return -1;
	if ((r = reserve(xf, chunk_size, have)) != 0) {
		get_file_fail(g, xf, ms_err_from_errno(r),
		              "cannot allocate %llu bytes for '%s': %s",
		              (unsigned long long)job->size, job->part_path, strerror(r));
		return -1;
	}
	if (xf->small && (r = small_hash_start(xf, xf->on_disk)) != 0) {
		get_file_fail(g, xf, ms_err_from_errno(r), "cannot read back '%s': %s",
		              job->part_path, strerror(r));
		return -1;
	}
	if (!xf->small && !(xf->slot = ms_hash_slot_new(g->hasher, xf->fd, job->size, job->algo))) {
		get_file_fail(g, xf, MS_EFAIL, "cannot start hashing '%s'", job->part_path);
		return -1;
	}
	xf->watermark = 0;
	advance_watermark(xf);
	get_emit(g, MS_EV_START, xf, 0, 0, NULL);
	if (xf->on_disk == job->size) {
		xf->phase = F_VERIFY;
		get_emit(g, MS_EV_VERIFY, xf, 0, 0, NULL);
	}
	return 0;
}

/* The bytes of chunk ci up to done are on disk: account for them. */
void get_chunk_landed(struct get *g, struct xfile *xf, uint32_t ci, uint64_t done)
{
	struct chunk *ch = &xf->chunks[ci];

	if (done <= ch->done)
		return;
	xf->on_disk += done - ch->done;
	g->e->total_done += done - ch->done;
	ch->done = done;
	advance_watermark(xf);
}
