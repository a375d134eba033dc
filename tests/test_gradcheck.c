/* Finite-difference gradient checks: every layer and option, alone and in small
 * networks, through both conv1d paths. The loss is L = sum(y * R) for a fixed
 * random R, so dL/dy = R and the analytic gradients from stride_net_backward must
 * match (L(p + h) - L(p - h)) / 2h for inputs and every parameter.
 *
 * Kinks (relu at 0, a max changing its winner) make a finite difference
 * meaningless where a perturbation crosses one; such points show up as forward
 * and backward one-sided slopes that disagree, and are skipped. A case fails
 * when fewer than 80% of its sampled points could be checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "stride.h"
#include "util.h"

typedef struct {
	StrideNet *net;
	int n, t, c_in;
	float *x;
	float *r; /* dL/dy */
	size_t y_count;
	bool training;
} Case;

static double loss_of(Case *k)
{
	const float *y;
	int c, t;
	char err[STRIDE_ERR_LEN];
	if (stride_net_forward(k->net, k->x, k->n, k->t, k->training, &y, &c, &t, err) != 0)
		fail_msg("forward: %s", err);
	double l = 0.0;
	for (size_t i = 0; i < k->y_count; i++)
		l += (double)y[i] * k->r[i];
	return l;
}

static double central_difference(Case *k, float *p, double h)
{
	const float saved = *p;
	*p = (float)(saved + h);
	const double up = loss_of(k);
	*p = (float)(saved - h);
	const double down = loss_of(k);
	*p = saved;
	return (up - down) / (((double)(float)(saved + h)) - (double)(float)(saved - h));
}

static int max_samples(void)
{
	return getenv("STRIDE_UNDER_VALGRIND") ? 6 : 24;
}

/* Compares analytic and numeric gradients on up to max_samples() entries of one
 * array. The tolerance is 1% of the array's largest gradient (float32 forwards
 * make finite differences noisy; a wrong gradient is off by far more), with a
 * floor tied to the largest gradient of the whole network so that an array of
 * near-zero gradients is not held to float noise. Returns the points skipped. */
static int check_array(Case *k, const char *what, float *values, const float *analytic,
                       size_t count, double floor_scale, int *checked, StrideRng *rng)
{
	int skipped = 0;
	const int samples = (int)(count < (size_t)max_samples() ? count : (size_t)max_samples());
	double scale = floor_scale;
	for (size_t i = 0; i < count; i++)
		scale = fmax(scale, fabs(analytic[i]));
	for (int s = 0; s < samples; s++) {
		const size_t i = count <= (size_t)max_samples() ? (size_t)s
		                                                : (size_t)(stride_rng_next(rng) % count);
		const double h = 1e-3 * fmax(1.0, fabs(values[i]));
		const float saved = values[i];
		const double l0 = loss_of(k);
		values[i] = (float)(saved + h);
		const double up = loss_of(k);
		values[i] = (float)(saved - h);
		const double down = loss_of(k);
		values[i] = saved;
		const double forward = (up - l0) / ((double)(float)(saved + h) - saved);
		const double backward = (l0 - down) / (saved - (double)(float)(saved - h));
		const double g = central_difference(k, &values[i], h);
		const double tol = 1e-2 * scale + 3e-3 * fabs(g);
		/* One-sided slopes that disagree mean a kink within h of the point (relu at
		 * 0, a max changing its winner): the central difference there is an average
		 * of two slopes, not a derivative. Smooth curvature moves them apart by only
		 * h * f'', far below the tolerance. */
		if (fabs(forward - backward) > tol) {
			skipped++;
			continue;
		}
		(*checked)++;
		if (fabs(analytic[i] - g) > tol)
			fail_msg("%s[%zu]: analytic %.6g, numeric %.6g (one-sided %.6g, %.6g), tolerance %.3g",
			         what, i, (double)analytic[i], g, forward, backward, tol);
	}
	return skipped;
}

