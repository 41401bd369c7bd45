/* Numbers, sizes, hex, times. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mscli/common.h"
#include "mscli/parse.h"

int ms_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int ms_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	uint64_t mult = 1;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end) {
		static const struct {
			const char *suffix;
			uint64_t mult;
		} units[] = {
		        {"b", 1},
		        {"k", 1ULL << 10},
		        {"kib", 1ULL << 10},
		        {"kb", 1000ULL},
		        {"m", 1ULL << 20},
		        {"mib", 1ULL << 20},
		        {"mb", 1000000ULL},
		        {"g", 1ULL << 30},
		        {"gib", 1ULL << 30},
		        {"gb", 1000000000ULL},
		        {"t", 1ULL << 40},
		        {"tib", 1ULL << 40},
		        {"tb", 1000000000000ULL},
		};
		size_t i;

		for (i = 0; i < MS_ARRAY_SIZE(units); i++)
			if (!strcasecmp(end, units[i].suffix))
				break;
		if (i == MS_ARRAY_SIZE(units))
			return -1;
		mult = units[i].mult;
	}
	if (v * (double)mult > 1.8e19)
		return -1;
	*out = (uint64_t)(v * (double)mult);
	return 0;
}

int ms_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0 || v != v)
		return -1;
	*out = v;
	return 0;
}

int ms_parse_duration(const char *s, double *out)
{
	static const struct {
		char unit;
		double seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	double total = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		char *end;
		double v;
		size_t i;

		if (!(isdigit((unsigned char)*s) || *s == '.'))
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s || v < 0 || v != v)
			return -1;
		if (!*end) { /* a bare number: seconds, only alone or last */
			total += v;
			break;
		}
		for (i = 0; i < MS_ARRAY_SIZE(units); i++)
			if (tolower((unsigned char)*end) == units[i].unit)
				break;
		if (i == MS_ARRAY_SIZE(units))
			return -1;
		total += v * units[i].seconds;
		s = end + 1;
	}
	*out = total;
	return 0;
}

void ms_format_size(uint64_t n, char *out, size_t outlen)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < MS_ARRAY_SIZE(unit)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, "%.1f %s", v, unit[u]);
}

void ms_format_ago(double seconds, char *out, size_t outlen)
{
	static const struct {
		const char *unit;
		double seconds;
	} units[] = {{"year", 365 * 86400.0}, {"month", 30 * 86400.0}, {"week", 7 * 86400.0},
	             {"day", 86400},          {"hour", 3600},          {"minute", 60}};

	for (size_t i = 0; i < MS_ARRAY_SIZE(units); i++) {
		long n = (long)(seconds / units[i].seconds);

		if (n >= 1) {
			snprintf(out, outlen, "%ld %s%s ago", n, units[i].unit, n > 1 ? "s" : "");
			return;
		}
	}
	snprintf(out, outlen, seconds < -60 ? "in the future" : "just now");
}

void ms_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

bool ms_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

void ms_lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

bool ms_is_commit_id(const char *rev)
{
	return rev && strlen(rev) == 40 && ms_is_hex(rev, 40);
}

void ms_format_time(long epoch, char out[MS_TIME_LEN])
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, MS_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/* n digits at *p as a number in [min, max]; *p moves past them. */
static bool take_digits(const char **p, int n, int min, int max, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return v >= min && v <= max;
}

/* "Z", "+HH:MM", "+HHMM", "+HH" or nothing: seconds east of UTC. */
static bool take_zone(const char *p, long *offset)
{
	int sign, h = 0, m = 0;

	*offset = 0;
	if (!*p || ((*p == 'Z' || *p == 'z') && !p[1]))
		return true;
	if (*p != '+' && *p != '-')
		return false;
	sign = *p++ == '-' ? -1 : 1;
	if (!take_digits(&p, 2, 0, 23, &h))
		return false;
	if (*p == ':')
		p++;
	if (*p && !take_digits(&p, 2, 0, 59, &m))
		return false;
	*offset = sign * (h * 3600L + m * 60L);
	return !*p;
}

int ms_parse_time(const char *s, char out[MS_TIME_LEN])
{
	struct tm tm;
	const char *p = s;
	long offset;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!p || !take_digits(&p, 4, 1970, 9999, &tm.tm_year) || *p++ != '-' ||
	    !take_digits(&p, 2, 1, 12, &tm.tm_mon) || *p++ != '-' ||
	    !take_digits(&p, 2, 1, 31, &tm.tm_mday))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!take_digits(&p, 2, 0, 23, &tm.tm_hour) || *p++ != ':' ||
		    !take_digits(&p, 2, 0, 59, &tm.tm_min))
			return -1;
		/* seconds may be left out; 60 is a leap second */
		if (*p == ':' && (p++, !take_digits(&p, 2, 0, 60, &tm.tm_sec)))
			return -1;
		if (*p == '.' || *p == ',') /* a fraction of a second: dropped */
			for (p++; isdigit((unsigned char)*p);)
				p++;
	}
	if (!take_zone(p, &offset))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	ms_format_time((long)(t - offset), out);
	return out[0] ? 0 : -1;
}
