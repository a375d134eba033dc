/* Shapes: the output-length formula, odd lengths, strides larger than the kernel,
 * lengths that do not divide, and every way a network can be refused. Outputs
 * are checked against a naive reference convolution written from the definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "stride.h"
#include "util.h"

static StrideLayerSpec conv(int in, int out, int kernel, int stride, int dilation, int padding,
                            int groups)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
	strcpy(s.name, "c");
	s.in = in;
	s.out = out;
	s.kernel = kernel;
	s.stride = stride;
	s.dilation = dilation;
	s.padding = padding;
	s.groups = groups;
	return s;
}

static void test_out_len_formula(void **state)
{
	(void)state;
	/* floor((T + 2p - d(k-1) - 1) / s) + 1, by hand */
	assert_int_equal(stride_conv_out_len(8, 4, 1, 1, 0), 5);
	assert_int_equal(stride_conv_out_len(16000, 64, 16, 1, 0), 997);
	assert_int_equal(stride_conv_out_len(7, 3, 2, 1, 0), 3);
	assert_int_equal(stride_conv_out_len(7, 3, 2, 1, 1), 4);
	assert_int_equal(stride_conv_out_len(10, 3, 1, 4, 0), 2);
	assert_int_equal(stride_conv_out_len(10, 2, 5, 1, 0), 2); /* stride > kernel */
	assert_int_equal(stride_conv_out_len(11, 2, 5, 1, 0), 2);
	assert_int_equal(stride_conv_out_len(12, 2, 5, 1, 0), 3);
	assert_int_equal(stride_conv_out_len(1, 1, 1, 1, 0), 1);
	/* windows that do not fit */
	assert_int_equal(stride_conv_out_len(3, 4, 1, 1, 0), -1);
	assert_int_equal(stride_conv_out_len(5, 3, 1, 3, 0), -1);
	assert_int_equal(stride_conv_out_len(0, 1, 1, 1, 0), -1);
	assert_int_equal(stride_conv_out_len(5, 3, 0, 1, 0), -1);
	/* large values do not overflow */
	assert_int_equal(stride_conv_out_len(0x7fffffff, 65536, 1, 65536, 0), -1);
	assert_int_equal(stride_conv_out_len(0x7fffffff, 3, 1, 1, 65535), -1); /* beyond int */
	assert_int_equal(stride_conv_out_len(0x7fff0000, 3, 1, 1, 1), 0x7fff0000);
}

/* y[n,o,t] = b[o] + sum over the group's channels and taps, from the definition. */
static void naive_conv(const StrideLayerSpec *s, const float *w, const float *b, const float *x,
                       int n, int t_in, int t_out, float *y)
{
	const int cg = s->in / s->groups, og = s->out / s->groups;
	for (int i = 0; i < n; i++)
		for (int o = 0; o < s->out; o++)
			for (int t = 0; t < t_out; t++) {
				double acc = b ? b[o] : 0.0;
				for (int c = 0; c < cg; c++)
					for (int k = 0; k < s->kernel; k++) {
						const int at = t * s->stride + k * s->dilation - s->padding;
						if (at < 0 || at >= t_in)
							continue;
						const int ch = (o / og) * cg + c;
						acc += (double)w[((size_t)o * cg + c) * s->kernel + k] *
						       x[((size_t)i * s->in + ch) * t_in + at];
					}
				y[((size_t)i * s->out + o) * t_out + t] = (float)acc;
			}
}

static void test_conv_matches_definition(void **state)
{
	(void)state;
	const StrideLayerSpec cases[] = {
		conv(1, 3, 4, 1, 1, 0, 1),  conv(2, 4, 3, 2, 1, 0, 1), conv(3, 3, 2, 5, 1, 0, 1),
		conv(2, 2, 3, 3, 2, 2, 1),  conv(4, 8, 5, 2, 1, 4, 4), conv(6, 4, 1, 1, 1, 0, 2),
		conv(1, 16, 64, 16, 1, 0, 1), conv(8, 8, 3, 1, 7, 3, 1),
	};
	const int lengths[] = { 1, 2, 7, 13, 64, 101, 257 };
	StrideRng rng;
	stride_rng_seed(&rng, 42);
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		char err[STRIDE_ERR_LEN];
		StrideNet *net = stride_net_new(&cases[ci], 1, err);
		assert_non_null(net);
		stride_net_init_params(net, ci);
		StrideTensor w = stride_net_tensor(net, stride_net_find_tensor(net, "c.weight"));
		StrideTensor b = stride_net_tensor(net, stride_net_find_tensor(net, "c.bias"));
		for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
			const int t = lengths[li], n = 2;
			const StrideLayerSpec *s = &cases[ci];
			const int expect = stride_conv_out_len(t, s->kernel, s->stride, s->dilation, s->padding);
			int c_out, t_out;
			const int rc = stride_net_output_shape(net, t, &c_out, &t_out, err);
			if (expect < 1) {
				/* refused with a reason, never computed */
				assert_int_equal(rc, -1);
				assert_non_null(strstr(err, "shorter than"));
				const float *y;
				float x[8] = { 0 };
				assert_int_equal(stride_net_forward(net, x, 1, t, false, &y, NULL, NULL, err), -1);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(t_out, expect);
			assert_int_equal(c_out, s->out);
			const size_t nx = (size_t)n * s->in * t, ny = (size_t)n * s->out * t_out;
			float *x = malloc(nx * sizeof(float)), *want = malloc(ny * sizeof(float));
			for (size_t i = 0; i < nx; i++)
				x[i] = (float)stride_rng_normal(&rng);
			naive_conv(s, w.data, b.data, x, n, t, t_out, want);
			for (int path = STRIDE_CONV_GEMM; path <= STRIDE_CONV_DIRECT; path++) {
				stride_conv_path_override = (StrideConvPath)path;
				const float *y;
				assert_int_equal(stride_net_forward(net, x, n, t, false, &y, NULL, NULL, err), 0);
				for (size_t i = 0; i < ny; i++)
					assert_float_equal(y[i], want[i], 1e-4);
			}
			stride_conv_path_override = STRIDE_CONV_AUTO;
			free(x);
			free(want);
		}
		stride_net_free(net);
	}
}

