/* Soak: long runs of every plugin in the lilv host (tests/lv2_host.h), as a
 * busy session would drive it, measured in audio seconds processed as fast as
 * the CPU allows.
 *
 * Each plugin (gate, gate_stereo, genre) gets STRIDE_SOAK_SECONDS of audio
 * (default 120; 8 under valgrind; 3600 for the hour soak in RELIABILITY.md) of
 * a random programme of silence, hiss, tones, chords and noise bursts, with:
 *   - random block sizes, 1 to 8192 frames (half uniform, half spread evenly
 *     over the powers of two, so short blocks are common);
 *   - every input control set to a random value within its Turtle range on
 *     every block; enable (bypass) toggled every 50 ms to 3 s;
 *   - a model swap every 1 to 5 s: a good model (the shipped one, or a
 *     hand-weighted test model) or a bad one (missing, truncated, garbage, a
 *     folder, a model of the other task);
 *   - every 10 to 40 s either deactivate/activate, or the state saved, the
 *     instance freed, and a new one made at another rate (22.05 to 192 kHz:
 *     LV2 fixes the rate at instantiation) with the state restored.
 * Checked on every block: all outputs finite; the gate's applied gain within
 * [0, 1], equal on both channels and never moving faster than the smoothing
 * bound test_plugin_host uses (full scale in STRIDE_GATE_MAX_SLOPE_MS plus the
 * bypass fade, per frame); genre's audio is its input bit for bit and its
 * probabilities lie in [0, 1]. After every swap the notify port names the
 * model that should be running: the new one after a good swap, the previous
 * one after a bad swap (which must be logged, naming the file), with the
 * gate's latency unchanged. Leaks show under ASan and valgrind (./waf test).
 *
 * STRIDE_SOAK_SEED (default 1) picks another random session. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fault_models.h"
#include "gain_check.h"
#include "lv2_host.h"
#include "ports.h"
#include "test_signals.h"
#include "test_support.h"

#define MAX_BLOCK 8192
#define MAX_CONTROLS 16
#define MAX_FILES 8

static const double rates[] = {22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000};
#define N_RATES (int)(sizeof rates / sizeof rates[0])

static char bundle[TS_PATH_LEN];
static LV2Host *host;

/* A plugin under soak and the model files it is offered. */
typedef struct {
	const char *uri;
	bool genre;
	const char *good[MAX_FILES]; /* NULL-terminated full paths */
	const char *bad[MAX_FILES];
} SoakPlugin;

static char paths[24][TS_PATH_LEN];
static int n_paths;

/* A full path kept for the whole program. */
static const char *keep(const char *path)
{
	snprintf(paths[n_paths], TS_PATH_LEN, "%s", path);
	return paths[n_paths++];
}

static const char *in_bundle(const char *file)
{
	char p[TS_PATH_LEN];
	ts_path(p, "%s/%s", bundle, file);
	return keep(p);
}

static SoakPlugin plugins[3];

/* What a soak did, for the printout and RELIABILITY.md. */
typedef struct {
	double seconds;
	uint64_t blocks, param_changes, toggles, good_swaps, bad_swaps;
	uint64_t reactivations, reinstantiations, gain_checked;
	uint32_t min_block, max_block;
	double worst_step_ratio; /* largest gain step / its bound */
	unsigned rates_used;     /* bit r: rates[r] */
} SoakStats;

typedef struct {
	const SoakPlugin *plugin;
	LV2Instance *inst;
	int rate_index;
	TsRng rng;
	TsProgramme programme;
	TsGainCheck gain;

	/* the input controls other than enable, and their ranges */
	int n_controls;
	uint32_t control[MAX_CONTROLS];
	float lo[MAX_CONTROLS], hi[MAX_CONTROLS];
	int enable; /* port index, or -1 */

	/* the model that must be running, and a swap being checked */
	char expect[TS_PATH_LEN];
	char offered[TS_PATH_LEN];
	bool offered_good;
	int check_in; /* runs until the notify port must say what runs */
	float latency_before;

	double next_swap, next_toggle, next_restart; /* in audio seconds */
	SoakStats st;
} Soak;

