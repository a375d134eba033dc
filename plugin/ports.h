/* The plugins' URIs and port layouts. The plugin sources and the TTL generator
 * (tools/ttl_gen.c) both take them from here, so the TTL always describes the
 * binary. */
#ifndef STRIDE_PORTS_H
#define STRIDE_PORTS_H

#include "gate.h"

#define STRIDE_URI_GATE "urn:stride:gate"
#define STRIDE_URI_GATE_STEREO "urn:stride:gate_stereo"
#define STRIDE_URI_GENRE "urn:stride:genre"
/* The model parameter (atom:Path) and the class names of the loaded model (a
 * JSON list of strings, sent on the notify port). */
#define STRIDE_URI_MODEL "urn:stride:model"
#define STRIDE_URI_LABELS "urn:stride:labels"

#define STRIDE_GATE_MODEL_FILE "gate.safetensors"
#define STRIDE_GENRE_MODEL_FILE "genre.safetensors"

/* Gate, mono and stereo: the controls in StrideGateParam order from
 * GATE_PARAMS; then the audio inputs, then the audio outputs, one per channel. */
enum {
	GATE_CONTROL = 0,
	GATE_NOTIFY = 1,
	GATE_PARAMS = 2,
	GATE_PROBABILITY = GATE_PARAMS + STRIDE_GATE_N_PARAMS,
	GATE_GAIN,
	GATE_LATENCY,
	GATE_AUDIO, /* in[0 .. channels), then out[0 .. channels) */
};

/* Genre: one probability output per class of the shipped model, from
 * GENRE_PROBS (the TTL lists as many as the shipped model has labels). */
enum {
	GENRE_CONTROL = 0,
	GENRE_NOTIFY = 1,
	GENRE_IN = 2,
	GENRE_OUT = 3,
	GENRE_SMOOTHING = 4,
	GENRE_CLASS = 5,
	GENRE_CONFIDENCE = 6,
	GENRE_PROBS = 7,
};

/* The most p_<label> ports the genre plugin accepts. */
#define STRIDE_GENRE_MAX_PROBS 64

#endif /* STRIDE_PORTS_H */
