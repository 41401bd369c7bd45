/* libarchive loaded on first use (archive-lib.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mscli/archive-lib.h"

#ifndef MS_LIBARCHIVE_SONAME
#define MS_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

static struct ms_archive_lib lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[256];

static void load(void)
{
	void *h = dlopen(MS_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why, sizeof(why), "%s", dlerror());
		return;
	}
#define MS_ARCHIVE_LOAD(f)                                              \
	if (!why[0]) {                                                  \
		void *sym = dlsym(h, #f);                               \
                                                                        \
		if (sym)                                                \
			memcpy(&lib.f, &sym, sizeof(sym));              \
		else                                                    \
			snprintf(why, sizeof(why), "it has no %s", #f); \
	}
	MS_ARCHIVE_FUNCS(MS_ARCHIVE_LOAD)
#undef MS_ARCHIVE_LOAD
	/* the handle stays open: the functions are used until exit */
}

int ms_archive_load(struct ms_error *err)
{
	pthread_once(&once, load);
	if (!why[0])
		return 0;
	return ms_error_set(err, MS_EFAIL, "cannot load libarchive (%s), which bundles need: %s",
	                    MS_LIBARCHIVE_SONAME, why);
}

const struct ms_archive_lib *ms_archive(void)
{
	return &lib;
}
