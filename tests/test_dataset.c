/* The trainer's data side: dataset folders, skips and errors, label tracks,
 * the validation split, example generation and gate labels, and the small
 * pieces the loop uses (optimisers against PyTorch, schedule, metrics,
 * progress lines). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "train_util.h"

#include "augment.h"
#include "dataset.h"
#include "metrics.h"
#include "optim.h"
#include "progress.h"

#define RATE 16000
#define WINDOW 1024
#define HOP 256

static char tmpdir[256];

static void path_in(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", tmpdir, rel);
}

/* Loads with warnings captured into *warn (malloc'd). */
static StrideDataset *load(const char *dir, StrideTask task, bool need_two, char **warn, char *err)
{
	size_t wl = 0;
	char *wtext = NULL;
	FILE *w = open_memstream(&wtext, &wl);
	assert_non_null(w);
	StrideDatasetOptions opt = { task, RATE, WINDOW, 2, NULL, w, NULL, 0, need_two, false };
	StrideDataset *ds = cli_dataset_load(dir, &opt, err);
	fclose(w);
	if (warn)
		*warn = wtext;
	else
		free(wtext);
	return ds;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/stride_test_dataset_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmpdir);
	return 0;
}

/* ------------------------------------------------------------------------ */

static void test_classify_folders(void **state)
{
	(void)state;
	char dir[512], p[600];
	path_in(dir, sizeof dir, "cls");
	tu_make_tones_noise(dir, 3, 0.5, RATE, 1);
	/* a stereo file at 44.1 kHz: mixed to mono, resampled */
	long n44 = 44100 / 2;
	float *st = malloc((size_t)n44 * 2 * sizeof *st);
	for (long i = 0; i < n44; i++) {
		st[2 * i] = (float)(0.4 * sin(2.0 * TU_PI * 440.0 * i / 44100.0));
		st[2 * i + 1] = 0.5f * st[2 * i];
	}
	snprintf(p, sizeof p, "%s/tone/deep/stereo.wav", dir);
	tu_write_wav(p, st, n44, 44100, 2, 0);
	free(st);
	/* not audio, passed over quietly; a label track in a classifier is counted */
	snprintf(p, sizeof p, "%s/tone/notes.md", dir);
	tu_write_text(p, "# notes\n");
	snprintf(p, sizeof p, "%s/tone/t000.txt", dir);
	tu_write_text(p, "0\t0.1\tx\n");

	char err[STRIDE_ERR_LEN] = "", *warn = NULL;
	StrideDataset *ds = load(dir, STRIDE_TASK_CLASSIFY, true, &warn, err);
	assert_non_null(ds);
	assert_string_equal(warn, "");
	free(warn);
	assert_int_equal(ds->n_classes, 2);
	assert_string_equal(ds->classes[0], "noise");
	assert_string_equal(ds->classes[1], "tone");
	assert_int_equal(ds->n_clips, 7);
	assert_int_equal(ds->n_skipped, 0);
	assert_int_equal(ds->n_tracks_ignored, 1);
	int stereo = -1;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		assert_int_equal(c->kind, STRIDE_CLIP_CLASS);
		assert_string_equal(ds->classes[c->label], strncmp(c->name, "tone/", 5) == 0 ? "tone" : "noise");
		if (strcmp(c->name, "tone/deep/stereo.wav") == 0)
			stereo = i;
		else
			assert_int_equal(c->frames, RATE / 2);
	}
	assert_true(stereo >= 0);
	const StrideClip *c = &ds->clips[stereo];
	/* 0.5 s at 16 kHz, give or take the resampler's edge */
	assert_true(c->frames >= RATE / 2 - 2 && c->frames <= RATE / 2 + 2);
	/* the mean of the channels: a 440 Hz sine of amplitude 0.3 */
	assert_true(fabs(c->peak - 0.3) < 0.01);
	assert_true(fabs(c->rms - 0.3 / sqrt(2.0)) < 0.005);
	cli_dataset_free(ds);

	/* a model's label order: folders are mapped by name */
	const char *order[] = { "tone", "speech", "noise" };
	StrideDatasetOptions opt = { STRIDE_TASK_CLASSIFY, RATE, WINDOW, 1, NULL, NULL, order, 3, false, false };
	ds = cli_dataset_load(dir, &opt, err);
	assert_non_null(ds);
	assert_int_equal(ds->n_classes, 3);
	assert_string_equal(ds->classes[0], "tone");
	for (int i = 0; i < ds->n_clips; i++)
		assert_int_equal(ds->clips[i].label, strncmp(ds->clips[i].name, "tone/", 5) == 0 ? 0 : 2);
	cli_dataset_free(ds);
	const char *other[] = { "speech", "music" };
	opt.classes = other;
	opt.n_classes = 2;
	assert_null(cli_dataset_load(dir, &opt, err));
	tu_assert_contains(err, "\"noise\" is not one of the model's 2 labels");

	/* shards (a distributed run's processes, python/stride_torch): every audio file in
	 * exactly one of them, every shards-th in name order, the classes all there */
	StrideDatasetOptions all = { STRIDE_TASK_CLASSIFY, RATE, WINDOW, 1, NULL, NULL, NULL, 0, false,
		                     false };
	StrideDataset *whole = cli_dataset_load(dir, &all, err);
	assert_non_null(whole);
	int seen[16] = { 0 }, total = 0;
	for (int k = 0; k < 3; k++) {
		ds = cli_dataset_load_shard(dir, &all, k, 3, err);
		assert_non_null(ds);
		assert_int_equal(ds->n_classes, 2);
		total += ds->n_clips;
		for (int i = 0; i < ds->n_clips; i++) {
			int at = -1;
			for (int j = 0; j < whole->n_clips; j++)
				if (strcmp(whole->clips[j].name, ds->clips[i].name) == 0)
					at = j;
			assert_true(at >= 0 && at % 3 == k);
			seen[at]++;
		}
		cli_dataset_free(ds);
	}
	assert_int_equal(total, whole->n_clips);
	for (int j = 0; j < whole->n_clips; j++)
		assert_int_equal(seen[j], 1);
	cli_dataset_free(whole);
}