/* Pools on lengths that do not divide: the incomplete tail is dropped (floor). */
static void test_pool_lengths(void **state)
{
	(void)state;
	StrideLayerSpec s[2] = { conv(1, 1, 1, 1, 1, 0, 1),
		                 stride_layer_spec_defaults(STRIDE_MAXPOOL1D) };
	s[1].kernel = 3; /* stride 0 means stride = kernel */
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 2, err);
	assert_non_null(net);
	assert_int_equal(stride_net_layer(net, 1)->stride, 3);
	stride_net_params(net)[0] = 1.0f; /* identity conv */
	const float x[11] = { 1, 5, 2, -1, -3, -2, 7, 0, 0, 9, 9 };
	const float *y;
	int c, t;
	assert_int_equal(stride_net_forward(net, x, 1, 11, false, &y, &c, &t, err), 0);
	assert_int_equal(t, 3);
	assert_float_equal(y[0], 5, 0);
	assert_float_equal(y[1], -1, 0);
	assert_float_equal(y[2], 7, 0);
	stride_net_free(net);
}

static void expect_refused(const StrideLayerSpec *specs, int n, const char *fragment)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideNet *net = stride_net_new(specs, n, err);
	if (net) {
		stride_net_free(net);
		fail_msg("accepted a network that should be refused (%s)", fragment);
	}
	if (!strstr(err, fragment))
		fail_msg("error '%s' does not mention '%s'", err, fragment);
}

static void test_refused_networks(void **state)
{
	(void)state;
	StrideLayerSpec s[3];
	s[0] = conv(0, 4, 3, 1, 1, 0, 1);
	expect_refused(s, 1, "channels");
	s[0] = conv(1, 5000, 3, 1, 1, 0, 1);
	expect_refused(s, 1, "channels");
	s[0] = conv(2, 4, 0, 1, 1, 0, 1);
	expect_refused(s, 1, "kernel");
	s[0] = conv(2, 4, 3, -1, 1, 0, 1);
	expect_refused(s, 1, "stride");
	s[0] = conv(3, 4, 3, 1, 1, 0, 2);
	expect_refused(s, 1, "groups");
	s[0] = conv(2, 4, 3, 1, 1, 0, 1);
	s[0].name[0] = '\0';
	expect_refused(s, 1, "name");
	s[0] = conv(2, 4, 3, 1, 1, 0, 1);
	s[1] = conv(3, 4, 3, 1, 1, 0, 1);
	strcpy(s[1].name, "d");
	expect_refused(s, 2, "input channels");
	s[1] = conv(4, 4, 3, 1, 1, 0, 1); /* same name "c" */
	expect_refused(s, 2, "named");
	s[1] = stride_layer_spec_defaults(STRIDE_MAXPOOL1D);
	s[1].kernel = 2;
	s[1].padding = 2;
	expect_refused(s, 2, "padding");
	s[1] = stride_layer_spec_defaults(STRIDE_BATCHNORM1D);
	strcpy(s[1].name, "bn");
	s[1].channels = 3;
	expect_refused(s, 2, "channels");
	s[0] = stride_layer_spec_defaults(STRIDE_RELU);
	expect_refused(s, 1, "input channels");
	s[0].type = (StrideLayerType)99;
	expect_refused(s, 1, "unknown");
	expect_refused(s, 0, "layers");
	expect_refused(s, 1000, "layers");
	/* dense that does not match the flattened volume is refused at shape time */
	s[0] = conv(1, 4, 3, 1, 1, 0, 1);
	s[1] = stride_layer_spec_defaults(STRIDE_DENSE);
	strcpy(s[1].name, "fc");
	s[1].in = 4 * 5;
	s[1].out = 2;
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 2, err);
	assert_non_null(net);
	int c, t;
	assert_int_equal(stride_net_output_shape(net, 7, &c, &t, err), 0);
	assert_int_equal(c, 2);
	assert_int_equal(stride_net_output_shape(net, 8, &c, &t, err), -1);
	assert_non_null(strstr(err, "expects 20 inputs"));
	stride_net_free(net);
}