/* Runs the whole check for a net on an (n, c, t) batch. */
static void gradcheck(StrideNet *net, int n, int t, bool training, uint64_t seed)
{
	StrideRng rng;
	stride_rng_seed(&rng, seed);
	Case k = { net, n, t, stride_net_in_channels(net), NULL, NULL, 0, training };
	int c_out, t_out;
	char err[STRIDE_ERR_LEN];
	if (stride_net_output_shape(net, t, &c_out, &t_out, err) != 0)
		fail_msg("shape: %s", err);
	const size_t x_count = (size_t)n * k.c_in * t;
	k.y_count = (size_t)n * c_out * t_out;
	k.x = malloc(x_count * sizeof(float));
	k.r = malloc(k.y_count * sizeof(float));
	float *dx = malloc(x_count * sizeof(float));
	assert_non_null(k.x);
	assert_non_null(k.r);
	assert_non_null(dx);
	for (size_t i = 0; i < x_count; i++)
		k.x[i] = (float)stride_rng_normal(&rng);
	for (size_t i = 0; i < k.y_count; i++)
		k.r[i] = (float)stride_rng_normal(&rng);
	stride_net_init_params(net, seed + 1);
	/* non-trivial batchnorm parameters and statistics */
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor tt = stride_net_tensor(net, i);
		const char *dot = strrchr(tt.name, '.');
		for (size_t j = 0; j < tt.size; j++) {
			if (strcmp(dot, ".running_var") == 0)
				tt.data[j] = (float)(0.5 + stride_rng_uniform(&rng));
			else if (strcmp(dot, ".running_mean") == 0 || strstr(tt.name, "bn"))
				tt.data[j] += (float)(0.3 * stride_rng_normal(&rng));
		}
	}

	const float *y;
	if (stride_net_forward(net, k.x, n, t, training, &y, NULL, NULL, err) != 0)
		fail_msg("forward: %s", err);
	if (stride_net_backward(net, k.r, dx, err) != 0)
		fail_msg("backward: %s", err);
	/* keep the analytic parameter gradients: the finite differences run forwards */
	const size_t np = stride_net_n_params(net);
	float *grads = malloc((np + 1) * sizeof(float));
	assert_non_null(grads);
	memcpy(grads, stride_net_grads(net), np * sizeof(float));

	double largest = 1e-6;
	for (size_t i = 0; i < x_count; i++)
		largest = fmax(largest, fabs(dx[i]));
	for (size_t i = 0; i < np; i++)
		largest = fmax(largest, fabs(grads[i]));
	const double floor_scale = 1e-2 * largest;
	int checked = 0, skipped = 0;
	skipped += check_array(&k, "input", k.x, dx, x_count, floor_scale, &checked, &rng);
	float *params = stride_net_params(net);
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor tt = stride_net_tensor(net, i);
		if (!tt.grad)
			continue;
		skipped += check_array(&k, tt.name, tt.data, grads + (tt.data - params), tt.size,
		                       floor_scale, &checked, &rng);
	}
	if (skipped * 5 > checked + skipped)
		fail_msg("only %d of %d points away from kinks", checked, checked + skipped);
	assert_true(checked > 0);
	free(grads);
	free(k.x);
	free(k.r);
	free(dx);
}

static StrideLayerSpec conv(const char *name, int in, int out, int kernel, int stride,
                            int dilation, int padding, int groups, bool bias)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.in = in;
	s.out = out;
	s.kernel = kernel;
	s.stride = stride;
	s.dilation = dilation;
	s.padding = padding;
	s.groups = groups;
	s.bias = bias;
	return s;
}

static StrideLayerSpec pool(StrideLayerType type, int kernel, int stride, int padding)
{
	StrideLayerSpec s = stride_layer_spec_defaults(type);
	s.kernel = kernel;
	s.stride = stride;
	s.padding = padding;
	return s;
}

static StrideLayerSpec plain(StrideLayerType type)
{
	return stride_layer_spec_defaults(type);
}

static StrideLayerSpec bn(const char *name, int channels)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_BATCHNORM1D);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.channels = channels;
	return s;
}

static StrideLayerSpec dense(const char *name, int in, int out, bool bias)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_DENSE);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.in = in;
	s.out = out;
	s.bias = bias;
	return s;
}

static void check_stack(const StrideLayerSpec *specs, int n_specs, int n, int t, bool training,
                        uint64_t seed)
{
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(specs, n_specs, err);
	if (!net)
		fail_msg("build: %s", err);
	gradcheck(net, n, t, training, seed);
	stride_net_free(net);
}

