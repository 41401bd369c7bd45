/* Messages on stderr, and secrets read from the terminal (ui.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "mscli/alloc.h"

#include "mscli/redact.h"
#include "mscli/render.h"
#include "mscli/ui.h"

static bool quiet;
static struct ms_progress *bars;

void ms_ui_set_quiet(bool q)
{
	quiet = q;
}

void ms_ui_set_progress(struct ms_progress *p)
{
	bars = p;
}

static void line(const char *kind, const char *fmt, va_list ap) MS_PRINTF(2, 0);

static void line(const char *kind, const char *fmt, va_list ap)
{
	char msg[2048];
	int n = snprintf(msg, sizeof(msg), "mscli: %s", kind);

	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	ms_redact_in_place(msg); /* a token or an endpoint's password never reaches stderr */
	if (bars)
		ms_progress_note(bars, msg);
	else
		fprintf(stderr, "%s\n", msg);
}

void ms_ui_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("error: ", fmt, ap);
	va_end(ap);
}

void ms_warn(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	line("warning: ", fmt, ap);
	va_end(ap);
}

void ms_info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	line("", fmt, ap);
	va_end(ap);
}

bool ms_ui_confirm(const char *question)
{
	char answer[64];

	fprintf(stderr, "mscli: %s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	answer[strcspn(answer, "\r\n")] = '\0';
	return !strcasecmp(answer, "y") || !strcasecmp(answer, "yes");
}

void ms_ui_verbose(const char *s)
{
	if (bars) {
		char msg[2100];

		snprintf(msg, sizeof(msg), "mscli: %s", s);
		ms_progress_note(bars, msg);
	} else {
		fprintf(stderr, "mscli: %s\n", s);
	}
}

/* One line of in, without its line break (NULL at once at end of input). */
static char *read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

char *ms_ui_read_secret(const char *prompt)
{
	struct termios old, quiet_tty;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *line;

	if (!tty)
		return read_line(stdin); /* piped: the first line */
	quiet_tty = old;
	quiet_tty.c_lflag &= ~(tcflag_t)ECHO; /* what is typed is not shown */
	quiet_tty.c_lflag |= ECHONL;          /* the Enter still moves to the next line */
	/* echo off before the prompt (as getpass): type-ahead is flushed, not what answers it */
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet_tty);
	fputs(prompt, stderr);
	fflush(stderr);
	line = read_line(stdin);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return line;
}
