/* Progress bars on a terminal: one line per active file and a total line. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mscli/alloc.h"
#include "mscli/clock.h"
#include "mscli/parse.h"
#include "mscli/render.h"
#include "mscli/ui.h"

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
	const char *what; /* ms_progress_begin: "verify", in place of "total" */
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

bool ms_term_is_dumb(void)
{
	const char *t = getenv("TERM");

	return t && !strcmp(t, "dumb");
}

struct ms_progress *ms_progress_new(FILE *out)
{
	struct ms_progress *p = xcalloc(1, sizeof(*p));

	p->out = out;
	p->start = p->m.t = p->last_plain = ms_now();
	/* not a terminal (--progress into a CI log), or one that cannot move the cursor */
	p->plain = !isatty(fileno(out)) || ms_term_is_dumb();
	return p;
}

static int term_width(FILE *out)
{
	struct winsize ws;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
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

/* What follows a bar, each piece in a fixed width so the bars do not jitter. */
struct tail {
	char sizes[80]; /* "1.2 GiB/4.0 GiB" */
	char rate[48];  /* "310 MiB/s" */
	char eta[64];   /* "ETA 0:09" */
};

#define SIZES_W   19
#define RATE_W    12
#define ETA_W     12
#define BAR_MIN   10
#define LABEL_MIN 10

/*
 * One line that never wraps (a wrapped line would break erase()): label, bar, percent, tail.
 * When the terminal is narrow, whole pieces go in a fixed order (the bar, the time left, the
 * rate, the sizes, then the label shrinks): a number is shown whole or not at all.
 */
static void line(struct ms_progress *p, const char *label, uint64_t done, uint64_t total,
                 const struct tail *t)
{
	int width = term_width(p->out) - 1; /* the last column would wrap on some terminals */
	int labelw = width / 4 < 16 ? width / 3 : width / 4 > 200 ? 200 : width / 4;
	int used, barw = 0;
	bool sizes, rate, eta;
	char lab[256];
	size_t ll = strlen(label);

	if (labelw < LABEL_MIN)
		labelw = LABEL_MIN;
	if (labelw + 5 > width)
		labelw = width - 5 > 1 ? width - 5 : 1;
	used = labelw + 5; /* label, " 100%" */
	sizes = used + 1 + SIZES_W <= width;
	used += sizes ? 1 + SIZES_W : 0;
	rate = sizes && used + 1 + RATE_W <= width;
	used += rate ? 1 + RATE_W : 0;
	eta = rate && used + 1 + ETA_W <= width;
	used += eta ? 1 + ETA_W : 0;
	if (width - used - 1 - 2 >= BAR_MIN)
		barw = width - used - 1 - 2;
	/* keep the end of long paths: it names the file */
	if (ll > (size_t)labelw && labelw > 3)
		snprintf(lab, sizeof(lab), "...%.*s", labelw - 3, label + ll - (size_t)labelw + 3);
	else
		snprintf(lab, sizeof(lab), "%.*s", labelw, label);
	fprintf(p->out, "\x1b[2K%-*s", labelw, lab);
	if (barw) {
		fputc(' ', p->out);
		draw_bar(p->out, barw, done, total);
	}
	fprintf(p->out, " %3d%%", total ? (int)(done * 100 / total) : 100);
	if (sizes)
		fprintf(p->out, " %-*.*s", SIZES_W, SIZES_W, t->sizes);
	/* the rate and the time left read together: "1.6 MiB/s ETA 0:02" */
	if (rate && eta)
		fprintf(p->out, " %s%s%-*s", t->rate, t->eta[0] ? " " : "",
		        RATE_W + 1 + ETA_W - (int)strlen(t->rate) - (t->eta[0] ? 1 : 0), t->eta);
	else if (rate)
		fprintf(p->out, " %-*.*s", RATE_W, RATE_W, t->rate);
	fputc('\n', p->out);
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

/* What is done, the rate and the time left: "1.2 GiB/4.0 GiB", "310 MiB/s", "ETA 0:09". */
static void meter_tail(const struct meter *m, uint64_t done, uint64_t total, struct tail *t)
{
	char a[32], b[32], r[32];

	ms_format_size(done, a, sizeof(a));
	ms_format_size(total, b, sizeof(b));
	ms_format_size((uint64_t)m->rate, r, sizeof(r));
	snprintf(t->sizes, sizeof(t->sizes), "%s/%s", a, b);
	snprintf(t->rate, sizeof(t->rate), "%s/s", r);
	t->eta[0] = '\0';
	if (m->rate > 1 && total > done) {
		long s = (long)((double)(total - done) / m->rate);

		if (s >= 3600)
			snprintf(t->eta, sizeof(t->eta), "ETA %ld:%02ld:%02ld", s / 3600,
			         s / 60 % 60, s % 60);
		else
			snprintf(t->eta, sizeof(t->eta), "ETA %ld:%02ld", s / 60, s % 60);
	}
}

/* Into a log: every PLAIN_INTERVAL seconds one line with no escape sequences. */
static void draw_plain(struct ms_progress *p, double now)
{
	struct tail t = {0};

	if (now - p->last_plain < PLAIN_INTERVAL)
		return;
	p->last_plain = now;
	meter_tail(&p->m, p->total_done, p->total_size, &t);
	fprintf(p->out, "mscli: %zu/%zu files, %d%%, %s %s%s%s\n", p->files_done, p->nfiles,
	        p->total_size ? (int)(p->total_done * 100 / p->total_size) : 100, t.sizes, t.rate,
	        t.eta[0] ? " " : "", t.eta);
	fflush(p->out);
}

static void draw(struct ms_progress *p)
{
	struct tail t = {0};
	char lab[64];
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
			t = (struct tail){.sizes = "verifying"};
		else
			meter_tail(&bar->m, bar->done, bar->job->size, &t);
		line(p, bar->job->name, bar->done, bar->job->size, &t);
	}
	meter_update(&p->m, now, p->total_done);
	meter_tail(&p->m, p->total_done, p->total_size, &t);
	snprintf(lab, sizeof(lab), "%s %zu/%zu files", p->what ? p->what : "total", p->files_done,
	         p->nfiles);
	if ((int)strlen(lab) > term_width(p->out) / 3) /* narrow: the counts matter more */
		snprintf(lab, sizeof(lab), "%zu/%zu files", p->files_done, p->nfiles);
	line(p, lab, p->total_done, p->total_size, &t);
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
		return; /* the command says it, above the bars */
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

void ms_progress_begin(struct ms_progress *p, const char *what, size_t nfiles, uint64_t total)
{
	if (!p)
		return;
	p->what = what;
	p->nfiles = nfiles;
	p->total_size = total;
	p->m = (struct meter){.t = ms_now(), .bytes = 0};
}

void ms_progress_update(struct ms_progress *p, size_t files_done, uint64_t bytes_done)
{
	if (!p)
		return;
	p->files_done = files_done;
	p->total_done = bytes_done;
	if (ms_now() - p->last_draw >= DRAW_INTERVAL || files_done == p->nfiles)
		draw(p);
}

struct ms_progress *ms_progress_start(const char *what, size_t nfiles, uint64_t total)
{
	struct ms_progress *p = ms_progress_new(stderr);

	ms_ui_set_progress(p);
	ms_progress_begin(p, what, nfiles, total);
	return p;
}

void ms_progress_stop(struct ms_progress **p)
{
	struct ms_event fin = {.type = MS_EV_FINISH};

	if (!*p)
		return;
	ms_progress_event(*p, &fin);
	ms_ui_set_progress(NULL);
	ms_progress_free(*p);
	*p = NULL;
}

void ms_progress_free(struct ms_progress *p)
{
	if (!p)
		return;
	free(p->bars);
	free(p);
}
