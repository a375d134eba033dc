/* Hand-weighted models for the gate and classifier tests: they look at the mean
 * absolute level of each window, so what they decide is known exactly, unlike a
 * trained model's.
 *
 *   rect (conv1d 1->2, kernel 1, weights +1 and -1) -> relu: |x| on two channels
 *   sum (conv1d 2->1, weights k, k, bias -k*level) -> global_avgpool:
 *       k * (mean|x| - level)
 *   gate: sigmoid -> P(content);  classifier: dense 1->2 (-1, +1), softmax:
 *       P(quiet), P(loud)
 *
 * Stream-friendly (no padding); window and hop as given. */
#ifndef STRIDE_TEST_MODELS_H
#define STRIDE_TEST_MODELS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stride.h"

static inline void test_model_set(StrideNet *net, const char *name, const float *v, int n)
{
	const int i = stride_net_find_tensor(net, name);
	if (i < 0) {
		fprintf(stderr, "test model: no tensor %s\n", name);
		return;
	}
	StrideTensor t = stride_net_tensor(net, i);
	for (int k = 0; k < n && (size_t)k < t.size; k++)
		t.data[k] = v[k];
}

/* level: the mean |x| at which the decision is 0.5; k: its steepness. skip:
 * the first `skip` samples of each window are not heard (the rect kernel is
 * skip + 1 taps, all 0 but the last), so the decision is the one the model
 * with skip 0 makes on the last window - skip samples, exactly. */
static inline StrideModel *test_energy_model_skip(bool classifier, int rate, int window, int hop,
                                                  float level, float k, int skip)
{
	StrideLayerSpec s[7];
	int n = 0;
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "rect");
	s[n].in = 1;
	s[n].out = 2;
	s[n].kernel = skip + 1;
	s[n++].bias = false;
	s[n++] = stride_layer_spec_defaults(STRIDE_RELU);
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "sum");
	s[n].in = 2;
	s[n].out = 1;
	s[n++].kernel = 1;
	s[n++] = stride_layer_spec_defaults(STRIDE_GLOBAL_AVGPOOL);
	if (classifier) {
		s[n] = stride_layer_spec_defaults(STRIDE_DENSE);
		snprintf(s[n].name, sizeof s[n].name, "fc");
		s[n].in = 1;
		s[n].out = 2;
		s[n++].bias = false;
		s[n++] = stride_layer_spec_defaults(STRIDE_SOFTMAX);
	} else {
		s[n++] = stride_layer_spec_defaults(STRIDE_SIGMOID);
	}
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, n, err);
	if (!net) {
		fprintf(stderr, "test model: %s\n", err);
		return NULL;
	}
	const float sum[] = {k, k}, bias[] = {-k * level};
	const float fc[] = {-1.0f, 1.0f};
	const int taps = skip + 1; /* rect.weight is [2][1][taps] */
	float *rect = calloc(2 * (size_t)taps, sizeof *rect);
	if (!rect) {
		stride_net_free(net);
		return NULL;
	}
	rect[taps - 1] = 1.0f;
	rect[2 * taps - 1] = -1.0f;
	test_model_set(net, "rect.weight", rect, 2 * taps);
	free(rect);
	test_model_set(net, "sum.weight", sum, 2);
	test_model_set(net, "sum.bias", bias, 1);
	if (classifier)
		test_model_set(net, "fc.weight", fc, 2);
	static const char *const gate_labels[] = {"content"};
	static const char *const cls_labels[] = {"quiet", "loud"};
	StrideModel *m = stride_model_new(net, classifier ? STRIDE_TASK_CLASSIFY : STRIDE_TASK_GATE,
	                                  rate, classifier ? cls_labels : gate_labels,
	                                  classifier ? 2 : 1, err);
	if (!m) {
		fprintf(stderr, "test model: %s\n", err);
		return NULL;
	}
	m->window = window;
	m->hop = hop;
	return m;
}

static inline StrideModel *test_energy_model(bool classifier, int rate, int window, int hop,
                                             float level, float k)
{
	return test_energy_model_skip(classifier, rate, window, hop, level, k, 0);
}

/* A gate that opens only for windows that are loud from end to end:
 * P(content) = sigmoid(k * (min|x| - level)), via a global max pool of
 * level - |x|. The first window that opens for a steady sound starts at or
 * after its onset, so this model tests that the lookahead opens the gate in
 * time all by itself. */
static inline StrideModel *test_min_level_model(int rate, int window, int hop, float level,
                                                float k)
{
	StrideLayerSpec s[7];
	int n = 0;
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "rect");
	s[n].in = 1;
	s[n].out = 2;
	s[n].kernel = 1;
	s[n++].bias = false;
	s[n++] = stride_layer_spec_defaults(STRIDE_RELU);
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "below");
	s[n].in = 2;
	s[n].out = 1;
	s[n++].kernel = 1;
	s[n++] = stride_layer_spec_defaults(STRIDE_GLOBAL_MAXPOOL);
	s[n] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[n].name, sizeof s[n].name, "scale");
	s[n].in = 1;
	s[n].out = 1;
	s[n].kernel = 1;
	s[n++].bias = false;
	s[n++] = stride_layer_spec_defaults(STRIDE_SIGMOID);
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, n, err);
	if (!net) {
		fprintf(stderr, "test model: %s\n", err);
		return NULL;
	}
	const float rect[] = {1.0f, -1.0f}, below[] = {-1.0f, -1.0f}, bias[] = {level};
	const float scale[] = {-k};
	test_model_set(net, "rect.weight", rect, 2);
	test_model_set(net, "below.weight", below, 2);
	test_model_set(net, "below.bias", bias, 1);
	test_model_set(net, "scale.weight", scale, 1);
	static const char *const labels[] = {"content"};
	StrideModel *m = stride_model_new(net, STRIDE_TASK_GATE, rate, labels, 1, err);
	if (!m) {
		fprintf(stderr, "test model: %s\n", err);
		return NULL;
	}
	m->window = window;
	m->hop = hop;
	return m;
}

#endif /* STRIDE_TEST_MODELS_H */
