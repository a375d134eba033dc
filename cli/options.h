/* Parsing option values for the trainer's commands: whole-string numbers in a
 * range, "A:B" ranges, and the default thread count. */
#ifndef STRIDE_OPTIONS_H
#define STRIDE_OPTIONS_H

#include <stdbool.h>

/* A decimal integer filling the whole string, in [lo, hi]. */
bool cli_parse_long(const char *s, long long lo, long long hi, long long *out);
bool cli_parse_int(const char *s, int lo, int hi, int *out);
/* A finite number filling the whole string, in [lo, hi]. */
bool cli_parse_double(const char *s, double lo, double hi, double *out);
/* "A:B" (A <= B) or "A" (A:A), each in [lo, hi]. */
bool cli_parse_range(const char *s, double lo, double hi, double *a, double *b);

/* Cores online (at least 1). */
int cli_default_threads(void);

#endif /* STRIDE_OPTIONS_H */
