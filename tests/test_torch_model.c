/* A model trained in PyTorch, run by Stride: tests/torch/train_tiny_model.py trains a
 * small classifier (conv1d, batchnorm1d, relu, maxpool1d, dilated conv1d, global
 * average pooling, dense, softmax), saves it in Stride's model format with a test
 * signal as .npy and as 16-bit .wav, and PyTorch's eval-mode outputs for both.
 * `stride forward` (and the library directly) must reproduce those outputs within
 * max|a - b| / max(max|b|, 1e-3) <= 1e-4, with the same shapes. */
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

#define TOLERANCE 1e-4

/* The script's output goes to the temporary folder, kept when a test fails. */
static int g_script_ok;
static int g_failed;

static int setup(void **state)
{
	(void)state;
	if (!ts_tmpdir_make("torch-model"))
		return 0; /* every test then fails on g_script_ok */
	g_script_ok = ts_run_python_file("tests/torch/train_tiny_model.py", NULL) == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_tmpdir_keep_or_remove(g_failed);
	return 0;
}

static void need_script(void)
{
	if (!g_script_ok) {
		g_failed = 1;
		fail_msg("tests/torch/train_tiny_model.py did not run to completion (see above)");
	}
}

static void path_in(char *buf, const char *name)
{
	ts_path(buf, "%s/%s", ts_tmpdir(), name);
}

typedef struct {
	float *data;
	int ndim;
	int64_t shape[8];
	size_t size;
} Array;

static void read_npy(const char *name, Array *a)
{
	char path[TS_PATH_LEN], err[STRIDE_ERR_LEN] = "";
	path_in(path, name);
	if (stride_npy_read(path, &a->data, &a->ndim, a->shape, err) != 0) {
		g_failed = 1;
		fail_msg("stride_npy_read: %s", err);
	}
	a->size = 1;
	for (int i = 0; i < a->ndim; i++)
		a->size *= (size_t)a->shape[i];
}

/* got must have expected's shape and values. */
static void expect_same(const char *what, const Array *got, const Array *expected)
{
	if (got->ndim != expected->ndim) {
		g_failed = 1;
		fail_msg("%s: rank %d, PyTorch's %d", what, got->ndim, expected->ndim);
	}
	for (int i = 0; i < got->ndim; i++)
		if (got->shape[i] != expected->shape[i]) {
			g_failed = 1;
			fail_msg("%s: dimension %d is %lld, PyTorch's %lld", what, i,
			         (long long)got->shape[i], (long long)expected->shape[i]);
		}
	double e = ts_rel_err(got->data, expected->data, expected->size);
	printf("%-32s shape [%lld, %lld]  error %.2e\n", what, (long long)got->shape[0],
	       (long long)(got->ndim > 1 ? got->shape[1] : 1), e);
	if (!(e <= TOLERANCE)) {
		g_failed = 1;
		fail_msg("%s differs from PyTorch: error %.3g > %g", what, e, TOLERANCE);
	}
}

/* The script's model, after need_script(). */
static StrideModel *load_tiny(void)
{
	need_script();
	char path[TS_PATH_LEN], err[STRIDE_ERR_LEN] = "";
	path_in(path, "tiny.safetensors");
	StrideModel *m = stride_model_read(path, err);
	if (!m) {
		g_failed = 1;
		fail_msg("stride_model_read: %s", err);
	}
	return m;
}

static void test_model_loads_with_metadata(void **state)
{
	(void)state;
	StrideModel *m = load_tiny();
	assert_int_equal(m->task, STRIDE_TASK_CLASSIFY);
	assert_int_equal(m->sample_rate, 16000);
	assert_int_equal(m->window, 4000);
	assert_int_equal(m->hop, 1000);
	assert_int_equal(m->n_labels, 3);
	assert_string_equal(m->labels[0], "tone");
	assert_string_equal(m->labels[1], "noise");
	assert_string_equal(m->labels[2], "click");
	assert_int_equal(stride_net_n_layers(m->net), 9);
	assert_int_equal(stride_net_in_channels(m->net), 1);
	/* batchnorm statistics came from training, not the initial 0 and 1 */
	int i = stride_net_find_tensor(m->net, "bn1.running_var");
	assert_true(i >= 0);
	StrideTensor rv = stride_net_tensor(m->net, i);
	assert_int_equal(rv.size, 8);
	assert_true(rv.data[0] != 1.0f);
	stride_model_free(m);
}

