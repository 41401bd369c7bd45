/* Progress bars on a terminal: one line per active file and a total line. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/parse.h"
#include "mscli/render.h"

#define MAX_BARS       8
#define DRAW_INTERVAL  0.1
#define PLAIN_INTERVAL 5.0

/* A smoothed transfer rate: an exponential moving average over half-second samples. */
struct meter {
	double rate, t;
	uint64_t bytes;
};

struct bar {
	const struct ms_xfer_job *job;
	uint64_t done;
	bool verifying;
	struct meter m;
};

struct ms_progress {
	FILE *out;
	struct bar *bars;
	size_t n, cap;
	int drawn;
	double last_draw, start;
	uint64_t total_done, total_size;
	size_t nfiles, files_done;
	struct meter m;
	bool plain;        /* not a terminal (--progress into a CI log): a line now and then */
	double last_plain; /* when that line was last printed */
};

struct ms_progress *ms_progress_new(FILE *out)
{
	struct ms_progress *p = xcalloc(1, sizeof(*p));

	p->out = out;
	p->start = p->m.t = p->last_plain = ms_now();
	p->plain = !isatty(fileno(out));
	return p;
}

static int term_width(FILE *out)
{
	struct winsize ws;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void erase(struct ms_progress *p)
{
	if (p->plain)
		return;
	for (; p->drawn > 0; p->drawn--)
		fputs("\x1b[1A\x1b[2K", p->out);
	fputc('\r', p->out);
}

static void draw_bar(FILE *out, int width, uint64_t done, uint64_t total)
{
	int fill = total ? (int)((double)done / (double)total * width) : width;

	fputc('[', out);
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '#' : '-', out);
	fputc(']', out);
}

#define TAIL_WIDTH 40

/* One line that never wraps (a wrapped line would break erase()): label, bar, percent, tail.
 * A fixed width for what follows the bar keeps the bars from jittering; on a narrow
 * terminal the bar goes first, then the tail is cut. */
static void line(struct ms_progress *p, const char *label, uint64_t done, uint64_t total,
                 const char *tail)
{
	int width = term_width(p->out) - 1; /* the last column would wrap on some terminals */
	int labelw = width / 4 < 16 ? width / 3 : width / 4 > 200 ? 200 : width / 4;
	int barw, tailw = TAIL_WIDTH;
	char lab[256];
	size_t ll = strlen(label);

	/* keep the end of long paths: it names the file */
	if (ll > (size_t)labelw)
		snprintf(lab, sizeof(lab), "...%.*s", labelw - 3, label + ll - (size_t)labelw + 3);
	else
		snprintf(lab, sizeof(lab), "%.*s", labelw, label);
	/* label, space, [bar], " 100% ", tail */
	barw = width - labelw - 1 - 2 - 6 - tailw;
	if (barw < 8) {
		barw = 0;
		tailw = width - labelw - 1 - 5;
	}
	fprintf(p->out, "\x1b[2K%-*s", labelw, lab);
	if (barw) {
		fputc(' ', p->out);
		draw_bar(p->out, barw, done, total);
	}
	fprintf(p->out, " %3d%% %-*.*s\n", total ? (int)(done * 100 / total) : 100, tailw, tailw,
	        tail);
	p->drawn++;
}

static void meter_update(struct meter *m, double now, uint64_t done)
{
	double inst;

	if (now - m->t < 0.5)
		return;
	inst = done > m->bytes ? (double)(done - m->bytes) / (now - m->t) : 0;
	m->rate = m->rate ? 0.7 * m->rate + 0.3 * inst : inst;
	m->t = now;
	m->bytes = done;
}

/* "1.2 GiB/4.0 GiB 310 MiB/s 0:09": what is done, the rate and the time left */
static void meter_tail(const struct meter *m, uint64_t done, uint64_t total, char *out, size_t cap)
{
	char a[32], b[32], r[32], eta[32] = "";

	ms_format_size(done, a, sizeof(a));
	ms_format_size(total, b, sizeof(b));
	ms_format_size((uint64_t)m->rate, r, sizeof(r));
	if (m->rate > 1 && total > done) {
		long s = (long)((double)(total - done) / m->rate);

		if (s >= 3600)
			snprintf(eta, sizeof(eta), " ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60,
			         s % 60);
		else
			snprintf(eta, sizeof(eta), " ETA %ld:%02ld", s / 60, s % 60);
	}
	snprintf(out, cap, "%s/%s %s/s%s", a, b, r, eta);
}

