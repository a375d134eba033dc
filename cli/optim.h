/* Optimisers over one flat parameter vector (the layout StrideNet keeps), and the
 * learning-rate schedule.
 *
 * SGD with momentum follows PyTorch's torch.optim.SGD (v = mu v + g; p -= lr v,
 * weight decay added to the gradient). Adam follows torch.optim.AdamW: moments
 * with bias correction, and weight decay decoupled from the gradient
 * (p -= lr wd p). Decay applies only where the mask says so (the trainer masks
 * conv and dense weights, not biases or batchnorm), as is usual practice. */
#ifndef STRIDE_OPTIM_H
#define STRIDE_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { STRIDE_OPT_SGD, STRIDE_OPT_ADAM } StrideOptKind;

typedef struct {
	StrideOptKind kind;
	double momentum;     /* SGD */
	double beta1, beta2; /* Adam */
	double eps;          /* Adam */
	double weight_decay;
} StrideOptConfig;

typedef struct {
	StrideOptConfig cfg;
	size_t n;
	float *s0;     /* SGD: velocity; Adam: first moment */
	float *s1;     /* Adam: second moment (NULL for SGD) */
	long long t;   /* steps taken (Adam's bias correction) */
	bool *decay;   /* per parameter: apply weight decay (NULL: everywhere) */
} StrideOptim;

/* PyTorch's defaults: momentum 0.9 (SGD), betas 0.9/0.999, eps 1e-8, no decay. */
StrideOptConfig stride_optim_defaults(StrideOptKind kind);

/* decay_mask (n entries, copied) may be NULL. Returns NULL when out of memory. */
StrideOptim *stride_optim_new(const StrideOptConfig *cfg, size_t n, const bool *decay_mask);
void stride_optim_free(StrideOptim *opt);

/* One update of params from grads with learning rate lr. */
void stride_optim_step(StrideOptim *opt, float *params, const float *grads, double lr);

/* Names for command lines and checkpoints. */
const char *stride_optim_name(StrideOptKind kind);
int stride_optim_from_name(const char *name); /* -1 when unknown */

/* ------------------------------------------------------------------------ */
/* Learning-rate schedule: linear warm-up, then constant, cosine or step.    */
/* ------------------------------------------------------------------------ */

typedef enum { STRIDE_SCHED_CONSTANT, STRIDE_SCHED_COSINE, STRIDE_SCHED_STEP } StrideSchedKind;

typedef struct {
	StrideSchedKind kind;
	double lr;            /* peak rate */
	double min_lr;        /* cosine: the rate at the end */
	long long warmup;     /* steps of linear warm-up from lr / warmup */
	long long total;      /* steps in the whole run */
	long long step_every; /* step: steps between decays */
	double gamma;         /* step: factor at each decay */
} StrideSchedule;

/* The rate for step s (0-based). */
double stride_schedule_lr(const StrideSchedule *s, long long step);

int stride_schedule_from_name(const char *name); /* -1 when unknown */

#endif /* STRIDE_OPTIM_H */
