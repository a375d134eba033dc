/* The `stride` binary, run as a subprocess: dispatcher, `info`, `forward`.
 * Expected values come from the library called directly in this process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_file.h"
#include "aug_flags.h"
#include "stride.h"
#include "test_support.h"
#include "train_args.h"

#define PI 3.14159265358979323846
#define RATE 16000
#define WINDOW 400
#define HOP 160
#define GAIN 0.5f

static char stride_bin[TS_PATH_LEN];
static char model_path[TS_PATH_LEN];

/* Run the binary with args (NULL-terminated, without argv[0]). */
static TsRun run_stride(const char *const *args)
{
	char *argv[32];
	int n = 0;
	argv[n++] = stride_bin;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	TsRun r = ts_run(argv, 1);
	assert_non_null(r.out);
	assert_non_null(r.err);
	return r;
}

/* A small network with every geometry feature the CLI reports on: stride,
 * dilation, pooling, batchnorm with non-trivial running statistics. */
static StrideNet *make_net(void)
{
	StrideLayerSpec s[7];
	int n = 0;
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "conv1");
	s[n].in = 1;
	s[n].out = 4;
	s[n].kernel = 5;
	s[n].stride = 2;
	n++;
	s[n] = stride_layer_spec_defaults(STRIDE_BATCHNORM1D);
	snprintf(s[n].name, sizeof s[n].name, "bn1");
	s[n].channels = 4;
	n++;
	s[n++] = stride_layer_spec_defaults(STRIDE_RELU);
	s[n] = stride_layer_spec_defaults(STRIDE_MAXPOOL1D);
	s[n].kernel = 2;
	n++;
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "conv2");
	s[n].in = 4;
	s[n].out = 3;
	s[n].kernel = 3;
	s[n].dilation = 2;
	n++;
	s[n++] = stride_layer_spec_defaults(STRIDE_TANH);
	char err[STRIDE_ERR_LEN] = "";
	StrideNet *net = stride_net_new(s, n, err);
	if (!net)
		fail_msg("stride_net_new: %s", err);
	stride_net_init_params(net, 1234);
	/* Running statistics away from 0/1 so inference mode is visible; the negative
	 * means keep the ReLU open (small random convs could otherwise leave it shut
	 * and the whole output constant, which would hide a wrong input). */
	int im = stride_net_find_tensor(net, "bn1.running_mean");
	int iv = stride_net_find_tensor(net, "bn1.running_var");
	assert_true(im >= 0 && iv >= 0);
	StrideTensor m = stride_net_tensor(net, im), v = stride_net_tensor(net, iv);
	for (size_t i = 0; i < m.size; i++) {
		m.data[i] = 0.1f * (float)i - 0.6f;
		v.data[i] = 0.5f + 0.25f * (float)i;
	}
	return net;
}

/* The expected output, computed here: gain, then a plain inference forward. */
static float *direct_forward(StrideNet *net, const float *x, int t, int *c_out, int *t_out)
{
	float *xg = malloc((size_t)t * sizeof *xg);
	assert_non_null(xg);
	for (int i = 0; i < t; i++)
		xg[i] = x[i] * GAIN;
	const float *y = NULL;
	char err[STRIDE_ERR_LEN] = "";
	if (stride_net_forward(net, xg, 1, t, false, &y, c_out, t_out, err) != 0)
		fail_msg("stride_net_forward: %s", err);
	size_t n = (size_t)*c_out * (size_t)*t_out;
	float *copy = malloc(n * sizeof *copy);
	assert_non_null(copy);
	memcpy(copy, y, n * sizeof *copy);
	free(xg);
	return copy;
}

