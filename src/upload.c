/*
 * The upload operation (upload.h), in the order the work is done:
 *
 *   walk     PATH's files (upload-walk.c); those whose digest the hub's rule
 *            tells from their size start hashing now, while the hub is asked
 *   account  whoami: a token that works, a namespace that is the user's
 *   repo     created when missing; the branch and its head
 *   plan     the hub's mode for each file and its digest of the same path
 *   send     every file hashed once, on all cores, in the digest the hub names
 *            it by; meanwhile the LFS objects the hub lacks go out through the
 *            engine (in parallel, parts too), then are completed and verified
 *            (upload-send.c)
 *   commit   in batches the hub accepts; a commit whose answer is lost is not
 *            sent again blindly: the branch is read to learn whether it landed
 *
 * A file the branch already has is left out; when nothing is left there is
 * no commit.  Objects the hub has (from an interrupted run, or any repo)
 * send no byte, which is what makes a second run resume.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/log.h"
#include "mscli/upload-send.h"

/* Bytes of inline files per commit: the body is streamed, but hubs cap request sizes. */
#define COMMIT_MAX_INLINE (256ull << 20)
/* Attempts of a commit that is known not to have landed. */
#define MAX_COMMIT_ATTEMPTS 3

void ms_upload_init(struct ms_upload *u, struct ms_session *sess, const struct ms_repo *repo,
                    const char *branch, const struct ms_upload_opts *o,
                    const struct ms_upload_cb *cb)
{
	memset(u, 0, sizeof(*u));
	u->sess = sess;
	u->repo = repo;
	u->branch = branch;
	u->o = *o;
	u->cb = *cb;
}

void ms_upload_release(struct ms_upload *u)
{
	upload_hash_early_release(u);
	ms_upfiles_free(u->files, u->n);
	ms_account_release(&u->who);
	free(u->head);
	ms_commit_result_release(&u->result);
	memset(u, 0, sizeof(*u));
}

static void note(struct ms_upload *u, bool warning, const char *fmt, ...) MS_PRINTF(3, 4);

static void note(struct ms_upload *u, bool warning, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap, NULL);
	va_end(ap);
	if (u->cb.note)
		u->cb.note(u->cb.arg, warning, msg);
	free(msg);
}

void upload_report(struct ms_upload *u, const struct ms_upfile *f, enum ms_upload_status st)
{
	if (u->cb.file)
		u->cb.file(u->cb.arg, u, f, st);
}

/* ---- account, repo, branch ---- */

static int check_account(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	int ret;

	if (!u->sess->auth.token)
		return ms_error_set(err, MS_EAUTH,
		                    "uploading needs a token: run 'mscli login --hub %s' (or give "
		                    "--token, or set %s)",
		                    hub->name, hub->token_env);
	if (!u->repo->owner)
		return ms_error_set(err, MS_EUSAGE, "name the repo with its namespace: owner/%s",
		                    u->repo->name);
	if (!hub->whoami)
		return 0;
	ret = hub->whoami(u->sess, &u->who, err);
	if (ret)
		return ret;
	if (!ms_account_owns(&u->who, u->repo->owner)) {
		struct ms_buf orgs = MS_BUF_INIT;

		for (size_t i = 0; i < u->who.norgs; i++)
			ms_buf_addf(&orgs, "%s%s", i ? ", " : "", u->who.orgs[i]);
		ret = ms_error_set(err, MS_EAUTH,
		                   "'%s' is not your namespace: the token is %s's (organisations: "
		                   "%s)",
		                   u->repo->owner, u->who.name, orgs.len ? orgs.data : "none");
		ms_buf_release(&orgs);
	}
	return ret;
}

