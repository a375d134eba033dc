/* conv1d "dc_zeros": kernels held orthogonal to the tap polynomials 1 and i,
 * so that a constant (and, with two zeros, a ramp) gives no output. Checked
 * against hand-worked projections, against the algebra of an orthogonal
 * projection (idempotent, the removed part is a polynomial, the kept part is
 * orthogonal to it), by the filter's response to DC, ramps and sub-audio and
 * audio sines, and through the architecture JSON and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stride.h"

#define PI 3.14159265358979323846

static StrideNet *one_conv(int in, int out, int kernel, int dc_zeros, int dilation)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
	strcpy(s.name, "conv1");
	s.in = in;
	s.out = out;
	s.kernel = kernel;
	s.dilation = dilation;
	s.bias = false;
	s.dc_zeros = dc_zeros;
	char err[STRIDE_ERR_LEN] = "";
	StrideNet *net = stride_net_new(&s, 1, err);
	if (!net)
		fail_msg("stride_net_new: %s", err);
	return net;
}

static float *weights(StrideNet *net)
{
	int i = stride_net_find_tensor(net, "conv1.weight");
	assert_true(i >= 0);
	return stride_net_tensor(net, i).data;
}

/* Hand-worked: w = (1, 2, 6). One zero removes the mean 3: (-2, -1, 3).
 * Two zeros leave only the component along (1, -2, 1), the one direction of
 * R^3 orthogonal to (1, 1, 1) and (0, 1, 2): (1 - 4 + 6) / 6 = 0.5 of it. */
static void test_hand_worked(void **state)
{
	(void)state;
	const float w0[3] = { 1, 2, 6 };
	const float one[3] = { -2, -1, 3 };
	const float two[3] = { 0.5f, -1.0f, 0.5f };
	for (int k = 1; k <= 2; k++) {
		StrideNet *net = one_conv(1, 1, 3, k, 1);
		memcpy(weights(net), w0, sizeof w0);
		stride_net_constrain(net, stride_net_params(net));
		const float *want = k == 1 ? one : two;
		for (int i = 0; i < 3; i++)
			assert_true(fabsf(weights(net)[i] - want[i]) < 1e-6f);
		stride_net_free(net);
	}
	/* dc_zeros 0 leaves the weights alone */
	StrideNet *net = one_conv(1, 1, 3, 0, 1);
	memcpy(weights(net), w0, sizeof w0);
	stride_net_constrain(net, stride_net_params(net));
	assert_memory_equal(weights(net), w0, sizeof w0);
	stride_net_free(net);
}

/* Random kernels of a 3 -> 4 conv, k = 64: the moments vanish, a second
 * projection changes nothing, the removed part is a + b i exactly, and what is
 * kept is orthogonal to what was removed. */
static void test_projection_algebra(void **state)
{
	(void)state;
	enum { IN = 3, OUT = 4, K = 64 };
	for (int dz = 1; dz <= 2; dz++) {
		StrideNet *net = one_conv(IN, OUT, K, 0, 1);
		stride_net_init_params(net, 42);
		float before[IN * OUT * K];
		memcpy(before, weights(net), sizeof before);
		StrideNet *cnet = one_conv(IN, OUT, K, dz, 1);
		memcpy(weights(cnet), before, sizeof before);
		stride_net_constrain(cnet, stride_net_params(cnet));
		const float *w = weights(cnet);
		for (int j = 0; j < IN * OUT; j++) {
			const float *a = before + j * K, *p = w + j * K;
			double m0 = 0, m1 = 0, norm = 0, dot = 0;
			for (int i = 0; i < K; i++) {
				m0 += p[i];
				m1 += (double)i * p[i];
				norm += (double)a[i] * a[i];
				dot += (double)p[i] * (a[i] - p[i]);
			}
			const double scale = sqrt(norm);
			assert_true(fabs(m0) < 1e-5 * scale);
			if (dz == 2)
				assert_true(fabs(m1) < 1e-4 * scale);
			else
				assert_true(fabs(m1) > 1e-3 * scale); /* one zero only: the ramp stays */
			assert_true(fabs(dot) < 1e-5 * norm);
			/* removed part r = a - p: constant (dz 1) or a line (dz 2) */
			const double r0 = a[0] - p[0], slope = dz == 2 ? (a[1] - p[1]) - r0 : 0.0;
			for (int i = 0; i < K; i++)
				assert_true(fabs((a[i] - p[i]) - (r0 + slope * i)) < 1e-5 * scale);
		}
		float once[IN * OUT * K];
		memcpy(once, w, sizeof once);
		stride_net_constrain(cnet, stride_net_params(cnet));
		for (int j = 0; j < IN * OUT * K; j++)
			assert_true(fabsf(w[j] - once[j]) < 1e-6f);
		stride_net_free(net);
		stride_net_free(cnet);
	}
}

