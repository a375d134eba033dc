/* Input faults: NaN, +Inf, -Inf, denormals, full-scale square waves, full-scale
 * DC and digital silence, each for STRIDE_FAULT_SECONDS of audio (default 60;
 * silence three times as long: minutes), through every plugin in the lilv host
 * (tests/lv2_host.h) with random block sizes (1 to 8192 frames).
 *
 * Checked during the fault: every output finite, the gate's audio within full
 * scale, its gain within [0, 1] and never faster than its smoothing bound
 * (tests/support/gain_check.h), genre's probabilities within [0, 1].
 *
 * Checked after it: the truth is a fresh instance started when the sane input
 * resumes and fed the same sane input (content and quiet, a second each). The
 * faulted plugin must match it: the probability, genre's probabilities and
 * class within one model window (plus two hops for the decision grid and the
 * resampler), the gate's audio and gain once that window has also passed
 * through the lookahead delay, hold, release and attack (the gate's own timing,
 * docs/PLUGINS.md). Both instances run at 48 kHz and every phase is a whole
 * number of hops, so their decision grids line up and "match" can mean equal.
 *
 * The comparison holds for any model, so it runs with the shipped models
 * (which may be retrained) and with hand-weighted energy models
 * (tests/fault_models.h), whose decisions are known: with those the gate must
 * also open for the content and close for the quiet after the fault, and
 * genre must name "loud" and "quiet" -- never stuck open or closed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fault_models.h"
#include "gain_check.h"
#include "lv2_host.h"
#include "ports.h"
#include "test_signals.h"
#include "test_support.h"

#define RATE 48000.0
#define MAX_BLOCK 8192
/* Decision timing slack at 48 kHz: the resampler's hold-back and rounding. */
#define SLACK_FRAMES 512

typedef enum { F_NAN, F_INF, F_NEG_INF, F_DENORMAL, F_SQUARE, F_DC, F_SILENCE, F_KINDS } Fault;

static const char *const fault_names[F_KINDS] = {
	"NaN", "+Inf", "-Inf", "denormals", "full-scale square", "full-scale DC", "digital silence",
};

static char bundle[TS_PATH_LEN];
static LV2Host *host;

/* One plugin with one model, and that model's timing in host frames. */
typedef struct {
	const char *uri;
	bool genre;
	char model[TS_PATH_LEN]; /* "" for the shipped default */
	bool known;              /* a hand-weighted model: its decisions are known */
	uint64_t window, hop;    /* host frames */
} Case;

static double fault_seconds(void)
{
	const char *v = getenv("STRIDE_FAULT_SECONDS");
	if (v && *v)
		return atof(v);
	if (ts_under_valgrind())
		return 2.0;
#if defined(STRIDE_SANITIZED)
	return 20.0;
#else
	return 60.0;
#endif
}

static float fault_sample(Fault f, uint64_t t, TsRng *rng)
{
	switch (f) {
	case F_NAN:
		return NAN;
	case F_INF:
		return INFINITY;
	case F_NEG_INF:
		return -INFINITY;
	case F_DENORMAL: {
		/* subnormal floats of either sign, 1e-45 .. 1.2e-38 */
		const float mag = (float)(1e-45 + 1.1e-38 * ts_rng_uniform(rng));
		return (ts_rng_next(rng) & 1u) ? mag : -mag;
	}
	case F_SQUARE:
		return (t / 480u) % 2u ? 1.0f : -1.0f; /* 50 Hz at 48 kHz */
	case F_DC:
		return 1.0f;
	default:
		return 0.0f;
	}
}

/* The sane input, by frame since it (re)started: content and quiet, a second each. */
static float sane_sample(uint64_t t)
{
	return (t / (uint64_t)RATE) % 2u == 0 ? ts_content_sample(RATE, t) : ts_quiet_sample(RATE, t);
}

/* Frames rounded up to whole hops, so the next phase starts on the decision grid. */
static uint64_t whole_hops(const Case *c, double seconds)
{
	const uint64_t f = (uint64_t)ceil(seconds * RATE);
	return (f + c->hop - 1) / c->hop * c->hop;
}

