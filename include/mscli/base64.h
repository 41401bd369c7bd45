/* Base64 (RFC 4648, with padding): file contents inlined in commit requests. */
#ifndef MSCLI_BASE64_H
#define MSCLI_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The length of the encoding of n bytes. */
uint64_t ms_base64_len(uint64_t n);
/* Append the encoding of in[0..n) to out.  Chunks of a longer input must have a
 * length that is a multiple of 3, except the last. */
void ms_base64_encode(const void *in, size_t n, struct ms_buf *out);
/* Decode s (padding optional, no whitespace): 0, or -1 when it is not base64. */
int ms_base64_decode(const char *s, size_t n, struct ms_buf *out);

#endif
