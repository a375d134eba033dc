/* The bundle's Turtle: it validates against the LV2 schemas with sord_validate
 * (as lv2_validate does), lv2ls and lilv see the three plugins, and what the
 * Turtle says agrees with the code: port indices (plugin/ports.h), control
 * ranges and defaults (the DSP tables), the latency and enable designations,
 * one p_<label> port and scale point per class of the shipped genre model, and
 * the presets' values. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lv2/core/lv2.h>
#include <lv2/presets/presets.h>

#include "classifier.h"
#include "gate.h"
#include "lv2_host.h"
#include "ports.h"

static char bundle[4096];
static LV2Host *host;

static int setup(void **state)
{
	(void)state;
	if (!lv2host_bundle_path(bundle, sizeof bundle))
		return -1;
	host = lv2host_new(bundle);
	return host ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	lv2host_free(host);
	return 0;
}

static bool have_program(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Appends " path" for every .ttl in dir. */
static void add_ttl(char **cmd, size_t *len, size_t *cap, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		const size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".ttl"))
			continue;
		const size_t need = *len + strlen(dir) + n + 8;
		if (need > *cap) {
			*cap = 2 * need;
			*cmd = realloc(*cmd, *cap);
		}
		*len += (size_t)sprintf(*cmd + *len, " '%s/%s'", dir, e->d_name);
	}
	closedir(d);
}

/* sord_validate with every LV2 specification bundle's Turtle (not the example
 * plugins'), as lv2_validate runs it. */
static void test_sord_validate(void **state)
{
	(void)state;
	if (!have_program("sord_validate"))
		fail_msg("sord_validate is missing: install the Debian package sordi");
	const char *lv2dir = "/usr/lib/lv2";
	DIR *d = opendir(lv2dir);
	if (!d)
		fail_msg("%s is missing: install the Debian package lv2-dev", lv2dir);
	size_t cap = 1 << 16, len = 0;
	char *cmd = malloc(cap);
	len += (size_t)sprintf(cmd, "sord_validate");
	int specs = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".lv2") || !strncmp(e->d_name, "eg-", 3) ||
		    !strcmp(e->d_name, "stride.lv2"))
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%s", lv2dir, e->d_name);
		add_ttl(&cmd, &len, &cap, sub);
		specs++;
	}
	closedir(d);
	assert_true(specs >= 20); /* core, atom, patch, state, units, ... */
	add_ttl(&cmd, &len, &cap, bundle);
	char out[256];
	snprintf(out, sizeof out, "/tmp/stride-sord-validate-%d.txt", (int)getpid());
	const size_t need = len + 2 * strlen(out) + 16;
	if (need > cap)
		cmd = realloc(cmd, need);
	sprintf(cmd + len, " >'%s' 2>&1", out);
	const int rc = system(cmd);
	free(cmd);
	FILE *f = fopen(out, "r");
	char text[65536] = "";
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = '\0';
		fclose(f);
	}
	remove(out);
	printf("%s", strstr(text, "Found") ? strstr(text, "Found") : text);
	if (rc != 0 || !strstr(text, "Found 0 errors"))
		fail_msg("sord_validate found errors in the bundle:\n%s", text);
}

static void test_lv2ls(void **state)
{
	(void)state;
	if (!have_program("lv2ls"))
		fail_msg("lv2ls is missing: install the Debian package lilv-utils");
	/* lv2host_new pointed LV2_PATH at the bundle alone */
	FILE *p = popen("lv2ls 2>/dev/null", "r");
	assert_non_null(p);
	char text[4096] = "";
	text[fread(text, 1, sizeof text - 1, p)] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_string_equal(text, STRIDE_URI_GATE "\n" STRIDE_URI_GATE_STEREO "\n" STRIDE_URI_GENRE "\n");
}

static const LilvPort *port_at(const LilvPlugin *p, uint32_t index, const char *symbol)
{
	const LilvPort *port = lilv_plugin_get_port_by_index(p, index);
	if (!port)
		fail_msg("%s: no port %u", lilv_node_as_uri(lilv_plugin_get_uri(p)), index);
	const char *s = lilv_node_as_string(lilv_port_get_symbol(p, port));
	if (strcmp(s, symbol))
		fail_msg("%s: port %u is \"%s\", the code has \"%s\"",
		         lilv_node_as_uri(lilv_plugin_get_uri(p)), index, s, symbol);
	return port;
}

