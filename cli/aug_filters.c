/* The trainer's augmentation filters (see aug_filters.h). */
#include "aug_filters.h"

#include <math.h>

#define PI 3.14159265358979323846

static double uniform(StrideRng *r, double lo, double hi)
{
	return lo + (hi - lo) * stride_rng_uniform(r);
}

static double log_uniform(StrideRng *r, double lo, double hi)
{
	return lo * pow(hi / lo, stride_rng_uniform(r));
}

void aug_biquad_design(AugBiquad *f, AugBiquadKind kind, int rate, double f0, double gain_db, double q)
{
	double A = pow(10.0, gain_db / 40.0), w0 = 2.0 * PI * f0 / rate;
	double cw = cos(w0), sw = sin(w0);
	double b0, b1, b2, a0, a1, a2;
	if (kind == AUG_PEAK) {
		double alpha = sw / (2.0 * q);
		b0 = 1.0 + alpha * A;
		b1 = -2.0 * cw;
		b2 = 1.0 - alpha * A;
		a0 = 1.0 + alpha / A;
		a1 = -2.0 * cw;
		a2 = 1.0 - alpha / A;
	} else if (kind == AUG_LOWPASS || kind == AUG_HIGHPASS) {
		double alpha = sw / (2.0 * q);
		double c = kind == AUG_LOWPASS ? 1.0 - cw : 1.0 + cw;
		b0 = c / 2.0;
		b1 = kind == AUG_LOWPASS ? c : -c;
		b2 = c / 2.0;
		a0 = 1.0 + alpha;
		a1 = -2.0 * cw;
		a2 = 1.0 - alpha;
	} else {
		double alpha = sw / 2.0 * sqrt(2.0), sa = 2.0 * sqrt(A) * alpha;
		double s = kind == AUG_LOW_SHELF ? 1.0 : -1.0; /* the high shelf mirrors the low one */
		b0 = A * ((A + 1.0) - s * (A - 1.0) * cw + sa);
		b1 = s * 2.0 * A * ((A - 1.0) - s * (A + 1.0) * cw);
		b2 = A * ((A + 1.0) - s * (A - 1.0) * cw - sa);
		a0 = (A + 1.0) + s * (A - 1.0) * cw + sa;
		a1 = -s * 2.0 * ((A - 1.0) + s * (A + 1.0) * cw);
		a2 = (A + 1.0) + s * (A - 1.0) * cw - sa;
	}
	f->b0 = b0 / a0;
	f->b1 = b1 / a0;
	f->b2 = b2 / a0;
	f->a1 = a1 / a0;
	f->a2 = a2 / a0;
	f->x1 = f->x2 = f->y1 = f->y2 = 0.0;
}

double aug_biquad_step(AugBiquad *f, double in)
{
	double out = f->b0 * in + f->b1 * f->x1 + f->b2 * f->x2 - f->a1 * f->y1 - f->a2 * f->y2;
	f->x2 = f->x1;
	f->x1 = in;
	f->y2 = f->y1;
	f->y1 = out;
	return out;
}

void aug_biquad_run(AugBiquad *f, float *x, int n)
{
	for (int i = 0; i < n; i++)
		x[i] = (float)aug_biquad_step(f, x[i]);
}

void aug_random_eq(StrideRng *r, float *x, int n, int rate, double db)
{
	const double nyq = 0.45 * rate;
	double lo = 80.0 * pow(400.0 / 80.0, stride_rng_uniform(r));
	double hi = 2000.0 * pow(8000.0 / 2000.0, stride_rng_uniform(r));
	double pk = 200.0 * pow(5000.0 / 200.0, stride_rng_uniform(r));
	AugBiquad f;
	aug_biquad_design(&f, AUG_LOW_SHELF, rate, lo, uniform(r, -db, db), 0.0);
	aug_biquad_run(&f, x, n);
	if (hi < nyq) {
		aug_biquad_design(&f, AUG_HIGH_SHELF, rate, hi, uniform(r, -db, db), 0.0);
		aug_biquad_run(&f, x, n);
	}
	if (pk < nyq) {
		const double g = uniform(r, -db, db);
		aug_biquad_design(&f, AUG_PEAK, rate, pk, g, uniform(r, 0.5, 2.0));
		aug_biquad_run(&f, x, n);
	}
}

