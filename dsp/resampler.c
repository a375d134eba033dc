/* Polyphase windowed-sinc resampling with exact positions (see resampler.h). */
#include "resampler.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Zero crossings of the sinc on each side, and the Kaiser window's beta:
 * about 70 dB of stopband, plenty for a detector's input. */
#define ZERO_CROSSINGS 10
#define KAISER_BETA 7.0
/* The passband ends this far below the lower Nyquist frequency. */
#define PASSBAND 0.9
#define MAX_PHASES 4096
#define M_PI_VALUE 3.14159265358979323846

struct StrideResampler {
	int channels;
	int max_in, max_out;
	int64_t up, down; /* output j sits at input time j * down / up */
	int phases;       /* up, or MAX_PHASES when up is larger */
	int half, taps;
	float *table;     /* phases x taps */
	float *hist;      /* channels x cap: inputs base .. base + have */
	int cap, have;
	int64_t base;
	int64_t next;     /* the next output's index */
};

static int64_t gcd(int64_t a, int64_t b)
{
	while (b) {
		const int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The modified Bessel function I0, by its series. */
static double bessel_i0(double x)
{
	double sum = 1.0, term = 1.0;
	for (int k = 1; k < 64; k++) {
		term *= (x / (2.0 * k)) * (x / (2.0 * k));
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return sum;
}

static void make_table(StrideResampler *r, double fc)
{
	const double norm = bessel_i0(KAISER_BETA);
	for (int q = 0; q < r->phases; q++) {
		float *row = r->table + (size_t)q * (size_t)r->taps;
		const double phase = (double)q / r->phases;
		double sum = 0.0;
		for (int i = 0; i < r->taps; i++) {
			const double tau = phase + r->half - 1 - i; /* output time minus input time */
			const double x = 2.0 * fc * tau;
			const double sinc = fabs(x) < 1e-12 ? 1.0 : sin(M_PI_VALUE * x) / (M_PI_VALUE * x);
			const double w = tau / r->half;
			const double window =
			    fabs(w) >= 1.0 ? 0.0 : bessel_i0(KAISER_BETA * sqrt(1.0 - w * w)) / norm;
			const double h = 2.0 * fc * sinc * window;
			row[i] = (float)h;
			sum += h;
		}
		for (int i = 0; i < r->taps; i++) /* unity gain at DC for every phase */
			row[i] = (float)(row[i] / sum);
	}
}

StrideResampler *stride_resampler_new(int in_rate, int out_rate, int channels, int max_in,
                                      char err[STRIDE_ERR_LEN])
{
	if (in_rate < 1 || out_rate < 1 || in_rate > 1000000 || out_rate > 1000000 ||
	    (double)in_rate / out_rate > 256.0 || (double)out_rate / in_rate > 256.0) {
		stride_set_err(err, "cannot resample %d Hz to %d Hz", in_rate, out_rate);
		return NULL;
	}
	if (channels < 1 || max_in < 1) {
		stride_set_err(err, "resampler: %d channels, %d frames per call", channels, max_in);
		return NULL;
	}
	StrideResampler *r = calloc(1, sizeof *r);
	if (!r) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	const int64_t g = gcd(in_rate, out_rate);
	r->up = out_rate / g;
	r->down = in_rate / g;
	r->phases = r->up < MAX_PHASES ? (int)r->up : MAX_PHASES;
	r->channels = channels;
	r->max_in = max_in;
	const double fc = 0.5 * PASSBAND * (out_rate < in_rate ? (double)out_rate / in_rate : 1.0);
	r->half = (int)ceil(ZERO_CROSSINGS / (2.0 * fc));
	r->taps = 2 * r->half;
	r->cap = r->taps + max_in + 2;
	r->max_out = (int)((int64_t)max_in * r->up / r->down) + 2;
	r->table = malloc(sizeof(float) * (size_t)r->phases * (size_t)r->taps);
	r->hist = malloc(sizeof(float) * (size_t)r->cap * (size_t)channels);
	if (!r->table || !r->hist) {
		stride_set_err(err, "out of memory");
		stride_resampler_free(r);
		return NULL;
	}
	make_table(r, fc);
	stride_resampler_reset(r);
	return r;
}

void stride_resampler_free(StrideResampler *r)
{
	if (!r)
		return;
	free(r->table);
	free(r->hist);
	free(r);
}

void stride_resampler_reset(StrideResampler *r)
{
	/* inputs before the first are silence: a kernel's worth of it */
	memset(r->hist, 0, sizeof(float) * (size_t)r->cap * (size_t)r->channels);
	r->have = r->taps;
	r->base = -r->taps;
	r->next = 0;
}

static float dot(const float *x, const float *h, int n)
{
	/* four sums, so the additions need not wait on each other */
	float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
	int i = 0;
	for (; i + 4 <= n; i += 4) {
		s0 += x[i] * h[i];
		s1 += x[i + 1] * h[i + 1];
		s2 += x[i + 2] * h[i + 2];
		s3 += x[i + 3] * h[i + 3];
	}
	for (; i < n; i++)
		s0 += x[i] * h[i];
	return (s0 + s1) + (s2 + s3);
}

int stride_resampler_process(StrideResampler *r, const float *in, int in_stride, int n, float *out,
                             int out_stride)
{
	if (n > r->max_in)
		n = r->max_in;
	if (n < 0)
		n = 0;
	if (r->have + n > r->cap) /* cannot happen with n <= max_in; never overrun */
		n = r->cap - r->have;
	for (int c = 0; c < r->channels; c++)
		memcpy(r->hist + (size_t)c * r->cap + r->have, in + (size_t)c * in_stride,
		       sizeof(float) * (size_t)n);
	r->have += n;
	const int64_t end = r->base + r->have; /* one past the last input */
	int produced = 0;
	while (produced < r->max_out) {
		const int64_t num = r->next * r->down;
		int64_t at = num / r->up; /* the input frame at or before the output's time */
		int64_t q = num % r->up;
		if (r->phases != r->up) {
			q = (q * r->phases + r->up / 2) / r->up;
			if (q == r->phases) {
				q = 0;
				at++;
			}
		}
		if (at + r->half >= end)
			break;
		const int64_t start = at - r->half + 1 - r->base;
		const float *h = r->table + (size_t)q * (size_t)r->taps;
		for (int c = 0; c < r->channels; c++)
			out[(size_t)c * out_stride + produced] =
			    dot(r->hist + (size_t)c * r->cap + start, h, r->taps);
		produced++;
		r->next++;
	}
	/* keep what the next output needs (one frame more for the phase rounding) */
	const int64_t keep_from = (r->next * r->down) / r->up - r->half;
	const int64_t drop = keep_from - r->base;
	if (drop > 0 && drop <= r->have) {
		for (int c = 0; c < r->channels; c++) {
			float *h = r->hist + (size_t)c * r->cap;
			memmove(h, h + drop, sizeof(float) * (size_t)(r->have - drop));
		}
		r->have -= (int)drop;
		r->base += drop;
	}
	return produced;
}

int stride_resampler_max_out(const StrideResampler *r)
{
	return r->max_out;
}

int stride_resampler_holdback(const StrideResampler *r)
{
	return r->half + 1;
}

