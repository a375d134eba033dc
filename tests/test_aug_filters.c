/* The trainer's augmentation filters (cli/aug_filters.c) against independent
 * truth: the band limit's response is the bilinear-transformed Butterworth
 * magnitude 1 / sqrt(1 + (tan(pi f / fs) / tan(pi fc / fs))^(2N)), measured
 * with sines; a room's impulse response is its taps, of unit energy, and its
 * tail decays by 60 dB over the RT60 it drew; and in the gate's mixes, the
 * background cut to digital silence, the reverberated and the band-limited
 * content behave as the options say; multi-step examples label each step by
 * where their content is. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "train_util.h"

#include "aug_filters.h"
#include "augment.h"
#include "dataset.h"

#define RATE 16000
#define PI 3.14159265358979323846

/* The steady-state gain (dB) of the band limit for a sine at f Hz. */
static double band_gain_db(const AugBand *drawn, double f)
{
	AugBand b = *drawn;
	const int n = RATE, settle = RATE / 2;
	double in = 0.0, out = 0.0;
	for (int i = 0; i < n; i++) {
		const double x = sin(2.0 * PI * f * i / RATE);
		const double y = aug_band_step(&b, x);
		if (i >= settle) {
			in += x * x;
			out += y * y;
		}
	}
	return 10.0 * log10(out / in);
}

static double butterworth_db(double f, double fc, int order, bool high)
{
	double ratio = tan(PI * f / RATE) / tan(PI * fc / RATE);
	if (high)
		ratio = 1.0 / ratio;
	return -10.0 * log10(1.0 + pow(ratio, 2.0 * order));
}

static void test_band_limit_is_butterworth(void **state)
{
	(void)state;
	int lowpass_only = 0, with_highpass = 0;
	for (uint64_t seed = 1; seed <= 12; seed++) {
		StrideRng r;
		stride_rng_seed(&r, seed);
		AugBand b;
		aug_band_draw(&r, RATE, &b);
		assert_true(b.cutoff_hz >= AUG_BAND_LOW_HZ && b.cutoff_hz <= AUG_BAND_HIGH_HZ);
		assert_int_equal(b.n, b.highpass_hz > 0.0 ? 6 : 4);
		with_highpass += b.highpass_hz > 0.0;
		lowpass_only += b.highpass_hz == 0.0;
		const double freqs[] = { 0.25 * b.cutoff_hz, 0.7 * b.cutoff_hz, b.cutoff_hz,
		                         1.2 * b.cutoff_hz, 1000.0 };
		for (size_t k = 0; k < sizeof freqs / sizeof *freqs; k++) {
			const double f = freqs[k];
			if (f >= 0.49 * RATE)
				continue;
			double want = butterworth_db(f, b.cutoff_hz, 8, false);
			if (b.highpass_hz > 0.0)
				want += butterworth_db(f, b.highpass_hz, 4, true);
			const double got = band_gain_db(&b, f);
			if (fabs(got - want) > 0.2)
				fail_msg("seed %d: %.0f Hz through cutoff %.0f (hp %.0f): %.2f dB, want %.2f",
				         (int)seed, f, b.cutoff_hz, b.highpass_hz, got, want);
		}
		/* where the telephone highpass is, the bottom is gone */
		if (b.highpass_hz > 0.0)
			assert_true(band_gain_db(&b, 60.0) < -35.0);
	}
	assert_true(lowpass_only > 0 && with_highpass > 0);
}

