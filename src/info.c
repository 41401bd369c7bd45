/* The info operation (info.h): download's plan, and the hub's metadata. */
#include <string.h>

#include "mscli/info.h"

int ms_info_load(struct ms_info *in, struct ms_session *s, const struct ms_repo *repo,
                 const char *rev, const char *cache_root, bool type_given, struct ms_error *err)
{
	/* exactly what `download --dry-run` plans: no FILE, no filter, nothing written */
	struct ms_download_opts o = {
	        .cache_root = cache_root, .dry_run = true, .type_given = type_given};
	int ret;

	memset(in, 0, sizeof(*in));
	ms_repo_meta_init(&in->meta);
	ms_download_init(&in->plan, s, repo, rev, &o, NULL);
	/* the listing first: a missing repo or revision fails as download fails */
	if ((ret = ms_download_plan(&in->plan, err)) != 0)
		return ret;
	if (!s->hub->repo_info)
		return ms_error_set(err, MS_EFAIL, "%s tells nothing of a repo", s->hub->name);
	if ((ret = s->hub->repo_info(s, repo, rev, &in->meta, err)) != 0)
		return ret;
	in->commit = in->plan.listing.commit ? in->plan.listing.commit : in->meta.commit;
	in->nfiles = in->plan.sel.n;
	for (size_t i = 0; i < in->plan.sel.n; i++)
		in->size += in->plan.sel.files[i]->size;
	return 0;
}

void ms_info_release(struct ms_info *in)
{
	ms_download_release(&in->plan);
	ms_repo_meta_release(&in->meta);
	memset(in, 0, sizeof(*in));
}
