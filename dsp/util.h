/* Internal: small helpers shared by the dsp sources, which the project's own
 * CLI and tests use too. Not part of the public API (stride.h names it). */
#ifndef STRIDE_UTIL_H
#define STRIDE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "stride.h"

#if defined(__GNUC__)
#define STRIDE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define STRIDE_PRINTF(a, b)
#endif

/* The one input sanitiser: a sample whose magnitude is outside
 * [STRIDE_SAMPLE_MIN, STRIDE_SAMPLE_MAX] becomes 0. That takes NaN, infinities
 * and denormals, values so small that a gain could make them denormal (where
 * the CPU does not flush them), and values so large that a sum could overflow.
 * Every path from a host's samples into the DSP goes through it (the gate's
 * delay line, the detector's mix, the streaming engine's input kernels). */
#define STRIDE_SAMPLE_MIN 1e-30f
#define STRIDE_SAMPLE_MAX 3.0e38f
static inline float stride_sanitize(float v)
{
	const float a = v < 0.0f ? -v : v;
	return (a >= STRIDE_SAMPLE_MIN && a <= STRIDE_SAMPLE_MAX) ? v : 0.0f;
}

/* Formats a message into err (STRIDE_ERR_LEN bytes) when err is not NULL. */
void stride_set_err(char *err, const char *fmt, ...) STRIDE_PRINTF(2, 3);

/* Prefix an existing message in err with "prefix: " (keeps it within STRIDE_ERR_LEN). */
void stride_prefix_err(char *err, const char *fmt, ...) STRIDE_PRINTF(2, 3);

/* A malloc'd copy of s (the caller frees it with free()), or NULL when out of memory. */
char *stride_dup_string(const char *s);

/* Frees strings[0 .. n) and the array itself (NULL allowed). */
void stride_free_strings(char **strings, int n);

/* The value paired with `key` in keys[0 .. n) / values[0 .. n) (metadata), or
 * NULL (also for a NULL key). */
const char *stride_find_pair(char *const *keys, char *const *values, int n, const char *key);

/* Writes a shape as "[16, 1, 64]" into buf (size bytes, always NUL-terminated;
 * cut short when it does not fit), for error messages. */
void stride_format_shape(char *buf, size_t size, const int64_t *shape, int ndim);

/* Overflow-checked size arithmetic: return 0 on overflow, else 1 and the result. */
int stride_mul_size(size_t a, size_t b, size_t *out);

/* 32-byte aligned allocation, zeroed; free with stride_free_aligned. */
void *stride_alloc_aligned(size_t bytes);
void stride_free_aligned(void *p);

/* A small counter-based generator (splitmix64): reproducible across platforms. */
typedef struct {
	unsigned long long state;
} StrideRng;
void stride_rng_seed(StrideRng *rng, unsigned long long seed);
unsigned long long stride_rng_next(StrideRng *rng);
/* Uniform in [0, 1). */
double stride_rng_uniform(StrideRng *rng);
/* Standard normal (Box-Muller). */
double stride_rng_normal(StrideRng *rng);

#endif /* STRIDE_UTIL_H */