static void test_room_impulse_response(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		StrideRng r;
		stride_rng_seed(&r, 100 + seed);
		AugRoom room;
		aug_room_draw(&r, RATE, &room);
		assert_true(room.rt60_s >= 0.15 && room.rt60_s <= 1.2);
		assert_true(room.n > 10 && room.n <= AUG_ROOM_MAX_TAPS);
		assert_int_equal(room.delay[0], 0);
		/* the impulse response, sample by sample, is the taps */
		const int len = room.length + 16;
		float *impulse = calloc((size_t)len, sizeof *impulse);
		double *h = calloc((size_t)len, sizeof *h);
		assert_non_null(impulse);
		assert_non_null(h);
		impulse[0] = 1.0f;
		double energy = 0.0;
		for (int i = 0; i < len; i++) {
			h[i] = aug_room_sample(&room, impulse, i, 0);
			energy += h[i] * h[i];
		}
		double *want = calloc((size_t)len, sizeof *want), taps = 0.0;
		assert_non_null(want);
		for (int k = 0; k < room.n; k++) {
			want[room.delay[k]] += room.gain[k];
			taps += (double)room.gain[k] * room.gain[k];
		}
		for (int i = 0; i < len; i++)
			assert_float_equal(h[i], want[i], 1e-6);
		free(want);
		/* unit energy over the taps (taps that land on one sample add up, so
		 * the response's energy is within a few per cent of it) */
		assert_float_equal(taps, 1.0, 1e-5);
		assert_float_equal(energy, 1.0, 0.03);
		/* nothing before the signal starts: x[-1] is never read with before = 0 */
		assert_float_equal(aug_room_sample(&room, impulse + 1, 0, 0), room.gain[0] * impulse[1], 1e-9);
		/* the tail's decay: energy in 20 ms bins from 50 ms on, fitted by a line
		 * in dB against time, falls 60 dB in RT60 (within 15%) */
		const int bin = RATE / 50, first = RATE / 20;
		double sx = 0, sy = 0, sxx = 0, sxy = 0;
		int m = 0;
		for (int s = first; s + bin <= room.length; s += bin) {
			double e = 0.0;
			for (int i = s; i < s + bin; i++)
				e += h[i] * h[i];
			if (e <= 0.0)
				continue;
			const double t = (s + bin / 2.0) / RATE, db = 10.0 * log10(e);
			sx += t;
			sy += db;
			sxx += t * t;
			sxy += t * db;
			m++;
		}
		if (m >= 4) {
			const double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx); /* dB per s */
			const double rt60 = -60.0 / slope;
			if (fabs(rt60 - room.rt60_s) > 0.15 * room.rt60_s)
				fail_msg("seed %d: the tail decays to -60 dB in %.3f s, drawn RT60 %.3f s",
				         (int)seed, rt60, room.rt60_s);
		}
		free(impulse);
		free(h);
	}
}

/* ------------------------------------------------------------------------ */
/* In the gate's mixes                                                       */
/* ------------------------------------------------------------------------ */

#define WINDOW 3200

static char tmpdir[256];

static StrideDataset *tone_and_noise(char *err)
{
	char p[600];
	snprintf(p, sizeof p, "%s/gate/content", tmpdir);
	tu_mkdirs(p);
	snprintf(p, sizeof p, "%s/gate/noise", tmpdir);
	tu_mkdirs(p);
	/* content: a 440 Hz tone with a 6 kHz partial; noise: white */
	const int n = 3 * RATE;
	float *x = malloc((size_t)n * sizeof *x);
	assert_non_null(x);
	for (int i = 0; i < n; i++)
		x[i] = (float)(0.3 * sin(2.0 * PI * 440.0 * i / RATE) + 0.2 * sin(2.0 * PI * 6000.0 * i / RATE));
	snprintf(p, sizeof p, "%s/gate/content/tone.wav", tmpdir);
	tu_write_wav(p, x, n, RATE, 1, 0);
	StrideRng r;
	stride_rng_seed(&r, 5);
	for (int i = 0; i < n; i++)
		x[i] = (float)(0.1 * stride_rng_normal(&r));
	snprintf(p, sizeof p, "%s/gate/noise/white.wav", tmpdir);
	tu_write_wav(p, x, n, RATE, 1, 0);
	free(x);
	snprintf(p, sizeof p, "%s/gate", tmpdir);
	StrideDatasetOptions opt = { STRIDE_TASK_GATE, RATE, WINDOW, 2, NULL, NULL, NULL, 0, true, false };
	return cli_dataset_load(p, &opt, err);
}

static double energy(const float *x, int a, int b)
{
	double e = 0.0;
	for (int i = a; i < b; i++)
		e += (double)x[i] * x[i];
	return e;
}

