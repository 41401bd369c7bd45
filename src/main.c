/* mscli: signals, then the command line (cmd.c). */
#include <locale.h>
#include <signal.h>
#include <string.h>

#include "mscli/cli.h"
#include "mscli/clock.h"

static void on_signal(int sig)
{
	ms_set_interrupted(sig);
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	/* the terminal's character set, for the width of names in tables (LC_CTYPE only:
	 * numbers and messages stay as they are) */
	setlocale(LC_CTYPE, "");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a closed terminal or ssh session: keep partials too */
	signal(SIGPIPE, SIG_IGN);
	return ms_cli_main(argc, argv);
}