static void test_bad_files_are_named_and_skipped(void **state)
{
	(void)state;
	char dir[512], p[700];
	path_in(dir, sizeof dir, "bad");
	tu_make_tones_noise(dir, 2, 0.25, RATE, 2);
	snprintf(p, sizeof p, "%s/tone/zero_bytes.wav", dir);
	tu_write_text(p, "");
	snprintf(p, sizeof p, "%s/tone/garbage.wav", dir);
	tu_write_text(p, "this is not a sound file at all, just text pretending to be one\n");
	float *x = calloc(RATE, sizeof *x);
	snprintf(p, sizeof p, "%s/noise/no_frames.wav", dir);
	tu_write_wav(p, x, 0, RATE, 1, 0);
	snprintf(p, sizeof p, "%s/noise/silent.wav", dir);
	tu_write_wav(p, x, RATE / 4, RATE, 1, 0);
	tu_tone(x, WINDOW - 1, RATE, 300.0, 0.3);
	snprintf(p, sizeof p, "%s/tone/short.wav", dir);
	tu_write_wav(p, x, WINDOW - 1, RATE, 1, 0);
	tu_tone(x, RATE / 4, RATE, 300.0, 0.3);
	x[100] = NAN;
	snprintf(p, sizeof p, "%s/tone/nan.wav", dir);
	tu_write_wav(p, x, RATE / 4, RATE, 1, 1);
	free(x);

	char err[STRIDE_ERR_LEN] = "", *warn = NULL;
	StrideDataset *ds = load(dir, STRIDE_TASK_CLASSIFY, true, &warn, err);
	assert_non_null(ds);
	assert_int_equal(ds->n_clips, 4);
	assert_int_equal(ds->n_skipped, 6);
	snprintf(p, sizeof p, "skipped %s/tone/zero_bytes.wav: empty file (0 bytes)", dir);
	tu_assert_contains(warn, p);
	snprintf(p, sizeof p, "skipped %s/tone/garbage.wav: cannot read audio", dir);
	tu_assert_contains(warn, p);
	snprintf(p, sizeof p, "skipped %s/noise/no_frames.wav: empty (no samples)", dir);
	tu_assert_contains(warn, p);
	snprintf(p, sizeof p, "skipped %s/noise/silent.wav: all silent", dir);
	tu_assert_contains(warn, p);
	snprintf(p, sizeof p, "skipped %s/tone/short.wav: too short (%d samples", dir, WINDOW - 1);
	tu_assert_contains(warn, p);
	snprintf(p, sizeof p, "skipped %s/tone/nan.wav: sample 100 is not a finite number", dir);
	tu_assert_contains(warn, p);
	free(warn);
	cli_dataset_free(ds);
}

static void test_dataset_errors(void **state)
{
	(void)state;
	char dir[512], p[700], err[STRIDE_ERR_LEN];
	path_in(dir, sizeof dir, "missing");
	assert_null(load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err));
	snprintf(p, sizeof p, "%s: no such folder", dir);
	tu_assert_contains(err, p);

	path_in(dir, sizeof dir, "a_file");
	tu_write_text(dir, "x");
	assert_null(load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err));
	tu_assert_contains(err, "not a folder");

	path_in(dir, sizeof dir, "empty");
	tu_mkdirs(dir);
	assert_null(load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err));
	snprintf(p, sizeof p, "%s: no class folders", dir);
	tu_assert_contains(err, p);

	path_in(dir, sizeof dir, "one");
	float x[2048];
	tu_tone(x, 2048, RATE, 200.0, 0.3);
	snprintf(p, sizeof p, "%s/only/a.wav", dir);
	tu_write_wav(p, x, 2048, RATE, 1, 0);
	assert_null(load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err));
	tu_assert_contains(err, "only one class folder (only)");

	/* two folders, but one holds nothing usable */
	snprintf(p, sizeof p, "%s/other/bad.wav", dir);
	tu_write_text(p, "nope");
	char *warn = NULL;
	assert_null(load(dir, STRIDE_TASK_CLASSIFY, true, &warn, err));
	tu_assert_contains(err, "class \"other\" has no usable files");
	tu_assert_contains(warn, "other/bad.wav");
	free(warn);

	/* every file bad */
	path_in(dir, sizeof dir, "allbad");
	snprintf(p, sizeof p, "%s/a/x.wav", dir);
	tu_mkdirs(dir);
	tu_write_text(p, "");
	snprintf(p, sizeof p, "%s/b/y.wav", dir);
	tu_write_text(p, "");
	assert_null(load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err));
	tu_assert_contains(err, "no usable audio files");

	/* gates: content and negatives needed */
	path_in(dir, sizeof dir, "gate_no_content");
	snprintf(p, sizeof p, "%s/noise/n.wav", dir);
	tu_write_wav(p, x, 2048, RATE, 1, 0);
	assert_null(load(dir, STRIDE_TASK_GATE, true, NULL, err));
	tu_assert_contains(err, "no content for the gate");
	path_in(dir, sizeof dir, "gate_no_noise");
	snprintf(p, sizeof p, "%s/content/speech/c.wav", dir);
	tu_write_wav(p, x, 2048, RATE, 1, 0);
	assert_null(load(dir, STRIDE_TASK_GATE, true, NULL, err));
	tu_assert_contains(err, "nothing for the gate to close on");
}

