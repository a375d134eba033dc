/* The training loop (see train_loop.h for the design). */
#include "train_loop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "progress.h"
#include "util.h"
#include "workers.h"

/* Windows per forward call when scoring. */
#define INFER_CHUNK 64
/* Sub-stream tags for stride_seed_mix. */
#define TAG_ORDER 0x6f72646572ULL
#define TAG_ITEM 0x6974656dULL
#define TAG_VAL 0x76616cULL
/* Validation: windows per classifier file, and the count of gate mixes. */
#define VAL_WINDOWS_PER_FILE 16
#define VAL_MIXES_MIN 500
#define VAL_MIXES_MAX 4000

/* ------------------------------------------------------------------------ */
/* Window sets                                                              */
/* ------------------------------------------------------------------------ */

void stride_windows_free(StrideWindowSet *set)
{
	free(set->x);
	free(set->y);
	free(set->file);
	memset(set, 0, sizeof *set);
}

/* Offsets of the windows scored in one clip. */
static long long clip_windows(const StrideExamples *ex, const StrideClip *c, int max_per_file,
                              int step, long long j, bool count_only)
{
	const long long room = (long long)c->frames - ex->window;
	if (room < 0) /* a clip shorter than a window (multi-step training keeps them) */
		return 0;
	if (ex->ds->task == STRIDE_TASK_GATE && c->kind == STRIDE_CLIP_TRACKED) {
		long long n = room / step + 1;
		return count_only ? n : j * step;
	}
	long long n = room / ex->window + 1; /* non-overlapping at most */
	if (max_per_file > 0 && n > max_per_file)
		n = max_per_file;
	if (count_only)
		return n;
	return n > 1 ? (room * j) / (n - 1) : room / 2;
}

int stride_windows_build(const StrideExamples *ex, int max_per_file, int step, long long mixes,
                         uint64_t seed, StrideWindowSet *set, char err[STRIDE_ERR_LEN])
{
	memset(set, 0, sizeof *set);
	set->window = ex->window;
	const StrideDataset *ds = ex->ds;
	if (step < 1)
		step = 1;
	long long n = 0;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (c->use != ex->use || c->kind == STRIDE_CLIP_CONTENT || c->kind == STRIDE_CLIP_NOISE)
			continue;
		n += clip_windows(ex, c, max_per_file, step, 0, true);
	}
	if (ds->task != STRIDE_TASK_GATE || (ex->n_content == 0 && ex->n_noise == 0))
		mixes = 0;
	n += mixes;
	size_t floats;
	if (!stride_mul_size((size_t)n, (size_t)ex->window, &floats) ||
	    !(set->x = malloc((floats ? floats : 1) * sizeof *set->x)) ||
	    !(set->y = malloc((size_t)(n + 1) * sizeof *set->y)) ||
	    !(set->file = malloc((size_t)(n + 1) * sizeof *set->file))) {
		stride_windows_free(set);
		stride_set_err(err, "out of memory for %lld windows of %d samples", n, ex->window);
		return -1;
	}
	/* plain crops: no augmentation on files */
	StrideExamples plain = *ex;
	plain.aug.enabled = false;
	long long k = 0;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (c->use != ex->use || c->kind == STRIDE_CLIP_CONTENT || c->kind == STRIDE_CLIP_NOISE)
			continue;
		long long m = clip_windows(ex, c, max_per_file, step, 0, true);
		for (long long j = 0; j < m; j++, k++) {
			long long off = clip_windows(ex, c, max_per_file, step, j, false);
			set->y[k] = stride_example_make(&plain, i, off, 0, set->x + (size_t)k * ex->window, NULL);
			set->file[k] = i;
		}
	}
	/* mixes keep their augmentation: that is what makes them */
	for (long long j = 0; j < mixes; j++, k++) {
		set->y[k] = stride_example_make(ex, -1, -1, stride_seed_mix(seed, TAG_VAL, (uint64_t)j, 0),
		                                set->x + (size_t)k * ex->window, NULL);
		set->file[k] = -1;
	}
	set->n = k;
	return 0;
}

