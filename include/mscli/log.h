/*
 * Verbose diagnostics (-v): modules call ms_verbose(); main decides where
 * the lines go (the render layer).  Secrets are redacted (redact.h).
 */
#ifndef MSCLI_LOG_H
#define MSCLI_LOG_H

#include <stdbool.h>

#include "common.h"

typedef void (*ms_log_fn)(const char *line);

/* Set by main: NULL (the default) discards verbose lines. */
void ms_log_set(ms_log_fn fn);
bool ms_log_enabled(void);
void ms_verbose(const char *fmt, ...) MS_PRINTF(1, 2);

#endif
