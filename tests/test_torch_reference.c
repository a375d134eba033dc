/* The dsp library against PyTorch: tests/torch/make_reference.py builds random layer
 * stacks covering every layer type and option, runs them in float64 PyTorch and
 * writes each as a Stride model file plus the reference tensors (output, input
 * gradient, parameter gradients, running statistics after the forward). This test
 * loads every model with stride_model_read, runs forward and backward, and requires
 * each tensor to match within max|a - b| / max(max|b|, 1e-3) <= 1e-4. The loss
 * functions are checked the same way. A missing case or a failing script fails. */
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
#include "test_support.h"

#define N_CASES 40
#define N_CASES_STR "40"
#define TOLERANCE 1e-4

/* The reference files go to the temporary folder, kept when a test fails. */
static int g_script_ok; /* make_reference.py ran and exited 0 */
static int g_failed;

static int setup(void **state)
{
	(void)state;
	if (!ts_tmpdir_make("torch-ref"))
		return 0; /* every test then fails on g_script_ok */
	/* STRIDE_TORCH_SEED draws another set of cases (for hunting rare failures by hand). */
	const char *args[] = {"--cases", N_CASES_STR, "--seed", ts_env_or("STRIDE_TORCH_SEED", "1"),
	                      NULL};
	g_script_ok = ts_run_python_file("tests/torch/make_reference.py", args) == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_tmpdir_keep_or_remove(g_failed);
	return 0;
}

/* One case's bookkeeping: its worst tensor, and the first failure. */
typedef struct {
	int index;
	double worst;
	char worst_name[STRIDE_NAME_LEN + 16];
	int n_compared;
	char fail[512];
} CaseResult;

static void note(CaseResult *r, const char *name, double err)
{
	r->n_compared++;
	if (err > r->worst || r->n_compared == 1) {
		r->worst = err;
		snprintf(r->worst_name, sizeof r->worst_name, "%s", name);
	}
	if (!(err <= TOLERANCE) && !r->fail[0])
		snprintf(r->fail, sizeof r->fail, "case %03d: %s differs from PyTorch: error %.3g > %g",
		         r->index, name, err, TOLERANCE);
}

#if defined(__GNUC__)
static int fail_case(CaseResult *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

/* Records the case's failure (the first one wins); returns -1. */
static int fail_case(CaseResult *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!r->fail[0])
		snprintf(r->fail, sizeof r->fail, "case %03d: %s", r->index, msg);
	return -1;
}

/* A reference tensor by name, with its element count checked against want. */
static const float *ref_tensor(const StrideTensorFile *ref, const char *name, size_t want,
                               CaseResult *r)
{
	int i = stride_tensorfile_find(ref, name);
	if (i < 0) {
		fail_case(r, "reference has no tensor %s", name);
		return NULL;
	}
	if (stride_tensorfile_size(ref, i) != want) {
		fail_case(r, "reference tensor %s has %zu values, expected %zu", name,
		          stride_tensorfile_size(ref, i), want);
		return NULL;
	}
	return stride_tensorfile_data(ref, i);
}

/* Compares the network's named tensors: parameters' gradients against grad.<name>,
 * buffers against after.<name>. Every such reference tensor must be used. */
