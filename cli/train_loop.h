/* The training loop: minibatches over all cores, the optimiser and schedule,
 * validation, early stopping (checkpoints: checkpoint.h; the validation
 * windows: window_set.h; inference over them: infer.h).
 *
 * Parallelism is over the batch: each of `threads` threads owns a clone of the
 * network and takes a fixed contiguous share of every batch (making its own
 * examples, then forward and backward); the gradients are summed in thread
 * order, weighted by share, so a run is bit-for-bit reproducible for a given
 * seed and thread count. BLAS runs single-threaded inside each thread.
 *
 * Batchnorm statistics in training are those of each thread's share of the
 * batch ("ghost" batch norm: identical to whole-batch statistics with one
 * thread); the running statistics are averaged over the threads after each
 * step, which for the mean is exactly the whole batch's.
 *
 * Loss: softmax cross-entropy on the logits. A network whose last layer is a
 * softmax is trained without it (its input is the logits) and saved with it;
 * the gradients are the same as backpropagating through the softmax, without
 * the rounding of log(softmax). Outputs with several time steps score every
 * step against the item's label. */
#ifndef STRIDE_TRAIN_LOOP_H
#define STRIDE_TRAIN_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "augment.h"
#include "infer.h"
#include "metrics.h"
#include "optim.h"
#include "stride.h"
#include "window_set.h"

typedef struct {
	/* the network: specs may end in a softmax */
	const StrideLayerSpec *specs;
	int n_specs;
	int n_labels;
	const char *const *labels;
	int window;                 /* a training example's length: train->window */

	/* data */
	const StrideExamples *train;
	const StrideWindowSet *val; /* NULL or empty: no validation, no early stopping */

	/* optimisation */
	StrideOptConfig opt;
	StrideSchedKind schedule;
	double lr, min_lr;
	double warmup_epochs;
	int step_epochs;            /* step schedule: epochs between decays */
	double gamma;               /* step schedule: the decay factor */
	int epochs;
	int batch;
	int threads;
	int patience;               /* epochs without a better validation loss (0: never stop) */
	long long epoch_size;       /* examples per epoch; 0: one pass over the data */
	uint64_t seed;

	/* checkpoints */
	const char *checkpoint;     /* written after every epoch and on interruption (NULL: never) */
	const char *resume;         /* a checkpoint to continue from (NULL: start afresh) */
	const char *fingerprint;    /* must match the checkpoint's (architecture, labels, data) */
	int stop_after;             /* end this run after this many epochs (0: run to the end) */
	volatile sig_atomic_t *interrupt; /* set (by a signal handler) to stop after the current step */

	FILE *out;                  /* progress and per-epoch lines */
} StrideTrainConfig;

typedef struct {
	StrideNet *net;             /* trained (best on validation), every layer of specs */
	int epochs_done;            /* epochs completed in all, resumed ones included */
	int best_epoch;             /* 1-based; 0 without validation */
	double best_val_loss;
	double train_loss;          /* the last epoch's mean */
	double train_accuracy;
	double samples_per_s;       /* this run's training throughput (steps only) */
	long long samples;          /* examples trained on in this run */
	bool stopped_early;
	bool interrupted;           /* by the interrupt flag: the checkpoint holds the state */
	bool paused;                /* stop_after reached before the last epoch */
} StrideTrainResult;

/* Trains. Returns 0 (also when interrupted or paused, see the result), or -1
 * with err set. */
int cli_train(const StrideTrainConfig *cfg, StrideTrainResult *res, char err[STRIDE_ERR_LEN]);

/* The examples `stride train` draws from ds's clips: train (mixing noise_ds's
 * too; steps > 1: that many decisions hop apart, gates only and not with
 * aug->audible), val, and val's validation windows (cli_val_windows). The
 * label region is [region_start, region_end) of the window. Returns 0 or -1. */
int cli_train_examples(const StrideDataset *ds, const StrideDataset *noise_ds, int window,
                       int region_start, int region_end, const StrideAugConfig *aug, int steps,
                       int hop, uint64_t seed, StrideExamples *train, StrideExamples *val,
                       StrideWindowSet *val_set, char err[STRIDE_ERR_LEN]);

/* The example refs of epoch `epoch` in the order training takes them: `size`
 * entries into order, whole shuffled passes over refs (then a random subset).
 * The data a run sees is a function of these and of cli_train_item_seed,
 * so other trainers (python/stride_torch, through libstride_data.so) draw
 * exactly the same examples. */
void cli_epoch_order(const int *refs, long long n_refs, uint64_t seed, int epoch,
                     long long size, int *order);

/* The augmentation seed of the example at `position` of epoch `epoch`. */
uint64_t cli_train_item_seed(uint64_t seed, int epoch, long long position);


#endif /* STRIDE_TRAIN_LOOP_H */
