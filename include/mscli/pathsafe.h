/* Validation of paths that come from a server or a bundle. */
#ifndef MSCLI_PATHSAFE_H
#define MSCLI_PATHSAFE_H

#include <stdbool.h>

#include "err.h"
#include "index.h"

/*
 * A repo path is safe when it is relative, made of non-empty segments that
 * are not "." or "..", contains no control character or backslash, and fits
 * in PATH_MAX with segments shorter than NAME_MAX.  Returns 0, or
 * MS_EUNSAFE with *why set to a static reason.
 */
int ms_path_check(const char *path, const char **why);

/*
 * Create the directories of rel (a checked relative path of a directory)
 * below root, refusing to pass through a symlink or a non-directory, so
 * nothing is ever written outside root.
 */
int ms_mkdirs_beneath(const char *root, const char *rel, struct ms_error *err);

/* mkdirs_beneath for the parent directory of the file rel. */
int ms_mkparents_beneath(const char *root, const char *rel, struct ms_error *err);

/*
 * The directories a run made or found beneath its roots, so that each is made once
 * (a chain of mkdirat and openat per file was most of a small file's system calls).
 * A directory removed behind the memo's back shows as ENOENT at the rename into it:
 * forget, make the chain again, rename again.
 */
struct ms_dirmemo {
	struct ms_strset made; /* "b" root/dir (made beneath root) or "d" path (ms_mkdirs) */
};

/* ms_mkparents_beneath, once per parent directory; m NULL: every time. */
int ms_dirmemo_mkparents(struct ms_dirmemo *m, const char *root, const char *rel,
                         struct ms_error *err);
/* ms_mkdirs(path, 0755), once per path; m NULL: every time. */
int ms_dirmemo_mkdirs(struct ms_dirmemo *m, const char *path, struct ms_error *err);
/* The parents of rel beneath root (root itself too, when mkroot), each made once. */
int ms_dirmemo_chain(struct ms_dirmemo *m, const char *root, bool mkroot, const char *rel,
                     struct ms_error *err);
/*
 * op(a, b) -- rename(2) or symlink(2) -- after ms_dirmemo_chain.  An ENOENT from op is
 * a directory the memo knew that went meanwhile: the memo is forgotten, the chain made
 * again, op tried once more.  0, or an error "<what> '<b>': <errno>".
 */
int ms_dirmemo_place(struct ms_dirmemo *m, const char *root, bool mkroot, const char *rel,
                     int (*op)(const char *a, const char *b), const char *a, const char *b,
                     const char *what, struct ms_error *err);
void ms_dirmemo_forget(struct ms_dirmemo *m);
void ms_dirmemo_release(struct ms_dirmemo *m);

/*
 * Move every file and symlink below from into to_root/rel (rel "" or NULL: to_root
 * itself), replacing what is there, creating directories beneath to_root and never
 * passing through a symlink.  Directories left empty in from are removed.  When
 * nothing is at to_root/rel yet, from itself is renamed there: all at once.
 */
int ms_move_beneath(const char *from, const char *to_root, const char *rel, struct ms_error *err);

#endif
