/* A network's outputs as class probabilities: the one rule the plugins,
 * `stride predict`, `stride eval` and the trainer's reports share. */
#include <math.h>

#include "stride.h"

StrideProbMode stride_net_prob_mode(const StrideNet *net, int n_classes)
{
	const int n = stride_net_n_layers(net);
	const StrideLayerSpec *last = n > 0 ? stride_net_layer(net, n - 1) : NULL;
	if (last && (last->type == STRIDE_SOFTMAX || last->type == STRIDE_SIGMOID))
		return STRIDE_PROBS_AS_IS;
	return n_classes == 1 ? STRIDE_PROBS_SIGMOID : STRIDE_PROBS_SOFTMAX;
}

void stride_probs_from_outputs(StrideProbMode mode, const float *raw, int k, int t, float *p)
{
	for (int c = 0; c < k; c++)
		p[c] = 0.0f;
	for (int s = 0; s < t; s++) {
		if (mode == STRIDE_PROBS_SOFTMAX) {
			float top = -INFINITY;
			for (int c = 0; c < k; c++)
				if (raw[c * t + s] > top)
					top = raw[c * t + s];
			float sum = 0.0f;
			for (int c = 0; c < k; c++)
				sum += expf(raw[c * t + s] - top);
			for (int c = 0; c < k; c++)
				p[c] += expf(raw[c * t + s] - top) / sum;
		} else if (mode == STRIDE_PROBS_SIGMOID) {
			for (int c = 0; c < k; c++)
				p[c] += 1.0f / (1.0f + expf(-raw[c * t + s]));
		} else {
			for (int c = 0; c < k; c++)
				p[c] += raw[c * t + s];
		}
	}
	for (int c = 0; c < k; c++) {
		const float v = p[c] / (float)t;
		/* a saturated or broken network must not push NaN into a gate or a report */
		p[c] = v >= 0.0f ? (v <= 1.0f ? v : 1.0f) : 0.0f;
	}
}
