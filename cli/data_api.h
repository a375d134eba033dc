/* The trainer's data pipeline as a small C API for other trainers: the same
 * dataset layouts, split, augmentation and epoch order as `stride train`,
 * behind one opaque handle, so python/stride_torch (through ctypes and
 * <build>/libstride_data.so) draws exactly the examples the C trainer would
 * rather than keeping a second copy of the pipeline.
 *
 * Use: stride_data_open, then stride_data_split or stride_data_val_data,
 * optionally stride_data_noise and stride_data_aug_text (one call per
 * `stride train` augmentation flag), then stride_data_prepare; then the epoch order
 * and examples. Everything is a pure function of the seed (see augment.h),
 * so each process of a distributed run makes only its share of a batch and
 * the whole batch is the one `stride train` would make. */
#ifndef STRIDE_DATA_API_H
#define STRIDE_DATA_API_H

#include <stdint.h>

#include "stride.h"

typedef struct StrideData StrideData;

/* Reads DIR as `stride train --data DIR` does (task: STRIDE_TASK_*; window:
 * the shortest usable file), or only shard `shard` of `shards` of its audio
 * files (shards <= 1: all; see cli_dataset_load_shard). verbose: the summary on
 * stdout and skipped files on stderr; otherwise silent. NULL with err set on
 * failure. */
StrideData *stride_data_open(const char *dir, int task, int rate, int window, int threads,
                             int shard, int shards, int verbose, char err[STRIDE_ERR_LEN]);
void stride_data_free(StrideData *d);

/* --val-fraction / --split-list / --train-list. Returns 0 or -1. */
int stride_data_split(StrideData *d, double val_fraction, uint64_t seed, const char *val_list,
                      const char *train_list, char err[STRIDE_ERR_LEN]);

/* --val-data DIR (with --train-list, may be NULL). Returns 0 or -1. */
int stride_data_val_data(StrideData *d, const char *dir, const char *train_list, uint64_t seed,
                         char err[STRIDE_ERR_LEN]);

/* --noise DIR. Returns 0 or -1. */
int stride_data_noise(StrideData *d, const char *dir, char err[STRIDE_ERR_LEN]);

/* One augmentation flag of `stride train` without its dashes ("level",
 * "no-polarity": cli/aug_flags.c's table) with its value as `stride train`
 * reads it ("-40:-6", "0.3", "off"; NULL for a switch), checked against its
 * range. Unset flags keep the task's defaults. Returns 0, or -1 for an unknown
 * flag or a bad value. */
int stride_data_aug_text(StrideData *d, const char *flag, const char *value,
                         char err[STRIDE_ERR_LEN]);

/* The augmentation flags (cli/aug_flags.h's table), so that other trainers
 * take exactly `stride train`'s: how many, and each one's name (without
 * dashes), argument (NULL for a switch) and help text (static strings). */
int stride_data_aug_flag_count(void);
const char *stride_data_aug_flag_name(int i);
const char *stride_data_aug_flag_arg(int i);
const char *stride_data_aug_flag_help(int i);

/* The sampling tables and the validation windows, as `stride train` builds
 * them (label_width 0: the whole window; steps: `stride train --steps`, 1 for
 * one decision per example). Returns 0 or -1. */
int stride_data_prepare(StrideData *d, int label_width, int label_at_end, int hop, int steps,
                        uint64_t seed, char err[STRIDE_ERR_LEN]);

/* A training example's length (the window, or a multi-step example's span)
 * and its decisions (labels per example). */
int stride_data_example_len(const StrideData *d);
int stride_data_steps(const StrideData *d);

int stride_data_n_classes(const StrideData *d);
const char *stride_data_class(const StrideData *d, int i);
/* The gate label region inside the window (after prepare). */
void stride_data_region(const StrideData *d, int *start, int *end);

/* Training examples in one pass over the data (after prepare). */
long long stride_data_n_refs(const StrideData *d);
/* Epoch `epoch`'s refs in training order: `size` entries into order. */
void stride_data_epoch(const StrideData *d, uint64_t seed, int epoch, long long size, int *order);
/* The n examples at positions first .. first + n - 1 of the epoch, whose refs
 * are order[first ..] (pass order + first): x (n x example length) and their
 * classes y (n x steps: one per decision). */
void stride_data_make(const StrideData *d, const int *refs, int n, uint64_t seed, int epoch,
                      long long first, float *x, int *y);

/* The validation windows (after prepare): count, samples (count x window), classes. */
long long stride_data_val_count(const StrideData *d);
const float *stride_data_val_x(const StrideData *d);
const int *stride_data_val_y(const StrideData *d);

/* The learning rate of the trainer's schedule (optim.h: kind STRIDE_SCHED_*) at step. */
double stride_data_schedule_lr(int kind, double lr, double min_lr, long long warmup,
                               long long total, long long step_every, double gamma,
                               long long step);
/* "cosine" -> STRIDE_SCHED_COSINE ...; -1 when unknown. */
int stride_data_schedule_from_name(const char *name);

/* A preset of `stride train --arch NAME` (cli/presets.c): its architecture
 * JSON sized for n_classes (malloc'd: free it with stride_data_free_text),
 * task, rate, window and hop. NULL when there is no such preset. */
char *stride_data_preset(const char *name, int n_classes, int *task, int *rate, int *window,
                         int *hop, char err[STRIDE_ERR_LEN]);
/* The presets' names, space-separated (static). */
const char *stride_data_preset_names(void);
void stride_data_free_text(char *text);

#endif /* STRIDE_DATA_API_H */
