/* Stride Genre (urn:stride:genre): the LV2 glue around dsp/classifier.c. The
 * audio passes through untouched (non-finite samples become 0); the outputs
 * report the smoothed class probabilities, the top class and its confidence. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/core/lv2.h>

#include "classifier.h"
#include "denormals.h"
#include "plugin_base.h"
#include "ports.h"

typedef struct {
	/* features, the model and the display (the class probabilities); first,
	 * so the shared entry points (plugin_base.h) find them */
	StridePluginBase base;
	double rate;
	atomic_int shown_classes; /* the classes run() last put out, for the display */

	/* ports */
	const LV2_Atom_Sequence *control;
	LV2_Atom_Sequence *notify;
	const float *in;
	float *out;
	const float *smoothing;
	float *class_index;
	float *confidence;
	float *probs[STRIDE_GENRE_MAX_PROBS]; /* as many as the TTL lists */
} Genre;

/* Worker or instantiation thread. */
static void *build_classifier(void *plugin, const StrideModel *model, char err[STRIDE_ERR_LEN])
{
	const Genre *self = (const Genre *)plugin;
	return stride_classifier_new(model, self->rate, 1, err);
}

/* Audio thread. */
static void take_over_classifier(void *dsp, const void *old)
{
	stride_classifier_continue_from((StrideClassifier *)dsp, (const StrideClassifier *)old);
}

/* Worker or instantiation thread. */
static void destroy_classifier(void *dsp)
{
	stride_classifier_free((StrideClassifier *)dsp);
}

/* Instantiation thread (activate). */
static void reset_classifier(void *dsp)
{
	stride_classifier_reset((StrideClassifier *)dsp);
}

static const StrideLoaderClass genre_loader = {
	"Stride Genre", STRIDE_GENRE_MODEL_FILE, build_classifier, take_over_classifier,
	reset_classifier, destroy_classifier,
};

/* Instantiation thread. */
static LV2_Handle instantiate(const LV2_Descriptor *descriptor, double rate,
                              const char *bundle_path, const LV2_Feature *const *features)
{
	(void)descriptor;
	Genre *self = (Genre *)calloc(1, sizeof(Genre));
	if (!self)
		return NULL;
	self->rate = rate;
	if (stride_plugin_base_init(&self->base, &genre_loader, self, rate, bundle_path, features,
	                            STRIDE_GENRE_MAX_PROBS) < 0) {
		stride_plugin_cleanup((LV2_Handle)self);
		return NULL;
	}
	return (LV2_Handle)self;
}

/* Audio thread (may also be called before activation). */
static void connect_port(LV2_Handle instance, uint32_t port, void *data)
{
	Genre *self = (Genre *)instance;
	switch (port) {
	case GENRE_CONTROL:
		self->control = (const LV2_Atom_Sequence *)data;
		break;
	case GENRE_NOTIFY:
		self->notify = (LV2_Atom_Sequence *)data;
		break;
	case GENRE_IN:
		self->in = (const float *)data;
		break;
	case GENRE_OUT:
		self->out = (float *)data;
		break;
	case GENRE_SMOOTHING:
		self->smoothing = (const float *)data;
		break;
	case GENRE_CLASS:
		self->class_index = (float *)data;
		break;
	case GENRE_CONFIDENCE:
		self->confidence = (float *)data;
		break;
	default:
		if (port >= GENRE_PROBS && port < GENRE_PROBS + STRIDE_GENRE_MAX_PROBS)
			self->probs[port - GENRE_PROBS] = (float *)data;
		break;
	}
}

/* Audio thread. */
static void run(LV2_Handle instance, uint32_t n_samples)
{
	Genre *self = (Genre *)instance;
	const StrideFpMode fp = stride_denormals_off();
	stride_loader_run(&self->base.loader, self->control, self->notify);
	StrideClassifier *cls = (StrideClassifier *)stride_loader_dsp(&self->base.loader);

	const float smoothing =
	    self->smoothing ? *self->smoothing : stride_classifier_smoothing_info.def;
	stride_classifier_set_smoothing(cls, smoothing); /* clamps to the TTL range */

	if (self->in) {
		const float *const in[1] = {self->in};
		stride_classifier_process(cls, in, n_samples);
		if (self->out) {
			for (uint32_t i = 0; i < n_samples; i++) {
				const float v = self->in[i];
				self->out[i] = (v - v == 0.0f) ? v : 0.0f; /* Inf - Inf and NaN are NaN */
			}
		}
	} else if (self->out) {
		memset(self->out, 0, sizeof(float) * n_samples);
	}

	const float *p = stride_classifier_probabilities(cls);
	const int n_classes = stride_classifier_n_classes(cls);
	/* one frame for the ports and the display: the classes, then zeros */
	float shown[STRIDE_GENRE_MAX_PROBS];
	for (int i = 0; i < STRIDE_GENRE_MAX_PROBS; i++) {
		shown[i] = i < n_classes ? p[i] : 0.0f;
		if (self->probs[i])
			*self->probs[i] = shown[i];
	}
	if (self->class_index)
		*self->class_index = (float)stride_classifier_top(cls);
	if (self->confidence)
		*self->confidence = stride_classifier_confidence(cls);
	atomic_store_explicit(&self->shown_classes,
	                      n_classes < STRIDE_GENRE_MAX_PROBS ? n_classes : STRIDE_GENRE_MAX_PROBS,
	                      memory_order_relaxed);
	stride_display_run(&self->base.display, shown, n_samples);
	stride_denormals_restore(fp);
}

/* The host's GUI thread (Ardour's inline display). */
static StrideInlineDisplaySurface *render(LV2_Handle instance, uint32_t width, uint32_t max_height)
{
	Genre *self = (Genre *)instance;
	const int n = atomic_load_explicit(&self->shown_classes, memory_order_relaxed);
	return stride_display_render_classes(&self->base.display, width, max_height, n > 0 ? n : 1);
}

/* Discovery thread. */
static const void *extension_data(const char *uri)
{
	static const StrideInlineDisplayInterface display = {render};
	return stride_plugin_extension_data(uri, &display);
}

static const LV2_Descriptor descriptor = {
	STRIDE_URI_GENRE, instantiate, connect_port, stride_plugin_activate, run,
	stride_plugin_deactivate, stride_plugin_cleanup, extension_data,
};

/* Discovery thread: the only exported symbol. */
LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
	return index == 0 ? &descriptor : NULL;
}
