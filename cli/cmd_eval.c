/* `stride eval MODEL DATA`: the trainer's report on any dataset folder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aug_flags.h"
#include "augment.h"
#include "commands.h"
#include "dataset.h"
#include "options.h"
#include "gate.h"
#include "report.h"
#include "train_loop.h"

/* The augmentation flags of `stride train` (aug_flags.h) that set eval's mixes. */
static const char *const eval_aug_flags[3] = { "level", "snr", "noise-prob" };

typedef struct {
	const char *model, *data, *noise;
	int threads, step, mixes, max_per_file;
	long long seed;
	const CliAugFlag *aug_flag[3]; /* --level, --snr, --noise-prob as given (NULL: not) */
	const char *aug_value[3];
	bool baseline;
	int what; /* 0: all, 1: files only, 2: mixes only */
	double baseline_db;
	bool baseline_fixed;
} EvalArgs;

/* Which of eval_aug_flags option o ("--level") is, or -1. */
static int eval_aug_flag(const char *o)
{
	for (int k = 0; k < 3; k++)
		if (strncmp(o, "--", 2) == 0 && strcmp(o + 2, eval_aug_flags[k]) == 0)
			return k;
	return -1;
}

static int parse_args(const StrideCommand *cmd, int argc, char **argv, EvalArgs *a)
{
	memset(a, 0, sizeof *a);
	a->threads = cli_default_threads();
	a->mixes = 2000;
	const char *pos[2];
	int n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true, takes = true;
		int k;
		if (o[0] != '-' || strcmp(o, "-") == 0) {
			if (n_pos == 2)
				return cli_command_usage_error(cmd, "too many arguments");
			pos[n_pos++] = o;
			continue;
		}
		if (strcmp(o, "--threads") == 0)
			ok = cli_parse_int(v, 1, 256, &a->threads);
		else if (strcmp(o, "--step") == 0)
			ok = cli_parse_int(v, 1, 1 << 24, &a->step);
		else if (strcmp(o, "--mixes") == 0)
			ok = cli_parse_int(v, 0, 10000000, &a->mixes);
		else if (strcmp(o, "--max-per-file") == 0)
			ok = cli_parse_int(v, 0, 1 << 30, &a->max_per_file);
		else if (strcmp(o, "--seed") == 0)
			ok = cli_parse_long(v, 0, INT64_MAX, &a->seed);
		else if ((k = eval_aug_flag(o)) >= 0) {
			/* checked here, applied to the model's task's defaults in eval_aug */
			StrideAugConfig scratch = cli_aug_defaults(STRIDE_TASK_GATE);
			a->aug_flag[k] = cli_aug_flag_find(eval_aug_flags[k]);
			a->aug_value[k] = v;
			ok = v && cli_aug_flag_parse(a->aug_flag[k], v, &scratch) == 0;
		} else if (strcmp(o, "--noise") == 0)
			a->noise = v;
		else if (strcmp(o, "--only") == 0)
			ok = v && ((strcmp(v, "files") == 0 && (a->what = 1)) ||
			           (strcmp(v, "mixes") == 0 && (a->what = 2)));
		else if (strcmp(o, "--baseline-db") == 0)
			ok = (a->baseline = a->baseline_fixed =
			              cli_parse_double(v, -200.0, 20.0, &a->baseline_db));
		else {
			takes = false;
			if (strcmp(o, "--baseline") == 0)
				a->baseline = true;
			else
				return cli_command_usage_error(cmd, "unknown option '%s'", o);
		}
		if (takes) {
			if (!v)
				return cli_command_usage_error(cmd, "%s needs a value", o);
			if (!ok)
				return cli_command_usage_error(cmd, "bad value for %s: '%s'", o, v);
			i++;
		}
	}
	if (n_pos != 2)
		return cli_command_usage_error(cmd, "expected MODEL DATA");
	a->model = pos[0];
	a->data = pos[1];
	return 0;
}

typedef struct {
	double level;
	int content;
} Scored;

static int cmp_scored(const void *x, const void *y)
{
	const Scored *a = x, *b = y;
	return a->level < b->level ? -1 : a->level > b->level;
}

/* The level-threshold gate on the same windows: content when the window's RMS
 * is above a threshold. With `fixed` the given threshold, else the best one
 * for these windows (an optimistic baseline). */
