/* The gate and classifier DSP objects (dsp/gate.c, dsp/classifier.c), driven
 * directly with hand-weighted models whose decisions are known: onsets are
 * never clipped, the latency is exact, block sizes do not change a single
 * output sample, the gain slope stays bounded through any parameter change,
 * hold and release take the time they say, non-finite input is silence, a
 * model swap continues the sound, and the classifier's smoothing. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "detector.h"
#include "gate.h"
#include "resampler.h"
#include "test_models.h"
#include "util.h"

static const double rates[] = {22050, 44100, 48000, 96000, 192000};
#define N_RATES (int)(sizeof rates / sizeof rates[0])

static const double PI = 3.14159265358979323846;

static bool under_valgrind(void)
{
	return getenv("STRIDE_UNDER_VALGRIND") != NULL;
}

/* The energy gate at 16 kHz: 32 ms windows every 8 ms, opens above mean|x| 0.01. */
static StrideModel *gate_model(void)
{
	StrideModel *m = test_energy_model(false, 16000, 512, 128, 0.01f, 400.0f);
	assert_non_null(m);
	return m;
}

static StrideGate *new_gate(const StrideModel *m, double rate, int channels)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideGate *g = stride_gate_new(m, rate, channels, err);
	if (!g)
		fail_msg("stride_gate_new: %s", err);
	return g;
}

/* Runs x through the gate in blocks of random size (1 .. max_block). */
static void run_blocks(StrideGate *g, const float *x, float *y, size_t n, uint32_t max_block,
                       uint64_t seed)
{
	StrideRng rng;
	stride_rng_seed(&rng, seed);
	for (size_t i = 0; i < n;) {
		uint32_t b = 1 + (uint32_t)(stride_rng_next(&rng) % max_block);
		if (b > n - i)
			b = (uint32_t)(n - i);
		const float *in[1] = {x + i};
		float *out[1] = {y + i};
		stride_gate_process(g, in, out, b);
		i += b;
	}
}

static void tone(float *x, size_t from, size_t to, double rate, double hz, float amp)
{
	for (size_t i = from; i < to; i++)
		x[i] = amp * (float)sin(2.0 * PI * hz * (double)(i - from) / rate);
}

/* Silence, then a tone burst: from the burst's first sample on, the output is
 * the input delayed by exactly the latency, at full gain, at every rate. */
static void test_onset_never_clipped(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	for (int r = 0; r < N_RATES; r++) {
		const double rate = rates[r];
		StrideGate *g = new_gate(m, rate, 1);
		const uint32_t L = stride_gate_latency(g);
		const size_t n = (size_t)(rate * 1.5);
		const size_t onset = (size_t)(rate * 0.6) + 37, end = onset + (size_t)(rate * 0.4);
		float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
		tone(x, onset, end, rate, 331.0, 0.3f);
		run_blocks(g, x, y, n, 4096, 7 + (uint64_t)r);
		for (size_t i = onset; i < end; i++)
			if (y[i + L] != x[i])
				fail_msg("%g Hz: sample %zu after the onset is %g, input %g (latency %u)", rate,
				         i - onset, y[i + L], x[i], L);
		/* it opened before the onset, but not long before: one window (32 ms),
		 * a hop of grace (8 ms) and the attack (2 ms), at most */
		const size_t early = (size_t)(rate * 0.043);
		for (size_t i = (size_t)(rate * 0.1); i < onset - early; i++)
			assert_true(y[i + L] == 0.0f && x[i] == 0.0f);
		free(x);
		free(y);
		stride_gate_free(g);
	}
	stride_model_free(m);
}

/* The tight case: a model that opens only once a whole window is loud, so its
 * first open decision starts at or after the onset. Steady bursts at random
 * offsets, every rate, random blocks, the longest attack: from each burst's
 * first sample on, the output is the delayed input at full gain. */
