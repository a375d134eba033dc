/* Stride Gate, mono (urn:stride:gate) and stereo (urn:stride:gate_stereo): the
 * LV2 glue around dsp/gate.c. One decision drives every channel. */
#include <stdbool.h>
#include <stdlib.h>

#include <lv2/core/lv2.h>

#include "denormals.h"
#include "gate.h"
#include "plugin_base.h"
#include "ports.h"

#define MAX_CHANNELS 2

typedef struct {
	/* features, the model and the display (probability and gain); first, so
	 * the shared entry points (plugin_base.h) find them */
	StridePluginBase base;
	double rate;
	int channels;
	_Atomic float threshold; /* the latest threshold run() saw, for the display */

	/* ports */
	const LV2_Atom_Sequence *control;
	LV2_Atom_Sequence *notify;
	const float *params[STRIDE_GATE_N_PARAMS];
	float *probability;
	float *gain;
	float *latency;
	const float *in[MAX_CHANNELS];
	float *out[MAX_CHANNELS];
} Gate;

/* Worker or instantiation thread: a gate for this instance's rate and channels. */
static void *build_gate(void *plugin, const StrideModel *model, char err[STRIDE_ERR_LEN])
{
	const Gate *self = (const Gate *)plugin;
	return stride_gate_new(model, self->rate, self->channels, err);
}

/* Audio thread: the new gate continues the old one's sound. */
static void take_over_gate(void *dsp, const void *old)
{
	stride_gate_continue_from((StrideGate *)dsp, (const StrideGate *)old);
}

/* Worker or instantiation thread. */
static void destroy_gate(void *dsp)
{
	stride_gate_free((StrideGate *)dsp);
}

/* Instantiation thread (activate). */
static void reset_gate(void *dsp)
{
	stride_gate_reset((StrideGate *)dsp);
}

/* One class per variant, so that every log line names the plugin that spoke
 * (as its doap:name does). */
static const StrideLoaderClass gate_loaders[MAX_CHANNELS] = {
	{"Stride Gate", STRIDE_GATE_MODEL_FILE, build_gate, take_over_gate, reset_gate, destroy_gate},
	{"Stride Gate Stereo", STRIDE_GATE_MODEL_FILE, build_gate, take_over_gate, reset_gate,
	 destroy_gate},
};

/* Instantiation thread. */
static LV2_Handle instantiate_channels(int channels, double rate, const char *bundle_path,
                                       const LV2_Feature *const *features)
{
	Gate *self = (Gate *)calloc(1, sizeof(Gate));
	if (!self)
		return NULL;
	self->rate = rate;
	self->channels = channels;
	if (stride_plugin_base_init(&self->base, &gate_loaders[channels - 1], self, rate, bundle_path,
	                            features, 2) < 0) {
		stride_plugin_cleanup((LV2_Handle)self);
		return NULL;
	}
	atomic_init(&self->threshold, stride_gate_param_info[STRIDE_GATE_THRESHOLD].def);
	return (LV2_Handle)self;
}

/* Instantiation thread. */
static LV2_Handle instantiate_mono(const LV2_Descriptor *descriptor, double rate,
                                   const char *bundle_path, const LV2_Feature *const *features)
{
	(void)descriptor;
	return instantiate_channels(1, rate, bundle_path, features);
}

/* Instantiation thread. */
static LV2_Handle instantiate_stereo(const LV2_Descriptor *descriptor, double rate,
                                     const char *bundle_path, const LV2_Feature *const *features)
{
	(void)descriptor;
	return instantiate_channels(2, rate, bundle_path, features);
}

/* Audio thread (may also be called before activation). */
static void connect_port(LV2_Handle instance, uint32_t port, void *data)
{
	Gate *self = (Gate *)instance;
	if (port == GATE_CONTROL) {
		self->control = (const LV2_Atom_Sequence *)data;
	} else if (port == GATE_NOTIFY) {
		self->notify = (LV2_Atom_Sequence *)data;
	} else if (port >= GATE_PARAMS && port < GATE_PARAMS + STRIDE_GATE_N_PARAMS) {
		self->params[port - GATE_PARAMS] = (const float *)data;
	} else if (port == GATE_PROBABILITY) {
		self->probability = (float *)data;
	} else if (port == GATE_GAIN) {
		self->gain = (float *)data;
	} else if (port == GATE_LATENCY) {
		self->latency = (float *)data;
	} else if (port >= GATE_AUDIO && port < GATE_AUDIO + (uint32_t)self->channels) {
		self->in[port - GATE_AUDIO] = (const float *)data;
	} else if (port >= GATE_AUDIO + (uint32_t)self->channels &&
	           port < GATE_AUDIO + 2u * (uint32_t)self->channels) {
		self->out[port - GATE_AUDIO - (uint32_t)self->channels] = (float *)data;
	}
}

/* Audio thread. */
static void run(LV2_Handle instance, uint32_t n_samples)
{
	Gate *self = (Gate *)instance;
	const StrideFpMode fp = stride_denormals_off();
	stride_loader_run(&self->base.loader, self->control, self->notify);
	StrideGate *gate = (StrideGate *)stride_loader_dsp(&self->base.loader);

	/* every control is clamped to its TTL range in set_params */
	StrideGateParams params;
	for (int i = 0; i < STRIDE_GATE_N_PARAMS; i++)
		params.v[i] = self->params[i] ? *self->params[i] : stride_gate_param_info[i].def;
	stride_gate_set_params(gate, &params);

	bool connected = true;
	for (int c = 0; c < self->channels; c++)
		connected = connected && self->in[c] && self->out[c];
	if (connected)
		stride_gate_process(gate, self->in, self->out, n_samples);

	/* {probability, gain dB}: the output controls and the display's frame */
	const float shown[2] = {stride_gate_probability(gate), stride_gate_gain_db(gate)};
	if (self->probability)
		*self->probability = shown[0];
	if (self->gain)
		*self->gain = shown[1];
	if (self->latency)
		*self->latency = (float)stride_gate_latency(gate);
	atomic_store_explicit(&self->threshold,
	                      stride_param_clamp(&stride_gate_param_info[STRIDE_GATE_THRESHOLD],
	                                         params.v[STRIDE_GATE_THRESHOLD]),
	                      memory_order_relaxed);
	stride_display_run(&self->base.display, shown, n_samples);
	stride_denormals_restore(fp);
}

/* The host's GUI thread (Ardour's inline display). */
static StrideInlineDisplaySurface *render(LV2_Handle instance, uint32_t width, uint32_t max_height)
{
	Gate *self = (Gate *)instance;
	return stride_display_render_gate(&self->base.display, width, max_height,
	                                  atomic_load_explicit(&self->threshold, memory_order_relaxed));
}

/* Discovery thread. */
static const void *extension_data(const char *uri)
{
	static const StrideInlineDisplayInterface display = {render};
	return stride_plugin_extension_data(uri, &display);
}

static const LV2_Descriptor descriptors[] = {
	{STRIDE_URI_GATE, instantiate_mono, connect_port, stride_plugin_activate, run,
	 stride_plugin_deactivate, stride_plugin_cleanup, extension_data},
	{STRIDE_URI_GATE_STEREO, instantiate_stereo, connect_port, stride_plugin_activate, run,
	 stride_plugin_deactivate, stride_plugin_cleanup, extension_data},
};

/* Discovery thread: the only exported symbol. */
LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
	return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
