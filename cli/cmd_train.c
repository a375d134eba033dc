/* `stride train`: a model from a folder of audio (its command line:
 * train_args.c; the loop: train_loop.c). The run is a sequence of steps over
 * one TrainRun: the architecture and geometry, the data, the examples, the
 * training, the report and the saved model. */
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
#include "fileio.h"
#include "presets.h"
#include "report.h"
#include "train_args.h"
#include "train_loop.h"

/* Architecture files larger than this are not architecture files. */
#define MAX_ARCH_BYTES ((size_t)64 << 20)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
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

/* The architecture: a JSON file, or a preset's layers sized for n_classes. */
static StrideLayerSpec *load_arch(const char *arch, const StridePreset *preset, int n_classes,
                                  int *n_specs, char *err)
{
	if (preset)
		return cli_preset_specs(preset, n_classes, n_specs, err);
	uint8_t *json;
	size_t len;
	if (stride_read_file(arch, MAX_ARCH_BYTES, &json, &len, err) < 0)
		return NULL;
	StrideLayerSpec *s = stride_arch_parse((const char *)json, n_specs, err);
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

/* Everything a run holds; train_run_free releases it. */
typedef struct {
	const StrideCommand *cmd;
	TrainArgs a;
	const StridePreset *preset;
	StrideTask task;
	int rate, window, hop;
	int region_start, region_end;
	StrideLayerSpec *specs;
	int n_specs;
	StrideDataset *ds, *val_ds, *noise_ds;
	StrideExamples train_ex, val_ex;
	StrideWindowSet val_set;
	char *arch_json, *ckpt_default;
	char fingerprint[64];
	StrideTrainResult res;
	StrideModel *model;
	StrideMetrics m;
	char err[STRIDE_ERR_LEN];
} TrainRun;

static void train_run_free(TrainRun *r)
{
	cli_metrics_free(&r->m);
	stride_model_free(r->model);
	stride_net_free(r->res.net);
	cli_windows_free(&r->val_set);
	cli_examples_free(&r->train_ex);
	cli_examples_free(&r->val_ex);
	cli_dataset_free(r->ds);
	cli_dataset_free(r->val_ds);
	cli_dataset_free(r->noise_ds);
	free(r->specs);
	free(r->arch_json);
	free(r->ckpt_default);
}

/* --arch: a file, else a preset; and --out and --checkpoint writable, before
 * anything is read. Returns 0 or an exit status. */
static int check_command_line(TrainRun *r)
{
	const TrainArgs *a = &r->a;
	struct stat st;
	if (stat(a->arch, &st) != 0) {
		r->preset = cli_preset_find(a->arch);
		if (!r->preset) {
			fprintf(stderr, "stride train: --arch %s: no such file and no such preset (presets:",
			        a->arch);
			for (int i = 0; stride_presets[i]; i++)
				fprintf(stderr, " %s", stride_presets[i]->name);
			fprintf(stderr, ")\n");
			return STRIDE_EXIT_USAGE;
		}
	}
	if (check_writable("--out", a->out, r->err) < 0 ||
	    (a->checkpoint && !a->no_checkpoint && check_writable("--checkpoint", a->checkpoint, r->err) < 0))
		return cli_command_fail(r->cmd, "%s", r->err);
	r->task = a->task >= 0 ? (StrideTask)a->task : r->preset ? r->preset->task : STRIDE_TASK_CLASSIFY;
	r->rate = a->rate ? a->rate : r->preset ? r->preset->rate : 16000;
	return 0;
}

/* The window and hop: given, the preset's, or the network's receptive field
 * and total stride. The network is built for 2 classes first (the class
 * count changes only the last layer). */
static int load_geometry(TrainRun *r)
{
	const TrainArgs *a = &r->a;
	r->specs = load_arch(a->arch, r->preset, 2, &r->n_specs, r->err);
	if (!r->specs)
		return cli_command_fail(r->cmd, "%s", r->err);
	r->window = a->window;
	r->hop = a->hop;
	StrideNet *probe = stride_net_new(r->specs, r->n_specs, r->err);
	if (!probe)
		return cli_command_fail(r->cmd, "%s: %s", a->arch, r->err);
	if (!r->window)
		r->window = r->preset ? r->preset->window : stride_net_receptive_field(probe);
	if (!r->hop)
		r->hop = r->preset ? r->preset->hop : stride_net_total_stride(probe);
	int c, t;
	int rc = stride_net_output_shape(probe, r->window, &c, &t, r->err);
	stride_net_free(probe);
	if (rc < 0)
		return cli_command_fail(r->cmd,
		                        "%s: a window of %d samples is too short for this network: %s",
		                        a->arch, r->window, r->err);
	if (r->hop < 1 || r->window < 1)
		return cli_command_fail(r->cmd, "bad window %d or hop %d", r->window, r->hop);
	return 0;
}

/* --data read and split, the architecture sized to its classes, --noise. */
static int load_data(TrainRun *r)
{
	const TrainArgs *a = &r->a;
	/* Multi-step gate examples take content and noise clips shorter than a
	 * window (content plays inside an example, noise loops), so only a clip
	 * shorter than a label region is too short: a word or a phone prompt under
	 * a second must not be dropped from a gate with a long view. */
	int shortest = r->window;
	if (a->steps > 1) {
		int rs, re;
		cli_label_region(r->window, a->label_width, a->label_at_end, &rs, &re);
		shortest = re - rs > r->hop ? re - rs : r->hop;
	}
	StrideDatasetOptions dopt = { r->task, r->rate, shortest, a->threads, stdout, stderr, NULL, 0, true, false };
	r->ds = cli_dataset_load(a->data, &dopt, r->err);
	if (!r->ds)
		return cli_command_fail(r->cmd, "%s", r->err);
	if (r->task == STRIDE_TASK_CLASSIFY || r->preset) {
		free(r->specs);
		r->specs = load_arch(a->arch, r->preset, r->ds->n_classes, &r->n_specs, r->err);
		if (!r->specs)
			return cli_command_fail(r->cmd, "%s", r->err);
	}
	if (a->val_data ? cli_dataset_val_folder(r->ds, a->val_data, &dopt, a->train_list,
	                                         (uint64_t)a->seed, &r->val_ds, r->err) < 0
	                : cli_dataset_split(r->ds, a->val_fraction, (uint64_t)a->seed, a->val_list,
	                                    a->train_list, stderr, r->err) < 0)
		return cli_command_fail(r->cmd, "%s", r->err);
	cli_dataset_print_split(r->ds, stdout);
	if (a->noise) {
		r->noise_ds = cli_dataset_load_noise(a->noise, &dopt, r->err);
		if (!r->noise_ds)
			return cli_command_fail(r->cmd, "--noise: %s", r->err);
	}
	return 0;
}

/* The training examples (augmented) and the validation windows. */
static int prepare_examples(TrainRun *r)
{
	const TrainArgs *a = &r->a;
	StrideAugConfig aug = cli_train_aug_config(a, r->task);
	cli_label_region(r->window, a->label_width, a->label_at_end, &r->region_start, &r->region_end);
	if (cli_train_examples(r->ds, r->noise_ds, r->window, r->region_start, r->region_end, &aug,
	                       a->steps, r->hop, (uint64_t)a->seed, &r->train_ex, &r->val_ex,
	                       &r->val_set, r->err) < 0)
		return cli_command_fail(r->cmd, "%s", r->err);
	return 0;
}

/* What a checkpoint must match to be resumed: the architecture, the labels
 * and the geometry; and the checkpoint's path. */
static int fingerprint_and_checkpoint(TrainRun *r)
{
	const TrainArgs *a = &r->a;
	r->arch_json = stride_arch_to_json(r->specs, r->n_specs);
	if (!r->arch_json)
		return cli_command_fail(r->cmd, "out of memory");
	uint64_t h = cli_fnv1a(r->arch_json, CLI_FNV1A_BASIS);
	for (int i = 0; i < r->ds->n_classes; i++)
		h = cli_fnv1a(r->ds->classes[i], cli_fnv1a("\n", h));
	char geo[96];
	snprintf(geo, sizeof geo, "%d %d %d %d", (int)r->task, r->rate, r->window, r->hop);
	if (a->steps > 1)
		snprintf(geo + strlen(geo), sizeof geo - strlen(geo), " %d", a->steps);
	h = cli_fnv1a(geo, h);
	snprintf(r->fingerprint, sizeof r->fingerprint, "%016llx", (unsigned long long)h);
	if (!a->no_checkpoint && !a->checkpoint) {
		r->ckpt_default = malloc(strlen(a->out) + 6);
		if (!r->ckpt_default)
			return cli_command_fail(r->cmd, "out of memory");
		sprintf(r->ckpt_default, "%s.ckpt", a->out);
	}
	return 0;
}

/* The loop's configuration from the command line and the run so far. */
static StrideTrainConfig train_config(const TrainRun *r)
{
	const TrainArgs *a = &r->a;
	StrideOptConfig oc = stride_optim_defaults((StrideOptKind)a->optimizer);
	oc.momentum = a->momentum;
	oc.weight_decay = a->weight_decay;
	StrideTrainConfig tc;
	memset(&tc, 0, sizeof tc);
	tc.specs = r->specs;
	tc.n_specs = r->n_specs;
	tc.n_labels = r->ds->n_classes;
	tc.labels = (const char *const *)r->ds->classes;
	tc.window = r->train_ex.window; /* the model's window, or a multi-step example's span */
	tc.train = &r->train_ex;
	tc.val = r->val_set.n > 0 ? &r->val_set : NULL;
	tc.opt = oc;
	tc.schedule = (StrideSchedKind)a->schedule;
	tc.lr = a->lr_set ? a->lr : a->optimizer == STRIDE_OPT_ADAM ? 1e-3 : 0.01;
	tc.min_lr = a->min_lr;
	tc.warmup_epochs = a->warmup;
	tc.step_epochs = a->step_epochs;
	tc.gamma = a->gamma;
	tc.epochs = a->epochs;
	tc.batch = a->batch;
	tc.threads = a->threads;
	tc.patience = a->patience;
	tc.epoch_size = a->epoch_size;
	tc.seed = (uint64_t)a->seed;
	tc.checkpoint = a->no_checkpoint ? NULL : a->checkpoint ? a->checkpoint : r->ckpt_default;
	tc.resume = a->resume;
	tc.fingerprint = r->fingerprint;
	tc.stop_after = a->stop_after;
	tc.interrupt = &interrupted;
	tc.out = stdout;
	return tc;
}

/* The "network: ..." line: size, cost and the optimiser's settings. */
static void print_network(const TrainRun *r, const StrideTrainConfig *tc)
{
	StrideNet *probe = stride_net_new(r->specs, r->n_specs, NULL);
	if (probe) {
		double per_s = 0.0;
		int stride = stride_net_total_stride(probe);
		if (stride > 0) {
			int k = r->rate / stride > 0 ? r->rate / stride : 1;
			per_s = (stride_net_flops(probe, r->window + k * stride) - stride_net_flops(probe, r->window)) *
			        r->rate / ((double)k * stride);
		}
		printf("network: %d layers, %zu parameters, window %d, hop %d, %.2f MFLOP/s streamed; "
		       "%s lr %g, batch %d, %d thread%s, seed %lld\n",
		       r->n_specs, stride_net_n_params(probe), r->window, r->hop, per_s / 1e6,
		       stride_optim_name(tc->opt.kind), tc->lr, tc->batch, tc->threads,
		       tc->threads == 1 ? "" : "s", r->a.seed);
		stride_net_free(probe);
	}
	fflush(stdout);
}

/* The loop, with Ctrl-C and SIGTERM stopping it after the current step. */
static int train(TrainRun *r, const StrideTrainConfig *tc)
{
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	int trc = cli_train(tc, &r->res, r->err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (trc < 0)
		return cli_command_fail(r->cmd, "%s", r->err);
	return 0;
}

/* The report on the validation windows, with the network that is saved. */
static int report_validation(TrainRun *r)
{
	const int k = r->ds->n_classes;
	if (cli_metrics_init(&r->m, k) < 0)
		return cli_command_fail(r->cmd, "out of memory");
	if (r->val_set.n == 0)
		return 0;
	float *probs = malloc((size_t)r->val_set.n * (size_t)k * sizeof *probs);
	if (!probs)
		return cli_command_fail(r->cmd, "out of memory");
	if (cli_infer_net_windows(r->model->net, r->a.threads, r->val_set.x, r->val_set.n, r->window,
	                          r->window, 1.0f, probs, k, r->err) < 0) {
		free(probs);
		return cli_command_fail(r->cmd, "%s", r->err);
	}
	char title[128];
	snprintf(title, sizeof title, "\nvalidation (best epoch %d)", r->res.best_epoch);
	cli_report(&r->val_set, probs, k, NULL, (const char *const *)r->ds->classes,
	           r->task == STRIDE_TASK_GATE ? STRIDE_GATE_CONTENT : -1, r->ds, &r->m, title, stdout);
	free(probs);
	return 0;
}

/* The model's train.* metadata: how it was made and how it scored. */
static int set_metadata(TrainRun *r, int argc, char **argv)
{
	const TrainArgs *a = &r->a;
	StrideModel *model = r->model;
	char *command = joined_command(argc, argv);
	bool ok = stride_model_set_meta(model, "train.data", a->data) == 0 &&
	          (!command || stride_model_set_meta(model, "train.command", command) == 0) &&
	          set_meta_num(model, "train.epochs", true, r->res.epochs_done) == 0 &&
	          set_meta_num(model, "train.seed", true, (double)a->seed) == 0;
	free(command);
	if (r->val_set.n > 0)
		ok = ok && set_meta_num(model, "train.best_epoch", true, r->res.best_epoch) == 0 &&
		     set_meta_num(model, "train.val_accuracy", false, cli_metrics_accuracy(&r->m)) == 0 &&
		     set_meta_num(model, "train.val_loss", false, cli_metrics_mean_loss(&r->m)) == 0;
	if (r->task == STRIDE_TASK_GATE) {
		char region[64];
		snprintf(region, sizeof region, "%d %d", r->region_start, r->region_end);
		ok = ok && stride_model_set_meta(model, "train.label_region", region) == 0 &&
		     (a->steps <= 1 || set_meta_num(model, "train.steps", true, a->steps) == 0);
		if (r->val_set.n > 0)
			ok = ok && set_meta_num(model, "train.val_frame_f1", false,
			                        cli_metrics_f1(&r->m, STRIDE_GATE_CONTENT)) == 0;
	}
	return ok ? 0 : cli_command_fail(r->cmd, "out of memory");
}

/* The trained network as a model: reported on, described and saved. */
static int save_model(TrainRun *r, int argc, char **argv)
{
	r->model = stride_model_new(r->res.net, r->task, r->rate, (const char *const *)r->ds->classes,
	                            r->ds->n_classes, r->err);
	r->res.net = NULL;
	if (!r->model)
		return cli_command_fail(r->cmd, "%s", r->err);
	r->model->window = r->window;
	r->model->hop = r->hop;
	int rc = report_validation(r);
	if (rc == 0)
		rc = set_metadata(r, argc, argv);
	if (rc != 0)
		return rc;
	if (stride_model_write(r->model, r->a.out, r->err) < 0)
		return cli_command_fail(r->cmd, "%s", r->err);
	printf("\nsaved %s (%s, %d labels, window %d, hop %d at %d Hz) after %d epoch%s%s; %.0f "
	       "samples/s\n",
	       r->a.out, r->task == STRIDE_TASK_GATE ? "gate" : "classify", r->ds->n_classes, r->window,
	       r->hop, r->rate, r->res.epochs_done, r->res.epochs_done == 1 ? "" : "s",
	       r->res.paused ? " (paused by --stop-after: continue with --resume)" : "",
	       r->res.samples_per_s);
	return 0;
}

static int run_train(int argc, char **argv)
{
	TrainRun r;
	memset(&r, 0, sizeof r);
	r.cmd = &stride_cmd_train;
	int rc = cli_train_args_parse(r.cmd, argc, argv, &r.a);
	if (rc != 0)
		return rc;
	/* our threads do the parallel work: keep BLAS's own from spinning beside them */
	stride_blas_set_threads(1);
	if ((rc = check_command_line(&r)) != 0)
		return rc;
	if ((rc = load_geometry(&r)) == 0 && (rc = load_data(&r)) == 0 &&
	    (rc = prepare_examples(&r)) == 0 && (rc = fingerprint_and_checkpoint(&r)) == 0) {
		StrideTrainConfig tc = train_config(&r);
		print_network(&r, &tc);
		if ((rc = train(&r, &tc)) == 0)
			rc = r.res.interrupted ? 130 : save_model(&r, argc, argv);
	}
	train_run_free(&r);
	return rc;
}

const StrideCommand stride_cmd_train = {
	.name = "train",
	.args = "--arch ARCH --data DIR --out MODEL.safetensors [options]",
	.summary = "train a model on a folder of audio",
	.print_help = cli_train_print_help,
	.run = run_train,
};