static void test_onset_tight(void **state)
{
	(void)state;
	StrideModel *m = test_min_level_model(16000, 400, 160, 0.1f, 200.0f);
	assert_non_null(m);
	StrideRng rng;
	stride_rng_seed(&rng, 21);
	for (int r = 0; r < N_RATES; r++) {
		const double rate = rates[r];
		StrideGate *g = new_gate(m, rate, 1);
		StrideGateParams p = stride_gate_params_default();
		p.v[STRIDE_GATE_ATTACK] = stride_gate_param_info[STRIDE_GATE_ATTACK].max;
		p.v[STRIDE_GATE_HOLD] = 0.0f;
		p.v[STRIDE_GATE_RELEASE] = 5.0f;
		stride_gate_set_params(g, &p);
		const uint32_t L = stride_gate_latency(g);
		const size_t period = (size_t)(rate * 0.3), n = period * 8;
		float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
		size_t onsets[8];
		for (int b = 1; b < 8; b++) {
			onsets[b] = (size_t)b * period + (size_t)(stride_rng_next(&rng) % (period / 3));
			for (size_t i = onsets[b]; i < onsets[b] + period / 2; i++)
				x[i] = 0.3f; /* steady: a tone would dip below the level */
		}
		run_blocks(g, x, y, n, 2048, 100 + (uint64_t)r);
		/* (the model closes a window before each burst's end: only onsets count) */
		for (int b = 1; b < 8; b++)
			for (size_t i = onsets[b]; i < onsets[b] + period / 4; i++)
				if (y[i + L] != x[i])
					fail_msg("%g Hz, burst %d: %zu frames after the onset the gain is %g", rate,
					         b, i - onsets[b], y[i + L] / x[i]);
		free(x);
		free(y);
		stride_gate_free(g);
	}
	stride_model_free(m);
}

/* train.label_region: a valid "START END" inside the window, or the whole
 * window (and false) for anything else. */
static void test_label_region_meta(void **state)
{
	(void)state;
	StrideModel *m = test_energy_model(false, 16000, 800, 160, 0.15f, 400.0f);
	assert_non_null(m);
	int s = -1, e = -1;
	assert_false(stride_model_label_region(m, &s, &e));
	assert_int_equal(s, 0);
	assert_int_equal(e, 800);
	assert_int_equal(stride_model_set_meta(m, "train.label_region", "400 800"), 0);
	assert_true(stride_model_label_region(m, &s, &e));
	assert_int_equal(s, 400);
	assert_int_equal(e, 800);
	static const char *const bad[] = {"400", "500 400", "400 400", "-1 400", "0 801", "1 2 3", "a b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(stride_model_set_meta(m, "train.label_region", bad[i]), 0);
		s = e = -1;
		if (stride_model_label_region(m, &s, &e))
			fail_msg("\"%s\" taken as a label region", bad[i]);
		assert_int_equal(s, 0);
		assert_int_equal(e, 800);
	}
	stride_model_free(m);
}

/* A label region at the end of a longer window (stride train --label-at end):
 * the extra window is past context only. A model that hears only the last 800
 * of its 1600 samples, labelled "800 1600", is the 800-sample model labelled
 * "0 800" with 800 samples of unused past: the gate must give it the same
 * latency and the same output, sample for sample, at every rate. The centred
 * region of the same long window looks ahead by 400 samples more. */
