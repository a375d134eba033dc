/* Training: a tiny synthetic task (tones vs noise) learnt in seconds; the loss
 * goes down; the saved model reloads and predicts the same; runs are
 * bit-for-bit reproducible; --resume (after --stop-after or Ctrl-C) continues
 * exactly; bad datasets and options give clear errors; the presets are
 * stream-friendly and cheap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <time.h>

#include "train_util.h"

#include "augment.h"
#include "dataset.h"
#include "presets.h"
#include "train_loop.h"

#define RATE 16000
#define WINDOW 1024
#define HOP 256

static TuTrainFixture fx;

static const char *ARCH =
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 8, \"kernel\": 32, \"stride\": 8},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn1\", \"channels\": 8},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 8, \"out\": 8, \"kernel\": 4, \"stride\": 2},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 8, \"out\": 2},"
	"{\"type\": \"softmax\"}]}";

static void path_in(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", fx.tmpdir, rel);
}

static int setup(void **state)
{
	(void)state;
	return tu_train_fixture(&fx, "train", ARCH, tu_under_valgrind() ? 8 : 24, 0.5, RATE, 11);
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(fx.tmpdir);
	return 0;
}

/* Every epoch line's "train loss X". */
static int epoch_losses(const char *text, double *loss, int max)
{
	int n = 0;
	for (const char *p = strstr(text, "train loss "); p && n < max; p = strstr(p + 1, "train loss "))
		loss[n++] = strtod(p + strlen("train loss "), NULL);
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_learns_synthetic_task(void **state)
{
	(void)state;
	char err[STRIDE_ERR_LEN] = "";
	StrideDatasetOptions dopt = { STRIDE_TASK_CLASSIFY, RATE, WINDOW, 2, NULL, NULL, NULL, 0, true, false };
	StrideDataset *ds = cli_dataset_load(fx.data_dir, &dopt, err);
	assert_non_null(ds);
	assert_int_equal(cli_dataset_split(ds, 0.25, 1, NULL, NULL, NULL, err), 0);
	StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_CLASSIFY);
	StrideExamples tr, va;
	StrideWindowSet vs;
	assert_int_equal(cli_examples_init(&tr, ds, STRIDE_USE_TRAIN, WINDOW, (WINDOW - HOP) / 2, (WINDOW - HOP) / 2 + HOP, &aug, NULL, err), 0);
	assert_int_equal(cli_examples_init(&va, ds, STRIDE_USE_VAL, WINDOW, (WINDOW - HOP) / 2, (WINDOW - HOP) / 2 + HOP, &aug, NULL, err), 0);
	assert_int_equal(cli_windows_build(&va, 4, HOP, 0, 1, &vs, err), 0);
	assert_true(vs.n >= 16);
	int n_specs = 0;
	StrideLayerSpec *specs = stride_arch_parse(ARCH, &n_specs, err);
	assert_non_null(specs);

	char *log = NULL;
	size_t log_len = 0;
	FILE *out = open_memstream(&log, &log_len);
	StrideTrainConfig cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.specs = specs;
	cfg.n_specs = n_specs;
	cfg.n_labels = ds->n_classes;
	cfg.labels = (const char *const *)ds->classes;
	cfg.window = WINDOW;
	cfg.train = &tr;
	cfg.val = &vs;
	cfg.opt = stride_optim_defaults(STRIDE_OPT_ADAM);
	cfg.schedule = STRIDE_SCHED_COSINE;
	cfg.lr = tu_under_valgrind() ? 1e-2 : 3e-3;
	cfg.epoch_size = tu_under_valgrind() ? 128 : 0; /* valgrind: fewer files, more steps each */
	cfg.warmup_epochs = 0.5;
	cfg.epochs = tu_under_valgrind() ? 8 : 12;
	cfg.batch = 16;
	cfg.threads = 2;
	cfg.seed = 5;
	cfg.out = out;
	StrideTrainResult res;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cli_train(&cfg, &res, err) != 0)
		fail_msg("cli_train: %s", err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fclose(out);
	double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	printf("%s", log);
	assert_non_null(res.net);
	assert_int_equal(res.epochs_done, cfg.epochs);
	assert_true(res.best_epoch >= 1);

	double loss[64];
	int n = epoch_losses(log, loss, 64);
	assert_int_equal(n, cfg.epochs);
	assert_true(loss[n - 1] < 0.7 * loss[0]);

	/* accuracy of the returned network (softmax included) on the validation windows */
	const int k = ds->n_classes;
	float *p1 = malloc((size_t)vs.n * k * sizeof *p1);
	float *p2 = malloc((size_t)vs.n * k * sizeof *p2);
	assert_int_equal(cli_infer_windows(&res.net, 1, vs.x, vs.n, WINDOW, WINDOW, 1.0f, p1, k, err), 0);
	long long right = 0;
	for (long long i = 0; i < vs.n; i++)
		right += (p1[i * k + 1] > p1[i * k + 0]) == (vs.y[i] == 1);
	double acc = (double)right / (double)vs.n;
	printf("validation accuracy %.2f%% on %lld windows in %.1f s\n", 100.0 * acc, vs.n, seconds);
	if (!tu_under_valgrind())
		assert_true(acc >= 0.95); /* the time is printed, not asserted: speed lives in bench/ */

	/* saved and reloaded: the same outputs, bit for bit */
	char model_path[600];
	path_in(model_path, sizeof model_path, "inproc.safetensors");
	StrideModel *m = stride_model_new(res.net, STRIDE_TASK_CLASSIFY, RATE, cfg.labels, k, err);
	assert_non_null(m);
	m->window = WINDOW;
	m->hop = HOP;
	assert_int_equal(stride_model_write(m, model_path, err), 0);
	StrideModel *back = stride_model_read(model_path, err);
	assert_non_null(back);
	assert_int_equal(cli_infer_windows(&back->net, 1, vs.x, vs.n, WINDOW, WINDOW, 1.0f, p2, k, err), 0);
	assert_memory_equal(p1, p2, (size_t)vs.n * k * sizeof *p1);
	stride_model_free(back);
	stride_model_free(m);
	free(p1);
	free(p2);
	free(log);
	free(specs);
	cli_windows_free(&vs);
	cli_examples_free(&tr);
	cli_examples_free(&va);
	cli_dataset_free(ds);
}

