/* The training loop (see train_loop.h for the design). */
#include "train_loop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dataset.h"
#include "progress.h"
#include "util.h"
#include "workers.h"

/* Sub-stream tags for cli_seed_mix. */
#define TAG_ORDER 0x6f72646572ULL
#define TAG_ITEM 0x6974656dULL

/* ------------------------------------------------------------------------ */
/* One training step, spread over the threads                                */
/* ------------------------------------------------------------------------ */

typedef struct {
	StrideNet *net;
	float *x, *lt, *gl, *gy;
	int *y, *yt;
	int n;               /* items this step */
	double loss;         /* mean over the items' steps */
	long long correct, decisions;
	int failed;
	char err[STRIDE_ERR_LEN];
} Worker;

typedef struct {
	const StrideTrainConfig *cfg;
	Worker *w;
	int threads;
	const float *master_state;  /* copied into each clone first */
	const int *refs;            /* this batch's example refs */
	long long first;            /* the batch's position in the epoch */
	int nb;                     /* items in the batch */
	int epoch;
	int k;
} StepCtx;

static void step_job(void *arg, int tid)
{
	StepCtx *c = arg;
	Worker *w = &c->w[tid];
	const StrideTrainConfig *cfg = c->cfg;
	const int win = cfg->window, steps = cfg->train->steps;
	cli_state_set(w->net, c->master_state);
	long long b0, b1;
	cli_share(c->nb, c->threads, tid, &b0, &b1);
	w->n = (int)(b1 - b0);
	w->loss = 0.0;
	w->correct = 0;
	w->decisions = 0;
	if (w->n == 0)
		return;
	for (long long i = b0; i < b1; i++) {
		uint64_t seed = cli_train_item_seed(cfg->seed, c->epoch, c->first + i);
		int *labels = w->y + (size_t)(i - b0) * (size_t)steps;
		labels[0] = cli_example_make(cfg->train, c->refs[i], -1, seed,
		                             w->x + (size_t)(i - b0) * win, labels);
	}
	const float *y;
	int ck = 0, ct = 0;
	if (stride_net_forward(w->net, w->x, w->n, win, true, &y, &ck, &ct, w->err) != 0) {
		w->failed = 1;
		return;
	}
	const int k = c->k, n = w->n;
	/* (n, k, t) -> (n * t, k): one row per decision */
	for (int i = 0; i < n; i++)
		for (int s = 0; s < ct; s++) {
			for (int j = 0; j < k; j++)
				w->lt[((size_t)i * ct + s) * k + j] = y[((size_t)i * k + j) * ct + s];
			/* one label per example, or one per step (multi-step examples) */
			w->yt[(size_t)i * ct + s] = w->y[(size_t)i * (size_t)steps + (steps > 1 ? (size_t)s : 0)];
		}
	const int rows = n * ct;
	w->loss = stride_loss_softmax_xent(w->lt, w->yt, rows, k, w->gl);
	for (int r = 0; r < rows; r++) {
		const float *z = w->lt + (size_t)r * k;
		int best = 0;
		for (int j = 1; j < k; j++)
			if (z[j] > z[best])
				best = j;
		w->correct += best == w->yt[r];
	}
	w->decisions = rows;
	for (int i = 0; i < n; i++)
		for (int s = 0; s < ct; s++)
			for (int j = 0; j < k; j++)
				w->gy[((size_t)i * k + j) * ct + s] = w->gl[((size_t)i * ct + s) * k + j];
	if (stride_net_backward(w->net, w->gy, NULL, w->err) != 0)
		w->failed = 1;
}
typedef struct {
	StrideNet *master;
	Worker *w;
	int threads;
	StrideOptim *opt;
	int *refs;
	long long n_refs;
	int *order;         /* this epoch's example refs */
	float *state, *best, *grad;
	size_t state_n;
	float *val_probs;
	StrideWorkers *team;  /* NULL with one thread */

	/* the run */
	long long epoch_size; /* examples per epoch */
	long long steps;      /* steps per epoch */
	int nb_last;          /* the batch when an epoch is one smaller step */
	StrideSchedule sched;
	StrideTrainProgress pr;
	StrideProgress prog;
	StrideMetrics vm;     /* validation */
	bool have_val;
	int first_epoch, last_epoch;
	double train_time;    /* seconds in training steps */
} Loop;

