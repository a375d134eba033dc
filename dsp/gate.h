/* Stride Gate's DSP: a learned gate with lookahead. PUBLIC API (with stride.h,
 * classifier.h, detector.h, param_info.h). No LV2 types: the plugin, the
 * `stride gate` command and the tests all run this same object.
 *
 * A detector (dsp/detector.h) runs the model on the input, resampled to the
 * model's rate; each decision gives the probability of the model's content
 * class, and a hysteresis turns it into open or closed. Each decision speaks
 * for one hop-long stretch of the input: the centre of its window for a model
 * that says, as `stride train` does (train.label_region), that it calls a
 * window content when half of it is; else, cautiously, the window's start. An
 * open decision opens the gate from a grace period before its stretch (a
 * quarter of the labelled region, at least a hop). The audio is delayed by a
 * fixed lookahead (stride_gate_latency) that covers the time a decision takes
 * to arrive, the grace and the longest attack, so the attack ramp is over
 * before the sound it opens for: onsets are not clipped. After the last open
 * stretch the gate holds, then releases (in dB, linear in time) to the range.
 *
 * The applied gain (linear) never moves faster than full scale in
 * STRIDE_GATE_MAX_SLOPE_MS, plus the bypass fade (stride_gate_max_step per
 * frame), whatever the parameters do; bypass
 * (enable = 0) fades to unity gain with the audio still delayed, so the latency
 * never changes and nothing clicks. Non-finite input is treated as silence and
 * denormals are flushed, so the state always stays finite.
 *
 * Threading: _new, _free allocate (instantiate or worker thread). Everything
 * else is real-time safe: no allocation, locks, I/O or syscalls, bounded time
 * per sample. A gate is not thread-safe: its calls must not run concurrently
 * (the plugin makes them all from run()). The tables (stride_gate_param_info,
 * stride_gate_presets) are constant and may be read from any thread. */
#ifndef STRIDE_GATE_H
#define STRIDE_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "detector.h"
#include "param_info.h"
#include "stride.h"

typedef enum {
	STRIDE_GATE_THRESHOLD,
	STRIDE_GATE_HYSTERESIS,
	STRIDE_GATE_ATTACK,
	STRIDE_GATE_HOLD,
	STRIDE_GATE_RELEASE,
	STRIDE_GATE_RANGE,
	STRIDE_GATE_ENABLE,
	STRIDE_GATE_N_PARAMS
} StrideGateParam;

/* Symbols, names, ranges and defaults of the controls, in StrideGateParam order. */
extern const StrideParamInfo stride_gate_param_info[STRIDE_GATE_N_PARAMS];

/* Parameter values, indexed by StrideGateParam. */
typedef struct {
	float v[STRIDE_GATE_N_PARAMS];
} StrideGateParams;

typedef struct {
	const char *symbol;  /* "speech" */
	const char *label;   /* "Speech" */
	const char *comment;
	StrideGateParams params;
} StrideGatePreset;

extern const StrideGatePreset stride_gate_presets[];
extern const int stride_gate_n_presets;

/* The lookahead covers attacks up to the attack control's maximum, so turning
 * the attack never changes the latency. */
#define STRIDE_GATE_MAX_ATTACK_MS 10.0
/* The fastest gain change: from 0 to 1 in this time (the shortest attack). */
#define STRIDE_GATE_MAX_SLOPE_MS 0.5
/* How long bypass takes to fade in or out. */
#define STRIDE_GATE_BYPASS_MS 10.0
/* range at or below this is fully closed (gain 0). */
#define STRIDE_GATE_CLOSED_DB -90.0f

typedef struct StrideGate StrideGate;

/* Every parameter at its default. Real-time safe. */
StrideGateParams stride_gate_params_default(void);

/* The index of the model's content class: the label "content"; else, for two
 * labels one of which is "silence", "noise" or "background", the other; else
 * output 0 of a one-output model. -1 when the model says nothing usable (err set). */
int stride_gate_content_label(const StrideModel *model, char err[STRIDE_ERR_LEN]);

/* A gate for `channels` channels (1 .. STRIDE_DETECTOR_MAX_CHANNELS; one
 * decision for all) at host_rate Hz, with the detector for `model` (a gate
 * model; not referenced afterwards). Allocates. The caller owns the result:
 * free with stride_gate_free (NULL allowed). */
StrideGate *stride_gate_new(const StrideModel *model, double host_rate, int channels,
                            char err[STRIDE_ERR_LEN]);
void stride_gate_free(StrideGate *gate);

/* Back to the state after _new: silence in the delay line, the gate closed.
 * Real-time safe. */
void stride_gate_reset(StrideGate *gate);

/* Takes over `prev`'s audio history, open or closed state and gain, so that
 * swapping one gate for another (a new model) continues the sound without a
 * glitch. The new gate's decisions govern the audio from the swap on; audio
 * already in the delay line keeps prev's decisions. Same channel count and rate
 * required (otherwise nothing is taken). Only reads prev, which the caller still
 * owns. Real-time safe; neither gate may be in use elsewhere meanwhile. */
void stride_gate_continue_from(StrideGate *gate, const StrideGate *prev);

/* Parameters, each clamped to its range (NaN gives the default). Real-time safe. */
void stride_gate_set_params(StrideGate *gate, const StrideGateParams *params);

/* Gates n frames (any n): in[c][i] -> out[c][i] (in == out allowed). The
 * buffers stay the caller's. Real-time safe. */
void stride_gate_process(StrideGate *gate, const float *const *in, float *const *out, uint32_t n);

/* The accessors below are real-time safe and never allocate. */

/* Frames by which the output lags the input; constant for a gate. */
uint32_t stride_gate_latency(const StrideGate *gate);

/* The latest decision's content probability (0 before the first). */
float stride_gate_probability(const StrideGate *gate);

/* Decisions so far (since _new, _reset or _continue_from). */
int64_t stride_gate_decisions(const StrideGate *gate);

/* Whether the latest decision asks for the gate to open: its probability
 * through the threshold and hysteresis, before hold and grace. */
bool stride_gate_decision_open(const StrideGate *gate);

/* The input frames decision k (counted as stride_gate_decisions counts) speaks
 * for: [*start, *end), input frames counted from the first processed (the
 * output lags them by stride_gate_latency). An open decision also opens the
 * gate a grace period before *start. */
void stride_gate_decision_span(const StrideGate *gate, int64_t k, int64_t *start, int64_t *end);

/* The gain applied to the last output frame, linear and in dB (-90 for 0). */
float stride_gate_gain(const StrideGate *gate);
float stride_gate_gain_db(const StrideGate *gate);

/* The largest change of the applied gain from one frame to the next. */
float stride_gate_max_step(const StrideGate *gate);

#endif /* STRIDE_GATE_H */
