/*
 * What the two Hugging Face layouts (the cache and --local-dir) share: the
 * tree record trees/<commit>.json in huggingface_hub's format
 * (_tree_cache.py), the CACHEDIR.TAG, and a walk of a snapshot's files.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/fs.h"
#include "mscli/json.h"
#include "mscli/pathsafe.h"
#include "mscli/store-hf.h"

static const char cachedir_tag[] =
        "Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by huggingface_hub.\n"
        "# For information about cache directory tags, see:\n"
        "#\thttps://bford.info/cachedir/\n";

int ms_hf_cachedir_tag(const char *dir, struct ms_error *err)
{
	char *tag = ms_path_join(dir, "CACHEDIR.TAG");
	int ret = ms_mkdirs(dir, 0755, err);

	if (!ret && access(tag, F_OK) != 0)
		ret = ms_write_file_atomic(tag, cachedir_tag, sizeof(cachedir_tag) - 1, 0644, err);
	free(tag);
	return ret;
}

int ms_hf_tree_read(const char *dir, const char *commit, struct ms_listing *out)
{
	char *name = xasprintf("%s.json", commit), *path = xasprintf("%s/trees/%s", dir, name),
	     *data = NULL;
	const cJSON *files, *e, *ver;
	cJSON *root = NULL;
	size_t len;
	int ret = -1;

	if (ms_read_file(path, 512u << 20, &data, &len, NULL) != 0)
		goto out;
	root = cJSON_ParseWithLength(data, len);
	ver = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	files = cJSON_GetObjectItemCaseSensitive(root, "files");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != 1 || !cJSON_IsObject(files))
		goto out;
	cJSON_ArrayForEach(e, files)
	{
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
		const cJSON *blob = cJSON_GetObjectItemCaseSensitive(e, "blob_id");
		const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs_sha256");
		const char *why;
		struct ms_file *f;

		uint64_t sz;

		if (!e->string || ms_path_check(e->string, &why) || !ms_json_u64(size, &sz) ||
		    !cJSON_IsString(blob))
			goto out;
		f = ms_listing_add(out);
		f->path = xstrdup(e->string);
		f->size = sz;
		if (cJSON_IsString(lfs) &&
		    ms_hash_algo_for_hex(lfs->valuestring) == MS_HASH_SHA256) {
			f->algo = MS_HASH_SHA256;
			f->lfs = true;
			strcpy(f->digest, lfs->valuestring);
		} else if (ms_hash_algo_for_hex(blob->valuestring) == MS_HASH_GITSHA1) {
			f->algo = MS_HASH_GITSHA1;
			strcpy(f->digest, blob->valuestring);
		} else {
			goto out;
		}
		f->etag = xstrdup(f->digest);
		f->oid = xstrdup(blob->valuestring);
	}
	out->commit = xstrdup(commit);
	ret = 0;
out:
	if (ret)
		ms_listing_release(out);
	cJSON_Delete(root);
	free(data);
	free(path);
	free(name);
	return ret;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct ms_file *const *)a)->path,
	              (*(const struct ms_file *const *)b)->path);
}

int ms_hf_tree_write(const char *dir, const struct ms_listing *l, struct ms_error *err)
{
	cJSON *root = cJSON_CreateObject(), *files;
	const struct ms_file **sorted = xcalloc(l->n + 1, sizeof(*sorted));
	char *trees = ms_path_join(dir, "trees"), *name = xasprintf("%s.json", l->commit), *path,
	     *text;
	int ret;

	for (size_t i = 0; i < l->n; i++) {
		/* a listing from HEADs has no tree oids: it is not a tree, write nothing */
		if (!l->files[i].oid) {
			ret = 0;
			path = NULL;
			text = NULL;
			goto out;
		}
		sorted[i] = &l->files[i];
	}
	qsort(sorted, l->n, sizeof(*sorted), path_cmp);
	cJSON_AddNumberToObject(root, "format_version", 1);
	files = cJSON_AddObjectToObject(root, "files");
	for (size_t i = 0; i < l->n; i++) {
		cJSON *o = cJSON_AddObjectToObject(files, sorted[i]->path);

		cJSON_AddNumberToObject(o, "size", (double)sorted[i]->size);
		cJSON_AddStringToObject(o, "blob_id", sorted[i]->oid);
		if (sorted[i]->lfs) {
			cJSON_AddStringToObject(o, "lfs_sha256", sorted[i]->digest);
			cJSON_AddNumberToObject(o, "lfs_size", (double)sorted[i]->size);
		}
	}
	text = cJSON_Print(root);
	path = ms_path_join(trees, name);
	ret = ms_mkdirs(trees, 0755, err);
	/* whole and atomic: a partial tree would make offline readers fail */
	if (!ret)
		ret = ms_write_file_atomic(path, text, strlen(text), 0644, err);
	cJSON_free(text);
	text = NULL;
out:
	cJSON_Delete(root);
	free(sorted);
	free(trees);
	free(name);
	free(path);
	return ret;
}

void ms_hf_walk_files(const char *top, const char *rel, struct ms_listing *out)
{
	char *dirpath = rel ? ms_path_join(top, rel) : xstrdup(top);
	DIR *d = opendir(dirpath);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		char *r, *full;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rel ? ms_path_join(rel, de->d_name) : xstrdup(de->d_name);
		full = ms_path_join(top, r);
		if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			ms_hf_walk_files(top, r, out);
		} else if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode)) {
			struct ms_file *f = ms_listing_add(out);
			char target[PATH_MAX];
			ssize_t n = readlink(full, target, sizeof(target) - 1);
			const char *etag;

			f->path = xstrdup(r);
			f->size = (uint64_t)sb.st_size;
			/* a pointer names its blob, and the blob's name is the etag */
			if (n > 0) {
				target[n] = '\0';
				etag = strstr(target, "blobs/");
				if (etag && *(etag += 6) && !strchr(etag, '/')) {
					f->etag = xstrdup(etag);
					f->algo = ms_hash_algo_for_hex(etag);
					if (f->algo != MS_HASH_NONE)
						strcpy(f->digest, etag);
					f->lfs = f->algo == MS_HASH_SHA256;
				}
			}
		}
		free(r);
		free(full);
	}
	if (d)
		closedir(d);
	free(dirpath);
}