static void test_label_region_at_end(void **state)
{
	(void)state;
	StrideModel *shortm = test_energy_model(false, 16000, 800, 160, 0.15f, 400.0f);
	StrideModel *endm = test_energy_model_skip(false, 16000, 1600, 160, 0.15f, 400.0f, 800);
	StrideModel *centrem = test_energy_model_skip(false, 16000, 1600, 160, 0.15f, 400.0f, 800);
	assert_non_null(shortm);
	assert_non_null(endm);
	assert_non_null(centrem);
	assert_int_equal(stride_model_set_meta(shortm, "train.label_region", "0 800"), 0);
	assert_int_equal(stride_model_set_meta(endm, "train.label_region", "800 1600"), 0);
	assert_int_equal(stride_model_set_meta(centrem, "train.label_region", "400 1200"), 0);
	StrideRng rng;
	stride_rng_seed(&rng, 37);
	for (int r = 0; r < N_RATES; r++) {
		const double rate = rates[r];
		StrideGate *gs = new_gate(shortm, rate, 1), *ge = new_gate(endm, rate, 1);
		StrideGate *gc = new_gate(centrem, rate, 1);
		assert_int_equal(stride_gate_latency(ge), stride_gate_latency(gs));
		const double extra = (double)stride_gate_latency(gc) - stride_gate_latency(gs);
		if (fabs(extra - 400.0 * rate / 16000.0) > 2.0)
			fail_msg("%g Hz: the centred region looks ahead by %g frames more, not %g", rate,
			         extra, 400.0 * rate / 16000.0);
		const size_t period = (size_t)(rate * 0.4), n = period * 6;
		float *x = malloc(n * sizeof *x), *ys = calloc(n, sizeof *ys), *ye = calloc(n, sizeof *ye);
		for (size_t i = 0; i < n; i++)
			x[i] = 0.001f;
		for (int b = 1; b < 6; b++) {
			const size_t on = (size_t)b * period + (size_t)(stride_rng_next(&rng) % (period / 4));
			const size_t off = on + period / 2 + (size_t)(stride_rng_next(&rng) % (period / 8));
			for (size_t i = on; i < off; i++)
				x[i] = 0.3f;
		}
		const uint64_t seed = 70 + (uint64_t)r;
		run_blocks(gs, x, ys, n, 1024, seed);
		run_blocks(ge, x, ye, n, 1024, seed);
		size_t opened = 0;
		for (size_t i = 0; i < n; i++) {
			if (ye[i] != ys[i])
				fail_msg("%g Hz: frame %zu: %g with the region at the end, %g with the short "
				         "window", rate, i, ye[i], ys[i]);
			opened += ys[i] > 0.1f;
		}
		assert_true(opened > 0); /* the bursts got through: the comparison means something */
		free(x);
		free(ys);
		free(ye);
		stride_gate_free(gs);
		stride_gate_free(ge);
		stride_gate_free(gc);
	}
	stride_model_free(shortm);
	stride_model_free(endm);
	stride_model_free(centrem);
}

/* A model from `stride train` (train.label_region) calls a window content when
 * half of it is: its decisions speak for the centre of the window, which both
 * shortens the lookahead and keeps word endings. A model that fires exactly
 * so (mean level over half of the burst's) keeps every burst at full gain from
 * its first to its last frame with a hold of one hop, and closes soon after. */
static void test_label_region(void **state)
{
	(void)state;
	/* window 800, hop 160 at 16 kHz: fires when >= half the window is at 0.3 */
	StrideModel *m = test_energy_model(false, 16000, 800, 160, 0.15f, 400.0f);
	assert_non_null(m);
	const StrideGate *plain = NULL;
	(void)plain;
	char err[STRIDE_ERR_LEN];
	StrideGate *cautious = stride_gate_new(m, 48000, 1, err);
	assert_non_null(cautious);
	assert_int_equal(stride_model_set_meta(m, "train.label_region", "0 800"), 0);
	StrideRng rng;
	stride_rng_seed(&rng, 31);
	for (int r = 0; r < N_RATES; r++) {
		const double rate = rates[r];
		StrideGate *g = new_gate(m, rate, 1);
		if (rate == 48000) /* centred decisions need less lookahead */
			assert_true(stride_gate_latency(g) < stride_gate_latency(cautious));
		StrideGateParams p = stride_gate_params_default();
		p.v[STRIDE_GATE_HOLD] = 10.0f; /* one hop */
		p.v[STRIDE_GATE_RELEASE] = 5.0f;
		p.v[STRIDE_GATE_RANGE] = -40.0f;
		stride_gate_set_params(g, &p);
		const uint32_t L = stride_gate_latency(g);
		const size_t period = (size_t)(rate * 0.4), n = period * 6;
		float *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
		for (size_t i = 0; i < n; i++)
			x[i] = 0.001f;
		size_t on[6], off[6];
		for (int b = 1; b < 6; b++) {
			on[b] = (size_t)b * period + (size_t)(stride_rng_next(&rng) % (period / 4));
			off[b] = on[b] + period / 2 + (size_t)(stride_rng_next(&rng) % (period / 8));
			for (size_t i = on[b]; i < off[b]; i++)
				x[i] = 0.3f;
		}
		run_blocks(g, x, y, n, 1024, 40 + (uint64_t)r);
		for (int b = 1; b < 6; b++) {
			for (size_t i = on[b]; i < off[b]; i++)
				if (y[i + L] != x[i])
					fail_msg("%g Hz, burst %d: gain %g at %zu of %zu frames", rate, b,
					         y[i + L] / x[i], i - on[b], off[b] - on[b]);
			/* closed (-40 dB) within half a hop, the hold, the release and a frame or two */
			const size_t closed = off[b] + (size_t)(rate * (0.005 + 0.010 + 0.005 + 0.002));
			assert_float_equal(y[closed + L] / x[closed], 0.01f, 1e-4);
		}
		free(x);
		free(y);
		stride_gate_free(g);
	}
	stride_gate_free(cautious);
	stride_model_free(m);
}

