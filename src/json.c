/* Exact numbers and strings out of cJSON values. */
#include <math.h>

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

void ms_json_quote(struct ms_buf *out, const char *s)
{
	ms_buf_addch(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t run = 0;

		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
			run++; /* what needs no escape goes in one piece */
		if (run) {
			ms_buf_add(out, p, run);
			p += run - 1;
			continue;
		}
		const char *esc = *p == '\n'   ? "\\n"
		                  : *p == '\r' ? "\\r"
		                  : *p == '\t' ? "\\t"
		                               : NULL;

		if (*p == '"' || *p == '\\')
			ms_buf_addf(out, "\\%c", *p);
		else if (esc)
			ms_buf_adds(out, esc);
		else if (*p < 0x20)
			ms_buf_addf(out, "\\u%04x", *p);
		else
			ms_buf_addch(out, (char)*p);
	}
	ms_buf_addch(out, '"');
}
