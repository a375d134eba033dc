/* `stride gate IN OUT`: the command gives exactly what the gate DSP object gives
 * with the same controls (the plugin's code path), lined up with the input
 * unless --keep-latency; flags are the port symbols, checked against their
 * ranges; presets apply; errors name the file. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "gate.h"
#include "test_models.h"
#include "util.h"

static char dir[64], stride_bin[4096], model[128], in_wav[128], out_wav[128], trace_csv[128];
static const int RATE = 44100;
static const int FRAMES = 44100 * 2;

static void write_wav(const char *path, const float *x, int frames, int channels)
{
	SF_INFO info = {0};
	info.samplerate = RATE;
	info.channels = channels;
	info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	assert_non_null(f);
	assert_int_equal(sf_writef_float(f, x, frames), frames);
	sf_close(f);
}

static float *read_wav(const char *path, int *frames, int *channels)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f)
		fail_msg("%s: %s", path, sf_strerror(NULL));
	float *x = malloc(sizeof(float) * (size_t)info.frames * (size_t)info.channels);
	*frames = (int)sf_readf_float(f, x, info.frames);
	*channels = info.channels;
	sf_close(f);
	return x;
}

static int run(const char *args)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "'%s' gate %s >/dev/null 2>%s/err.txt", stride_bin, args, dir);
	const int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void err_text(char *out, size_t size)
{
	char path[128];
	snprintf(path, sizeof path, "%s/err.txt", dir);
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (f) {
		out[fread(out, 1, size - 1, f)] = '\0';
		fclose(f);
	}
}

static int setup(void **state)
{
	(void)state;
	const char *build = getenv("STRIDE_BUILD");
	if (!build)
		return -1;
#if defined(STRIDE_SANITIZED)
	snprintf(stride_bin, sizeof stride_bin, "%s/asan/stride", build);
#else
	snprintf(stride_bin, sizeof stride_bin, "%s/stride", build);
#endif
	snprintf(dir, sizeof dir, "/tmp/stride-cmd-gate-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(model, sizeof model, "%s/energy.safetensors", dir);
	snprintf(in_wav, sizeof in_wav, "%s/in.wav", dir);
	snprintf(out_wav, sizeof out_wav, "%s/out.wav", dir);
	snprintf(trace_csv, sizeof trace_csv, "%s/trace.csv", dir);
	char err[STRIDE_ERR_LEN];
	StrideModel *m = test_energy_model(false, 16000, 512, 128, 0.01f, 400.0f);
	if (!m || stride_model_write(m, model, err) < 0)
		return -1;
	stride_model_free(m);
	/* stereo: bursts of tone over quiet noise */
	float *x = malloc(sizeof(float) * (size_t)FRAMES * 2);
	StrideRng rng;
	stride_rng_seed(&rng, 1);
	for (int i = 0; i < FRAMES; i++) {
		const bool loud = (i / 11025) % 2 == 1;
		const float n = (float)(stride_rng_uniform(&rng) - 0.5) * 0.004f;
		const float t = loud ? 0.3f * sinf((float)i * 0.05f) : 0.0f;
		x[2 * i] = t + n;
		x[2 * i + 1] = 0.5f * t - n;
	}
	write_wav(in_wav, x, FRAMES, 2);
	free(x);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	const char *names[] = {"energy.safetensors", "in.wav", "out.wav", "err.txt", "trace.csv"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[128];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		remove(p);
	}
	rmdir(dir);
	return 0;
}

/* The reference: the DSP object on the whole file, planar. */
static float *reference(const StrideGateParams *p, uint32_t *latency)
{
	int frames, channels;
	float *inter = read_wav(in_wav, &frames, &channels);
	char err[STRIDE_ERR_LEN];
	StrideModel *m = stride_model_read(model, err);
	assert_non_null(m);
	StrideGate *g = stride_gate_new(m, RATE, 2, err);
	assert_non_null(g);
	stride_model_free(m);
	stride_gate_set_params(g, p);
	*latency = stride_gate_latency(g);
	float *in = malloc(sizeof(float) * (size_t)frames * 2);
	float *out = malloc(sizeof(float) * (size_t)frames * 2);
	for (int i = 0; i < frames; i++)
		for (int c = 0; c < 2; c++)
			in[c * frames + i] = inter[2 * i + c];
	const float *ins[2] = {in, in + frames};
	float *outs[2] = {out, out + frames};
	stride_gate_process(g, ins, outs, (uint32_t)frames);
	stride_gate_free(g);
	free(inter);
	free(in);
	return out;
}

