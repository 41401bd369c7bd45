/*
 * Login, logout, whoami: a token is checked against the hub before anything
 * is stored, then kept where the hub's own clients read it (the hub's
 * token_store), so mscli, huggingface_hub and the modelscope clients share
 * one login.  Precedence when a token is looked up (hub.c): --token, then
 * the environment, then the stored login.
 */
#ifndef MSCLI_ACCOUNT_H
#define MSCLI_ACCOUNT_H

#include "commit.h"
#include "hub.h"
#include "strbuf.h"

/* Check token with the hub (MS_EAUTH when refused: nothing is stored), then store it;
 * the paths written go to written. */
int ms_login(struct ms_session *s, const char *token, struct ms_account *who,
             struct ms_strlist *written, struct ms_error *err);
/* Erase what a login stored for hub; the paths removed go to removed (none: not logged in). */
int ms_logout(const struct ms_hub *hub, struct ms_strlist *removed, struct ms_error *err);
/* Who the session's token belongs to; MS_EAUTH when there is none or the hub refuses it. */
int ms_whoami(struct ms_session *s, struct ms_account *who, struct ms_error *err);

#endif
