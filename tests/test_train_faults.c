/* The trainer under faults: corrupt files in the dataset, an output path that
 * cannot be written, a disk that fills up during the save, and Ctrl-C. In each
 * case `stride train` must say what went wrong and where, and must never leave
 * a half-written model or damage the model already at the output path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include "train_util.h"

#include "stride.h"

#define RATE 16000
/* The interrupted run: epochs of EPOCH_SIZE windows. */
#define EPOCHS "12"
#define EPOCH_SIZE "20000"

static TuTrainFixture fx;

/* Small enough to train an epoch in well under a second. */
static const char *ARCH =
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 4, \"kernel\": 32, \"stride\": 8},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 4, \"out\": 2},"
	"{\"type\": \"softmax\"}]}";

/* snprintf into an array, failing the test on a path that does not fit (a cut
 * path would test the wrong file). */
#define FMT(buf, ...)                                                              \
	do {                                                                       \
		if (snprintf(buf, sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf))    \
			fail_msg("path too long: %s", #buf);                       \
	} while (0)

#define path_in(buf, rel) FMT(buf, "%s/%s", fx.tmpdir, rel)

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	return tu_train_fixture(&fx, "train_faults", ARCH, 6, 0.5, RATE, 21);
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(fx.tmpdir);
	return 0;
}