/* Power of x at f Hz (a single DFT bin over the whole window). */
static double tone_power(const float *x, int n, double f)
{
	double re = 0.0, im = 0.0;
	for (int i = 0; i < n; i++) {
		re += x[i] * cos(2.0 * PI * f * i / RATE);
		im += x[i] * sin(2.0 * PI * f * i / RATE);
	}
	return (re * re + im * im) / ((double)n * n);
}

static void test_mixes(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN];
	StrideDataset *ds = tone_and_noise(err);
	if (!ds)
		fail_msg("%s", err);
	StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_GATE);
	aug.polarity = false;
	aug.noise_prob = 1.0;
	aug.content_prob = 0.0;
	aug.level_min_db = aug.level_max_db = -20.0;
	aug.snr_min_db = aug.snr_max_db = 0.0;
	StrideExamples ex;
	assert_int_equal(cli_examples_init(&ex, ds, STRIDE_USE_TRAIN, WINDOW, 0, WINDOW, &aug, NULL, err), 0);
	float x[WINDOW], y[WINDOW];

	/* off: no window of noise holds a run of digital silence */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(cli_example_make(&ex, -1, -1, 10 + (uint64_t)i, x, NULL), STRIDE_GATE_NOISE);
		int zeros = 0;
		for (int j = 0; j < WINDOW; j++)
			zeros += x[j] == 0.0f;
		assert_true(zeros < 4);
	}
	/* the background cut: digital silence from an edge to one end, noise elsewhere */
	ex.aug.cut_prob = 1.0;
	int starts = 0, stops = 0;
	for (int i = 0; i < 40; i++) {
		assert_int_equal(cli_example_make(&ex, -1, -1, 100 + (uint64_t)i, x, NULL), STRIDE_GATE_NOISE);
		int lead = 0, trail = 0, zeros = 0;
		while (lead < WINDOW && x[lead] == 0.0f)
			lead++;
		while (trail < WINDOW && x[WINDOW - 1 - trail] == 0.0f)
			trail++;
		for (int j = 0; j < WINDOW; j++)
			zeros += x[j] == 0.0f;
		/* one run of silence at one end (white noise itself is exactly 0 now and then) */
		if (lead == WINDOW || (lead > 16 && trail > 16) || zeros - lead - trail > 3)
			fail_msg("seed %d: %d zeros, %d leading, %d trailing", 100 + i, zeros, lead, trail);
		starts += lead > 16;
		stops += trail > 16;
	}
	assert_true(starts > 5 && stops > 5);
	ex.aug.cut_prob = 0.0;

	/* spliced in: content at 0 dB SNR replaces the noise, so the window is the
	 * content alone (as at 120 dB SNR, to the noise left there) */
	ex.aug.content_prob = 1.0;
	ex.aug.partial_prob = 0.0;
	for (int i = 0; i < 10; i++) {
		const uint64_t seed = 200 + (uint64_t)i;
		ex.aug.snr_min_db = ex.aug.snr_max_db = 120.0;
		cli_example_make(&ex, -1, -1, seed, x, NULL);
		ex.aug.snr_min_db = ex.aug.snr_max_db = 0.0;
		ex.aug.splice_prob = 1.0;
		cli_example_make(&ex, -1, -1, seed, y, NULL);
		ex.aug.splice_prob = 0.0;
		double diff = 0.0;
		for (int j = 0; j < WINDOW; j++)
			diff += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
		assert_true(diff < 1e-9 * energy(x, 0, WINDOW));
		cli_example_make(&ex, -1, -1, seed, y, NULL); /* not spliced: the noise is there */
		diff = 0.0;
		for (int j = 0; j < WINDOW; j++)
			diff += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
		assert_true(diff > 0.5 * energy(x, 0, WINDOW));
	}

	/* content alone (120 dB SNR), through a room: still at its level (within
	 * 2 dB on average), but not the dry tone */
	ex.aug.content_prob = 1.0;
	ex.aug.partial_prob = 0.0;
	ex.aug.snr_min_db = ex.aug.snr_max_db = 120.0;
	double wet_sum = 0.0;
	for (int i = 0; i < 10; i++) {
		const uint64_t seed = 300 + (uint64_t)i;
		assert_int_equal(cli_example_make(&ex, -1, -1, seed, x, NULL), STRIDE_GATE_CONTENT);
		ex.aug.reverb_prob = 1.0;
		assert_int_equal(cli_example_make(&ex, -1, -1, seed, y, NULL), STRIDE_GATE_CONTENT);
		ex.aug.reverb_prob = 0.0;
		const double dry = 10.0 * log10(energy(x, 0, WINDOW) / WINDOW);
		const double wet = 10.0 * log10(energy(y, 0, WINDOW) / WINDOW);
		assert_true(fabs(dry + 20.0) < 0.5);
		/* a room colours a pure tone's two partials by several dB either way */
		assert_true(fabs(wet + 20.0) < 6.0);
		wet_sum += wet;
		double diff = 0.0;
		for (int j = 0; j < WINDOW; j++)
			diff += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
		assert_true(diff > 1e-3 * energy(x, 0, WINDOW));
	}
	assert_true(fabs(wet_sum / 10.0 + 20.0) < 2.0);
	/* band limits: the 6 kHz partial loses most of its power, the 440 Hz one keeps it */
	double hi_dry = 0, hi_lim = 0, lo_dry = 0, lo_lim = 0;
	for (int i = 0; i < 40; i++) {
		const uint64_t seed = 500 + (uint64_t)i;
		cli_example_make(&ex, -1, -1, seed, x, NULL);
		ex.aug.band_prob = 1.0;
		cli_example_make(&ex, -1, -1, seed, y, NULL);
		ex.aug.band_prob = 0.0;
		hi_dry += tone_power(x, WINDOW, 6000.0);
		hi_lim += tone_power(y, WINDOW, 6000.0);
		lo_dry += tone_power(x, WINDOW, 440.0);
		lo_lim += tone_power(y, WINDOW, 440.0);
	}
	/* cutoffs are under 6 kHz three times in four; all keep 440 Hz
	 * unless a telephone highpass (up to 400 Hz) takes a little of it */
	assert_true(hi_lim < 0.5 * hi_dry);
	assert_true(lo_lim > 0.7 * lo_dry && lo_lim < 1.1 * lo_dry);
	cli_examples_free(&ex);
	cli_dataset_free(ds);
}