static void assert_npy_equals(const char *path, const float *want, int ndim, const int64_t *shape)
{
	float *got = NULL;
	int gnd = 0;
	int64_t gshape[8];
	char err[STRIDE_ERR_LEN] = "";
	if (stride_npy_read(path, &got, &gnd, gshape, err) != 0)
		fail_msg("reading the output: %s", err);
	assert_int_equal(gnd, ndim);
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		assert_int_equal(gshape[i], shape[i]);
		n *= (size_t)shape[i];
	}
	for (size_t i = 0; i < n; i++)
		if (fabsf(got[i] - want[i]) > 1e-6f * (1.0f + fabsf(want[i])))
			fail_msg("%s[%zu] = %.9g, expected %.9g", path, i, (double)got[i], (double)want[i]);
	free(got);
}

static float *test_signal(int t, double f)
{
	float *x = malloc((size_t)t * sizeof *x);
	assert_non_null(x);
	for (int i = 0; i < t; i++)
		x[i] = (float)(0.6 * sin(2.0 * PI * f * i / RATE) + 0.2 * sin(0.37 * i * i / RATE));
	return x;
}

static int setup(void **state)
{
	if (ts_tmpdir_setup(state) != 0)
		return -1;
	if (ts_stride_binary(stride_bin) != 0) {
		fprintf(stderr, "no stride binary at %s\n", stride_bin);
		return -1;
	}

	char err[STRIDE_ERR_LEN] = "";
	const char *labels[] = { "speech", "music", "noise" };
	StrideModel *model = stride_model_new(make_net(), STRIDE_TASK_CLASSIFY, RATE, labels, 3, err);
	if (!model) {
		fprintf(stderr, "stride_model_new: %s\n", err);
		return -1;
	}
	model->window = WINDOW;
	model->hop = HOP;
	model->input_gain = GAIN;
	ts_path(model_path, "%s", ts_tmp_path("model.safetensors"));
	int rc = stride_model_write(model, model_path, err);
	stride_model_free(model);
	if (rc != 0)
		fprintf(stderr, "stride_model_write: %s\n", err);
	return rc;
}

/* The model as the binary sees it: loaded back from the file. */
static StrideModel *load_model(void)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_read(model_path, err);
	if (!m)
		fail_msg("stride_model_read: %s", err);
	return m;
}

static void test_no_args_is_usage_error(void **state)
{
	(void)state;
	const char *args[] = { NULL };
	TsRun r = run_stride(args);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "usage: stride");
	assert_string_equal(r.out, "");
	ts_run_free(&r);
}

static void test_unknown_command_is_usage_error(void **state)
{
	(void)state;
	const char *args[] = { "frobnicate", "x", NULL };
	TsRun r = run_stride(args);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "frobnicate");
	ts_assert_contains(r.err, "usage: stride");
	ts_run_free(&r);
}

/* `stride help train` lists every option and every augmentation flag of the
 * tables the command line is parsed with. */
static void test_train_help_lists_every_flag(void **state)
{
	(void)state;
	const char *h[] = { "help", "train", NULL };
	TsRun r = run_stride(h);
	assert_int_equal(r.status, 0);
	assert_true(cli_train_option(0) != NULL);
	for (int i = 0; cli_train_option(i); i++)
		ts_assert_contains(r.out, cli_train_option(i));
	assert_true(cli_n_aug_flags >= 14);
	for (int i = 0; i < cli_n_aug_flags; i++) {
		char flag[64];
		snprintf(flag, sizeof flag, "--%s%s%s", cli_aug_flags[i].name, cli_aug_flags[i].arg ? " " : "",
		         cli_aug_flags[i].arg ? cli_aug_flags[i].arg : "");
		ts_assert_contains(r.out, flag);
	}
	ts_run_free(&r);
}

/* The augmentation table parses values as `stride train` does: ranges, one
 * number for A:A, "off", switches, and refuses values outside a flag's range
 * without touching the configuration. */
