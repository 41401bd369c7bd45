/* Error values and their exit codes (DESIGN.md "Exit codes"). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mscli/clock.h"
#include "mscli/err.h"
#include "mscli/redact.h"

void ms_error_clear(struct ms_error *e)
{
	e->code = MS_OK;
	e->http_status = 0;
	e->msg[0] = '\0';
}

int ms_error_vset(struct ms_error *e, int code, const char *fmt, va_list ap)
{
	if (!e)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	/* Messages are one line: a server's text may carry newlines. */
	for (char *p = e->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	ms_redact_in_place(e->msg); /* a token or URL password never reaches stderr */
	return code;
}

int ms_error_set(struct ms_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_error_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

void ms_error_append(struct ms_error *e, const char *fmt, ...)
{
	size_t n = strlen(e->msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
	va_end(ap);
}

int ms_err_from_errno(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
	case EROFS:
	case EACCES:
	case EPERM:
	case EFBIG:
	case ENAMETOOLONG: /* a name this file system cannot hold */
	case ENOTDIR:      /* a cache or HOME below a regular file */
	case EISDIR:
	case EIO:
	case EMFILE:
	case ENFILE:
		return MS_ESTORAGE;
	default:
		return MS_EFAIL;
	}
}

int ms_error_errno(struct ms_error *e, int errnum, const char *what, const char *path)
{
	return ms_error_set(e, ms_err_from_errno(errnum), "%s '%s': %s", what, path,
	                    strerror(errnum));
}

int ms_err_exit_code(int code)
{
	switch (code) {
	case MS_OK:
		return 0;
	case MS_EUSAGE:
		return 2;
	case MS_ENET:
		return 3;
	case MS_EINTEGRITY:
		return 4;
	case MS_ENOTFOUND:
		return 5;
	case MS_EAUTH:
		return 6;
	case MS_EOFFLINE:
		return 7;
	case MS_ESTORAGE:
		return 8;
	case MS_EINTR:
		/* 128 + the signal, as a shell reports it: 130 for Ctrl-C, 143 for kill */
		return 128 + (ms_interrupt_signal() ? ms_interrupt_signal() : SIGINT);
	default:
		return 1;
	}
}

const char *ms_err_name(int code)
{
	switch (code) {
	case MS_OK:
		return "ok";
	case MS_EUSAGE:
		return "usage";
	case MS_ENET:
		return "network";
	case MS_EINTEGRITY:
		return "integrity";
	case MS_ENOTFOUND:
		return "not_found";
	case MS_EAUTH:
		return "auth";
	case MS_EOFFLINE:
		return "offline";
	case MS_ESTORAGE:
		return "storage";
	case MS_EPROTO:
		return "protocol";
	case MS_EUNSAFE:
		return "unsafe_path";
	case MS_EINTR:
		return "interrupted";
	default:
		return "error";
	}
}
