/* A model at the host's rate: channel mix, resampling, stream, probabilities. */
#include "detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resampler.h"
#include "util.h"

struct StrideDetector {
	StrideStream *stream;
	StrideResampler *resampler; /* NULL when the host runs at the model's rate */
	double ratio;               /* model rate / host rate */
	double holdback;
	int host_rate, model_rate;
	int host_channels, model_channels;
	int n_classes, out_steps;
	int hop, window;
	StrideProbMode mode;
	/* scratch, sized at creation; planar */
	float *mixed;     /* model channels x MAX_FRAMES */
	float *resampled; /* model channels x cap */
	float *raw;       /* raw decisions from one stream push */
	int cap;          /* model frames one push may produce */
	int max_decisions;
};

StrideDetector *stride_detector_new(const StrideModel *model, double host_rate, int host_channels,
                                    char err[STRIDE_ERR_LEN])
{
	if (!(host_rate >= 1000.0 && host_rate <= 768000.0)) {
		stride_set_err(err, "host rate %g Hz is outside 1000 .. 768000", host_rate);
		return NULL;
	}
	if (host_channels < 1 || host_channels > STRIDE_DETECTOR_MAX_CHANNELS) {
		stride_set_err(err, "%d host channels (1 .. %d are supported)", host_channels,
		               STRIDE_DETECTOR_MAX_CHANNELS);
		return NULL;
	}
	StrideDetector *det = calloc(1, sizeof *det);
	if (!det) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	det->stream = stride_stream_new(model, err);
	if (!det->stream)
		goto fail;
	det->host_rate = (int)lround(host_rate);
	det->model_rate = model->sample_rate;
	det->ratio = (double)det->model_rate / det->host_rate;
	det->host_channels = host_channels;
	det->model_channels = stride_stream_in_channels(det->stream);
	if (det->model_channels != 1 && det->model_channels != host_channels &&
	    !(det->model_channels == 2 && host_channels == 1)) {
		stride_set_err(err, "the model takes %d input channels; this host gives %d",
		               det->model_channels, host_channels);
		goto fail;
	}
	det->n_classes = model->n_labels;
	const int out_size = stride_stream_out_size(det->stream);
	if (det->n_classes < 1 || out_size % det->n_classes != 0) {
		stride_set_err(err, "the model has %d labels for %d outputs per decision",
		               det->n_classes, out_size);
		goto fail;
	}
	det->out_steps = out_size / det->n_classes;
	det->hop = stride_stream_hop(det->stream);
	det->window = stride_stream_window(det->stream);
	det->mode = stride_net_prob_mode(model->net, det->n_classes);
	det->cap = STRIDE_DETECTOR_MAX_FRAMES;
	if (det->model_rate != det->host_rate) {
		det->resampler = stride_resampler_new(det->host_rate, det->model_rate,
		                                      det->model_channels, STRIDE_DETECTOR_MAX_FRAMES, err);
		if (!det->resampler)
			goto fail;
		det->holdback = stride_resampler_holdback(det->resampler);
		det->cap = stride_resampler_max_out(det->resampler);
	}
	det->max_decisions = det->cap / det->hop + 2;
	const size_t mc = (size_t)det->model_channels;
	det->mixed = calloc(mc * STRIDE_DETECTOR_MAX_FRAMES, sizeof(float));
	det->resampled = calloc(mc * (size_t)det->cap, sizeof(float));
	det->raw = calloc((size_t)det->max_decisions * (size_t)out_size, sizeof(float));
	if (!det->mixed || !det->resampled || !det->raw) {
		stride_set_err(err, "out of memory");
		goto fail;
	}
	return det;
fail:
	stride_detector_free(det);
	return NULL;
}

void stride_detector_free(StrideDetector *det)
{
	if (!det)
		return;
	stride_stream_free(det->stream);
	stride_resampler_free(det->resampler);
	free(det->mixed);
	free(det->resampled);
	free(det->raw);
	free(det);
}

void stride_detector_reset(StrideDetector *det)
{
	stride_stream_reset(det->stream);
	if (det->resampler)
		stride_resampler_reset(det->resampler);
}

/* Host channels -> planar model channels, sanitised. */
static void mix(StrideDetector *det, const float *const *in, int n)
{
	const int hc = det->host_channels, mc = det->model_channels;
	float *m = det->mixed;
	if (mc == 1) {
		const float scale = 1.0f / (float)hc;
		for (int i = 0; i < n; i++) {
			float s = 0.0f;
			for (int c = 0; c < hc; c++)
				s += stride_sanitize(in[c][i]);
			m[i] = s * scale;
		}
	} else {
		for (int c = 0; c < mc; c++)
			for (int i = 0; i < n; i++)
				m[c * STRIDE_DETECTOR_MAX_FRAMES + i] = stride_sanitize(in[hc == 1 ? 0 : c][i]);
	}
}


int stride_detector_push(StrideDetector *det, const float *const *in, int n, float *probs)
{
	if (n <= 0)
		return 0;
	if (n > STRIDE_DETECTOR_MAX_FRAMES)
		n = STRIDE_DETECTOR_MAX_FRAMES;
	mix(det, in, n);
	const float *frames = det->mixed;
	int stride = STRIDE_DETECTOR_MAX_FRAMES;
	if (det->resampler) {
		n = stride_resampler_process(det->resampler, det->mixed, STRIDE_DETECTOR_MAX_FRAMES, n,
		                             det->resampled, det->cap);
		frames = det->resampled;
		stride = det->cap;
	}
	if (n == 0)
		return 0;
	const int got =
	    stride_stream_push(det->stream, frames, stride, n, det->raw, det->max_decisions);
	const int out_size = det->n_classes * det->out_steps;
	for (int d = 0; d < got; d++)
		stride_probs_from_outputs(det->mode, det->raw + (size_t)d * out_size, det->n_classes,
		                          det->out_steps, probs + (size_t)d * det->n_classes);
	return got;
}

int stride_detector_n_classes(const StrideDetector *det)
{
	return det->n_classes;
}

int stride_detector_max_decisions(const StrideDetector *det)
{
	return det->max_decisions;
}

int stride_detector_host_rate(const StrideDetector *det)
{
	return det->host_rate;
}

int stride_detector_model_rate(const StrideDetector *det)
{
	return det->model_rate;
}

int stride_detector_hop(const StrideDetector *det)
{
	return det->hop;
}

double stride_detector_delay(const StrideDetector *det)
{
	return (double)(det->window - 1) / det->ratio + det->holdback;
}
