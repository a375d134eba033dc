/* Internal (not part of the public API): flush-to-zero (FTZ) and
 * denormals-are-zero (DAZ) for the length of a call. Denormal arithmetic can
 * cost a hundred times a normal operation, and a decaying gain, resampler or
 * layer history produces them. The one mechanism that sets the mode, used at
 * the two entries to the real-time path: the plugins' run() (which covers the
 * gate's and classifier's own arithmetic) and stride_stream_push (for callers
 * of the library other than the plugins; inside run() it finds the mode set and
 * writes nothing). The caller's mode is restored on the way out. */
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
/* Without SSE nothing sets the mode: there the input sanitiser
 * (util.h: stride_sanitize) keeps denormal input out and the gate's release
 * snaps to its floor, but the library's own arithmetic may still produce
 * denormals. Every build the project tests is x86-64. */
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
