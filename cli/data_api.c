/* The trainer's data pipeline behind one handle (see data_api.h). The set-up
 * follows cmd_train.c's steps (load_data, prepare_examples) with the same
 * functions; the augmentation flags are aug_flags.h's table. */
#include "data_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aug_flags.h"
#include "augment.h"
#include "dataset.h"
#include "optim.h"
#include "presets.h"
#include "train_loop.h"
#include "util.h"

struct StrideData {
	StrideDatasetOptions opt;
	StrideDataset *ds, *val_ds, *noise_ds;
	StrideAugConfig aug;
	StrideExamples train, val;
	StrideWindowSet val_set;
	int *refs;
	long long n_refs;
	int region_start, region_end;
	int prepared;
};

StrideData *stride_data_open(const char *dir, int task, int rate, int window, int threads,
                             int shard, int shards, int verbose, char err[STRIDE_ERR_LEN])
{
	if (task != STRIDE_TASK_GATE && task != STRIDE_TASK_CLASSIFY) {
		stride_set_err(err, "task %d is neither gate nor classify", task);
		return NULL;
	}
	StrideData *d = calloc(1, sizeof *d);
	if (!d) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	StrideDatasetOptions o = { (StrideTask)task, rate, window, threads < 1 ? 1 : threads,
		                   verbose ? stdout : NULL, verbose ? stderr : NULL, NULL, 0, true,
		                   false };
	d->opt = o;
	d->aug = cli_aug_defaults((StrideTask)task);
	d->ds = cli_dataset_load_shard(dir, &d->opt, shard, shards, err);
	if (!d->ds) {
		free(d);
		return NULL;
	}
	return d;
}

void stride_data_free(StrideData *d)
{
	if (!d)
		return;
	cli_windows_free(&d->val_set);
	cli_examples_free(&d->train);
	cli_examples_free(&d->val);
	cli_dataset_free(d->ds);
	cli_dataset_free(d->val_ds);
	cli_dataset_free(d->noise_ds);
	free(d->refs);
	free(d);
}

int stride_data_split(StrideData *d, double val_fraction, uint64_t seed, const char *val_list,
                      const char *train_list, char err[STRIDE_ERR_LEN])
{
	if (cli_dataset_split(d->ds, val_fraction, seed, val_list, train_list, d->opt.warn, err) < 0)
		return -1;
	if (d->opt.log)
		cli_dataset_print_split(d->ds, d->opt.log);
	return 0;
}

int stride_data_val_data(StrideData *d, const char *dir, const char *train_list, uint64_t seed,
                         char err[STRIDE_ERR_LEN])
{
	if (cli_dataset_val_folder(d->ds, dir, &d->opt, train_list, seed, &d->val_ds, err) < 0)
		return -1;
	if (d->opt.log)
		cli_dataset_print_split(d->ds, d->opt.log);
	return 0;
}

int stride_data_noise(StrideData *d, const char *dir, char err[STRIDE_ERR_LEN])
{
	d->noise_ds = cli_dataset_load_noise(dir, &d->opt, err);
	if (!d->noise_ds) {
		stride_prefix_err(err, "--noise");
		return -1;
	}
	return 0;
}

int stride_data_aug_text(StrideData *d, const char *flag, const char *value,
                         char err[STRIDE_ERR_LEN])
{
	const CliAugFlag *f = cli_aug_flag_find(flag);
	if (!f) {
		stride_set_err(err, "unknown augmentation flag \"%s\"", flag);
		return -1;
	}
	if (cli_aug_flag_parse(f, value, &d->aug) < 0) {
		stride_set_err(err, "bad value for --%s: '%s'", flag, value ? value : "");
		return -1;
	}
	return 0;
}

int stride_data_aug_flag_count(void)
{
	return cli_n_aug_flags;
}

const char *stride_data_aug_flag_name(int i)
{
	return i >= 0 && i < cli_n_aug_flags ? cli_aug_flags[i].name : NULL;
}

const char *stride_data_aug_flag_arg(int i)
{
	return i >= 0 && i < cli_n_aug_flags ? cli_aug_flags[i].arg : NULL;
}