/* conv1d options, each on both paths */
static void test_conv_options(void **state)
{
	(void)state;
	const StrideLayerSpec cases[] = {
		conv("c", 1, 4, 5, 1, 1, 0, 1, true),   /* plain */
		conv("c", 3, 4, 3, 2, 1, 0, 1, true),   /* stride */
		conv("c", 3, 5, 3, 1, 3, 0, 1, false),  /* dilation, no bias */
		conv("c", 2, 4, 5, 1, 1, 2, 1, true),   /* same padding */
		conv("c", 2, 3, 4, 3, 2, 3, 1, true),   /* everything at once */
		conv("c", 4, 6, 3, 1, 1, 1, 2, true),   /* groups */
		conv("c", 4, 4, 3, 1, 2, 1, 4, true),   /* depthwise */
		conv("c", 3, 4, 2, 5, 1, 0, 1, true),   /* stride larger than kernel */
		conv("c", 4, 6, 1, 1, 1, 0, 2, true),   /* 1x1, the patch-free path */
		conv("c", 1, 8, 16, 4, 1, 0, 1, true),  /* a strided front end */
	};
	for (int path = STRIDE_CONV_GEMM; path <= STRIDE_CONV_DIRECT; path++) {
		stride_conv_path_override = (StrideConvPath)path;
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			print_message("conv case %zu, path %s\n", i, path == STRIDE_CONV_GEMM ? "gemm" : "direct");
			check_stack(&cases[i], 1, 2, 23, false, 100 + i);
		}
	}
	stride_conv_path_override = STRIDE_CONV_AUTO;
}

static void test_pools(void **state)
{
	(void)state;
	const StrideLayerSpec cases[] = {
		pool(STRIDE_MAXPOOL1D, 2, 2, 0), pool(STRIDE_MAXPOOL1D, 3, 2, 1),
		pool(STRIDE_MAXPOOL1D, 4, 1, 2), pool(STRIDE_AVGPOOL1D, 2, 2, 0),
		pool(STRIDE_AVGPOOL1D, 3, 2, 1), pool(STRIDE_AVGPOOL1D, 5, 3, 2),
		plain(STRIDE_GLOBAL_AVGPOOL),    plain(STRIDE_GLOBAL_MAXPOOL),
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* a conv first gives the network its channel count */
		const StrideLayerSpec stack[2] = { conv("c", 2, 3, 3, 1, 1, 0, 1, true), cases[i] };
		check_stack(stack, 2, 2, 17, false, 200 + i);
	}
}

static void test_batchnorm_both_modes(void **state)
{
	(void)state;
	const StrideLayerSpec stack[2] = { conv("c", 2, 3, 3, 1, 1, 0, 1, true), bn("bn", 3) };
	check_stack(stack, 2, 3, 11, true, 300);
	check_stack(stack, 2, 3, 11, false, 301);
	/* after a dense layer: statistics over the batch only */
	const StrideLayerSpec head[4] = { conv("c", 1, 3, 3, 1, 1, 0, 1, true),
		                          plain(STRIDE_GLOBAL_AVGPOOL), dense("fc", 3, 4, true),
		                          bn("bn", 4) };
	check_stack(head, 4, 5, 9, true, 302);
}

static void test_dense_and_activations(void **state)
{
	(void)state;
	const StrideLayerType acts[] = { STRIDE_RELU,    STRIDE_LEAKY_RELU, STRIDE_TANH,
		                         STRIDE_SIGMOID, STRIDE_SOFTMAX };
	for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
		StrideLayerSpec a = plain(acts[i]);
		a.slope = 0.2f;
		const StrideLayerSpec stack[2] = { conv("c", 2, 4, 3, 1, 1, 0, 1, true), a };
		check_stack(stack, 2, 2, 13, false, 400 + i);
	}
	/* dense on a flattened (c, t) volume, with and without bias */
	const StrideLayerSpec flat[2] = { conv("c", 1, 3, 4, 2, 1, 0, 1, true), dense("fc", 3 * 5, 4, true) };
	check_stack(flat, 2, 3, 13, false, 410);
	const StrideLayerSpec nobias[2] = { conv("c", 1, 3, 4, 2, 1, 0, 1, true), dense("fc", 15, 2, false) };
	check_stack(nobias, 2, 3, 13, false, 411);
}