/* RMS of the conv's output over a signal, and of the signal. */
static double response(StrideNet *net, const float *x, int t)
{
	const float *y;
	int c, ty;
	char err[STRIDE_ERR_LEN] = "";
	if (stride_net_forward(net, x, 1, t, false, &y, &c, &ty, err) != 0)
		fail_msg("forward: %s", err);
	double s = 0.0;
	for (int i = 0; i < c * ty; i++)
		s += (double)y[i] * y[i];
	return sqrt(s / (c * ty));
}

/* What it is for: the filterbank of the gate. Initialised (init_params holds
 * the constraint too) with two zeros at 0 Hz, a k = 64 filter at 16 kHz
 * passes a 1 kHz tone as an unconstrained one does, but gives nothing for a
 * DC offset, a ramp, and next to nothing for 3 Hz rumble; with dilation the
 * zeros stay at 0 Hz. */
static void test_filter_response(void **state)
{
	(void)state;
	enum { T = 4096, K = 64 };
	static float dc[T], ramp[T], rumble[T], tone[T];
	for (int i = 0; i < T; i++) {
		dc[i] = 0.5f;
		ramp[i] = -0.5f + (float)i / T;
		rumble[i] = 0.5f * sinf(2.0f * (float)PI * 3.0f * i / 16000.0f);
		tone[i] = 0.5f * sinf(2.0f * (float)PI * 1000.0f * i / 16000.0f);
	}
	for (int dil = 1; dil <= 3; dil += 2) {
		StrideNet *free_net = one_conv(1, 16, K, 0, dil);
		StrideNet *dc2 = one_conv(1, 16, K, 2, dil);
		stride_net_init_params(free_net, 7);
		stride_net_init_params(dc2, 7);
		const double tone_free = response(free_net, tone, T), tone_dc2 = response(dc2, tone, T);
		assert_true(tone_dc2 > 0.5 * tone_free); /* still a filterbank */
		assert_true(response(free_net, dc, T) > 0.02);
		assert_true(response(dc2, dc, T) < 1e-6 * tone_dc2 + 1e-7);
		assert_true(response(dc2, ramp, T) < 1e-5 * tone_dc2 + 1e-7);
		/* 3 Hz: second order, (2 pi 3 / 16000 * k d)^2 ~ 1e-3 or less of the tone */
		assert_true(response(dc2, rumble, T) < 3e-3 * tone_dc2);
		assert_true(response(free_net, rumble, T) > 0.1 * tone_free);
		stride_net_free(free_net);
		stride_net_free(dc2);
	}
}

static void test_json(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	int n = 0;
	StrideLayerSpec *s = stride_arch_parse(
		"{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c\", \"in\": 1, \"out\": 2, "
		"\"kernel\": 8, \"dc_zeros\": 2}]}", &n, err);
	assert_non_null(s);
	assert_int_equal(s[0].dc_zeros, 2);
	char *json = stride_arch_to_json(s, n);
	assert_non_null(strstr(json, "\"dc_zeros\":2"));
	free(json);
	s[0].dc_zeros = 0; /* unset: not written, so older files read and write as before */
	json = stride_arch_to_json(s, n);
	assert_null(strstr(json, "dc_zeros"));
	free(json);
	free(s);

	s = stride_arch_parse("{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c\", \"in\": 1, "
	                      "\"out\": 2, \"kernel\": 8, \"dc_zeros\": 3}]}", &n, err);
	assert_null(s);
	assert_non_null(strstr(err, "dc_zeros"));
	s = stride_arch_parse("{\"layers\": [{\"type\": \"dense\", \"name\": \"d\", \"in\": 1, "
	                      "\"out\": 2, \"dc_zeros\": 1}]}", &n, err);
	assert_null(s);
	assert_non_null(strstr(err, "dc_zeros"));

	/* two zeros need three taps */
	StrideLayerSpec c = stride_layer_spec_defaults(STRIDE_CONV1D);
	strcpy(c.name, "c");
	c.in = 1;
	c.out = 1;
	c.kernel = 2;
	c.dc_zeros = 2;
	err[0] = '\0';
	assert_null(stride_net_new(&c, 1, err));
	assert_non_null(strstr(err, "dc_zeros 2"));
	c.kernel = 3;
	StrideNet *net = stride_net_new(&c, 1, err);
	assert_non_null(net);
	stride_net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_worked),
		cmocka_unit_test(test_projection_algebra),
		cmocka_unit_test(test_filter_response),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