/* ------------------------------------------------------------------------ */

static TuRun train_cli(const char *out, const char *const *extra)
{
	const char *args[48] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--out", out,
		                 "--window", "1024", "--hop", "256", "--batch", "16", "--threads", "2",
		                 "--seed", "3" };
	int n = 17;
	for (int i = 0; extra && extra[i] && n < 47; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return tu_run(fx.stride_bin, args, fx.tmpdir);
}

/* Every tensor of two safetensors files, byte for byte. */
static void assert_same_tensors(const char *a, const char *b)
{
	char err[STRIDE_ERR_LEN];
	StrideTensorFile *fa = stride_tensorfile_read(a, err), *fb = stride_tensorfile_read(b, err);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_int_equal(stride_tensorfile_n_tensors(fa), stride_tensorfile_n_tensors(fb));
	for (int i = 0; i < stride_tensorfile_n_tensors(fa); i++) {
		int j = stride_tensorfile_find(fb, stride_tensorfile_name(fa, i));
		assert_true(j >= 0);
		assert_int_equal(stride_tensorfile_size(fa, i), stride_tensorfile_size(fb, j));
		if (memcmp(stride_tensorfile_data(fa, i), stride_tensorfile_data(fb, j),
		           stride_tensorfile_size(fa, i) * sizeof(float)) != 0)
			fail_msg("tensor %s differs between %s and %s", stride_tensorfile_name(fa, i), a, b);
	}
	stride_tensorfile_free(fa);
	stride_tensorfile_free(fb);
}

/* A conv1d with dc_zeros keeps its two zeros at 0 Hz through training: the
 * trainer projects after every optimiser step, so the saved kernels' sum and
 * first moment are zero (to float rounding) after hundreds of Adam steps,
 * which on their own would not stay in that subspace. */
