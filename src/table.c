/* Tables fitted to the terminal, or tab-separated for pipes (table.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include "mscli/alloc.h"
#include "mscli/env.h"
#include "mscli/parse.h"
#include "mscli/strbuf.h"
#include "mscli/table.h"

struct ms_table {
	const struct ms_column *cols;
	size_t ncols;
	char **cells; /* rows * ncols */
	size_t nrows, cap;
	bool row_open; /* ms_table_addf started a row */
};

struct ms_table *ms_table_new(const struct ms_column *cols, size_t ncols)
{
	struct ms_table *t = xcalloc(1, sizeof(*t));

	t->cols = cols;
	t->ncols = ncols;
	return t;
}

static char **new_row(struct ms_table *t)
{
	ms_grow((void **)&t->cells, &t->cap, (t->nrows + 1) * t->ncols, sizeof(*t->cells));
	memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->cells));
	return t->cells + t->nrows++ * t->ncols;
}

void ms_table_add(struct ms_table *t, const char *const *cells)
{
	char **row = new_row(t);

	for (size_t i = 0; i < t->ncols; i++)
		row[i] = xstrdup(cells[i] ? cells[i] : "");
	t->row_open = false;
}

/* Cells one at a time: column 0 starts a new row. */
void ms_table_addf(struct ms_table *t, size_t col, const char *fmt, ...)
{
	char **row;
	va_list ap;

	if (col == 0 || !t->row_open) {
		row = new_row(t);
		for (size_t i = 0; i < t->ncols; i++)
			row[i] = xstrdup("");
		t->row_open = true;
	}
	row = t->cells + (t->nrows - 1) * t->ncols;
	free(row[col]);
	va_start(ap, fmt);
	row[col] = xvasprintf(fmt, ap, NULL);
	va_end(ap);
}

size_t ms_table_rows(const struct ms_table *t)
{
	return t->nrows;
}

/* One character of s: its length in bytes and its display width. */
static size_t next_char(const char *s, int *width)
{
	mbstate_t st;
	wchar_t wc;
	size_t n;

	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*width = 1; /* not valid here (a C locale): one byte, one column */
		return 1;
	}
	*width = wcwidth(wc);
	if (*width < 0)
		*width = 1;
	return n;
}

size_t ms_display_width(const char *s)
{
	size_t w = 0;
	int cw;

	while (*s) {
		s += next_char(s, &cw);
		w += (size_t)cw;
	}
	return w;
}

int ms_terminal_width(FILE *out)
{
	struct winsize ws;
	const char *v = ms_getenv("COLUMNS");
	uint64_t n;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (v && ms_parse_u64(v, &n) == 0 && n > 0 && n < 10000)
		return (int)n;
	return 80;
}

/* s within width columns: the start, then "..." when it had to be cut. */
static void put_cell(struct ms_buf *b, const char *s, size_t width, bool right, bool last)
{
	size_t w = ms_display_width(s), used = 0;
	int cw;

	if (w > width) {
		/* keep what fits before "..." */
		while (*s) {
			size_t n = next_char(s, &cw);

			if (used + (size_t)cw + 3 > width)
				break;
			ms_buf_add(b, s, n);
			s += n;
			used += (size_t)cw;
		}
		ms_buf_adds(b, width >= 3 ? "..." : "");
		used += width >= 3 ? 3 : 0;
		for (; used < width && !last; used++)
			ms_buf_addch(b, ' ');
		return;
	}
	if (right)
		for (size_t i = w; i < width; i++)
			ms_buf_addch(b, ' ');
	ms_buf_adds(b, s);
	if (!right && !last)
		for (size_t i = w; i < width; i++)
			ms_buf_addch(b, ' ');
}

static int print_tsv(const struct ms_table *t, FILE *out)
{
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			/* a tab or newline inside a cell would break the columns */
			for (const char *p = cell; *p; p++)
				fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, out);
			fputc(c + 1 < t->ncols ? '\t' : '\n', out);
		}
	return ferror(out) ? -1 : 0;
}

/* Column c shortened by what the table is too wide, down to its shrink_to. */
static void shorten(const struct ms_table *t, size_t c, int width, size_t *widths, size_t *total)
{
	size_t min = (size_t)t->cols[c].shrink_to, over = *total - (size_t)width;
	size_t cut = widths[c] <= min ? 0 : over < widths[c] - min ? over : widths[c] - min;

	widths[c] -= cut;
	*total -= cut;
}