static void loop_free(Loop *L)
{
	if (L->w)
		for (int t = 0; t < L->threads; t++) {
			stride_net_free(L->w[t].net);
			free(L->w[t].x);
			free(L->w[t].lt);
			free(L->w[t].gl);
			free(L->w[t].gy);
			free(L->w[t].y);
			free(L->w[t].yt);
		}
	free(L->w);
	cli_workers_free(L->team);
	stride_net_free(L->master);
	stride_optim_free(L->opt);
	free(L->refs);
	free(L->order);
	free(L->state);
	free(L->best);
	free(L->grad);
	free(L->val_probs);
}

void cli_epoch_order(const int *refs, long long n_refs, uint64_t seed, int epoch,
                     long long size, int *order)
{
	StrideRng r;
	stride_rng_seed(&r, cli_seed_mix(seed, TAG_ORDER, (uint64_t)epoch, 0));
	long long done = 0;
	/* whole shuffled passes over the refs until the epoch is full */
	while (done < size) {
		long long m = n_refs;
		long long take = size - done < m ? size - done : m;
		int *tmp = order + done;
		if (take == m) {
			for (long long i = 0; i < m; i++)
				tmp[i] = refs[i];
			for (long long i = m - 1; i > 0; i--) {
				long long j = (long long)(stride_rng_next(&r) % (unsigned long long)(i + 1));
				int t = tmp[i];
				tmp[i] = tmp[j];
				tmp[j] = t;
			}
		} else {
			/* a partial pass: a random subset without repeats */
			for (long long i = 0; i < take; i++)
				tmp[i] = refs[stride_rng_next(&r) % (unsigned long long)m];
		}
		done += take;
	}
}

uint64_t cli_train_item_seed(uint64_t seed, int epoch, long long position)
{
	return cli_seed_mix(seed, TAG_ITEM, (uint64_t)epoch, (uint64_t)position);
}

int cli_train_examples(const StrideDataset *ds, const StrideDataset *noise_ds, int window,
                       int region_start, int region_end, const StrideAugConfig *aug, int steps,
                       int hop, uint64_t seed, StrideExamples *train, StrideExamples *val,
                       StrideWindowSet *val_set, char err[STRIDE_ERR_LEN])
{
	if (steps > 1 && (ds->task != STRIDE_TASK_GATE || aug->audible)) {
		stride_set_err(err, "--steps %d: for gates only, and not with --audible-snr (a window's "
		               "audibility is judged for one decision)", steps);
		return -1;
	}
	if (cli_examples_init(train, ds, STRIDE_USE_TRAIN, window, region_start, region_end, aug,
	                      noise_ds, err) < 0 ||
	    (steps > 1 && cli_examples_set_steps(train, steps, hop, err) < 0) ||
	    cli_examples_init(val, ds, STRIDE_USE_VAL, window, region_start, region_end, aug, NULL,
	                      err) < 0)
		return -1;
	return cli_val_windows(val, hop, seed, val_set, err);
}

/* The example refs of an epoch, in its shuffled order. */
static void epoch_order(const StrideTrainConfig *cfg, const Loop *L, int epoch, long long size)
{
	cli_epoch_order(L->refs, L->n_refs, cfg->seed, epoch, size, L->order);
}

static int validate(const StrideTrainConfig *cfg, Loop *L, StrideMetrics *m, char *err)
{
	const StrideWindowSet *v = cfg->val;
	StrideNet **nets = malloc((size_t)L->threads * sizeof *nets);
	if (!nets) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	for (int t = 0; t < L->threads; t++) {
		cli_state_set(L->w[t].net, L->state);
		nets[t] = L->w[t].net;
	}
	int rc = cli_infer_windows(nets, L->threads, v->x, v->n, v->window, v->window, 1.0f,
	                           L->val_probs, cfg->n_labels, err);
	free(nets);
	if (rc < 0)
		return -1;
	cli_metrics_reset(m);
	for (long long i = 0; i < v->n; i++)
		cli_metrics_add_probs(m, v->y[i], L->val_probs + (size_t)i * cfg->n_labels);
	return 0;
}

/* The network to train (specs without a final softmax), initialised from the
 * seed and checked against the window, the steps and the classes; *c and *t
 * are its output channels and steps. */
