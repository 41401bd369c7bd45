/* Reading JSON numbers that must be exact (cJSON stores them as doubles); quoting strings. */
#ifndef MSCLI_JSON_H
#define MSCLI_JSON_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;
/* Byte counts: integral, >= 0, <= 2^53. */
bool ms_json_u64(const struct cJSON *v, uint64_t *out);
/* Epoch seconds (milliseconds tolerated). */
bool ms_json_epoch(const struct cJSON *v, long *out);
/* The string member k of object o, or NULL. */
const char *ms_json_string(const struct cJSON *o, const char *k);
/* The number member k of o as a count (downloads, likes), or -1. */
long long ms_json_count(const struct cJSON *o, const char *k);
/* v as compact JSON text (allocated): a hub's record kept as it came. */
char *ms_json_text(const struct cJSON *v);
/* s as a JSON string, quotes included (UTF-8 passes through as it is). */
struct ms_buf;
void ms_json_quote(struct ms_buf *out, const char *s);

#endif