static void test_label_tracks(void **state)
{
	(void)state;
	char p[600];
	path_in(p, sizeof p, "track_good.txt");
	/* CRLF, a spectral-selection line, a point label, overlaps, a region past the end */
	tu_write_text(p, "0.5\t1.0\tspeech\r\n"
	                 "\\\t100.0\t2000.0\r\n"
	                 "\r\n"
	                 "0.9\t1.25\tmore\n"
	                 "2.0\t2.0\tpoint\n"
	                 "0.1 \t 0.2\t\n"
	                 "2.5\t9\tlong\n");
	StrideSpan *s = NULL;
	int n = 0;
	char err[STRIDE_ERR_LEN];
	int bad = cli_label_track_read(p, RATE, 3 * RATE, &s, &n, NULL, err);
	assert_int_equal(bad, 0);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].start, RATE / 10);
	assert_int_equal(s[0].end, RATE / 5);
	assert_int_equal(s[1].start, RATE / 2);
	assert_int_equal(s[1].end, RATE * 5 / 4);
	assert_int_equal(s[2].start, RATE * 5 / 2);
	assert_int_equal(s[2].end, 3 * RATE);
	free(s);

	path_in(p, sizeof p, "track_bad.txt");
	tu_write_text(p, "0.5\t1.0\tok\n"
	                 "abc\t1.0\tx\n"
	                 "1.0\n"
	                 "2.0\t1.5\tbackwards\n"
	                 "-1\t0.5\tnegative\n"
	                 "7.0\t8.0\tafter the end\n"
	                 "1.0\t1.5x\tjunk\n");
	size_t wl = 0;
	char *warn = NULL;
	FILE *w = open_memstream(&warn, &wl);
	bad = cli_label_track_read(p, RATE, 3 * RATE, &s, &n, w, err);
	fclose(w);
	free(s);
	assert_int_equal(bad, 6);
	char line[700];
	snprintf(line, sizeof line, "%s:2: start \"abc\" is not a number", p);
	tu_assert_contains(warn, line);
	snprintf(line, sizeof line, "%s:3: expected start<TAB>end<TAB>label", p);
	tu_assert_contains(warn, line);
	snprintf(line, sizeof line, "%s:4: end 1.5 s is before start 2 s", p);
	tu_assert_contains(warn, line);
	snprintf(line, sizeof line, "%s:5: negative time", p);
	tu_assert_contains(warn, line);
	snprintf(line, sizeof line, "%s:6: region starts at 7 s, after the end of the audio", p);
	tu_assert_contains(warn, line);
	snprintf(line, sizeof line, "%s:7: end \"1.5x\" is not a number", p);
	tu_assert_contains(warn, line);
	free(warn);

	path_in(p, sizeof p, "no_such_track.txt");
	assert_int_equal(cli_label_track_read(p, RATE, RATE, &s, &n, NULL, err), -1);
	tu_assert_contains(err, "no_such_track.txt");
}

/* A gate folder: content, noise, one tracked file, one with a broken track. */
static void make_gate_dir(const char *dir)
{
	char p[700];
	float *x = malloc(3 * RATE * sizeof *x);
	unsigned long long s = 7;
	for (int i = 0; i < 3; i++) {
		tu_tone(x, RATE, RATE, 200.0 + 50 * i, 0.3);
		snprintf(p, sizeof p, "%s/content/tones/c%d.wav", dir, i);
		tu_write_wav(p, x, RATE, RATE, 1, 0);
		tu_noise(x, RATE, 0.1, &s);
		snprintf(p, sizeof p, "%s/noise/n%d.wav", dir, i);
		tu_write_wav(p, x, RATE, RATE, 1, 0);
	}
	tu_noise(x, 3 * RATE, 0.01, &s);
	for (long i = RATE; i < 2 * RATE; i++)
		x[i] += (float)(0.3 * sin(2.0 * TU_PI * 300.0 * i / RATE));
	snprintf(p, sizeof p, "%s/labelled/lab.wav", dir);
	tu_write_wav(p, x, 3 * RATE, RATE, 1, 0);
	snprintf(p, sizeof p, "%s/labelled/lab.txt", dir);
	tu_write_text(p, "1.000000\t2.000000\tcontent\n");
	snprintf(p, sizeof p, "%s/labelled/broken.wav", dir);
	tu_write_wav(p, x, 3 * RATE, RATE, 1, 0);
	snprintf(p, sizeof p, "%s/labelled/broken.txt", dir);
	tu_write_text(p, "1.0\t2.0\tcontent\nnonsense\n");
	free(x);
}