/* The library alone, so a CLI failure is told apart from a library one. */
static void test_library_forward_matches(void **state)
{
	(void)state;
	StrideModel *m = load_tiny();
	char err[STRIDE_ERR_LEN] = "";
	Array x, expected;
	read_npy("input.npy", &x);
	read_npy("expected.npy", &expected);
	assert_int_equal(x.ndim, 2);
	assert_int_equal(x.shape[0], 1);
	const float *y;
	int c_out, t_out;
	if (stride_net_forward(m->net, x.data, 1, (int)x.shape[1], false, &y, &c_out, &t_out, err)
	    != 0) {
		g_failed = 1;
		fail_msg("stride_net_forward: %s", err);
	}
	Array got = {(float *)y, 2, {c_out, t_out}, (size_t)c_out * t_out};
	expect_same("library forward (input.npy)", &got, &expected);
	free(x.data);
	free(expected.data);
	stride_model_free(m);
}

/* `stride forward tiny.safetensors INPUT OUTPUT.npy`, then OUTPUT against expected.
 * With other_name, OUTPUT must also be nearer expected than other_name's output
 * (for the .wav: its 16-bit samples were used, not the float signal). */
static void cli_forward_matches(const char *input, const char *output, const char *expected_name,
                                const char *other_name)
{
	need_script();
	char exe[TS_PATH_LEN], model[TS_PATH_LEN], in[TS_PATH_LEN], out[TS_PATH_LEN];
	if (ts_stride_binary(exe) != 0) {
		g_failed = 1;
		fail_msg("no stride binary at %s", exe);
	}
	path_in(model, "tiny.safetensors");
	path_in(in, input);
	path_in(out, output);
	char *argv[] = {exe, "forward", model, in, out, NULL};
	int rc = ts_run_status(argv);
	if (rc != 0) {
		g_failed = 1;
		fail_msg("%s forward %s %s %s exited with %d", exe, model, in, out, rc);
	}
	Array got, expected;
	read_npy(output, &got);
	read_npy(expected_name, &expected);
	char what[96];
	snprintf(what, sizeof what, "stride forward (%s)", input);
	expect_same(what, &got, &expected);
	if (other_name) {
		Array other;
		read_npy(other_name, &other);
		assert_int_equal(other.size, expected.size);
		double e_own = ts_rel_err(got.data, expected.data, expected.size);
		double e_other = ts_rel_err(got.data, other.data, other.size);
		double e_apart = ts_rel_err(other.data, expected.data, expected.size);
		printf("%-32s error against %s %.2e (the two references differ by %.2e)\n", what,
		       other_name, e_other, e_apart);
		if (!(e_own < e_other)) {
			g_failed = 1;
			fail_msg("%s is nearer %s than %s", what, other_name, expected_name);
		}
		free(other.data);
	}
	free(got.data);
	free(expected.data);
}

static void test_cli_forward_npy(void **state)
{
	(void)state;
	cli_forward_matches("input.npy", "out.npy", "expected.npy", NULL);
}

static void test_cli_forward_wav(void **state)
{
	(void)state;
	cli_forward_matches("input.wav", "out_wav.npy", "expected_wav.npy", "expected.npy");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_loads_with_metadata),
		cmocka_unit_test(test_library_forward_matches),
		cmocka_unit_test(test_cli_forward_npy),
		cmocka_unit_test(test_cli_forward_wav),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
