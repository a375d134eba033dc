/* Option values. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool cli_parse_long(const char *s, long long lo, long long hi, long long *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno == ERANGE || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool cli_parse_int(const char *s, int lo, int hi, int *out)
{
	long long v;
	if (!cli_parse_long(s, lo, hi, &v))
		return false;
	*out = (int)v;
	return true;
}

bool cli_parse_double(const char *s, double lo, double hi, double *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool cli_parse_range(const char *s, double lo, double hi, double *a, double *b)
{
	if (!s)
		return false;
	/* the separator is the first ':' after the first character (a leading '-' is a sign) */
	const char *colon = strchr(s + (*s ? 1 : 0), ':');
	if (!colon) {
		if (!cli_parse_double(s, lo, hi, a))
			return false;
		*b = *a;
		return true;
	}
	size_t n = (size_t)(colon - s);
	char first[64];
	if (n == 0 || n >= sizeof first)
		return false;
	memcpy(first, s, n);
	first[n] = '\0';
	return cli_parse_double(first, lo, hi, a) && cli_parse_double(colon + 1, lo, hi, b) &&
	       *a <= *b;
}

int cli_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > 64 ? 64 : (int)n;
}