static void level_baseline(const StrideWindowSet *set, bool fixed, double fixed_db, FILE *out)
{
	Scored *s = malloc((size_t)(set->n ? set->n : 1) * sizeof *s);
	if (!s)
		return;
	long long positives = 0;
	for (long long i = 0; i < set->n; i++) {
		const float *x = set->x + (size_t)i * set->window;
		double e = 0.0;
		for (int j = 0; j < set->window; j++)
			e += (double)x[j] * x[j];
		e /= set->window;
		s[i].level = e > 0.0 ? 10.0 * log10(e) : -400.0;
		s[i].content = set->y[i] == STRIDE_GATE_CONTENT;
		positives += s[i].content;
	}
	double best_f1 = 0.0, best_db = fixed_db;
	if (fixed) {
		long long tp = 0, fp = 0;
		for (long long i = 0; i < set->n; i++)
			if (s[i].level > fixed_db) {
				tp += s[i].content;
				fp += !s[i].content;
			}
		best_f1 = tp ? 2.0 * tp / (2.0 * tp + fp + (positives - tp)) : 0.0;
	} else {
		/* sweep: with the threshold just below s[i], windows i.. are content */
		qsort(s, (size_t)set->n, sizeof *s, cmp_scored);
		long long tp = positives, fp = set->n - positives;
		for (long long i = 0; i < set->n; i++) {
			double f1 = tp ? 2.0 * tp / (2.0 * tp + fp + (positives - tp)) : 0.0;
			if (f1 > best_f1) {
				best_f1 = f1;
				best_db = i == 0 ? s[0].level - 0.1 : 0.5 * (s[i - 1].level + s[i].level);
			}
			if (s[i].content)
				tp--;
			else
				fp--;
		}
	}
	fprintf(out, "level-threshold gate (window RMS > %.1f dBFS%s): frame F1 %.4f\n", best_db,
	        fixed ? "" : ", the best threshold for these windows", best_f1);
	free(s);
}

/* A model eval can score: mono; a gate with 2 labels, *content the one the
 * gate opens on (the plugin's rule) and truth_map from the dataset's labels to
 * the model's. Returns 0 or -1. */
static int check_model(const StrideCommand *cmd, const EvalArgs *a, const StrideModel *model,
                       int *content, int truth_map[2])
{
	char err[STRIDE_ERR_LEN] = "";
	const int k = model->n_labels;
	if (stride_net_in_channels(model->net) != 1) {
		cli_command_fail(cmd, "%s: takes %d input channels; eval handles mono models", a->model,
		                 stride_net_in_channels(model->net));
		return -1;
	}
	if (model->task == STRIDE_TASK_GATE) {
		if (k != 2) {
			cli_command_fail(cmd, "%s: a gate model with %d labels (eval expects 2)", a->model, k);
			return -1;
		}
		/* the plugin's rule, so eval scores the class the gate opens on */
		if ((*content = stride_gate_content_label(model, err)) < 0) {
			cli_command_fail(cmd, "%s: %s", a->model, err);
			return -1;
		}
		truth_map[STRIDE_GATE_CONTENT] = *content;
		truth_map[STRIDE_GATE_NOISE] = 1 - *content;
	}
	return 0;
}

/* DATA (classifiers: in the model's class order) and --noise. Returns 0 or -1. */
static int load_data(const StrideCommand *cmd, const EvalArgs *a, const StrideModel *model,
                     StrideDataset **ds, StrideDataset **noise_ds)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideDatasetOptions dopt = { model->task, model->sample_rate, model->window, a->threads, stdout,
		                      stderr, NULL, 0, false, false };
	if (model->task == STRIDE_TASK_CLASSIFY) {
		dopt.classes = (const char *const *)model->labels;
		dopt.n_classes = model->n_labels;
	}
	*ds = cli_dataset_load(a->data, &dopt, err);
	if (!*ds) {
		cli_command_fail(cmd, "%s", err);
		return -1;
	}
	if (a->noise) {
		*noise_ds = cli_dataset_load_noise(a->noise, &dopt, err);
		if (!*noise_ds) {
			cli_command_fail(cmd, "--noise: %s", err);
			return -1;
		}
	}
	return 0;
}

/* The mixes' augmentation: the task's defaults without polarity flips, with
 * --level, --snr and --noise-prob. */
static StrideAugConfig eval_aug(const EvalArgs *a, StrideTask task)
{
	StrideAugConfig aug = cli_aug_defaults(task);
	aug.polarity = false;
	for (int k = 0; k < 3; k++)
		if (a->aug_flag[k])
			cli_aug_flag_parse(a->aug_flag[k], a->aug_value[k], &aug); /* checked when parsed */
	return aug;
}

/* The report's heading: the model, the data and (gates) the mixes' levels. */
static void report_title(const EvalArgs *a, const StrideModel *model, const StrideAugConfig *aug,
                         char *title, size_t size)
{
	if (model->task == STRIDE_TASK_GATE)
		snprintf(title, size, "\n%s on %s (level %g:%g dBFS, SNR %g:%g dB)", a->model, a->data,
		         aug->level_min_db, aug->level_max_db, aug->snr_min_db, aug->snr_max_db);
	else
		snprintf(title, size, "\n%s on %s", a->model, a->data);
}

