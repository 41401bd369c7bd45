/*
 * The one writer of messages to stderr (the render layer with progress.c
 * and output.c): errors, warnings, notes and -v lines, all prefixed
 * "mscli: ", printed above the progress bars when bars are up; and the one
 * reader of the terminal (a token typed at a prompt).
 */
#ifndef MSCLI_UI_H
#define MSCLI_UI_H

#include <stdbool.h>

#include "common.h"

struct ms_progress;

/* -q: errors only. */
void ms_ui_set_quiet(bool quiet);
/* Notes go above these bars while they are drawn (NULL: none). */
void ms_ui_set_progress(struct ms_progress *p);

/* "mscli: error: ..." (never silenced). */
void ms_ui_error(const char *fmt, ...) MS_PRINTF(1, 2);
/* "mscli: warning: ..." */
void ms_warn(const char *fmt, ...) MS_PRINTF(1, 2);
/* "mscli: ..." */
void ms_info(const char *fmt, ...) MS_PRINTF(1, 2);
/* Ask on the terminal: "mscli: QUESTION [y/N] "; true for y or yes. */
bool ms_ui_confirm(const char *question);
/* A -v line (ms_log_set's sink). */
void ms_ui_verbose(const char *line);
/* A secret from standard input: on a terminal after prompt, not echoed; from a pipe its
 * first line.  NULL at the end of input (allocated otherwise, line break removed). */
char *ms_ui_read_secret(const char *prompt);

#endif
