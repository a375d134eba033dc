/* The lecture's worked examples, by hand: the silence-detecting filter over a
 * two-channel signal, padding that keeps the length, stride and pooling that
 * shrink it, translation equivariance, and the kernel gradient as the sum over
 * every position of input times output gradient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "layers.h"
#include "stride.h"

/* (time, channel) rows of the lecture's input */
static const float course_x[8][2] = { { 1.2f, 0.1f },  { 1.6f, -0.6f }, { 2.3f, -0.6f },
	                              { 2.9f, -0.1f }, { 2.4f, 0.6f },  { 1.5f, 0.9f },
	                              { 0.2f, 0.7f },  { -0.6f, 0.5f } };
/* (tap, channel) rows of the lecture's 4x2 kernel */
static const float course_k[4][2] = { { 1, -1 }, { -1, -1 }, { -1, -1 }, { 1, 1 } };

/* A one-filter conv1d net over the course input, laid out as (1, 2, 8). */
static StrideNet *course_net(int stride, int padding, bool bias)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
	strcpy(s.name, "conv");
	s.in = 2;
	s.out = 1;
	s.kernel = 4;
	s.stride = stride;
	s.padding = padding;
	s.bias = bias;
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(&s, 1, err);
	assert_non_null(net);
	StrideTensor w = stride_net_tensor(net, stride_net_find_tensor(net, "conv.weight"));
	assert_int_equal(w.shape[0], 1);
	assert_int_equal(w.shape[1], 2);
	assert_int_equal(w.shape[2], 4);
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < 4; i++)
			w.data[c * 4 + i] = course_k[i][c];
	return net;
}

static void course_input(float *x)
{
	for (int c = 0; c < 2; c++)
		for (int t = 0; t < 8; t++)
			x[c * 8 + t] = course_x[t][c];
}

static void check_course_output(StrideConvPath path)
{
	stride_conv_path_override = path;
	StrideNet *net = course_net(1, 0, false);
	float x[16];
	course_input(x);
	const float *y;
	int c, t;
	char err[STRIDE_ERR_LEN];
	assert_int_equal(stride_net_forward(net, x, 1, 8, false, &y, &c, &t, err), 0);
	assert_int_equal(c, 1);
	assert_int_equal(t, 5);
	const float expect[5] = { 1.2f, 0.7f, -0.5f, -1.5f, -1.6f };
	for (int i = 0; i < 5; i++)
		assert_float_equal(y[i], expect[i], 1e-5);
	stride_net_free(net);
	stride_conv_path_override = STRIDE_CONV_AUTO;
}

static void test_course_filter_gemm(void **state)
{
	(void)state;
	check_course_output(STRIDE_CONV_GEMM);
}

static void test_course_filter_direct(void **state)
{
	(void)state;
	check_course_output(STRIDE_CONV_DIRECT);
}

/* Zero padding: edge outputs see zeros outside the signal. With padding 2 the
 * output has 8 + 4 - 3 = 9 steps; the middle five are the unpadded ones. */
static void test_course_padding(void **state)
{
	(void)state;
	StrideNet *net = course_net(1, 2, false);
	float x[16];
	course_input(x);
	const float *y;
	int c, t;
	assert_int_equal(stride_net_forward(net, x, 1, 8, false, &y, &c, &t, NULL), 0);
	assert_int_equal(t, 9);
	/* first output: taps 2 and 3 over samples 0 and 1 */
	const float first = -1.2f - 0.1f + 1.6f - 0.6f;
	assert_float_equal(y[0], first, 1e-5);
	const float middle[5] = { 1.2f, 0.7f, -0.5f, -1.5f, -1.6f };
	for (int i = 0; i < 5; i++)
		assert_float_equal(y[2 + i], middle[i], 1e-5);
	/* last output: taps 0 and 1 over samples 6 and 7 */
	const float last = (0.2f - 0.7f) + (-(-0.6f) - 0.5f);
	assert_float_equal(y[8], last, 1e-5);
	stride_net_free(net);
}

/* Stride 2 keeps every other output of stride 1. */
static void test_course_stride(void **state)
{
	(void)state;
	StrideNet *net = course_net(2, 0, false);
	float x[16];
	course_input(x);
	const float *y;
	int c, t;
	assert_int_equal(stride_net_forward(net, x, 1, 8, false, &y, &c, &t, NULL), 0);
	assert_int_equal(t, 3);
	assert_float_equal(y[0], 1.2f, 1e-5);
	assert_float_equal(y[1], -0.5f, 1e-5);
	assert_float_equal(y[2], -1.6f, 1e-5);
	stride_net_free(net);
}

