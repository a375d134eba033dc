/* The plugins' inline display (plugin/inline_display.h): what run() records
 * and what the host's GUI thread draws from it.
 *
 * run() pushes one frame of values (the gate: probability and gain; genre:
 * the class probabilities) every STRIDE_DISPLAY_HZ-th of a second into a ring
 * preallocated at instantiation, and calls the host's queue_draw at most that
 * often: no allocation, lock or system call. render, on the host's GUI thread,
 * reads the ring and draws with cairo into a surface it owns.
 *
 * Between the two threads there is no lock: the audio thread is the only
 * writer; the values are atomics written relaxed, and the count of frames
 * written is published with release after the frame is complete. The reader
 * takes the count with acquire and reads the frames before it; a frame the
 * writer overwrites meanwhile (the reader fell a whole ring behind) shows a
 * newer value for a moment, which a picture tolerates.
 *
 * Without the host's queue_draw feature nothing is recorded and run() does no
 * more than before. */
#ifndef STRIDE_DISPLAY_H
#define STRIDE_DISPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <lv2/core/lv2.h>

#include "inline_display.h"

/* Frames per second pushed, and the most queue_draw calls per second. */
#define STRIDE_DISPLAY_HZ 30
/* Frames kept: the widest history drawn, in columns (one frame a column). */
#define STRIDE_DISPLAY_FRAMES 512

typedef struct {
	StrideInlineDisplay *host; /* NULL: no display */
	int n_values;              /* per frame */
	uint32_t period;           /* samples between frames */
	uint32_t since;            /* samples since the last frame (audio thread) */
	_Atomic float *ring;       /* [STRIDE_DISPLAY_FRAMES][n_values] */
	atomic_uint written;       /* frames pushed so far */

	/* the GUI thread's (render) */
	float *scratch; /* [STRIDE_DISPLAY_FRAMES][n_values]: the history read */
	void *surface;  /* cairo_surface_t */
	StrideInlineDisplaySurface image;
} StrideDisplay;

/* Instantiation: takes the host's queue_draw feature if there is one, and
 * allocates the ring for frames of n_values. Returns 0, or -1 when out of
 * memory. */
int stride_display_init(StrideDisplay *d, const LV2_Feature *const *features, double rate,
                        int n_values);

/* Instantiation: frees the ring and the surface. */
void stride_display_cleanup(StrideDisplay *d);

/* Audio thread: after n_samples more, pushes `values` (n_values of them) when
 * a frame is due and asks the host to redraw. Does nothing without a display. */
void stride_display_run(StrideDisplay *d, const float *values, uint32_t n_samples);

/* GUI thread: the last n frames (oldest first) into out[n][n_values];
 * returns how many there were (at most n). */
int stride_display_history(StrideDisplay *d, float *out, int n);

/* GUI thread: the gate's picture: the probability over time (filled from the
 * bottom), the gain over time (a line; 0 dB at the top, -90 dB at the bottom)
 * and the threshold (a line across). Frames hold {probability, gain dB}. */
StrideInlineDisplaySurface *stride_display_render_gate(StrideDisplay *d, uint32_t width,
                                                       uint32_t max_height, float threshold);

/* GUI thread: genre's picture: one bar per class, as high as its latest
 * probability (the frames hold n_values probabilities). */
StrideInlineDisplaySurface *stride_display_render_classes(StrideDisplay *d, uint32_t width,
                                                          uint32_t max_height, int n_classes);

/* The colours render uses (0xAARRGGBB, opaque): the tests find them in the image. */
#define STRIDE_DISPLAY_BACKGROUND 0xff202020u
#define STRIDE_DISPLAY_PROBABILITY 0xff3c8cdcu
#define STRIDE_DISPLAY_GAIN 0xfff0c040u
#define STRIDE_DISPLAY_THRESHOLD 0xffe04040u
#define STRIDE_DISPLAY_BAR 0xff50c878u

#endif /* STRIDE_DISPLAY_H */
