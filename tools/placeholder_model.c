/* PLACEHOLDER models for the bundle, made only while models/gate.safetensors or
 * models/genre.safetensors (the trained, shipped models) are missing: small
 * stream-friendly networks (no padding; the hop a multiple of the total
 * stride) with seeded random weights. They load, stream and exercise every
 * code path, but decide nothing useful; their metadata says so
 * (stride.placeholder = "1"), and the tests look for it.
 *
 *   stride_placeholder_model gate|genre OUT.safetensors
 *
 * Build tool: run by the wscript, not installed. */
#include <stdio.h>
#include <string.h>

#include "stride.h"

static StrideLayerSpec conv(const char *name, int in, int out, int kernel, int stride)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.in = in;
	s.out = out;
	s.kernel = kernel;
	s.stride = stride;
	return s;
}

static StrideLayerSpec dense(const char *name, int in, int out)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_DENSE);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.in = in;
	s.out = out;
	return s;
}

static StrideLayerSpec plain(StrideLayerType type)
{
	return stride_layer_spec_defaults(type);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "gate") && strcmp(argv[1], "genre"))) {
		fputs("usage: stride_placeholder_model gate|genre OUT.safetensors\n", stderr);
		return 2;
	}
	const bool gate = !strcmp(argv[1], "gate");
	static const char *const gate_labels[] = {"silence", "content"};
	static const char *const genre_labels[] = {"blues", "classical", "electronic",
	                                           "jazz",  "reggae",    "rock"};
	const int n_labels = gate ? 2 : 6;
	/* total stride 32 (gate) and 256 (genre); receptive fields 112 and 448 */
	const StrideLayerSpec specs[] = {
		gate ? conv("conv1", 1, 8, 64, 16) : conv("conv1", 1, 8, 256, 64),
		plain(STRIDE_RELU),
		gate ? conv("conv2", 8, 8, 4, 2) : conv("conv2", 8, 8, 4, 4),
		plain(STRIDE_RELU),
		plain(STRIDE_GLOBAL_AVGPOOL),
		dense("fc", 8, n_labels),
		plain(STRIDE_SOFTMAX),
	};
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(specs, (int)(sizeof specs / sizeof specs[0]), err);
	if (!net) {
		fprintf(stderr, "stride_placeholder_model: %s\n", err);
		return 1;
	}
	stride_net_init_params(net, gate ? 1 : 2);
	StrideModel *model = stride_model_new(net, gate ? STRIDE_TASK_GATE : STRIDE_TASK_CLASSIFY,
	                                      16000, gate ? gate_labels : genre_labels, n_labels, err);
	if (!model) {
		fprintf(stderr, "stride_placeholder_model: %s\n", err);
		return 1;
	}
	/* gate: 64 ms windows every 16 ms; genre: 3 s windows every 0.512 s */
	model->window = gate ? 1024 : 48000;
	model->hop = gate ? 256 : 8192;
	if (stride_model_set_meta(model, "stride.placeholder", "1") < 0 ||
	    stride_model_set_meta(model, "train.note",
	                          "PLACEHOLDER with random weights, not trained: the build made it "
	                          "because models/*.safetensors is missing") < 0 ||
	    stride_model_save(model, argv[2], err) < 0) {
		fprintf(stderr, "stride_placeholder_model: %s\n", err);
		stride_model_free(model);
		return 1;
	}
	stride_model_free(model);
	return 0;
}