static void test_aug_flags_parse(void **state)
{
	(void)state;
	StrideAugConfig c = cli_aug_defaults(STRIDE_TASK_GATE), before;
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("level"), "-40:-6", &c), 0);
	assert_true(c.level_min_db == -40.0 && c.level_max_db == -6.0);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("snr"), "12", &c), 0);
	assert_true(c.snr_min_db == 12.0 && c.snr_max_db == 12.0);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("audible-snr"), "-10", &c), 0);
	assert_true(c.audible && c.audible_db == -10.0);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("audible-snr"), "off", &c), 0);
	assert_false(c.audible);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("splice"), "0.25", &c), 0);
	assert_true(c.splice_prob == 0.25);
	assert_true(c.polarity && c.enabled);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("no-polarity"), NULL, &c), 0);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("no-augment"), NULL, &c), 0);
	assert_false(c.polarity);
	assert_false(c.enabled);
	before = c;
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("level"), "5", &c), -1);   /* over 0 dBFS */
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("level"), "-6:-40", &c), -1);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("eq"), "41", &c), -1);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("reverb"), "x", &c), -1);
	assert_int_equal(cli_aug_flag_parse(cli_aug_flag_find("reverb"), NULL, &c), -1);
	/* field by field: the struct's padding is not compared */
	assert_true(c.level_min_db == before.level_min_db && c.level_max_db == before.level_max_db);
	assert_true(c.eq_db == before.eq_db && c.reverb_prob == before.reverb_prob);
	assert_null(cli_aug_flag_find("nosuch"));

	/* on the command line: a missing value is a usage error, not a crash */
	const char *m[] = { "train", "--arch", "gate-small", "--data", "x", "--out", "y.safetensors",
		            "--audible-snr", NULL };
	TsRun r = run_stride(m);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "--audible-snr needs a value");
	ts_run_free(&r);
	const char *b[] = { "train", "--arch", "gate-small", "--data", "x", "--out", "y.safetensors",
		            "--splice", "2", NULL };
	r = run_stride(b);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "bad value for --splice: '2'");
	ts_run_free(&r);
}

static void test_version_and_help(void **state)
{
	(void)state;
	const char *v[] = { "--version", NULL };
	TsRun r = run_stride(v);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "stride " STRIDE_VERSION "\n"); /* the wscript's VERSION */
	ts_run_free(&r);

	const char *h[] = { "--help", NULL };
	r = run_stride(h);
	assert_int_equal(r.status, 0);
	ts_assert_contains(r.out, "usage: stride");
	ts_assert_contains(r.out, "info");
	ts_assert_contains(r.out, "forward");
	ts_run_free(&r);

	const char *hi[] = { "help", "forward", NULL };
	r = run_stride(hi);
	assert_int_equal(r.status, 0);
	ts_assert_contains(r.out, "usage: stride forward");
	ts_assert_contains(r.out, "--windowed");
	ts_run_free(&r);

	const char *hc[] = { "info", "--help", NULL };
	r = run_stride(hc);
	assert_int_equal(r.status, 0);
	ts_assert_contains(r.out, "usage: stride info MODEL");
	ts_run_free(&r);

	const char *hx[] = { "help", "nosuch", NULL };
	r = run_stride(hx);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "nosuch");
	ts_run_free(&r);
}

static void test_usage_errors_of_commands(void **state)
{
	(void)state;
	const char *a[] = { "info", NULL };
	TsRun r = run_stride(a);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "usage: stride info");
	ts_run_free(&r);

	const char *b[] = { "forward", model_path, "x.npy", NULL };
	r = run_stride(b);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "usage: stride forward");
	ts_run_free(&r);

	const char *c[] = { "forward", "--bogus", model_path, "x.npy", "y.npy", NULL };
	r = run_stride(c);
	assert_int_equal(r.status, 2);
	ts_assert_contains(r.err, "--bogus");
	ts_run_free(&r);
}

static void test_info_missing_file(void **state)
{
	(void)state;
	const char *path = ts_tmp_path("no-such-model.safetensors");
	const char *args[] = { "info", path, NULL };
	TsRun r = run_stride(args);
	assert_int_equal(r.status, 1);
	ts_assert_contains(r.err, path);
	ts_run_free(&r);
}

/* The number printed after `label` (which must occur). */
static double number_after(const char *text, const char *label)
{
	const char *p = strstr(text, label);
	if (!p)
		fail_msg("no \"%s\" in:\n%s", label, text);
	double v = 0.0;
	if (sscanf(p + strlen(label), "%lf", &v) != 1)
		fail_msg("no number after \"%s\" in:\n%s", label, text);
	return v;
}

