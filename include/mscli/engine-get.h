/*
 * Inside the engine's GET kind: what engine-get.c (files, chunks, outcomes,
 * scheduling) and engine-get-conn.c (one ranged GET) share.
 */
#ifndef MSCLI_ENGINE_GET_H
#define MSCLI_ENGINE_GET_H

#include <stdbool.h>
#include <stdint.h>

#include "engine-kind.h"
#include "hasher.h"
#include "resume.h"
#include "strbuf.h"

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
	bool small;                /* get_file_is_small: no resume state, hashed here */
	struct ms_hasher mem_hash; /* a small file's digest, fed as its bytes land in order */
	int last_status;           /* the last HTTP error, for the final message */
	struct conn *conns;        /* this file's transfers in flight */
	bool locked;               /* job->acquire succeeded: release when finished */
	double start_after;        /* its lock was busy: try again then */
	unsigned gen;              /* bumped when the file starts over: its older writes are void */
};

struct conn {
	struct econn base; /* first: what the engine sees */
	struct conn *next; /* the file's other transfers */
	struct get *g;
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
	struct curl_slist *hdrs;
	struct ms_http_response resp;
	struct ms_buf errbody;
};

/* The GET kind's state: its files and the two threads it keeps busy. */
struct get {
	struct engine *e;
	struct ms_hasher_pool *hasher;
	struct ms_writer *writer; /* NULL: write from curl's callback (no coalescing) */
	struct xfile *files;
	size_t nfiles;
	size_t first_open; /* files before it are done or failed, for good */
	/* files from here on were never started: still pending with no retry time (or ended
	 * by a stop); the loops that look for active, verifying or waiting files end here */
	size_t touched_end;
	int active_files;
	/* the large files (above the range threshold), by index, in order; those before
	 * large_open are done or failed (large_share looks at these only) */
	size_t *large, nlarge, large_open;
	/* maybe_yield_to_hashing: the lone file being measured, from when and what it had */
	struct xfile *yield_file;
	uint64_t yield_from;
	double yield_since, yield_check_at;
	bool yielded;
};

void get_emit(struct get *g, enum ms_event_type type, struct xfile *xf, int attempt, double delay,
              const char *reason);
/* Take the file's lock, open its partial, lay out its chunks: 0 started, 1 its lock is
 * busy (try again at xf->start_after), -1 it ended (failed, or finished elsewhere). */
int get_file_start(struct get *g, struct xfile *xf);
/* Fail the file for good with code; its transfers end, a bad or empty partial goes. */
void get_file_fail(struct get *g, struct xfile *xf, int code, const char *fmt, ...) MS_PRINTF(4, 5);
/* Start over from byte 0 (a hash mismatch, a server that ignores Range): 0 or errno. */
int get_file_restart(struct get *g, struct xfile *xf, bool single);
/* Install a verified file (or one another process finished) and end it. */
void get_file_finish(struct get *g, struct xfile *xf);
void get_file_close(struct xfile *xf);
void get_file_unlock(struct xfile *xf);

/*
 * A file of at most this size fetched in one stream is small: its partial's length is
 * its progress, so it needs no resume state file; its bytes are written and hashed in
 * the engine thread as they land in order (no hand-off, no read back).
 */
#define GET_SMALL_FILE_MAX (1u << 20)
bool get_file_is_small(const struct get *g, const struct ms_xfer_job *job);
/* Write a small file's bytes at off and feed them to its digest: 0 or an errno value. */
int get_small_write(struct xfile *xf, const void *p, size_t n, uint64_t off);
/* Start a transfer of chunk ci of xf: 0, or -1 (nothing started). */
int get_conn_start(struct get *g, struct xfile *xf, uint32_t ci);
/* Hand c's buffered bytes to the disk: 0 or an errno value. */
int get_conn_flush(struct conn *c);
void get_conn_free(struct get *g, struct conn *c);
/* End xf's transfers, keeping what arrived. */
void get_abort_conns(struct get *g, struct xfile *xf);
/* The bytes of chunk ci up to done are on disk: account for them. */
void get_chunk_landed(struct get *g, struct xfile *xf, uint32_t ci, uint64_t done);

#endif
