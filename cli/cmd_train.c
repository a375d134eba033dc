/* `stride train`: a model from a folder of audio. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "augment.h"
#include "commands.h"
#include "dataset.h"
#include "options.h"
#include "presets.h"
#include "report.h"
#include "train_loop.h"

/* augmentation flags given on the command line (TrainArgs.aug_set) */
enum {
	A_GAIN, A_LEVEL, A_SNR, A_NOISE_PROB, A_CONTENT_PROB, A_PARTIAL_PROB, A_POLARITY, A_OFF, A_EQ,
	A_AUDIBLE, A_REVERB, A_BAND, A_CUT, A_SPLICE, A_COUNT
};

typedef struct {
	const char *arch, *data, *out;
	int task;                 /* -1: from the preset (else classify) */
	int rate, window, hop;    /* 0: from the preset or the network */
	int label_width;          /* gates: 0: the whole window */
	int label_at_end;         /* gates: the label region ends the window */
	int steps;                /* gates: decisions per training example (1) */
	int epochs, batch, threads, patience, seed_set;
	long long seed, epoch_size;
	double lr, min_lr, momentum, weight_decay, warmup, gamma, val_fraction;
	int lr_set, step_epochs, stop_after;
	int optimizer, schedule;
	const char *val_list, *train_list, *val_data, *noise;
	const char *checkpoint, *resume;
	int no_checkpoint;
	StrideAugConfig aug;
	int aug_set[A_COUNT];
} TrainArgs;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static char *read_text(const char *path, char *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		stride_set_err(err, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			char *g = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
			if (!g) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = g;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - 1 - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	if (!buf) {
		stride_set_err(err, "%s: too large or out of memory", path);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Whether a file can be written at path (through path.tmp and a rename, as
 * every save does): its folder exists and is writable, and path is not a
 * folder. Checked before the data is loaded, so that a typo in --out costs
 * seconds rather than a whole training run, and without creating anything. */
static int check_writable(const char *option, const char *path, char *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		stride_set_err(err, "%s %s: is a folder (give a file name)", option, path);
		return -1;
	}
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	int rc = 0;
	if (stat(dir, &st) != 0) {
		stride_set_err(err, "%s %s: cannot write there: %s: %s", option, path, dir, strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		stride_set_err(err, "%s %s: cannot write there: %s is not a folder", option, path, dir);
		rc = -1;
	} else if (access(dir, W_OK) != 0) {
		stride_set_err(err, "%s %s: cannot write there: %s: %s", option, path, dir, strerror(errno));
		rc = -1;
	}
	free(dir);
	return rc;
}

static uint64_t fnv(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int parse_args(const StrideCommand *cmd, int argc, char **argv, TrainArgs *a)
{
	memset(a, 0, sizeof *a);
	a->task = -1;
	a->epochs = 30;
	a->batch = 64;
	a->threads = stride_default_threads();
	a->patience = 8;
	a->min_lr = 0.0;
	a->momentum = 0.9;
	a->weight_decay = 1e-4;
	a->warmup = 1.0;
	a->gamma = 0.1;
	a->step_epochs = 10;
	a->val_fraction = 0.15;
	a->optimizer = STRIDE_OPT_ADAM;
	a->schedule = STRIDE_SCHED_COSINE;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true, takes = true;
		if (strcmp(o, "--arch") == 0)
			a->arch = v;
		else if (strcmp(o, "--data") == 0)
			a->data = v;
		else if (strcmp(o, "--out") == 0)
			a->out = v;
		else if (strcmp(o, "--task") == 0)
			ok = v && (strcmp(v, "gate") == 0 || strcmp(v, "classify") == 0) &&
			     ((a->task = strcmp(v, "gate") == 0 ? STRIDE_TASK_GATE : STRIDE_TASK_CLASSIFY), 1);
		else if (strcmp(o, "--rate") == 0)
			ok = stride_parse_int(v, 8000, 384000, &a->rate);
		else if (strcmp(o, "--window") == 0)
			ok = stride_parse_int(v, 1, 1 << 24, &a->window);
		else if (strcmp(o, "--hop") == 0)
			ok = stride_parse_int(v, 1, 1 << 24, &a->hop);
		else if (strcmp(o, "--label-width") == 0)
			ok = stride_parse_int(v, 1, 1 << 24, &a->label_width);
		else if (strcmp(o, "--label-at") == 0)
			ok = v && (strcmp(v, "centre") == 0 || strcmp(v, "end") == 0) &&
			     ((a->label_at_end = strcmp(v, "end") == 0), 1);
		else if (strcmp(o, "--steps") == 0)
			ok = stride_parse_int(v, 1, 4096, &a->steps);
		else if (strcmp(o, "--epochs") == 0)
			ok = stride_parse_int(v, 1, 1000000, &a->epochs);
		else if (strcmp(o, "--batch") == 0)
			ok = stride_parse_int(v, 1, 65536, &a->batch);
		else if (strcmp(o, "--threads") == 0)
			ok = stride_parse_int(v, 1, 256, &a->threads);
		else if (strcmp(o, "--patience") == 0)
			ok = stride_parse_int(v, 0, 1000000, &a->patience);
		else if (strcmp(o, "--seed") == 0)
			ok = stride_parse_long(v, 0, INT64_MAX, &a->seed);
		else if (strcmp(o, "--epoch-size") == 0)
			ok = stride_parse_long(v, 1, 1LL << 40, &a->epoch_size);
		else if (strcmp(o, "--lr") == 0)
			ok = stride_parse_double(v, 1e-12, 100.0, &a->lr) && (a->lr_set = 1);
		else if (strcmp(o, "--min-lr") == 0)
			ok = stride_parse_double(v, 0.0, 100.0, &a->min_lr);
		else if (strcmp(o, "--momentum") == 0)
			ok = stride_parse_double(v, 0.0, 0.999999, &a->momentum);
		else if (strcmp(o, "--weight-decay") == 0)
			ok = stride_parse_double(v, 0.0, 10.0, &a->weight_decay);
		else if (strcmp(o, "--warmup") == 0)
			ok = stride_parse_double(v, 0.0, 1e6, &a->warmup);
		else if (strcmp(o, "--gamma") == 0)
			ok = stride_parse_double(v, 1e-6, 1.0, &a->gamma);
		else if (strcmp(o, "--step-epochs") == 0)
			ok = stride_parse_int(v, 1, 1000000, &a->step_epochs);
		else if (strcmp(o, "--stop-after") == 0)
			ok = stride_parse_int(v, 1, 1000000, &a->stop_after);
		else if (strcmp(o, "--val-fraction") == 0)
			ok = stride_parse_double(v, 0.0, 0.95, &a->val_fraction);
		else if (strcmp(o, "--optimizer") == 0)
			ok = v && (a->optimizer = stride_optim_from_name(v)) >= 0;
		else if (strcmp(o, "--schedule") == 0)
			ok = v && (a->schedule = stride_schedule_from_name(v)) >= 0;
		else if (strcmp(o, "--split-list") == 0 || strcmp(o, "--val-list") == 0)
			a->val_list = v;
		else if (strcmp(o, "--train-list") == 0)
			a->train_list = v;
		else if (strcmp(o, "--val-data") == 0)
			a->val_data = v;
		else if (strcmp(o, "--noise") == 0)
			a->noise = v;
		else if (strcmp(o, "--checkpoint") == 0)
			a->checkpoint = v;
		else if (strcmp(o, "--resume") == 0)
			a->resume = v;
		else if (strcmp(o, "--gain") == 0)
			ok = stride_parse_range(v, -120.0, 60.0, &a->aug.gain_min_db, &a->aug.gain_max_db) &&
			     (a->aug_set[A_GAIN] = 1);
		else if (strcmp(o, "--level") == 0)
			ok = stride_parse_range(v, -120.0, 0.0, &a->aug.level_min_db, &a->aug.level_max_db) &&
			     (a->aug_set[A_LEVEL] = 1);
		else if (strcmp(o, "--snr") == 0)
			ok = stride_parse_range(v, -60.0, 120.0, &a->aug.snr_min_db, &a->aug.snr_max_db) &&
			     (a->aug_set[A_SNR] = 1);
		else if (strcmp(o, "--noise-prob") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.noise_prob) &&
			     (a->aug_set[A_NOISE_PROB] = 1);
		else if (strcmp(o, "--content-prob") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.content_prob) &&
			     (a->aug_set[A_CONTENT_PROB] = 1);
		else if (strcmp(o, "--eq") == 0)
			ok = stride_parse_double(v, 0.0, 40.0, &a->aug.eq_db) && (a->aug_set[A_EQ] = 1);
		else if (strcmp(o, "--partial-prob") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.partial_prob) &&
			     (a->aug_set[A_PARTIAL_PROB] = 1);
		else if (strcmp(o, "--reverb") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.reverb_prob) && (a->aug_set[A_REVERB] = 1);
		else if (strcmp(o, "--band-limit") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.band_prob) && (a->aug_set[A_BAND] = 1);
		else if (strcmp(o, "--splice") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.splice_prob) && (a->aug_set[A_SPLICE] = 1);
		else if (strcmp(o, "--silence-cut") == 0)
			ok = stride_parse_double(v, 0.0, 1.0, &a->aug.cut_prob) && (a->aug_set[A_CUT] = 1);
		else if (strcmp(o, "--audible-snr") == 0) {
			a->aug.audible = strcmp(v, "off") != 0;
			ok = (!a->aug.audible || stride_parse_double(v, -60.0, 60.0, &a->aug.audible_db)) &&
			     (a->aug_set[A_AUDIBLE] = 1);
		}
		else {
			takes = false;
			if (strcmp(o, "--no-checkpoint") == 0)
				a->no_checkpoint = 1;
			else if (strcmp(o, "--no-polarity") == 0)
				a->aug_set[A_POLARITY] = 1;
			else if (strcmp(o, "--no-augment") == 0)
				a->aug_set[A_OFF] = 1;
			else
				return stride_command_usage_error(cmd, "unknown option '%s'", o);
		}
		if (takes) {
			if (!v)
				return stride_command_usage_error(cmd, "%s needs a value", o);
			if (!ok)
				return stride_command_usage_error(cmd, "bad value for %s: '%s'", o, v);
			i++;
		}
	}
	if (!a->arch || !a->data || !a->out)
		return stride_command_usage_error(cmd, "--arch, --data and --out are required");
	return 0;
}

/* Task defaults, then what the command line set. */
static StrideAugConfig aug_config(const TrainArgs *a, StrideTask task)
{
	StrideAugConfig c = stride_aug_defaults(task);
	if (a->aug_set[A_GAIN]) {
		c.gain_min_db = a->aug.gain_min_db;
		c.gain_max_db = a->aug.gain_max_db;
	}
	if (a->aug_set[A_LEVEL]) {
		c.level_min_db = a->aug.level_min_db;
		c.level_max_db = a->aug.level_max_db;
	}
	if (a->aug_set[A_SNR]) {
		c.snr_min_db = a->aug.snr_min_db;
		c.snr_max_db = a->aug.snr_max_db;
	}
	if (a->aug_set[A_NOISE_PROB])
		c.noise_prob = a->aug.noise_prob;
	if (a->aug_set[A_CONTENT_PROB])
		c.content_prob = a->aug.content_prob;
	if (a->aug_set[A_PARTIAL_PROB])
		c.partial_prob = a->aug.partial_prob;
	if (a->aug_set[A_POLARITY])
		c.polarity = false;
	if (a->aug_set[A_EQ])
		c.eq_db = a->aug.eq_db;
	if (a->aug_set[A_AUDIBLE]) {
		c.audible = a->aug.audible;
		c.audible_db = a->aug.audible_db;
	}
	if (a->aug_set[A_REVERB])
		c.reverb_prob = a->aug.reverb_prob;
	if (a->aug_set[A_BAND])
		c.band_prob = a->aug.band_prob;
	if (a->aug_set[A_CUT])
		c.cut_prob = a->aug.cut_prob;
	if (a->aug_set[A_SPLICE])
		c.splice_prob = a->aug.splice_prob;
	if (a->aug_set[A_OFF])
		c.enabled = false;
	return c;
}

/* The architecture: a JSON file, or a preset's layers sized for n_classes. */
static StrideLayerSpec *load_arch(const char *arch, const StridePreset *preset, int n_classes,
                                  int *n_specs, char *err)
{
	if (preset)
		return stride_preset_specs(preset, n_classes, n_specs, err);
	char *json = read_text(arch, err);
	if (!json)
		return NULL;
	StrideLayerSpec *s = stride_arch_parse(json, n_specs, err);
	free(json);
	if (!s)
		stride_prefix_err(err, "%s", arch);
	return s;
}

/* Whole numbers as integers, others with 4 decimals. */
static int set_meta_num(StrideModel *m, const char *key, bool whole, double v)
{
	char buf[64];
	if (whole)
		snprintf(buf, sizeof buf, "%.0f", v);
	else
		snprintf(buf, sizeof buf, "%.4f", v);
	return stride_model_set_meta(m, key, buf);
}

/* The command line, for the model's metadata. */
static char *joined_command(int argc, char **argv)
{
	size_t n = 16;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	strcpy(s, "stride");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int run_train(int argc, char **argv)
{
	const StrideCommand *cmd = &stride_cmd_train;
	TrainArgs a;
	int rc = parse_args(cmd, argc, argv, &a);
	if (rc != 0)
		return rc;
	/* our threads do the parallel work: keep BLAS's own from spinning beside them */
	stride_blas_set_threads(1);
	char err[STRIDE_ERR_LEN] = "";
	const StridePreset *preset = NULL;
	struct stat st;
	if (stat(a.arch, &st) != 0) {
		preset = stride_preset_find(a.arch);
		if (!preset) {
			fprintf(stderr, "stride train: --arch %s: no such file and no such preset (presets:", a.arch);
			for (int i = 0; stride_presets[i]; i++)
				fprintf(stderr, " %s", stride_presets[i]->name);
			fprintf(stderr, ")\n");
			return STRIDE_EXIT_USAGE;
		}
	}
	if (check_writable("--out", a.out, err) < 0 ||
	    (a.checkpoint && !a.no_checkpoint && check_writable("--checkpoint", a.checkpoint, err) < 0)) {
		stride_command_fail(cmd, "%s", err);
		return STRIDE_EXIT_FAIL;
	}
	StrideTask task = a.task >= 0 ? (StrideTask)a.task : preset ? preset->task : STRIDE_TASK_CLASSIFY;
	int rate = a.rate ? a.rate : preset ? preset->rate : 16000;

	StrideLayerSpec *specs = NULL;
	int n_specs = 0;
	StrideDataset *ds = NULL, *val_ds = NULL, *noise_ds = NULL;
	StrideExamples train_ex, val_ex;
	StrideWindowSet val_set;
	StrideModel *model = NULL;
	StrideTrainResult res;
	StrideMetrics m;
	float *probs = NULL;
	char *arch_json = NULL, *command = NULL, *ckpt_default = NULL;
	StrideNet **nets = NULL;
	int n_nets = 0;
	memset(&train_ex, 0, sizeof train_ex);
	memset(&val_ex, 0, sizeof val_ex);
	memset(&val_set, 0, sizeof val_set);
	memset(&res, 0, sizeof res);
	memset(&m, 0, sizeof m);
	rc = STRIDE_EXIT_FAIL;

	/* the window and hop need the network's geometry: build it for 2 classes
	 * first (the class count changes only the last layer) */
	specs = load_arch(a.arch, preset, 2, &n_specs, err);
	if (!specs) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	int window = a.window, hop = a.hop;
	{
		StrideNet *probe = stride_net_new(specs, n_specs, err);
		if (!probe) {
			stride_command_fail(cmd, "%s: %s", a.arch, err);
			goto done;
		}
		if (!window)
			window = preset ? preset->window : stride_net_receptive_field(probe);
		if (!hop)
			hop = preset ? preset->hop : stride_net_total_stride(probe);
		int c, t;
		if (stride_net_output_shape(probe, window, &c, &t, err) < 0) {
			stride_command_fail(cmd, "%s: a window of %d samples is too short for this network: %s",
			                    a.arch, window, err);
			stride_net_free(probe);
			goto done;
		}
		stride_net_free(probe);
	}
	if (hop < 1 || window < 1) {
		stride_command_fail(cmd, "bad window %d or hop %d", window, hop);
		goto done;
	}

	/* Multi-step gate examples take content and noise clips shorter than a
	 * window (content plays inside an example, noise loops), so only a clip
	 * shorter than a label region is too short: a word or a phone prompt under
	 * a second must not be dropped from a gate with a long view. */
	int shortest = window;
	if (a.steps > 1) {
		int rs, re;
		stride_label_region(window, a.label_width, a.label_at_end, &rs, &re);
		shortest = re - rs > hop ? re - rs : hop;
	}
	StrideDatasetOptions dopt = { task, rate, shortest, a.threads, stdout, stderr, NULL, 0, true, false };
	ds = stride_dataset_load(a.data, &dopt, err);
	if (!ds) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	if (task == STRIDE_TASK_CLASSIFY || preset) {
		free(specs);
		specs = load_arch(a.arch, preset, ds->n_classes, &n_specs, err);
		if (!specs) {
			stride_command_fail(cmd, "%s", err);
			goto done;
		}
	}
	if (a.val_data) {
		dopt.need_two_classes = false;
		val_ds = stride_dataset_load(a.val_data, &dopt, err);
		const int n_train_clips = ds->n_clips; /* the adopted clips come after these */
		if (!val_ds || stride_dataset_adopt_val(ds, val_ds, err) < 0) {
			stride_command_fail(cmd, "%s", err);
			goto done;
		}
		if (a.train_list && stride_dataset_split(ds, 0.0, (uint64_t)a.seed, NULL, a.train_list, stderr,
		                                         err) < 0) {
			stride_command_fail(cmd, "%s", err);
			goto done;
		}
		/* the split above reset every clip to training: the adopted ones are validation */
		for (int i = n_train_clips; i < ds->n_clips; i++)
			ds->clips[i].use = STRIDE_USE_VAL;
	} else if (stride_dataset_split(ds, a.val_fraction, (uint64_t)a.seed, a.val_list, a.train_list,
	                                stderr, err) < 0) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	stride_dataset_print_split(ds, stdout);
	if (a.noise) {
		StrideDatasetOptions nopt = dopt;
		nopt.noise_only = true;
		nopt.need_two_classes = false;
		noise_ds = stride_dataset_load(a.noise, &nopt, err);
		if (!noise_ds) {
			stride_command_fail(cmd, "--noise: %s", err);
			goto done;
		}
	}

	StrideAugConfig aug = aug_config(&a, task);
	int region_start, region_end;
	stride_label_region(window, a.label_width, a.label_at_end, &region_start, &region_end);
	if (a.steps > 1 && (task != STRIDE_TASK_GATE || aug.audible)) {
		stride_command_fail(cmd, "--steps %d: for gates only, and not with --audible-snr "
		                         "(a window's audibility is judged for one decision)", a.steps);
		goto done;
	}
	if (stride_examples_init(&train_ex, ds, STRIDE_USE_TRAIN, window, region_start, region_end, &aug,
	                         noise_ds, err) < 0 ||
	    (a.steps > 1 && stride_examples_set_steps(&train_ex, a.steps, hop, err) < 0) ||
	    stride_examples_init(&val_ex, ds, STRIDE_USE_VAL, window, region_start, region_end, &aug, NULL,
	                         err) < 0) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	if (stride_val_windows(&val_ex, hop, (uint64_t)a.seed, &val_set, err) < 0) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}

	const char *const *labels = (const char *const *)ds->classes;
	arch_json = stride_arch_to_json(specs, n_specs);
	if (!arch_json) {
		stride_command_fail(cmd, "out of memory");
		goto done;
	}
	char fingerprint[64];
	{
		uint64_t h = fnv(arch_json, 1469598103934665603ULL);
		for (int i = 0; i < ds->n_classes; i++)
			h = fnv(ds->classes[i], fnv("\n", h));
		char geo[96];
		snprintf(geo, sizeof geo, "%d %d %d %d", (int)task, rate, window, hop);
		if (a.steps > 1)
			snprintf(geo + strlen(geo), sizeof geo - strlen(geo), " %d", a.steps);
		h = fnv(geo, h);
		snprintf(fingerprint, sizeof fingerprint, "%016llx", (unsigned long long)h);
	}
	const char *checkpoint = a.no_checkpoint ? NULL : a.checkpoint;
	if (!a.no_checkpoint && !checkpoint) {
		ckpt_default = malloc(strlen(a.out) + 6);
		if (!ckpt_default) {
			stride_command_fail(cmd, "out of memory");
			goto done;
		}
		sprintf(ckpt_default, "%s.ckpt", a.out);
		checkpoint = ckpt_default;
	}

	StrideOptConfig oc = stride_optim_defaults((StrideOptKind)a.optimizer);
	oc.momentum = a.momentum;
	oc.weight_decay = a.weight_decay;
	StrideTrainConfig tc;
	memset(&tc, 0, sizeof tc);
	tc.specs = specs;
	tc.n_specs = n_specs;
	tc.n_labels = ds->n_classes;
	tc.labels = labels;
	tc.window = train_ex.window; /* the model's window, or a multi-step example's span */
	tc.train = &train_ex;
	tc.val = val_set.n > 0 ? &val_set : NULL;
	tc.opt = oc;
	tc.schedule = (StrideSchedKind)a.schedule;
	tc.lr = a.lr_set ? a.lr : a.optimizer == STRIDE_OPT_ADAM ? 1e-3 : 0.01;
	tc.min_lr = a.min_lr;
	tc.warmup_epochs = a.warmup;
	tc.step_epochs = a.step_epochs;
	tc.gamma = a.gamma;
	tc.epochs = a.epochs;
	tc.batch = a.batch;
	tc.threads = a.threads;
	tc.patience = a.patience;
	tc.epoch_size = a.epoch_size;
	tc.seed = (uint64_t)a.seed;
	tc.checkpoint = checkpoint;
	tc.resume = a.resume;
	tc.fingerprint = fingerprint;
	tc.stop_after = a.stop_after;
	tc.interrupt = &interrupted;
	tc.out = stdout;

	{
		StrideNet *probe = stride_net_new(specs, n_specs, err);
		if (probe) {
			double per_s = 0.0;
			int stride = stride_net_total_stride(probe);
			if (stride > 0) {
				int k = rate / stride > 0 ? rate / stride : 1;
				per_s = (stride_net_flops(probe, window + k * stride) - stride_net_flops(probe, window)) *
				        rate / ((double)k * stride);
			}
			printf("network: %d layers, %zu parameters, window %d, hop %d, %.2f MFLOP/s streamed; "
			       "%s lr %g, batch %d, %d thread%s, seed %lld\n",
			       n_specs, stride_net_n_params(probe), window, hop, per_s / 1e6,
			       stride_optim_name(oc.kind), tc.lr, tc.batch, tc.threads, tc.threads == 1 ? "" : "s",
			       a.seed);
			stride_net_free(probe);
		}
	}
	fflush(stdout);

	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	int trc = stride_train(&tc, &res, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (trc < 0) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	if (res.interrupted) {
		rc = 130;
		goto done;
	}

	/* the model */
	model = stride_model_new(res.net, task, rate, labels, ds->n_classes, err);
	res.net = NULL;
	if (!model) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	model->window = window;
	model->hop = hop;

	/* the report on the validation windows, with the saved network */
	if (stride_metrics_init(&m, ds->n_classes) < 0) {
		stride_command_fail(cmd, "out of memory");
		goto done;
	}
	int content = task == STRIDE_TASK_GATE ? STRIDE_GATE_CONTENT : -1;
	if (val_set.n > 0) {
		n_nets = a.threads;
		nets = calloc((size_t)n_nets, sizeof *nets);
		probs = malloc((size_t)val_set.n * (size_t)ds->n_classes * sizeof *probs);
		if (!nets || !probs) {
			stride_command_fail(cmd, "out of memory");
			goto done;
		}
		for (int t = 0; t < n_nets; t++)
			if (!(nets[t] = stride_net_clone(model->net, err))) {
				stride_command_fail(cmd, "%s", err);
				goto done;
			}
		if (stride_infer_windows(nets, n_nets, val_set.x, val_set.n, window, window, 1.0f, probs, ds->n_classes, err) < 0) {
			stride_command_fail(cmd, "%s", err);
			goto done;
		}
		char title[128];
		snprintf(title, sizeof title, "\nvalidation (best epoch %d)", res.best_epoch);
		stride_report(&val_set, probs, ds->n_classes, NULL, labels, content, ds, &m, title, stdout);
	}

	command = joined_command(argc, argv);
	bool meta_ok = stride_model_set_meta(model, "train.data", a.data) == 0 &&
	               (!command || stride_model_set_meta(model, "train.command", command) == 0) &&
	               set_meta_num(model, "train.epochs", true, res.epochs_done) == 0 &&
	               set_meta_num(model, "train.seed", true, (double)a.seed) == 0;
	if (val_set.n > 0)
		meta_ok = meta_ok && set_meta_num(model, "train.best_epoch", true, res.best_epoch) == 0 &&
		          set_meta_num(model, "train.val_accuracy", false, stride_metrics_accuracy(&m)) == 0 &&
		          set_meta_num(model, "train.val_loss", false, stride_metrics_mean_loss(&m)) == 0;
	if (task == STRIDE_TASK_GATE) {
		char region[64];
		snprintf(region, sizeof region, "%d %d", region_start, region_end);
		meta_ok = meta_ok && stride_model_set_meta(model, "train.label_region", region) == 0 &&
		          (a.steps <= 1 || set_meta_num(model, "train.steps", true, a.steps) == 0);
		if (val_set.n > 0)
			meta_ok = meta_ok && set_meta_num(model, "train.val_frame_f1", false,
			                                  stride_metrics_f1(&m, STRIDE_GATE_CONTENT)) == 0;
	}
	if (!meta_ok) {
		stride_command_fail(cmd, "out of memory");
		goto done;
	}
	if (stride_model_save(model, a.out, err) < 0) {
		stride_command_fail(cmd, "%s", err);
		goto done;
	}
	printf("\nsaved %s (%s, %d labels, window %d, hop %d at %d Hz) after %d epoch%s%s; %.0f "
	       "samples/s\n",
	       a.out, task == STRIDE_TASK_GATE ? "gate" : "classify", ds->n_classes, window, hop, rate,
	       res.epochs_done, res.epochs_done == 1 ? "" : "s",
	       res.paused ? " (paused by --stop-after: continue with --resume)" : "", res.samples_per_s);
	rc = STRIDE_EXIT_OK;
done:
	if (nets)
		for (int t = 0; t < n_nets; t++)
			stride_net_free(nets[t]);
	free(nets);
	free(probs);
	stride_metrics_free(&m);
	stride_model_free(model);
	stride_net_free(res.net);
	stride_windows_free(&val_set);
	stride_examples_free(&train_ex);
	stride_examples_free(&val_ex);
	stride_dataset_free(ds);
	stride_dataset_free(val_ds);
	stride_dataset_free(noise_ds);
	free(specs);
	free(arch_json);
	free(command);
	free(ckpt_default);
	return rc;
}

const StrideCommand stride_cmd_train = {
	.name = "train",
	.args = "--arch ARCH --data DIR --out MODEL.safetensors [options]",
	.summary = "train a model on a folder of audio",
	.help =
		"ARCH: an architecture JSON file (docs/MODEL_FORMAT.md) or a preset:\n"
		"gate-log (16 kHz, window 3200, hop 160, log band energies: level-\n"
		"independent, ~14 MFLOP/s), gate-small (the same window and hop, raw\n"
		"waveform, ~10 MFLOP/s) or genre-small (16 kHz, window 32768, hop 8192,\n"
		"~9 MFLOP/s), its last layer sized to the classes. DIR: DIR/<label>/\n"
		"<files> (classifiers). --task gate: DIR/noise/ (or silence/) is what\n"
		"the gate closes on, other folders are content, mixed\n"
		"over noise at random levels and SNRs; files with an Audacity label track\n"
		"beside them (<name>.txt) are content where labelled. Any libsndfile format,\n"
		"mixed to mono, resampled to --rate; bad files are named and skipped.\n"
		"\n"
		"model:  --task gate|classify  --rate HZ (16000)  --window N  --hop N\n"
		"        (defaults: the preset's, else the receptive field, total stride)\n"
		"  --label-width N    gates: a window is content when half of the N samples\n"
		"                     at its centre are (default: the whole window); saved\n"
		"                     as train.label_region\n"
		"  --label-at centre|end  gates: where that region sits (centre); at the\n"
		"                     end, the rest of the window is past context only, and\n"
		"                     the plugin's lookahead is that of a window of N\n"
		"  --steps N          gates: N decisions per example, hop apart, a label\n"
		"                     each (1; needs one output step per hop)\n"
		"data:\n"
		"  --val-fraction X   share of each class's files for validation (0.15)\n"
		"  --split-list FILE  validation files, a name a line (blues/blues.00012.wav)\n"
		"  --train-list FILE  train only on these\n"
		"  --val-data DIR     a separate validation folder\n"
		"  --noise DIR        extra noise to mix in (any layout)\n"
		"  --epoch-size N     examples per epoch (default: the audio in windows)\n"
		"augmentation:\n"
		"  --gain A:B         classifiers: gain, dB (-12:6)\n"
		"  --level A:B        gates: content RMS level, dBFS (-60:0)\n"
		"  --snr A:B          noise SNR, dB (gates -5:40, classifiers 10:40)\n"
		"  --noise-prob P     classifiers: chance of noise (0.25); gates: chance of a\n"
		"                     noise-file background (0.8; else white noise or silence)\n"
		"  --content-prob P   gates: chance a mix holds content (0.5)\n"
		"  --partial-prob P   gates: of those, content starting/stopping inside (0.3)\n"
		"  --audible-snr DB   gate mixes: a window is content only where its content\n"
		"                     is audible: not a pause (40 dB under its file's level)\n"
		"                     and at least DB over the noise there (e.g. -10;\n"
		"                     default off: a content file's whole span is content)\n"
		"  --eq DB            random EQ (shelves and a peak) within +-DB (0: off)\n"
		"  --reverb P         chance of a synthetic room on content or crops (0)\n"
		"  --band-limit P     chance of a random lowpass at 2.8-7.6 kHz (0)\n"
		"  --silence-cut P    gate mixes: chance the noise cuts to silence (0)\n"
		"  --splice P         gate mixes: chance content replaces the noise (0)\n"
		"  --no-polarity      --no-augment (plain random crops)\n"
		"optimisation:\n"
		"  --epochs N (30)  --batch N (64)  --lr X (adam 1e-3, sgd 1e-2)\n"
		"  --optimizer adam|sgd (adam = AdamW)  --momentum X (0.9)\n"
		"  --weight-decay X (1e-4; conv and dense weights)  --schedule\n"
		"  cosine|step|constant (cosine)  --warmup EPOCHS (1)  --min-lr X (0)\n"
		"  --step-epochs N (10)  --gamma X (0.1)  --seed N (0)  --threads N (cores)\n"
		"  --patience N       stop after N epochs without a better validation loss\n"
		"                     (8; 0: never); the best epoch is what is saved\n"
		"checkpoints:\n"
		"  --checkpoint FILE  after every epoch and on Ctrl-C (default: OUT.ckpt)\n"
		"  --no-checkpoint  --resume FILE\n"
		"  --stop-after N     end this run after N epochs (model and checkpoint\n"
		"                     saved; continue with --resume)\n"
		"\n"
		"Deterministic for a seed and thread count (a resumed run too). Threads\n"
		"split each batch; batchnorm takes each thread's share for its statistics.\n"
		"Exit status: 0, 1 on errors, 2 on usage errors, 130 when interrupted.\n",
	.run = run_train,
};