/* A human-readable quantity after `label`: "12.3 kFLOP" -> 12300. */
static double si_after(const char *text, const char *label)
{
	const char *p = strstr(text, label);
	if (!p)
		fail_msg("no \"%s\" in:\n%s", label, text);
	double v = 0.0;
	char unit[16] = "";
	if (sscanf(p + strlen(label), "%lf %15s", &v, unit) != 2)
		fail_msg("no quantity after \"%s\" in:\n%s", label, text);
	const char *prefixes = "kMGT";
	const char *at = strchr(prefixes, unit[0]);
	if (unit[0] && at)
		v *= pow(1000.0, (double)(at - prefixes + 1));
	return v;
}

static void assert_near_rel(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want)))
		fail_msg("%g, expected %g (+-%g%%)", got, want, rel * 100.0);
}

static void test_info_reports_the_model(void **state)
{
	(void)state;
	StrideModel *m = load_model();
	StrideNet *net = m->net;
	const char *args[] = { "info", model_path, NULL };
	TsRun r = run_stride(args);
	assert_int_equal(r.status, 0);
	ts_assert_contains(r.out, model_path);
	ts_assert_contains(r.out, "classify");
	ts_assert_contains(r.out, "speech, music, noise");
	assert_true(stride_net_n_params(net) > 0);
	assert_int_equal((size_t)number_after(r.out, "parameters:"), stride_net_n_params(net));
	assert_int_equal((int)number_after(r.out, "sample rate:"), RATE);
	assert_int_equal((int)number_after(r.out, "window:"), WINDOW);
	assert_int_equal((int)number_after(r.out, "hop:"), HOP);
	assert_float_equal(number_after(r.out, "input gain:"), GAIN, 1e-6);
	/* conv1 k5 s2, maxpool k2, conv2 k3 d2: rf = 5 + 2*(2-1) + 4*(5-1) = 23, stride 4. */
	assert_int_equal(stride_net_receptive_field(net), 23);
	assert_int_equal((int)number_after(r.out, "receptive field:"), 23);
	assert_int_equal((int)number_after(r.out, "total stride:"), 4);
	assert_int_equal((int)number_after(r.out, "latency:"), WINDOW);
	/* Per-layer rows: conv1 has 4*1*5 + 4 parameters and a 4 x 198 output. */
	ts_assert_contains(r.out, "conv1");
	ts_assert_contains(r.out, "4 x 198");
	ts_assert_contains(r.out, "k=5 s=2 d=1 p=0 g=1");
	/* Output for one window: conv1 198, pool 99, conv2 95. */
	ts_assert_contains(r.out, "3 x 95");
	/* Costs, to the 3 significant digits printed. */
	double fw = stride_net_flops(net, WINDOW);
	assert_true(fw > 0.0);
	assert_near_rel(si_after(r.out, "FLOPs per window:"), fw, 0.006);
	assert_near_rel(si_after(r.out, "windowed:"), fw * RATE / HOP, 0.006);
	/* Streamed: what one more output step (4 input samples) costs, per second. */
	double step = stride_net_flops(net, 4004) - stride_net_flops(net, 4000);
	assert_true(step > 0.0);
	assert_near_rel(si_after(r.out, "streamed:"), step * RATE / 4.0, 0.006);
	ts_run_free(&r);
	stride_model_free(m);
}

