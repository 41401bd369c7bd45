/*
 * libarchive, loaded when a bundle is written or read (`cache export`,
 * `cache import`), not when mscli starts.  Linked, it and what it needs
 * (libxml2, ICU, libstdc++, lzma, ...) were mapped and relocated by every
 * command: ~5 ms of each run's start, a quarter of it, on a machine where a
 * page fault costs ~12 us.  The functions are libarchive's own, with their
 * own types (__typeof__ of the declarations in <archive.h>), reached through
 * ms_archive(); the library is found by the soname the build linked against.
 */
#ifndef MSCLI_ARCHIVE_LIB_H
#define MSCLI_ARCHIVE_LIB_H

#include <archive.h>
#include <archive_entry.h>

#include "err.h"

#define MS_ARCHIVE_FUNCS(X)                      \
	X(archive_errno)                         \
	X(archive_error_string)                  \
	X(archive_entry_filetype)                \
	X(archive_entry_free)                    \
	X(archive_entry_hardlink)                \
	X(archive_entry_mode)                    \
	X(archive_entry_new)                     \
	X(archive_entry_pathname)                \
	X(archive_entry_set_filetype)            \
	X(archive_entry_set_gid)                 \
	X(archive_entry_set_mtime)               \
	X(archive_entry_set_pathname)            \
	X(archive_entry_set_perm)                \
	X(archive_entry_set_size)                \
	X(archive_entry_set_symlink)             \
	X(archive_entry_set_uid)                 \
	X(archive_entry_size)                    \
	X(archive_entry_size_is_set)             \
	X(archive_entry_symlink)                 \
	X(archive_read_data)                     \
	X(archive_read_free)                     \
	X(archive_read_new)                      \
	X(archive_read_next_header)              \
	X(archive_read_open_fd)                  \
	X(archive_read_support_filter_all)       \
	X(archive_read_support_format_tar)       \
	X(archive_write_add_filter_gzip)         \
	X(archive_write_add_filter_zstd)         \
	X(archive_write_close)                   \
	X(archive_write_data)                    \
	X(archive_write_free)                    \
	X(archive_write_header)                  \
	X(archive_write_new)                     \
	X(archive_write_open_fd)                 \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_filter_option)       \
	X(archive_write_set_format_pax_restricted)

struct ms_archive_lib {
#define MS_ARCHIVE_MEMBER(f) __typeof__(f) *f;
	MS_ARCHIVE_FUNCS(MS_ARCHIVE_MEMBER)
#undef MS_ARCHIVE_MEMBER
};

/* Loads libarchive once (thread-safe): 0, or MS_EFAIL with err naming the library and why. */
int ms_archive_load(struct ms_error *err);
/* The functions, after ms_archive_load() succeeded. */
const struct ms_archive_lib *ms_archive(void);

#endif