/* Multi-step examples: each step's label is whether half of its label region
 * holds content, read here from the signal itself (content at -20 dBFS over a
 * background 120 dB under it); content from a clip shorter than the example
 * plays once, whole. */
static void check_step_labels(StrideExamples *ex, uint64_t seed, long long *content_steps,
                              long long *noise_steps, int *longest_run)
{
	float *x = malloc((size_t)ex->window * sizeof *x);
	int *labels = malloc((size_t)ex->steps * sizeof *labels);
	assert_non_null(x);
	assert_non_null(labels);
	const int first = cli_example_make(ex, -1, -1, seed, x, labels);
	assert_int_equal(first, labels[0]);
	/* the longest run of content: a tone's zero crossings, quantised to 16
	 * bits, may be exactly 0 for a sample, so gaps of up to 3 samples join */
	int run = 0, gap = 0;
	*longest_run = 0;
	for (int i = 0; i < ex->window; i++) {
		if (fabsf(x[i]) > 1e-5f) {
			run += gap + 1;
			gap = 0;
		} else if (run > 0 && ++gap > 3) {
			run = gap = 0;
		}
		*longest_run = run > *longest_run ? run : *longest_run;
	}
	for (int k = 0; k < ex->steps; k++) {
		const int a = k * ex->hop + ex->region_start, b = k * ex->hop + ex->region_end;
		int loud = 0;
		for (int i = a; i < b; i++)
			loud += fabsf(x[i]) > 1e-5f;
		const double share = (double)loud / (b - a);
		if (share > 0.4 && share < 0.6)
			continue; /* a fade or a zero crossing could tip it either way */
		const int want = share >= 0.5 ? STRIDE_GATE_CONTENT : STRIDE_GATE_NOISE;
		if (labels[k] != want)
			fail_msg("seed %d step %d: label %d, but %.0f%% of its region is content", (int)seed, k,
			         labels[k], 100.0 * share);
		*content_steps += want == STRIDE_GATE_CONTENT;
		*noise_steps += want == STRIDE_GATE_NOISE;
	}
	free(x);
	free(labels);
}

