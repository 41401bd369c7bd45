/*
 * INI text as Python's configparser writes it ("[name]\nkey = value\n\n"):
 * huggingface_hub's stored_tokens.  Sections are kept whole, so what another
 * program stored in a section (OAuth refresh tokens) survives a rewrite.
 */
#ifndef MSCLI_INI_H
#define MSCLI_INI_H

#include <stddef.h>

#include "strbuf.h"

struct ms_ini_section {
	char *name;
	char *body; /* its lines, each ending in '\n' */
};

struct ms_ini {
	struct ms_ini_section *v;
	size_t n, cap;
};

/* Lines before the first section are dropped (configparser refuses them). */
void ms_ini_parse(const char *text, size_t len, struct ms_ini *out);
struct ms_ini_section *ms_ini_find(const struct ms_ini *ini, const char *name);
/* The value of key in s (keys compare case-insensitively, as configparser's do), or NULL. */
char *ms_ini_value(const struct ms_ini_section *s, const char *key);
/* Replace section name (or add it) with body. */
void ms_ini_set(struct ms_ini *ini, const char *name, const char *body);
void ms_ini_remove(struct ms_ini *ini, const char *name);
/* Sections sorted by name, each followed by an empty line (huggingface_hub's order). */
void ms_ini_write(const struct ms_ini *ini, struct ms_buf *out);
void ms_ini_release(struct ms_ini *ini);

#endif
