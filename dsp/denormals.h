/* Internal (not part of the public API): flush-to-zero (FTZ) and
 * denormals-are-zero (DAZ) for the length of a call:
 * denormal arithmetic can cost a hundred times a normal operation, and a
 * decaying filter, gain or history produces them. The one place that sets the
 * mode: the plugins' run() and the streaming engine's push (for callers other
 * than the plugins) both use it. The caller's mode is restored on the way out. */
#ifndef STRIDE_DENORMALS_H
#define STRIDE_DENORMALS_H

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

typedef unsigned int StrideFpMode;

/* Writing MXCSR costs more than reading it, and hosts often have FTZ and DAZ
 * set already: write only when something changes. */
static inline StrideFpMode stride_denormals_off(void)
{
	const unsigned int mode = _mm_getcsr();
	if ((mode & 0x8040u) != 0x8040u)
		_mm_setcsr(mode | 0x8040u); /* FTZ and DAZ */
	return mode;
}

static inline void stride_denormals_restore(StrideFpMode mode)
{
	if ((mode & 0x8040u) != 0x8040u)
		_mm_setcsr(mode);
}

#else
/* Elsewhere the DSP keeps tiny values out itself (util.h: stride_sanitize). */
typedef int StrideFpMode;

static inline StrideFpMode stride_denormals_off(void)
{
	return 0;
}

static inline void stride_denormals_restore(StrideFpMode mode)
{
	(void)mode;
}
#endif

#endif /* STRIDE_DENORMALS_H */
