/* bench_resampler: what the detectors' resampler (dsp/resampler.c) costs beside
 * libsamplerate's sinc converters, the alternative dsp/resampler.h and
 * docs/PLUGINS.md weigh it against.
 *
 * Each converter takes the same mono white noise in the blocks a plugin sees
 * (256 frames), from the usual host rates to 16 kHz (the shipped models' rate),
 * and the figure is CPU time per second of input, the best of several runs (the
 * machines are shared and noisy: compare ratios from one run). libsamplerate is
 * driven through its streaming API (src_process, one block at a time), as a
 * real-time user would. See bench/README.md.
 *
 *   bench_resampler [--quick]
 */
#include <samplerate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resampler.h"
#include "stride.h"

#define BLOCK 256
#define OUT_RATE 16000

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds for n frames through Stride's resampler; -1 on failure. */
static double time_stride(int in_rate, const float *in, int n, float *out)
{
	char err[STRIDE_ERR_LEN];
	StrideResampler *r = stride_resampler_new(in_rate, OUT_RATE, 1, BLOCK, err);
	if (!r) {
		fprintf(stderr, "bench_resampler: %s\n", err);
		return -1.0;
	}
	const int max_out = stride_resampler_max_out(r);
	volatile float sink = 0.0f;
	const double t0 = cpu_seconds();
	for (int i = 0; i + BLOCK <= n; i += BLOCK) {
		const int got = stride_resampler_process(r, in + i, BLOCK, BLOCK, out, max_out);
		if (got > 0)
			sink += out[got - 1];
	}
	const double t = cpu_seconds() - t0;
	(void)sink;
	stride_resampler_free(r);
	return t;
}

/* The same through libsamplerate's converter `type`. */
static double time_src(int type, int in_rate, const float *in, int n, float *out, int out_cap)
{
	int error = 0;
	SRC_STATE *s = src_new(type, 1, &error);
	if (!s) {
		fprintf(stderr, "bench_resampler: %s\n", src_strerror(error));
		return -1.0;
	}
	SRC_DATA d;
	memset(&d, 0, sizeof d);
	d.src_ratio = (double)OUT_RATE / in_rate;
	volatile float sink = 0.0f;
	const double t0 = cpu_seconds();
	for (int i = 0; i + BLOCK <= n; i += BLOCK) {
		d.data_in = in + i;
		d.input_frames = BLOCK;
		d.data_out = out;
		d.output_frames = out_cap;
		if (src_process(s, &d) != 0)
			break;
		if (d.output_frames_gen > 0)
			sink += out[d.output_frames_gen - 1];
	}
	const double t = cpu_seconds() - t0;
	(void)sink;
	src_delete(s);
	return t;
}

int main(int argc, char **argv)
{
	const bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	const int seconds = quick ? 2 : 10;
	const int reps = quick ? 2 : 5;
	static const int rates[] = {44100, 48000, 96000};
	static const struct {
		int type;
		const char *name;
	} srcs[] = {
		{SRC_SINC_FASTEST, "SINC_FASTEST"},
		{SRC_SINC_MEDIUM_QUALITY, "SINC_MEDIUM"},
	};
	printf("CPU ms per second of mono input to %d Hz, blocks of %d (best of %d)\n", OUT_RATE,
	       BLOCK, reps);
	printf("%-8s %10s %14s %14s %10s %10s\n", "rate", "stride", "SINC_FASTEST", "SINC_MEDIUM",
	       "x fastest", "x medium");
	for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
		const int rate = rates[k];
		const int n = rate * seconds;
		float *in = malloc((size_t)n * sizeof *in);
		const int out_cap = BLOCK * 2 + 64;
		float *out = malloc((size_t)out_cap * sizeof *out);
		if (!in || !out) {
			fputs("bench_resampler: out of memory\n", stderr);
			return 1;
		}
		unsigned int seed = 1;
		for (int i = 0; i < n; i++) {
			seed = seed * 1664525u + 1013904223u;
			in[i] = (float)((double)(seed >> 8) / 8388608.0 - 1.0) * 0.5f;
		}
		double best[3] = {1e30, 1e30, 1e30};
		for (int r = 0; r < reps; r++) {
			double t = time_stride(rate, in, n, out);
			if (t >= 0 && t < best[0])
				best[0] = t;
			for (int j = 0; j < 2; j++) {
				t = time_src(srcs[j].type, rate, in, n, out, out_cap);
				if (t >= 0 && t < best[1 + j])
					best[1 + j] = t;
			}
		}
		printf("%-8d %10.3f %14.3f %14.3f %10.1f %10.1f\n", rate, 1e3 * best[0] / seconds,
		       1e3 * best[1] / seconds, 1e3 * best[2] / seconds, best[1] / best[0],
		       best[2] / best[0]);
		free(in);
		free(out);
	}
	return 0;
}
