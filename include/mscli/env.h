/* The environment: variables, home, path expansion. */
#ifndef MSCLI_ENV_H
#define MSCLI_ENV_H

#include <stdbool.h>

/* NULL when unset or empty. */
const char *ms_getenv(const char *name);
/* Truthy like huggingface_hub: 1, ON, YES, TRUE (any case). */
bool ms_env_true(const char *name);
/* $HOME/rel */
char *ms_home_path(const char *rel);
/* $VAR, ${VAR} and a leading ~ expanded, as huggingface_hub does for HF_HOME & co. */
char *ms_expand_path(const char *v);

#endif