static void test_forward_npy_matches_library(void **state)
{
	(void)state;
	StrideModel *m = load_model();
	const int t = 1000;
	float *x = test_signal(t, 440.0);
	const char *in = ts_tmp_path("in.npy");
	const char *in1d = ts_tmp_path("in1d.npy");
	const char *out = ts_tmp_path("out.npy");
	char err[STRIDE_ERR_LEN] = "";
	int64_t shape2[2] = { 1, t }, shape1[1] = { t };
	assert_int_equal(stride_npy_write(in, x, 2, shape2, err), 0);
	assert_int_equal(stride_npy_write(in1d, x, 1, shape1, err), 0);

	int c_out = 0, t_out = 0;
	float *want = direct_forward(m->net, x, t, &c_out, &t_out);
	int64_t oshape[2] = { c_out, t_out };

	/* The check below can only see a forgotten gain if the output depends on the
	 * input's level: here the same forward without the gain must differ. */
	const float *y = NULL;
	int c2, t2;
	assert_int_equal(stride_net_forward(m->net, x, 1, t, false, &y, &c2, &t2, err), 0);
	double diff = 0.0;
	for (size_t i = 0; i < (size_t)c_out * (size_t)t_out; i++)
		diff = fmax(diff, fabs((double)y[i] - want[i]));
	assert_true(diff > 1e-3);

	const char *args[] = { "forward", model_path, in, out, NULL };
	TsRun r = run_stride(args);
	if (r.status != 0)
		fail_msg("forward failed: %s", r.err);
	ts_run_free(&r);
	assert_npy_equals(out, want, 2, oshape);

	unlink(out);
	const char *args1[] = { "forward", model_path, in1d, out, NULL };
	r = run_stride(args1);
	assert_int_equal(r.status, 0);
	ts_run_free(&r);
	assert_npy_equals(out, want, 2, oshape);

	free(want);
	free(x);
	stride_model_free(m);
}

static void test_forward_windowed(void **state)
{
	(void)state;
	StrideModel *m = load_model();
	const int t = 1234; /* (1234 - 400) / 160 + 1 = 6 windows, tail of 34 dropped */
	float *x = test_signal(t, 300.0);
	const char *in = ts_tmp_path("in.npy");
	const char *out = ts_tmp_path("win.npy");
	char err[STRIDE_ERR_LEN] = "";
	int64_t shape2[2] = { 1, t };
	assert_int_equal(stride_npy_write(in, x, 2, shape2, err), 0);

	int c_out = 0, t_out = 0;
	float *first = direct_forward(m->net, x, WINDOW, &c_out, &t_out);
	size_t per = (size_t)c_out * (size_t)t_out;
	float *want = malloc(6 * per * sizeof *want);
	assert_non_null(want);
	for (int w = 0; w < 6; w++) {
		float *y = direct_forward(m->net, x + w * HOP, WINDOW, &c_out, &t_out);
		memcpy(want + (size_t)w * per, y, per * sizeof *y);
		free(y);
	}
	const char *args[] = { "forward", "--windowed", model_path, in, out, NULL };
	TsRun r = run_stride(args);
	if (r.status != 0)
		fail_msg("forward --windowed failed: %s", r.err);
	ts_run_free(&r);
	int64_t oshape[3] = { 6, c_out, t_out };
	assert_npy_equals(out, want, 3, oshape);
	free(first);
	free(want);
	free(x);
	stride_model_free(m);
}

static void test_forward_too_short(void **state)
{
	(void)state;
	const char *in = ts_tmp_path("short.npy");
	const char *out = ts_tmp_path("never.npy");
	float x[22] = { 0 };
	int64_t shape[1] = { 22 }; /* one short of the receptive field, 23 */
	char err[STRIDE_ERR_LEN] = "";
	assert_int_equal(stride_npy_write(in, x, 1, shape, err), 0);
	const char *args[] = { "forward", model_path, in, out, NULL };
	TsRun r = run_stride(args);
	assert_int_equal(r.status, 1);
	ts_assert_contains(r.err, in);
	ts_assert_contains(r.err, "too short");
	ts_assert_contains(r.err, "at least 23 samples");
	ts_run_free(&r);
	assert_int_equal(access(out, F_OK), -1);

	/* Windowed: long enough for the network but shorter than one window. */
	float y[300] = { 0 };
	shape[0] = 300;
	assert_int_equal(stride_npy_write(in, y, 1, shape, err), 0);
	const char *wargs[] = { "forward", "--windowed", model_path, in, out, NULL };
	r = run_stride(wargs);
	assert_int_equal(r.status, 1);
	ts_assert_contains(r.err, in);
	ts_assert_contains(r.err, "window");
	ts_run_free(&r);
}

