/* Internal helpers: error messages, strings, checked sizes, aligned memory, a seeded generator. */
#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stride_set_err(char *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, STRIDE_ERR_LEN, fmt, ap);
	va_end(ap);
}

void stride_prefix_err(char *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[STRIDE_ERR_LEN];
	char old[STRIDE_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err, STRIDE_ERR_LEN);
	old[STRIDE_ERR_LEN - 1] = '\0';
	/* both parts are cut to fit: the message is one line of at most STRIDE_ERR_LEN */
	size_t used = strnlen(prefix, STRIDE_ERR_LEN - 3);
	memcpy(err, prefix, used);
	err[used++] = ':';
	err[used++] = ' ';
	size_t rest = strnlen(old, STRIDE_ERR_LEN - 1 - used);
	memcpy(err + used, old, rest);
	err[used + rest] = '\0';
}

char *stride_dup_string(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

void stride_free_strings(char **strings, int n)
{
	if (!strings)
		return;
	for (int i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

const char *stride_find_pair(char *const *keys, char *const *values, int n, const char *key)
{
	for (int i = 0; key && i < n; i++) {
		if (strcmp(keys[i], key) == 0)
			return values[i];
	}
	return NULL;
}

void stride_format_shape(char *buf, size_t size, const int64_t *shape, int ndim)
{
	if (size == 0)
		return;
	int w = snprintf(buf, size, "[");
	size_t at = w > 0 ? (size_t)w : 0;
	for (int i = 0; i < ndim && at < size; i++) {
		w = snprintf(buf + at, size - at, "%s%" PRId64, i ? ", " : "", shape[i]);
		if (w < 0)
			return;
		at += (size_t)w;
	}
	if (at < size)
		snprintf(buf + at, size - at, "]");
}

int stride_mul_size(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return 0;
	*out = a * b;
	return 1;
}

void *stride_alloc_aligned(size_t bytes)
{
	void *p = NULL;
	size_t rounded = (bytes + 31) & ~(size_t)31;
	if (rounded < bytes)
		return NULL;
	if (rounded == 0)
		rounded = 32;
	if (posix_memalign(&p, 32, rounded) != 0)
		return NULL;
	memset(p, 0, rounded);
	return p;
}

void stride_free_aligned(void *p)
{
	free(p);
}

void stride_rng_seed(StrideRng *rng, unsigned long long seed)
{
	rng->state = seed;
}

unsigned long long stride_rng_next(StrideRng *rng)
{
	uint64_t z = (rng->state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

double stride_rng_uniform(StrideRng *rng)
{
	return (double)(stride_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

double stride_rng_normal(StrideRng *rng)
{
	double u1 = stride_rng_uniform(rng);
	double u2 = stride_rng_uniform(rng);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