/* An instance running c's model, reset so its time line starts now. */
static LV2Instance *start(const Case *c)
{
	LV2Instance *inst = lv2inst_new(host, c->uri, RATE, MAX_BLOCK, true);
	if (!inst)
		fail_msg("%s did not instantiate:\n%s", c->uri, lv2host_log(host));
	if (c->model[0]) {
		lv2inst_send_model(inst, c->model);
		lv2inst_run(inst, 1);
		lv2inst_settle(inst, 1);
		if (strcmp(inst->notify_model, c->model) != 0)
			fail_msg("%s did not load %s:\n%s", c->uri, c->model, lv2host_log(host));
	}
	if (c->genre)
		lv2inst_set(inst, "smoothing", 0.0f); /* the decisions themselves, no averaging */
	lilv_instance_deactivate(inst->instance);
	lilv_instance_activate(inst->instance);
	return inst;
}

static void fill(LV2Instance *inst, uint32_t n, const float *src)
{
	for (int ch = 0; ch < inst->n_in; ch++)
		for (uint32_t i = 0; i < n; i++)
			inst->in[ch][i] = ch ? -0.7f * src[i] : src[i];
}

/* Outputs finite and in range; the gate's gain bounded (see gain_check.h). */
static void check_sanity(const Case *c, LV2Instance *inst, TsGainCheck *g, uint32_t n,
                         const char *when)
{
	for (int ch = 0; ch < inst->n_out; ch++)
		for (uint32_t i = 0; i < n; i++)
			if (!isfinite(inst->out[ch][i]) || fabsf(inst->out[ch][i]) > 1.0f)
				fail_msg("%s, %s: output %g at frame %u", c->uri, when,
				         (double)inst->out[ch][i], i);
	for (uint32_t p = 0; p < inst->n_ports; p++)
		if (!isfinite(inst->controls[p]))
			fail_msg("%s, %s: port %u is %g", c->uri, when, p, (double)inst->controls[p]);
	if (c->genre) {
		for (uint32_t p = GENRE_PROBS; p < inst->n_ports; p++)
			if (!(inst->controls[p] >= 0.0f && inst->controls[p] <= 1.0f))
				fail_msg("%s, %s: p port %u is %g", c->uri, when, p, (double)inst->controls[p]);
		return;
	}
	const float *in[2] = {inst->in[0], inst->in[inst->n_in - 1]};
	const float *out[2] = {inst->out[0], inst->out[inst->n_out - 1]};
	if (!ts_gain_check_block(g, in, out, n, (uint32_t)lv2inst_get(inst, "latency")))
		fail_msg("%s, %s: %s", c->uri, when, g->failure);
}

static uint32_t next_block(TsRng *rng, uint64_t left)
{
	const uint32_t b = ts_rng_range(rng, 1, MAX_BLOCK);
	return b < left ? b : (uint32_t)left;
}

/* Runs `frames` of fault f (or of the sane input, for f == F_KINDS) into inst. */
static void run_phase(const Case *c, LV2Instance *inst, TsGainCheck *g, TsRng *rng, Fault f,
                      uint64_t frames, uint64_t *clock)
{
	static float buf[MAX_BLOCK];
	for (uint64_t done = 0; done < frames;) {
		const uint32_t n = next_block(rng, frames - done);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = f == F_KINDS ? sane_sample(*clock + i) : fault_sample(f, done + i, rng);
		fill(inst, n, buf);
		lv2inst_run(inst, n);
		lv2inst_work(inst);
		check_sanity(c, inst, g, n, f == F_KINDS ? "before the fault" : fault_names[f]);
		done += n;
		*clock += n;
	}
}

/* What the faulted instance did after the fault, for the known-model checks. */
typedef struct {
	bool opened_in_content, closed_in_quiet; /* gate, after its deadline */
	bool loud_in_content, quiet_in_quiet;    /* genre, after the window */
} Seen;

