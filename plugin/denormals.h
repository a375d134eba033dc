/* Flush-to-zero for the length of a run() call: denormal arithmetic can cost a
 * hundred times a normal operation, and a decaying filter or gain produces
 * them. The host's floating-point mode is restored on the way out. */
#ifndef STRIDE_DENORMALS_H
#define STRIDE_DENORMALS_H

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

typedef unsigned int StrideFpMode;

static inline StrideFpMode stride_denormals_off(void)
{
	const unsigned int mode = _mm_getcsr();
	_mm_setcsr(mode | 0x8040u); /* FTZ and DAZ */
	return mode;
}

static inline void stride_denormals_restore(StrideFpMode mode)
{
	_mm_setcsr(mode);
}

#else
/* Elsewhere the DSP flushes tiny values itself (see dsp/gate.c). */
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