static int run_eval(int argc, char **argv)
{
	const StrideCommand *cmd = &stride_cmd_eval;
	EvalArgs a;
	int rc = parse_args(cmd, argc, argv, &a);
	if (rc != 0)
		return rc;
	/* our threads do the parallel work: keep BLAS's own from spinning beside them */
	stride_blas_set_threads(1);
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *model = stride_model_read(a.model, err);
	if (!model)
		return cli_command_fail(cmd, "%s", err);
	rc = STRIDE_EXIT_FAIL;
	StrideDataset *ds = NULL, *noise_ds = NULL;
	StrideExamples ex;
	StrideWindowSet set;
	StrideMetrics m;
	float *probs = NULL;
	memset(&ex, 0, sizeof ex);
	memset(&set, 0, sizeof set);
	memset(&m, 0, sizeof m);
	const int k = model->n_labels;
	const char *const *labels = (const char *const *)model->labels;
	int truth_map[2];
	int content = -1;
	if (check_model(cmd, &a, model, &content, truth_map) < 0)
		goto done;
	if (load_data(cmd, &a, model, &ds, &noise_ds) < 0)
		goto done;
	/* --only mixes: the files are only sources for the mixes (use them all the
	 * same: the mixes draw content and noise clips of their use) */
	for (int i = 0; i < ds->n_clips; i++)
		ds->clips[i].use = a.what == 2 && ds->clips[i].kind == STRIDE_CLIP_TRACKED ? STRIDE_USE_NONE
		                                                                          : STRIDE_USE_VAL;
	StrideAugConfig aug = eval_aug(&a, model->task);
	/* A gate's decision answers for the hop at the centre of its label region. */
	const int hop_start = stride_model_decision_offset(model);
	if (cli_examples_init(&ex, ds, STRIDE_USE_VAL, model->window, hop_start, hop_start + model->hop,
	                      &aug, noise_ds, err) < 0 ||
	    cli_windows_build(&ex, a.max_per_file, a.step ? a.step : model->hop, a.what == 1 ? 0 : a.mixes,
	                      cli_seed_mix((uint64_t)a.seed, 0x6576616c, 0, 0), &set, err) < 0) {
		cli_command_fail(cmd, "%s", err);
		goto done;
	}
	if (set.n == 0) {
		cli_command_fail(cmd, "%s: nothing to score (no files with labels, no mixes)", a.data);
		goto done;
	}
	probs = malloc((size_t)set.n * (size_t)k * sizeof *probs);
	if (!probs || cli_metrics_init(&m, k) < 0) {
		cli_command_fail(cmd, "out of memory");
		goto done;
	}
	if (cli_infer_net_windows(model->net, a.threads, set.x, set.n, set.window, set.window,
	                          model->input_gain, probs, k, err) < 0) {
		cli_command_fail(cmd, "%s", err);
		goto done;
	}
	char title[160];
	report_title(&a, model, &aug, title, sizeof title);
	cli_report(&set, probs, k, content >= 0 ? truth_map : NULL, labels, content, ds, &m, title,
	           stdout);
	if (a.baseline && model->task == STRIDE_TASK_GATE)
		level_baseline(&set, a.baseline_fixed, a.baseline_db, stdout);
	rc = STRIDE_EXIT_OK;
done:
	free(probs);
	cli_metrics_free(&m);
	cli_windows_free(&set);
	cli_examples_free(&ex);
	cli_dataset_free(ds);
	cli_dataset_free(noise_ds);
	stride_model_free(model);
	return rc;
}

const StrideCommand stride_cmd_eval = {
	.name = "eval",
	.args = "MODEL DATA [options]",
	.summary = "score a model on a dataset folder",
	.help =
		"DATA has the layout `stride train` reads. The report: accuracy, precision,\n"
		"recall and F1 per class, the confusion matrix; classifiers also per file\n"
		"(window probabilities averaged over each file); gates the frame F1 of the\n"
		"content class.\n"
		"\n"
		"Classifiers score every non-overlapping window of every file (folders\n"
		"must be among the model's labels). Gates score files with label tracks\n"
		"at every hop, and content/noise folders as seeded mixes.\n"
		"\n"
		"options:\n"
		"  --threads N          (all cores)\n"
		"  --max-per-file N     classifiers: at most N windows per file (0: all)\n"
		"  --step N             gates: samples between scored windows of tracked\n"
		"                       files (default: the model's hop)\n"
		"  --mixes N            gates: content-over-noise mixes to score (2000)\n"
		"  --only files|mixes   gates: score only the files with label tracks, or\n"
		"                       only the mixes (default: both)\n"
		"  --level A[:B]        gates: content level of the mixes, dBFS (-60:0)\n"
		"  --snr A[:B]          gates: SNR of the mixes, dB (-5:40)\n"
		"  --noise-prob P       gates: chance of a noise-file background (0.8)\n"
		"  --noise DIR          more noise files for the mixes\n"
		"  --seed N             the mixes' seed (0)\n"
		"  --baseline           gates: also score a level-threshold gate (window\n"
		"                       RMS), with the best threshold for these windows\n"
		"  --baseline-db DB     ... with this threshold instead\n"
		"\n"
		"Exit status: 0, 1 on errors, 2 on usage errors.\n",
	.run = run_eval,
};
