/* Stride Gate's DSP: detector decisions on a host-time axis, hysteresis, a
 * hold/attack/release envelope with bounded slope, and the lookahead delay.
 *
 * The decisions become "open requests" on the axis of content time (host
 * frames of input): marks[u] says whether content frame u should be heard.
 * Output frame t plays content frame t - latency at a gain that looks at the
 * request `attack` frames ahead, so the ramp is done when the sound arrives. */
#include "gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detector.h"
#include "util.h"

const StrideParamInfo stride_gate_param_info[STRIDE_GATE_N_PARAMS] = {
	[STRIDE_GATE_THRESHOLD] = {"threshold", "Threshold",
	                           "Probability of content at which the gate opens.", NULL, 0.0f,
	                           1.0f, 0.5f, false},
	[STRIDE_GATE_HYSTERESIS] = {"hysteresis", "Hysteresis",
	                            "How far below the threshold the probability must fall before "
	                            "the gate closes.",
	                            NULL, 0.0f, 0.5f, 0.1f, false},
	[STRIDE_GATE_ATTACK] = {"attack", "Attack",
	                        "Time the gain takes to open; the lookahead finishes the opening "
	                        "before the sound starts.",
	                        "ms", (float)STRIDE_GATE_MAX_SLOPE_MS, (float)STRIDE_GATE_MAX_ATTACK_MS,
	                        2.0f, false},
	[STRIDE_GATE_HOLD] = {"hold", "Hold",
	                      "Time the gate stays open after the model last heard content.", "ms",
	                      0.0f, 2000.0f, 150.0f, false},
	[STRIDE_GATE_RELEASE] = {"release", "Release",
	                         "Time the gain takes to fall from open to the range after the hold.",
	                         "ms", 5.0f, 2000.0f, 200.0f, false},
	[STRIDE_GATE_RANGE] = {"range", "Range",
	                       "Attenuation while closed; -90 dB closes the gate fully.", "db",
	                       STRIDE_GATE_CLOSED_DB, 0.0f, -90.0f, false},
	[STRIDE_GATE_ENABLE] = {"enable", "Enable",
	                        "Off fades to the unprocessed signal, still delayed by the latency, "
	                        "without a click.",
	                        NULL, 0.0f, 1.0f, 1.0f, true},
};

/*                                   threshold hyst attack hold release range enable */
const StrideGatePreset stride_gate_presets[] = {
	{"speech", "Speech",
	 "Spoken word: keeps breaths at the start of phrases and word endings, closes in pauses.",
	 {{0.5f, 0.15f, 2.0f, 250.0f, 250.0f, -40.0f, 1.0f}}},
	{"music", "Music",
	 "Instruments and singing: opens early, rides out quiet passages and long decays.",
	 {{0.35f, 0.1f, 5.0f, 600.0f, 1000.0f, -60.0f, 1.0f}}},
	{"tight", "Tight",
	 "Closes quickly and fully between sounds: for editing and for dense noise.",
	 {{0.6f, 0.05f, 0.5f, 30.0f, 40.0f, -90.0f, 1.0f}}},
};
const int stride_gate_n_presets = (int)(sizeof stride_gate_presets / sizeof stride_gate_presets[0]);

struct StrideGate {
	StrideDetector *det;
	int content;   /* class index of "content" */
	int n_classes;
	int channels;
	int rate;      /* host, whole Hz */
	/* On the host-time axis (times host rate / model rate), decision k speaks
	 * for [k*hop + anchor, k*hop + anchor + hop) and opens from `grace` before
	 * that; all three are kept multiplied by the host rate, for exact integers. */
	int64_t hop_num, anchor_num, grace_num;
	int64_t model_rate;

	StrideGateParams params;
	/* derived from params */
	int attack;       /* frames the opening is anticipated by */
	int64_t hold;     /* frames */
	float up_step;    /* gain per frame while opening */
	float down_factor; /* gain factor per frame while releasing */
	float floor;      /* closed gain */
	float open_at, close_below;
	bool enabled;