static void test_steps(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN], p[600];
	StrideDataset *ds = tone_and_noise(err);
	if (!ds)
		fail_msg("%s", err);
	StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_GATE);
	aug.polarity = false;
	aug.noise_prob = 0.0; /* white noise or silence, 120 dB down */
	aug.content_prob = 1.0;
	aug.partial_prob = 1.0;
	aug.level_min_db = aug.level_max_db = -20.0;
	aug.snr_min_db = aug.snr_max_db = 120.0;
	StrideExamples ex;
	int rs, re;
	cli_label_region(512, 128, true, &rs, &re);
	assert_int_equal(cli_examples_init(&ex, ds, STRIDE_USE_TRAIN, 512, rs, re, &aug, NULL, err), 0);
	assert_int_equal(cli_examples_set_steps(&ex, 40, 128, err), 0);
	assert_int_equal(ex.window, 512 + 39 * 128);
	assert_int_equal(cli_examples_set_steps(&ex, 2, 128, err), -1); /* once */
	long long content = 0, noise = 0;
	int run;
	for (uint64_t seed = 1; seed <= 30; seed++)
		check_step_labels(&ex, seed, &content, &noise, &run);
	assert_true(content > 100 && noise > 100);
	cli_examples_free(&ex);

	/* a 0.2 s clip in a 0.34 s example: one run of content at most 0.2 s long */
	float *x = malloc(3200 * sizeof *x);
	assert_non_null(x);
	for (int i = 0; i < 3200; i++)
		x[i] = (float)(0.3 * sin(2.0 * PI * 440.0 * i / RATE));
	snprintf(p, sizeof p, "%s/short/content/tone.wav", tmpdir);
	tu_write_wav(p, x, 3200, RATE, 1, 0);
	free(x);
	snprintf(p, sizeof p, "%s/short", tmpdir);
	StrideDatasetOptions opt = { STRIDE_TASK_GATE, RATE, 512, 1, NULL, NULL, NULL, 0, false, false };
	StrideDataset *shorter = cli_dataset_load(p, &opt, err);
	if (!shorter)
		fail_msg("%s", err);
	assert_int_equal(cli_examples_init(&ex, shorter, STRIDE_USE_TRAIN, 512, rs, re, &aug, NULL, err), 0);
	assert_int_equal(cli_examples_set_steps(&ex, 40, 128, err), 0);
	content = noise = 0;
	int whole = 0;
	for (uint64_t seed = 1; seed <= 30; seed++) {
		check_step_labels(&ex, 100 + seed, &content, &noise, &run);
		assert_true(run <= 3200);
		whole += run > 3000;
	}
	if (!(whole > 5 && content > 50 && noise > 50))
		fail_msg("whole %d, content steps %lld, noise steps %lld", whole, content, noise);
	cli_examples_free(&ex);
	cli_dataset_free(shorter);

	/* classifiers take one label per example */
	StrideDatasetOptions copt = { STRIDE_TASK_CLASSIFY, RATE, 512, 1, NULL, NULL, NULL, 0, true, false };
	snprintf(p, sizeof p, "%s/gate", tmpdir);
	StrideDataset *cds = cli_dataset_load(p, &copt, err);
	if (!cds)
		fail_msg("%s", err);
	StrideAugConfig caug = cli_aug_defaults(STRIDE_TASK_CLASSIFY);
	assert_int_equal(cli_examples_init(&ex, cds, STRIDE_USE_TRAIN, 512, 0, 512, &caug, NULL, err), 0);
	assert_int_equal(cli_examples_set_steps(&ex, 4, 128, err), -1);
	tu_assert_contains(err, "need a gate");
	cli_examples_free(&ex);
	cli_dataset_free(cds);
	cli_dataset_free(ds);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/stride_test_aug_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_band_limit_is_butterworth),
		cmocka_unit_test(test_room_impulse_response),
		cmocka_unit_test(test_mixes),
		cmocka_unit_test(test_steps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
