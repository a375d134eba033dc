/* Named architectures for `stride train --arch NAME`: small, stream-friendly
 * networks (no padding in the convolutions, global pooling before the dense
 * head) that cost at most 20 MFLOP per second of audio at 16 kHz streamed. */
#ifndef STRIDE_PRESETS_H
#define STRIDE_PRESETS_H

#include "stride.h"

typedef struct {
	const char *name;
	const char *summary;
	StrideTask task;
	int rate;
	int window;
	int hop;
	const char *arch; /* architecture JSON; the last dense layer's "out" is set to the class count */
} StridePreset;

/* The preset called `name`, or NULL. */
const StridePreset *cli_preset_find(const char *name);

/* All presets, NULL-terminated. */
extern const StridePreset *const stride_presets[];

/* The preset's layers with the last dense layer giving n_classes outputs.
 * Returns a malloc'd spec array, or NULL with err set. */
StrideLayerSpec *cli_preset_specs(const StridePreset *p, int n_classes, int *n_specs,
                                  char err[STRIDE_ERR_LEN]);

#endif /* STRIDE_PRESETS_H */
