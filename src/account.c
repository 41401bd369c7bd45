/* Login, logout, whoami (account.h): the order that keeps a bad token out of every file. */
#include "mscli/account.h"

int ms_login(struct ms_session *s, const char *token, struct ms_account *who,
             struct ms_strlist *written, struct ms_error *err)
{
	const struct ms_hub *hub = s->hub;
	int ret;

	if (!hub->whoami || !hub->token_store)
		return ms_error_set(err, MS_EUSAGE, "%s has no login", hub->name);
	ms_session_set_token(s, token);
	/* checked before anything is written: a refused token is stored nowhere */
	ret = hub->whoami(s, who, err);
	if (!ret)
		ret = hub->token_store(s, token, who, written, err);
	return ret;
}

int ms_logout(const struct ms_hub *hub, struct ms_strlist *removed, struct ms_error *err)
{
	if (!hub->token_forget)
		return ms_error_set(err, MS_EUSAGE, "%s has no login", hub->name);
	return hub->token_forget(removed, err);
}

int ms_whoami(struct ms_session *s, struct ms_account *who, struct ms_error *err)
{
	if (!s->hub->whoami)
		return ms_error_set(err, MS_EUSAGE, "%s has no whoami", s->hub->name);
	return s->hub->whoami(s, who, err);
}
