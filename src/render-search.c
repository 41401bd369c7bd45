/*
 * What search and info show on stdout: tables fitted to a terminal,
 * tab-separated lines into a pipe (every column, exact numbers), or JSON
 * lines whose fields are the same on every hub.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/info.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/search.h"
#include "mscli/strbuf.h"
#include "mscli/table.h"

static void json_count(struct ms_json *j, const char *key, long long v)
{
	if (v < 0)
		ms_json_str(j, key, NULL);
	else
		ms_json_num(j, key, (double)v);
}

/* The normalized fields of a repo, the same on every hub; the caller adds and emits. */
static struct ms_json *meta_json(const struct ms_repo_meta *m, const char *hub, const char *id)
{
	struct ms_json *j = ms_json_begin("repo");

	ms_json_str(j, "hub", hub);
	ms_json_str(j, "id", m->id ? m->id : id);
	ms_json_str(j, "type", ms_repo_type_name(m->type));
	json_count(j, "downloads", m->downloads);
	json_count(j, "likes", m->likes);
	ms_json_str(j, "last_modified", m->last_modified);
	ms_json_str(j, "task", m->task);
	ms_json_strv(j, "tags", m->tags, m->ntags);
	ms_json_bool(j, "private", m->is_private);
	ms_json_bool(j, "gated", m->gated);
	return j;
}

/* A count in a cell: "-" on a terminal when the hub did not tell, empty in a pipe. */
static void count_cell(struct ms_table *t, size_t col, long long v, bool tty)
{
	if (v >= 0)
		ms_table_addf(t, col, "%lld", v);
	else
		ms_table_addf(t, col, "%s", tty ? "-" : "");
}

/* The task, else the tags, comma-separated. */
static char *task_or_tags(const struct ms_repo_meta *m)
{
	struct ms_buf b = MS_BUF_INIT;

	if (m->task)
		ms_buf_adds(&b, m->task);
	for (size_t i = 0; !m->task && i < m->ntags; i++)
		ms_buf_addf(&b, "%s%s", i ? "," : "", m->tags[i]);
	ms_buf_adds(&b, "");
	return ms_buf_detach(&b);
}

void ms_render_search(const struct ms_search_results *r, const char *hub, bool json, bool tty)
{
	/* on a narrow terminal LIKES goes first, then UPDATED, then DOWNLOADS */
	static const struct ms_column cols[] = {{"ID", false, 0, 24},
	                                        {"DOWNLOADS", true, 2, 0},
	                                        {"LIKES", true, 4, 0},
	                                        {"UPDATED", false, 3, 0},
	                                        {"TASK/TAGS", false, 1, 12}};
	struct ms_table *t;

	if (json) {
		for (size_t i = 0; i < r->list.n; i++) {
			struct ms_json *j = meta_json(&r->list.items[i], hub, NULL);

			ms_json_raw(j, "raw", r->list.items[i].raw);
			ms_json_emit(j, stdout);
		}
		return;
	}
	t = ms_table_new(cols, MS_ARRAY_SIZE(cols));
	for (size_t i = 0; i < r->list.n; i++) {
		const struct ms_repo_meta *m = &r->list.items[i];
		const char *mod = m->last_modified;
		char *tags = task_or_tags(m);

		ms_table_addf(t, 0, "%s", m->id);
		count_cell(t, 1, m->downloads, tty);
		count_cell(t, 2, m->likes, tty);
		/* the day on a terminal; the whole time for scripts */
		if (mod)
			ms_table_addf(t, 3, "%.*s", tty ? 10 : (int)strlen(mod), mod);
		else
			ms_table_addf(t, 3, "%s", tty ? "-" : "");
		ms_table_addf(t, 4, "%s", tags);
		free(tags);
	}
	ms_table_print(t, stdout, tty, 0);
	ms_table_free(t);
}

/* ---- info ---- */

/* What identifies a file's content: its SHA-256, else its git object id. */
static const char *file_hash(const struct ms_file *f)
{
	if (f->algo != MS_HASH_NONE && f->digest[0])
		return f->digest;
	return f->oid;
}