/* Butterworth sections: Q_k = 1 / (2 sin((2k - 1) pi / (2 N))), k = 1..N/2. */
static void butterworth(AugBiquad *out, AugBiquadKind kind, int order, int rate, double f0)
{
	for (int k = 1; k <= order / 2; k++)
		aug_biquad_design(&out[k - 1], kind, rate, f0, 0.0,
		                  1.0 / (2.0 * sin((2 * k - 1) * PI / (2.0 * order))));
}

void aug_band_draw(StrideRng *r, int rate, AugBand *b)
{
	b->n = 0;
	b->cutoff_hz = log_uniform(r, AUG_BAND_LOW_HZ, AUG_BAND_HIGH_HZ);
	b->highpass_hz = stride_rng_uniform(r) < 1.0 / 3.0 ? uniform(r, 200.0, 400.0) : 0.0;
	if (b->cutoff_hz < 0.45 * rate) {
		butterworth(b->stage, AUG_LOWPASS, 8, rate, b->cutoff_hz);
		b->n = 4;
	} else {
		b->cutoff_hz = 0.0;
	}
	if (b->highpass_hz > 0.0) {
		butterworth(b->stage + b->n, AUG_HIGHPASS, 4, rate, b->highpass_hz);
		b->n += 2;
	}
}

double aug_band_step(AugBand *b, double in)
{
	for (int k = 0; k < b->n; k++)
		in = aug_biquad_step(&b->stage[k], in);
	return in;
}

void aug_band_run(AugBand *b, float *x, int n)
{
	for (int i = 0; i < n; i++)
		x[i] = (float)aug_band_step(b, x[i]);
}

#define ROOM_DENSITY 800.0   /* tail pulses per second */
#define ROOM_MAX_TAIL_S 0.6
#define ROOM_EARLY 6

void aug_room_draw(StrideRng *r, int rate, AugRoom *room)
{
	const double rt60 = log_uniform(r, 0.15, 1.2);
	const double drr_db = uniform(r, -3.0, 12.0);
	const double tail_s = rt60 < ROOM_MAX_TAIL_S ? rt60 : ROOM_MAX_TAIL_S;
	const double decay = log(1000.0) / (rt60 * rate); /* amplitude: -60 dB at rt60 */
	room->rt60_s = rt60;
	room->n = 0;
	room->delay[room->n] = 0;
	room->gain[room->n++] = 1.0f;
	/* early reflections: 3-40 ms, each weaker than the direct path */
	double reverb_energy = 0.0;
	for (int k = 0; k < ROOM_EARLY; k++) {
		int d = (int)(uniform(r, 0.003, 0.040) * rate);
		double g = uniform(r, 0.2, 0.7) * exp(-decay * d) * (stride_rng_uniform(r) < 0.5 ? -1.0 : 1.0);
		room->delay[room->n] = d < 1 ? 1 : d;
		room->gain[room->n++] = (float)g;
		reverb_energy += g * g;
	}
	/* the late tail: one signed pulse at a random place in each period */
	const double period = rate / ROOM_DENSITY;
	const int periods = (int)(tail_s * ROOM_DENSITY);
	const int first = (int)(0.005 * ROOM_DENSITY); /* from 5 ms */
	for (int k = first; k < periods && room->n < AUG_ROOM_MAX_TAPS; k++) {
		int d = (int)((k + stride_rng_uniform(r)) * period);
		double g = exp(-decay * d) * (stride_rng_uniform(r) < 0.5 ? -1.0 : 1.0);
		room->delay[room->n] = d;
		room->gain[room->n++] = (float)(0.5 * g);
		reverb_energy += 0.25 * g * g;
	}
	/* scale the reverberant part to the drawn direct-to-reverberant ratio, then
	 * the whole response to unit energy */
	const double want = pow(10.0, -drr_db / 10.0); /* reverberant energy per direct */
	const double s = reverb_energy > 0.0 ? sqrt(want / reverb_energy) : 0.0;
	double total = 1.0;
	room->length = 1;
	for (int k = 1; k < room->n; k++) {
		room->gain[k] = (float)(room->gain[k] * s);
		total += (double)room->gain[k] * room->gain[k];
		if (room->delay[k] + 1 > room->length)
			room->length = room->delay[k] + 1;
	}
	const float norm = (float)(1.0 / sqrt(total));
	for (int k = 0; k < room->n; k++)
		room->gain[k] *= norm;
}

double aug_room_sample(const AugRoom *room, const float *x, long long i, long long before)
{
	double acc = 0.0;
	for (int k = 0; k < room->n; k++) {
		const long long j = i - room->delay[k];
		if (j >= -before)
			acc += (double)room->gain[k] * x[j];
	}
	return acc;
}