static int setup_master(const StrideTrainConfig *cfg, Loop *L, int n_train_specs, int *c, int *t,
                        char *err)
{
	L->master = stride_net_new(cfg->specs, n_train_specs, err);
	if (!L->master)
		return -1;
	stride_net_init_params(L->master, cfg->seed);
	if (stride_net_output_shape(L->master, cfg->window, c, t, err) < 0) {
		stride_prefix_err(err, "a window of %d samples", cfg->window);
		return -1;
	}
	if (cfg->train->steps > 1 && *t != cfg->train->steps) {
		stride_set_err(err,
		               "%d steps per example need a network with one output step per hop: "
		               "it gives %d for %d samples (no global pooling, hop = its total stride)",
		               cfg->train->steps, *t, cfg->window);
		return -1;
	}
	if (*c != cfg->n_labels) {
		stride_set_err(err,
		               "the network outputs %d channel%s but the data has %d classes: make the "
		               "last layer's \"out\" %d",
		               *c, *c == 1 ? "" : "s", cfg->n_labels, cfg->n_labels);
		return -1;
	}
	return 0;
}

/* The state vectors and the optimiser: weight decay on conv and dense weights
 * only (tensors of rank >= 2). */
static int setup_optimiser(const StrideTrainConfig *cfg, Loop *L, char *err)
{
	L->state_n = cli_state_size(L->master);
	size_t np = stride_net_n_params(L->master);
	L->state = malloc(L->state_n * sizeof *L->state);
	L->best = malloc(L->state_n * sizeof *L->best);
	L->grad = malloc((np ? np : 1) * sizeof *L->grad);
	bool *decay = calloc(np ? np : 1, sizeof *decay);
	if (!L->state || !L->best || !L->grad || !decay) {
		free(decay);
		stride_set_err(err, "out of memory");
		return -1;
	}
	float *base = stride_net_params(L->master);
	for (int i = 0; i < stride_net_n_tensors(L->master); i++) {
		StrideTensor tt = stride_net_tensor(L->master, i);
		if (tt.grad && tt.ndim >= 2)
			for (size_t j = 0; j < tt.size; j++)
				decay[(size_t)(tt.data - base) + j] = true;
	}
	L->opt = stride_optim_new(&cfg->opt, np, decay);
	free(decay);
	if (!L->opt) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	cli_state_get(L->master, L->state);
	return 0;
}

/* A clone of the network and buffers for its share of a batch per thread, and
 * the threads. c, t: the network's output channels and steps. */
static int setup_workers(const StrideTrainConfig *cfg, Loop *L, int c, int t, char *err)
{
	L->threads = cfg->threads < 1 ? 1 : cfg->threads;
	if (L->threads > cfg->batch)
		L->threads = cfg->batch;
	int shard = (cfg->batch + L->threads - 1) / L->threads;
	L->w = calloc((size_t)L->threads, sizeof *L->w);
	if (!L->w) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	const size_t per = (size_t)shard * (size_t)cfg->window;
	const size_t rows = (size_t)shard * (size_t)t;
	for (int i = 0; i < L->threads; i++) {
		Worker *w = &L->w[i];
		w->net = stride_net_clone(L->master, err);
		if (!w->net)
			return -1;
		w->x = malloc(per * sizeof *w->x);
		w->lt = malloc(rows * (size_t)c * sizeof *w->lt);
		w->gl = malloc(rows * (size_t)c * sizeof *w->gl);
		w->gy = malloc(rows * (size_t)c * sizeof *w->gy);
		w->y = malloc((size_t)shard * (size_t)cfg->train->steps * sizeof *w->y);
		w->yt = malloc(rows * sizeof *w->yt);
		if (!w->x || !w->lt || !w->gl || !w->gy || !w->y || !w->yt) {
			stride_set_err(err, "out of memory for batch %d x %d samples", cfg->batch, cfg->window);
			return -1;
		}
		if (stride_net_reserve(w->net, shard, cfg->window, err) < 0)
			return -1;
	}
	if (L->threads > 1 && !(L->team = cli_workers_new(L->threads))) {
		stride_set_err(err, "cannot start %d threads", L->threads);
		return -1;
	}
	return 0;
}