/* Hand-worked values of the log layer: below zero and NaN it is ln(eps), never NaN. */
static void test_log_values(void **state)
{
	(void)state;
	const float eps = 0.25f;
	const float x[5] = { -3.0f, 0.0f, 0.75f, 1.75f, NAN };
	const float want[5] = { logf(0.25f), logf(0.25f), 0.0f, logf(2.0f), logf(0.25f) };
	float y[5], dx[5];
	const float dy[5] = { 1.0f, 1.0f, 2.0f, 4.0f, 1.0f };
	stride_log_forward(5, eps, x, y);
	for (int i = 0; i < 5; i++) {
		assert_true(isfinite(y[i])); /* assert_float_equal lets NaN through */
		assert_float_equal(y[i], want[i], 1e-6f);
	}
	stride_log_backward(5, eps, x, dy, dx);
	const float want_dx[5] = { 0.0f, 4.0f, 2.0f, 2.0f, 0.0f }; /* dy / (x + eps) where x >= 0 */
	for (int i = 0; i < 5; i++) {
		assert_true(isfinite(dx[i]));
		assert_float_equal(dx[i], want_dx[i], 1e-6f);
	}
}

/* The log front end of the gate: a bias-free conv, rectified, averaged, then
 * ln(x + eps). Inputs sit both well above eps and near it, where the
 * curvature is largest; the conv after it takes the gradient back. */
static void test_log_energy_front_end(void **state)
{
	(void)state;
	StrideLayerSpec lg = plain(STRIDE_LOG);
	const float eps[] = { 0.5f, 0.05f };
	for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
		lg.eps = eps[i];
		const StrideLayerSpec stack[5] = {
			conv("c1", 1, 3, 4, 2, 1, 0, 1, false), plain(STRIDE_RELU),
			pool(STRIDE_AVGPOOL1D, 2, 2, 0), lg, conv("c2", 3, 2, 3, 1, 1, 0, 1, true),
		};
		check_stack(stack, 5, 2, 41, false, 420 + i);
	}
	/* straight on a conv's output: negative inputs give ln(eps) and no gradient */
	lg.eps = 0.3f;
	const StrideLayerSpec direct[2] = { conv("c", 2, 4, 3, 1, 1, 0, 1, true), lg };
	check_stack(direct, 2, 2, 13, false, 430);
}

/* A small whole network of the kind the trainer builds. */
static void test_small_network(void **state)
{
	(void)state;
	const StrideLayerSpec net[] = {
		conv("conv1", 1, 6, 16, 4, 1, 0, 1, false), bn("bn1", 6), plain(STRIDE_RELU),
		pool(STRIDE_MAXPOOL1D, 2, 2, 0), conv("conv2", 6, 8, 3, 1, 2, 0, 2, true),
		plain(STRIDE_TANH), pool(STRIDE_AVGPOOL1D, 2, 2, 0), plain(STRIDE_GLOBAL_AVGPOOL),
		dense("fc", 8, 3, true), plain(STRIDE_SOFTMAX),
	};
	const int n = sizeof net / sizeof net[0];
	check_stack(net, n, 3, 120, true, 500);
	check_stack(net, n, 3, 120, false, 501);
}

static void check_loss_gradient(float (*loss)(const float *, const float *, int, float *),
                                const float *targets, float *z, int n)
{
	float g[8];
	loss(z, targets, n, g);
	for (int i = 0; i < n; i++) {
		const float saved = z[i];
		const double h = 1e-2;
		z[i] = (float)(saved + h);
		const double up = loss(z, targets, n, NULL);
		z[i] = (float)(saved - h);
		const double down = loss(z, targets, n, NULL);
		z[i] = saved;
		assert_float_equal(g[i], (up - down) / (2 * h), 2e-3);
	}
}

