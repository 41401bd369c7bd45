/* What an upload and the account commands show on stdout: a URL or a name, or JSON lines. */
#include <stdio.h>

#include "mscli/render.h"
#include "mscli/upload.h"

static const char *digest_key(const struct ms_upfile *f)
{
	return f->algo == MS_HASH_GITSHA1 ? "git_sha1" : "sha256";
}

void ms_render_upload_file(const struct ms_upload *u, const struct ms_upfile *f, int status)
{
	struct ms_json *j;

	(void)u;
	switch ((enum ms_upload_status)status) {
	case MS_UP_HASHED:
		j = ms_json_begin("hashed");
		ms_json_str(j, "path", f->path);
		ms_json_num(j, "size", (double)f->size);
		ms_json_str(j, digest_key(f), f->oid);
		break;
	case MS_UP_UNCHANGED:
	case MS_UP_IGNORED:
		j = ms_json_begin("skipped");
		ms_json_str(j, "path", f->path);
		ms_json_num(j, "size", (double)f->size);
		ms_json_str(j, "reason", status == MS_UP_UNCHANGED ? "unchanged" : "ignored");
		break;
	case MS_UP_COMMITTED:
		j = ms_json_begin("uploaded");
		ms_json_str(j, "path", f->path);
		ms_json_num(j, "size", (double)f->size);
		ms_json_str(j, digest_key(f), f->oid);
		ms_json_bool(j, "lfs", f->lfs);
		/* an LFS object the hub had already (an earlier run, another repo) sends nothing */
		ms_json_num(j, "bytes_sent", f->sent ? (double)f->size : 0);
		break;
	default:
		return;
	}
	ms_json_emit(j, stdout);
}

void ms_render_upload_done(const struct ms_upload *u, bool json, double seconds, int status,
                           const struct ms_error *err)
{
	struct ms_json *j;

	if (!json) {
		if (!status && u->result.url)
			printf("%s\n", u->result.url);
		return;
	}
	j = ms_json_begin("done");
	ms_json_str(j, "status", status ? "error" : "ok");
	ms_json_str(j, "repo", u->repo->id);
	ms_json_str(j, "revision", u->branch);
	ms_json_str(j, "commit", status ? NULL : u->result.id);
	ms_json_str(j, "url", status ? NULL : u->result.url);
	ms_json_bool(j, "changed", !status && u->ncommits > 0);
	ms_json_num(j, "files", (double)u->n);
	ms_json_num(j, "uploaded", (double)u->ncommitted);
	ms_json_num(j, "skipped", (double)(u->nunchanged + u->nignored));
	ms_json_num(j, "objects_sent", (double)u->objects_sent);
	ms_json_num(j, "objects_present", (double)u->objects_present);
	ms_json_num(j, "bytes_sent", (double)u->bytes_sent);
	ms_json_num(j, "commits", (double)u->ncommits);
	ms_json_bool(j, "created_repo", u->created_repo);
	ms_json_num(j, "seconds", seconds);
	if (status)
		ms_json_error(j, status, err);
	ms_json_emit(j, stdout);
}

void ms_render_account(const char *event, const struct ms_account *who, const char *endpoint,
                       const struct ms_strlist *files, bool json)
{
	struct ms_json *j;

	if (!json) {
		if (who && who->name)
			printf("%s\n", who->name);
		return;
	}
	j = ms_json_begin(event);
	if (who) {
		ms_json_str(j, "user", who->name);
		ms_json_str(j, "email", who->email);
		ms_json_strv(j, "orgs", who->orgs, who->norgs);
	}
	ms_json_str(j, "endpoint", endpoint);
	if (files)
		ms_json_strv(j, "files", files->v, files->n);
	ms_json_emit(j, stdout);
}
