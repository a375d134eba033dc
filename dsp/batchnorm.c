/* batchnorm1d: per-channel normalisation over the batch and time,
 * y = gamma * (x - mean) / sqrt(var + eps) + beta. Training uses the batch's
 * statistics (biased variance) and moves the running statistics towards them
 * (unbiased variance, as PyTorch does); inference uses the running statistics. */
#include <math.h>

#include "layers.h"

int stride_bn_forward_train(const StrideBnGeom *g, const float *x, const float *gamma,
                            const float *beta, float *running_mean, float *running_var,
                            float *y, float *save_mean, float *save_invstd)
{
	const size_t count = (size_t)g->n * g->t;
	if (count < 2)
		return -1;
	for (int c = 0; c < g->c; c++) {
		double sum = 0.0;
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			for (int t = 0; t < g->t; t++)
				sum += xr[t];
		}
		const double mean = sum / (double)count;
		double sq = 0.0;
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			for (int t = 0; t < g->t; t++) {
				const double d = xr[t] - mean;
				sq += d * d;
			}
		}
		const double var = sq / (double)count;
		const double invstd = 1.0 / sqrt(var + g->eps);
		save_mean[c] = (float)mean;
		save_invstd[c] = (float)invstd;
		const double m = g->momentum;
		running_mean[c] = (float)((1.0 - m) * running_mean[c] + m * mean);
		running_var[c] =
		        (float)((1.0 - m) * running_var[c] + m * var * (double)count / (double)(count - 1));
		const float scale = (float)(gamma[c] * invstd);
		const float shift = (float)(beta[c] - mean * gamma[c] * invstd);
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			float *yr = y + ((size_t)n * g->c + c) * g->t;
			for (int t = 0; t < g->t; t++)
				yr[t] = xr[t] * scale + shift;
		}
	}
	return 0;
}

void stride_bn_forward_eval(const StrideBnGeom *g, const float *x, const float *gamma,
                            const float *beta, const float *running_mean,
                            const float *running_var, float *y)
{
	for (int c = 0; c < g->c; c++) {
		const double invstd = 1.0 / sqrt((double)running_var[c] + g->eps);
		const float scale = (float)(gamma[c] * invstd);
		const float shift = (float)(beta[c] - running_mean[c] * gamma[c] * invstd);
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			float *yr = y + ((size_t)n * g->c + c) * g->t;
			for (int t = 0; t < g->t; t++)
				yr[t] = xr[t] * scale + shift;
		}
	}
}

void stride_bn_backward_train(const StrideBnGeom *g, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, const float *dy,
                              float *dx, float *dgamma, float *dbeta)
{
	const double count = (double)g->n * g->t;
	for (int c = 0; c < g->c; c++) {
		const double mean = save_mean[c];
		const double invstd = save_invstd[c];
		double sum_dy = 0.0, sum_dy_xhat = 0.0;
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			const float *dr = dy + ((size_t)n * g->c + c) * g->t;
			for (int t = 0; t < g->t; t++) {
				sum_dy += dr[t];
				sum_dy_xhat += dr[t] * (xr[t] - mean) * invstd;
			}
		}
		dgamma[c] = (float)sum_dy_xhat;
		dbeta[c] = (float)sum_dy;
		if (!dx)
			continue;
		/* dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) */
		const double k = gamma[c] * invstd / count;
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			const float *dr = dy + ((size_t)n * g->c + c) * g->t;
			float *dxr = dx + ((size_t)n * g->c + c) * g->t;
			for (int t = 0; t < g->t; t++) {
				const double xhat = (xr[t] - mean) * invstd;
				dxr[t] = (float)(k * (count * dr[t] - sum_dy - xhat * sum_dy_xhat));
			}
		}
	}
}

void stride_bn_backward_eval(const StrideBnGeom *g, const float *x, const float *gamma,
                             const float *running_mean, const float *running_var,
                             const float *dy, float *dx, float *dgamma, float *dbeta)
{
	for (int c = 0; c < g->c; c++) {
		const double invstd = 1.0 / sqrt((double)running_var[c] + g->eps);
		double sum_dy = 0.0, sum_dy_xhat = 0.0;
		for (int n = 0; n < g->n; n++) {
			const float *xr = x + ((size_t)n * g->c + c) * g->t;
			const float *dr = dy + ((size_t)n * g->c + c) * g->t;
			float *dxr = dx ? dx + ((size_t)n * g->c + c) * g->t : NULL;
			for (int t = 0; t < g->t; t++) {
				sum_dy += dr[t];
				sum_dy_xhat += dr[t] * (xr[t] - running_mean[c]) * invstd;
				if (dxr)
					dxr[t] = (float)(dr[t] * gamma[c] * invstd);
			}
		}
		dgamma[c] = (float)sum_dy_xhat;
		dbeta[c] = (float)sum_dy;
	}
}