static void check_range(const LilvPlugin *p, const LilvPort *port, const StrideParamInfo *info)
{
	LilvNode *def, *min, *max;
	lilv_port_get_range(p, port, &def, &min, &max);
	assert_non_null(def);
	assert_non_null(min);
	assert_non_null(max);
	assert_float_equal(lilv_node_as_float(def), info->def, 1e-6);
	assert_float_equal(lilv_node_as_float(min), info->min, 1e-6);
	assert_float_equal(lilv_node_as_float(max), info->max, 1e-6);
	lilv_node_free(def);
	lilv_node_free(min);
	lilv_node_free(max);
}

static bool has_designation(const LilvPlugin *p, const LilvPort *port, const char *uri)
{
	LilvWorld *w = lv2host_world(host);
	LilvNode *pred = lilv_new_uri(w, LV2_CORE__designation);
	LilvNodes *vals = lilv_port_get_value(p, port, pred);
	bool found = false;
	LILV_FOREACH (nodes, i, vals)
		found = found || !strcmp(lilv_node_as_uri(lilv_nodes_get(vals, i)), uri);
	lilv_nodes_free(vals);
	lilv_node_free(pred);
	return found;
}

/* The values a preset sets, by symbol. */
typedef struct {
	char symbol[STRIDE_GATE_N_PARAMS + 4][32];
	float value[STRIDE_GATE_N_PARAMS + 4];
	int n;
} PresetValues;

static void collect(const char *symbol, void *user, const void *value, uint32_t size,
                    uint32_t type)
{
	(void)type;
	PresetValues *pv = (PresetValues *)user;
	if (pv->n >= STRIDE_GATE_N_PARAMS + 4 || size != sizeof(float))
		return;
	snprintf(pv->symbol[pv->n], sizeof pv->symbol[0], "%s", symbol);
	memcpy(&pv->value[pv->n], value, sizeof(float));
	pv->n++;
}

static void test_gate_ports(void **state)
{
	(void)state;
	LilvWorld *w = lv2host_world(host);
	for (int channels = 1; channels <= 2; channels++) {
		const LilvPlugin *p =
		    lv2host_plugin(host, channels == 1 ? STRIDE_URI_GATE : STRIDE_URI_GATE_STEREO);
		assert_non_null(p);
		assert_int_equal(lilv_plugin_get_num_ports(p), GATE_AUDIO + 2 * channels);
		port_at(p, GATE_CONTROL, "control");
		port_at(p, GATE_NOTIFY, "notify");
		for (int i = 0; i < STRIDE_GATE_N_PARAMS; i++) {
			const LilvPort *port =
			    port_at(p, GATE_PARAMS + (uint32_t)i, stride_gate_param_info[i].symbol);
			check_range(p, port, &stride_gate_param_info[i]);
		}
		assert_true(has_designation(p, port_at(p, GATE_PARAMS + STRIDE_GATE_ENABLE, "enable"),
		                            LV2_CORE__enabled));
		port_at(p, GATE_PROBABILITY, "probability");
		port_at(p, GATE_GAIN, "gain");
		const LilvPort *latency = port_at(p, GATE_LATENCY, "latency");
		assert_true(has_designation(p, latency, LV2_CORE__latency));
		LilvNode *reports = lilv_new_uri(w, LV2_CORE__reportsLatency);
		assert_true(lilv_port_has_property(p, latency, reports));
		lilv_node_free(reports);
		assert_true(lilv_plugin_has_latency(p));
		assert_int_equal(lilv_plugin_get_latency_port_index(p), GATE_LATENCY);
		static const char *const mono[] = {"in", "out"};
		static const char *const stereo[] = {"in_l", "in_r", "out_l", "out_r"};
		for (int c = 0; c < 2 * channels; c++)
			port_at(p, GATE_AUDIO + (uint32_t)c, channels == 1 ? mono[c] : stereo[c]);

		/* the presets hold the C table's values */
		LilvNode *preset_class = lilv_new_uri(w, LV2_PRESETS__Preset);
		LilvNodes *presets = lilv_plugin_get_related(p, preset_class);
		assert_int_equal(lilv_nodes_size(presets), stride_gate_n_presets);
		int matched = 0;
		LILV_FOREACH (nodes, i, presets) {
			const LilvNode *uri = lilv_nodes_get(presets, i);
			lilv_world_load_resource(w, uri);
			LilvState *st = lilv_state_new_from_world(w, lv2host_map_feature(host), uri);
			assert_non_null(st);
			const char *label = lilv_state_get_label(st);
			for (int k = 0; k < stride_gate_n_presets; k++) {
				const StrideGatePreset *pr = &stride_gate_presets[k];
				if (!label || strcmp(label, pr->label))
					continue;
				matched++;
				PresetValues pv;
				memset(&pv, 0, sizeof pv);
				lilv_state_emit_port_values(st, collect, &pv);
				assert_int_equal(pv.n, STRIDE_GATE_N_PARAMS - 1); /* never `enable` */
				for (int q = 0; q < STRIDE_GATE_N_PARAMS; q++) {
					int found = -1;
					for (int j = 0; j < pv.n; j++)
						if (!strcmp(pv.symbol[j], stride_gate_param_info[q].symbol))
							found = j;
					if (q == STRIDE_GATE_ENABLE) {
						assert_int_equal(found, -1);
						continue;
					}
					assert_true(found >= 0);
					assert_float_equal(pv.value[found], pr->params.v[q], 1e-5);
				}
			}
			lilv_state_free(st);
		}
		assert_int_equal(matched, stride_gate_n_presets);
		lilv_nodes_free(presets);
		lilv_node_free(preset_class);
	}
}

