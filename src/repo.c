/* Repos, files and listings, and listings to and from JSON (the offline record of what a
 * revision holds). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/index.h"
#include "mscli/json.h"
#include "mscli/pathsafe.h"
#include "mscli/repo.h"
#include "mscli/strbuf.h"

const char *ms_repo_type_name(enum ms_repo_type t)
{
	return t == MS_REPO_DATASET ? "dataset" : "model";
}

int ms_repo_type_parse(const char *s, enum ms_repo_type *out)
{
	if (!strcmp(s, "model"))
		*out = MS_REPO_MODEL;
	else if (!strcmp(s, "dataset"))
		*out = MS_REPO_DATASET;
	else
		return -1;
	return 0;
}

void ms_repo_release(struct ms_repo *r)
{
	free(r->endpoint);
	free(r->file);
	free(r->id);
	free(r->owner);
	free(r->name);
	free(r->revision);
	memset(r, 0, sizeof(*r));
}

struct ms_file *ms_listing_add(struct ms_listing *l)
{
	struct ms_file *f;

	if (!l->index)
		l->index = xcalloc(1, sizeof(*l->index));
	ms_grow((void **)&l->files, &l->cap, l->n + 1, sizeof(*l->files));
	f = &l->files[l->n++];
	memset(f, 0, sizeof(*f));
	return f;
}

static const char *file_key(const void *base, size_t i)
{
	return ((const struct ms_file *)base)[i].path;
}

/* Hashed: a listing of 100k files is parsed in linear time (each entry is looked up). */
struct ms_file *ms_listing_find(const struct ms_listing *l, const char *path)
{
	size_t i;

	if (!l->n || !l->index)
		return NULL;
	i = ms_index_find(l->index, l->files, l->n, file_key, path);
	return i == SIZE_MAX ? NULL : &l->files[i];
}

void ms_file_release(struct ms_file *f)
{
	free(f->path);
	free(f->revision);
	free(f->etag);
	free(f->oid);
	free(f->location);
	memset(f, 0, sizeof(*f));
}

void ms_file_copy(struct ms_file *dst, const struct ms_file *src)
{
	*dst = *src;
	dst->path = xstrdup(src->path);
	dst->revision = src->revision ? xstrdup(src->revision) : NULL;
	dst->etag = src->etag ? xstrdup(src->etag) : NULL;
	dst->oid = src->oid ? xstrdup(src->oid) : NULL;
	dst->location = src->location ? xstrdup(src->location) : NULL;
}

void ms_listing_release(struct ms_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		ms_file_release(&l->files[i]);
	free(l->files);
	if (l->index)
		ms_index_release(l->index);
	free(l->index);
	free(l->revision);
	free(l->commit);
	memset(l, 0, sizeof(*l));
}

bool ms_listing_has_folder(const struct ms_listing *l, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->files[i].path, name, n) && l->files[i].path[n] == '/')
			return true;
	return false;
}

/* Written directly, not through a cJSON tree: a 2000-file listing is ~12000
 * nodes, each a malloc, and the record is written before a download's first
 * request.  The bytes are cJSON's (its key order, integers as integers). */
char *ms_listing_to_json(const struct ms_listing *l)
{
	struct ms_buf b = MS_BUF_INIT;

	ms_buf_adds(&b, "{\"files\":[");
	for (size_t i = 0; i < l->n; i++) {
		const struct ms_file *f = &l->files[i];

		ms_buf_adds(&b, i ? ",{\"path\":" : "{\"path\":");
		ms_json_quote(&b, f->path);
		ms_buf_addf(&b, ",\"size\":%llu", (unsigned long long)f->size);
		if (f->digest[0]) {
			ms_buf_addf(&b, ",\"%s\":", ms_hash_name(f->algo));
			ms_json_quote(&b, f->digest);
		}
		if (f->revision) {
			ms_buf_adds(&b, ",\"revision\":");
			ms_json_quote(&b, f->revision);
		}
		if (f->etag) {
			ms_buf_adds(&b, ",\"etag\":");
			ms_json_quote(&b, f->etag);
		}
		if (f->lfs)
			ms_buf_adds(&b, ",\"lfs\":true");
		ms_buf_addch(&b, '}');
	}
	ms_buf_adds(&b, "],\"format\":1,\"revision\":");
	ms_json_quote(&b, l->revision ? l->revision : "");
	if (l->commit) {
		ms_buf_adds(&b, ",\"commit\":");
		ms_json_quote(&b, l->commit);
	}
	if (l->created_at)
		ms_buf_addf(&b, ",\"created_at\":%lld", (long long)l->created_at);
	ms_buf_addch(&b, '}');
	return ms_buf_detach(&b);
}