/* The same input cut into different blocks gives bit-identical output. */
static void test_block_size_invariance(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	const double rate = 44100;
	const size_t n = (size_t)(rate * 2);
	float *x = calloc(n, sizeof *x), *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	StrideRng rng;
	stride_rng_seed(&rng, 3);
	for (size_t i = 0; i < n; i++) /* bursts of noise at changing levels */
		x[i] = (float)(stride_rng_uniform(&rng) - 0.5) * ((i / 5000) % 3 == 0 ? 0.5f : 0.004f);
	StrideGate *g1 = new_gate(m, rate, 1), *g2 = new_gate(m, rate, 1);
	run_blocks(g1, x, a, n, 1, 1); /* one frame at a time */
	run_blocks(g2, x, b, n, 8192, 2);
	assert_memory_equal(a, b, n * sizeof *a);
	stride_gate_free(g1);
	stride_gate_free(g2);
	free(x);
	free(a);
	free(b);
	stride_model_free(m);
}

/* Bypassed, the output is the input delayed by exactly the reported latency;
 * gating, a click after silence peaks at exactly that delay too. */
static void test_latency_exact(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	for (int r = 0; r < N_RATES; r++) {
		const double rate = rates[r];
		for (int enabled = 0; enabled < 2; enabled++) {
			StrideGate *g = new_gate(m, rate, 1);
			StrideGateParams p = stride_gate_params_default();
			p.v[STRIDE_GATE_ENABLE] = (float)enabled;
			p.v[STRIDE_GATE_RANGE] = -20.0f;
			stride_gate_set_params(g, &p);
			const uint32_t L = stride_gate_latency(g);
			const size_t n = (size_t)(rate * 1.0), click = (size_t)(rate * 0.5) + 11;
			float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
			x[click] = 0.9f;
			run_blocks(g, x, y, n, 1024, 5);
			size_t peak = 0;
			for (size_t i = 0; i < n; i++)
				if (fabsf(y[i]) > fabsf(y[peak]))
					peak = i;
			if (peak != click + L)
				fail_msg("%g Hz, enable %d: the click came out at %zu frames, latency %u", rate,
				         enabled, peak - click, L);
			if (!enabled)
				for (size_t i = L; i < n; i++)
					assert_true(y[i] == x[i - L]);
			assert_true(y[peak] > 0.0f);
			free(x);
			free(y);
			stride_gate_free(g);
		}
	}
	stride_model_free(m);
}

/* The applied gain (output over delayed input, on a constant input) never moves
 * faster than stride_gate_max_step, whatever the parameters do: random changes
 * of every control, enable toggles included, every block. */