	float max_step;    /* fastest gain change per frame */
	float bypass_step; /* bypass fade per frame */
	uint32_t latency;

	/* the lookahead delay: channels rings of dsize frames */
	float *delay;
	int64_t dsize;

	/* Open requests on the host-time axis: marks[u & (msize-1)] says whether a
	 * decision asks for content time u to be open. Valid below marked_end;
	 * later times read last_open. */
	uint8_t *marks;
	int64_t msize;
	int64_t marked_end;
	bool last_open;
	bool hyst_open;

	int64_t now;    /* frames processed */
	int64_t origin; /* frame of the detector's first input */
	int64_t n_dec;  /* decisions so far */

	float probability;
	float gain;  /* the gate's own gain */
	float mix;   /* bypass fade: 0 gated, 1 bypassed */
	float applied;
	int64_t hold_left;

	float *probs; /* one push's decisions */
};

/* A decision opens the gate this fraction of its label region early (see
 * decision_span). */
#define GRACE_DIV 4

/* 10^(-90/20) */
#define STRIDE_GATE_CLOSED_GAIN 3.1622777e-5f

static int64_t next_pow2(int64_t v)
{
	int64_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

/* ceil(a / b) for b > 0, any sign of a */
static int64_t ceil_div(int64_t a, int64_t b)
{
	const int64_t q = a / b;
	return (a % b != 0 && a > 0) ? q + 1 : q;
}

StrideGateParams stride_gate_params_default(void)
{
	StrideGateParams p;
	for (int i = 0; i < STRIDE_GATE_N_PARAMS; i++)
		p.v[i] = stride_gate_param_info[i].def;
	return p;
}

static bool label_is(const char *label, const char *name)
{
	return strcasecmp(label, name) == 0;
}

int stride_gate_content_label(const StrideModel *model, char err[STRIDE_ERR_LEN])
{
	for (int i = 0; i < model->n_labels; i++)
		if (label_is(model->labels[i], "content"))
			return i;
	if (model->n_labels == 2) {
		for (int i = 0; i < 2; i++) {
			const char *l = model->labels[i];
			if (label_is(l, "silence") || label_is(l, "noise") || label_is(l, "background"))
				return 1 - i;
		}
	}
	if (model->n_labels == 1)
		return 0;
	stride_set_err(err, "a gate model needs a \"content\" label, or a \"silence\" label beside "
	                    "one other, or a single output; this one has %d labels",
	               model->n_labels);
	return -1;
}

/* Which stretch of its window a decision speaks for. A model from `stride
 * train` says (train.label_region = "START END") that it calls a window content
 * when half of that region is: its decision speaks for the hop-long stretch at
 * the region's centre, as `stride predict` reports it, and opens the gate a
 * quarter of the region earlier, for onsets the model hears a little late. A
 * model without that key is taken at its most cautious: it may fire for content
 * anywhere in the window, so its decision opens from one hop before the window
 * starts (what the tests' hand-made models need). */
static void decision_span(const StrideModel *model, int hop, int *anchor, int *grace)
{
	*anchor = 0;
	*grace = hop;
	int start, end;
	if (!stride_model_label_region(model, &start, &end))
		return;
	*anchor = (start + end - hop) / 2;
	const int quarter = (end - start) / GRACE_DIV;
	*grace = quarter > hop ? quarter : hop;
}

static void derive(StrideGate *g)
{
	const float *v = g->params.v;
	const double fps = g->rate / 1000.0; /* frames per ms */
	const double attack = v[STRIDE_GATE_ATTACK] * fps;
	g->attack = (int)ceil(attack); /* the ramp of up_step ends within it */
	g->up_step = (float)(1.0 / (attack > 1.0 ? attack : 1.0));
	g->hold = (int64_t)llround(v[STRIDE_GATE_HOLD] * fps);
	const double release = fmax(v[STRIDE_GATE_RELEASE] * fps, 1.0);
	const float range = v[STRIDE_GATE_RANGE];
	g->floor = range <= STRIDE_GATE_CLOSED_DB ? 0.0f : powf(10.0f, range / 20.0f);
	const double span_db = range <= STRIDE_GATE_CLOSED_DB ? -STRIDE_GATE_CLOSED_DB : -range;
	g->down_factor = (float)pow(10.0, -span_db / (20.0 * release));
	g->open_at = v[STRIDE_GATE_THRESHOLD];
	g->close_below = v[STRIDE_GATE_THRESHOLD] - v[STRIDE_GATE_HYSTERESIS];
	g->enabled = v[STRIDE_GATE_ENABLE] >= 0.5f;
}

void stride_gate_set_params(StrideGate *g, const StrideGateParams *params)
{
	bool same = true;
	for (int i = 0; i < STRIDE_GATE_N_PARAMS; i++) {
		const float v = stride_param_clamp(&stride_gate_param_info[i], params->v[i]);
		if (v != g->params.v[i]) {
			g->params.v[i] = v;
			same = false;
		}
	}
	if (!same)
		derive(g);
}

void stride_gate_reset(StrideGate *g)
{
	stride_detector_reset(g->det);
	memset(g->delay, 0, sizeof(float) * (size_t)g->channels * (size_t)g->dsize);
	memset(g->marks, 0, (size_t)g->msize);
	g->marked_end = 0;
	g->last_open = false;
	g->hyst_open = false;
	g->now = 0;
	g->origin = 0;
	g->n_dec = 0;
	g->probability = 0.0f;
	g->gain = g->floor;
	g->mix = g->enabled ? 0.0f : 1.0f;
	g->applied = g->mix + (1.0f - g->mix) * g->gain;
	g->hold_left = 0;
}

StrideGate *stride_gate_new(const StrideModel *model, double host_rate, int channels,
                            char err[STRIDE_ERR_LEN])
{
	if (model->task != STRIDE_TASK_GATE) {
		stride_set_err(err, "this is a classifier model, not a gate model");
		return NULL;
	}
	const int content = stride_gate_content_label(model, err);
	if (content < 0)
		return NULL;
	StrideGate *g = calloc(1, sizeof *g);
	if (!g) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	g->det = stride_detector_new(model, host_rate, channels, err);
	if (!g->det)
		goto fail;
	g->content = content;
	g->n_classes = stride_detector_n_classes(g->det);
	g->channels = channels;
	g->rate = stride_detector_host_rate(g->det);
	g->model_rate = stride_detector_model_rate(g->det);
	const int hop = stride_detector_hop(g->det);
	int anchor = 0, grace = hop;
	decision_span(model, hop, &anchor, &grace);
	g->hop_num = (int64_t)hop * g->rate;
	g->anchor_num = (int64_t)anchor * g->rate;
	g->grace_num = (int64_t)grace * g->rate;

	/* Content time u is decided once every decision whose request covers it is
	 * in: those with k*hop + anchor - grace <= u. The last of them arrives
	 * stride_detector_delay after its window start, and the gain looks ahead by
	 * the attack on top (see the header). */
	const double r = (double)g->rate / (double)g->model_rate;
	const double hop_host = hop * r;
	const double lookahead = STRIDE_GATE_MAX_ATTACK_MS * g->rate / 1000.0 +
	                         (grace - anchor) * r + stride_detector_delay(g->det);
	if (lookahead > 60.0 * g->rate) {
		stride_set_err(err, "the model needs %.1f s of lookahead (60 s at most)",
		               lookahead / g->rate);
		goto fail;
	}
	g->latency = (uint32_t)ceil(lookahead) + 2;
	g->max_step = (float)(1000.0 / (STRIDE_GATE_MAX_SLOPE_MS * g->rate));
	g->bypass_step = (float)(1000.0 / (STRIDE_GATE_BYPASS_MS * g->rate));

	g->dsize = next_pow2((int64_t)g->latency + STRIDE_DETECTOR_MAX_FRAMES + 1);
	g->msize = next_pow2((int64_t)g->latency + (int64_t)ceil(grace * r) +
	                     2 * (int64_t)ceil(hop_host) + 2 * STRIDE_DETECTOR_MAX_FRAMES + 16);
	g->delay = calloc((size_t)channels * (size_t)g->dsize, sizeof(float));
	g->marks = calloc((size_t)g->msize, 1);
	g->probs = calloc((size_t)stride_detector_max_decisions(g->det) * (size_t)g->n_classes,
	                  sizeof(float));
	if (!g->delay || !g->marks || !g->probs) {
		stride_set_err(err, "out of memory");
		goto fail;
	}
	g->params = stride_gate_params_default();
	derive(g);
	stride_gate_reset(g);
	return g;
fail:
	stride_gate_free(g);
	return NULL;
}

void stride_gate_free(StrideGate *g)
{
	if (!g)
		return;
	stride_detector_free(g->det);
	free(g->delay);
	free(g->marks);
	free(g->probs);
	free(g);
}

void stride_gate_continue_from(StrideGate *g, const StrideGate *prev)
{
	if (prev->channels != g->channels || prev->rate != g->rate)
		return;
	const int64_t now = prev->now;
	g->now = now;
	g->origin = now;
	g->n_dec = 0;
	stride_detector_reset(g->det);

	const int64_t dlen = g->dsize < prev->dsize ? g->dsize : prev->dsize;
	for (int c = 0; c < g->channels; c++) {
		float *dst = g->delay + (size_t)c * (size_t)g->dsize;
		const float *src = prev->delay + (size_t)c * (size_t)prev->dsize;
		for (int64_t j = 1; j <= dlen; j++)
			dst[(now - j) & (g->dsize - 1)] = src[(now - j) & (prev->dsize - 1)];
	}
	const int64_t mlen = g->msize < prev->msize ? g->msize : prev->msize;
	const int64_t hi = prev->marked_end;
	for (int64_t u = hi - mlen + 1; u < hi; u++)
		g->marks[u & (g->msize - 1)] = prev->marks[u & (prev->msize - 1)];
	/* decisions prev had not made yet: keep its last state until ours arrive */
	for (int64_t u = hi > now - mlen ? hi : now - mlen; u < now; u++)
		g->marks[u & (g->msize - 1)] = prev->last_open;
	g->marked_end = hi > now ? hi : now;
	g->last_open = prev->last_open;
	g->hyst_open = prev->hyst_open;
	g->probability = prev->probability;
	g->gain = prev->gain;
	g->mix = prev->mix;
	g->applied = prev->applied;
	g->hold_left = prev->hold_left;
	g->params = prev->params;
	derive(g);
}

void stride_gate_decision_span(const StrideGate *g, int64_t k, int64_t *start, int64_t *end)
{
	const int64_t a = k * g->hop_num + g->anchor_num;
	*start = g->origin + ceil_div(a, g->model_rate);
	*end = g->origin + ceil_div(a + g->hop_num, g->model_rate);
}

/* Records decision n_dec, open or not: its own stretch [a, a + hop) is written
 * afresh, the grace before it [a - grace, a) is or-ed into what earlier
 * decisions wrote (a = k*hop + anchor). */
static void mark(StrideGate *g, bool open)
{
	const int64_t k = g->n_dec++;
	const int64_t a = k * g->hop_num + g->anchor_num;
	const int64_t c0 = g->origin + ceil_div(a - g->grace_num, g->model_rate);
	int64_t c1, c2;
	stride_gate_decision_span(g, k, &c1, &c2);
	const int64_t mask = g->msize - 1;
	if (open)
		for (int64_t u = c0; u < c1; u++)
			g->marks[u & mask] = 1;
	for (int64_t u = c1; u < c2; u++)
		g->marks[u & mask] = open;
	if (c2 > g->marked_end)
		g->marked_end = c2;
	g->last_open = open;
}

static bool requested(const StrideGate *g, int64_t u)
{
	if (u >= g->marked_end)
		return g->last_open;
	return g->marks[u & (g->msize - 1)] != 0;
}

/* Takes the detector's n_dec new decisions: each one's content probability
 * through the threshold and hysteresis, marked open or closed on the timeline
 * (mark) for the envelope to follow. */
static void apply_decisions(StrideGate *g, int n_dec)
{
	for (int d = 0; d < n_dec; d++) {
		const float p = g->probs[(size_t)d * g->n_classes + g->content];
		g->probability = p;
		if (!g->hyst_open && p >= g->open_at)
			g->hyst_open = true;
		else if (g->hyst_open && p < g->close_below)
			g->hyst_open = false;
		mark(g, g->hyst_open);
	}
}

/* The gain for output frame t, whose audio is content time t - latency. */
static float envelope(StrideGate *g, int64_t t)
{
	if (requested(g, t - (int64_t)g->latency + g->attack))
		g->hold_left = g->attack + g->hold;
	else if (g->hold_left > 0)
		g->hold_left--;
	const float target = g->hold_left > 0 ? 1.0f : g->floor;
	float gain = g->gain;
	if (gain < target) {
		gain += g->up_step;
		if (gain > target)
			gain = target;
	} else if (gain > target) {
		float next = gain * g->down_factor;
		if (next < gain - g->max_step)
			next = gain - g->max_step;
		/* at -90 dB the release is over: the last step to 0 is inaudible */
		gain = next > target && next > STRIDE_GATE_CLOSED_GAIN ? next : target;
	}
	g->gain = gain;

	const float mix_target = g->enabled ? 0.0f : 1.0f;
	if (g->mix < mix_target)
		g->mix = fminf(mix_target, g->mix + g->bypass_step);
	else if (g->mix > mix_target)
		g->mix = fmaxf(mix_target, g->mix - g->bypass_step);
	return g->mix + (1.0f - g->mix) * gain;
}

void stride_gate_process(StrideGate *g, const float *const *in, float *const *out, uint32_t n)
{
	const int channels = g->channels;
	const int64_t dmask = g->dsize - 1;
	uint32_t done = 0;
	while (done < n) {
		const uint32_t left = n - done;
		const int m = left < STRIDE_DETECTOR_MAX_FRAMES ? (int)left : STRIDE_DETECTOR_MAX_FRAMES;
		const float *chunk[STRIDE_DETECTOR_MAX_CHANNELS];
		for (int c = 0; c < channels; c++) {
			chunk[c] = in[c] + done;
			float *ring = g->delay + (size_t)c * (size_t)g->dsize;
			for (int i = 0; i < m; i++)
				ring[(g->now + i) & dmask] = stride_sanitize(chunk[c][i]);
		}
		apply_decisions(g, stride_detector_push(g->det, chunk, m, g->probs));
		for (int i = 0; i < m; i++) {
			const int64_t t = g->now + i;
			const float gain = envelope(g, t);
			const int64_t at = (t - (int64_t)g->latency) & dmask;
			for (int c = 0; c < channels; c++)
				out[c][done + i] = gain * g->delay[(size_t)c * (size_t)g->dsize + at];
			g->applied = gain;
		}
		g->now += m;
		done += (uint32_t)m;
	}
}

uint32_t stride_gate_latency(const StrideGate *g)
{
	return g->latency;
}

float stride_gate_probability(const StrideGate *g)
{
	return g->probability;
}

int64_t stride_gate_decisions(const StrideGate *g)
{
	return g->n_dec;
}

bool stride_gate_decision_open(const StrideGate *g)
{
	return g->hyst_open;
}

float stride_gate_gain(const StrideGate *g)
{
	return g->applied;
}

float stride_gate_gain_db(const StrideGate *g)
{
	return g->applied > STRIDE_GATE_CLOSED_GAIN ? 20.0f * log10f(g->applied) : STRIDE_GATE_CLOSED_DB;
}

float stride_gate_max_step(const StrideGate *g)
{
	return g->max_step + g->bypass_step;
}