static void test_gate_folders_and_labels(void **state)
{
	(void)state;
	char dir[512], p[700], err[STRIDE_ERR_LEN], *warn = NULL;
	path_in(dir, sizeof dir, "gate");
	make_gate_dir(dir);
	StrideDataset *ds = load(dir, STRIDE_TASK_GATE, true, &warn, err);
	assert_non_null(ds);
	snprintf(p, sizeof p, "%s/labelled/broken.txt:2: expected start<TAB>end<TAB>label", dir);
	tu_assert_contains(warn, p);
	snprintf(p, sizeof p, "skipped %s/labelled/broken.wav: its label track", dir);
	tu_assert_contains(warn, p);
	free(warn);
	assert_int_equal(ds->n_clips, 7);
	assert_string_equal(ds->classes[STRIDE_GATE_NOISE], "noise");
	assert_string_equal(ds->classes[STRIDE_GATE_CONTENT], "content");
	int tracked = -1;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (strncmp(c->name, "content/", 8) == 0)
			assert_int_equal(c->kind, STRIDE_CLIP_CONTENT);
		else if (strncmp(c->name, "noise/", 6) == 0)
			assert_int_equal(c->kind, STRIDE_CLIP_NOISE);
		else {
			assert_string_equal(c->name, "labelled/lab.wav");
			assert_int_equal(c->kind, STRIDE_CLIP_TRACKED);
			tracked = i;
		}
	}
	assert_true(tracked >= 0);
	const StrideClip *c = &ds->clips[tracked];
	assert_int_equal(c->n_spans, 1);
	/* the level of a tracked file is that of its content: the sine's 0.3/sqrt(2) */
	assert_true(fabs(c->rms - 0.3 / sqrt(2.0)) < 0.01);

	StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_GATE);
	StrideExamples ex;
	assert_int_equal(cli_examples_init(&ex, ds, STRIDE_USE_TRAIN, WINDOW, (WINDOW - HOP) / 2, (WINDOW - HOP) / 2 + HOP, &aug, NULL, err), 0);
	assert_int_equal(ex.region_start, (WINDOW - HOP) / 2);
	assert_int_equal(ex.region_end, (WINDOW - HOP) / 2 + HOP);
	/* content from sample RATE: a window is content once half its centre hop is */
	long long first_content = RATE - ex.region_start - HOP / 2;
	assert_int_equal(cli_example_label(&ex, tracked, first_content - 1), STRIDE_GATE_NOISE);
	assert_int_equal(cli_example_label(&ex, tracked, first_content), STRIDE_GATE_CONTENT);
	long long last_content = 2 * RATE - ex.region_start - HOP / 2;
	assert_int_equal(cli_example_label(&ex, tracked, last_content), STRIDE_GATE_CONTENT);
	assert_int_equal(cli_example_label(&ex, tracked, last_content + 1), STRIDE_GATE_NOISE);

	/* one pass: the tracked file's windows and one mix per window of content and noise */
	int *refs = NULL;
	long long n = 0;
	assert_int_equal(cli_examples_refs(&ex, &refs, &n), 0);
	long long mixes = 0, of_track = 0;
	for (long long i = 0; i < n; i++) {
		mixes += refs[i] == -1;
		of_track += refs[i] == tracked;
	}
	assert_int_equal(of_track, 3 * RATE / WINDOW);
	assert_int_equal(mixes, 6 * RATE / WINDOW);
	free(refs);

	/* mixes: labels follow where content is; levels follow the config */
	float x[WINDOW];
	ex.aug.content_prob = 1.0;
	ex.aug.partial_prob = 0.0;
	ex.aug.snr_min_db = ex.aug.snr_max_db = 120.0;
	ex.aug.level_min_db = ex.aug.level_max_db = -40.0;
	ex.aug.polarity = false;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(cli_example_make(&ex, -1, -1, 1000 + (uint64_t)i, x, NULL), STRIDE_GATE_CONTENT);
		double e = 0.0;
		for (int j = 0; j < WINDOW; j++)
			e += (double)x[j] * x[j];
		double db = 10.0 * log10(e / WINDOW);
		assert_true(fabs(db + 40.0) < 1.0);
	}
	ex.aug.content_prob = 0.0;
	for (int i = 0; i < 20; i++)
		assert_int_equal(cli_example_make(&ex, -1, -1, 2000 + (uint64_t)i, x, NULL), STRIDE_GATE_NOISE);
	/* partial content: the label agrees with the centre rule, both classes occur */
	ex.aug.content_prob = 1.0;
	ex.aug.partial_prob = 1.0;
	ex.aug.noise_prob = 0.0; /* white noise or silence under the content */
	int seen[2] = { 0, 0 };
	for (int i = 0; i < 200; i++)
		seen[cli_example_make(&ex, -1, -1, 3000 + (uint64_t)i, x, NULL)]++;
	assert_true(seen[0] > 20 && seen[1] > 20);
	/* the same seed makes the same example */
	float y[WINDOW];
	ex.aug = cli_aug_defaults(STRIDE_TASK_GATE);
	int la = cli_example_make(&ex, -1, -1, 42, x, NULL);
	int lb = cli_example_make(&ex, -1, -1, 42, y, NULL);
	assert_int_equal(la, lb);
	assert_memory_equal(x, y, sizeof x);
	cli_examples_free(&ex);
	cli_dataset_free(ds);
}