static void compare_block(const Case *c, LV2Instance *a, LV2Instance *b, uint32_t n,
                          uint64_t t, uint64_t prob_deadline, uint64_t audio_deadline, Fault f,
                          Seen *seen)
{
	/* t: frames since the sane input resumed, at the end of this block */
	const bool content = ((t - 1) / (uint64_t)RATE) % 2u == 0;
	if (c->genre) {
		if (t < prob_deadline)
			return;
		for (uint32_t p = GENRE_PROBS; p < a->n_ports; p++)
			if (fabsf(a->controls[p] - b->controls[p]) > 1e-6f)
				fail_msg("%s after %s, %.3f s into the sane input: p port %u is %g, a fresh "
				         "instance says %g",
				         c->uri, fault_names[f], t / RATE, p, (double)a->controls[p],
				         (double)b->controls[p]);
		const float cls = lv2inst_get(a, "class");
		if (cls != lv2inst_get(b, "class"))
			fail_msg("%s after %s: class %g, a fresh instance says %g", c->uri, fault_names[f],
			         (double)cls, (double)lv2inst_get(b, "class"));
		/* energy_cls: class 1 is "loud"; its decisions lag the signal by a window */
		const uint64_t into_second = (t - 1) % (uint64_t)RATE;
		if (into_second >= c->window + 2 * c->hop) {
			seen->loud_in_content |= content && cls == 1.0f;
			seen->quiet_in_quiet |= !content && cls == 0.0f;
		}
		return;
	}
	if (t >= prob_deadline) {
		const float pa = lv2inst_get(a, "probability"), pb = lv2inst_get(b, "probability");
		if (fabsf(pa - pb) > 1e-6f)
			fail_msg("%s after %s, %.3f s into the sane input: probability %g, a fresh "
			         "instance says %g",
			         c->uri, fault_names[f], t / RATE, (double)pa, (double)pb);
	}
	const uint64_t first = t - n; /* the block's first frame */
	for (uint32_t i = 0; i < n; i++) {
		if (first + i < audio_deadline)
			continue;
		for (int ch = 0; ch < a->n_out; ch++)
			if (fabsf(a->out[ch][i] - b->out[ch][i]) > 1e-6f)
				fail_msg("%s after %s, frame %llu of the sane input, channel %d: %g, a fresh "
				         "instance gives %g",
				         c->uri, fault_names[f], (unsigned long long)(first + i), ch,
				         (double)a->out[ch][i], (double)b->out[ch][i]);
	}
	if (t < audio_deadline)
		return;
	const float ga = lv2inst_get(a, "gain");
	if (fabsf(ga - lv2inst_get(b, "gain")) > 1e-4f)
		fail_msg("%s after %s: gain %g dB, a fresh instance %g dB", c->uri, fault_names[f],
		         (double)ga, (double)lv2inst_get(b, "gain"));
	seen->opened_in_content |= content && ga == 0.0f;
	seen->closed_in_quiet |= !content && ga <= -89.0f;
}

static void one_fault(const Case *c, Fault f, TsRng *rng)
{
	TsGainCheck ga, gb;
	const double bound = 1000.0 / (STRIDE_GATE_MAX_SLOPE_MS * RATE) +
	                     1000.0 / (STRIDE_GATE_BYPASS_MS * RATE);
	ts_gain_check_init(&ga, 2, bound);
	ts_gain_check_init(&gb, 2, bound);
	LV2Instance *a = start(c);
	uint64_t clock = 0;
	run_phase(c, a, &ga, rng, F_KINDS, whole_hops(c, 2.0), &clock);
	const double secs = fault_seconds() * (f == F_SILENCE ? 3.0 : 1.0);
	run_phase(c, a, &ga, rng, f, whole_hops(c, secs), &clock);

	/* the sane input resumes; b is the fresh instance it is compared with */
	LV2Instance *b = start(c);
	uint64_t prob_deadline = c->window + 2 * c->hop + SLACK_FRAMES, audio_deadline = 0;
	if (!c->genre) {
		const double ms = lv2inst_get(a, "hold") + lv2inst_get(a, "release") +
		                  lv2inst_get(a, "attack");
		audio_deadline = (uint64_t)lv2inst_get(a, "latency") + prob_deadline +
		                 (uint64_t)ceil(ms * RATE / 1000.0);
	}
	const uint64_t total = (prob_deadline > audio_deadline ? prob_deadline : audio_deadline) +
	                       whole_hops(c, 4.0);
	Seen seen = {false, false, false, false};
	static float buf[MAX_BLOCK];
	for (uint64_t t = 0; t < total;) {
		const uint32_t n = next_block(rng, total - t);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = sane_sample(t + i);
		fill(a, n, buf);
		fill(b, n, buf);
		lv2inst_run(a, n);
		lv2inst_run(b, n);
		lv2inst_work(a);
		lv2inst_work(b);
		check_sanity(c, a, &ga, n, "after the fault");
		check_sanity(c, b, &gb, n, "fresh");
		t += n;
		compare_block(c, a, b, n, t, prob_deadline, audio_deadline, f, &seen);
	}
	if (c->known) {
		if (c->genre && !(seen.loud_in_content && seen.quiet_in_quiet))
			fail_msg("%s after %s: stuck (loud seen %d, quiet seen %d)", c->uri, fault_names[f],
			         seen.loud_in_content, seen.quiet_in_quiet);
		if (!c->genre && !(seen.opened_in_content && seen.closed_in_quiet))
			fail_msg("%s after %s: stuck (opened %d, closed %d)", c->uri, fault_names[f],
			         seen.opened_in_content, seen.closed_in_quiet);
	}
	printf("  %-22s %-22s %-18s %6.1f s of fault: matched a fresh instance from %.3f s "
	       "(probabilities) / %.3f s (audio)\n",
	       c->uri, c->model[0] ? "energy model" : "shipped model", fault_names[f], secs,
	       prob_deadline / RATE, audio_deadline / RATE);
	lv2inst_free(a);
	lv2inst_free(b);
	ts_gain_check_free(&ga);
	ts_gain_check_free(&gb);
}