static void test_gain_slope_bound(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	for (int r = 0; r < N_RATES; r += 2) {
		const double rate = rates[r];
		StrideGate *g = new_gate(m, rate, 1);
		const uint32_t L = stride_gate_latency(g);
		const size_t n = (size_t)(rate * (under_valgrind() ? 1.0 : 3.0));
		float *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
		for (size_t i = 0; i < n; i++) /* DC: loud (opens) and quiet (closes) stretches */
			x[i] = (i / (size_t)(rate * 0.15)) % 2 ? 0.5f : 0.002f;
		StrideRng rng;
		stride_rng_seed(&rng, 11);
		int toggles = 0;
		for (size_t i = 0; i < n;) {
			StrideGateParams p;
			for (int k = 0; k < STRIDE_GATE_N_PARAMS; k++) {
				const StrideParamInfo *info = &stride_gate_param_info[k];
				p.v[k] = info->min + (float)stride_rng_uniform(&rng) * (info->max - info->min);
			}
			p.v[STRIDE_GATE_HOLD] *= 0.05f;
			p.v[STRIDE_GATE_RELEASE] *= 0.05f;
			toggles += p.v[STRIDE_GATE_ENABLE] < 0.5f;
			stride_gate_set_params(g, &p);
			uint32_t b = 1 + (uint32_t)(stride_rng_next(&rng) % 2048);
			if (b > n - i)
				b = (uint32_t)(n - i);
			const float *in[1] = {x + i};
			float *out[1] = {y + i};
			stride_gate_process(g, in, out, b);
			i += b;
		}
		assert_true(toggles > 3);
		const float bound = stride_gate_max_step(g) * 1.0001f + 1e-6f;
		float worst = 0.0f;
		for (size_t i = L + 1; i < n; i++) {
			const float g0 = y[i - 1] / x[i - 1 - L], g1 = y[i] / x[i - L];
			assert_true(isfinite(g0) && g0 >= 0.0f && g0 <= 1.0f + 1e-6f);
			worst = fmaxf(worst, fabsf(g1 - g0));
		}
		if (worst > bound)
			fail_msg("%g Hz: the gain moved %g in one frame (bound %g)", rate, worst, bound);
		free(x);
		free(y);
		stride_gate_free(g);
	}
	stride_model_free(m);
}

/* After the sound stops, the gate stays fully open for the hold, then falls to
 * the range within the release: measured against the burst's end. */
static void test_hold_and_release(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	const double rate = 48000;
	StrideGate *g = new_gate(m, rate, 1);
	StrideGateParams p = stride_gate_params_default();
	p.v[STRIDE_GATE_HOLD] = 100.0f;
	p.v[STRIDE_GATE_RELEASE] = 50.0f;
	p.v[STRIDE_GATE_RANGE] = -40.0f;
	stride_gate_set_params(g, &p);
	const uint32_t L = stride_gate_latency(g);
	const size_t n = (size_t)rate, end = (size_t)(rate * 0.5);
	float *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
	for (size_t i = 0; i < n; i++)
		x[i] = i < end ? 0.3f : 0.001f; /* loud DC, then quiet DC */
	run_blocks(g, x, y, n, 512, 9);
	const double ms = rate / 1000.0;
	/* open through the hold: the last window that heard the loud part ends
	 * at most one window (32 ms) after it, and its request a hop (8 ms) later */
	for (size_t i = end; i < end + (size_t)(100 * ms); i++)
		assert_float_equal(y[i + L] / x[i], 1.0f, 1e-6);
	/* closed (range -40 dB) once hold, release, window and hop are over */
	const size_t closed = end + (size_t)((100 + 50 + 32 + 8 + 1) * ms);
	for (size_t i = closed; i + L < n; i++)
		assert_float_equal(y[i + L] / x[i], 0.01f, 1e-5);
	free(x);
	free(y);
	stride_gate_free(g);
	stride_model_free(m);
}

/* NaN and infinities are silence: the output stays finite and, once they are
 * past, equals a run where zeros stood in their place. */