/* Energy of x over the label region [a, b). */
static double region_energy(const float *x, int a, int b)
{
	double e = 0.0;
	for (int i = a; i < b; i++)
		e += (double)x[i] * x[i];
	return e / (b - a);
}

/* A window that lands in a pause of a content file, or whose content is drowned
 * by the noise, is labelled noise (augment.c, content_is_audible): otherwise the
 * gate is taught that some windows of pure noise are content. */
static void test_gate_pauses_and_drowned_content(void **state)
{
	(void)state;
	char dir[512], p[700], err[STRIDE_ERR_LEN], *warn = NULL;
	path_in(dir, sizeof dir, "gate_pauses");
	float *x = calloc(2 * RATE, sizeof *x);
	tu_tone(x, RATE, RATE, 300.0, 0.3); /* a second of tone, then a second of pause */
	snprintf(p, sizeof p, "%s/content/c.wav", dir);
	tu_write_wav(p, x, 2 * RATE, RATE, 1, 0);
	unsigned long long seed = 3;
	tu_noise(x, RATE, 0.1, &seed);
	snprintf(p, sizeof p, "%s/noise/n.wav", dir);
	tu_write_wav(p, x, RATE, RATE, 1, 0);
	free(x);
	StrideDataset *ds = load(dir, STRIDE_TASK_GATE, true, &warn, err);
	assert_non_null(ds);
	free(warn);

	StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_GATE);
	assert_false(aug.audible); /* opt in: --audible-snr */
	aug.content_prob = 1.0;
	aug.partial_prob = 0.0;
	aug.noise_prob = 1.0; /* always the noise file under the content */
	aug.level_min_db = aug.level_max_db = -20.0;
	aug.polarity = false;
	StrideExamples ex;
	assert_int_equal(cli_examples_init(&ex, ds, STRIDE_USE_TRAIN, WINDOW, (WINDOW - HOP) / 2, (WINDOW - HOP) / 2 + HOP, &aug, NULL, err), 0);
	const int a = ex.region_start, b = ex.region_end;
	float w[WINDOW];
	/* noise 60 dB down: a region in the tone is content, one in the pause is not
	 * (and was content before, as it still is with the rule off) */
	for (int audible = 1; audible >= 0; audible--) {
		ex.aug.audible = audible;
		ex.aug.snr_min_db = ex.aug.snr_max_db = 60.0;
		int tone = 0, pause = 0;
		for (int i = 0; i < 300; i++) {
			const int label = cli_example_make(&ex, -1, -1, 5000 + (uint64_t)i, w, NULL);
			const double db = 10.0 * log10(region_energy(w, a, b) + 1e-30);
			if (db > -30.0) { /* the tone's region: -20 dBFS (partly in it: skipped) */
				if (db > -21.0) {
					assert_int_equal(label, STRIDE_GATE_CONTENT);
					tone++;
				}
			} else if (db < -75.0) { /* only the noise, 60 dB under the content */
				assert_int_equal(label, audible ? STRIDE_GATE_NOISE : STRIDE_GATE_CONTENT);
				pause++;
			}
		}
		assert_true(tone > 50 && pause > 50);
	}
	/* the tone 30 dB under the noise is drowned: noise; at 0 dB SNR it is content */
	ex.aug.audible = true;
	for (int snr = -30; snr <= 0; snr += 30) {
		ex.aug.snr_min_db = ex.aug.snr_max_db = snr;
		int content = 0;
		for (int i = 0; i < 200; i++)
			content += cli_example_make(&ex, -1, -1, 7000 + (uint64_t)i, w, NULL) == STRIDE_GATE_CONTENT;
		if (snr < 0)
			assert_int_equal(content, 0);
		else
			assert_true(content > 50 && content < 150); /* the tone's share of the file */
	}
	cli_examples_free(&ex);
	cli_dataset_free(ds);
}