static int check_named(StrideNet *net, const StrideTensorFile *ref, CaseResult *r)
{
	char key[STRIDE_NAME_LEN + 16];
	for (int j = 0; j < stride_net_n_tensors(net); j++) {
		StrideTensor tt = stride_net_tensor(net, j);
		snprintf(key, sizeof key, "%s.%s", tt.grad ? "grad" : "after", tt.name);
		int k = stride_tensorfile_find(ref, key);
		if (k < 0)
			return fail_case(r, "the network has %s but the reference no %s", tt.name, key);
		const int64_t *shape = stride_tensorfile_shape(ref, k);
		int same = stride_tensorfile_ndim(ref, k) == tt.ndim;
		for (int d = 0; same && d < tt.ndim; d++)
			same = shape[d] == tt.shape[d];
		if (!same)
			return fail_case(r, "%s has a different shape from the reference %s", tt.name, key);
		note(r, key, ts_rel_err(tt.grad ? tt.grad : tt.data, stride_tensorfile_data(ref, k),
		                     tt.size));
	}
	/* And the other way round: nothing in the reference goes unchecked. */
	for (int k = 0; k < stride_tensorfile_n_tensors(ref); k++) {
		const char *name = stride_tensorfile_name(ref, k);
		const char *dot = strchr(name, '.');
		if (!dot || (strncmp(name, "grad.", 5) != 0 && strncmp(name, "after.", 6) != 0))
			continue;
		int j = stride_net_find_tensor(net, dot + 1);
		if (j < 0 || (stride_net_tensor(net, j).grad != NULL) != (name[0] == 'g'))
			return fail_case(r, "the reference has %s, the network no such %s", name,
			                 name[0] == 'g' ? "parameter" : "buffer");
	}
	return 0;
}

static int check_case_files(StrideModel *model, const StrideTensorFile *ref, CaseResult *r,
                            int *training_out)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideNet *net = model->net;
	const char *training = stride_tensorfile_meta(ref, "training");
	if (!training || (strcmp(training, "0") != 0 && strcmp(training, "1") != 0))
		return fail_case(r, "reference metadata has no training \"0\" or \"1\"");
	*training_out = training[0] == '1';

	int i_in = stride_tensorfile_find(ref, "input");
	if (i_in < 0 || stride_tensorfile_ndim(ref, i_in) != 3)
		return fail_case(r, "reference has no input of rank 3");
	const int64_t *s = stride_tensorfile_shape(ref, i_in);
	const int n = (int)s[0], c = (int)s[1], t = (int)s[2];
	if (c != stride_net_in_channels(net))
		return fail_case(r, "input channels differ from the network's");

	const float *y;
	int c_out, t_out;
	if (stride_net_forward(net, stride_tensorfile_data(ref, i_in), n, t, *training_out, &y,
	                       &c_out, &t_out, err) != 0)
		return fail_case(r, "stride_net_forward: %s", err);
	int i_out = stride_tensorfile_find(ref, "output");
	if (i_out < 0 || stride_tensorfile_ndim(ref, i_out) != 3)
		return fail_case(r, "reference has no output of rank 3");
	const int64_t *so = stride_tensorfile_shape(ref, i_out);
	if (so[0] != n || so[1] != c_out || so[2] != t_out) {
		return fail_case(r, "output shape (%d, %d, %d), PyTorch's (%lld, %lld, %lld)", n, c_out,
		                 t_out, (long long)so[0], (long long)so[1], (long long)so[2]);
	}
	const size_t n_out = (size_t)n * c_out * t_out, n_in = (size_t)n * c * t;
	note(r, "output", ts_rel_err(y, stride_tensorfile_data(ref, i_out), n_out));

	const float *gy = ref_tensor(ref, "grad_output", n_out, r);
	const float *gx_ref = ref_tensor(ref, "grad_input", n_in, r);
	if (!gy || !gx_ref)
		return -1;
	float *gx = malloc(n_in * sizeof *gx);
	assert_non_null(gx);
	int rc = stride_net_backward(net, gy, gx, err);
	if (rc == 0)
		note(r, "grad_input", ts_rel_err(gx, gx_ref, n_in));
	free(gx);
	if (rc != 0)
		return fail_case(r, "stride_net_backward: %s", err);
	return check_named(net, ref, r);
}

