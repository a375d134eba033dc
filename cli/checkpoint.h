/* Training checkpoints: the network's state as one flat vector (parameters,
 * then buffers such as batchnorm's running statistics), the best state so far,
 * the optimiser's moments and the loop's progress, in a tensor file written
 * after every epoch and on interruption and read back by --resume, so that a
 * resumed run continues bit for bit. */
#ifndef STRIDE_CHECKPOINT_H
#define STRIDE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "optim.h"
#include "stride.h"
#include "train_loop.h"

/* Where the loop stands: what a checkpoint records besides the tensors. */
typedef struct {
	int epoch;            /* the epoch to run next (0-based) */
	long long step;       /* the step within it to run next */
	int best_epoch;       /* 1-based, 0: none yet */
	double best_loss;
	int bad_epochs;
	double loss_sum;      /* the current epoch's running sums */
	long long correct, decisions, seen;
	bool has_best;
} StrideTrainProgress;

/* The network's state: its size in floats, a copy of it into s, and s back
 * into the network. */
size_t cli_state_size(StrideNet *net);
void cli_state_get(StrideNet *net, float *s);
void cli_state_set(StrideNet *net, const float *s);

/* Writes cfg->checkpoint (through a temporary file and a rename): state,
 * best (when pr->has_best), the optimiser's moments, the progress and
 * cfg->fingerprint. Returns 0 or -1. */
int cli_checkpoint_save(const StrideTrainConfig *cfg, const StrideTrainProgress *pr,
                        const float *state, const float *best, size_t state_n,
                        const StrideOptim *opt, char err[STRIDE_ERR_LEN]);

/* Reads cfg->resume into pr, state, best and opt, refusing a file that is not
 * a checkpoint, was made for another fingerprint or optimiser, or has tensors
 * of other sizes; notes on cfg->out a run made with another batch or thread
 * count (it will not match an uninterrupted one bit for bit). Returns 0 or -1. */
int cli_checkpoint_load(const StrideTrainConfig *cfg, StrideTrainProgress *pr, float *state,
                        float *best, size_t state_n, StrideOptim *opt, char err[STRIDE_ERR_LEN]);

#endif /* STRIDE_CHECKPOINT_H */
