/* Exact numbers and strings out of cJSON values. */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/json.h"
#include "mscli/strbuf.h"

bool ms_json_u64(const cJSON *v, uint64_t *out)
{
	/* a byte count: integral, not negative, exact in a double (2^53) */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
	    floor(v->valuedouble) != v->valuedouble)
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

bool ms_json_epoch(const cJSON *v, long *out)
{
	uint64_t t;

	if (!ms_json_u64(v, &t))
		return false;
	/* epoch seconds; tolerate milliseconds */
	*out = (long)(t > 100000000000ULL ? t / 1000 : t);
	return true;
}

const char *ms_json_string(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long ms_json_count(const cJSON *o, const char *k)
{
	uint64_t n;

	return ms_json_u64(cJSON_GetObjectItemCaseSensitive(o, k), &n) ? (long long)n : -1;
}

char *ms_json_text(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v), *out;

	/* cJSON's allocator is its own: copy into ours */
	out = xstrdup(s ? s : "null");
	cJSON_free(s);
	return out;
}

/* What JSON escapes: the quote, the backslash and the control bytes 0x01-0x1f. */
#define ESCAPED                                                                                    \
	"\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15" \
	"\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

void ms_json_quote(struct ms_buf *out, const char *s)
{
	ms_buf_addch(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t run = strcspn((const char *)p, ESCAPED);

		ms_buf_add(out, p, run); /* what needs no escape goes in one piece */
		p += run;
		if (!*p)
			break;
		static const char controls[] = "\b\f\n\r\t", letters[] = "bfnrt";
		const char *k = strchr(controls, *p); /* cJSON's short forms: its very bytes */

		if (*p == '"' || *p == '\\')
			ms_buf_addf(out, "\\%c", *p);
		else if (k)
			ms_buf_addf(out, "\\%c", letters[k - controls]);
		else
			ms_buf_addf(out, "\\u%04x", *p);
		p++;
	}
	ms_buf_addch(out, '"');
}