/* `stride train` on dir with the small network, plus extra (NULL-terminated). */
static TuRun train(const char *dir, const char *out, const char *const *extra)
{
	const char *args[48] = { "train", "--arch", fx.arch_path, "--data", dir, "--out", out,
		                 "--window", "1024", "--hop", "256", "--batch", "8", "--threads", "1",
		                 "--seed", "4", "--epochs", "1" };
	int n = 19;
	for (int i = 0; extra && extra[i] && n < 47; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return tu_run(fx.stride_bin, args, fx.tmpdir);
}

/* Fails unless a line of text says "skipped <path>". */
static void assert_skipped(const char *text, const char *path)
{
	char want[600];
	FMT(want, "skipped %s", path);
	if (!strstr(text, want))
		fail_msg("no \"%s\" in:\n%s", want, text);
}

/* A float WAV of a tone with one NaN sample in the middle. */
static void write_nan_wav(const char *path)
{
	float x[4096];
	tu_tone(x, 4096, RATE, 440.0, 0.3);
	memcpy(&x[2000], &(uint32_t){ 0x7fc00000u }, sizeof x[0]);
	tu_write_wav(path, x, 4096, RATE, 1, 1);
}

/* The corrupt files, each in a class folder beside good ones. Returns how many. */
static int add_corrupt_files(const char *dir, char paths[][600])
{
	int n = 0;
	uint8_t junk[4096];
	unsigned long long s = 77;
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(tu_rand(&s) * 256.0);

	/* random bytes under a .wav name */
	FMT(paths[n], "%s/tone/garbage.wav", dir);
	write_bytes(paths[n++], junk, sizeof junk);
	/* nothing at all */
	FMT(paths[n], "%s/noise/empty.wav", dir);
	write_bytes(paths[n++], "", 0);
	/* a NaN sample would poison every gradient it touches */
	FMT(paths[n], "%s/noise/nan.wav", dir);
	write_nan_wav(paths[n++]);

	/* a real WAV's header and a few samples, cut off: its data chunk says far
	 * more than is there */
	char good[600];
	FMT(good, "%s/tone/t000.wav", dir);
	char *whole = tu_slurp(good);
	assert_non_null(whole);
	struct stat st;
	assert_int_equal(stat(good, &st), 0);
	assert_true(st.st_size > 200);
	FMT(paths[n], "%s/tone/header_only.wav", dir);
	write_bytes(paths[n++], whole, 44);
	free(whole);
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_corrupt_files_are_named_and_skipped(void **state)
{
	(void)state;
	char dir[600], out[600], paths[8][600];
	path_in(dir, "mixed");
	tu_make_tones_noise(dir, 4, 0.5, RATE, 5);
	const int n_bad = add_corrupt_files(dir, paths);
	path_in(out, "mixed.safetensors");
	const char *extra[] = { "--no-checkpoint", NULL };
	TuRun r = train(dir, out, extra);
	if (r.status != 0)
		fail_msg("stride train failed:\n%s\n%s", r.out, r.err);
	for (int i = 0; i < n_bad; i++)
		assert_skipped(r.err, paths[i]);
	/* trained on the 8 good files only, and says so */
	char want[600];
	FMT(want, "8 files used, %d skipped", n_bad);
	tu_assert_contains(r.out, want);
	tu_run_free(&r);
	assert_true(exists(out));

	/* nothing good left: refused, not a model of nothing */
	char bad[600], p[600];
	path_in(bad, "all_bad");
	for (int i = 0; i < 2; i++) {
		FMT(p, "%s/%s/x.wav", bad, i ? "tone" : "noise");
		tu_write_text(p, "RIFF, but not really");
	}
	path_in(out, "all_bad.safetensors");
	r = train(bad, out, extra);
	assert_int_equal(r.status, 1);
	FMT(p, "%s/tone/x.wav", bad);
	assert_skipped(r.err, p);
	tu_assert_contains(r.err, "no usable audio files (every file was skipped");
	tu_run_free(&r);
	assert_false(exists(out));
}

/* Output paths that cannot be written fail at once, naming the path, before
 * any training time is spent, and leave nothing behind. */
static void test_unwritable_output(void **state)
{
	(void)state;
	char file[600], out[600], ckpt[600], tmp[600];
	path_in(file, "a_file");
	tu_write_text(file, "not a folder\n");
	char targets[3][600];
	path_in(targets[0], "no/such/folder/m.safetensors");
	FMT(targets[1], "%s/m.safetensors", file);
	path_in(targets[2], "data"); /* a folder */
	for (int i = 0; i < 3; i++) {
		FMT(out, "%s", targets[i]);
		TuRun r = train(fx.data_dir, out, NULL);
		if (r.status != 1)
			fail_msg("--out %s: exit %d, expected 1:\n%s\n%s", out, r.status, r.out, r.err);
		tu_assert_contains(r.err, out);
		if (strstr(r.out, "epoch 1/"))
			fail_msg("--out %s: trained before finding the path unwritable:\n%s", out, r.out);
		tu_run_free(&r);
		FMT(ckpt, "%s.ckpt", out);
		FMT(tmp, "%s.tmp", out);
		assert_false(exists(ckpt));
		assert_false(exists(tmp));
	}
	struct stat st;
	assert_int_equal(stat(targets[2], &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	/* a good output but a checkpoint path that cannot be written */
	path_in(out, "ok.safetensors");
	path_in(ckpt, "no/such/folder/run.ckpt");
	const char *extra[] = { "--checkpoint", ckpt, NULL };
	TuRun r = train(fx.data_dir, out, extra);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, ckpt);
	assert_null(strstr(r.out, "epoch 1/"));
	tu_run_free(&r);
	assert_false(exists(out));
}

/* `stride train` in a child whose files may not grow past limit bytes (the
 * disk is "full" there): writes beyond it fail with EFBIG instead of the
 * SIGXFSZ that would kill the process. Output goes to a pipe, which the
 * limit does not touch. Returns the exit status; *text gets stdout+stderr. */
static int train_with_file_limit(const char *out, rlim_t limit, const char *const *extra,
                                 char **text)
{
	const char *args[48] = { fx.stride_bin, "train", "--arch", fx.arch_path, "--data", fx.data_dir,
		                 "--out", out, "--window", "1024", "--hop", "256", "--batch", "8",
		                 "--threads", "1", "--seed", "9", "--epochs", "2" };
	int n = 20;
	for (int i = 0; extra && extra[i] && n < 47; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { limit, limit };
		if (dup2(fd[1], 1) < 0 || dup2(fd[1], 2) < 0 || setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
		    signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
			_exit(127);
		close(fd[0]);
		close(fd[1]);
		execv(fx.stride_bin, (char *const *)args);
		_exit(127);
	}
	close(fd[1]);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t got = read(fd[0], buf + len, cap - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	close(fd[0]);
	int ws = 0;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	*text = buf;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_full_disk_keeps_previous_model(void **state)
{
	(void)state;
	char out[600], copy[600], tmp[600], ckpt[600], ckpt_copy[600];
	path_in(out, "full.safetensors");
	path_in(copy, "full_before.safetensors");
	FMT(tmp, "%s.tmp", out);
	FMT(ckpt, "%s.ckpt", out);
	path_in(ckpt_copy, "full_before.ckpt");

	/* the previous model and its checkpoint, written with room to spare */
	TuRun r = train(fx.data_dir, out, NULL);
	if (r.status != 0)
		fail_msg("stride train failed:\n%s\n%s", r.out, r.err);
	tu_run_free(&r);
	tu_copy(out, copy);
	tu_copy(ckpt, ckpt_copy);
	const off_t model_bytes = file_size(out);
	assert_true(model_bytes > 1024);

	/* the save of the model runs out of room half way */
	char *text = NULL;
	const char *no_ckpt[] = { "--no-checkpoint", NULL };
	int st = train_with_file_limit(out, (rlim_t)(model_bytes / 2), no_ckpt, &text);
	if (st != 1)
		fail_msg("full disk: exit %d, expected 1:\n%s", st, text);
	tu_assert_contains(text, out);
	tu_assert_contains(text, strerror(EFBIG));
	free(text);
	assert_true(tu_files_equal(out, copy));
	assert_false(exists(tmp));

	/* the first checkpoint already does not fit: the run stops there with the
	 * earlier checkpoint and model as they were */
	const off_t ckpt_bytes = file_size(ckpt);
	st = train_with_file_limit(out, (rlim_t)(ckpt_bytes / 2), NULL, &text);
	if (st != 1)
		fail_msg("full disk, checkpoint: exit %d, expected 1:\n%s", st, text);
	tu_assert_contains(text, ckpt);
	tu_assert_contains(text, strerror(EFBIG));
	assert_null(strstr(text, "epoch 2/"));
	free(text);
	assert_true(tu_files_equal(out, copy));
	assert_true(tu_files_equal(ckpt, ckpt_copy));
	assert_false(exists(tmp));
	FMT(tmp, "%s.ckpt.tmp", out);
	assert_false(exists(tmp));
}

/* Ctrl-C during training: exit 130, no model and no temporary file at the
 * output path (the one there before stays as it was), a checkpoint that
 * --resume continues from to the end. */
static void test_interrupt_then_resume(void **state)
{
	(void)state;
	char out[600], copy[600], ckpt[600], tmp[600];
	path_in(out, "int.safetensors");
	path_in(copy, "int_before.safetensors");
	path_in(ckpt, "int.ckpt");
	FMT(tmp, "%s.tmp", out);
	TuRun r = train(fx.data_dir, out, NULL);
	assert_int_equal(r.status, 0);
	tu_run_free(&r);
	tu_copy(out, copy);

	/* long enough epochs that the signal, sent once the first checkpoint is
	 * there, lands well before the end */
	const char *args[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--out", out,
		               "--window", "1024", "--hop", "256", "--batch", "8", "--threads", "1",
		               "--seed", "6", "--epochs", EPOCHS, "--epoch-size", EPOCH_SIZE,
		               "--patience", "0", "--checkpoint", ckpt, NULL };
	pid_t pid = tu_spawn(fx.stride_bin, args, fx.tmpdir);
	for (int i = 0; i < 60000 && !exists(ckpt); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	assert_true(exists(ckpt));
	assert_int_equal(kill(pid, SIGINT), 0);
	r = tu_wait(pid, fx.tmpdir);
	if (r.status != 130)
		fail_msg("expected exit 130 after SIGINT, got %d:\n%s\n%s", r.status, r.out, r.err);
	tu_assert_contains(r.out, "interrupted at epoch");
	int epoch = 0;
	const char *at = strstr(r.out, "interrupted at epoch ");
	assert_non_null(at);
	epoch = atoi(at + strlen("interrupted at epoch "));
	assert_true(epoch >= 2 && epoch <= atoi(EPOCHS));
	printf("interrupted in epoch %d of %s\n", epoch, EPOCHS);
	tu_run_free(&r);
	assert_true(tu_files_equal(out, copy));
	assert_false(exists(tmp));

	char err[STRIDE_ERR_LEN] = "";
	StrideTensorFile *f = stride_tensorfile_read(ckpt, err);
	if (!f)
		fail_msg("checkpoint after SIGINT: %s", err);
	assert_non_null(stride_tensorfile_meta(f, "stride.checkpoint"));
	stride_tensorfile_free(f);

	/* resumed, it picks up in the interrupted epoch and trains to the end */
	const char *resume[] = { "train", "--arch", fx.arch_path, "--data", fx.data_dir, "--out", out,
		                 "--window", "1024", "--hop", "256", "--batch", "8", "--threads", "1",
		                 "--seed", "6", "--epochs", EPOCHS, "--epoch-size", EPOCH_SIZE,
		                 "--patience", "0", "--checkpoint", ckpt, "--resume", ckpt, NULL };
	r = tu_run(fx.stride_bin, resume, fx.tmpdir);
	if (r.status != 0)
		fail_msg("resume failed:\n%s\n%s", r.out, r.err);
	char want[600];
	FMT(want, "resuming from %s at epoch %d", ckpt, epoch);
	tu_assert_contains(r.out, want);
	FMT(want, "after %s epochs;", EPOCHS);
	tu_assert_contains(r.out, want);
	tu_run_free(&r);
	assert_false(tu_files_equal(out, copy));
	StrideModel *m = stride_model_read(out, err);
	if (!m)
		fail_msg("model after resume: %s", err);
	stride_model_free(m);
	assert_false(exists(tmp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corrupt_files_are_named_and_skipped),
		cmocka_unit_test(test_unwritable_output),
		cmocka_unit_test(test_full_disk_keeps_previous_model),
		cmocka_unit_test(test_interrupt_then_resume),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
