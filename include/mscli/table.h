/*
 * Tables for listings (search results, cached repos, a repo's files): on a
 * terminal an aligned table fitted to its width, dropping whole columns in
 * a fixed order rather than cutting numbers; into a pipe tab-separated
 * lines, no header, every column, the first one the id (for cut, awk and
 * xargs).
 */
#ifndef MSCLI_TABLE_H
#define MSCLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common.h"

struct ms_column {
	const char *name; /* the header */
	bool right;       /* numbers: right-aligned */
	/* 0: never dropped; else dropped when the table does not fit, highest first */
	int drop;
	/* text that may be shortened (with "...") before columns are dropped, down to this
	 * many columns; 0: never shortened */
	int shrink_to;
	/* 0: a dropped column is shortened before any column goes, one never dropped after
	 * all that may go have gone; else the column is shortened in turn with the drops, as
	 * if it were a drop of this rank (after columns of a higher drop went, before those of
	 * a lower one): an id shortened before the facts beside it go */
	int shrink_rank;
};

struct ms_table;

struct ms_table *ms_table_new(const struct ms_column *cols, size_t ncols);
/* One row: ncols cells (NULL is shown empty), copied. */
void ms_table_add(struct ms_table *t, const char *const *cells);
void ms_table_addf(struct ms_table *t, size_t col, const char *fmt, ...) MS_PRINTF(3, 4);
size_t ms_table_rows(const struct ms_table *t);
/* As a table when tty (fitted to width columns; 0: the terminal's, else $COLUMNS, else 80),
 * else tab-separated.  0, or -1 when out could not be written. */
int ms_table_print(const struct ms_table *t, FILE *out, bool tty, int width);
void ms_table_free(struct ms_table *t);

/* The display width of a UTF-8 string (wide characters count 2). */
size_t ms_display_width(const char *s);
/* The terminal width of out, else $COLUMNS, else 80. */
int ms_terminal_width(FILE *out);

#endif