/* Pooling the filter's response: max and average over windows of 2. */
static void test_course_pooling(void **state)
{
	(void)state;
	StrideLayerSpec s[2];
	char err[STRIDE_ERR_LEN];
	for (int kind = 0; kind < 2; kind++) {
		StrideNet *conv = course_net(1, 0, false);
		s[0] = *stride_net_layer(conv, 0);
		s[1] = stride_layer_spec_defaults(kind ? STRIDE_AVGPOOL1D : STRIDE_MAXPOOL1D);
		s[1].kernel = 2;
		StrideNet *net = stride_net_new(s, 2, err);
		assert_non_null(net);
		memcpy(stride_net_params(net), stride_net_params(conv), 8 * sizeof(float));
		float x[16];
		course_input(x);
		const float *y;
		int c, t;
		assert_int_equal(stride_net_forward(net, x, 1, 8, false, &y, &c, &t, err), 0);
		assert_int_equal(t, 2); /* floor(5 / 2): the odd last step is dropped */
		if (kind == 0) {
			assert_float_equal(y[0], 1.2f, 1e-5);
			assert_float_equal(y[1], -0.5f, 1e-5);
		} else {
			assert_float_equal(y[0], 0.95f, 1e-5);
			assert_float_equal(y[1], -1.0f, 1e-5);
		}
		stride_net_free(net);
		stride_net_free(conv);
	}
}

/* Shifting the input by one step shifts the output by one step. */
static void test_course_translation_equivariance(void **state)
{
	(void)state;
	StrideNet *net = course_net(1, 0, false);
	float x[2 * 9] = { 0 };
	for (int c = 0; c < 2; c++)
		for (int t = 0; t < 8; t++)
			x[c * 9 + t + 1] = course_x[t][c];
	x[0] = 0.3f;
	x[9] = -0.4f;
	const float *y;
	int c, t;
	assert_int_equal(stride_net_forward(net, x, 1, 9, false, &y, &c, &t, NULL), 0);
	assert_int_equal(t, 6);
	const float expect[5] = { 1.2f, 0.7f, -0.5f, -1.5f, -1.6f };
	for (int i = 0; i < 5; i++)
		assert_float_equal(y[1 + i], expect[i], 1e-5);
	stride_net_free(net);
}

/* dL/dk(c, i) = sum_t dL/dh(t) * x(c, t + i): every position contributes. */
static void test_course_kernel_gradient(void **state)
{
	(void)state;
	for (int path = STRIDE_CONV_GEMM; path <= STRIDE_CONV_DIRECT; path++) {
		stride_conv_path_override = (StrideConvPath)path;
		StrideNet *net = course_net(1, 0, true);
		float x[16];
		course_input(x);
		const float *y;
		int c, t;
		assert_int_equal(stride_net_forward(net, x, 1, 8, true, &y, &c, &t, NULL), 0);
		const float dh[5] = { 0.5f, -1.0f, 2.0f, 0.25f, -0.75f };
		float dx[16];
		assert_int_equal(stride_net_backward(net, dh, dx, NULL), 0);
		StrideTensor w = stride_net_tensor(net, stride_net_find_tensor(net, "conv.weight"));
		StrideTensor b = stride_net_tensor(net, stride_net_find_tensor(net, "conv.bias"));
		for (int ch = 0; ch < 2; ch++) {
			for (int i = 0; i < 4; i++) {
				double g = 0.0;
				for (int tt = 0; tt < 5; tt++)
					g += dh[tt] * course_x[tt + i][ch];
				assert_float_equal(w.grad[ch * 4 + i], g, 1e-5);
			}
		}
		assert_float_equal(b.grad[0], 0.5 - 1.0 + 2.0 + 0.25 - 0.75, 1e-6);
		/* dL/dx(c, s) = sum over outputs t that saw s of dh(t) * k(c, s - t) */
		for (int ch = 0; ch < 2; ch++) {
			for (int s = 0; s < 8; s++) {
				double g = 0.0;
				for (int tt = 0; tt < 5; tt++)
					if (s - tt >= 0 && s - tt < 4)
						g += dh[tt] * course_k[s - tt][ch];
				assert_float_equal(dx[ch * 8 + s], g, 1e-5);
			}
		}
		stride_net_free(net);
	}
	stride_conv_path_override = STRIDE_CONV_AUTO;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_course_filter_gemm),
		cmocka_unit_test(test_course_filter_direct),
		cmocka_unit_test(test_course_padding),
		cmocka_unit_test(test_course_stride),
		cmocka_unit_test(test_course_pooling),
		cmocka_unit_test(test_course_translation_equivariance),
		cmocka_unit_test(test_course_kernel_gradient),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