static void info_json(const struct ms_info *in, const struct ms_repo *repo, const char *rev)
{
	struct ms_json *j = meta_json(&in->meta, repo->hub->name, repo->id);

	ms_json_str(j, "revision", rev);
	ms_json_str(j, "commit", in->commit);
	ms_json_num(j, "files", (double)in->nfiles);
	ms_json_num(j, "size", (double)in->size);
	ms_json_raw(j, "raw", in->meta.raw);
	ms_json_emit(j, stdout);
	for (size_t i = 0; i < in->plan.sel.n; i++) {
		const struct ms_file *f = in->plan.sel.files[i];

		j = ms_json_begin("file");
		ms_json_str(j, "path", f->path);
		ms_json_num(j, "size", (double)f->size);
		ms_json_str(j, "sha256", f->algo == MS_HASH_SHA256 ? f->digest : NULL);
		ms_json_str(j, "oid", f->oid);
		ms_json_bool(j, "lfs", f->lfs);
		ms_json_emit(j, stdout);
	}
}

/* "key value" lines: aligned on a terminal, tab-separated into a pipe. */
static void field(const char *key, const char *value, bool tty)
{
	printf(tty ? "%-14s %s\n" : "%s\t%s\n", key, value ? value : (tty ? "-" : ""));
}

static void info_fields(const struct ms_info *in, const struct ms_repo *repo, const char *rev,
                        bool tty)
{
	const struct ms_repo_meta *m = &in->meta;
	char num[64], sz[32];

	field("id", m->id ? m->id : repo->id, tty);
	field("type", ms_repo_type_name(repo->type), tty);
	field("hub", repo->hub->name, tty);
	field("revision", rev, tty);
	field("commit", in->commit, tty);
	field("last_modified", m->last_modified, tty);
	field("private", m->is_private ? "yes" : "no", tty);
	field("gated", m->gated ? "yes" : "no", tty);
	snprintf(num, sizeof(num), "%lld", m->downloads);
	field("downloads", m->downloads >= 0 ? num : NULL, tty);
	snprintf(num, sizeof(num), "%lld", m->likes);
	field("likes", m->likes >= 0 ? num : NULL, tty);
	field("task", m->task, tty);
	ms_format_size(in->size, sz, sizeof(sz));
	if (tty)
		snprintf(num, sizeof(num), "%s (%" PRIu64 " bytes)", sz, in->size);
	else
		snprintf(num, sizeof(num), "%" PRIu64, in->size);
	field("size", num, tty);
	snprintf(num, sizeof(num), "%zu", in->nfiles);
	field("files", num, tty);
}

void ms_render_info(const struct ms_info *in, const struct ms_repo *repo, const char *rev,
                    enum ms_info_form form, bool tty)
{
	static const struct ms_column cols[] = {
	        {"PATH", false, 0, 24}, {"SIZE", true, 0, 0}, {"SHA256/OID", false, 1, 16}};
	struct ms_table *t;

	if (form == MS_INFO_JSON) {
		info_json(in, repo, rev);
		return;
	}
	if (form == MS_INFO_FILES) {
		for (size_t i = 0; i < in->plan.sel.n; i++)
			printf("%s\n", in->plan.sel.files[i]->path);
		return;
	}
	info_fields(in, repo, rev, tty);
	if (!in->plan.sel.n)
		return;
	printf("\n");
	t = ms_table_new(cols, MS_ARRAY_SIZE(cols));
	for (size_t i = 0; i < in->plan.sel.n; i++) {
		const struct ms_file *f = in->plan.sel.files[i];
		const char *hash = file_hash(f);
		char sz[32];

		ms_table_addf(t, 0, "%s", f->path);
		/* a size a person reads on a terminal, the exact bytes for scripts */
		if (tty)
			ms_format_size(f->size, sz, sizeof(sz));
		else
			snprintf(sz, sizeof(sz), "%" PRIu64, f->size);
		ms_table_addf(t, 1, "%s", sz);
		ms_table_addf(t, 2, "%s", hash ? hash : tty ? "-" : "");
	}
	ms_table_print(t, stdout, tty, 0);
	ms_table_free(t);
}