static void test_cli_dc_zeros_held(void **state)
{
	(void)state;
	char arch[600], out[600];
	path_in(arch, sizeof arch, "dc_arch.json");
	path_in(out, sizeof out, "dc.safetensors");
	char *json = strdup(ARCH);
	const char *at = strstr(json, "\"stride\": 8}");
	assert_non_null(at);
	char text[2048];
	snprintf(text, sizeof text, "%.*s\"stride\": 8, \"dc_zeros\": 2}%s", (int)(at - json), json,
	         at + strlen("\"stride\": 8}"));
	free(json);
	tu_write_text(arch, text);
	const char *args[] = { "train", "--arch", arch, "--data", fx.data_dir, "--out", out, "--window",
		               "1024", "--hop", "256", "--batch", "16", "--threads", "2", "--seed", "3",
		               "--epochs", "3", "--no-checkpoint", NULL };
	TuRun r = tu_run(fx.stride_bin, args, fx.tmpdir);
	if (r.status != 0)
		fail_msg("train: %s", r.err);
	tu_run_free(&r);
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_read(out, err);
	if (!m)
		fail_msg("%s", err);
	const StrideLayerSpec *c1 = stride_net_layer(m->net, 0);
	assert_int_equal(c1->dc_zeros, 2);
	int ti = stride_net_find_tensor(m->net, "conv1.weight");
	assert_true(ti >= 0);
	StrideTensor t = stride_net_tensor(m->net, ti);
	const int k = t.shape[2];
	for (size_t j = 0; j < t.size; j += (size_t)k) {
		double m0 = 0, m1 = 0, norm = 0;
		for (int i = 0; i < k; i++) {
			m0 += t.data[j + i];
			m1 += (double)i * t.data[j + i];
			norm += (double)t.data[j + i] * t.data[j + i];
		}
		if (fabs(m0) > 1e-5 * sqrt(norm) * k || fabs(m1) > 1e-5 * sqrt(norm) * k * k)
			fail_msg("kernel %zu: sum %g, first moment %g (norm %g)", j / k, m0, m1, sqrt(norm));
	}
	stride_model_free(m);
}

static void test_cli_deterministic(void **state)
{
	(void)state;
	char out[600], first[600];
	path_in(out, sizeof out, "det.safetensors");
	path_in(first, sizeof first, "det_first.safetensors");
	const char *extra[] = { "--epochs", "4", "--no-checkpoint", NULL };
	TuRun r = train_cli(out, extra);
	if (r.status != 0)
		fail_msg("stride train failed:\n%s\n%s", r.out, r.err);
	tu_assert_contains(r.out, "epoch 1/4: train loss");
	tu_assert_contains(r.out, "validation (best epoch");
	tu_assert_contains(r.out, "confusion matrix");
	tu_assert_contains(r.out, "saved ");
	tu_run_free(&r);
	tu_copy(out, first);
	r = train_cli(out, extra);
	assert_int_equal(r.status, 0);
	tu_run_free(&r);
	assert_true(tu_files_equal(out, first));

	/* the model holds what a user needs to know about it */
	char err[STRIDE_ERR_LEN];
	StrideModel *m = stride_model_read(out, err);
	assert_non_null(m);
	assert_int_equal(m->task, STRIDE_TASK_CLASSIFY);
	assert_int_equal(m->window, 1024);
	assert_int_equal(m->hop, 256);
	assert_int_equal(m->n_labels, 2);
	assert_string_equal(m->labels[0], "noise");
	assert_string_equal(m->labels[1], "tone");
	assert_string_equal(stride_model_meta(m, "train.epochs"), "4");
	assert_non_null(stride_model_meta(m, "train.val_accuracy"));
	stride_model_free(m);
}

static void test_cli_resume_after_stop(void **state)
{
	(void)state;
	char full[600], part[600], ckpt[600];
	path_in(full, sizeof full, "full.safetensors");
	path_in(part, sizeof part, "part.safetensors");
	path_in(ckpt, sizeof ckpt, "part.ckpt");
	const char *a[] = { "--epochs", "6", "--no-checkpoint", NULL };
	TuRun r = train_cli(full, a);
	assert_int_equal(r.status, 0);
	tu_run_free(&r);
	const char *b[] = { "--epochs", "6", "--checkpoint", ckpt, "--stop-after", "3", NULL };
	r = train_cli(part, b);
	assert_int_equal(r.status, 0);
	tu_assert_contains(r.out, "after 3 epochs (paused by --stop-after");
	tu_run_free(&r);
	const char *c[] = { "--epochs", "6", "--checkpoint", ckpt, "--resume", ckpt, NULL };
	r = train_cli(part, c);
	if (r.status != 0)
		fail_msg("resume failed:\n%s\n%s", r.out, r.err);
	tu_assert_contains(r.out, "resuming from");
	tu_assert_contains(r.out, "epoch 4/6");
	assert_null(strstr(r.out, "epoch 3/6"));
	tu_run_free(&r);
	assert_same_tensors(full, part);

	/* a checkpoint of another network is refused */
	char other[600];
	path_in(other, sizeof other, "other_arch.json");
	char *json = malloc(strlen(ARCH) + 1);
	strcpy(json, ARCH);
	char *k = strstr(json, "\"kernel\": 32");
	memcpy(k, "\"kernel\": 16", 12);
	tu_write_text(other, json);
	free(json);
	const char *args[] = { "train", "--arch", other, "--data", fx.data_dir, "--out", part, "--window", "1024",
		               "--resume", ckpt, "--epochs", "6", NULL };
	r = tu_run(fx.stride_bin, args, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "made for another architecture");
	tu_run_free(&r);
}

