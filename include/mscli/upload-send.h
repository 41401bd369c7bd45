/*
 * Inside the upload operation: what upload.c (walk, plan, commits) and
 * upload-send.c (hashing and the LFS objects, overlapped) share.
 */
#ifndef MSCLI_UPLOAD_SEND_H
#define MSCLI_UPLOAD_SEND_H

#include "upload.h"

void upload_report(struct ms_upload *u, const struct ms_upfile *f, enum ms_upload_status st);
/* The file is as it was hashed (size and mtime): else its bytes may not match its oid. */
int upload_still_same(const struct ms_upfile *f, struct ms_error *err);
/*
 * Start hashing, before the hub is asked, the files whose digest the hub's rule
 * (upload_digests) already tells: the account, repo and plan calls then cost no time.
 */
void upload_hash_early(struct ms_upload *u);
/* Stop it and free it (what upload_send did not take over). */
void upload_hash_early_release(struct ms_upload *u);
/*
 * Hash every file the hub does not ignore, and send the LFS objects the hub lacks
 * while the rest is hashed; then complete and verify them.  Sets f->oid, f->sent and
 * the counts of u.
 */
int upload_send(struct ms_upload *u, struct ms_error *err);

#endif
