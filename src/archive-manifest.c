/* The manifest of a bundle, both ways, and its checks (archive-manifest.h). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/archive-manifest.h"
#include "mscli/index.h"
#include "mscli/json.h"
#include "mscli/parse.h"
#include "mscli/pathsafe.h"
#include "mscli/strbuf.h"

#define BUNDLE_FORMAT "mscli-bundle"

/* ---- the manifest ---- */

static const char *entry_path(const void *base, size_t i)
{
	return ((const struct ms_mentry *)base)[i].path;
}

struct ms_mentry *ms_manifest_find(struct ms_manifest *m, const char *path)
{
	size_t i = ms_index_find(&m->ix, m->e, m->n, entry_path, path);

	return i == SIZE_MAX ? NULL : &m->e[i];
}

struct ms_mentry *ms_manifest_add(struct ms_manifest *m, size_t repo, char *path)
{
	struct ms_mentry *e;

	ms_grow((void **)&m->e, &m->cap, m->n + 1, sizeof(*m->e));
	e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->repo = repo;
	return e;
}

void ms_manifest_release(struct ms_manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].path);
		free(m->e[i].link);
		free(m->e[i].disk);
	}
	for (size_t i = 0; i < m->nrepos; i++) {
		ms_repo_release(&m->repos[i].repo);
		cJSON_Delete(m->repos[i].revisions);
	}
	free(m->repos);
	free(m->e);
	ms_index_release(&m->ix);
	memset(m, 0, sizeof(*m));
}

static int mentry_cmp(const void *a, const void *b)
{
	const struct ms_mentry *x = a, *y = b;

	if (x->repo != y->repo)
		return x->repo < y->repo ? -1 : 1;
	return strcmp(x->path, y->path);
}

static cJSON *revisions_json(const struct ms_mrepo *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; r->stat && i < r->stat->nrevs; i++) {
		const struct ms_cache_rev *v = &r->stat->revs[i];
		cJSON *o, *refs;

		if (r->rev && ms_cache_stat_find(r->stat, r->rev) != v)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "revision",
		                        v->nrefs  ? v->refs[0]
		                        : v->name ? v->name
		                                  : "");
		if (v->name && ms_is_commit_id(v->name))
			cJSON_AddStringToObject(o, "commit", v->name);
		refs = cJSON_AddArrayToObject(o, "refs");
		for (size_t j = 0; j < v->nrefs; j++)
			cJSON_AddItemToArray(refs, cJSON_CreateString(v->refs[j]));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

char *ms_manifest_to_json(const struct ms_manifest *m)
{
	cJSON *root = cJSON_CreateObject(), *repos;
	char *text, *out;
	size_t k = 0;

	cJSON_AddStringToObject(root, "format", BUNDLE_FORMAT);
	cJSON_AddNumberToObject(root, "version", 1);
	repos = cJSON_AddArrayToObject(root, "repos");
	for (size_t i = 0; i < m->nrepos; i++) {
		const struct ms_mrepo *r = &m->repos[i];
		cJSON *o = cJSON_CreateObject(), *entries;
		uint64_t size = 0;
		size_t files = 0;

		cJSON_AddStringToObject(o, "hub", r->repo.hub->name);
		cJSON_AddStringToObject(o, "type", ms_repo_type_name(r->repo.type));
		cJSON_AddStringToObject(o, "id", r->repo.id);
		cJSON_AddItemToObject(o, "revisions", revisions_json(r));
		entries = cJSON_CreateArray();
		for (; k < m->n && m->e[k].repo == i; k++) {
			const struct ms_mentry *e = &m->e[k];
			cJSON *eo = cJSON_CreateObject();

			cJSON_AddStringToObject(eo, "path", e->path);
			if (e->link) {
				cJSON_AddStringToObject(eo, "link", e->link);
			} else {
				cJSON_AddNumberToObject(eo, "size", (double)e->size);
				cJSON_AddStringToObject(eo, ms_hash_name(e->algo), e->digest);
				size += e->size;
				files++;
			}
			cJSON_AddItemToArray(entries, eo);
		}
		cJSON_AddNumberToObject(o, "files", (double)files);
		cJSON_AddNumberToObject(o, "size", (double)size);
		cJSON_AddItemToObject(o, "entries", entries);
		cJSON_AddItemToArray(repos, o);
	}
	text = cJSON_PrintUnformatted(root);
	out = xstrdup(text);
	cJSON_free(text);
	cJSON_Delete(root);
	return out;
}