/* Receptive field and total stride of a typical front end, by hand. */
static void test_geometry(void **state)
{
	(void)state;
	StrideLayerSpec s[5];
	s[0] = conv(1, 8, 64, 16, 1, 0, 1);
	s[1] = stride_layer_spec_defaults(STRIDE_MAXPOOL1D);
	s[1].kernel = 4;
	s[2] = conv(8, 8, 3, 1, 2, 0, 1);
	strcpy(s[2].name, "c2");
	s[3] = stride_layer_spec_defaults(STRIDE_GLOBAL_AVGPOOL);
	s[4] = stride_layer_spec_defaults(STRIDE_DENSE);
	strcpy(s[4].name, "fc");
	s[4].in = 8;
	s[4].out = 2;
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 5, err);
	assert_non_null(net);
	/* rf = 64 + (4-1)*16 + 2*(3-1)*64 = 368; stride 16*4 = 64 */
	assert_int_equal(stride_net_receptive_field(net), 368);
	assert_int_equal(stride_net_total_stride(net), 64);
	/* FLOPs for T = 16000: conv1 997 steps, pool 249, conv2 245 */
	const double want = 2.0 * 997 * 8 * 64 + 997 * 8 + 249 * 8 * 4 + 2.0 * 245 * 8 * 8 * 3 +
	                    245 * 8 + 245 * 8 + 2.0 * 8 * 2 + 2;
	assert_float_equal(stride_net_flops(net, 16000), want, 1e-6);
	assert_int_equal(stride_net_n_params(net), 8 * 64 + 8 + 8 * 8 * 3 + 8 + 8 * 2 + 2);
	stride_net_free(net);
}

/* Folding batchnorm into the conv before it gives the same inference output. */
static void test_fold_batchnorm(void **state)
{
	(void)state;
	StrideLayerSpec s[4];
	s[0] = conv(2, 4, 3, 2, 1, 1, 2);
	s[0].bias = false;
	s[1] = stride_layer_spec_defaults(STRIDE_BATCHNORM1D);
	strcpy(s[1].name, "bn");
	s[1].channels = 4;
	s[2] = stride_layer_spec_defaults(STRIDE_RELU);
	s[3] = stride_layer_spec_defaults(STRIDE_GLOBAL_MAXPOOL);
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 4, err);
	assert_non_null(net);
	stride_net_init_params(net, 3);
	StrideRng rng;
	stride_rng_seed(&rng, 4);
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if (strncmp(t.name, "bn.", 3) == 0)
			for (size_t j = 0; j < t.size; j++)
				t.data[j] = (float)(0.5 + stride_rng_uniform(&rng));
	}
	StrideNet *folded = stride_net_fold_batchnorm(net, err);
	assert_non_null(folded);
	assert_int_equal(stride_net_n_layers(folded), 3);
	assert_true(stride_net_layer(folded, 0)->bias);
	float x[2 * 2 * 30];
	for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
		x[i] = (float)stride_rng_normal(&rng);
	const float *ya, *yb;
	int c, t;
	assert_int_equal(stride_net_forward(net, x, 2, 30, false, &ya, &c, &t, err), 0);
	float copy[8];
	memcpy(copy, ya, (size_t)2 * c * t * sizeof(float));
	assert_int_equal(stride_net_forward(folded, x, 2, 30, false, &yb, &c, &t, err), 0);
	for (int i = 0; i < 2 * c * t; i++)
		assert_float_equal(yb[i], copy[i], 1e-5);
	stride_net_free(folded);
	stride_net_free(net);
}

/* Forward sizes buffers once; a second forward of the same size reuses them, and
 * a larger one grows them without changing results. */
static void test_reserve_and_regrow(void **state)
{
	(void)state;
	StrideLayerSpec s = conv(1, 4, 5, 2, 1, 2, 1);
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(&s, 1, err);
	stride_net_init_params(net, 9);
	assert_int_equal(stride_net_reserve(net, 1, 16, err), 0);
	float x[64];
	for (int i = 0; i < 64; i++)
		x[i] = (float)i / 64.0f;
	const float *y;
	int c, t;
	assert_int_equal(stride_net_forward(net, x, 1, 16, false, &y, &c, &t, err), 0);
	float first[4 * 8];
	memcpy(first, y, sizeof first);
	assert_int_equal(stride_net_forward(net, x, 4, 16, false, &y, &c, &t, err), 0);
	for (int i = 0; i < 4 * 8; i++)
		assert_float_equal(y[i], first[i], 0);
	assert_int_equal(stride_net_forward(net, x, 0, 16, false, &y, &c, &t, err), -1);
	assert_int_equal(stride_net_backward(net, first, NULL, err), -1); /* no forward now */
	stride_net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_len_formula),    cmocka_unit_test(test_conv_matches_definition),
		cmocka_unit_test(test_pool_lengths),       cmocka_unit_test(test_refused_networks),
		cmocka_unit_test(test_geometry),           cmocka_unit_test(test_fold_batchnorm),
		cmocka_unit_test(test_reserve_and_regrow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
