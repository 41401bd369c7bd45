/*
 * Whole files hashed on every core (hashfiles.h), for `cache verify` and
 * `cache export`: the hashing pool of hashpool.c, with one result per file
 * and a failure of one file never stopping the others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/hashfiles.h"
#include "mscli/hashpool.h"

struct counts {
	const struct ms_hashfiles_opts *o;
	size_t files_done;
	uint64_t bytes;
};

static void item_done(void *arg, struct ms_hash_item *item)
{
	(void)item;
	((struct counts *)arg)->files_done++;
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	struct counts *c = arg;

	(void)total;
	c->bytes = done;
	if (c->o && c->o->progress)
		c->o->progress(c->o->arg, c->files_done, done);
}

int ms_hash_files(struct ms_hashfile *files, size_t n, const struct ms_hashfiles_opts *o)
{
	struct ms_hash_item *items = xcalloc(n + 1, sizeof(*items));
	struct counts c = {.o = o};
	struct ms_hashpool_opts po = {.threads = o ? o->threads : 0,
	                              .block = o ? o->block : 0,
	                              .arg = &c,
	                              .item_done = item_done,
	                              .progress = progress};
	struct ms_error err;
	int ret;

	for (size_t i = 0; i < n; i++) {
		items[i].path = files[i].path;
		items[i].size = MS_HASH_SIZE_OF_FILE;
		items[i].algos = MS_HASHES(files[i].algo);
	}
	ms_error_clear(&err);
	ret = ms_hashpool_run(items, n, &po, &err);
	for (size_t i = 0; i < n; i++) {
		struct ms_hashfile *f = &files[i];
		const struct ms_hash_item *it = &items[i];

		f->status = it->status == MS_EINTR ? MS_EINTR : it->status ? MS_EFAIL : 0;
		/* 0 from the pool: it changed while it was read */
		f->errnum = it->status && it->status != MS_EINTR && !it->errnum ? EIO : it->errnum;
		f->size = it->status ? 0 : it->size;
		strcpy(f->hex, it->status                   ? ""
		               : f->algo == MS_HASH_GITSHA1 ? it->gitsha1
		                                            : it->sha256);
	}
	free(items);
	if (o && o->progress)
		o->progress(o->arg, c.files_done, c.bytes);
	return ret == MS_EINTR ? MS_EINTR : 0;
}