static void test_classify_examples(void **state)
{
	(void)state;
	char dir[512], err[STRIDE_ERR_LEN];
	path_in(dir, sizeof dir, "cls_ex");
	tu_make_tones_noise(dir, 2, 0.5, RATE, 3);
	StrideDataset *ds = load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err);
	assert_non_null(ds);
	StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_CLASSIFY);
	aug.noise_prob = 0.0;
	StrideExamples ex;
	assert_int_equal(cli_examples_init(&ex, ds, STRIDE_USE_TRAIN, WINDOW, (WINDOW - HOP) / 2, (WINDOW - HOP) / 2 + HOP, &aug, NULL, err), 0);
	float x[WINDOW];
	const StrideClip *c = &ds->clips[0];
	/* a fixed offset with augmentation: the crop times a gain in range, maybe negated */
	for (int i = 0; i < 30; i++) {
		int label = cli_example_make(&ex, 0, 100, 77 + (uint64_t)i, x, NULL);
		assert_int_equal(label, c->label);
		int j = 0;
		while (c->x[100 + j] == 0.0f)
			j++;
		double g = x[j] / c->x[100 + j];
		double db = 20.0 * log10(fabs(g));
		assert_true(db >= aug.gain_min_db - 1e-3 && db <= aug.gain_max_db + 1e-3);
		for (int k = 0; k < WINDOW; k++)
			assert_true(fabs(x[k] - g * c->x[100 + k]) < 1e-5);
	}
	/* random EQ: a different, finite signal, its energy within the filters' gains */
	ex.aug.gain_min_db = ex.aug.gain_max_db = 0.0;
	ex.aug.polarity = false;
	ex.aug.eq_db = 12.0;
	double e_in = 0.0;
	for (int k = 0; k < WINDOW; k++)
		e_in += (double)c->x[100 + k] * c->x[100 + k];
	int changed = 0;
	for (int i = 0; i < 10; i++) {
		cli_example_make(&ex, 0, 100, 500 + (uint64_t)i, x, NULL);
		double e = 0.0, diff = 0.0;
		for (int k = 0; k < WINDOW; k++) {
			assert_true(isfinite(x[k]));
			e += (double)x[k] * x[k];
			diff += fabs(x[k] - c->x[100 + k]);
		}
		double db = 10.0 * log10(e / e_in);
		assert_true(db > -36.0 && db < 36.0);
		changed += diff > 1e-3;
	}
	assert_int_equal(changed, 10);
	ex.aug.eq_db = 0.0;
	cli_example_make(&ex, 0, 100, 500, x, NULL);
	for (int k = 0; k < WINDOW; k++)
		assert_float_equal(x[k], c->x[100 + k], 0.0f);
	/* no augmentation: exactly the crop */
	ex.aug.enabled = false;
	cli_example_make(&ex, 0, 100, 5, x, NULL);
	assert_memory_equal(x, c->x + 100, sizeof x);
	cli_examples_free(&ex);
	cli_dataset_free(ds);
}

/* --balance: refs repeat a class's clips (most / its windows)^B times. Class
 * "big" has three 2-window files, "small" one: 6 and 2 windows. */
static void test_classify_balance(void **state)
{
	(void)state;
	char dir[512], sub[600], path[700], err[STRIDE_ERR_LEN];
	path_in(dir, sizeof dir, "cls_balance");
	float x[2 * WINDOW];
	unsigned long long seed = 9;
	const char *const names[] = { "big/a.wav", "big/b.wav", "big/c.wav", "small/d.wav" };
	for (int i = 0; i < 4; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, i < 3 ? "big" : "small");
		tu_mkdirs(sub);
		tu_noise(x, 2 * WINDOW, 0.1, &seed);
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		tu_write_wav(path, x, 2 * WINDOW, RATE, 1, 0);
	}
	StrideDataset *ds = load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err);
	assert_non_null(ds);
	for (int i = 0; i < ds->n_clips; i++)
		ds->clips[i].use = STRIDE_USE_TRAIN; /* no validation share in this count */
	const double balance[] = { 0.0, 1.0, 0.5 };
	const long long small_refs[] = { 2, 6, 3 }; /* 2 * (6/2)^B: 2, 6, 3.46 -> 3 */
	for (int b = 0; b < 3; b++) {
		StrideAugConfig aug = cli_aug_defaults(STRIDE_TASK_CLASSIFY);
		aug.balance = balance[b];
		StrideExamples ex;
		assert_int_equal(cli_examples_init(&ex, ds, STRIDE_USE_TRAIN, WINDOW, 0, WINDOW, &aug, NULL, err), 0);
		int *refs = NULL;
		long long n = 0;
		assert_int_equal(cli_examples_refs(&ex, &refs, &n), 0);
		long long per[2] = { 0, 0 };
		for (long long i = 0; i < n; i++)
			per[ds->clips[refs[i]].label]++;
		const int big = strcmp(ds->classes[0], "big") == 0 ? 0 : 1;
		assert_int_equal(per[big], 6);
		assert_int_equal(per[1 - big], small_refs[b]);
		free(refs);
		cli_examples_free(&ex);
	}
	cli_dataset_free(ds);
}