static void test_genre_ports(void **state)
{
	(void)state;
	LilvWorld *w = lv2host_world(host);
	const LilvPlugin *p = lv2host_plugin(host, STRIDE_URI_GENRE);
	assert_non_null(p);
	char path[4200], err[STRIDE_ERR_LEN];
	snprintf(path, sizeof path, "%s/%s", bundle, STRIDE_GENRE_MODEL_FILE);
	StrideModel *m = stride_model_load(path, err);
	if (!m)
		fail_msg("%s", err);
	port_at(p, GENRE_CONTROL, "control");
	port_at(p, GENRE_NOTIFY, "notify");
	port_at(p, GENRE_IN, "in");
	port_at(p, GENRE_OUT, "out");
	check_range(p, port_at(p, GENRE_SMOOTHING, "smoothing"), &stride_classifier_smoothing_info);
	const LilvPort *cls = port_at(p, GENRE_CLASS, "class");
	port_at(p, GENRE_CONFIDENCE, "confidence");
	assert_int_equal(lilv_plugin_get_num_ports(p), GENRE_PROBS + m->n_labels);
	assert_false(lilv_plugin_has_latency(p));
	LilvScalePoints *points = lilv_port_get_scale_points(p, cls);
	assert_int_equal(lilv_scale_points_size(points), m->n_labels);
	LILV_FOREACH (scale_points, i, points) {
		const LilvScalePoint *sp = lilv_scale_points_get(points, i);
		const int v = lilv_node_as_int(lilv_scale_point_get_value(sp));
		assert_true(v >= 0 && v < m->n_labels);
		assert_string_equal(lilv_node_as_string(lilv_scale_point_get_label(sp)), m->labels[v]);
	}
	lilv_scale_points_free(points);
	for (int k = 0; k < m->n_labels; k++) {
		char sym[128];
		snprintf(sym, sizeof sym, "p_%s", m->labels[k]);
		for (char *c = sym; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
				*c = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : '_';
		port_at(p, GENRE_PROBS + (uint32_t)k, sym);
	}
	/* the model parameter: writable, an atom:Path */
	LilvNode *writable = lilv_new_uri(w, "http://lv2plug.in/ns/ext/patch#writable");
	LilvNodes *params = lilv_plugin_get_value(p, writable);
	bool model = false;
	LILV_FOREACH (nodes, i, params)
		model = model || !strcmp(lilv_node_as_uri(lilv_nodes_get(params, i)), STRIDE_URI_MODEL);
	assert_true(model);
	lilv_nodes_free(params);
	lilv_node_free(writable);
	stride_model_free(m);
}

/* Features: urid:map is the only one required. */
static void test_features(void **state)
{
	(void)state;
	const char *all[] = {STRIDE_URI_GATE, STRIDE_URI_GATE_STEREO, STRIDE_URI_GENRE};
	for (int i = 0; i < 3; i++) {
		const LilvPlugin *p = lv2host_plugin(host, all[i]);
		LilvNodes *req = lilv_plugin_get_required_features(p);
		assert_int_equal(lilv_nodes_size(req), 1);
		assert_string_equal(lilv_node_as_uri(lilv_nodes_get(req, lilv_nodes_begin(req))),
		                    LV2_URID__map);
		lilv_nodes_free(req);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sord_validate),
		cmocka_unit_test(test_lv2ls),
		cmocka_unit_test(test_gate_ports),
		cmocka_unit_test(test_genre_ports),
		cmocka_unit_test(test_features),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