static void check_case(CaseResult *r)
{
	char model_path[TS_PATH_LEN], ref_path[TS_PATH_LEN], err[STRIDE_ERR_LEN] = "";
	ts_path(model_path, "%s/case_%03d.safetensors", ts_tmpdir(), r->index);
	ts_path(ref_path, "%s/case_%03d_ref.safetensors", ts_tmpdir(), r->index);
	StrideModel *model = stride_model_read(model_path, err);
	if (!model) {
		fail_case(r, "stride_model_read: %s", err);
		return;
	}
	StrideTensorFile *ref = stride_tensorfile_read(ref_path, err);
	if (!ref) {
		fail_case(r, "stride_tensorfile_read: %s", err);
		stride_model_free(model);
		return;
	}
	int training = 0;
	check_case_files(model, ref, r, &training);
	printf("case %03d  training=%d  %d layers  %2d tensors  worst %-28s %.2e%s\n", r->index,
	       training, stride_net_n_layers(model->net), r->n_compared, r->worst_name, r->worst,
	       r->fail[0] ? "  FAIL" : "");
	stride_tensorfile_free(ref);
	stride_model_free(model);
}

static void test_layer_cases(void **state)
{
	(void)state;
	if (!g_script_ok) {
		g_failed = 1;
		fail_msg("tests/torch/make_reference.py did not run to completion (see above)");
	}
	int n_failed = 0;
	double worst = 0.0;
	for (int i = 0; i < N_CASES; i++) {
		CaseResult r;
		memset(&r, 0, sizeof r);
		r.index = i;
		check_case(&r);
		if (r.fail[0]) {
			printf("  %s\n", r.fail);
			n_failed++;
		}
		if (r.worst > worst)
			worst = r.worst;
	}
	printf("%d cases, %d failed, worst relative error %.2e (tolerance %g)\n", N_CASES, n_failed,
	       worst, TOLERANCE);
	if (n_failed) {
		g_failed = 1;
		fail_msg("%d of %d PyTorch reference cases failed", n_failed, N_CASES);
	}
}

/* ---- losses ---- */

typedef struct {
	StrideTensorFile *file;
	char path[TS_PATH_LEN];
} LossRef;

static void loss_open(LossRef *lr, const char *name)
{
	char err[STRIDE_ERR_LEN] = "";
	if (!g_script_ok) {
		g_failed = 1;
		fail_msg("tests/torch/make_reference.py did not run to completion (see above)");
	}
	ts_path(lr->path, "%s/%s", ts_tmpdir(), name);
	lr->file = stride_tensorfile_read(lr->path, err);
	if (!lr->file) {
		g_failed = 1;
		fail_msg("%s", err);
	}
}

/* The named tensor; its element count goes to *n. */
static const float *loss_tensor(LossRef *lr, const char *name, size_t *n)
{
	int i = stride_tensorfile_find(lr->file, name);
	if (i < 0) {
		g_failed = 1;
		fail_msg("%s has no tensor %s", lr->path, name);
	}
	*n = stride_tensorfile_size(lr->file, i);
	return stride_tensorfile_data(lr->file, i);
}

static void expect_close(const char *what, const float *a, const float *b, size_t n)
{
	double e = ts_rel_err(a, b, n);
	printf("%-28s error %.2e\n", what, e);
	if (!(e <= TOLERANCE)) {
		g_failed = 1;
		fail_msg("%s differs from PyTorch: error %.3g > %g", what, e, TOLERANCE);
	}
}

