/* Error codes shared by every module; only main() turns them into exit codes. */
#ifndef MSCLI_ERR_H
#define MSCLI_ERR_H

#include <stdarg.h>

#include "common.h"

/*
 * Library functions return 0 or one of these (negative) and fill a struct
 * ms_error with the detail.  The numeric value is minus the documented exit
 * code where there is one (see ms_err_exit_code()).
 */
enum ms_err {
	MS_OK = 0,
	MS_EFAIL = -1,      /* anything else: exit 1 */
	MS_EUSAGE = -2,     /* bad command line: exit 2 */
	MS_ENET = -3,       /* connect/transfer failed after retries: exit 3 */
	MS_EINTEGRITY = -4, /* sha256/size mismatch that persisted: exit 4 */
	MS_ENOTFOUND = -5,  /* repo, revision or file does not exist: exit 5 */
	MS_EAUTH = -6,      /* 401/403, gated: exit 6 */
	MS_EOFFLINE = -7,   /* offline and not cached: exit 7 */
	MS_ESTORAGE = -8,   /* disk full, read-only, permission: exit 8 */
	MS_EPROTO = -9,     /* the server answered something unusable: exit 1 */
	MS_EUNSAFE = -10,   /* a path from the server or a bundle is unsafe: exit 1 */
	MS_EINTR = -11,     /* interrupted by a signal; partials kept: exit 130 */
};

struct ms_error {
	int code;         /* enum ms_err */
	long http_status; /* 0 when not an HTTP answer */
	char msg[1024];   /* one line, no trailing newline */
};

void ms_error_clear(struct ms_error *e);
/* Fill *e and return code (so "return ms_error_set(...)" reads naturally). */
int ms_error_set(struct ms_error *e, int code, const char *fmt, ...) MS_PRINTF(3, 4);
int ms_error_vset(struct ms_error *e, int code, const char *fmt, va_list ap) MS_PRINTF(3, 0);
/* Add to the end of e->msg (a hint); the code stays. */
void ms_error_append(struct ms_error *e, const char *fmt, ...) MS_PRINTF(2, 3);
/*
 * Describe a failed system call on a local path.  Disk full, quota,
 * read-only, permission and I/O errors are MS_ESTORAGE, the rest MS_EFAIL.
 */
int ms_error_errno(struct ms_error *e, int errnum, const char *what, const char *path);
int ms_err_from_errno(int errnum);
int ms_err_exit_code(int code);
const char *ms_err_name(int code);

#endif