const char *stride_data_aug_flag_help(int i)
{
	return i >= 0 && i < cli_n_aug_flags ? cli_aug_flags[i].help : NULL;
}

int stride_data_prepare(StrideData *d, int label_width, int label_at_end, int hop, int steps,
                        uint64_t seed, char err[STRIDE_ERR_LEN])
{
	if (d->prepared) {
		stride_set_err(err, "stride_data_prepare: already prepared");
		return -1;
	}
	const int window = d->opt.window;
	cli_label_region(window, label_width, label_at_end != 0, &d->region_start, &d->region_end);
	if (cli_train_examples(d->ds, d->noise_ds, window, d->region_start, d->region_end, &d->aug,
	                       steps, hop, seed, &d->train, &d->val, &d->val_set, err) < 0)
		return -1;
	if (cli_examples_refs(&d->train, &d->refs, &d->n_refs) < 0) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	if (d->n_refs == 0) {
		stride_set_err(err, "no training examples: every file went to validation");
		return -1;
	}
	d->prepared = 1;
	return 0;
}

int stride_data_n_classes(const StrideData *d)
{
	return d->ds->n_classes;
}

const char *stride_data_class(const StrideData *d, int i)
{
	return i >= 0 && i < d->ds->n_classes ? d->ds->classes[i] : NULL;
}

void stride_data_region(const StrideData *d, int *start, int *end)
{
	*start = d->region_start;
	*end = d->region_end;
}

int stride_data_example_len(const StrideData *d)
{
	return d->train.window;
}

int stride_data_steps(const StrideData *d)
{
	return d->train.steps;
}

long long stride_data_n_refs(const StrideData *d)
{
	return d->n_refs;
}

void stride_data_epoch(const StrideData *d, uint64_t seed, int epoch, long long size, int *order)
{
	cli_epoch_order(d->refs, d->n_refs, seed, epoch, size, order);
}

void stride_data_make(const StrideData *d, const int *refs, int n, uint64_t seed, int epoch,
                      long long first, float *x, int *y)
{
	const size_t w = (size_t)d->train.window, steps = (size_t)d->train.steps;
	for (int i = 0; i < n; i++) {
		int *labels = y + (size_t)i * steps;
		labels[0] = cli_example_make(&d->train, refs[i], -1,
		                             cli_train_item_seed(seed, epoch, first + i),
		                             x + (size_t)i * w, labels);
	}
}

long long stride_data_val_count(const StrideData *d)
{
	return d->val_set.n;
}

const float *stride_data_val_x(const StrideData *d)
{
	return d->val_set.x;
}

const int *stride_data_val_y(const StrideData *d)
{
	return d->val_set.y;
}

double stride_data_schedule_lr(int kind, double lr, double min_lr, long long warmup,
                               long long total, long long step_every, double gamma,
                               long long step)
{
	StrideSchedule s = { (StrideSchedKind)kind, lr, min_lr, warmup, total, step_every, gamma };
	return stride_schedule_lr(&s, step);
}

int stride_data_schedule_from_name(const char *name)
{
	return stride_schedule_from_name(name);
}

char *stride_data_preset(const char *name, int n_classes, int *task, int *rate, int *window,
                         int *hop, char err[STRIDE_ERR_LEN])
{
	const StridePreset *p = cli_preset_find(name);
	if (!p) {
		stride_set_err(err, "no preset called \"%s\" (presets: %s)", name,
		               stride_data_preset_names());
		return NULL;
	}
	int n = 0;
	StrideLayerSpec *specs = cli_preset_specs(p, n_classes, &n, err);
	if (!specs)
		return NULL;
	char *json = stride_arch_to_json(specs, n);
	free(specs);
	if (!json) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	*task = (int)p->task;
	*rate = p->rate;
	*window = p->window;
	*hop = p->hop;
	return json;
}

const char *stride_data_preset_names(void)
{
	static char names[512];
	if (!names[0])
		for (int i = 0; stride_presets[i]; i++) {
			size_t used = strlen(names);
			snprintf(names + used, sizeof names - used, "%s%s", i ? " " : "",
			         stride_presets[i]->name);
		}
	return names;
}

void stride_data_free_text(char *text)
{
	free(text);
}
