/* Listings to and from JSON (the offline record of what a revision holds). */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mscli/hub.h"
#include "mscli/pathsafe.h"
#include "mscli/util.h"

bool ms_json_u64(const cJSON *v, uint64_t *out)
{
	/* a byte count: integral, not negative, exact in a double (2^53) */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
	    floor(v->valuedouble) != v->valuedouble)
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

bool ms_json_epoch(const cJSON *v, long *out)
{
	uint64_t t;

	if (!ms_json_u64(v, &t))
		return false;
	/* epoch seconds; tolerate milliseconds */
	*out = (long)(t > 100000000000ULL ? t / 1000 : t);
	return true;
}

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

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
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
	if (str(root, "revision"))
		out->revision = xstrdup(str(root, "revision"));
	if (str(root, "commit"))
		out->commit = xstrdup(str(root, "commit"));
	ca = cJSON_GetObjectItemCaseSensitive(root, "created_at");
	if (!ms_json_epoch(ca, &out->created_at))
		out->created_at = 0;
	cJSON_ArrayForEach(e, files)
	{
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
		const char *path = str(e, "path"), *d;
		struct ms_file *f;

		/* our own file, but a cache can be copied around: check again */
		uint64_t sz;

		if (!path || ms_path_check(path, &why) || !ms_json_u64(size, &sz))
			continue;
		f = ms_listing_add(out);
		f->path = xstrdup(path);
		f->size = sz;
		if ((d = str(e, "sha256")) && ms_hash_algo_for_hex(d) == MS_HASH_SHA256) {
			f->algo = MS_HASH_SHA256;
			strcpy(f->digest, d);
		} else if ((d = str(e, "git-sha1")) && ms_hash_algo_for_hex(d) == MS_HASH_GITSHA1) {
			f->algo = MS_HASH_GITSHA1;
			strcpy(f->digest, d);
		}
		if (str(e, "revision"))
			f->revision = xstrdup(str(e, "revision"));
		if (str(e, "etag"))
			f->etag = xstrdup(str(e, "etag"));
		f->lfs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "lfs"));
	}
	cJSON_Delete(root);
	return 0;
}
