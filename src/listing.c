/* Listings to and from JSON (the offline record of what a revision holds). */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/hub.h"
#include "mscli/json.h"
#include "mscli/pathsafe.h"

char *ms_listing_to_json(const struct ms_listing *l)
{
	cJSON *root = cJSON_CreateObject(), *files = cJSON_AddArrayToObject(root, "files");
	char *out, *copy;

	cJSON_AddNumberToObject(root, "format", 1);
	cJSON_AddStringToObject(root, "revision", l->revision ? l->revision : "");
	if (l->commit)
		cJSON_AddStringToObject(root, "commit", l->commit);
	if (l->created_at)
		cJSON_AddNumberToObject(root, "created_at", (double)l->created_at);
	for (size_t i = 0; i < l->n; i++) {
		const struct ms_file *f = &l->files[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "path", f->path);
		cJSON_AddNumberToObject(o, "size", (double)f->size);
		if (f->digest[0])
			cJSON_AddStringToObject(o, ms_hash_name(f->algo), f->digest);
		if (f->revision)
			cJSON_AddStringToObject(o, "revision", f->revision);
		if (f->etag)
			cJSON_AddStringToObject(o, "etag", f->etag);
		if (f->lfs)
			cJSON_AddTrueToObject(o, "lfs");
		cJSON_AddItemToArray(files, o);
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	copy = xstrdup(out);
	cJSON_free(out);
	return copy;
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