static int prepare_repo(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	int ret = hub->repo_create(u->sess, u->repo, u->o.private, &u->created_repo, err);

	if (ret)
		return ret;
	if (u->created_repo)
		note(u, false, "created %s %s %s%s", hub->name, ms_repo_type_name(u->repo->type),
		     u->repo->id, u->o.private ? " (private)" : "");
	else if (u->o.private)
		note(u, true,
		     "%s exists: --private applies only when the repo is created; its "
		     "visibility is unchanged",
		     u->repo->id);
	ret = hub->branch_head(u->sess, u->repo, u->branch, true, &u->head, &u->created_branch,
	                       err);
	if (!ret && u->created_branch)
		note(u, false, "created the branch '%s' from the default branch", u->branch);
	return ret;
}

/* ---- commits ---- */

static bool in_commit(const struct ms_upfile *f)
{
	return !f->ignored && strcmp(f->oid, f->remote);
}

/* After a commit failed without a clear answer: has the branch got these files now? */
static bool landed(struct ms_upload *u, struct ms_upfile **files, size_t n)
{
	const struct ms_hub *hub = u->sess->hub;
	struct ms_upfile *copy = xcalloc(n + 1, sizeof(*copy));
	struct ms_error e;
	bool yes = true;

	for (size_t i = 0; i < n; i++) {
		copy[i].local = files[i]->local;
		copy[i].path = files[i]->path;
		copy[i].size = files[i]->size;
	}
	ms_error_clear(&e);
	if (hub->upload_plan(u->sess, u->repo, u->branch, copy, n, &e))
		yes = false;
	for (size_t i = 0; yes && i < n; i++)
		yes = !strcmp(copy[i].remote, files[i]->oid);
	free(copy);
	ms_verbose("the commit %s on '%s'", yes ? "landed" : "did not land", u->branch);
	return yes;
}

/* Transport errors, 5xx, a lost answer: the commit may or may not have landed. */
static bool unknown_outcome(const struct ms_error *err)
{
	return err->code == MS_ENET || err->code == MS_EPROTO ||
	       (err->code == MS_EFAIL && (err->http_status >= 500 || err->http_status == 0));
}

static int commit_once(struct ms_upload *u, struct ms_commit *c, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	struct ms_commit_result res = {0};
	int ret = 0;

	for (int attempt = 1;; attempt++) {
		char *head = NULL;
		bool created;

		ret = hub->commit(u->sess, u->repo, c, &res, err);
		if (!ret || !unknown_outcome(err))
			break;
		ms_verbose("commit: %s; reading '%s' to learn whether it landed", err->msg,
		           u->branch);
		if (landed(u, c->files, c->n)) {
			ret = 0;
			hub->branch_head(u->sess, u->repo, u->branch, false, &head, &created, err);
			ms_error_clear(err);
			res.id = head;
			res.url = hub->commit_url(u->sess, u->repo, u->branch, head);
			break;
		}
		if (attempt >= MAX_COMMIT_ATTEMPTS)
			break;
		/* it is known not to be there: sending it again cannot make two */
		ms_sleep(ms_backoff_delay(attempt, u->sess->net.retry_delay, 30, ms_random01()));
	}
	if (!ret) {
		ms_commit_result_release(&u->result);
		u->result = res;
		u->ncommits++;
	}
	return ret;
}

/* Where the commits split: by the hub's count, and by the bytes they inline.  Returns
 * the number of commits; ends[k] is one past the last changed file of commit k. */
static size_t split(struct ms_upload *u, struct ms_upfile **changed, size_t n, size_t *ends)
{
	size_t max = u->sess->hub->commit_max ? u->sess->hub->commit_max : 256, k = 0, count = 0;
	uint64_t inline_bytes = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t add = changed[i]->lfs ? 0 : changed[i]->size;

		if (count && (count == max || inline_bytes + add > COMMIT_MAX_INLINE)) {
			ends[k++] = i;
			count = 0;
			inline_bytes = 0;
		}
		count++;
		inline_bytes += add;
	}
	if (count)
		ends[k++] = n;
	return k;
}