int ms_listing_from_json(const char *json, size_t len, struct ms_listing *out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *files, *e, *ca;
	const char *why;

	if (!root)
		return -1;
	files = cJSON_GetObjectItemCaseSensitive(root, "files");
	if (!cJSON_IsArray(files)) {
		cJSON_Delete(root);
		return -1;
	}
	if (ms_json_string(root, "revision"))
		out->revision = xstrdup(ms_json_string(root, "revision"));
	if (ms_json_string(root, "commit"))
		out->commit = xstrdup(ms_json_string(root, "commit"));
	ca = cJSON_GetObjectItemCaseSensitive(root, "created_at");
	if (!ms_json_epoch(ca, &out->created_at))
		out->created_at = 0;
	cJSON_ArrayForEach(e, files)
	{
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
		const char *path = ms_json_string(e, "path"), *d;
		struct ms_file *f;

		/* our own file, but a cache can be copied around: check again */
		uint64_t sz;

		if (!path || ms_path_check(path, &why) || !ms_json_u64(size, &sz))
			continue;
		f = ms_listing_add(out);
		f->path = xstrdup(path);
		f->size = sz;
		if ((d = ms_json_string(e, "sha256")) &&
		    ms_hash_algo_for_hex(d) == MS_HASH_SHA256) {
			f->algo = MS_HASH_SHA256;
			strcpy(f->digest, d);
		} else if ((d = ms_json_string(e, "git-sha1")) &&
		           ms_hash_algo_for_hex(d) == MS_HASH_GITSHA1) {
			f->algo = MS_HASH_GITSHA1;
			strcpy(f->digest, d);
		}
		if (ms_json_string(e, "revision"))
			f->revision = xstrdup(ms_json_string(e, "revision"));
		if (ms_json_string(e, "etag"))
			f->etag = xstrdup(ms_json_string(e, "etag"));
		f->lfs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "lfs"));
	}
	cJSON_Delete(root);
	return 0;
}

void ms_repo_meta_init(struct ms_repo_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->downloads = m->likes = -1;
}

void ms_repo_meta_add_tag(struct ms_repo_meta *m, const char *tag)
{
	m->tags = xrealloc(m->tags, (m->ntags + 1) * sizeof(*m->tags));
	m->tags[m->ntags++] = xstrdup(tag);
}

int ms_repo_meta_from_json(struct ms_repo_meta *m, const cJSON *o, enum ms_repo_type type,
                           const char *what, struct ms_error *err)
{
	const char *id = ms_json_string(o, "id");
	const cJSON *tag;

	if (!cJSON_IsObject(o) || !id)
		return ms_error_set(err, MS_EPROTO, "%s: an entry has no id", what);
	m->id = xstrdup(id);
	m->type = type;
	m->downloads = ms_json_count(o, "downloads");
	m->likes = ms_json_count(o, "likes");
	cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(o, "tags"))
	{
		if (cJSON_IsString(tag))
			ms_repo_meta_add_tag(m, tag->valuestring);
	}
	m->is_private = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "private"));
	m->raw = ms_json_text(o);
	return 0;
}

void ms_repo_meta_release(struct ms_repo_meta *m)
{
	for (size_t i = 0; i < m->ntags; i++)
		free(m->tags[i]);
	free(m->tags);
	free(m->id);
	free(m->last_modified);
	free(m->task);
	free(m->commit);
	free(m->raw);
	ms_repo_meta_init(m);
}

struct ms_repo_meta *ms_meta_list_add(struct ms_meta_list *l)
{
	ms_grow((void **)&l->items, &l->cap, l->n + 1, sizeof(*l->items));
	ms_repo_meta_init(&l->items[l->n]);
	return &l->items[l->n++];
}

void ms_meta_list_release(struct ms_meta_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ms_repo_meta_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}
