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
#include <stdlib.h>
#include <string.h>

#include "stride.h"

/* The two networks, as architecture JSON (docs/MODEL_FORMAT.md): total stride
 * 32 (gate) and 256 (genre); receptive fields 112 and 448. */
static const char gate_arch[] =
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 8,"
	" \"kernel\": 64, \"stride\": 16},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 8, \"out\": 8, \"kernel\": 4, \"stride\": 2},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 8, \"out\": 2},"
	"{\"type\": \"softmax\"}]}";
static const char genre_arch[] =
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 8,"
	" \"kernel\": 256, \"stride\": 64},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 8, \"out\": 8, \"kernel\": 4, \"stride\": 4},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 8, \"out\": 6},"
	"{\"type\": \"softmax\"}]}";

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
	char err[STRIDE_ERR_LEN];
	int n_specs = 0;
	StrideLayerSpec *specs = stride_arch_parse(gate ? gate_arch : genre_arch, &n_specs, err);
	StrideNet *net = specs ? stride_net_new(specs, n_specs, err) : NULL;
	free(specs);
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
	    stride_model_write(model, argv[2], err) < 0) {
		fprintf(stderr, "stride_placeholder_model: %s\n", err);
		stride_model_free(model);
		return 1;
	}
	stride_model_free(model);
	return 0;
}
