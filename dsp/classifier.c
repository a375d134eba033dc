/* Stride Genre's DSP: detector decisions averaged over time. */
#include "classifier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "util.h"

const StrideParamInfo stride_classifier_smoothing_info = {
	"smoothing", "Smoothing",
	"Seconds over which the class probabilities are averaged; 0 shows each decision as it comes.",
	"s", 0.0f, 30.0f, 3.0f, false};

struct StrideClassifier {
	StrideDetector *det;
	int channels;
	int n_classes;
	char **labels;
	double hop_seconds;
	float smoothing; /* seconds */
	float alpha;     /* weight of a new decision */
	float *avg;      /* smoothed probabilities */
	int top;
	float confidence;
	int64_t decisions;
	float *probs;    /* one push's decisions */
};

static void update_alpha(StrideClassifier *cls)
{
	cls->alpha = cls->smoothing > 0.0f
	                 ? (float)(1.0 - exp(-cls->hop_seconds / (double)cls->smoothing))
	                 : 1.0f;
}

StrideClassifier *stride_classifier_new(const StrideModel *model, double host_rate, int channels,
                                        char err[STRIDE_ERR_LEN])
{
	if (model->task != STRIDE_TASK_CLASSIFY) {
		stride_set_err(err, "this is a gate model, not a classifier model");
		return NULL;
	}
	StrideClassifier *cls = calloc(1, sizeof *cls);
	if (!cls) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	cls->det = stride_detector_new(model, host_rate, channels, err);
	if (!cls->det)
		goto fail;
	cls->channels = channels;
	cls->n_classes = stride_detector_n_classes(cls->det);
	cls->hop_seconds = (double)stride_detector_hop(cls->det) / stride_detector_model_rate(cls->det);
	cls->labels = calloc((size_t)cls->n_classes, sizeof(char *));
	cls->avg = calloc((size_t)cls->n_classes, sizeof(float));
	cls->probs = calloc((size_t)stride_detector_max_decisions(cls->det) * (size_t)cls->n_classes,
	                    sizeof(float));
	if (!cls->labels || !cls->avg || !cls->probs)
		goto oom;
	for (int i = 0; i < cls->n_classes; i++) {
		const size_t len = strlen(model->labels[i]);
		cls->labels[i] = malloc(len + 1);
		if (!cls->labels[i])
			goto oom;
		memcpy(cls->labels[i], model->labels[i], len + 1);
	}
	cls->smoothing = stride_classifier_smoothing_info.def;
	update_alpha(cls);
	return cls;
oom:
	stride_set_err(err, "out of memory");
fail:
	stride_classifier_free(cls);
	return NULL;
}

void stride_classifier_free(StrideClassifier *cls)
{
	if (!cls)
		return;
	stride_detector_free(cls->det);
	if (cls->labels)
		for (int i = 0; i < cls->n_classes; i++)
			free(cls->labels[i]);
	free(cls->labels);
	free(cls->avg);
	free(cls->probs);
	free(cls);
}

void stride_classifier_reset(StrideClassifier *cls)
{
	stride_detector_reset(cls->det);
	memset(cls->avg, 0, sizeof(float) * (size_t)cls->n_classes);
	cls->top = 0;
	cls->confidence = 0.0f;
	cls->decisions = 0;
}

void stride_classifier_continue_from(StrideClassifier *cls, const StrideClassifier *prev)
{
	if (prev->n_classes != cls->n_classes)
		return;
	for (int i = 0; i < cls->n_classes; i++)
		if (strcmp(prev->labels[i], cls->labels[i]) != 0)
			return;
	memcpy(cls->avg, prev->avg, sizeof(float) * (size_t)cls->n_classes);
	cls->top = prev->top;
	cls->confidence = prev->confidence;
	cls->decisions = prev->decisions;
}

void stride_classifier_set_smoothing(StrideClassifier *cls, float seconds)
{
	seconds = stride_param_clamp(&stride_classifier_smoothing_info, seconds);
	if (seconds != cls->smoothing) {
		cls->smoothing = seconds;
		update_alpha(cls);
	}
}

static void take(StrideClassifier *cls, const float *p)
{
	const int k = cls->n_classes;
	const float a = cls->decisions == 0 ? 1.0f : cls->alpha;
	float sum = 0.0f;
	for (int i = 0; i < k; i++) {
		float v = cls->avg[i] + a * (p[i] - cls->avg[i]);
		if (!(v >= 1e-30f)) /* NaN, negative or denormal */
			v = 0.0f;
		cls->avg[i] = v;
		sum += v;
	}
	cls->decisions++;
	int top = 0;
	for (int i = 1; i < k; i++)
		if (cls->avg[i] > cls->avg[top])
			top = i;
	cls->top = top;
	/* sigmoid outputs need not sum to 1: the confidence is the top's share */
	cls->confidence = sum > 0.0f ? cls->avg[top] / sum : 0.0f;
}

void stride_classifier_process(StrideClassifier *cls, const float *const *in, uint32_t n)
{
	uint32_t done = 0;
	while (done < n) {
		const uint32_t left = n - done;
		const int m = left < STRIDE_DETECTOR_MAX_FRAMES ? (int)left : STRIDE_DETECTOR_MAX_FRAMES;
		const float *chunk[STRIDE_DETECTOR_MAX_CHANNELS];
		for (int c = 0; c < cls->channels; c++)
			chunk[c] = in[c] + done;
		const int got = stride_detector_push(cls->det, chunk, m, cls->probs);
		for (int d = 0; d < got; d++)
			take(cls, cls->probs + (size_t)d * cls->n_classes);
		done += (uint32_t)m;
	}
}

int stride_classifier_n_classes(const StrideClassifier *cls)
{
	return cls->n_classes;
}

const char *stride_classifier_label(const StrideClassifier *cls, int i)
{
	return i >= 0 && i < cls->n_classes ? cls->labels[i] : NULL;
}

const float *stride_classifier_probabilities(const StrideClassifier *cls)
{
	return cls->avg;
}

int stride_classifier_top(const StrideClassifier *cls)
{
	return cls->top;
}

float stride_classifier_confidence(const StrideClassifier *cls)
{
	return cls->confidence;
}

int64_t stride_classifier_decisions(const StrideClassifier *cls)
{
	return cls->decisions;
}

