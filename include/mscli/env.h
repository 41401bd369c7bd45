/* The environment: variables, home, path expansion. */
#ifndef MSCLI_ENV_H
#define MSCLI_ENV_H

#include <stdbool.h>

/* NULL when unset or empty. */
const char *ms_getenv(const char *name);
/* Truthy like huggingface_hub: 1, ON, YES, TRUE (any case). */
bool ms_env_true(const char *name);
/* $HOME/rel (the password database's home when HOME is unset, as the official clients). */
char *ms_home_path(const char *rel);
/* A leading ~, ~/ or ~user expanded, as Python's os.path.expanduser (for option values). */
char *ms_expand_tilde(const char *v);
/* $VAR, ${VAR} and a leading ~ expanded, as huggingface_hub does for HF_HOME & co. */
char *ms_expand_path(const char *v);

#endif