/* The model's window and hop in host frames, from the file itself. */
static void timing(Case *c)
{
	char path[TS_PATH_LEN], err[STRIDE_ERR_LEN];
	if (c->model[0])
		snprintf(path, sizeof path, "%s", c->model);
	else
		ts_path(path, "%s/%s", bundle, c->genre ? STRIDE_GENRE_MODEL_FILE : STRIDE_GATE_MODEL_FILE);
	StrideModel *m = stride_model_read(path, err);
	if (!m)
		fail_msg("%s: %s", path, err);
	const double ratio = RATE / m->sample_rate;
	assert_true(ratio == floor(ratio)); /* the grids line up only for whole ratios */
	c->window = (uint64_t)(m->window * ratio);
	c->hop = (uint64_t)(m->hop * ratio);
	stride_model_free(m);
}

static void all_faults(const char *uri, bool genre, const char *model_file)
{
	Case c = {uri, genre, "", model_file != NULL, 0, 0};
	if (model_file)
		snprintf(c.model, sizeof c.model, "%s", ts_tmp_path(model_file));
	timing(&c);
	TsRng rng;
	ts_rng_seed(&rng, 7);
	for (int f = 0; f < F_KINDS; f++)
		one_fault(&c, (Fault)f, &rng);
}

static void test_gate_shipped(void **state)
{
	(void)state;
	all_faults(STRIDE_URI_GATE, false, NULL);
}

static void test_gate_energy(void **state)
{
	(void)state;
	all_faults(STRIDE_URI_GATE, false, FM_ENERGY_GATE);
}

static void test_gate_stereo_shipped(void **state)
{
	(void)state;
	all_faults(STRIDE_URI_GATE_STEREO, false, NULL);
}

static void test_gate_stereo_energy(void **state)
{
	(void)state;
	all_faults(STRIDE_URI_GATE_STEREO, false, FM_ENERGY_GATE);
}

static void test_genre_shipped(void **state)
{
	(void)state;
	all_faults(STRIDE_URI_GENRE, true, NULL);
}

static void test_genre_energy(void **state)
{
	(void)state;
	all_faults(STRIDE_URI_GENRE, true, FM_ENERGY_CLS);
}

static int setup(void **state)
{
	if (ts_tmpdir_setup(state) || fm_write_all() || !lv2host_bundle_path(bundle, sizeof bundle))
		return -1;
	host = lv2host_new(bundle);
	return host ? 0 : -1;
}

static int teardown(void **state)
{
	lv2host_free(host);
	return ts_tmpdir_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_shipped),        cmocka_unit_test(test_gate_energy),
		cmocka_unit_test(test_gate_stereo_shipped), cmocka_unit_test(test_gate_stereo_energy),
		cmocka_unit_test(test_genre_shipped),       cmocka_unit_test(test_genre_energy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
