/* Numbers, sizes, durations and hex: parsing and formatting. */
#ifndef MSCLI_PARSE_H
#define MSCLI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int ms_parse_u64(const char *s, uint64_t *out);
/* "64M", "1GiB", "500MB", "123" (binary units for K/M/G/T and KiB..., decimal for kB/MB/GB/TB) */
int ms_parse_size(const char *s, uint64_t *out);
int ms_parse_seconds(const char *s, double *out);
/* A duration: "30d", "12h", "90m", "45s", "2w", "1.5d", a bare number of seconds; sums
 * such as "1d12h".  Seconds in *out. */
int ms_parse_duration(const char *s, double *out);
void ms_format_size(uint64_t n, char *out, size_t outlen);
/* An age for people: "just now", "5 minutes ago", "3 days ago", "2 years ago". */
void ms_format_ago(double seconds, char *out, size_t outlen);
void ms_hex(const unsigned char *in, size_t n, char *out);
/* exactly n hex digits, then the end of s */
bool ms_is_hex(const char *s, size_t n);
void ms_lowercase(char *s);
/* A full git commit id: 40 hex digits (an immutable revision on both hubs). */
bool ms_is_commit_id(const char *rev);

/* Times as both hubs' searches show them: ISO 8601 in UTC, "2025-01-10T08:30:00Z". */
#define MS_TIME_LEN 21
/* Epoch seconds -> "YYYY-MM-DDTHH:MM:SSZ". */
void ms_format_time(long epoch, char out[MS_TIME_LEN]);
/*
 * A hub's time text -> the same form: "2025-01-10T08:30:00.000Z", an offset
 * ("+08:00", "+0800"), a space for the 'T', a date alone; no zone means UTC.
 * 0, or -1 when s is not such a time.
 */
int ms_parse_time(const char *s, char out[MS_TIME_LEN]);

#endif
