/*
 * The transfer engine: one curl multi handle within one connection budget,
 * retries with backoff, stall detection, and events, for jobs of a kind:
 *
 *  MS_JOB_GET  a file fetched into a partial (several files at once, large
 *              files in parallel ranges), resumable, hashed on a second thread
 *              while it arrives, verified before it is installed.
 *  MS_JOB_PUT  a region of a file sent to a URL (an LFS object, or one part of
 *              a multipart upload), read from disk as curl asks for it, never
 *              held whole in memory; its answer's status, ETag and body kept.
 *
 * engine.c runs the loop; each kind lives in its own file (engine-get.c,
 * engine-put.c)
 * behind struct engine_kind (engine-kind.h).  The engine knows nothing of
 * stores or hubs: a job says where its bytes are and calls back to install.
 * It never prints: it reports events through a callback.
 */
#ifndef MSCLI_ENGINE_H
#define MSCLI_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "http.h"
#include "strbuf.h"

struct ms_xfer_job;

/* Install a verified partial at its final place (rename); 0 or a negative ms_err. */
typedef int (*ms_install_fn)(void *arg, struct ms_xfer_job *job, struct ms_error *err);

enum ms_job_kind {
	MS_JOB_GET = 0,
	MS_JOB_PUT,
};

struct ms_xfer_job {
	/* Set by the caller. */
	enum ms_job_kind kind;
	char *url;             /* where the bytes are (the hub; redirects are followed) */
	const char *first_url; /* optional: where a HEAD already found them (tried first) */
	const char *name;      /* repo path, for events and messages */
	uint64_t size;         /* expected size */
	enum ms_hash_algo algo;
	char digest[MS_HEX_MAX]; /* expected digest; "" means size check only */
	char *part_path;         /* the partial file */
	char *state_path;        /* resume-state sidecar */
	/*
	 * Optional: called once, when the file is about to start, to set part_path and
	 * state_path (and make their directories); a file's set-up then costs nothing
	 * until its turn, and the first request goes out before the thousandth file is
	 * prepared.  0 or a negative ms_err (the file fails with err).
	 */
	int (*prepare)(void *arg, struct ms_xfer_job *job, struct ms_error *err);
	ms_install_fn install;
	void *install_arg;
	/*
	 * Optional: take a lock before the file starts (0 taken, 1 busy: try
	 * again later, 2 taken and another process already finished the file:
	 * install without fetching, <0 error) and let it go when the file is
	 * done or failed.
	 */
	int (*acquire)(void *arg, struct ms_xfer_job *job, struct ms_error *err);
	void (*release)(void *arg, struct ms_xfer_job *job);
	int lock_fd; /* for acquire/release; -1 when none */
	void *user;
	/* MS_JOB_PUT: bytes [offset, offset + size) of src_path go to url. */
	const char *src_path;
	uint64_t offset;
	struct curl_slist *headers; /* the job's own request headers, or NULL */

	/* Results. */
	int status;            /* 0, or a negative ms_err (detail in err) */
	struct ms_error *err;  /* set with status (ms_job_err), NULL while none: 1 KiB a job */
	uint64_t fetched;      /* body bytes received over the network */
	uint64_t resumed_from; /* bytes already on disk when the job started */
	char actual[MS_HEX_MAX];
	bool done;
	bool stopped; /* failed only because the run stopped (a signal, another file's full disk) */
	/* MS_JOB_PUT results (etag and answer belong to the caller). */
	long http_status;
	char *etag;           /* the answer's ETag header as sent, or NULL */
	struct ms_buf answer; /* the answer's body, its first 64 KiB */
	uint64_t sent;        /* body bytes sent over the network, all attempts */
	bool expired;         /* a signed URL on another origin refused it: get a new one */
};

enum ms_event_type {
	MS_EV_PLAN,     /* nfiles / total: what will be transferred */
	MS_EV_START,    /* job starts (resumed_from tells whether it resumes) */
	MS_EV_PROGRESS, /* periodic: job bytes and totals */
	MS_EV_RETRY,    /* job will be retried: attempt, delay, reason */
	MS_EV_VERIFY,   /* job's bytes are all on disk; waiting for its digest */
	MS_EV_DONE,     /* job verified and installed */
	MS_EV_ERROR,    /* job failed for good: job->err */
	MS_EV_FINISH,   /* the engine is done */
};

struct ms_event {
	enum ms_event_type type;
	struct ms_xfer_job *job; /* NULL for PLAN, FINISH and aggregate PROGRESS */
	uint64_t job_done;       /* bytes of this job on disk */
	uint64_t total_done;     /* bytes of all jobs on disk */
	uint64_t total_size;
	size_t nfiles;
	int attempt;
	double delay;
	const char *reason;
	double elapsed;
};

typedef void (*ms_event_fn)(void *arg, const struct ms_event *ev);

struct ms_engine_opts {
	int max_workers;          /* files at once and the total connection budget */
	int connections;          /* connections for one large file */
	uint64_t range_threshold; /* files above this are fetched in ranges */
	uint64_t chunk_size;      /* size of one range request */
	size_t write_buffer;      /* bytes coalesced per connection before a write */
	size_t tls_read_ahead;    /* TLS bytes read per recv() (ms_http_read_ahead); 0: not */
	int hash_threads;         /* threads hashing files as they arrive */
	const struct ms_net_opts *net;
	const struct ms_auth *auth;
	ms_event_fn on_event;
	void *event_arg;
	double progress_interval; /* seconds between PROGRESS events */
	/*
	 * Optional: jobs that come while the engine runs (an upload sends what is hashed
	 * while the rest is being hashed).  Called once per pass: returns how many jobs it
	 * put in *jobs (the pointers stay valid until the run ends), 0 when none is ready,
	 * or SIZE_MAX to stop every job; *more says whether others may still come.  Only
	 * kinds that take jobs during a run (PUT) may be fed.
	 */
	size_t (*feed)(void *arg, struct ms_xfer_job ***jobs, bool *more);
	void *feed_arg;
};

void ms_engine_opts_init(struct ms_engine_opts *o);

/*
 * Run all jobs to completion or failure.  Returns 0 when every job
 * succeeded, else the first failed job's status (each job has its own).
 */
int ms_engine_run(const struct ms_engine_opts *o, struct ms_xfer_job *jobs, size_t n);
/* The job's error, made on first use; ms_job_err_free lets it go (NULL again). */
struct ms_error *ms_job_err(struct ms_xfer_job *job);
void ms_job_err_free(struct ms_xfer_job *job);

#endif
