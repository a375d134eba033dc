/* Inference over windows on several threads (see infer.h). */
#include "infer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "workers.h"

/* Windows per forward call. */
#define INFER_CHUNK 64

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
	cli_share(c->n, c->threads, tid, &b0, &b1);
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

int cli_infer_windows(StrideNet **nets, int threads, const float *x, long long n,
                      long long step, int window, float gain, float *probs, int k,
                      char err[STRIDE_ERR_LEN])
{
	InferCtx c = { nets, threads < 1 ? 1 : threads, x, n, step, window, k, gain,
		       stride_net_prob_mode(nets[0], k), probs, 0, "" };
	if (n <= 0)
		return 0;
	cli_workers_run_once(&c.threads, infer_job, &c);
	if (c.failed) {
		stride_set_err(err, "%s", c.err);
		return -1;
	}
	return 0;
}

int cli_infer_net_windows(const StrideNet *net, int threads, const float *x, long long n,
                          long long step, int window, float gain, float *probs, int k,
                          char err[STRIDE_ERR_LEN])
{
	if (threads < 1)
		threads = 1;
	StrideNet **nets = calloc((size_t)threads, sizeof *nets);
	if (!nets) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	int rc = 0;
	for (int t = 0; t < threads && rc == 0; t++)
		if (!(nets[t] = stride_net_clone(net, err)))
			rc = -1;
	if (rc == 0)
		rc = cli_infer_windows(nets, threads, x, n, step, window, gain, probs, k, err);
	for (int t = 0; t < threads; t++)
		stride_net_free(nets[t]);
	free(nets);
	return rc;
}