static void test_non_finite_input(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	const double rate = 44100;
	const size_t n = (size_t)rate;
	float *x = malloc(n * sizeof *x), *z = malloc(n * sizeof *z);
	float *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	tone(x, 0, n, rate, 220.0, 0.2f);
	memcpy(z, x, n * sizeof *x);
	for (size_t i = 1000; i < 3000; i++) {
		x[i] = (i % 3 == 0) ? NAN : (i % 3 == 1) ? INFINITY : -INFINITY;
		z[i] = 0.0f;
	}
	for (size_t i = 5000; i < 5100; i++) {
		x[i] = 1e-40f; /* denormals count as 0 too */
		z[i] = 0.0f;
	}
	StrideGate *g1 = new_gate(m, rate, 1), *g2 = new_gate(m, rate, 1);
	run_blocks(g1, x, a, n, 300, 4);
	run_blocks(g2, z, b, n, 300, 4);
	for (size_t i = 0; i < n; i++)
		assert_true(isfinite(a[i]));
	assert_memory_equal(a, b, n * sizeof *a);
	stride_gate_free(g1);
	stride_gate_free(g2);
	free(x);
	free(z);
	free(a);
	free(b);
	stride_model_free(m);
}

/* Stereo: one decision for both channels; each channel keeps its own audio. */
static void test_stereo(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	const double rate = 48000;
	StrideGate *g = new_gate(m, rate, 2);
	const uint32_t L = stride_gate_latency(g);
	const size_t n = (size_t)rate, onset = n / 2;
	float *l = calloc(n, sizeof *l), *r = calloc(n, sizeof *r);
	float *ol = calloc(n, sizeof *ol), *orr = calloc(n, sizeof *orr);
	tone(l, onset, n, rate, 440.0, 0.3f); /* only the left channel plays */
	for (size_t i = 0; i < n; i++)
		r[i] = 0.0001f;
	for (size_t i = 0; i < n; i += 100) {
		const float *in[2] = {l + i, r + i};
		float *out[2] = {ol + i, orr + i};
		stride_gate_process(g, in, out, 100);
	}
	for (size_t i = onset; i + L < n; i++) {
		assert_true(ol[i + L] == l[i]);
		assert_true(orr[i + L] == r[i]); /* the right follows the left's decision */
	}
	assert_true(orr[onset - (size_t)(0.2 * rate) + L] == 0.0f); /* closed before */
	free(l);
	free(r);
	free(ol);
	free(orr);
	stride_gate_free(g);
	stride_model_free(m);
}

/* A swap to a new gate (a model change) continues the sound: an open gate on a
 * steady tone stays open through the swap, and the gain never jumps. */
static void test_continue_from(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	StrideModel *m2 = test_energy_model(false, 22050, 1024, 256, 0.01f, 400.0f);
	const double rate = 44100;
	StrideGate *g = new_gate(m, rate, 1);
	StrideGate *next = new_gate(m2, rate, 1);
	const size_t n = (size_t)rate, swap = n / 2;
	float *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
	for (size_t i = 0; i < n; i++)
		x[i] = 0.25f;
	const float *in[1] = {x};
	float *out[1] = {y};
	stride_gate_process(g, in, out, (uint32_t)swap);
	const float before = stride_gate_gain(g);
	stride_gate_continue_from(next, g);
	assert_float_equal(stride_gate_gain(next), before, 0.0f);
	const float *in2[1] = {x + swap};
	float *out2[1] = {y + swap};
	stride_gate_process(next, in2, out2, (uint32_t)(n - swap));
	/* from a while after the start (the first gate's lookahead) to the end, the
	 * steady input passes at full gain: the swap left no gap */
	for (size_t i = (size_t)(0.2 * rate); i < n; i++)
		if (y[i] != 0.25f)
			fail_msg("frame %zu (swap at %zu): %g", i, swap, y[i]);
	stride_gate_free(g);
	stride_gate_free(next);
	stride_model_free(m);
	stride_model_free(m2);
	free(x);
	free(y);
}

/* Which output is "content": the label, or the one beside "silence", or the
 * only one; anything else is refused. A classifier model is refused too. */
