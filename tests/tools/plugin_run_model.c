/* Runs a model file in one of the built plugins, through the lilv test host
 * (tests/lv2_host.c), for the scripted tests of models made by other tools
 * (python/stride_torch):
 *
 *   plugin_run_model URI MODEL.safetensors RATE INPUT.f32 [INPUT.f32 ...]
 *
 * Loads MODEL with patch:Set through the worker, as a host does, and fails
 * (exit 1, the plugin's log on stderr) unless the notify port echoes it. Then
 * for each INPUT (raw little-endian float32 samples at RATE, mono) it resets
 * nothing and runs the samples in 256-frame blocks, printing one line:
 *   gate:  "INPUT probability P open F" (mean probability and share of blocks
 *          with the gate's gain above -6 dB, over the input's second half)
 *   genre: "INPUT class C votes V0 V1 ..." (the class most reported over the
 *          second half, and how many blocks reported each)
 * Needs STRIDE_BUILD (./waf test sets it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lv2_host.h"
#include "ports.h"

#define BLOCK 256

static float *read_f32(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	float *x = len > 0 ? malloc((size_t)len) : NULL;
	if (x && fread(x, 1, (size_t)len, f) != (size_t)len) {
		free(x);
		x = NULL;
	}
	fclose(f);
	*n = x ? (size_t)len / sizeof(float) : 0;
	return x;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: plugin_run_model URI MODEL RATE INPUT.f32 [INPUT.f32 ...]\n");
		return 2;
	}
	const char *uri = argv[1], *model = argv[2];
	const double rate = atof(argv[3]);
	const int genre = strcmp(uri, STRIDE_URI_GENRE) == 0;
	char bundle[4096];
	if (!lv2host_bundle_path(bundle, sizeof bundle)) {
		fprintf(stderr, "plugin_run_model: STRIDE_BUILD is not set\n");
		return 1;
	}
	LV2Host *host = lv2host_new(bundle);
	if (!host)
		return 1;
	LV2Instance *inst = lv2inst_new(host, uri, rate, BLOCK, true);
	if (!inst) {
		fprintf(stderr, "%s did not instantiate:\n%s", uri, lv2host_log(host));
		return 1;
	}
	lv2inst_send_model(inst, model);
	lv2inst_run(inst, 64);
	lv2inst_settle(inst, 64);
	if (strcmp(inst->notify_model, model) != 0) {
		fprintf(stderr, "plugin_run_model: %s did not load %s (it reports \"%s\"):\n%s", uri,
		        model, inst->notify_model, lv2host_log(host));
		return 1;
	}
	printf("loaded %s labels %s\n", inst->notify_model, inst->notify_labels);
	int rc = 0;
	for (int a = 4; a < argc; a++) {
		size_t n;
		float *x = read_f32(argv[a], &n);
		if (!x) {
			fprintf(stderr, "plugin_run_model: cannot read %s\n", argv[a]);
			rc = 1;
			continue;
		}
		long votes[STRIDE_GENRE_MAX_PROBS] = { 0 };
		double prob = 0.0, open = 0.0;
		long blocks = 0;
		for (size_t i = 0; i + BLOCK <= n; i += BLOCK) {
			for (int c = 0; c < inst->n_in; c++)
				memcpy(inst->in[c], x + i, BLOCK * sizeof(float));
			lv2inst_run(inst, BLOCK);
			if (i < n / 2)
				continue;
			blocks++;
			if (genre) {
				int cls = (int)inst->controls[GENRE_CLASS];
				if (cls >= 0 && cls < STRIDE_GENRE_MAX_PROBS)
					votes[cls]++;
			} else {
				prob += inst->controls[GATE_PROBABILITY];
				open += inst->controls[GATE_GAIN] > -6.0f; /* dB: -90 closed, 0 open */
			}
		}
		if (genre) {
			int best = 0;
			for (int c = 1; c < STRIDE_GENRE_MAX_PROBS; c++)
				if (votes[c] > votes[best])
					best = c;
			printf("%s class %d votes", argv[a], best);
			for (int c = 0; c <= best || (c < STRIDE_GENRE_MAX_PROBS && votes[c]); c++)
				printf(" %ld", votes[c]);
			printf("\n");
		} else {
			printf("%s probability %.4f open %.4f\n", argv[a], blocks ? prob / blocks : 0.0,
			       blocks ? open / blocks : 0.0);
		}
		free(x);
	}
	if (strstr(lv2host_log(host), "rror"))
		fprintf(stderr, "plugin log:\n%s", lv2host_log(host));
	lv2inst_free(inst);
	lv2host_free(host);
	return rc;
}