static int commit_all(struct ms_upload *u, const char *message, struct ms_error *err)
{
	struct ms_upfile **changed = xcalloc(u->n + 1, sizeof(*changed));
	size_t *ends = xcalloc(u->n + 1, sizeof(*ends));
	size_t n = 0, parts, start = 0;
	int ret = 0;

	for (size_t i = 0; i < u->n; i++)
		if (in_commit(&u->files[i]))
			changed[n++] = &u->files[i];
	parts = split(u, changed, n, ends);
	for (size_t k = 0; k < parts && !ret; start = ends[k++]) {
		struct ms_commit c = {.branch = u->branch,
		                      .files = changed + start,
		                      .n = ends[k] - start,
		                      .parent = u->result.id ? u->result.id : u->head};
		char *msg = parts > 1 ? xasprintf("%s (part %zu/%zu)", message, k + 1, parts)
		                      : xstrdup(message);

		c.message = msg;
		for (size_t i = 0; i < c.n && !ret; i++)
			if (!c.files[i]->lfs)
				ret = upload_still_same(c.files[i], err);
		if (!ret)
			ret = commit_once(u, &c, err);
		free(msg);
		for (size_t i = 0; !ret && i < c.n; i++) {
			u->ncommitted++;
			if (!c.files[i]->lfs) {
				c.files[i]->sent = true;
				u->bytes_sent += c.files[i]->size;
			}
			upload_report(u, c.files[i], MS_UP_COMMITTED);
		}
	}
	free(changed);
	free(ends);
	return ret;
}

/* ---- the whole ---- */

static char *default_message(const struct ms_upload *u)
{
	if (u->n == 1 && !u->o.path_in_repo)
		return xasprintf("Upload %s with mscli", u->files[0].path);
	if (u->o.path_in_repo && *u->o.path_in_repo)
		return xasprintf("Upload %s with mscli", u->o.path_in_repo);
	return xstrdup("Upload folder with mscli");
}

/* What the plan and the hashes say is unchanged or ignored. */
static size_t sort_out(struct ms_upload *u)
{
	size_t changed = 0;

	for (size_t i = 0; i < u->n; i++) {
		struct ms_upfile *f = &u->files[i];

		if (f->ignored) {
			u->nignored++;
			upload_report(u, f, MS_UP_IGNORED);
		} else if (!strcmp(f->oid, f->remote)) {
			u->nunchanged++;
			upload_report(u, f, MS_UP_UNCHANGED);
		} else {
			changed++;
		}
	}
	return changed;
}

int ms_upload_run(struct ms_upload *u, struct ms_error *err)
{
	const struct ms_hub *hub = u->sess->hub;
	char *dest = NULL, *message = NULL;
	int ret;

	if (!hub->commit)
		return ms_error_set(err, MS_EUSAGE, "uploads to %s are not supported", hub->name);
	if ((ret = ms_upload_dest(u->o.path_in_repo, &dest, err)) != 0)
		return ret;
	ret = ms_upload_walk(u->o.local, dest, u->o.filter, &u->files, &u->n, NULL, err);
	free(dest);
	if (ret)
		return ret;
	if (!u->n)
		return ms_error_set(err, MS_EUSAGE,
		                    "nothing to upload in '%s' (after --include/--exclude and the "
		                    "files never published)",
		                    u->o.local);
	upload_hash_early(u); /* while the hub is asked */
	if ((ret = check_account(u, err)) != 0 || (ret = prepare_repo(u, err)) != 0)
		return ret;
	ret = hub->upload_plan(u->sess, u->repo, u->branch, u->files, u->n, err);
	if (!ret)
		ret = upload_send(u, err);
	if (ret)
		return ret;
	if (!sort_out(u)) {
		u->result.id = u->head ? xstrdup(u->head) : NULL;
		u->result.url = hub->commit_url(u->sess, u->repo, u->branch, u->head);
		note(u, false, "nothing to commit: '%s' of %s has these files already", u->branch,
		     u->repo->id);
		return 0;
	}
	message = u->o.message ? xstrdup(u->o.message) : default_message(u);
	ret = commit_all(u, message, err);
	free(message);
	return ret;
}