/* Drops, and the shortenings ranked among them (shrink_rank), highest rank first. */
static void drop_columns(const struct ms_table *t, int width, size_t *widths, bool *shown,
                         size_t *total)
{
	bool *shortened = xcalloc(t->ncols, sizeof(*shortened));
	size_t *natural = xcalloc(t->ncols, sizeof(*natural));

	memcpy(natural, widths, t->ncols * sizeof(*widths));

	while (*total > (size_t)width) {
		size_t best = t->ncols;
		int rank = 0;
		bool drop = false;

		for (size_t c = 0; c < t->ncols; c++) {
			if (!shown[c])
				continue;
			if (t->cols[c].drop > rank) {
				best = c;
				rank = t->cols[c].drop;
				drop = true;
			}
			if (t->cols[c].shrink_rank > rank && !shortened[c]) {
				best = c;
				rank = t->cols[c].shrink_rank;
				drop = false;
			}
		}
		if (best == t->ncols)
			break; /* nothing more may go */
		if (drop) {
			shown[best] = false;
			*total -= widths[best] + 2;
		} else {
			shortened[best] = true;
			shorten(t, best, width, widths, total);
		}
	}
	/* a drop after a shortening may leave room: the first shortened get it back first */
	for (int rank = INT_MAX; *total < (size_t)width;) {
		size_t c = t->ncols, more;

		for (size_t k = 0; k < t->ncols; k++)
			if (shortened[k] && shown[k] && t->cols[k].shrink_rank < rank &&
			    (c == t->ncols || t->cols[k].shrink_rank > t->cols[c].shrink_rank))
				c = k;
		if (c == t->ncols)
			break;
		rank = t->cols[c].shrink_rank;
		more = natural[c] - widths[c];
		more = more < (size_t)width - *total ? more : (size_t)width - *total;
		widths[c] += more;
		*total += more;
	}
	free(natural);
	free(shortened);
}

/* Which columns show and how wide, for a terminal of width columns. */
static void fit(const struct ms_table *t, int width, size_t *widths, bool *shown)
{
	size_t total = 0, n = 0, *by_drop = xcalloc(t->ncols, sizeof(*by_drop));

	/* columns by ascending drop: the last ones are shortened first */
	for (size_t c = 0; c < t->ncols; c++)
		by_drop[c] = c;
	for (size_t i = 1; i < t->ncols; i++)
		for (size_t j = i; j > 0 && t->cols[by_drop[j - 1]].drop > t->cols[by_drop[j]].drop;
		     j--) {
			size_t x = by_drop[j];

			by_drop[j] = by_drop[j - 1];
			by_drop[j - 1] = x;
		}

	for (size_t c = 0; c < t->ncols; c++) {
		widths[c] = ms_display_width(t->cols[c].name);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = ms_display_width(t->cells[r * t->ncols + c]);

			if (w > widths[c])
				widths[c] = w;
		}
		shown[c] = true;
		total += widths[c];
		n++;
	}
	total += 2 * (n - 1);
	/* shorten what may be shortened (the least important first), then drop whole columns
	 * (highest drop first), and only then shorten the columns that never go (the id) */
	for (int pass = 0; pass < 3 && total > (size_t)width; pass++) {
		if (pass == 1) {
			drop_columns(t, width, widths, shown, &total);
			continue;
		}
		for (size_t k = t->ncols; k-- > 0 && total > (size_t)width;) {
			size_t c = pass == 0 ? by_drop[k] : k;

			if (t->cols[c].shrink_to && !t->cols[c].shrink_rank && shown[c] &&
			    (pass == 0) == (t->cols[c].drop != 0))
				shorten(t, c, width, widths, &total);
		}
	}
	free(by_drop);
}

int ms_table_print(const struct ms_table *t, FILE *out, bool tty, int width)
{
	size_t *widths;
	bool *shown;
	struct ms_buf line = MS_BUF_INIT;

	if (!tty)
		return print_tsv(t, out);
	if (width <= 0)
		width = ms_terminal_width(out);
	widths = xcalloc(t->ncols, sizeof(*widths));
	shown = xcalloc(t->ncols, sizeof(*shown));
	fit(t, width, widths, shown);
	for (size_t r = 0; r <= t->nrows; r++) {
		size_t last = 0;
		bool first = true;

		for (size_t c = 0; c < t->ncols; c++)
			if (shown[c])
				last = c;
		ms_buf_release(&line);
		ms_buf_adds(&line, "");
		for (size_t c = 0; c < t->ncols; c++) {
			if (!shown[c])
				continue;
			if (!first)
				ms_buf_adds(&line, "  ");
			first = false;
			put_cell(&line, r ? t->cells[(r - 1) * t->ncols + c] : t->cols[c].name,
			         widths[c], r && t->cols[c].right, c == last);
		}
		fprintf(out, "%s\n", line.data);
	}
	ms_buf_release(&line);
	free(widths);
	free(shown);
	return ferror(out) ? -1 : 0;
}

void ms_table_free(struct ms_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
