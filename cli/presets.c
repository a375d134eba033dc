/* The named architectures. Costs (stride_net_flops, streamed at 16 kHz: each
 * output step computed once) are checked by tests/test_train.c. */
#include "presets.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A gate: 16x then 2x then 5x decimation (hop 160 = 10 ms at 16 kHz), a 36 ms
 * receptive field per step, averaged over the 200 ms window. About 10 MFLOP/s. */
static const StridePreset gate_small = {
	"gate-small",
	"content vs noise/silence gate, 16 kHz, window 200 ms, hop 10 ms, ~10 MFLOP/s",
	STRIDE_TASK_GATE,
	16000,
	3200,
	160,
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 24, \"kernel\": 64, \"stride\": 16},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn1\", \"channels\": 24},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 24, \"out\": 32, \"kernel\": 5, \"stride\": 2},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn2\", \"channels\": 32},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv3\", \"in\": 32, \"out\": 48, \"kernel\": 5, \"stride\": 5},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn3\", \"channels\": 48},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv4\", \"in\": 48, \"out\": 48, \"kernel\": 3},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 48, \"out\": 2},"
	"{\"type\": \"softmax\"}"
	"]}",
};

/* A gate that sees level as one number among many: a learned filterbank
 * (bias-free, so silence stays zero; two zeros at 0 Hz, so DC offset and
 * sub-audio rumble are not energy), rectified and averaged into band
 * envelopes every 2 ms, then ln(x + eps), so that a louder signal is the
 * same picture shifted, not a different picture. The layers after it see
 * 50 ms of spectral shape per step; the decision averages the 200 ms window.
 * Decimation 16 x 2 x 5 (hop 160 = 10 ms at 16 kHz). About 14 MFLOP/s. */
static const StridePreset gate_log = {
	"gate-log",
	"level-independent gate (log band energies), 16 kHz, window 200 ms, hop 10 ms, ~14 MFLOP/s",
	STRIDE_TASK_GATE,
	16000,
	3200,
	160,
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 48, \"kernel\": 64, \"stride\": 16, \"bias\": false, \"dc_zeros\": 2},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"avgpool1d\", \"kernel\": 4, \"stride\": 2},"
	"{\"type\": \"log\", \"eps\": 1e-7},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn1\", \"channels\": 48},"
	"{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 48, \"out\": 48, \"kernel\": 5, \"stride\": 5},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn2\", \"channels\": 48},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv3\", \"in\": 48, \"out\": 64, \"kernel\": 5},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn3\", \"channels\": 64},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"conv1d\", \"name\": \"conv4\", \"in\": 64, \"out\": 64, \"kernel\": 3, \"dilation\": 2},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 64, \"out\": 2},"
	"{\"type\": \"softmax\"}"
	"]}",
};

/* A genre classifier: 32x decimation then four conv + max-pool stages (total
 * stride 512 = 32 ms), a 218 ms receptive field per step, averaged over a
 * 2.05 s window, a decision every 0.51 s. About 9 MFLOP/s. */
static const StridePreset genre_small = {
	"genre-small",
	"music style classifier, 16 kHz, window 2.05 s, hop 0.51 s, ~9 MFLOP/s",
	STRIDE_TASK_CLASSIFY,
	16000,
	32768,
	8192,
	"{\"layers\": ["
	"{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 24, \"kernel\": 128, \"stride\": 32},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn1\", \"channels\": 24},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"maxpool1d\", \"kernel\": 2},"
	"{\"type\": \"conv1d\", \"name\": \"conv2\", \"in\": 24, \"out\": 32, \"kernel\": 4},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn2\", \"channels\": 32},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"maxpool1d\", \"kernel\": 2},"
	"{\"type\": \"conv1d\", \"name\": \"conv3\", \"in\": 32, \"out\": 48, \"kernel\": 4},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn3\", \"channels\": 48},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"maxpool1d\", \"kernel\": 2},"
	"{\"type\": \"conv1d\", \"name\": \"conv4\", \"in\": 48, \"out\": 64, \"kernel\": 4},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn4\", \"channels\": 64},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"maxpool1d\", \"kernel\": 2},"
	"{\"type\": \"conv1d\", \"name\": \"conv5\", \"in\": 64, \"out\": 64, \"kernel\": 4},"
	"{\"type\": \"batchnorm1d\", \"name\": \"bn5\", \"channels\": 64},"
	"{\"type\": \"relu\"},"
	"{\"type\": \"global_avgpool\"},"
	"{\"type\": \"dense\", \"name\": \"fc\", \"in\": 64, \"out\": 2},"
	"{\"type\": \"softmax\"}"
	"]}",
};

const StridePreset *const stride_presets[] = { &gate_small, &gate_log, &genre_small, NULL };

const StridePreset *cli_preset_find(const char *name)
{
	for (int i = 0; stride_presets[i]; i++)
		if (strcmp(stride_presets[i]->name, name) == 0)
			return stride_presets[i];
	return NULL;
}

StrideLayerSpec *cli_preset_specs(const StridePreset *p, int n_classes, int *n_specs,
                                  char err[STRIDE_ERR_LEN])
{
	StrideLayerSpec *s = stride_arch_parse(p->arch, n_specs, err);
	if (!s) {
		stride_prefix_err(err, "preset %s", p->name);
		return NULL;
	}
	for (int i = *n_specs - 1; i >= 0; i--)
		if (s[i].type == STRIDE_DENSE) {
			s[i].out = n_classes;
			break;
		}
	return s;
}
