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
/* Whether a path made since the last call needed a home and neither HOME nor the password
 * database gave one (a container's arbitrary uid): such paths are below "/" and must not
 * be used.  Clears what it tells. */
bool ms_home_missing(void);
/* The usage error (exit 2) that says so. */
struct ms_error;
int ms_home_error(struct ms_error *err);
/* The same, naming what else would do ("HF_HOME or HF_TOKEN_PATH"). */
int ms_home_error_for(struct ms_error *err, const char *instead);
/* A leading ~, ~/ or ~user expanded, as Python's os.path.expanduser (for option values). */
char *ms_expand_tilde(const char *v);
/* $VAR, ${VAR} and a leading ~ expanded, as huggingface_hub does for HF_HOME & co. */
char *ms_expand_path(const char *v);

#endif