/* Into a log: every PLAIN_INTERVAL seconds one line with no escape sequences. */
static void draw_plain(struct ms_progress *p, double now)
{
	char tail[160];

	if (now - p->last_plain < PLAIN_INTERVAL)
		return;
	p->last_plain = now;
	meter_tail(&p->m, p->total_done, p->total_size, tail, sizeof(tail));
	fprintf(p->out, "mscli: %zu/%zu files, %d%%, %s\n", p->files_done, p->nfiles,
	        p->total_size ? (int)(p->total_done * 100 / p->total_size) : 100, tail);
	fflush(p->out);
}

static void draw(struct ms_progress *p)
{
	char tail[160], lab[64];
	double now = ms_now();

	if (p->plain) {
		meter_update(&p->m, now, p->total_done);
		draw_plain(p, now);
		p->last_draw = now;
		return;
	}
	erase(p);
	for (size_t i = 0; i < p->n && i < MAX_BARS; i++) {
		struct bar *bar = &p->bars[i];

		meter_update(&bar->m, now, bar->done);
		if (bar->verifying)
			snprintf(tail, sizeof(tail), "verifying");
		else
			meter_tail(&bar->m, bar->done, bar->job->size, tail, sizeof(tail));
		line(p, bar->job->name, bar->done, bar->job->size, tail);
	}
	meter_update(&p->m, now, p->total_done);
	meter_tail(&p->m, p->total_done, p->total_size, tail, sizeof(tail));
	snprintf(lab, sizeof(lab), "total %zu/%zu files", p->files_done, p->nfiles);
	line(p, lab, p->total_done, p->total_size, tail);
	fflush(p->out);
	p->last_draw = now;
}

static struct bar *find(struct ms_progress *p, const struct ms_xfer_job *job)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->bars[i].job == job)
			return &p->bars[i];
	return NULL;
}

static void drop(struct ms_progress *p, const struct ms_xfer_job *job)
{
	struct bar *b = find(p, job);

	if (!b)
		return;
	memmove(b, b + 1, (size_t)(p->bars + p->n - b - 1) * sizeof(*b));
	p->n--;
}

void ms_progress_drop(struct ms_progress *p, const struct ms_xfer_job *job)
{
	if (p)
		drop(p, job);
}

void ms_progress_note(struct ms_progress *p, const char *text)
{
	if (!p)
		return;
	erase(p);
	fprintf(p->out, "%s\n", text);
	draw(p);
}

void ms_progress_event(struct ms_progress *p, const struct ms_event *ev)
{
	struct bar *b;
	char note[1200];

	if (!p)
		return;
	p->total_done = ev->total_done;
	switch (ev->type) {
	case MS_EV_PLAN:
		p->total_size = ev->total_size;
		p->nfiles = ev->nfiles;
		p->m = (struct meter){.t = ms_now(), .bytes = ev->total_done};
		return;
	case MS_EV_START:
		ms_grow((void **)&p->bars, &p->cap, p->n + 1, sizeof(*p->bars));
		p->bars[p->n++] = (struct bar){.job = ev->job,
		                               .done = ev->job_done,
		                               .m = {.t = ms_now(), .bytes = ev->job_done}};
		break;
	case MS_EV_PROGRESS:
		if (ev->job) {
			if ((b = find(p, ev->job)) != NULL)
				b->done = ev->job_done;
			return; /* the aggregate event that follows redraws */
		}
		/* an engine that is fed while it runs (uploads) grows its totals */
		p->total_size = ev->total_size;
		p->nfiles = ev->nfiles;
		if (ms_now() - p->last_draw < DRAW_INTERVAL)
			return;
		break;
	case MS_EV_VERIFY:
		if ((b = find(p, ev->job)) != NULL) {
			b->verifying = true;
			b->done = ev->job->size;
		}
		break;
	case MS_EV_RETRY:
		snprintf(note, sizeof(note), "mscli: retrying '%s': %s", ev->job->name,
		         ev->reason ? ev->reason : "");
		ms_progress_note(p, note);
		return;
	case MS_EV_DONE:
	case MS_EV_ERROR:
		drop(p, ev->job);
		p->files_done++;
		break;
	case MS_EV_FINISH:
		erase(p);
		fflush(p->out);
		return;
	}
	draw(p);
}

void ms_progress_free(struct ms_progress *p)
{
	if (!p)
		return;
	free(p->bars);
	free(p);
}
