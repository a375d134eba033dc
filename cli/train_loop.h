/* The training loop: minibatches over all cores, the optimiser and schedule,
 * validation, early stopping, checkpoints.
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
#include "metrics.h"
#include "optim.h"
#include "stride.h"

/* Fixed windows to score: x is n x window, y their classes, file the clip each
 * came from (-1 for gate mixes). */
typedef struct {
	float *x;
	int *y;
	int *file;
	long long n;
	int window;
} StrideWindowSet;

/* The validation windows of ex's clips: classifiers up to max_per_file windows
 * per file spread over it; gate files with label tracks a window every `step`
 * samples; gate mixes `mixes` of them seeded from seed. Returns 0 or -1. */
int stride_windows_build(const StrideExamples *ex, int max_per_file, int step, long long mixes,
                         uint64_t seed, StrideWindowSet *set, char err[STRIDE_ERR_LEN]);
void stride_windows_free(StrideWindowSet *set);

/* The validation windows `stride train` scores: up to 16 per classifier file, a
 * window every max(window / 2, hop) samples of tracked gate files, and as many
 * gate mixes as the validation audio has windows of content and noise (500 to
 * 4000), seeded from the run's seed. Returns 0 or -1. */
int stride_val_windows(const StrideExamples *val, int hop, uint64_t seed, StrideWindowSet *set,
                       char err[STRIDE_ERR_LEN]);

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
int stride_train(const StrideTrainConfig *cfg, StrideTrainResult *res, char err[STRIDE_ERR_LEN]);

/* Probabilities for a set of windows: nets[t] is thread t's network (same
 * weights), in inference mode; outputs become probabilities by the one rule
 * (stride_probs_from_outputs: averaged over multi-step outputs). gain
 * multiplies the input. probs: n x k. */
int stride_infer_windows(StrideNet **nets, int threads, const float *x, long long n,
                         long long step, int window, float gain, float *probs, int k,
                         char err[STRIDE_ERR_LEN]);

/* The example refs of epoch `epoch` in the order training takes them: `size`
 * entries into order, whole shuffled passes over refs (then a random subset).
 * The data a run sees is a function of these and of stride_train_item_seed,
 * so other trainers (python/stride_torch, through libstride_data.so) draw
 * exactly the same examples. */
void stride_epoch_order(const int *refs, long long n_refs, uint64_t seed, int epoch,
                        long long size, int *order);

/* The augmentation seed of the example at `position` of epoch `epoch`. */
uint64_t stride_train_item_seed(uint64_t seed, int epoch, long long position);


#endif /* STRIDE_TRAIN_LOOP_H */
