/* SGD with momentum, AdamW, and the learning-rate schedule. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

StrideOptConfig stride_optim_defaults(StrideOptKind kind)
{
	StrideOptConfig c;
	c.kind = kind;
	c.momentum = 0.9;
	c.beta1 = 0.9;
	c.beta2 = 0.999;
	c.eps = 1e-8;
	c.weight_decay = 0.0;
	return c;
}

StrideOptim *stride_optim_new(const StrideOptConfig *cfg, size_t n, const bool *decay_mask)
{
	StrideOptim *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->cfg = *cfg;
	o->n = n;
	size_t bytes = (n ? n : 1) * sizeof(float);
	o->s0 = calloc(1, bytes);
	if (cfg->kind == STRIDE_OPT_ADAM)
		o->s1 = calloc(1, bytes);
	if (decay_mask) {
		o->decay = malloc((n ? n : 1) * sizeof *o->decay);
		if (o->decay)
			memcpy(o->decay, decay_mask, n * sizeof *o->decay);
	}
	if (!o->s0 || (cfg->kind == STRIDE_OPT_ADAM && !o->s1) || (decay_mask && !o->decay)) {
		stride_optim_free(o);
		return NULL;
	}
	return o;
}

void stride_optim_free(StrideOptim *opt)
{
	if (!opt)
		return;
	free(opt->s0);
	free(opt->s1);
	free(opt->decay);
	free(opt);
}

static void sgd_step(StrideOptim *o, float *p, const float *g, double lr)
{
	const float mu = (float)o->cfg.momentum;
	const float wd = (float)o->cfg.weight_decay;
	const float rate = (float)lr;
	float *v = o->s0;
	for (size_t i = 0; i < o->n; i++) {
		float gi = g[i];
		if (wd != 0.0f && (!o->decay || o->decay[i]))
			gi += wd * p[i];
		/* PyTorch starts the velocity at the first gradient (dampening 0) */
		v[i] = o->t == 0 ? gi : mu * v[i] + gi;
		p[i] -= rate * v[i];
	}
}

static void adam_step(StrideOptim *o, float *p, const float *g, double lr)
{
	const double t = (double)(o->t + 1);
	const float b1 = (float)o->cfg.beta1, b2 = (float)o->cfg.beta2;
	const float c1 = (float)(1.0 / (1.0 - pow(o->cfg.beta1, t)));
	const float c2 = (float)(1.0 / sqrt(1.0 - pow(o->cfg.beta2, t)));
	const float rate = (float)lr, eps = (float)o->cfg.eps;
	const float shrink = (float)(1.0 - lr * o->cfg.weight_decay);
	float *m = o->s0, *v = o->s1;
	for (size_t i = 0; i < o->n; i++) {
		if (shrink != 1.0f && (!o->decay || o->decay[i]))
			p[i] *= shrink;
		const float gi = g[i];
		m[i] = b1 * m[i] + (1.0f - b1) * gi;
		v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
		p[i] -= rate * (m[i] * c1) / (sqrtf(v[i]) * c2 + eps);
	}
}

void stride_optim_step(StrideOptim *opt, float *params, const float *grads, double lr)
{
	if (opt->cfg.kind == STRIDE_OPT_ADAM)
		adam_step(opt, params, grads, lr);
	else
		sgd_step(opt, params, grads, lr);
	opt->t++;
}

const char *stride_optim_name(StrideOptKind kind)
{
	return kind == STRIDE_OPT_ADAM ? "adam" : "sgd";
}

int stride_optim_from_name(const char *name)
{
	if (strcmp(name, "adam") == 0 || strcmp(name, "adamw") == 0)
		return STRIDE_OPT_ADAM;
	if (strcmp(name, "sgd") == 0)
		return STRIDE_OPT_SGD;
	return -1;
}

double stride_schedule_lr(const StrideSchedule *s, long long step)
{
	if (s->warmup > 0 && step < s->warmup)
		return s->lr * (double)(step + 1) / (double)s->warmup;
	switch (s->kind) {
	case STRIDE_SCHED_COSINE: {
		long long span = s->total - s->warmup;
		if (span <= 1)
			return s->lr;
		double f = (double)(step - s->warmup) / (double)(span - 1);
		if (f > 1.0)
			f = 1.0;
		return s->min_lr + 0.5 * (s->lr - s->min_lr) * (1.0 + cos(3.14159265358979323846 * f));
	}
	case STRIDE_SCHED_STEP: {
		if (s->step_every <= 0)
			return s->lr;
		long long k = (step - s->warmup) / s->step_every;
		return s->lr * pow(s->gamma, (double)k);
	}
	default:
		return s->lr;
	}
}

int stride_schedule_from_name(const char *name)
{
	if (strcmp(name, "cosine") == 0)
		return STRIDE_SCHED_COSINE;
	if (strcmp(name, "step") == 0)
		return STRIDE_SCHED_STEP;
	if (strcmp(name, "constant") == 0)
		return STRIDE_SCHED_CONSTANT;
	return -1;
}