static void test_split(void **state)
{
	(void)state;
	char dir[512], p[700], err[STRIDE_ERR_LEN], *warn = NULL;
	path_in(dir, sizeof dir, "split");
	tu_make_tones_noise(dir, 10, 0.1, RATE, 4);
	StrideDataset *ds = load(dir, STRIDE_TASK_CLASSIFY, true, NULL, err);
	assert_non_null(ds);
	assert_int_equal(cli_dataset_split(ds, 0.3, 9, NULL, NULL, NULL, err), 0);
	int val[2] = { 0, 0 };
	StrideClipUse first[20];
	for (int i = 0; i < ds->n_clips; i++) {
		first[i] = ds->clips[i].use;
		val[ds->clips[i].label] += ds->clips[i].use == STRIDE_USE_VAL;
	}
	assert_int_equal(val[0], 3); /* 30% of each class */
	assert_int_equal(val[1], 3);
	/* the same seed, the same split; another seed, another */
	assert_int_equal(cli_dataset_split(ds, 0.3, 9, NULL, NULL, NULL, err), 0);
	for (int i = 0; i < ds->n_clips; i++)
		assert_int_equal(ds->clips[i].use, first[i]);
	int differ = 0;
	for (uint64_t seed = 10; seed < 14; seed++) {
		assert_int_equal(cli_dataset_split(ds, 0.3, seed, NULL, NULL, NULL, err), 0);
		for (int i = 0; i < ds->n_clips; i++)
			differ += ds->clips[i].use != first[i];
	}
	assert_true(differ > 0);

	/* lists: by relative name or unique file name; comments and unknown names */
	path_in(p, sizeof p, "val.lst");
	tu_write_text(p, "# validation\ntone/t001.wav\n\nn002.wav\nsomewhere/tone/t003.wav\nnot_there.wav\n");
	size_t wl = 0;
	FILE *w = open_memstream(&warn, &wl);
	assert_int_equal(cli_dataset_split(ds, 0.3, 9, p, NULL, w, err), 0);
	fclose(w);
	tu_assert_contains(warn, "1 name is not in");
	tu_assert_contains(warn, "not_there.wav");
	free(warn);
	int n_val = 0;
	for (int i = 0; i < ds->n_clips; i++)
		if (ds->clips[i].use == STRIDE_USE_VAL) {
			n_val++;
			assert_true(strcmp(ds->clips[i].name, "tone/t001.wav") == 0 ||
			            strcmp(ds->clips[i].name, "noise/n002.wav") == 0 ||
			            strcmp(ds->clips[i].name, "tone/t003.wav") == 0);
		}
	assert_int_equal(n_val, 3);
	char tl[600];
	path_in(tl, sizeof tl, "train.lst");
	tu_write_text(tl, "tone/t000.wav\nnoise/n000.wav\n");
	assert_int_equal(cli_dataset_split(ds, 0.0, 9, p, tl, NULL, err), 0);
	int uses[3] = { 0, 0, 0 };
	for (int i = 0; i < ds->n_clips; i++)
		uses[ds->clips[i].use]++;
	assert_int_equal(uses[STRIDE_USE_TRAIN], 2);
	assert_int_equal(uses[STRIDE_USE_VAL], 3);
	assert_int_equal(uses[STRIDE_USE_NONE], 15);
	path_in(p, sizeof p, "nothing.lst");
	tu_write_text(p, "nope.wav\n");
	assert_int_equal(cli_dataset_split(ds, 0.0, 9, p, NULL, NULL, err), -1);
	tu_assert_contains(err, "names no file of");
	path_in(p, sizeof p, "absent.lst");
	assert_int_equal(cli_dataset_split(ds, 0.0, 9, p, NULL, NULL, err), -1);
	tu_assert_contains(err, "absent.lst");
	cli_dataset_free(ds);
}

/* ------------------------------------------------------------------------ */

/* SGD (momentum, weight decay) and AdamW, five steps, against torch.optim. */
static void test_optimisers_match_pytorch(void **state)
{
	(void)state;
	if (tu_under_valgrind()) {
		skip();
		return;
	}
	const char *py = getenv("STRIDE_PYTHON");
	char script[600];
	path_in(script, sizeof script, "optim.py");
	tu_write_text(script,
	              "import torch\n"
	              "p0 = [0.5, -1.25, 2.0, 0.0, -0.75]\n"
	              "grads = [[0.1*(i+1)*(-1)**(s+i) + 0.01*s for i in range(5)] for s in range(5)]\n"
	              "for name, make in [('sgd', lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01)),\n"
	              "                   ('adam', lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.01))]:\n"
	              "    p = torch.nn.Parameter(torch.tensor(p0))\n"
	              "    o = make([p])\n"
	              "    for g in grads:\n"
	              "        p.grad = torch.tensor(g)\n"
	              "        o.step()\n"
	              "    print(name, ' '.join('%.9g' % v for v in p.detach().tolist()))\n");
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "%s %s", py ? py : "/usr/bin/python3", script);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[2][512];
	assert_non_null(fgets(line[0], sizeof line[0], f));
	assert_non_null(fgets(line[1], sizeof line[1], f));
	assert_int_equal(pclose(f), 0);
	for (int k = 0; k < 2; k++) {
		StrideOptConfig c = stride_optim_defaults(k == 0 ? STRIDE_OPT_SGD : STRIDE_OPT_ADAM);
		c.weight_decay = 0.01;
		StrideOptim *o = stride_optim_new(&c, 5, NULL);
		float p[5] = { 0.5f, -1.25f, 2.0f, 0.0f, -0.75f };
		for (int s = 0; s < 5; s++) {
			float g[5];
			for (int i = 0; i < 5; i++)
				g[i] = (float)(0.1 * (i + 1) * (((s + i) % 2) ? -1 : 1) + 0.01 * s);
			stride_optim_step(o, p, g, 0.05);
		}
		stride_optim_free(o);
		const char *q = strchr(line[k], ' ');
		assert_non_null(q);
		for (int i = 0; i < 5; i++) {
			char *end;
			double ref = strtod(q, &end);
			q = end;
			if (fabs(p[i] - ref) > 1e-5 * (1.0 + fabs(ref)))
				fail_msg("%s parameter %d: %.9g, PyTorch %.9g", k ? "adam" : "sgd", i, p[i], ref);
		}
	}
}