static int setup(const StrideTrainConfig *cfg, Loop *L, int n_train_specs, char *err)
{
	int c = 0, t = 0;
	if (setup_master(cfg, L, n_train_specs, &c, &t, err) < 0 || setup_optimiser(cfg, L, err) < 0 ||
	    setup_workers(cfg, L, c, t, err) < 0)
		return -1;
	if (cli_examples_refs(cfg->train, &L->refs, &L->n_refs) < 0) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	if (L->n_refs == 0) {
		stride_set_err(err, "no training examples: every file went to validation");
		return -1;
	}
	if (cfg->val && cfg->val->n > 0) {
		L->val_probs = malloc((size_t)cfg->val->n * (size_t)cfg->n_labels * sizeof *L->val_probs);
		if (!L->val_probs) {
			stride_set_err(err, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* The trained network with every layer of the architecture (the softmax too). */
static StrideNet *final_net(const StrideTrainConfig *cfg, Loop *L, const float *state, char *err)
{
	cli_state_set(L->master, state);
	StrideNet *net = stride_net_new(cfg->specs, cfg->n_specs, err);
	if (!net)
		return NULL;
	if (stride_net_n_tensors(net) != stride_net_n_tensors(L->master)) {
		stride_set_err(err, "internal: the trained network's tensors do not match");
		stride_net_free(net);
		return NULL;
	}
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor a = stride_net_tensor(net, i), b = stride_net_tensor(L->master, i);
		memcpy(a.data, b.data, a.size * sizeof *a.data);
	}
	return net;
}

/* The run's shape: epoch size, steps, schedule, the progress (from cfg->resume
 * when given) and the epochs this run trains. */
static int begin_run(const StrideTrainConfig *cfg, Loop *L, char *err)
{
	if (cli_metrics_init(&L->vm, cfg->n_labels) < 0) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	L->epoch_size = cfg->epoch_size > 0 ? cfg->epoch_size : L->n_refs;
	L->order = malloc((size_t)L->epoch_size * sizeof *L->order);
	if (!L->order) {
		stride_set_err(err, "out of memory for an epoch of %lld examples", L->epoch_size);
		return -1;
	}
	/* full batches only (an epoch smaller than a batch is one smaller step) */
	const long long steps = L->epoch_size >= cfg->batch ? L->epoch_size / cfg->batch : 1;
	L->steps = steps;
	L->nb_last = L->epoch_size >= cfg->batch ? cfg->batch : (int)L->epoch_size;
	StrideSchedule sched = { cfg->schedule, cfg->lr, cfg->min_lr,
		                 (long long)llround(cfg->warmup_epochs * (double)steps),
		                 (long long)cfg->epochs * steps, (long long)cfg->step_epochs * steps,
		                 cfg->gamma };
	L->sched = sched;
	StrideTrainProgress pr = { 0, 0, 0, INFINITY, 0, 0.0, 0, 0, 0, false };
	L->pr = pr;
	if (cfg->resume) {
		if (cli_checkpoint_load(cfg, &L->pr, L->state, L->best, L->state_n, L->opt, err) < 0)
			return -1;
		if (L->pr.step >= steps) {
			L->pr.epoch++;
			L->pr.step = 0;
		}
		fprintf(cfg->out, "resuming from %s at epoch %d, step %lld\n", cfg->resume,
		        L->pr.epoch + 1, L->pr.step);
	}
	L->have_val = cfg->val && cfg->val->n > 0;
	L->first_epoch = L->pr.epoch;
	L->last_epoch = cfg->epochs;
	if (cfg->stop_after > 0 && L->first_epoch + cfg->stop_after < L->last_epoch)
		L->last_epoch = L->first_epoch + cfg->stop_after;
	long long steps_left = (long long)(L->last_epoch - L->first_epoch) * steps - L->pr.step;
	cli_progress_init(&L->prog, cfg->out, cfg->epochs, steps, steps_left > 0 ? steps_left : 1);
	return 0;
}

/* The threads' results into L->grad (weighted by share, in thread order) and
 * the running sums; *loss: the batch's. Returns -1 when a thread failed. */
static int gather_grads(Loop *L, int nb, int e, long long s, double *loss, char *err)
{
	size_t np = stride_net_n_params(L->master);
	memset(L->grad, 0, np * sizeof *L->grad);
	*loss = 0.0;
	for (int t = 0; t < L->threads; t++) {
		Worker *w = &L->w[t];
		if (w->failed) {
			stride_set_err(err, "epoch %d step %lld: %s", e + 1, s + 1, w->err);
			return -1;
		}
		if (w->n == 0)
			continue;
		const float wt = (float)w->n / (float)nb;
		const float *g = stride_net_grads(w->net);
		for (size_t i = 0; i < np; i++)
			L->grad[i] += wt * g[i];
		*loss += w->loss * w->n;
		L->pr.correct += w->correct;
		L->pr.decisions += w->decisions;
	}
	return 0;
}

/* The running statistics (the state after the parameters): the mean over the
 * threads' copies, weighted by share. */
static void average_buffers(Loop *L, int nb)
{
	float *dst = L->state + stride_net_n_params(L->master);
	size_t off = 0;
	for (int i = 0; i < stride_net_n_tensors(L->master); i++) {
		StrideTensor mt = stride_net_tensor(L->master, i);
		if (mt.grad)
			continue;
		for (size_t j = 0; j < mt.size; j++) {
			float acc = 0.0f;
			for (int t = 0; t < L->threads; t++) {
				Worker *w = &L->w[t];
				if (w->n)
					acc += ((float)w->n / (float)nb) * stride_net_tensor(w->net, i).data[j];
			}
			dst[off + j] = acc;
		}
		off += mt.size;
	}
}

/* Step s of epoch e: the batch over the threads, then one optimiser step. */
static int train_step(const StrideTrainConfig *cfg, Loop *L, int e, long long s,
                      StrideTrainResult *res, char *err)
{
	double t0 = cli_now();
	StepCtx sc = { cfg, L->w, L->threads, L->state, L->order + s * cfg->batch, s * cfg->batch,
		       L->steps == 1 ? L->nb_last : cfg->batch, e, cfg->n_labels };
	if (L->team)
		cli_workers_run(L->team, step_job, &sc);
	else
		step_job(&sc, 0);
	double loss;
	if (gather_grads(L, sc.nb, e, s, &loss, err) < 0)
		return -1;
	if (!isfinite(loss)) {
		stride_set_err(err,
		               "training diverged at epoch %d step %lld (the loss is not finite): "
		               "try a lower --lr",
		               e + 1, s + 1);
		return -1;
	}
	average_buffers(L, sc.nb);
	long long global = (long long)e * L->steps + s;
	stride_optim_step(L->opt, L->state, L->grad, stride_schedule_lr(&L->sched, global));
	stride_net_constrain(L->master, L->state); /* params lead the state */
	StrideTrainProgress *pr = &L->pr;
	pr->loss_sum += loss;
	pr->seen += sc.nb;
	pr->step = s + 1;
	L->train_time += cli_now() - t0;
	res->samples += sc.nb;
	cli_progress_step(&L->prog, e + 1, s + 1, sc.nb, pr->loss_sum / (double)pr->seen,
	                  pr->decisions ? (double)pr->correct / (double)pr->decisions : 0.0);
	return 0;
}

/* Interrupted after step s of epoch e: the checkpoint, and how to continue. */
static int interrupted(const StrideTrainConfig *cfg, Loop *L, int e, long long s,
                       StrideTrainResult *res, char *err)
{
	cli_progress_clear(&L->prog);
	L->pr.epoch = e;
	if (cfg->checkpoint) {
		if (cli_checkpoint_save(cfg, &L->pr, L->state, L->best, L->state_n, L->opt, err) < 0)
			return -1;
		fprintf(cfg->out,
		        "interrupted at epoch %d step %lld: state saved in %s (continue "
		        "with --resume %s)\n",
		        e + 1, s + 1, cfg->checkpoint, cfg->checkpoint);
	} else {
		fprintf(cfg->out, "interrupted at epoch %d step %lld (no checkpoint)\n", e + 1, s + 1);
	}
	res->interrupted = true;
	res->epochs_done = e;
	return 0;
}

/* After epoch e's steps: its line (with validation), the best state, early
 * stopping and the checkpoint. Returns 1 to stop, 0 to go on, -1 on errors. */
static int end_epoch(const StrideTrainConfig *cfg, Loop *L, int e, double epoch_t0,
                     StrideTrainResult *res, char *err)
{
	StrideTrainProgress *pr = &L->pr;
	cli_progress_clear(&L->prog);
	double rate = cli_progress_rate(&L->prog);
	res->train_loss = pr->seen ? pr->loss_sum / (double)pr->seen : 0.0;
	res->train_accuracy = pr->decisions ? (double)pr->correct / (double)pr->decisions : 0.0;
	fprintf(cfg->out, "epoch %d/%d: train loss %.4f acc %.2f%%", e + 1, cfg->epochs,
	        res->train_loss, 100.0 * res->train_accuracy);
	bool better = false;
	if (L->have_val) {
		if (validate(cfg, L, &L->vm, err) < 0)
			return -1;
		double vl = cli_metrics_mean_loss(&L->vm);
		better = !pr->has_best || vl < pr->best_loss;
		if (better) {
			pr->best_loss = vl;
			pr->best_epoch = e + 1;
			pr->bad_epochs = 0;
			pr->has_best = true;
			memcpy(L->best, L->state, L->state_n * sizeof *L->best);
		} else {
			pr->bad_epochs++;
		}
		fprintf(cfg->out, " | val loss %.4f acc %.2f%%", vl, 100.0 * cli_metrics_accuracy(&L->vm));
	}
	fprintf(cfg->out, " | lr %.3g | %.0f samples/s | %.1f s%s\n",
	        stride_schedule_lr(&L->sched, (long long)(e + 1) * L->steps - 1), rate,
	        cli_now() - epoch_t0, better ? " *" : "");
	fflush(cfg->out);
	pr->epoch = e + 1;
	pr->step = 0;
	res->epochs_done = e + 1;
	int stop = 0;
	if (L->have_val && cfg->patience > 0 && pr->bad_epochs >= cfg->patience && e + 1 < cfg->epochs) {
		fprintf(cfg->out, "early stop: no better validation loss for %d epochs (best: epoch %d)\n",
		        pr->bad_epochs, pr->best_epoch);
		res->stopped_early = true;
		stop = 1;
		pr->epoch = cfg->epochs; /* a resume has nothing left to do */
	}
	if (cfg->checkpoint &&
	    cli_checkpoint_save(cfg, pr, L->state, L->best, L->state_n, L->opt, err) < 0)
		return -1;
	return stop;
}

/* The result: counts, the best epoch and the trained network. */
static int finish(const StrideTrainConfig *cfg, Loop *L, StrideTrainResult *res, char *err)
{
	const StrideTrainProgress *pr = &L->pr;
	if (res->epochs_done < L->first_epoch)
		res->epochs_done = L->first_epoch;
	res->paused = !res->interrupted && !res->stopped_early && res->epochs_done < cfg->epochs;
	res->best_epoch = pr->has_best ? pr->best_epoch : 0;
	res->best_val_loss = pr->has_best ? pr->best_loss : 0.0;
	res->samples_per_s = L->train_time > 0.0 ? (double)res->samples / L->train_time : 0.0;
	res->net = final_net(cfg, L, pr->has_best ? L->best : L->state, err);
	return res->net ? 0 : -1;
}

int cli_train(const StrideTrainConfig *cfg, StrideTrainResult *res, char err[STRIDE_ERR_LEN])
{
	memset(res, 0, sizeof *res);
	Loop L;
	memset(&L, 0, sizeof L);
	int rc = -1;
	int n_train_specs = cfg->n_specs;
	if (n_train_specs > 1 && cfg->specs[n_train_specs - 1].type == STRIDE_SOFTMAX)
		n_train_specs--;
	if (cfg->batch < 1 || cfg->epochs < 1 || cfg->window < 1) {
		stride_set_err(err, "batch, epochs and window must be at least 1");
		return -1;
	}
	/* our threads do the parallel work; BLAS inside each stays on its thread */
	stride_blas_set_threads(1);
	if (setup(cfg, &L, n_train_specs, err) < 0 || begin_run(cfg, &L, err) < 0)
		goto done;
	int stop = 0;
	for (int e = L.first_epoch; e < L.last_epoch && !stop; e++) {
		epoch_order(cfg, &L, e, L.epoch_size);
		if (L.pr.step == 0) {
			L.pr.loss_sum = 0.0;
			L.pr.correct = L.pr.decisions = L.pr.seen = 0;
		}
		cli_progress_epoch_start(&L.prog);
		double epoch_t0 = cli_now();
		for (long long s = L.pr.step; s < L.steps && !stop; s++) {
			if (train_step(cfg, &L, e, s, res, err) < 0)
				goto done;
			if (cfg->interrupt && *cfg->interrupt) {
				if (interrupted(cfg, &L, e, s, res, err) < 0)
					goto done;
				stop = 1;
			}
		}
		if (stop)
			break;
		if ((stop = end_epoch(cfg, &L, e, epoch_t0, res, err)) < 0)
			goto done;
	}
	rc = finish(cfg, &L, res, err);
done:
	cli_metrics_free(&L.vm);
	loop_free(&L);
	return rc;
}