int stride_val_windows(const StrideExamples *val, int hop, uint64_t seed, StrideWindowSet *set,
                       char err[STRIDE_ERR_LEN])
{
	long long mixes = 0;
	if (val->ds->task == STRIDE_TASK_GATE) {
		int *refs = NULL;
		long long n = 0;
		if (stride_examples_refs(val, &refs, &n) == 0) {
			for (long long i = 0; i < n; i++)
				mixes += refs[i] < 0;
			free(refs);
		}
		if (mixes > 0 && mixes < VAL_MIXES_MIN)
			mixes = VAL_MIXES_MIN;
		if (mixes > VAL_MIXES_MAX)
			mixes = VAL_MIXES_MAX;
	}
	const int window = val->window;
	int step = window / 2 > hop ? window / 2 : hop;
	return stride_windows_build(val, VAL_WINDOWS_PER_FILE, step, mixes,
	                            stride_seed_mix(seed, TAG_VAL, 0, 0), set, err);
}

/* ------------------------------------------------------------------------ */
/* Inference over windows                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
	StrideNet **nets;
	int threads;
	const float *x;
	long long n, step;
	int window, k;
	float gain;
	StrideProbMode mode;
	float *probs;
	int failed;
	char err[STRIDE_ERR_LEN];
} InferCtx;

static void infer_job(void *arg, int tid)
{
	InferCtx *c = arg;
	long long b0, b1;
	stride_share(c->n, c->threads, tid, &b0, &b1);
	if (b1 <= b0)
		return;
	float *buf = malloc((size_t)INFER_CHUNK * (size_t)c->window * sizeof *buf);
	if (!buf) {
		c->failed = 1;
		snprintf(c->err, sizeof c->err, "out of memory");
		return;
	}
	char err[STRIDE_ERR_LEN] = "";
	for (long long i = b0; i < b1; i += INFER_CHUNK) {
		int m = (int)(b1 - i < INFER_CHUNK ? b1 - i : INFER_CHUNK);
		for (int j = 0; j < m; j++) {
			const float *src = c->x + (size_t)(i + j) * (size_t)c->step;
			float *dst = buf + (size_t)j * c->window;
			if (c->gain == 1.0f)
				memcpy(dst, src, (size_t)c->window * sizeof *dst);
			else
				for (int s = 0; s < c->window; s++)
					dst[s] = src[s] * c->gain;
		}
		const float *y;
		int ck = 0, ct = 0;
		if (stride_net_forward(c->nets[tid], buf, m, c->window, false, &y, &ck, &ct, err) != 0 ||
		    ck != c->k) {
			c->failed = 1;
			if (ck != c->k && err[0] == '\0')
				snprintf(err, sizeof err, "the network gives %d outputs, expected %d", ck, c->k);
			memcpy(c->err, err, sizeof err);
			break;
		}
		for (int j = 0; j < m; j++)
			stride_probs_from_outputs(c->mode, y + (size_t)j * ck * ct, ck, ct,
			                          c->probs + (size_t)(i + j) * c->k);
	}
	free(buf);
}

int stride_infer_windows(StrideNet **nets, int threads, const float *x, long long n,
                         long long step, int window, float gain, float *probs, int k,
                         char err[STRIDE_ERR_LEN])
{
	InferCtx c = { nets, threads < 1 ? 1 : threads, x, n, step, window, k, gain,
		       stride_net_prob_mode(nets[0], k), probs, 0, "" };
	if (n <= 0)
		return 0;
	if (c.threads > 1) {
		StrideWorkers *team = stride_workers_new(c.threads);
		if (!team) {
			c.threads = 1;
			infer_job(&c, 0);
		} else {
			stride_workers_run(team, infer_job, &c);
			stride_workers_free(team);
		}
	} else {
		infer_job(&c, 0);
	}
	if (c.failed) {
		stride_set_err(err, "%s", c.err);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Network state: parameters then buffers, as one flat vector                 */
/* ------------------------------------------------------------------------ */

static size_t state_size(StrideNet *net)
{
	size_t n = stride_net_n_params(net);
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if (!t.grad)
			n += t.size;
	}
	return n;
}

static void state_get(StrideNet *net, float *s)
{
	size_t np = stride_net_n_params(net);
	memcpy(s, stride_net_params(net), np * sizeof *s);
	s += np;
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if (!t.grad) {
			memcpy(s, t.data, t.size * sizeof *s);
			s += t.size;
		}
	}
}