static void compare(const float *ref, uint32_t shift, const char *what)
{
	int frames, channels;
	float *y = read_wav(out_wav, &frames, &channels);
	assert_int_equal(channels, 2);
	assert_int_equal(frames, FRAMES);
	for (int i = 0; i + (int)shift < frames; i++)
		for (int c = 0; c < 2; c++)
			if (y[2 * i + c] != ref[c * FRAMES + i + (int)shift])
				fail_msg("%s: frame %d channel %d is %g, the gate object gives %g", what, i, c,
				         y[2 * i + c], ref[c * FRAMES + i + (int)shift]);
	free(y);
}

static void test_same_as_the_dsp_object(void **state)
{
	(void)state;
	StrideGateParams p = stride_gate_params_default();
	p.v[STRIDE_GATE_THRESHOLD] = 0.6f;
	p.v[STRIDE_GATE_HOLD] = 40.0f;
	p.v[STRIDE_GATE_RELEASE] = 80.0f;
	p.v[STRIDE_GATE_RANGE] = -30.0f;
	uint32_t latency;
	float *ref = reference(&p, &latency);
	char args[1024];
	snprintf(args, sizeof args,
	         "--model '%s' --threshold 0.6 --hold=40 --release 80 --range -30 '%s' '%s'", model,
	         in_wav, out_wav);
	assert_int_equal(run(args), 0);
	compare(ref, latency, "compensated"); /* lined up with the input */
	snprintf(args, sizeof args,
	         "--keep-latency --model '%s' --threshold 0.6 --hold 40 --release 80 --range=-30 "
	         "'%s' '%s'",
	         model, in_wav, out_wav);
	assert_int_equal(run(args), 0);
	compare(ref, 0, "--keep-latency");
	free(ref);

	/* a preset, then one flag over it */
	const StrideGatePreset *speech = &stride_gate_presets[0];
	p = speech->params;
	p.v[STRIDE_GATE_RANGE] = -12.0f;
	ref = reference(&p, &latency);
	snprintf(args, sizeof args, "--model '%s' --preset %s --range -12 '%s' '%s'", model,
	         speech->symbol, in_wav, out_wav);
	assert_int_equal(run(args), 0);
	compare(ref, latency, "preset");
	free(ref);
}

typedef struct {
	long start, end;
	float p, gain_min, gain_mean, gain_max;
	int open;
} TraceRow;

static TraceRow *read_trace(int *n)
{
	FILE *f = fopen(trace_csv, "r");
	assert_non_null(f);
	char line[512];
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "start,end,probability,open,gain_min,gain_mean,gain_max\n");
	int cap = 1024;
	TraceRow *r = malloc(sizeof *r * (size_t)cap);
	*n = 0;
	while (fgets(line, sizeof line, f)) {
		if (*n == cap)
			r = realloc(r, sizeof *r * (size_t)(cap *= 2));
		TraceRow *t = &r[*n];
		assert_int_equal(sscanf(line, "%ld,%ld,%f,%d,%f,%f,%f", &t->start, &t->end, &t->p,
		                        &t->open, &t->gain_min, &t->gain_mean, &t->gain_max),
		                 7);
		(*n)++;
	}
	fclose(f);
	return r;
}

/* Bursts of tone: [11025 (2j + 1), 11025 (2j + 2)); is [a, b) inside one, or
 * inside a quiet stretch, by at least `margin` frames? */
static bool inside(long a, long b, bool loud, long margin)
{
	const long k = a / 11025;
	return (k % 2 == 1) == loud && a >= k * 11025 + margin && b <= (k + 1) * 11025 - margin;
}

/* --trace: the gain it reports times the input is the output, frame for
 * frame; its rows sit on the input's time axis (the latency taken out): open
 * and at full gain inside the tone bursts, closed and silent in the quiet
 * between them; rows are one decision's stretch by default. */