static bool all_finite(const float *x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The input control ports and their ranges, from the plugin's Turtle. */
static void find_controls(Soak *s)
{
	const LilvPlugin *p = s->inst->plugin;
	LilvWorld *world = lv2host_world(host);
	LilvNode *input = lilv_new_uri(world, LV2_CORE__InputPort);
	LilvNode *control = lilv_new_uri(world, LV2_CORE__ControlPort);
	const uint32_t n = lilv_plugin_get_num_ports(p);
	float *lo = calloc(n, sizeof(float)), *hi = calloc(n, sizeof(float));
	lilv_plugin_get_port_ranges_float(p, lo, hi, NULL);
	s->n_controls = 0;
	s->enable = lv2inst_port(s->inst, "enable");
	for (uint32_t i = 0; i < n; i++) {
		const LilvPort *port = lilv_plugin_get_port_by_index(p, i);
		if (!lilv_port_is_a(p, port, input) || !lilv_port_is_a(p, port, control) ||
		    (int)i == s->enable)
			continue;
		assert_true(s->n_controls < MAX_CONTROLS);
		assert_true(isfinite(lo[i]) && isfinite(hi[i]) && lo[i] <= hi[i]);
		s->control[s->n_controls] = i;
		s->lo[s->n_controls] = lo[i];
		s->hi[s->n_controls++] = hi[i];
	}
	assert_true(s->n_controls > 0);
	free(lo);
	free(hi);
	lilv_node_free(input);
	lilv_node_free(control);
}

static double gain_bound(double rate)
{
	return 1000.0 / (STRIDE_GATE_MAX_SLOPE_MS * rate) + 1000.0 / (STRIDE_GATE_BYPASS_MS * rate);
}

static double rate_of(const Soak *s)
{
	return rates[s->rate_index];
}

/* A new instance at rates[r]; the programme restarts at that rate. */
static void instantiate(Soak *s, int r)
{
	s->rate_index = r;
	s->st.rates_used |= 1u << r;
	s->inst = lv2inst_new(host, s->plugin->uri, rates[r], MAX_BLOCK, true);
	if (!s->inst)
		fail_msg("%s did not instantiate at %g Hz:\n%s", s->plugin->uri, rates[r],
		         lv2host_log(host));
	find_controls(s);
	ts_programme_init(&s->programme, ts_rng_next(&s->rng), rates[r]);
	ts_gain_check_reset(&s->gain, gain_bound(rates[r]));
}

/* The notify port, asked with patch:Get, names the model that must run. */
static void expect_model(Soak *s, const char *when)
{
	if (strcmp(s->inst->notify_model, s->expect) != 0)
		fail_msg("%s at %.1f s, %s: the plugin runs \"%s\", expected \"%s\"\nlog:\n%s",
		         s->plugin->uri, s->st.seconds, when, s->inst->notify_model, s->expect,
		         lv2host_log(host));
}

/* Either deactivate/activate, or state saved, a new instance at another rate
 * and the state restored (as a host does when the rate changes). */
static void restart(Soak *s)
{
	if (ts_rng_uniform(&s->rng) < 0.5) {
		lilv_instance_deactivate(s->inst->instance);
		lilv_instance_activate(s->inst->instance);
		ts_gain_check_reset(&s->gain, gain_bound(rate_of(s)));
		s->st.reactivations++;
		return;
	}
	char saved[TS_PATH_LEN];
	uint32_t type = 0, flags = 0;
	assert_int_equal(lv2inst_save_model(s->inst, "", saved, sizeof saved, &type, &flags), 0);
	assert_string_equal(saved, s->expect);
	const float enable = s->enable >= 0 ? s->inst->controls[s->enable] : 1.0f;
	lv2inst_free(s->inst);
	int r = (int)ts_rng_range(&s->rng, 0, N_RATES - 2);
	if (r >= s->rate_index)
		r++; /* another rate */
	instantiate(s, r);
	if (s->enable >= 0)
		s->inst->controls[s->enable] = enable;
	assert_int_equal(lv2inst_restore_model(s->inst, "", saved), LV2_STATE_SUCCESS);
	lv2inst_send_get(s->inst);
	lv2inst_run(s->inst, 1);
	lv2inst_work(s->inst);
	ts_gain_check_reset(&s->gain, gain_bound(rate_of(s))); /* that frame was not checked */
	expect_model(s, "after the state was restored at a new rate");
	s->st.reinstantiations++;
}

static const char *pick(TsRng *rng, const char *const *list)
{
	int n = 0;
	while (list[n])
		n++;
	return list[ts_rng_next(rng) % (uint64_t)n];
}

/* Queues a patch:Set of a good or bad model for the next run. */
static void offer_model(Soak *s)
{
	s->offered_good = ts_rng_uniform(&s->rng) < 0.5;
	snprintf(s->offered, sizeof s->offered, "%s",
	         pick(&s->rng, s->offered_good ? s->plugin->good : s->plugin->bad));
	s->latency_before = s->plugin->genre ? 0.0f : lv2inst_get(s->inst, "latency");
	lv2host_clear_log(host);
	lv2inst_send_model(s->inst, s->offered);
	s->check_in = 3; /* run: scheduled; next run: answered; the one after: notified */
}

/* The swap's outcome, once the notify port has had a run to report it. */
static void check_swap(Soak *s)
{
	if (s->offered_good) {
		snprintf(s->expect, sizeof s->expect, "%s", s->offered);
		expect_model(s, "after a good swap");
		s->st.good_swaps++;
		return;
	}
	expect_model(s, "after a bad swap");
	const char *log = lv2host_log(host);
	if (!strstr(log, "[Error]") || !strstr(log, base_name(s->offered)))
		fail_msg("%s: the bad model %s was not logged by name; the log says:\n%s",
		         s->plugin->uri, s->offered, log);
	if (!s->plugin->genre && lv2inst_get(s->inst, "latency") != s->latency_before)
		fail_msg("%s: the latency changed after the bad model %s", s->plugin->uri, s->offered);
	s->st.bad_swaps++;
}

static uint32_t block_size(TsRng *rng)
{
	if (ts_rng_uniform(rng) < 0.5)
		return ts_rng_range(rng, 1, MAX_BLOCK);
	const uint32_t top = 1u << ts_rng_range(rng, 0, 13); /* up to 8192 */
	return ts_rng_range(rng, 1, top);
}

static void randomize_controls(Soak *s)
{
	for (int k = 0; k < s->n_controls; k++) {
		const float v = s->lo[k] + (float)ts_rng_uniform(&s->rng) * (s->hi[k] - s->lo[k]);
		s->inst->controls[s->control[k]] = v;
	}
	s->st.param_changes += (uint64_t)s->n_controls;
}

static void check_gate_block(Soak *s, uint32_t b)
{
	LV2Instance *inst = s->inst;
	const float p = lv2inst_get(inst, "probability"), g = lv2inst_get(inst, "gain");
	const float latency = lv2inst_get(inst, "latency");
	if (!(p >= 0.0f && p <= 1.0f) || !(g >= -90.0f && g <= 0.0f) || !(latency > 0.0f) ||
	    latency != floorf(latency))
		fail_msg("%s at %.1f s: probability %g, gain %g dB, latency %g", s->plugin->uri,
		         s->st.seconds, p, g, latency);
	const float *in[2] = {inst->in[0], inst->in[inst->n_in - 1]};
	const float *out[2] = {inst->out[0], inst->out[inst->n_out - 1]};
	if (!ts_gain_check_block(&s->gain, in, out, b, (uint32_t)latency))
		fail_msg("%s at %.0f Hz, %.1f s into the soak: %s", s->plugin->uri, rate_of(s),
		         s->st.seconds, s->gain.failure);
	const double ratio = s->gain.worst_step / s->gain.bound;
	if (ratio > s->st.worst_step_ratio)
		s->st.worst_step_ratio = ratio;
}

static void check_genre_block(Soak *s, uint32_t b)
{
	LV2Instance *inst = s->inst;
	for (uint32_t i = 0; i < b; i++)
		if (inst->out[0][i] != inst->in[0][i])
			fail_msg("genre at %.1f s: frame %u passed as %g, in %g", s->st.seconds, i,
			         (double)inst->out[0][i], (double)inst->in[0][i]);
	float sum = 0.0f;
	for (uint32_t port = GENRE_PROBS; port < inst->n_ports; port++) {
		const float p = inst->controls[port];
		if (!(p >= 0.0f && p <= 1.0f))
			fail_msg("genre at %.1f s: p port %u is %g", s->st.seconds, port, p);
		sum += p;
	}
	const float conf = lv2inst_get(inst, "confidence"), cls = lv2inst_get(inst, "class");
	if (!(sum <= 1.001f) || !(conf >= 0.0f && conf <= 1.0f) || !(cls >= 0.0f) ||
	    GENRE_PROBS + (uint32_t)cls >= inst->n_ports)
		fail_msg("genre at %.1f s: probabilities sum to %g, confidence %g, class %g",
		         s->st.seconds, sum, conf, cls);
}

/* One block: controls, input, maybe a swap, the run, the worker, the checks. */
static void soak_block(Soak *s)
{
	LV2Instance *inst = s->inst;
	const uint32_t b = block_size(&s->rng);
	randomize_controls(s);
	if (s->enable >= 0 && s->st.seconds >= s->next_toggle) {
		inst->controls[s->enable] = inst->controls[s->enable] > 0.5f ? 0.0f : 1.0f;
		s->next_toggle = s->st.seconds + 0.05 + 2.95 * ts_rng_uniform(&s->rng);
		s->st.toggles++;
	}
	ts_programme_fill(&s->programme, inst->in[0], b);
	if (inst->n_in > 1)
		for (uint32_t i = 0; i < b; i++)
			inst->in[1][i] = -0.7f * inst->in[0][i];
	if (s->check_in == 0 && s->st.seconds >= s->next_swap) {
		offer_model(s);
		s->next_swap = s->st.seconds + 1.0 + 4.0 * ts_rng_uniform(&s->rng);
	}
	if (s->check_in == 1) {
		lv2inst_send_get(inst);
		inst->notify_model[0] = '\0';
	}
	lv2inst_run(inst, b);
	lv2inst_work(inst); /* the host's worker, between cycles */

	for (int c = 0; c < inst->n_out; c++)
		if (!all_finite(inst->out[c], b))
			fail_msg("%s at %.1f s: a non-finite output sample", s->plugin->uri, s->st.seconds);
	for (uint32_t port = 0; port < inst->n_ports; port++)
		if (!isfinite(inst->controls[port]))
			fail_msg("%s at %.1f s: port %u is %g", s->plugin->uri, s->st.seconds, port,
			         inst->controls[port]);
	if (s->plugin->genre)
		check_genre_block(s, b);
	else
		check_gate_block(s, b);
	if (s->check_in > 0 && --s->check_in == 0)
		check_swap(s);

	s->st.blocks++;
	s->st.seconds += b / rate_of(s);
	if (b < s->st.min_block)
		s->st.min_block = b;
	if (b > s->st.max_block)
		s->st.max_block = b;
	if (s->check_in == 0 && s->st.seconds >= s->next_restart) {
		restart(s);
		s->next_restart = s->st.seconds + 10.0 + 30.0 * ts_rng_uniform(&s->rng);
	}
}

static double soak_seconds(void)
{
	const char *v = getenv("STRIDE_SOAK_SECONDS");
	if (v && *v)
		return atof(v);
	return ts_under_valgrind() ? 8.0 : 120.0;
}

static void soak(const SoakPlugin *plugin, uint64_t seed)
{
	Soak *s = calloc(1, sizeof *s);
	s->plugin = plugin;
	ts_rng_seed(&s->rng, seed);
	s->st.min_block = UINT32_MAX;
	ts_gain_check_init(&s->gain, plugin->genre ? 1 : 2, 1.0);
	instantiate(s, 3); /* 48 kHz */
	lv2inst_run(s->inst, 1); /* the first run reports the default model */
	/* lilv hands the plugin the bundle through the host's LV2_PATH link, so
	 * the default model's path differs from ours by its folder */
	snprintf(s->expect, sizeof s->expect, "%s", s->inst->notify_model);
	assert_string_equal(base_name(s->expect), base_name(plugin->good[0]));
	ts_gain_check_reset(&s->gain, gain_bound(rate_of(s)));
	s->next_swap = 0.5;
	s->next_restart = 10.0;

	const double target = soak_seconds();
	const clock_t t0 = clock();
	while (s->st.seconds < target || s->check_in > 0)
		soak_block(s);
	const double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	s->st.gain_checked = s->gain.checked;

	char used[128] = "";
	for (int r = 0; r < N_RATES; r++)
		if (s->st.rates_used & (1u << r)) {
			const size_t at = strlen(used);
			snprintf(used + at, sizeof used - at, "%s%g", at ? "," : "", rates[r] / 1000.0);
		}
	printf("  %-22s %8.1f audio s in %6.1f s CPU (%.0fx real time), seed %llu\n", plugin->uri,
	       s->st.seconds, cpu, s->st.seconds / (cpu > 1e-9 ? cpu : 1e-9),
	       (unsigned long long)seed);
	printf("    blocks %llu (%u..%u frames), control changes %llu, enable toggles %llu\n",
	       (unsigned long long)s->st.blocks, s->st.min_block, s->st.max_block,
	       (unsigned long long)s->st.param_changes, (unsigned long long)s->st.toggles);
	printf("    swaps: %llu good, %llu bad; deactivate/activate %llu, new rate %llu (kHz: %s)\n",
	       (unsigned long long)s->st.good_swaps, (unsigned long long)s->st.bad_swaps,
	       (unsigned long long)s->st.reactivations, (unsigned long long)s->st.reinstantiations,
	       used);
	if (!plugin->genre)
		printf("    gain measured on %llu frames; largest step %.3f of the bound\n",
		       (unsigned long long)s->gain.checked, s->st.worst_step_ratio);
	/* the soak must have done what it claims */
	assert_true(s->st.seconds >= target);
	if (target >= 30.0) {
		assert_true(s->st.good_swaps > 0 && s->st.bad_swaps > 0);
		assert_true(s->st.reactivations + s->st.reinstantiations > 0);
	}
	if (!plugin->genre) {
		assert_true(s->st.toggles > 0);
		assert_true(s->gain.checked > 0);
	}
	lv2inst_free(s->inst);
	ts_gain_check_free(&s->gain);
	free(s);
}

static uint64_t seed(void)
{
	return (uint64_t)strtoull(ts_env_or("STRIDE_SOAK_SEED", "1"), NULL, 10);
}

static void test_soak_gate(void **state)
{
	(void)state;
	soak(&plugins[0], seed());
}

static void test_soak_gate_stereo(void **state)
{
	(void)state;
	soak(&plugins[1], seed() + 1);
}

static void test_soak_genre(void **state)
{
	(void)state;
	soak(&plugins[2], seed() + 2);
}

/* A full worker queue when a swapped-out model should go back to the worker:
 * the gate keeps every such model and asks again on the next runs, so six
 * swaps, each met by a full queue, still end with six models freed by the
 * worker (before, they waited for cleanup, and past four were dropped:
 * leaked, unlogged). */
static void test_worker_queue_full(void **state)
{
	(void)state;
	LV2Instance *inst = lv2inst_new(host, STRIDE_URI_GATE, 48000.0, 512, true);
	assert_non_null(inst);
	const char *models[2] = { ts_tmp_path(FM_ENERGY_GATE), ts_tmp_path(FM_MIN_GATE) };
	const int swaps = 6;
	int jobs = 0;
	for (int i = 0; i < swaps; i++) {
		lv2inst_send_model(inst, models[i % 2]);
		lv2inst_run(inst, 512);          /* the load goes to the worker (and the last
		                                    swap's model, asked for again) */
		jobs += lv2inst_work(inst);
		const int dropped = inst->jobs_dropped;
		inst->refuse_work = true;
		lv2inst_run(inst, 512);          /* the swap; the old model cannot go back */
		assert_int_equal(inst->jobs_dropped, dropped + 1);
		inst->refuse_work = false;
	}
	lv2inst_run(inst, 512);                  /* asked again: the last one goes now */
	jobs += lv2inst_work(inst);
	assert_int_equal(jobs, 2 * swaps);       /* every load, and every free */
	assert_string_equal(inst->notify_model, models[(swaps - 1) % 2]);
	lv2inst_run(inst, 512);
	assert_int_equal(lv2inst_work(inst), 0); /* and each only once */
	lv2inst_free(inst);
}

static int setup(void **state)
{
	if (ts_tmpdir_setup(state) || fm_write_all() || !lv2host_bundle_path(bundle, sizeof bundle))
		return -1;
	host = lv2host_new(bundle);
	if (!host)
		return -1;
	const char *gate = in_bundle(STRIDE_GATE_MODEL_FILE);
	const char *genre = in_bundle(STRIDE_GENRE_MODEL_FILE);
	const char *energy_gate = keep(ts_tmp_path(FM_ENERGY_GATE));
	const char *min_gate = keep(ts_tmp_path(FM_MIN_GATE));
	const char *energy_cls = keep(ts_tmp_path(FM_ENERGY_CLS));
	const char *missing = keep(ts_tmp_path(FM_MISSING));
	const char *garbage = keep(ts_tmp_path(FM_GARBAGE));
	const char *folder = keep(ts_tmp_path(FM_FOLDER));
	const char *trunc_gate = keep(ts_tmp_path(FM_TRUNCATED_GATE));
	const char *trunc_cls = keep(ts_tmp_path(FM_TRUNCATED_CLS));
	for (int k = 0; k < 2; k++)
		plugins[k] = (SoakPlugin){
			k ? STRIDE_URI_GATE_STEREO : STRIDE_URI_GATE, false,
			{gate, energy_gate, min_gate, NULL},
			{missing, trunc_gate, garbage, folder, genre, energy_cls, NULL},
		};
	plugins[2] = (SoakPlugin){
		STRIDE_URI_GENRE, true,
		{genre, energy_cls, NULL},
		{missing, trunc_cls, garbage, folder, gate, energy_gate, NULL},
	};
	return 0;
}

static int teardown(void **state)
{
	lv2host_free(host);
	return ts_tmpdir_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak_gate),
		cmocka_unit_test(test_soak_gate_stereo),
		cmocka_unit_test(test_soak_genre),
		cmocka_unit_test(test_worker_queue_full),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