static void test_forward_wrong_channels_and_missing_input(void **state)
{
	(void)state;
	const char *in = ts_tmp_path("two.npy");
	const char *out = ts_tmp_path("never.npy");
	const char *missing = ts_tmp_path("no-such-input.wav");
	float x[200] = { 0 };
	int64_t shape[2] = { 2, 100 };
	char err[STRIDE_ERR_LEN] = "";
	assert_int_equal(stride_npy_write(in, x, 2, shape, err), 0);
	const char *args[] = { "forward", model_path, in, out, NULL };
	TsRun r = run_stride(args);
	assert_int_equal(r.status, 1);
	ts_assert_contains(r.err, in);
	ts_assert_contains(r.err, "2 channels");
	ts_run_free(&r);

	const char *margs[] = { "forward", model_path, missing, out, NULL };
	r = run_stride(margs);
	assert_int_equal(r.status, 1);
	ts_assert_contains(r.err, missing);
	ts_run_free(&r);
}

static void write_wav(const char *path, int rate, int channels, int frames)
{
	SF_INFO info;
	memset(&info, 0, sizeof info);
	info.samplerate = rate;
	info.channels = channels;
	info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	float *buf = malloc((size_t)frames * (size_t)channels * sizeof *buf);
	assert_non_null(buf);
	for (int i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			buf[i * channels + c] = (float)(0.5 * sin(2.0 * PI * (220.0 * (c + 1)) * i / rate));
	assert_int_equal(sf_writef_float(sf, buf, frames), frames);
	free(buf);
	assert_int_equal(sf_close(sf), 0);
}

/* An audio file at another rate (and with more channels than the model takes)
 * is resampled and mixed down: compared with doing the same here. */
static void test_forward_wav_at_other_rate(void **state)
{
	(void)state;
	StrideModel *m = load_model();
	const char *names[2] = { "in44.wav", "stereo.wav" };
	for (int k = 0; k < 2; k++) {
		char err[STRIDE_ERR_LEN] = "";
		const char *in = ts_tmp_path(names[k]);
		const char *out = ts_tmp_path("out.npy");
		write_wav(in, k == 0 ? 44100 : 48000, k + 1, k == 0 ? 4410 : 4800);

		StrideAudio au;
		assert_int_equal(cli_audio_read_mono(in, RATE, &au, err), 0);
		assert_true(au.frames >= 1598 && au.frames <= 1602);
		int c_out = 0, t_out = 0;
		float *want = direct_forward(m->net, au.data, (int)au.frames, &c_out, &t_out);
		int64_t oshape[2] = { c_out, t_out };

		const char *args[] = { "forward", model_path, in, out, NULL };
		TsRun r = run_stride(args);
		if (r.status != 0)
			fail_msg("forward on %s failed: %s", in, r.err);
		ts_run_free(&r);
		assert_npy_equals(out, want, 2, oshape);
		free(want);
		cli_audio_free(&au);
		unlink(out);
	}
	stride_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_args_is_usage_error),
		cmocka_unit_test(test_unknown_command_is_usage_error),
		cmocka_unit_test(test_version_and_help),
		cmocka_unit_test(test_train_help_lists_every_flag),
		cmocka_unit_test(test_aug_flags_parse),
		cmocka_unit_test(test_usage_errors_of_commands),
		cmocka_unit_test(test_info_missing_file),
		cmocka_unit_test(test_info_reports_the_model),
		cmocka_unit_test(test_forward_npy_matches_library),
		cmocka_unit_test(test_forward_windowed),
		cmocka_unit_test(test_forward_too_short),
		cmocka_unit_test(test_forward_wrong_channels_and_missing_input),
		cmocka_unit_test(test_forward_wav_at_other_rate),
	};
	return cmocka_run_group_tests(tests, setup, ts_tmpdir_teardown);
}