void ms_manifest_sort(struct ms_manifest *m)
{
	if (m->n)
		qsort(m->e, m->n, sizeof(*m->e), mentry_cmp);
}

/* ---- reading it back ---- */

static int bad_manifest(struct ms_error *err, const char *why, const char *what)
{
	return ms_error_set(err, MS_EUNSAFE, "the bundle's manifest is not usable: %s%s%s%s", why,
	                    what ? " ('" : "", what ? what : "", what ? "')" : "");
}

/* hub, type and id of one repo of the manifest, checked as a REPO argument would be. */
static int parse_repo(const cJSON *o, struct ms_mrepo *r, struct ms_error *err)
{
	const char *hub = ms_json_string(o, "hub"), *type = ms_json_string(o, "type"),
	           *id = ms_json_string(o, "id");
	const struct ms_hub *h = hub ? ms_hub_find(hub) : NULL;
	enum ms_repo_type t;
	struct ms_error e;
	char *spec;
	int ret;

	if (!h || !h->cache_store || strcmp(h->name, hub))
		return bad_manifest(err, "unknown hub", hub);
	if (!type || ms_repo_type_parse(type, &t))
		return bad_manifest(err, "unknown repo type", type);
	if (!id || strchr(id, '@') || strchr(id, ':'))
		return bad_manifest(err, "not a repo id", id);
	spec = xasprintf("%s:%s", h->name, id);
	ret = ms_repo_parse(spec, h, true, (int)t, &r->repo, &e);
	free(spec);
	if (ret || r->repo.revision || strcmp(r->repo.id, id)) {
		ms_repo_release(&r->repo);
		return bad_manifest(err, "not a repo id", id);
	}
	r->revisions = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "revisions"), 1);
	return 0;
}