static void test_content_label(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN];
	StrideModel *m = gate_model();
	char **saved = m->labels;
	assert_int_equal(stride_gate_content_label(m, err), 0);
	char *two[2] = {"content", "other"};
	m->labels = two;
	m->n_labels = 2;
	assert_int_equal(stride_gate_content_label(m, err), 0);
	char *sil[2] = {"silence", "voice"};
	m->labels = sil;
	assert_int_equal(stride_gate_content_label(m, err), 1);
	char *bad[2] = {"a", "b"};
	m->labels = bad;
	assert_int_equal(stride_gate_content_label(m, err), -1);
	assert_non_null(strstr(err, "content"));
	m->labels = saved;
	m->n_labels = 1;
	stride_model_free(m);

	StrideModel *c = test_energy_model(true, 16000, 512, 128, 0.01f, 400.0f);
	assert_null(stride_gate_new(c, 48000, 1, err));
	assert_non_null(strstr(err, "classifier"));
	stride_model_free(c);
	StrideModel *gm = gate_model();
	assert_null(stride_classifier_new(gm, 48000, 1, err));
	assert_non_null(strstr(err, "gate"));
	stride_model_free(gm);
}

/* The detector's timing promise: decision k is out by the end of the push that
 * takes frame k*hop*host/model + stride_detector_delay, with one-frame pushes. */
static void test_detector_delay(void **state)
{
	(void)state;
	StrideModel *m = gate_model();
	for (int r = 0; r < N_RATES; r++) {
		char err[STRIDE_ERR_LEN];
		StrideDetector *d = stride_detector_new(m, rates[r], 1, err);
		assert_non_null(d);
		const double ratio = rates[r] / 16000.0, delay = stride_detector_delay(d);
		float probs[64];
		int64_t k = 0;
		const float zero = 0.0f;
		const float *in[1] = {&zero};
		for (int64_t frame = 0; frame < (int64_t)(rates[r] * 0.5); frame++) {
			k += stride_detector_push(d, in, 1, probs);
			/* every decision whose deadline has passed is out */
			const double due = floor((frame + 1 - delay) / (128 * ratio)) + 1;
			if (due > 0 && (double)k < due)
				fail_msg("%g Hz: %lld decisions by frame %lld, %g due", rates[r], (long long)k,
				         (long long)frame, due);
		}
		assert_true(k > 10);
		stride_detector_free(d);
	}
	stride_model_free(m);
}

/* The resampler is zero-phase and exact in time: a passband tone comes out as
 * the same tone sampled at exactly j * in/out (whatever the blocks), a tone
 * above the new Nyquist frequency is removed, and DC passes at unity. */
static void test_resampler(void **state)
{
	(void)state;
	const int pairs[][2] = {{48000, 16000}, {44100, 16000}, {22050, 16000}, {192000, 16000},
	                        {16000, 48000}, {44056, 16000}, {96000, 22050}};
	for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
		const int in_rate = pairs[k][0], out_rate = pairs[k][1];
		char err[STRIDE_ERR_LEN];
		StrideResampler *r = stride_resampler_new(in_rate, out_rate, 2, 256, err);
		assert_non_null(r);
		const double f_pass = 1000.0, f_stop = 0.6 * (in_rate < out_rate ? in_rate : out_rate);
		const size_t n = (size_t)in_rate;
		float *x = malloc(sizeof(float) * 2 * 256), *y = malloc(sizeof(float) * 2 * 4096);
		double worst = 0.0, stop_energy = 0.0;
		size_t in_at = 0, out_at = 0;
		StrideRng rng;
		stride_rng_seed(&rng, 1 + k);
		while (in_at < n) {
			const int b = 1 + (int)(stride_rng_next(&rng) % 256);
			for (int i = 0; i < b; i++) {
				const double t = (double)(in_at + (size_t)i) / in_rate;
				x[i] = (float)(0.5 * sin(2 * PI * f_pass * t));
				x[256 + i] = f_stop < 0.5 * in_rate ? (float)(0.5 * sin(2 * PI * f_stop * t)) : 0.0f;
			}
			const int got = stride_resampler_process(r, x, 256, b, y, 4096);
			for (int j = 0; j < got; j++, out_at++) {
				const double t = (double)out_at / out_rate;
				if (t > 0.05 && t < 0.95) { /* away from the start's silence */
					worst = fmax(worst, fabs(y[j] - 0.5 * sin(2 * PI * f_pass * t)));
					stop_energy += (double)y[4096 + j] * y[4096 + j];
				}
			}
			in_at += (size_t)b;
		}
		const double stop_rms = sqrt(stop_energy / (0.9 * out_rate));
		if (worst > 2e-3 || stop_rms > 1e-3)
			fail_msg("%d -> %d Hz: passband error %g, stopband RMS %g", in_rate, out_rate, worst,
			         stop_rms);
		/* every output is out by `holdback` input frames past its own time */
		const double produced_by = (double)out_at * in_rate / out_rate;
		assert_true(produced_by >= (double)n - stride_resampler_holdback(r) - 1.0);
		free(x);
		free(y);
		stride_resampler_free(r);
	}
}

