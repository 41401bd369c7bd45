/*
 * Inside the transfer engine: what engine.c (the loop, the multi handle,
 * the connection budget, stall detection, events) offers to a job kind
 * (engine-get.c, engine-put.c), and what a kind provides.  Not for use outside the engine.
 */
#ifndef MSCLI_ENGINE_KIND_H
#define MSCLI_ENGINE_KIND_H

#include <curl/curl.h>

#include "engine.h"

struct engine;

/* One transfer on the multi handle; a kind's connection struct starts with it. */
struct econn {
	struct econn *prev, *next; /* the engine's transfers in flight */
	CURL *easy;
	const struct engine_kind *kind;
	void *kind_state;
	curl_socket_t sock;         /* its connection's socket, as curl watches it */
	bool tls;                   /* an https:// URL: OpenSSL may hold records (drain_tls) */
	double last_rx;             /* when the last header or body byte arrived */
	bool stalled;               /* no byte for stall_timeout seconds: ended by the engine */
	char errbuf[MS_NET_ERRBUF]; /* libcurl's detail of a failure (ms_http_setup_easy) */
};

struct engine_kind {
	enum ms_job_kind job_kind;
	/* Take the jobs of this kind (in order); the state is passed to every call. */
	void *(*start)(struct engine *e, struct ms_xfer_job **jobs, size_t n);
	/* More jobs during the run (ms_engine_opts.feed); NULL when the kind takes none. */
	void (*add)(struct engine *e, void *state, struct ms_xfer_job **jobs, size_t n);
	/* Start transfers while there is budget. */
	void (*schedule)(struct engine *e, void *state);
	/* A transfer ended (curl's result; CURLE_OPERATION_TIMEDOUT for a stall). */
	void (*transfer_done)(struct engine *e, void *state, struct econn *c, CURLcode cc);
	/* After each pass of the loop: account for finished writes, verify. */
	void (*after_pass)(struct engine *e, void *state);
	/* Seconds until something is due (a retry, a lock to try again); <= max. */
	double (*next_wakeup)(struct engine *e, void *state, double now, double max);
	bool (*finished)(void *state);
	/* Fail every unfinished job with code (an interrupt, a full disk). */
	void (*stop)(struct engine *e, void *state, int code);
	/* Emit per-job PROGRESS events. */
	void (*progress)(struct engine *e, void *state);
	/* Let queued work land, close files, free the state. */
	void (*finish)(struct engine *e, void *state);
};

struct engine {
	const struct ms_engine_opts *o;
	CURLM *multi;
	int ep_fd, wake_fd; /* the sockets curl watches (epoll); engine_wake's eventfd */
	uint8_t *watch;     /* per socket: what the epoll set has for it (on_socket) */
	size_t watch_cap;
	double timer_at;  /* when curl wants its timeout action; < 0: no timer */
	bool tls_pending; /* records read ahead still to hand to curl: do not sleep */
	int budget, active_conns;
	struct econn *conns; /* in flight */
	CURL **idle;         /* handles kept for reuse (their connections stay in the pool) */
	size_t nidle, idle_cap;
	size_t njobs;
	uint64_t total_size;
	uint64_t total_done; /* bytes of all jobs done (a finished file counts whole) */
	double started, last_progress;
	int fatal;    /* a storage error or an interrupt stops everything */
	bool feeding; /* ms_engine_opts.feed may still bring jobs */
};

/* A handle from the pool (reset by the caller), or NULL. */
CURL *engine_easy(struct engine *e);
/* Start c (c->easy set up for url): 0, or -1 (the handle went back to the pool). */
int engine_add(struct engine *e, struct econn *c, const char *url, const struct engine_kind *kind,
               void *state);
/* Take c off the multi handle; its handle goes back to the pool. */
void engine_remove(struct engine *e, struct econn *c);
bool engine_has_budget(const struct engine *e);
void engine_emit(struct engine *e, enum ms_event_type type, struct ms_xfer_job *job,
                 uint64_t job_done, int attempt, double delay, const char *reason);
/*
 * A transfer failed for the attempts-th time in a row, the server asking to wait *wait
 * seconds (<0: it did not say): true and *wait the delay before the next try, or false
 * and why it ends in why ("after N attempts", "the server asks to wait too long").
 */
bool engine_retry(const struct engine *e, int attempts, double *wait, char *why, size_t n);
/* For threads that finish work the loop waits for. */
void engine_wake(void *engine);

extern const struct engine_kind engine_get;
extern const struct engine_kind engine_put;

#endif
