/* Losses, averaged over the batch, with their gradients. */
#include <math.h>

#include "stride.h"

float stride_loss_softmax_xent(const float *logits, const int *labels, int n, int k, float *grad)
{
	double total = 0.0;
	for (int i = 0; i < n; i++) {
		const float *z = logits + (size_t)i * k;
		float mx = z[0];
		for (int j = 1; j < k; j++)
			if (z[j] > mx)
				mx = z[j];
		double sum = 0.0;
		for (int j = 0; j < k; j++)
			sum += exp((double)z[j] - mx);
		const double log_sum = log(sum) + mx;
		total += log_sum - z[labels[i]];
		if (grad) {
			float *g = grad + (size_t)i * k;
			for (int j = 0; j < k; j++) {
				const double p = exp((double)z[j] - log_sum);
				g[j] = (float)((p - (j == labels[i] ? 1.0 : 0.0)) / n);
			}
		}
	}
	return (float)(total / n);
}

float stride_loss_bce_logits(const float *logits, const float *targets, int n, float *grad)
{
	double total = 0.0;
	for (int i = 0; i < n; i++) {
		const double z = logits[i];
		const double y = targets[i];
		/* max(z,0) - z*y + log(1 + exp(-|z|)): never overflows */
		total += (z > 0 ? z : 0) - z * y + log1p(exp(-fabs(z)));
		if (grad) {
			const double p = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
			grad[i] = (float)((p - y) / n);
		}
	}
	return (float)(total / n);
}

float stride_loss_bce(const float *p, const float *targets, int n, float *grad)
{
	double total = 0.0;
	for (int i = 0; i < n; i++) {
		const double q = p[i];
		const double y = targets[i];
		/* PyTorch clamps each log at -100 so p = 0 or 1 stays finite */
		const double lq = q > 0 ? fmax(log(q), -100.0) : -100.0;
		const double l1q = q < 1 ? fmax(log1p(-q), -100.0) : -100.0;
		total -= y * lq + (1.0 - y) * l1q;
		if (grad) {
			const double eps = 1e-12;
			const double d = fmax(q * (1.0 - q), eps);
			grad[i] = (float)((q - y) / d / n);
		}
	}
	return (float)(total / n);
}