/* The classifier: a loud tone is "loud" with high confidence, a quiet one
 * "quiet"; without smoothing each decision shows at once, with smoothing S the
 * estimate crosses over after about S * ln 2. */
static void test_classifier(void **state)
{
	(void)state;
	StrideModel *m = test_energy_model(true, 16000, 512, 128, 0.01f, 400.0f);
	char err[STRIDE_ERR_LEN];
	const double rate = 48000;
	StrideClassifier *c = stride_classifier_new(m, rate, 1, err);
	assert_non_null(c);
	assert_int_equal(stride_classifier_n_classes(c), 2);
	assert_string_equal(stride_classifier_label(c, 1), "loud");
	assert_int_equal(stride_classifier_decisions(c), 0);
	assert_float_equal(stride_classifier_confidence(c), 0.0f, 0.0f);

	const size_t n = (size_t)(rate * 4);
	float *x = calloc(n, sizeof *x);
	tone(x, 0, n / 2, rate, 300.0, 0.3f);
	tone(x, n / 2, n, rate, 300.0, 0.001f);
	stride_classifier_set_smoothing(c, 0.0f);
	const float *in[1] = {x};
	stride_classifier_process(c, in, (uint32_t)(n / 2));
	assert_int_equal(stride_classifier_top(c), 1);
	assert_true(stride_classifier_confidence(c) > 0.99f);
	const float *p = stride_classifier_probabilities(c);
	assert_float_equal(p[0] + p[1], 1.0f, 1e-5);

	stride_classifier_set_smoothing(c, 1.0f);
	size_t crossed = 0;
	for (size_t i = n / 2; i < n; i += 480) {
		const float *in2[1] = {x + i};
		stride_classifier_process(c, in2, 480);
		if (!crossed && stride_classifier_top(c) == 0)
			crossed = i + 480 - n / 2;
	}
	/* ln 2 s, plus up to a window (32 ms) and a block (10 ms) */
	const double t = (double)crossed / rate;
	if (!(t > 0.69 && t < 0.69 + 0.045))
		fail_msg("crossed over after %.3f s (expected 0.69 .. 0.735)", t);
	assert_int_equal(stride_classifier_top(c), 0);

	/* a swap to the same labels keeps the estimate */
	StrideClassifier *c2 = stride_classifier_new(m, rate, 1, err);
	stride_classifier_continue_from(c2, c);
	assert_int_equal(stride_classifier_top(c2), 0);
	assert_float_equal(stride_classifier_confidence(c2), stride_classifier_confidence(c), 0.0f);
	stride_classifier_free(c2);
	stride_classifier_free(c);
	free(x);
	stride_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_onset_never_clipped),
		cmocka_unit_test(test_onset_tight),
		cmocka_unit_test(test_label_region),
		cmocka_unit_test(test_label_region_meta),
		cmocka_unit_test(test_label_region_at_end),
		cmocka_unit_test(test_block_size_invariance),
		cmocka_unit_test(test_latency_exact),
		cmocka_unit_test(test_gain_slope_bound),
		cmocka_unit_test(test_hold_and_release),
		cmocka_unit_test(test_non_finite_input),
		cmocka_unit_test(test_stereo),
		cmocka_unit_test(test_continue_from),
		cmocka_unit_test(test_content_label),
		cmocka_unit_test(test_detector_delay),
		cmocka_unit_test(test_resampler),
		cmocka_unit_test(test_classifier),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