static void test_losses(void **state)
{
	(void)state;
	/* softmax cross-entropy: 2 items x 3 classes */
	float z[6] = { 0.5f, -1.0f, 2.0f, 0.1f, 0.2f, -0.3f };
	const int labels[2] = { 2, 0 };
	float g[6];
	const float l = stride_loss_softmax_xent(z, labels, 2, 3, g);
	/* by hand: mean of logsumexp(z_i) - z_i[label] */
	double want = 0.0;
	for (int i = 0; i < 2; i++) {
		double s = 0.0;
		for (int j = 0; j < 3; j++)
			s += exp(z[i * 3 + j]);
		want += log(s) - z[i * 3 + labels[i]];
	}
	assert_float_equal(l, want / 2, 1e-5);
	for (int i = 0; i < 6; i++) {
		const float saved = z[i];
		z[i] = saved + 1e-2f;
		const double up = stride_loss_softmax_xent(z, labels, 2, 3, NULL);
		z[i] = saved - 1e-2f;
		const double down = stride_loss_softmax_xent(z, labels, 2, 3, NULL);
		z[i] = saved;
		assert_float_equal(g[i], (up - down) / 2e-2, 2e-3);
	}
	/* binary cross-entropy, on logits and on probabilities */
	float logits[4] = { -2.0f, 0.3f, 1.5f, 0.0f };
	const float targets[4] = { 0.0f, 1.0f, 0.7f, 1.0f };
	check_loss_gradient(stride_loss_bce_logits, targets, logits, 4);
	float probs[4] = { 0.1f, 0.6f, 0.8f, 0.45f };
	check_loss_gradient(stride_loss_bce, targets, probs, 4);
	/* BCE on logits equals BCE on their sigmoid */
	float sig[4];
	for (int i = 0; i < 4; i++)
		sig[i] = 1.0f / (1.0f + expf(-logits[i]));
	assert_float_equal(stride_loss_bce_logits(logits, targets, 4, NULL),
	                   stride_loss_bce(sig, targets, 4, NULL), 1e-5);
	/* extreme logits stay finite */
	float huge[2] = { 1000.0f, -1000.0f };
	const float t2[2] = { 0.0f, 1.0f };
	assert_float_equal(stride_loss_bce_logits(huge, t2, 2, NULL), 1000.0, 1e-2);
}

/* The GEMM and direct paths agree on outputs and gradients. */
static void test_paths_agree(void **state)
{
	(void)state;
	const StrideLayerSpec s = conv("c", 6, 8, 5, 2, 2, 3, 2, true);
	char err[STRIDE_ERR_LEN];
	StrideNet *a = stride_net_new(&s, 1, err);
	assert_non_null(a);
	stride_net_init_params(a, 7);
	StrideRng rng;
	stride_rng_seed(&rng, 8);
	const int n = 3, t = 57;
	float x[3 * 6 * 57], dxa[3 * 6 * 57], dxb[3 * 6 * 57];
	for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
		x[i] = (float)stride_rng_normal(&rng);
	int c, to;
	assert_int_equal(stride_net_output_shape(a, t, &c, &to, err), 0);
	const size_t ny = (size_t)n * c * to;
	float *r = malloc(ny * sizeof(float)), *ya = malloc(ny * sizeof(float));
	float *ga = malloc(stride_net_n_params(a) * sizeof(float));
	for (size_t i = 0; i < ny; i++)
		r[i] = (float)stride_rng_normal(&rng);
	const float *y;
	stride_conv_path_override = STRIDE_CONV_GEMM;
	assert_int_equal(stride_net_forward(a, x, n, t, true, &y, NULL, NULL, err), 0);
	memcpy(ya, y, ny * sizeof(float));
	assert_int_equal(stride_net_backward(a, r, dxa, err), 0);
	memcpy(ga, stride_net_grads(a), stride_net_n_params(a) * sizeof(float));
	stride_conv_path_override = STRIDE_CONV_DIRECT;
	assert_int_equal(stride_net_forward(a, x, n, t, true, &y, NULL, NULL, err), 0);
	for (size_t i = 0; i < ny; i++)
		assert_float_equal(y[i], ya[i], 1e-4);
	assert_int_equal(stride_net_backward(a, r, dxb, err), 0);
	for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
		assert_float_equal(dxa[i], dxb[i], 1e-4);
	for (size_t i = 0; i < stride_net_n_params(a); i++)
		assert_float_equal(ga[i], stride_net_grads(a)[i], 1e-3);
	stride_conv_path_override = STRIDE_CONV_AUTO;
	free(r);
	free(ya);
	free(ga);
	stride_net_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_options),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_batchnorm_both_modes),
		cmocka_unit_test(test_dense_and_activations),
		cmocka_unit_test(test_log_values),
		cmocka_unit_test(test_log_energy_front_end),
		cmocka_unit_test(test_small_network),
		cmocka_unit_test(test_losses),
		cmocka_unit_test(test_paths_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
