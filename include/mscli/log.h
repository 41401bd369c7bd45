/* Verbose diagnostics (-v).  Modules call ms_verbose(); main decides where it goes. */
#ifndef MSCLI_LOG_H
#define MSCLI_LOG_H

#include <stdbool.h>

#include "err.h"

typedef void (*ms_log_fn)(const char *line);

/* Set by main: NULL (the default) discards verbose lines. */
void ms_log_set(ms_log_fn fn);
bool ms_log_enabled(void);
/* Secrets registered here are replaced by "***" in every logged line. */
void ms_log_redact(const char *secret);
/* Replace every registered secret in s (error messages use it too); s only shrinks. */
void ms_log_redact_in_place(char *s);
void ms_verbose(const char *fmt, ...) MS_PRINTF(1, 2);

#endif
