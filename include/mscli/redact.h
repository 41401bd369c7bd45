/*
 * Secrets (tokens, URL passwords) registered here, and the signatures of
 * presigned URLs, are replaced by "***" in every error message and log
 * line, so none reaches stderr.
 */
#ifndef MSCLI_REDACT_H
#define MSCLI_REDACT_H

void ms_redact_add(const char *secret);
/* The password of http://user:secret@host/ (curl sends it as Basic auth). */
void ms_redact_url_userinfo(const char *url);
/* Replace every registered secret in s, and the signature of every presigned URL in it
 * (X-Amz-Signature=, Signature=, ...-Security-Token=, ...); s only shrinks. */
void ms_redact_in_place(char *s);

#endif
