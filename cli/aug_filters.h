/* The trainer's augmentation filters: biquads (RBJ cookbook), random
 * equalisation, random band-limiting, and synthetic rooms.
 *
 * Band-limiting: real recordings arrive at 8, 11.025, 16 or 22.05 kHz, or
 * through a telephone, so much real speech has nothing above 4 kHz while real
 * noise is often full band. A gate trained on full-band content alone learns
 * bandwidth instead of content; the trainer therefore cuts the top (and for a
 * telephone, the bottom) of content, noise and whole mixes at random.
 *
 * Rooms: a synthetic room impulse response is a direct path, a few early
 * reflections and a sparse late tail ("velvet noise": signed unit pulses at
 * random times, decaying by 60 dB over the room's RT60). Sparse taps make the
 * convolution cheap enough to run per example: a few hundred taps against the
 * network's millions of operations per step. */
#ifndef STRIDE_AUG_FILTERS_H
#define STRIDE_AUG_FILTERS_H

#include <stddef.h>

#include "util.h"

typedef enum {
	AUG_LOW_SHELF,
	AUG_HIGH_SHELF,
	AUG_PEAK,
	AUG_LOWPASS,
	AUG_HIGHPASS,
} AugBiquadKind;

typedef struct {
	double b0, b1, b2, a1, a2; /* normalised by a0 */
	double x1, x2, y1, y2;     /* direct form I state */
} AugBiquad;

/* Designs one biquad at f0 Hz (gain_db for shelves and peaks; q for the peak
 * and the pass filters; shelves use slope 1), with a clear state. */
void aug_biquad_design(AugBiquad *f, AugBiquadKind kind, int rate, double f0, double gain_db, double q);
double aug_biquad_step(AugBiquad *f, double in);
void aug_biquad_run(AugBiquad *f, float *x, int n);

/* Random equalisation of x: a low shelf, a high shelf and a peak, each within
 * +-db (see StrideAugConfig.eq_db). */
void aug_random_eq(StrideRng *r, float *x, int n, int rate, double db);

/* A random band limit: an 8th-order Butterworth lowpass (four biquads) at a
 * cutoff drawn log-uniformly in [AUG_BAND_LOW_HZ, AUG_BAND_HIGH_HZ] (and under
 * 0.45 of the rate), and in a third of cases a telephone's 4th-order highpass
 * at 200-400 Hz. */
#define AUG_BAND_LOW_HZ 2800.0
#define AUG_BAND_HIGH_HZ 7600.0
#define AUG_BAND_STAGES 6
typedef struct {
	AugBiquad stage[AUG_BAND_STAGES];
	int n;                     /* stages in use; 0: the band is not limited */
	double cutoff_hz, highpass_hz; /* what was drawn (highpass 0: none) */
} AugBand;
void aug_band_draw(StrideRng *r, int rate, AugBand *b);
double aug_band_step(AugBand *b, double in);
void aug_band_run(AugBand *b, float *x, int n);

/* A synthetic room: sparse taps (delay in samples, gain), the direct path
 * first, with sum(gain^2) = 1 so that reverberation keeps a signal's power. */
#define AUG_ROOM_MAX_TAPS 512
typedef struct {
	int n;
	int delay[AUG_ROOM_MAX_TAPS];
	float gain[AUG_ROOM_MAX_TAPS];
	double rt60_s;             /* what was drawn */
	int length;                /* the last tap's delay + 1 */
} AugRoom;
/* RT60 log-uniform in [0.15, 1.2] s, the tail cut at min(RT60, 0.6 s) (the
 * rest is more than 60 dB down... or past any one window of interest), a
 * direct-to-reverberant ratio of -3..+12 dB, pulse density 800/s. */
void aug_room_draw(StrideRng *r, int rate, AugRoom *room);
/* The reverberant sample i of a signal that starts at x[-before] (samples
 * before that are taken as silence). */
double aug_room_sample(const AugRoom *room, const float *x, long long i, long long before);

#endif /* STRIDE_AUG_FILTERS_H */
