/*
 * One ranged GET of the engine's GET kind (engine-get.h): the request, the
 * check of the answer before the first byte is kept (status, Content-Range,
 * Content-Length, encoding), and the bytes: coalesced into large buffers and
 * handed to the writer thread, or written here when there is none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/engine-get.h"
#include "mscli/fs.h"
#include "mscli/log.h"
#include "mscli/parse.h"
#include "mscli/writer.h"

/* An error answer's body is kept for the message, up to this much. */
#define ERRBODY_MAX 1024

/*
 * Hand buffered bytes to the disk.  With the writer thread they are queued
 * (it writes the data, then the chunk's counter) and accounted for when
 * it reports back; without it they are written here, in the same order.
 */
int get_conn_flush(struct conn *c)
{
	struct xfile *xf = c->xf;
	struct chunk *ch = &xf->chunks[c->chunk];
	struct ms_writer *w = c->g->writer;
	uint64_t done;
	int r;

	if (!c->buflen)
		return 0;
	done = c->flushed + c->buflen - ch->start;
	if (w && !xf->small) {
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
	if (xf->small)
		r = get_small_write(xf, c->buf, c->buflen, c->flushed);
	else
		r = ms_pwrite_all(xf->fd, c->buf, c->buflen, c->flushed);
	if (r)
		return r;
	c->flushed += c->buflen;
	c->buflen = 0;
	if (xf->rs.chunk_size) {
		unsigned char b[8];

		ms_resume_counter_bytes(done, b);
		if (ms_pwrite_all(xf->state_fd, b, 8, ms_resume_counter_offset(c->chunk)))
			return errno ? errno : EIO;
	}
	get_chunk_landed(c->g, xf, c->chunk, done);
	return 0;
}

static bool check_response(struct conn *c)
{
	struct xfile *xf = c->xf;
	long status = 0;
	uint64_t s, en, total;

	curl_easy_getinfo(c->base.easy, CURLINFO_RESPONSE_CODE, &status);
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

	c->base.last_rx = ms_now();
	return ms_http_capture_header(&c->resp, p, size * n) ? 0 : size * n;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n;

	c->base.last_rx = ms_now();
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
		c->verdict_errno = get_conn_flush(c);
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
			c->buf = ms_writer_buffer(c->g->writer);

		if (take > len)
			take = len;
		memcpy(c->buf + c->buflen, p, take);
		c->buflen += take;
		c->off += take;
		p += take;
		len -= take;
		if (c->buflen == c->bufcap) {
			c->verdict_errno = get_conn_flush(c);
			if (c->verdict_errno) {
				c->verdict = V_STORAGE;
				return 0;
			}
		}
	}
	return size * n;
}

int get_conn_start(struct get *g, struct xfile *xf, uint32_t ci)
{
	const struct ms_engine_opts *o = g->e->o;
	struct chunk *ch = &xf->chunks[ci];
	struct conn *c = xcalloc(1, sizeof(*c));
	char range[64];
	CURL *h = engine_easy(g->e);

	if (!h) {
		free(c);
		return -1;
	}
	c->base.easy = h;
	c->g = g;
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
	if (c->bufcap && (!g->writer || xf->small))
		c->buf = xmalloc(c->bufcap); /* a small file's bytes are written here */

	curl_easy_reset(h);
	ms_http_setup_easy(h, o->net, c->url, c->base.errbuf);
	ms_http_read_ahead(h, o->net, c->url, o->tls_read_ahead);
	/* curl's low-speed check averages over seconds: the engine's stall check is exact */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 0L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	/*
	 * HTTP/1.1, one connection per transfer, kept alive: the way download
	 * accelerators and the official clients fetch.  One TCP stream carrying
	 * every range stalls them all on one loss, and on loopback HTTP/2 cost more
	 * on both ends: 4 x 512 MiB over TLS, 5 paired rounds, median 2.62 s against
	 * 3.00 s, client CPU 3.43 against 3.60 s.  Small files too: --max-workers
	 * bounds the streams in flight either way, and 2000 x 64 KiB over TLS took
	 * 0.66 s against 0.77 s on HTTP/2 (4 paired rounds, client CPU 0.51 against
	 * 0.54 s); the handshakes are one per kept connection.
	 */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
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
	if (engine_add(g->e, &c->base, c->url, &engine_get, g) < 0) {
		curl_slist_free_all(c->hdrs);
		free(c->buf); /* NULL unless allocated above */
		free(c->url);
		free(c);
		return -1;
	}
	ms_verbose("> GET %s%s%s", c->url, c->had_range ? " Range: bytes=" : "",
	           c->had_range ? range : "");
	ch->active = true;
	c->next = xf->conns;
	xf->conns = c;
	xf->nconns++;
	return 0;
}

void get_conn_free(struct get *g, struct conn *c)
{
	struct xfile *xf = c->xf;

	for (struct conn **pp = &xf->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	engine_remove(g->e, &c->base);
	curl_slist_free_all(c->hdrs);
	xf->chunks[c->chunk].active = false;
	xf->nconns--;
	if (c->buf && c->bufcap) {
		if (g->writer && !xf->small)
			ms_writer_put_buffer(g->writer, c->buf);
		else
			free(c->buf);
	}
	free(c->url);
	ms_http_response_release(&c->resp);
	ms_buf_release(&c->errbody);
	free(c);
}

void get_abort_conns(struct get *g, struct xfile *xf)
{
	struct conn *c;

	while ((c = xf->conns) != NULL) {
		xf->conns = c->next; /* popped here; conn_free finds it unlinked */
		xf->job->fetched += c->off - c->req_start; /* it arrived, even if it ends here */
		/* Keep what arrived: the next run resumes from it. */
		if (xf->fd >= 0 && !c->discard && c->checked && c->verdict == V_OK)
			get_conn_flush(c);
		get_conn_free(g, c);
	}
}
