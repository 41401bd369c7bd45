/* -v logging with secrets redacted. */
#include <stdarg.h>
#include <stdio.h>

#include "mscli/log.h"
#include "mscli/redact.h"

static ms_log_fn log_fn;

void ms_log_set(ms_log_fn fn)
{
	log_fn = fn;
}

bool ms_log_enabled(void)
{
	return log_fn != NULL;
}

void ms_verbose(const char *fmt, ...)
{
	va_list ap;
	char line[2048];

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ms_redact_in_place(line);
	log_fn(line);
}
