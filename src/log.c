/* -v logging with secrets redacted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mscli/log.h"
#include "mscli/util.h"

static ms_log_fn log_fn;
static char *secrets[4];

void ms_log_set(ms_log_fn fn)
{
	log_fn = fn;
}

bool ms_log_enabled(void)
{
	return log_fn != NULL;
}

void ms_log_redact(const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return;
	for (size_t i = 0; i < MS_ARRAY_SIZE(secrets); i++) {
		if (!secrets[i]) {
			secrets[i] = xstrdup(secret);
			return;
		}
	}
}

void ms_log_redact_in_place(char *s)
{
	for (size_t i = 0; i < MS_ARRAY_SIZE(secrets) && secrets[i]; i++) {
		size_t sl = strlen(secrets[i]);
		char *p;

		while ((p = strstr(s, secrets[i])) != NULL) {
			memset(p, '*', 3);
			memmove(p + 3, p + sl, strlen(p + sl) + 1);
		}
	}
}

void ms_verbose(const char *fmt, ...)
{
	struct ms_buf b = MS_BUF_INIT;
	va_list ap;
	char tmp[2048];

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ms_buf_adds(&b, tmp);
	ms_log_redact_in_place(b.data);
	b.len = strlen(b.data);
	log_fn(b.data);
	ms_buf_release(&b);
}