static void test_trace(void **state)
{
	(void)state;
	char args[1024];
	snprintf(args, sizeof args,
	         "--model '%s' --hold 0 --release 5 --trace '%s' --trace-frames 1 '%s' '%s'", model,
	         trace_csv, in_wav, out_wav);
	assert_int_equal(run(args), 0);
	int n, frames, channels;
	TraceRow *r = read_trace(&n);
	float *x = read_wav(in_wav, &frames, &channels);
	float *y = read_wav(out_wav, &frames, &channels);
	assert_int_equal(n, FRAMES);
	int open_rows = 0, closed_rows = 0;
	for (int u = 0; u < n; u++) {
		assert_int_equal(r[u].start, u);
		assert_int_equal(r[u].end, u + 1);
		assert_true(r[u].gain_min == r[u].gain_mean && r[u].gain_mean == r[u].gain_max);
		for (int c = 0; c < 2; c++)
			if (y[2 * u + c] != r[u].gain_min * x[2 * u + c])
				fail_msg("frame %d channel %d: output %g, trace gain %g x input %g", u, c,
				         y[2 * u + c], r[u].gain_min, x[2 * u + c]);
		/* the model's window (512 of 16000 Hz: 1411 frames) runs ahead of the
		 * stretch its decision speaks for: closed rows end a window early */
		if (inside(r[u].start, r[u].end, true, 300)) {
			open_rows++;
			if (!r[u].open || r[u].p < 0.5f || r[u].gain_min != 1.0f)
				fail_msg("frame %d, inside a burst: open %d, p %g, gain %g", u, r[u].open,
				         r[u].p, r[u].gain_min);
		}
		if (inside(r[u].start, r[u].end + 1411, false, 800)) {
			closed_rows++;
			if (r[u].open || r[u].p >= 0.4f || r[u].gain_max != 0.0f)
				fail_msg("frame %d, in the quiet: open %d, p %g, gain %g", u, r[u].open,
				         r[u].p, r[u].gain_max);
		}
	}
	assert_true(open_rows > FRAMES / 3 && closed_rows > FRAMES / 4);
	free(r);
	free(x);
	free(y);

	/* default rows: one decision's stretch each (hop 128 of 16000 Hz at 44100
	 * Hz: 352.8 frames, so 352 or 353), open only where p passed the threshold
	 * (0.5) or stayed above its hysteresis (0.1) below */
	snprintf(args, sizeof args, "--model '%s' --trace='%s' '%s' '%s'", model, trace_csv, in_wav,
	         out_wav);
	assert_int_equal(run(args), 0);
	r = read_trace(&n);
	assert_int_equal(r[n - 1].end, FRAMES);
	for (int i = 0; i < n; i++) {
		assert_true(r[i].end - r[i].start == 352 || r[i].end - r[i].start == 353 || i == n - 1);
		assert_true(r[i].open ? r[i].p >= 0.4f : r[i].p < 0.5f);
	}
	free(r);
	/* with --keep-latency the last frames have no output, so no row */
	snprintf(args, sizeof args, "--keep-latency --model '%s' --trace '%s' --trace-frames 1 '%s' '%s'",
	         model, trace_csv, in_wav, out_wav);
	assert_int_equal(run(args), 0);
	uint32_t latency;
	const StrideGateParams defaults = stride_gate_params_default();
	free(reference(&defaults, &latency));
	r = read_trace(&n);
	assert_int_equal(n, FRAMES - (int)latency);
	free(r);
}

static void test_errors(void **state)
{
	(void)state;
	char args[1024], text[4096];
	snprintf(args, sizeof args, "--model '%s' --threshold 1.5 '%s' '%s'", model, in_wav, out_wav);
	assert_int_equal(run(args), 2);
	err_text(text, sizeof text);
	assert_non_null(strstr(text, "--threshold 1.5 is outside 0 .. 1"));
	snprintf(args, sizeof args, "--model '%s' --atack 3 '%s' '%s'", model, in_wav, out_wav);
	assert_int_equal(run(args), 2);
	err_text(text, sizeof text);
	assert_non_null(strstr(text, "unknown option '--atack'"));
	snprintf(args, sizeof args, "--model '%s' --preset loud '%s' '%s'", model, in_wav, out_wav);
	assert_int_equal(run(args), 2);
	snprintf(args, sizeof args, "--model '%s/none.safetensors' '%s' '%s'", dir, in_wav, out_wav);
	assert_int_equal(run(args), 1);
	err_text(text, sizeof text);
	assert_non_null(strstr(text, "none.safetensors"));
	snprintf(args, sizeof args, "--model '%s' '%s/none.wav' '%s'", model, dir, out_wav);
	assert_int_equal(run(args), 1);
	err_text(text, sizeof text);
	assert_non_null(strstr(text, "none.wav"));
	snprintf(args, sizeof args, "--model '%s' '%s'", model, in_wav);
	assert_int_equal(run(args), 2);
	snprintf(args, sizeof args, "--model '%s' --trace-frames 0 --trace '%s' '%s' '%s'", model,
	         trace_csv, in_wav, out_wav);
	assert_int_equal(run(args), 2);
	err_text(text, sizeof text);
	assert_non_null(strstr(text, "--trace-frames needs a whole number"));
	snprintf(args, sizeof args, "--model '%s' --trace '%s/no/such/dir.csv' '%s' '%s'", model, dir,
	         in_wav, out_wav);
	assert_int_equal(run(args), 1);
	err_text(text, sizeof text);
	assert_non_null(strstr(text, "no/such/dir.csv"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_the_dsp_object),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