static void test_weight_decay_mask_and_schedule(void **state)
{
	(void)state;
	StrideOptConfig c = stride_optim_defaults(STRIDE_OPT_ADAM);
	c.weight_decay = 0.5;
	const bool mask[2] = { true, false };
	StrideOptim *o = stride_optim_new(&c, 2, mask);
	float p[2] = { 1.0f, 1.0f }, g[2] = { 0.0f, 0.0f };
	stride_optim_step(o, p, g, 0.1);
	assert_float_equal(p[0], 0.95f, 1e-7); /* decayed: 1 - lr * wd */
	assert_float_equal(p[1], 1.0f, 0.0f);  /* masked out */
	stride_optim_free(o);

	StrideSchedule s = { STRIDE_SCHED_COSINE, 1.0, 0.1, 10, 110, 0, 0.0 };
	assert_float_equal(stride_schedule_lr(&s, 0), 0.1, 1e-12);
	assert_float_equal(stride_schedule_lr(&s, 9), 1.0, 1e-12);
	assert_float_equal(stride_schedule_lr(&s, 10), 1.0, 1e-12);
	assert_float_equal(stride_schedule_lr(&s, 109), 0.1, 1e-12);
	double mid = stride_schedule_lr(&s, 10 + 99 / 2);
	assert_true(mid > 0.5 && mid < 0.6);
	StrideSchedule st = { STRIDE_SCHED_STEP, 1.0, 0.0, 0, 100, 30, 0.5 };
	assert_float_equal(stride_schedule_lr(&st, 29), 1.0, 1e-12);
	assert_float_equal(stride_schedule_lr(&st, 30), 0.5, 1e-12);
	assert_float_equal(stride_schedule_lr(&st, 65), 0.25, 1e-12);
	assert_int_equal(stride_optim_from_name("sgd"), STRIDE_OPT_SGD);
	assert_int_equal(stride_optim_from_name("adamw"), STRIDE_OPT_ADAM);
	assert_int_equal(stride_optim_from_name("lbfgs"), -1);
	assert_int_equal(stride_schedule_from_name("cosine"), STRIDE_SCHED_COSINE);
	assert_int_equal(stride_schedule_from_name("poly"), -1);
}

static void test_metrics(void **state)
{
	(void)state;
	StrideMetrics m;
	assert_int_equal(cli_metrics_init(&m, 3), 0);
	/* truth a: 4 items (3 right, 1 as b); b: 2 (both right); c: 2 (1 right, 1 as a) */
	int pairs[8][2] = { { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 1 }, { 1, 1 }, { 1, 1 }, { 2, 2 }, { 2, 0 } };
	for (int i = 0; i < 8; i++)
		cli_metrics_add(&m, pairs[i][0], pairs[i][1]);
	assert_float_equal(cli_metrics_accuracy(&m), 6.0 / 8.0, 1e-12);
	assert_float_equal(cli_metrics_precision(&m, 0), 3.0 / 4.0, 1e-12);
	assert_float_equal(cli_metrics_recall(&m, 0), 3.0 / 4.0, 1e-12);
	assert_float_equal(cli_metrics_precision(&m, 1), 2.0 / 3.0, 1e-12);
	assert_float_equal(cli_metrics_recall(&m, 1), 1.0, 1e-12);
	assert_float_equal(cli_metrics_f1(&m, 1), 0.8, 1e-12);
	assert_float_equal(cli_metrics_f1(&m, 2), 2.0 / 3.0, 1e-12);
	assert_int_equal(cli_metrics_support(&m, 2), 2);
	const float probs[3] = { 0.2f, 0.5f, 0.3f };
	cli_metrics_add_probs(&m, 2, probs);
	assert_float_equal(cli_metrics_mean_loss(&m), -log(0.3), 1e-6);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *labels[] = { "speech", "music", "noise" };
	cli_metrics_print(&m, labels, 0, "test", f);
	fclose(f);
	tu_assert_contains(text, "test: 9 decisions, accuracy 66.67%");
	tu_assert_contains(text, "frame F1 (speech): 0.7500");
	tu_assert_contains(text, "  music     0.5000    1.0000    0.6667         2");
	tu_assert_contains(text, "  speech       3       1       0");
	free(text);
	cli_metrics_free(&m);
}

static void test_progress_log_lines(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	StrideProgress p;
	cli_progress_init(&p, f, 3, 10, 30);
	assert_false(p.tty);
	cli_progress_epoch_start(&p);
	for (int s = 1; s <= 10; s++)
		cli_progress_step(&p, 1, s, 16, 0.5, 0.75);
	cli_progress_clear(&p);
	fclose(f);
	tu_assert_contains(text, "epoch 1/3 step 1/10: ");
	tu_assert_contains(text, "loss 0.5000, acc 75.0%, ETA ");
	assert_null(strchr(text, '\r'));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_folders),
		cmocka_unit_test(test_bad_files_are_named_and_skipped),
		cmocka_unit_test(test_dataset_errors),
		cmocka_unit_test(test_label_tracks),
		cmocka_unit_test(test_gate_folders_and_labels),
		cmocka_unit_test(test_gate_pauses_and_drowned_content),
		cmocka_unit_test(test_classify_examples),
		cmocka_unit_test(test_classify_balance),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_optimisers_match_pytorch),
		cmocka_unit_test(test_weight_decay_mask_and_schedule),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_progress_log_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
