/* Small internal helpers shared by the dsp sources (not part of the public API). */
#ifndef STRIDE_UTIL_H
#define STRIDE_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include "stride.h"

#if defined(__GNUC__)
#define STRIDE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define STRIDE_PRINTF(a, b)
#endif

/* Formats a message into err (STRIDE_ERR_LEN bytes) when err is not NULL. */
void stride_set_err(char *err, const char *fmt, ...) STRIDE_PRINTF(2, 3);

/* Prefix an existing message in err with "prefix: " (keeps it within STRIDE_ERR_LEN). */
void stride_prefix_err(char *err, const char *fmt, ...) STRIDE_PRINTF(2, 3);

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