static void test_cli_interrupt_and_resume(void **state)
{
	(void)state;
	char full[600], part[600], ckpt[600];
	path_in(full, sizeof full, "int_full.safetensors");
	path_in(part, sizeof part, "int_part.safetensors");
	path_in(ckpt, sizeof ckpt, "int.ckpt");
	const char *common[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--window", "1024",
		                 "--batch", "16", "--threads", "2", "--seed", "8", "--epochs", "12",
		                 "--epoch-size", "1600", "--patience", "0" };
	const int nc = (int)(sizeof common / sizeof common[0]);
	const char *args[40];
	memcpy(args, common, sizeof common);
	int n = nc;
	args[n++] = "--out";
	args[n++] = full;
	args[n++] = "--no-checkpoint";
	args[n] = NULL;
	TuRun r = tu_run(fx.stride_bin, args, fx.tmpdir);
	assert_int_equal(r.status, 0);
	tu_run_free(&r);

	n = nc;
	args[n++] = "--out";
	args[n++] = part;
	args[n++] = "--checkpoint";
	args[n++] = ckpt;
	args[n] = NULL;
	unlink(ckpt);
	pid_t pid = tu_spawn(fx.stride_bin, args, fx.tmpdir);
	/* interrupt once the first epoch's checkpoint exists: somewhere in a later epoch */
	struct stat st;
	for (int i = 0; i < 60000 && stat(ckpt, &st) != 0; i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(kill(pid, SIGINT), 0);
	r = tu_wait(pid, fx.tmpdir);
	if (r.status != 130)
		fail_msg("expected exit 130 after SIGINT, got %d:\n%s\n%s", r.status, r.out, r.err);
	tu_assert_contains(r.out, "interrupted at epoch");
	tu_assert_contains(r.out, "--resume");
	tu_run_free(&r);
	assert_int_equal(stat(part, &st), -1); /* no model from an interrupted run */

	n = nc;
	args[n++] = "--out";
	args[n++] = part;
	args[n++] = "--checkpoint";
	args[n++] = ckpt;
	args[n++] = "--resume";
	args[n++] = ckpt;
	args[n] = NULL;
	r = tu_run(fx.stride_bin, args, fx.tmpdir);
	if (r.status != 0)
		fail_msg("resume failed:\n%s\n%s", r.out, r.err);
	tu_run_free(&r);
	assert_same_tensors(full, part);
}

static void test_cli_errors(void **state)
{
	(void)state;
	char out[600], dir[600], p[700];
	path_in(out, sizeof out, "err.safetensors");

	path_in(dir, sizeof dir, "nowhere");
	const char *a1[] = { "train", "--arch", fx.arch_path, "--data", dir, "--out", out, "--window", "1024", NULL };
	TuRun r = tu_run(fx.stride_bin, a1, fx.tmpdir);
	assert_int_equal(r.status, 1);
	snprintf(p, sizeof p, "%s: no such folder", dir);
	tu_assert_contains(r.err, p);
	tu_run_free(&r);

	path_in(dir, sizeof dir, "empty_data");
	tu_mkdirs(dir);
	a1[4] = dir;
	r = tu_run(fx.stride_bin, a1, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "no class folders");
	tu_run_free(&r);

	path_in(dir, sizeof dir, "one_class");
	float x[2048];
	tu_tone(x, 2048, RATE, 300.0, 0.2);
	snprintf(p, sizeof p, "%s/only/a.wav", dir);
	tu_write_wav(p, x, 2048, RATE, 1, 0);
	r = tu_run(fx.stride_bin, a1, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "only one class folder (only)");
	tu_run_free(&r);

	const char *a2[] = { "train", "--arch", "no-such-preset", "--data", fx.data_dir, "--out", out, NULL };
	r = tu_run(fx.stride_bin, a2, fx.tmpdir);
	assert_int_equal(r.status, 2);
	tu_assert_contains(r.err, "no such file and no such preset");
	tu_assert_contains(r.err, "gate-small");
	tu_run_free(&r);

	char three[600];
	path_in(three, sizeof three, "three.json");
	char *json = malloc(strlen(ARCH) + 1);
	strcpy(json, ARCH);
	char *o = strstr(json, "\"out\": 2");
	o[7] = '3';
	tu_write_text(three, json);
	free(json);
	const char *a3[] = { "train", "--arch", three, "--data", fx.data_dir, "--out", out, "--window", "1024",
		             "--epochs", "1", NULL };
	r = tu_run(fx.stride_bin, a3, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "outputs 3 channels but the data has 2 classes");
	tu_run_free(&r);

	const char *a4[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--out", out, "--lr", "fast", NULL };
	r = tu_run(fx.stride_bin, a4, fx.tmpdir);
	assert_int_equal(r.status, 2);
	tu_assert_contains(r.err, "bad value for --lr: 'fast'");
	tu_run_free(&r);

	const char *a5[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, NULL };
	r = tu_run(fx.stride_bin, a5, fx.tmpdir);
	assert_int_equal(r.status, 2);
	tu_assert_contains(r.err, "--arch, --data and --out are required");
	tu_run_free(&r);

	const char *a6[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--out", out, "--window", "8", NULL };
	r = tu_run(fx.stride_bin, a6, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "a window of 8 samples is too short");
	tu_run_free(&r);
}

static void test_cli_val_data(void **state)
{
	(void)state;
	char val[600], val_slash[610], out[600];
	path_in(val, sizeof val, "val_data");
	snprintf(val_slash, sizeof val_slash, "%s/", val);
	path_in(out, sizeof out, "valdata.safetensors");
	tu_make_tones_noise(val, 3, 0.5, RATE, 99);
	const char *extra[] = { "--epochs", "1", "--no-checkpoint", "--val-data", val_slash, NULL };
	TuRun r = train_cli(out, extra);
	if (r.status != 0)
		fail_msg("stride train --val-data failed:\n%s\n%s", r.out, r.err);
	int n = tu_under_valgrind() ? 8 : 24;
	char want[128];
	snprintf(want, sizeof want, "split: %d files for training (", 2 * n);
	tu_assert_contains(r.out, want);
	tu_assert_contains(r.out, "6 for validation");
	tu_run_free(&r);
}

static void test_cli_gate(void **state)
{
	(void)state;
	char dir[600], p[700], out[600];
	path_in(dir, sizeof dir, "gate");
	path_in(out, sizeof out, "gate.safetensors");
	float *x = malloc(RATE * sizeof *x);
	unsigned long long s = 3;
	for (int i = 0; i < 6; i++) {
		tu_tone(x, RATE / 2, RATE, 200.0 + 40.0 * i, 0.3);
		snprintf(p, sizeof p, "%s/content/tones/c%d.wav", dir, i);
		tu_write_wav(p, x, RATE / 2, RATE, 1, 0);
		tu_noise(x, RATE / 2, 0.1, &s);
		snprintf(p, sizeof p, "%s/noise/n%d.wav", dir, i);
		tu_write_wav(p, x, RATE / 2, RATE, 1, 0);
	}
	free(x);
	const char *args[] = { "train", "--task", "gate", "--arch", fx.arch_path, "--data", dir, "--out", out,
		               "--window", "1024", "--hop", "256", "--epochs", "2", "--batch", "16",
		               "--no-checkpoint", NULL };
	TuRun r = tu_run(fx.stride_bin, args, fx.tmpdir);
	if (r.status != 0)
		fail_msg("gate training failed:\n%s\n%s", r.out, r.err);
	tu_assert_contains(r.out, "frame F1 (content)");
	tu_run_free(&r);
	char err[STRIDE_ERR_LEN];
	StrideModel *m = stride_model_read(out, err);
	assert_non_null(m);
	assert_int_equal(m->task, STRIDE_TASK_GATE);
	assert_string_equal(m->labels[0], "noise");
	assert_string_equal(m->labels[1], "content");
	assert_string_equal(stride_model_meta(m, "train.label_region"), "0 1024");
	stride_model_free(m);

	/* --label-at end: the region is the window's last N samples, saved as
	 * such, and predict times each decision by it (hop 256 at the centre of
	 * 768..1024 starts at 768 samples; the whole-window model's at 384). */
	char end_out[600], audio[700];
	path_in(end_out, sizeof end_out, "gate_end.safetensors");
	snprintf(audio, sizeof audio, "%s/content/tones/c0.wav", dir);
	const char *ea[] = { "train", "--task", "gate", "--arch", fx.arch_path, "--data", dir, "--out", end_out,
		             "--window", "1024", "--hop", "256", "--label-width", "256", "--label-at", "end",
		             "--epochs", "1", "--batch", "16", "--no-checkpoint", NULL };
	r = tu_run(fx.stride_bin, ea, fx.tmpdir);
	if (r.status != 0)
		fail_msg("gate training with --label-at end failed:\n%s\n%s", r.out, r.err);
	tu_run_free(&r);
	m = stride_model_read(end_out, err);
	assert_non_null(m);
	assert_string_equal(stride_model_meta(m, "train.label_region"), "768 1024");
	stride_model_free(m);
	const struct { const char *model; double first_start; } timed[] = { { out, 384.0 / RATE },
		                                                            { end_out, 768.0 / RATE } };
	for (int i = 0; i < 2; i++) {
		const char *pa[] = { "predict", timed[i].model, audio, NULL };
		r = tu_run(fx.stride_bin, pa, fx.tmpdir);
		if (r.status != 0)
			fail_msg("predict failed:\n%s\n%s", r.out, r.err);
		/* The first row after the header: file, start, end, ... */
		const char *row = strchr(r.out, '\n');
		assert_non_null(row);
		row = strchr(row + 1, ',');
		assert_non_null(row);
		assert_float_equal(strtod(row + 1, NULL), timed[i].first_start, 1e-4);
		tu_run_free(&r);
	}

	ea[16] = "middle";
	r = tu_run(fx.stride_bin, ea, fx.tmpdir);
	assert_int_equal(r.status, 2);
	tu_assert_contains(r.err, "bad value for --label-at: 'middle'");
	tu_run_free(&r);
}

/* --steps: a fully convolutional gate (one output step per 128-sample hop,
 * receptive field 576) trained on 64 decisions per example (8640 samples:
 * longer than the half-second files, so content plays once inside an example
 * and noise loops). It learns tones against noise, saves its one-decision
 * window and the step count, and a network that pools globally is refused. */
static void test_cli_gate_steps(void **state)
{
	(void)state;
	char dir[600], p[700], out[600], arch[600];
	path_in(dir, sizeof dir, "gate");  /* test_cli_gate's data */
	snprintf(p, sizeof p, "%s/content/tones/c0.wav", dir);
	if (access(p, R_OK) != 0)
		fail_msg("%s: test_cli_gate makes this data first", p);
	path_in(out, sizeof out, "gate_steps.safetensors");
	path_in(arch, sizeof arch, "steps_arch.json");
	tu_write_text(arch,
	              "{\"layers\": ["
	              "{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 8, \"kernel\": 64, \"stride\": 32},"
	              "{\"type\": \"relu\"},"
	              "{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 8, \"out\": 8, \"kernel\": 5, \"stride\": 4},"
	              "{\"type\": \"relu\"},"
	              "{\"type\": \"conv1d\", \"name\": \"conv3\", \"in\": 8, \"out\": 2, \"kernel\": 4},"
	              "{\"type\": \"softmax\"}]}");
	/* a file shorter than the 576-sample window but longer than a label region
	 * serves a multi-step gate; one shorter than a hop does not */
	float blip[400];
	tu_tone(blip, 400, RATE, 300.0, 0.3);
	snprintf(p, sizeof p, "%s/content/tones/short.wav", dir);
	tu_write_wav(p, blip, 400, RATE, 1, 0);
	snprintf(p, sizeof p, "%s/content/tones/tiny.wav", dir);
	tu_write_wav(p, blip, 100, RATE, 1, 0);
	const char *args[] = { "train", "--task", "gate", "--arch", arch, "--data", dir, "--out", out,
		               "--steps", "64", "--label-width", "128", "--label-at", "end", "--epochs", "20",
		               "--batch", "8", "--epoch-size", "128", "--lr", "0.01", "--snr", "20:40",
		               "--level", "-30:0", "--seed", "3", "--no-checkpoint", NULL };
	TuRun r = tu_run(fx.stride_bin, args, fx.tmpdir);
	if (r.status != 0)
		fail_msg("training with --steps failed:\n%s\n%s", r.out, r.err);
	tu_assert_contains(r.err, "tiny.wav: too short");
	assert_null(strstr(r.err, "short.wav: too short"));
	const char *f1 = strstr(r.out, "frame F1 (content): ");
	assert_non_null(f1);
	const double score = strtod(f1 + strlen("frame F1 (content): "), NULL);
	if (score < 0.9)
		fail_msg("frame F1 %.3f after training with --steps:\n%s", score, r.out);
	tu_run_free(&r);
	char err[STRIDE_ERR_LEN];
	StrideModel *m = stride_model_read(out, err);
	if (!m)
		fail_msg("%s", err);
	assert_int_equal(m->window, 576);
	assert_int_equal(m->hop, 128);
	assert_string_equal(stride_model_meta(m, "train.steps"), "64");
	assert_string_equal(stride_model_meta(m, "train.label_region"), "448 576");
	stride_model_free(m);

	/* the pooling network: one output for any length */
	args[4] = fx.arch_path;
	args[10] = "4"; /* --steps */
	r = tu_run(fx.stride_bin, args, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "one output step per hop");
	tu_run_free(&r);
	/* a classifier */
	const char *ca[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--out", out, "--steps", "4",
		             "--epochs", "1", "--no-checkpoint", NULL };
	r = tu_run(fx.stride_bin, ca, fx.tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, "--steps 4: for gates only");
	tu_run_free(&r);
}

/* Streamed cost: what K more output steps add (each step computed once). */
static double streamed_flops(const StrideNet *net, int window, int rate)
{
	int st = stride_net_total_stride(net);
	int k = rate / st > 0 ? rate / st : 1;
	return (stride_net_flops(net, window + k * st) - stride_net_flops(net, window)) * rate /
	       ((double)k * st);
}

static void test_presets(void **state)
{
	(void)state;
	int count = 0;
	for (int i = 0; stride_presets[i]; i++, count++) {
		const StridePreset *p = stride_presets[i];
		assert_ptr_equal(cli_preset_find(p->name), p);
		for (int classes = 2; classes <= 10; classes += 8) {
			char err[STRIDE_ERR_LEN];
			int n = 0;
			StrideLayerSpec *s = cli_preset_specs(p, classes, &n, err);
			assert_non_null(s);
			bool pooled = false;
			for (int l = 0; l < n; l++) {
				if (s[l].type == STRIDE_CONV1D || s[l].type == STRIDE_MAXPOOL1D ||
				    s[l].type == STRIDE_AVGPOOL1D)
					assert_int_equal(s[l].padding, 0);
				if (s[l].type == STRIDE_GLOBAL_AVGPOOL || s[l].type == STRIDE_GLOBAL_MAXPOOL)
					pooled = true;
				if (s[l].type == STRIDE_DENSE)
					assert_true(pooled);
			}
			assert_int_equal(s[n - 1].type, STRIDE_SOFTMAX);
			StrideNet *net = stride_net_new(s, n, err);
			if (!net)
				fail_msg("%s: %s", p->name, err);
			int c, t;
			assert_int_equal(stride_net_output_shape(net, p->window, &c, &t, err), 0);
			assert_int_equal(c, classes);
			assert_int_equal(t, 1);
			assert_int_equal(p->hop % stride_net_total_stride(net), 0);
			double f = streamed_flops(net, p->window, 16000);
			printf("%s (%d classes): %.2f MFLOP/s streamed, %zu parameters\n", p->name, classes,
			       f / 1e6, stride_net_n_params(net));
			assert_true(f <= 20e6);
			assert_true(f > 1e6);
			stride_net_free(net);
			free(s);
		}
	}
	assert_int_equal(count, 3);
	assert_non_null(cli_preset_find("gate-small"));
	assert_non_null(cli_preset_find("gate-log"));
	assert_non_null(cli_preset_find("genre-small"));
	assert_null(cli_preset_find("huge"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_learns_synthetic_task),
		cmocka_unit_test(test_cli_deterministic),
		cmocka_unit_test(test_cli_resume_after_stop),
		cmocka_unit_test(test_cli_interrupt_and_resume),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_cli_val_data),
		cmocka_unit_test(test_cli_gate),
		cmocka_unit_test(test_cli_gate_steps),
		cmocka_unit_test(test_cli_dc_zeros_held),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
