/* Training checkpoints and the network state they hold (see checkpoint.h). */
#include "checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

size_t cli_state_size(StrideNet *net)
{
	size_t n = stride_net_n_params(net);
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if (!t.grad)
			n += t.size;
	}
	return n;
}

void cli_state_get(StrideNet *net, float *s)
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

void cli_state_set(StrideNet *net, const float *s)
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

int cli_checkpoint_save(const StrideTrainConfig *cfg, const StrideTrainProgress *pr,
                        const float *state, const float *best, size_t state_n,
                        const StrideOptim *opt, char err[STRIDE_ERR_LEN])
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

int cli_checkpoint_load(const StrideTrainConfig *cfg, StrideTrainProgress *pr, float *state,
                        float *best, size_t state_n, StrideOptim *opt, char err[STRIDE_ERR_LEN])
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