static int parse_entry(struct ms_manifest *m, size_t repo, const cJSON *eo, struct ms_error *err)
{
	const char *path = ms_json_string(eo, "path"), *link = ms_json_string(eo, "link"), *why;
	const char *hub = m->repos[repo].repo.hub->name, *d;
	struct ms_mentry *e;
	uint64_t size;

	if (!path || ms_path_check(path, &why))
		return bad_manifest(err, "an unsafe path", path);
	if (strncmp(path, hub, strlen(hub)) || path[strlen(hub)] != '/')
		return bad_manifest(err, "a path outside its hub's part", path);
	if (ms_manifest_find(m, path))
		return bad_manifest(err, "a path given twice", path);
	e = ms_manifest_add(m, repo, xstrdup(path));
	if (link) {
		e->link = xstrdup(link);
		return 0;
	}
	if (!ms_json_u64(cJSON_GetObjectItemCaseSensitive(eo, "size"), &size))
		return bad_manifest(err, "a file without a size", path);
	e->size = size;
	if ((d = ms_json_string(eo, "sha256")) && ms_hash_algo_for_hex(d) == MS_HASH_SHA256)
		e->algo = MS_HASH_SHA256;
	else if ((d = ms_json_string(eo, "git-sha1")) && ms_hash_algo_for_hex(d) == MS_HASH_GITSHA1)
		e->algo = MS_HASH_GITSHA1;
	else
		return bad_manifest(err, "a file without a digest", path);
	strcpy(e->digest, d);
	ms_lowercase(e->digest);
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first of the sorted paths at or after key. */
static size_t lower_bound(char **v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Is p a path of repo's entries, or a directory above one of them? */
static bool in_repo(const struct ms_manifest *m, char **sorted, size_t *owner, const char *p,
                    size_t repo)
{
	char *dir = xasprintf("%s/", p);
	size_t i = lower_bound(sorted, m->n, p), j = lower_bound(sorted, m->n, dir);
	bool yes = (i < m->n && !strcmp(sorted[i], p) && owner[i] == repo) ||
	           (j < m->n && !strncmp(sorted[j], dir, strlen(dir)) && owner[j] == repo);

	free(dir);
	return yes;
}

char *ms_bundle_resolve_link(const char *path, const char *target)
{
	struct ms_buf b = MS_BUF_INIT;
	char *dir, *copy, *save = NULL;
	bool bad = false;

	if (!*target || target[0] == '/')
		return NULL;
	dir = xstrdup(path);
	*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
	ms_buf_adds(&b, dir);
	copy = xstrdup(target);
	for (char *seg = strtok_r(copy, "/", &save); seg && !bad;
	     seg = strtok_r(NULL, "/", &save)) {
		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			char *slash = b.len ? strrchr(b.data, '/') : NULL;

			if (!b.len)
				bad = true; /* above the top of the bundle */
			b.len = slash ? (size_t)(slash - b.data) : 0;
			if (b.data)
				b.data[b.len] = '\0';
			continue;
		}
		ms_buf_addf(&b, "%s%s", b.len ? "/" : "", seg);
	}
	free(copy);
	free(dir);
	if (bad || !b.len) {
		ms_buf_release(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/*
 * Symlinks lead to a file or a folder of their own repo, never through another symlink
 * (nothing may sit below a link).
 */
static int check_links(struct ms_manifest *m, struct ms_error *err)
{
	char **sorted = xcalloc(m->n + 1, sizeof(*sorted));
	size_t *owner = xcalloc(m->n + 1, sizeof(*owner));
	int ret = 0;

	for (size_t i = 0; i < m->n; i++)
		sorted[i] = m->e[i].path;
	qsort(sorted, m->n, sizeof(*sorted), str_cmp);
	for (size_t i = 0; i < m->n; i++)
		owner[i] = ms_manifest_find(m, sorted[i])->repo;
	for (size_t i = 0; i < m->n && !ret; i++) {
		const struct ms_mentry *e = &m->e[i];
		char *to, *below;
		size_t j;

		if (!e->link)
			continue;
		to = ms_bundle_resolve_link(e->path, e->link);
		below = xasprintf("%s/", e->path);
		j = lower_bound(sorted, m->n, below);
		if (!to || !in_repo(m, sorted, owner, to, e->repo))
			ret = bad_manifest(err, "a symlink that leads out of its repo", e->path);
		else if (j < m->n && !strncmp(sorted[j], below, strlen(below)))
			ret = bad_manifest(err, "a path below a symlink", sorted[j]);
		free(to);
		free(below);
	}
	free(sorted);
	free(owner);
	return ret;
}

int ms_manifest_from_json(const char *json, size_t len, const struct ms_cache_scope *sc,
                          struct ms_manifest *m, struct ms_error *err)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *repos = cJSON_GetObjectItemCaseSensitive(root, "repos"), *ro, *eo;
	const char *fmt = ms_json_string(root, "format");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	int ret = 0;

	if (!root || !fmt || strcmp(fmt, BUNDLE_FORMAT) || !cJSON_IsNumber(ver) ||
	    !cJSON_IsArray(repos))
		ret = ms_error_set(err, MS_EFAIL, "not an mscli bundle (its manifest is not one)");
	else if (ver->valuedouble != 1)
		ret = ms_error_set(err, MS_EFAIL,
		                   "a bundle of version %g: this mscli reads version 1",
		                   ver->valuedouble);
	m->repos = xcalloc((size_t)cJSON_GetArraySize(repos) + 1, sizeof(*m->repos));
	cJSON_ArrayForEach(ro, repos)
	{
		struct ms_mrepo *r = &m->repos[m->nrepos];
		const cJSON *entries = cJSON_GetObjectItemCaseSensitive(ro, "entries");

		if (ret || (ret = parse_repo(ro, r, err)) != 0)
			break;
		m->nrepos++;
		r->skip = sc->hub && r->repo.hub != sc->hub; /* --hub: read past it */
		if (!cJSON_IsArray(entries)) {
			ret = bad_manifest(err, "a repo without entries", r->repo.id);
			break;
		}
		cJSON_ArrayForEach(eo, entries) if (!ret) ret =
		        parse_entry(m, m->nrepos - 1, eo, err);
	}
	if (!ret)
		ret = check_links(m, err);
	cJSON_Delete(root);
	return ret;
}
