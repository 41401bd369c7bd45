/* mscli: signals, then the command line (cmd.c). */
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mscli/cli.h"
#include "mscli/clock.h"

static void on_signal(int sig)
{
	ms_set_interrupted(sig);
}

/*
 * The heap: grown in large steps, kept when freed, buffers reused from it,
 * and backed by 2 MiB pages where transparent huge pages are "madvise" (as
 * glibc.malloc.hugetlb=1 would, with no environment).  A listing of thousands
 * of files is tens of thousands of small allocations; in virtual machines a
 * page fault costs ~12 us (measured here: 1941 faults of a warm 2000-file run
 * were 13 of its 50 CPU ms), which is more than parsing the listing.
 *
 * Only whole 2 MiB pages within the advised range become huge, and only if
 * no 4 KiB page of theirs was touched first.  Both went wrong by chance: the
 * free heap began up to 2 MiB below the first boundary (address randomisation),
 * and what came first landed on small pages there; and growing the heap wrote
 * a header inside the range before the advice, so that 2 MiB stayed small
 * pages.  A 2000-file listing's parse took 2 to 452 faults, 1.8 to 10.7 ms (8
 * runs).  Now the stray page is dropped, and a spacer that is never touched
 * fills the free heap up to the boundary.
 */
static void *heap_spacer; /* kept: a root for the leak checkers */

static void heap_setup(void)
{
	const uintptr_t huge = 2u << 20;
	const int pad = 16 << 20;
	char *top, *lo, *hi, *before = sbrk(0);
	void *volatile p; /* not optimised away with its free */

	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TOP_PAD, pad);
	mallopt(M_TRIM_THRESHOLD, 2 * pad);
	p = malloc(1 << 20); /* the heap grows now by the pad, in one step */
	free(p);
	hi = sbrk(0);
	hi -= (uintptr_t)hi % huge;
	/* where the free heap begins: no free list holds that much (glibc's chunk header
	 * is 16 bytes before it); not in the break's heap under a sanitizer or valgrind */
	p = malloc(64 << 10);
	if (!p)
		return;
	top = (char *)p - 16;
	free(p);
	lo = top + (huge - (uintptr_t)top % huge) % huge;
	if (top + (1u << 20) < before || hi <= lo)
		return;
	madvise(lo, (size_t)(hi - lo), MADV_DONTNEED); /* free heap: nothing lives there */
	madvise(lo, (size_t)(hi - lo), MADV_HUGEPAGE);
	if (lo - top >= 64)
		heap_spacer = malloc((size_t)(lo - top) - 8); /* its chunk ends at lo */
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	heap_setup();
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
