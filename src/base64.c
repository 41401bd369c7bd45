/* Base64 as the hubs' commit APIs take it (Python's base64.b64encode). */
#include <string.h>

#include "mscli/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

uint64_t ms_base64_len(uint64_t n)
{
	return (n + 2) / 3 * 4;
}

void ms_base64_encode(const void *in, size_t n, struct ms_buf *out)
{
	const unsigned char *p = in;
	char quad[4];

	for (; n >= 3; p += 3, n -= 3) {
		quad[0] = alphabet[p[0] >> 2];
		quad[1] = alphabet[(p[0] & 3) << 4 | p[1] >> 4];
		quad[2] = alphabet[(p[1] & 15) << 2 | p[2] >> 6];
		quad[3] = alphabet[p[2] & 63];
		ms_buf_add(out, quad, 4);
	}
	if (n) {
		quad[0] = alphabet[p[0] >> 2];
		quad[1] = alphabet[(p[0] & 3) << 4 | (n > 1 ? p[1] >> 4 : 0)];
		quad[2] = n > 1 ? alphabet[(p[1] & 15) << 2] : '=';
		quad[3] = '=';
		ms_buf_add(out, quad, 4);
	}
}

int ms_base64_decode(const char *s, size_t n, struct ms_buf *out)
{
	unsigned acc = 0;
	int bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		const char *c = s[i] ? strchr(alphabet, s[i]) : NULL;

		if (!c)
			return -1;
		acc = (acc << 6) | (unsigned)(c - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			ms_buf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	return bits >= 6 ? -1 : 0; /* a lone sextet is no byte */
}