static void test_loss_softmax_xent(void **state)
{
	(void)state;
	LossRef lr;
	loss_open(&lr, "loss_xent.safetensors");
	size_t n_logits, n_labels, n_loss, n_grad;
	const float *logits = loss_tensor(&lr, "logits", &n_logits);
	const float *labels_f = loss_tensor(&lr, "labels", &n_labels);
	const float *loss = loss_tensor(&lr, "loss", &n_loss);
	const float *grad_ref = loss_tensor(&lr, "grad", &n_grad);
	int i = stride_tensorfile_find(lr.file, "logits");
	assert_int_equal(stride_tensorfile_ndim(lr.file, i), 2);
	const int n = (int)stride_tensorfile_shape(lr.file, i)[0];
	const int k = (int)stride_tensorfile_shape(lr.file, i)[1];
	assert_int_equal(n_labels, (size_t)n);
	assert_int_equal(n_loss, 1);
	assert_int_equal(n_grad, n_logits);
	int *labels = malloc((size_t)n * sizeof *labels);
	float *grad = malloc(n_grad * sizeof *grad);
	assert_non_null(labels);
	assert_non_null(grad);
	for (int j = 0; j < n; j++)
		labels[j] = (int)labels_f[j];
	float value = stride_loss_softmax_xent(logits, labels, n, k, grad);
	float value_nograd = stride_loss_softmax_xent(logits, labels, n, k, NULL);
	expect_close("softmax_xent value", &value, loss, 1);
	expect_close("softmax_xent value, no grad", &value_nograd, loss, 1);
	expect_close("softmax_xent grad", grad, grad_ref, n_grad);
	free(labels);
	free(grad);
	stride_tensorfile_free(lr.file);
}

static void test_loss_bce_logits(void **state)
{
	(void)state;
	LossRef lr;
	loss_open(&lr, "loss_bce_logits.safetensors");
	size_t n, n_t, n_loss, n_grad;
	const float *logits = loss_tensor(&lr, "logits", &n);
	const float *targets = loss_tensor(&lr, "targets", &n_t);
	const float *loss = loss_tensor(&lr, "loss", &n_loss);
	const float *grad_ref = loss_tensor(&lr, "grad", &n_grad);
	assert_int_equal(n_t, n);
	assert_int_equal(n_grad, n);
	assert_int_equal(n_loss, 1);
	float *grad = malloc(n * sizeof *grad);
	assert_non_null(grad);
	float value = stride_loss_bce_logits(logits, targets, (int)n, grad);
	expect_close("bce_logits value", &value, loss, 1);
	expect_close("bce_logits grad", grad, grad_ref, n);
	free(grad);
	stride_tensorfile_free(lr.file);
}

static void test_loss_bce(void **state)
{
	(void)state;
	LossRef lr;
	loss_open(&lr, "loss_bce.safetensors");
	size_t n, n_t, n_loss, n_grad;
	const float *p = loss_tensor(&lr, "p", &n);
	const float *targets = loss_tensor(&lr, "targets", &n_t);
	const float *loss = loss_tensor(&lr, "loss", &n_loss);
	const float *grad_ref = loss_tensor(&lr, "grad", &n_grad);
	assert_int_equal(n_t, n);
	assert_int_equal(n_grad, n);
	assert_int_equal(n_loss, 1);
	float *grad = malloc(n * sizeof *grad);
	assert_non_null(grad);
	float value = stride_loss_bce(p, targets, (int)n, grad);
	expect_close("bce value", &value, loss, 1);
	expect_close("bce grad", grad, grad_ref, n);
	free(grad);
	stride_tensorfile_free(lr.file);
}

/* p exactly 0 and 1: PyTorch clamps the logs at -100. */
static void test_loss_bce_clamp(void **state)
{
	(void)state;
	LossRef lr;
	loss_open(&lr, "loss_bce_clamp.safetensors");
	size_t n, n_t, n_loss;
	const float *p = loss_tensor(&lr, "p", &n);
	const float *targets = loss_tensor(&lr, "targets", &n_t);
	const float *loss = loss_tensor(&lr, "loss", &n_loss);
	assert_int_equal(n_t, n);
	assert_int_equal(n_loss, 1);
	float value = stride_loss_bce(p, targets, (int)n, NULL);
	expect_close("bce value at p = 0 and 1", &value, loss, 1);
	stride_tensorfile_free(lr.file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_cases),
		cmocka_unit_test(test_loss_softmax_xent),
		cmocka_unit_test(test_loss_bce_logits),
		cmocka_unit_test(test_loss_bce),
		cmocka_unit_test(test_loss_bce_clamp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
