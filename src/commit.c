/*
 * The data of an upload (commit.h): releasing it, the account's namespaces,
 * and commit bodies streamed from the files they inline.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/base64.h"
#include "mscli/commit.h"
#include "mscli/json.h"

/* Raw bytes read per step: a multiple of 3, so each step's base64 stands alone. */
#define RAW_STEP (48u << 10)

void ms_account_release(struct ms_account *a)
{
	free(a->name);
	free(a->email);
	free(a->token_name);
	free(a->role);
	for (size_t i = 0; i < a->norgs; i++)
		free(a->orgs[i]);
	free(a->orgs);
	memset(a, 0, sizeof(*a));
}

bool ms_account_owns(const struct ms_account *a, const char *owner)
{
	if (!a->name || !a->orgs_known || !strcmp(a->name, owner))
		return true;
	for (size_t i = 0; i < a->norgs; i++)
		if (!strcmp(a->orgs[i], owner))
			return true;
	return false;
}

void ms_upload_target_free(struct ms_upload_target *t)
{
	if (!t)
		return;
	free(t->href);
	for (size_t i = 0; i < t->nparts; i++) {
		free(t->part_urls[i]);
		if (t->etags)
			free(t->etags[i]);
	}
	free(t->part_urls);
	free(t->etags);
	free(t->verify_href);
	ms_buf_release(&t->answer);
	free(t);
}

void ms_commit_result_release(struct ms_commit_result *r)
{
	free(r->id);
	free(r->url);
	r->id = r->url = NULL;
}

cJSON *ms_lfs_batch_request(struct ms_upfile **files, size_t n)
{
	cJSON *body = cJSON_CreateObject(), *objs;

	cJSON_AddStringToObject(body, "operation", "upload");
	objs = cJSON_AddArrayToObject(body, "objects");
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "oid", files[i]->oid);
		cJSON_AddNumberToObject(o, "size", (double)files[i]->size);
		cJSON_AddItemToArray(objs, o);
	}
	return body;
}

void ms_body_init(struct ms_body *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

static struct ms_body_part *new_part(struct ms_body *b)
{
	ms_grow((void **)&b->v, &b->cap, b->n + 1, sizeof(*b->v));
	memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
	return &b->v[b->n++];
}

static void add_text(struct ms_body *b, const char *s, size_t n)
{
	struct ms_body_part *p = b->n && b->v[b->n - 1].text ? &b->v[b->n - 1] : NULL;

	if (!p) {
		p = new_part(b);
		p->text = xstrdup("");
	}
	p->text = xrealloc(p->text, p->len + n + 1);
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
	b->size += n;
}

void ms_body_text(struct ms_body *b, const char *s)
{
	add_text(b, s, strlen(s));
}

void ms_body_json(struct ms_body *b, const char *s)
{
	struct ms_buf q = MS_BUF_INIT;

	ms_json_quote(&q, s);
	add_text(b, q.data, q.len);
	ms_buf_release(&q);
}

void ms_body_file_base64(struct ms_body *b, const char *path, uint64_t size, enum ms_hash_algo algo,
                         const char *expect)
{
	struct ms_body_part *p = new_part(b);

	p->path = xstrdup(path);
	p->size = size;
	p->algo = algo;
	snprintf(p->expect, sizeof(p->expect), "%s", expect ? expect : "");
	b->size += ms_base64_len(size);
}

/* The next piece of the current file, as base64 in b->out: 0, 1 at its end, -1 failed. */
static int next_piece(struct ms_body *b, struct ms_body_part *p, unsigned char *raw)
{
	struct ms_hasher *h = b->hasher;
	size_t want = p->size - b->off < RAW_STEP ? (size_t)(p->size - b->off) : RAW_STEP, got = 0;
	char hex[MS_HEX_MAX];

	if (b->fd < 0) {
		if ((b->fd = open(p->path, O_RDONLY | O_CLOEXEC)) < 0) {
			ms_error_errno(&b->err, errno, "cannot open", p->path);
			return -1;
		}
		h = b->hasher = xcalloc(1, sizeof(*h));
		ms_hasher_init(h, p->algo ? p->algo : MS_HASH_SHA256, p->size);
	}
	while (got < want) {
		ssize_t r = read(b->fd, raw + got, want - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				ms_error_errno(&b->err, errno, "cannot read", p->path);
			else
				ms_error_set(&b->err, MS_EFAIL,
				             "'%s' became shorter since it was hashed", p->path);
			return -1;
		}
		got += (size_t)r;
	}
	ms_hasher_update(h, raw, got);
	b->off += got;
	b->out.len = 0;
	b->out_off = 0;
	ms_base64_encode(raw, got, &b->out);
	if (b->off < p->size)
		return 0;
	ms_hasher_final(h, hex);
	ms_hasher_release(h);
	free(h);
	b->hasher = NULL;
	close(b->fd);
	b->fd = -1;
	if (p->expect[0] && strcmp(hex, p->expect)) {
		ms_error_set(&b->err, MS_EFAIL, "'%s' changed since it was hashed; upload again",
		             p->path);
		return -1;
	}
	return 1;
}

size_t ms_body_read(void *arg, char *buf, size_t n)
{
	struct ms_body *b = arg;
	size_t filled = 0, take;

	while (filled < n && b->cur < b->n) {
		struct ms_body_part *p = &b->v[b->cur];

		if (b->out_off < b->out.len) {
			take = b->out.len - b->out_off < n - filled ? b->out.len - b->out_off
			                                            : n - filled;
			memcpy(buf + filled, b->out.data + b->out_off, take);
			b->out_off += take;
			filled += take;
			continue;
		}
		if (p->text && b->off < p->len) {
			take = p->len - b->off < n - filled ? (size_t)(p->len - b->off)
			                                    : n - filled;
			memcpy(buf + filled, p->text + b->off, take);
			b->off += take;
			filled += take;
			continue;
		}
		if (!p->text && !b->part_done) {
			int r;

			if (!b->raw)
				b->raw = xmalloc(RAW_STEP);
			if ((r = next_piece(b, p, b->raw)) < 0)
				return SIZE_MAX;
			b->part_done = r == 1;
			continue;
		}
		b->cur++;
		b->off = 0;
		b->part_done = false;
	}
	return filled;
}

void ms_body_release(struct ms_body *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].text);
		free(b->v[i].path);
	}
	free(b->v);
	if (b->fd >= 0)
		close(b->fd);
	if (b->hasher) {
		ms_hasher_release(b->hasher);
		free(b->hasher);
	}
	ms_buf_release(&b->out);
	free(b->raw);
	ms_body_init(b);
}