static void state_set(StrideNet *net, const float *s)
{
	size_t np = stride_net_n_params(net);
	memcpy(stride_net_params(net), s, np * sizeof *s);
	s += np;
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if (!t.grad) {
			memcpy(t.data, s, t.size * sizeof *s);
			s += t.size;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* One training step, spread over the threads                                */
/* ------------------------------------------------------------------------ */

typedef struct {
	StrideNet *net;
	float *x, *lt, *gl, *gy;
	int *y, *yt;
	int cap;
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
	StrideNet *master;
	const float *master_state;  /* copied into each clone first */
	size_t state_n;
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
	state_set(w->net, c->master_state);
	long long b0, b1;
	stride_share(c->nb, c->threads, tid, &b0, &b1);
	w->n = (int)(b1 - b0);
	w->loss = 0.0;
	w->correct = 0;
	w->decisions = 0;
	if (w->n == 0)
		return;
	for (long long i = b0; i < b1; i++) {
		uint64_t seed = stride_train_item_seed(cfg->seed, c->epoch, c->first + i);
		int *labels = w->y + (size_t)(i - b0) * (size_t)steps;
		labels[0] = stride_example_make(cfg->train, c->refs[i], -1, seed,
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

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
	int epoch;            /* the epoch to run next (0-based) */
	long long step;       /* the step within it to run next */
	int best_epoch;       /* 1-based, 0: none yet */
	double best_loss;
	int bad_epochs;
	double loss_sum;      /* the current epoch's running sums */
	long long correct, decisions, seen;
	bool has_best;
} Progress;

static int save_checkpoint(const StrideTrainConfig *cfg, const Progress *pr, const float *state,
                           const float *best, size_t state_n, const StrideOptim *opt,
                           char err[STRIDE_ERR_LEN])
{
	StrideTensorOut t[4];
	int nt = 0;
	t[nt++] = (StrideTensorOut){ "state", 1, { (int64_t)state_n }, state };
	if (pr->has_best)
		t[nt++] = (StrideTensorOut){ "best", 1, { (int64_t)state_n }, best };
	if (opt->n > 0) {
		t[nt++] = (StrideTensorOut){ "opt.s0", 1, { (int64_t)opt->n }, opt->s0 };
		if (opt->s1)
			t[nt++] = (StrideTensorOut){ "opt.s1", 1, { (int64_t)opt->n }, opt->s1 };
	}
	char v[12][64];
	snprintf(v[0], sizeof v[0], "%d", pr->epoch);
	snprintf(v[1], sizeof v[1], "%lld", pr->step);
	snprintf(v[2], sizeof v[2], "%d", pr->best_epoch);
	snprintf(v[3], sizeof v[3], "%.17g", pr->best_loss);
	snprintf(v[4], sizeof v[4], "%d", pr->bad_epochs);
	snprintf(v[5], sizeof v[5], "%.17g", pr->loss_sum);
	snprintf(v[6], sizeof v[6], "%lld", pr->correct);
	snprintf(v[7], sizeof v[7], "%lld", pr->decisions);
	snprintf(v[8], sizeof v[8], "%lld", pr->seen);
	snprintf(v[9], sizeof v[9], "%lld", opt->t);
	snprintf(v[10], sizeof v[10], "%d", cfg->batch);
	snprintf(v[11], sizeof v[11], "%d", cfg->threads);
	const char *keys[] = { "ckpt.epoch",   "ckpt.step",      "ckpt.best_epoch", "ckpt.best_loss",
		               "ckpt.bad_epochs", "ckpt.loss_sum", "ckpt.correct", "ckpt.decisions",
		               "ckpt.seen",    "ckpt.opt_steps", "ckpt.batch",  "ckpt.threads",
		               "ckpt.optimizer", "ckpt.fingerprint", "stride.checkpoint" };
	const char *vals[] = { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
		               stride_optim_name(opt->cfg.kind),
		               cfg->fingerprint ? cfg->fingerprint : "", "1" };
	return stride_tensorfile_write(cfg->checkpoint, t, nt, keys, vals,
	                               (int)(sizeof keys / sizeof keys[0]), err);
}

static int meta_ll(const StrideTensorFile *f, const char *key, long long *out)
{
	const char *s = stride_tensorfile_meta(f, key);
	if (!s)
		return -1;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int load_tensor(const StrideTensorFile *f, const char *name, float *dst, size_t n,
                       bool required, const char *path, char *err)
{
	int i = stride_tensorfile_find(f, name);
	if (i < 0) {
		if (required)
			stride_set_err(err, "%s: checkpoint has no tensor \"%s\"", path, name);
		return required ? -1 : 1;
	}
	if (stride_tensorfile_size(f, i) != n) {
		stride_set_err(err, "%s: tensor \"%s\" has %zu values, this network needs %zu", path,
		               name, stride_tensorfile_size(f, i), n);
		return -1;
	}
	memcpy(dst, stride_tensorfile_data(f, i), n * sizeof *dst);
	return 0;
}

static int load_checkpoint(const StrideTrainConfig *cfg, Progress *pr, float *state, float *best,
                           size_t state_n, StrideOptim *opt, char err[STRIDE_ERR_LEN])
{
	const char *path = cfg->resume;
	StrideTensorFile *f = stride_tensorfile_read(path, err);
	if (!f)
		return -1;
	int rc = -1;
	const char *fp = stride_tensorfile_meta(f, "ckpt.fingerprint");
	const char *kind = stride_tensorfile_meta(f, "ckpt.optimizer");
	long long v[11];
	static const char *const keys[] = { "ckpt.epoch",      "ckpt.step",    "ckpt.best_epoch",
		                            "ckpt.bad_epochs", "ckpt.correct", "ckpt.decisions",
		                            "ckpt.seen",       "ckpt.opt_steps", "ckpt.batch",
		                            "ckpt.threads" };
	if (!stride_tensorfile_meta(f, "stride.checkpoint") || !fp || !kind) {
		stride_set_err(err, "%s: not a stride training checkpoint", path);
		goto done;
	}
	for (int i = 0; i < 10; i++)
		if (meta_ll(f, keys[i], &v[i]) < 0) {
			stride_set_err(err, "%s: checkpoint metadata %s is missing or not a number", path,
			               keys[i]);
			goto done;
		}
	if (cfg->fingerprint && strcmp(fp, cfg->fingerprint) != 0) {
		stride_set_err(err,
		               "%s: made for another architecture, label set or window; resume with the "
		               "same --arch, --data, --window and --rate",
		               path);
		goto done;
	}
	if (strcmp(kind, stride_optim_name(opt->cfg.kind)) != 0) {
		stride_set_err(err, "%s: made with --optimizer %s, not %s", path, kind,
		               stride_optim_name(opt->cfg.kind));
		goto done;
	}
	if (load_tensor(f, "state", state, state_n, true, path, err) < 0)
		goto done;
	int hb = load_tensor(f, "best", best, state_n, false, path, err);
	if (hb < 0)
		goto done;
	if (opt->n > 0 && load_tensor(f, "opt.s0", opt->s0, opt->n, true, path, err) < 0)
		goto done;
	if (opt->s1 && load_tensor(f, "opt.s1", opt->s1, opt->n, true, path, err) < 0)
		goto done;
	const char *bl = stride_tensorfile_meta(f, "ckpt.best_loss");
	const char *ls = stride_tensorfile_meta(f, "ckpt.loss_sum");
	pr->epoch = (int)v[0];
	pr->step = v[1];
	pr->best_epoch = (int)v[2];
	pr->bad_epochs = (int)v[3];
	pr->correct = v[4];
	pr->decisions = v[5];
	pr->seen = v[6];
	opt->t = v[7];
	pr->best_loss = bl ? strtod(bl, NULL) : INFINITY;
	pr->loss_sum = ls ? strtod(ls, NULL) : 0.0;
	pr->has_best = hb == 0;
	if (v[8] != cfg->batch || v[9] != cfg->threads)
		fprintf(cfg->out,
		        "note: the checkpoint was made with --batch %lld --threads %lld; this run uses "
		        "--batch %d --threads %d, so it will not match an uninterrupted run bit for bit\n",
		        v[8], v[9], cfg->batch, cfg->threads);
	rc = 0;
done:
	stride_tensorfile_free(f);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */

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
	stride_workers_free(L->team);
	stride_net_free(L->master);
	stride_optim_free(L->opt);
	free(L->refs);
	free(L->order);
	free(L->state);
	free(L->best);
	free(L->grad);
	free(L->val_probs);
}

void stride_epoch_order(const int *refs, long long n_refs, uint64_t seed, int epoch,
                        long long size, int *order)
{
	StrideRng r;
	stride_rng_seed(&r, stride_seed_mix(seed, TAG_ORDER, (uint64_t)epoch, 0));
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

uint64_t stride_train_item_seed(uint64_t seed, int epoch, long long position)
{
	return stride_seed_mix(seed, TAG_ITEM, (uint64_t)epoch, (uint64_t)position);
}

/* The example refs of an epoch, in its shuffled order. */
static void epoch_order(const StrideTrainConfig *cfg, const Loop *L, int epoch, long long size)
{
	stride_epoch_order(L->refs, L->n_refs, cfg->seed, epoch, size, L->order);
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
		state_set(L->w[t].net, L->state);
		nets[t] = L->w[t].net;
	}
	int rc = stride_infer_windows(nets, L->threads, v->x, v->n, v->window, v->window, 1.0f,
	                              L->val_probs, cfg->n_labels, err);
	free(nets);
	if (rc < 0)
		return -1;
	stride_metrics_reset(m);
	for (long long i = 0; i < v->n; i++)
		stride_metrics_add_probs(m, v->y[i], L->val_probs + (size_t)i * cfg->n_labels);
	return 0;
}

static int setup(const StrideTrainConfig *cfg, Loop *L, int n_train_specs, char *err)
{
	L->master = stride_net_new(cfg->specs, n_train_specs, err);
	if (!L->master)
		return -1;
	stride_net_init_params(L->master, cfg->seed);
	int c = 0, t = 0;
	if (stride_net_output_shape(L->master, cfg->window, &c, &t, err) < 0) {
		stride_prefix_err(err, "a window of %d samples", cfg->window);
		return -1;
	}
	if (cfg->train->steps > 1 && t != cfg->train->steps) {
		stride_set_err(err,
		               "%d steps per example need a network with one output step per hop: "
		               "it gives %d for %d samples (no global pooling, hop = its total stride)",
		               cfg->train->steps, t, cfg->window);
		return -1;
	}
	if (c != cfg->n_labels) {
		stride_set_err(err,
		               "the network outputs %d channel%s but the data has %d classes: make the "
		               "last layer's \"out\" %d",
		               c, c == 1 ? "" : "s", cfg->n_labels, cfg->n_labels);
		return -1;
	}
	L->state_n = state_size(L->master);
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
	/* weight decay on conv and dense weights only (tensors of rank >= 2) */
	{
		float *base = stride_net_params(L->master);
		for (int i = 0; i < stride_net_n_tensors(L->master); i++) {
			StrideTensor tt = stride_net_tensor(L->master, i);
			if (tt.grad && tt.ndim >= 2)
				for (size_t j = 0; j < tt.size; j++)
					decay[(size_t)(tt.data - base) + j] = true;
		}
	}
	L->opt = stride_optim_new(&cfg->opt, np, decay);
	free(decay);
	if (!L->opt) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	state_get(L->master, L->state);

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
		w->cap = shard;
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
	if (L->threads > 1 && !(L->team = stride_workers_new(L->threads))) {
		stride_set_err(err, "cannot start %d threads", L->threads);
		return -1;
	}
	if (stride_examples_refs(cfg->train, &L->refs, &L->n_refs) < 0) {
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
	state_set(L->master, state);
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

static double elapsed_since(double t0)
{
	return stride_now() - t0;
}

int stride_train(const StrideTrainConfig *cfg, StrideTrainResult *res, char err[STRIDE_ERR_LEN])
{
	memset(res, 0, sizeof *res);
	Loop L;
	memset(&L, 0, sizeof L);
	StrideMetrics vm;
	memset(&vm, 0, sizeof vm);
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
	if (setup(cfg, &L, n_train_specs, err) < 0)
		goto done;
	if (stride_metrics_init(&vm, cfg->n_labels) < 0) {
		stride_set_err(err, "out of memory");
		goto done;
	}

	const long long epoch_size = cfg->epoch_size > 0 ? cfg->epoch_size : L.n_refs;
	L.order = malloc((size_t)epoch_size * sizeof *L.order);
	if (!L.order) {
		stride_set_err(err, "out of memory for an epoch of %lld examples", epoch_size);
		goto done;
	}
	/* full batches only (an epoch smaller than a batch is one smaller step) */
	const long long steps = epoch_size >= cfg->batch ? epoch_size / cfg->batch : 1;
	const int nb_last = epoch_size >= cfg->batch ? cfg->batch : (int)epoch_size;
	StrideSchedule sched = { cfg->schedule, cfg->lr, cfg->min_lr,
		                 (long long)llround(cfg->warmup_epochs * (double)steps),
		                 (long long)cfg->epochs * steps, (long long)cfg->step_epochs * steps,
		                 cfg->gamma };

	Progress pr = { 0, 0, 0, INFINITY, 0, 0.0, 0, 0, 0, false };
	if (cfg->resume) {
		if (load_checkpoint(cfg, &pr, L.state, L.best, L.state_n, L.opt, err) < 0)
			goto done;
		if (pr.step >= steps) {
			pr.epoch++;
			pr.step = 0;
		}
		fprintf(cfg->out, "resuming from %s at epoch %d, step %lld\n", cfg->resume, pr.epoch + 1,
		        pr.step);
	}
	const bool have_val = cfg->val && cfg->val->n > 0;
	const int first_epoch = pr.epoch;
	int last_epoch = cfg->epochs;
	if (cfg->stop_after > 0 && first_epoch + cfg->stop_after < last_epoch)
		last_epoch = first_epoch + cfg->stop_after;

	StrideProgress prog;
	long long steps_left = (long long)(last_epoch - first_epoch) * steps - pr.step;
	stride_progress_init(&prog, cfg->out, cfg->epochs, steps, steps_left > 0 ? steps_left : 1);
	double train_time = 0.0;
	bool stop = false;

	for (int e = first_epoch; e < last_epoch && !stop; e++) {
		epoch_order(cfg, &L, e, epoch_size);
		if (pr.step == 0) {
			pr.loss_sum = 0.0;
			pr.correct = pr.decisions = pr.seen = 0;
		}
		stride_progress_epoch_start(&prog);
		double epoch_t0 = stride_now();
		for (long long s = pr.step; s < steps; s++) {
			double t0 = stride_now();
			StepCtx sc = { cfg, L.w, L.threads, L.master, L.state, L.state_n,
				       L.order + s * cfg->batch, s * cfg->batch,
				       steps == 1 ? nb_last : cfg->batch, e, cfg->n_labels };
			if (L.team)
				stride_workers_run(L.team, step_job, &sc);
			else
				step_job(&sc, 0);
			/* gradients and running statistics: weighted by share, in thread order */
			size_t np = stride_net_n_params(L.master);
			memset(L.grad, 0, np * sizeof *L.grad);
			double loss = 0.0;
			for (int t = 0; t < L.threads; t++) {
				Worker *w = &L.w[t];
				if (w->failed) {
					stride_set_err(err, "epoch %d step %lld: %s", e + 1, s + 1, w->err);
					goto done;
				}
				if (w->n == 0)
					continue;
				const float wt = (float)w->n / (float)sc.nb;
				const float *g = stride_net_grads(w->net);
				for (size_t i = 0; i < np; i++)
					L.grad[i] += wt * g[i];
				loss += w->loss * w->n;
				pr.correct += w->correct;
				pr.decisions += w->decisions;
			}
			if (!isfinite(loss)) {
				stride_set_err(err,
				               "training diverged at epoch %d step %lld (the loss is not finite): "
				               "try a lower --lr",
				               e + 1, s + 1);
				goto done;
			}
			/* running statistics: the mean over the threads' copies */
			{
				float *dst = L.state + np;
				size_t off = 0;
				for (int i = 0; i < stride_net_n_tensors(L.master); i++) {
					StrideTensor mt = stride_net_tensor(L.master, i);
					if (mt.grad)
						continue;
					for (size_t j = 0; j < mt.size; j++) {
						float acc = 0.0f;
						for (int t = 0; t < L.threads; t++) {
							Worker *w = &L.w[t];
							if (w->n)
								acc += ((float)w->n / (float)sc.nb) *
								       stride_net_tensor(w->net, i).data[j];
						}
						dst[off + j] = acc;
					}
					off += mt.size;
				}
			}
			long long global = (long long)e * steps + s;
			stride_optim_step(L.opt, L.state, L.grad, stride_schedule_lr(&sched, global));
			stride_net_constrain(L.master, L.state); /* params lead the state */
			pr.loss_sum += loss;
			pr.seen += sc.nb;
			pr.step = s + 1;
			double dt = elapsed_since(t0);
			train_time += dt;
			res->samples += sc.nb;
			stride_progress_step(&prog, e + 1, s + 1, sc.nb, pr.loss_sum / (double)pr.seen,
			                     pr.decisions ? (double)pr.correct / (double)pr.decisions : 0.0);
			if (cfg->interrupt && *cfg->interrupt) {
				stride_progress_clear(&prog);
				pr.epoch = e;
				if (cfg->checkpoint) {
					if (save_checkpoint(cfg, &pr, L.state, L.best, L.state_n, L.opt, err) < 0)
						goto done;
					fprintf(cfg->out,
					        "interrupted at epoch %d step %lld: state saved in %s (continue "
					        "with --resume %s)\n",
					        e + 1, s + 1, cfg->checkpoint, cfg->checkpoint);
				} else {
					fprintf(cfg->out, "interrupted at epoch %d step %lld (no checkpoint)\n",
					        e + 1, s + 1);
				}
				res->interrupted = true;
				res->epochs_done = e;
				stop = true;
				break;
			}
		}
		if (stop)
			break;
		stride_progress_clear(&prog);
		double rate = stride_progress_rate(&prog);
		res->train_loss = pr.seen ? pr.loss_sum / (double)pr.seen : 0.0;
		res->train_accuracy = pr.decisions ? (double)pr.correct / (double)pr.decisions : 0.0;
		fprintf(cfg->out, "epoch %d/%d: train loss %.4f acc %.2f%%", e + 1, cfg->epochs,
		        res->train_loss, 100.0 * res->train_accuracy);
		bool better = false;
		if (have_val) {
			if (validate(cfg, &L, &vm, err) < 0)
				goto done;
			double vl = stride_metrics_mean_loss(&vm);
			better = !pr.has_best || vl < pr.best_loss;
			if (better) {
				pr.best_loss = vl;
				pr.best_epoch = e + 1;
				pr.bad_epochs = 0;
				pr.has_best = true;
				memcpy(L.best, L.state, L.state_n * sizeof *L.best);
			} else {
				pr.bad_epochs++;
			}
			fprintf(cfg->out, " | val loss %.4f acc %.2f%%", vl, 100.0 * stride_metrics_accuracy(&vm));
		}
		fprintf(cfg->out, " | lr %.3g | %.0f samples/s | %.1f s%s\n",
		        stride_schedule_lr(&sched, (long long)(e + 1) * steps - 1), rate,
		        elapsed_since(epoch_t0), better ? " *" : "");
		fflush(cfg->out);
		pr.epoch = e + 1;
		pr.step = 0;
		res->epochs_done = e + 1;
		if (have_val && cfg->patience > 0 && pr.bad_epochs >= cfg->patience && e + 1 < cfg->epochs) {
			fprintf(cfg->out, "early stop: no better validation loss for %d epochs (best: epoch %d)\n",
			        pr.bad_epochs, pr.best_epoch);
			res->stopped_early = true;
			stop = true;
			pr.epoch = cfg->epochs; /* a resume has nothing left to do */
		}
		if (cfg->checkpoint &&
		    save_checkpoint(cfg, &pr, L.state, L.best, L.state_n, L.opt, err) < 0)
			goto done;
	}
	if (res->epochs_done < first_epoch)
		res->epochs_done = first_epoch;
	res->paused = !res->interrupted && !res->stopped_early && res->epochs_done < cfg->epochs;
	res->best_epoch = pr.has_best ? pr.best_epoch : 0;
	res->best_val_loss = pr.has_best ? pr.best_loss : 0.0;
	res->samples_per_s = train_time > 0.0 ? (double)res->samples / train_time : 0.0;
	res->net = final_net(cfg, &L, pr.has_best ? L.best : L.state, err);
	if (!res->net)
		goto done;
	rc = 0;
done:
	stride_metrics_free(&vm);
	loop_free(&L);
	return rc;
}
