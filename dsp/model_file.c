/* Model files: a safetensors file whose __metadata__ describes the network
 * (stride.architecture), what it decides (stride.task, stride.labels) and at
 * which rate and pace (stride.sample_rate, stride.window, stride.hop). The full
 * format is in docs/MODEL_FORMAT.md. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "safetensors.h"
#include "util.h"

#define FORMAT_VERSION "1"
#define MIN_RATE 8000
#define MAX_RATE 384000
/* 16 M samples: 44 s at 384 kHz. Plugins size buffers from these. */
#define MAX_WINDOW (1 << 24)
/* A network has at most 64 M floats and a header at most 100 MB. */
#define MAX_MODEL_FILE ((size_t)1 << 30)

/* The keys save writes from the struct fields, in this order. */
enum { G_FORMAT, G_TASK, G_RATE, G_LABELS, G_ARCH, G_WINDOW, G_HOP, G_GAIN, N_GENERATED };
static const char *const generated_keys[N_GENERATED] = {
	"stride.format", "stride.task",   "stride.sample_rate", "stride.labels",
	"stride.architecture", "stride.window", "stride.hop",  "stride.input_gain",
};

static int is_generated(const char *key)
{
	for (int i = 0; i < N_GENERATED; i++) {
		if (strcmp(generated_keys[i], key) == 0)
			return 1;
	}
	return 0;
}

static const char *task_name(StrideTask t)
{
	return t == STRIDE_TASK_GATE ? "gate" : t == STRIDE_TASK_CLASSIFY ? "classify" : NULL;
}

/* A decimal integer in lo..hi with nothing around it. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
	const char *p = s;
	int neg = *p == '-';
	if (neg)
		p++;
	if (!*p)
		return 0;
	long long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000000000LL)
			return 0;
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		return 0;
	*out = (int)v;
	return 1;
}

/* A JSON number (so the locale's decimal point cannot change its meaning). */
static int parse_number(const char *s, double *out)
{
	cJSON *v = cJSON_Parse(s);
	int ok = cJSON_IsNumber(v) && isfinite(v->valuedouble);
	if (ok)
		*out = v->valuedouble;
	cJSON_Delete(v);
	return ok;
}

/* "%.9g" (enough digits to read back the same float) with a '.' whatever the locale. */
static void format_float(char *buf, size_t n, float v)
{
	snprintf(buf, n, "%.9g", (double)v);
	for (char *p = buf; *p; p++) {
		if (*p == ',')
			*p = '.';
	}
}

/* The model's fields are consistent with each other and with the network. */
static int check_fields(const StrideModel *m, const char *fname, char err[STRIDE_ERR_LEN])
{
	if (!m->net) {
		stride_set_err(err, "%s: model has no network", fname);
		return -1;
	}
	if (!task_name(m->task)) {
		stride_set_err(err, "%s: stride.task %d is neither gate nor classify", fname,
		               (int)m->task);
		return -1;
	}
	if (m->sample_rate < MIN_RATE || m->sample_rate > MAX_RATE) {
		stride_set_err(err, "%s: stride.sample_rate %d Hz is outside %d..%d", fname,
		               m->sample_rate, MIN_RATE, MAX_RATE);
		return -1;
	}
	if (m->window < 1 || m->window > MAX_WINDOW || m->hop < 1 || m->hop > MAX_WINDOW) {
		stride_set_err(err, "%s: stride.window %d and stride.hop %d must be 1..%d samples",
		               fname, m->window, m->hop, MAX_WINDOW);
		return -1;
	}
	int c, t;
	char why[STRIDE_ERR_LEN] = "";
	if (stride_net_output_shape(m->net, m->window, &c, &t, why) < 0) {
		stride_set_err(err, "%s: stride.window %d does not fit the network: %s", fname,
		               m->window, why);
		return -1;
	}
	if (m->n_labels != c) {
		stride_set_err(err, "%s: stride.labels has %d labels but the network has %d outputs",
		               fname, m->n_labels, c);
		return -1;
	}
	for (int i = 0; i < m->n_labels; i++) {
		if (!m->labels || !m->labels[i]) {
			stride_set_err(err, "%s: label %d is missing", fname, i);
			return -1;
		}
	}
	if (!isfinite(m->input_gain) || !(m->input_gain > 0.0f)) {
		stride_set_err(err, "%s: stride.input_gain must be a finite number > 0", fname);
		return -1;
	}
	return 0;
}

/* The stride.* values save writes, from the struct fields (malloc'd strings). */
static int generated_values(const StrideModel *m, char *vals[N_GENERATED])
{
	char num[64];
	memset(vals, 0, N_GENERATED * sizeof *vals);
	vals[G_FORMAT] = stride_dup_string(FORMAT_VERSION);
	vals[G_TASK] = stride_dup_string(task_name(m->task));
	snprintf(num, sizeof num, "%d", m->sample_rate);
	vals[G_RATE] = stride_dup_string(num);
	cJSON *labels = cJSON_CreateStringArray((const char *const *)m->labels, m->n_labels);
	vals[G_LABELS] = labels ? cJSON_PrintUnformatted(labels) : NULL;
	cJSON_Delete(labels);
	int n = stride_net_n_layers(m->net);
	StrideLayerSpec *specs = calloc((size_t)n + 1, sizeof *specs);
	if (specs) {
		for (int i = 0; i < n; i++)
			specs[i] = *stride_net_layer(m->net, i);
		vals[G_ARCH] = stride_arch_to_json(specs, n);
		free(specs);
	}
	snprintf(num, sizeof num, "%d", m->window);
	vals[G_WINDOW] = stride_dup_string(num);
	snprintf(num, sizeof num, "%d", m->hop);
	vals[G_HOP] = stride_dup_string(num);
	format_float(num, sizeof num, m->input_gain);
	vals[G_GAIN] = stride_dup_string(num);
	for (int i = 0; i < N_GENERATED; i++) {
		if (!vals[i]) {
			for (int j = 0; j < N_GENERATED; j++)
				free(vals[j]);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_labels(StrideModel *m, const char *json, const char *fname,
                        char err[STRIDE_ERR_LEN])
{
	cJSON *arr = cJSON_Parse(json);
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		stride_set_err(err, "%s: stride.labels is not a JSON list of strings", fname);
		return -1;
	}
	int n = cJSON_GetArraySize(arr);
	m->labels = calloc((size_t)n + 1, sizeof *m->labels);
	if (!m->labels) {
		cJSON_Delete(arr);
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	for (const cJSON *c = arr->child; c; c = c->next) {
		if (!cJSON_IsString(c)) {
			cJSON_Delete(arr);
			stride_set_err(err, "%s: stride.labels entry %d is not a string", fname, m->n_labels);
			return -1;
		}
		m->labels[m->n_labels] = stride_dup_string(c->valuestring);
		if (!m->labels[m->n_labels]) {
			cJSON_Delete(arr);
			stride_set_err(err, "%s: out of memory", fname);
			return -1;
		}
		m->n_labels++;
	}
	cJSON_Delete(arr);
	return 0;
}

/* The fields from the stride.* metadata, and the network from the architecture. */
static int parse_meta(StrideModel *m, const char *fname, char err[STRIDE_ERR_LEN])
{
	const char *v = stride_model_meta(m, "stride.format");
	if (!v) {
		stride_set_err(err, "%s: not a Stride model (metadata stride.format is missing)", fname);
		return -1;
	}
	if (strcmp(v, FORMAT_VERSION) != 0) {
		stride_set_err(err, "%s: unsupported format version \"%.20s\" (stride.format; this "
		               "build reads %s)", fname, v, FORMAT_VERSION);
		return -1;
	}
	const char *required[] = {"stride.task", "stride.sample_rate", "stride.labels",
	                          "stride.architecture"};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		if (!stride_model_meta(m, required[i])) {
			stride_set_err(err, "%s: metadata %s is missing", fname, required[i]);
			return -1;
		}
	}
	v = stride_model_meta(m, "stride.task");
	if (strcmp(v, "gate") == 0) {
		m->task = STRIDE_TASK_GATE;
	} else if (strcmp(v, "classify") == 0) {
		m->task = STRIDE_TASK_CLASSIFY;
	} else {
		stride_set_err(err, "%s: stride.task \"%.40s\" must be gate or classify", fname, v);
		return -1;
	}
	v = stride_model_meta(m, "stride.sample_rate");
	if (!parse_int(v, MIN_RATE, MAX_RATE, &m->sample_rate)) {
		stride_set_err(err, "%s: stride.sample_rate \"%.40s\" must be an integer %d..%d (Hz)",
		               fname, v, MIN_RATE, MAX_RATE);
		return -1;
	}
	int n_specs;
	StrideLayerSpec *specs = stride_arch_parse(stride_model_meta(m, "stride.architecture"),
	                                           &n_specs, err);
	if (specs)
		m->net = stride_net_new(specs, n_specs, err);
	free(specs);
	if (!m->net) {
		stride_prefix_err(err, "%s: stride.architecture", fname);
		return -1;
	}
	if (parse_labels(m, stride_model_meta(m, "stride.labels"), fname, err) < 0)
		return -1;
	v = stride_model_meta(m, "stride.window");
	m->window = stride_net_receptive_field(m->net);
	if (v && !parse_int(v, 1, MAX_WINDOW, &m->window)) {
		stride_set_err(err, "%s: stride.window \"%.40s\" must be an integer 1..%d (samples)",
		               fname, v, MAX_WINDOW);
		return -1;
	}
	v = stride_model_meta(m, "stride.hop");
	m->hop = stride_net_total_stride(m->net);
	if (v && !parse_int(v, 1, MAX_WINDOW, &m->hop)) {
		stride_set_err(err, "%s: stride.hop \"%.40s\" must be an integer 1..%d (samples)",
		               fname, v, MAX_WINDOW);
		return -1;
	}
	v = stride_model_meta(m, "stride.input_gain");
	m->input_gain = 1.0f;
	if (v) {
		double g;
		if (!parse_number(v, &g) || !(g > 0.0) || g > 3.4e38) {
			stride_set_err(err, "%s: stride.input_gain \"%.40s\" must be a finite number > 0",
			               fname, v);
			return -1;
		}
		m->input_gain = (float)g;
	}
	return check_fields(m, fname, err);
}

/* Each network tensor from the file: present, same shape, finite; nothing extra. */
static int load_tensors(StrideNet *net, const StrideStHeader *h, const char *fname,
                        char err[STRIDE_ERR_LEN])
{
	char *used = calloc((size_t)h->n_tensors + 1, 1);
	if (!used) {
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	int nt = stride_net_n_tensors(net);
	for (int i = 0; i < nt; i++) {
		StrideTensor t = stride_net_tensor(net, i);
		int k = stride_st_find(h, t.name);
		if (k < 0 || h->tensors[k].skipped) {
			stride_set_err(err, "%s: tensor %s is missing (the architecture needs it)", fname,
			               t.name);
			goto fail;
		}
		const StrideStEntry *e = &h->tensors[k];
		int same = e->ndim == t.ndim;
		for (int d = 0; same && d < t.ndim; d++)
			same = e->shape[d] == t.shape[d];
		if (!same) {
			char have[96], want[96];
			const int64_t shape[3] = {t.shape[0], t.shape[1], t.shape[2]};
			stride_format_shape(have, sizeof have, e->shape, e->ndim);
			stride_format_shape(want, sizeof want, shape, t.ndim);
			stride_set_err(err, "%s: tensor %s: shape %s does not match the architecture %s",
			               fname, t.name, have, want);
			goto fail;
		}
		stride_st_copy_f32(h, k, t.data);
		for (size_t j = 0; j < t.size; j++) {
			if (!isfinite(t.data[j])) {
				stride_set_err(err, "%s: tensor %s: value %zu is %s (not a finite number)",
				               fname, t.name, j, isnan(t.data[j]) ? "NaN" : "Inf");
				goto fail;
			}
		}
		used[k] = 1;
	}
	for (int k = 0; k < h->n_tensors; k++) {
		if (!used[k] && !h->tensors[k].skipped) {
			stride_set_err(err, "%s: tensor %.80s is not part of the architecture (extra tensor)",
			               fname, h->tensors[k].name);
			goto fail;
		}
	}
	free(used);
	return 0;
fail:
	free(used);
	return -1;
}

StrideModel *stride_model_read_memory(const uint8_t *data, size_t len, const char *name,
                                      char err[STRIDE_ERR_LEN])
{
	const char *fname = stride_file_label(name);
	StrideStHeader h;
	if (stride_st_parse(data, len, fname, &h, err) < 0)
		return NULL;
	StrideModel *m = calloc(1, sizeof *m);
	if (!m) {
		stride_set_err(err, "%s: out of memory", fname);
		stride_st_free(&h);
		return NULL;
	}
	/* Every pair is kept, so a save writes back what other tools put there.
	 * The parser's arrays move over whole: its keys are already unique. */
	m->n_meta = h.n_meta;
	m->meta_keys = h.meta_keys;
	m->meta_values = h.meta_values;
	h.n_meta = 0;
	h.meta_keys = NULL;
	h.meta_values = NULL;
	if (parse_meta(m, fname, err) < 0 || load_tensors(m->net, &h, fname, err) < 0)
		goto fail;
	stride_st_free(&h);
	return m;
fail:
	stride_st_free(&h);
	stride_model_free(m);
	return NULL;
}

StrideModel *stride_model_read(const char *path, char err[STRIDE_ERR_LEN])
{
	uint8_t *buf;
	size_t len;
	if (!path) {
		stride_set_err(err, "stride_model_read: no path");
		return NULL;
	}
	if (stride_read_file(path, MAX_MODEL_FILE, &buf, &len, err) < 0)
		return NULL;
	StrideModel *m = stride_model_read_memory(buf, len, path, err);
	free(buf);
	return m;
}

/* ------------------------------------------------------------------------ */
/* Saving, creating, metadata                                               */
/* ------------------------------------------------------------------------ */

int stride_model_write(const StrideModel *model, const char *path, char err[STRIDE_ERR_LEN])
{
	if (!model || !path) {
		stride_set_err(err, "stride_model_write: no model or no path");
		return -1;
	}
	if (check_fields(model, path, err) < 0)
		return -1;
	StrideNet *net = model->net;
	int nt = stride_net_n_tensors(net);
	int n_meta = 0, rc = -1;
	char *gen[N_GENERATED];
	if (generated_values(model, gen) < 0) {
		stride_set_err(err, "%s: out of memory", path);
		return -1;
	}
	const char **keys = calloc((size_t)model->n_meta + N_GENERATED, sizeof *keys);
	const char **vals = calloc((size_t)model->n_meta + N_GENERATED, sizeof *vals);
	StrideTensorOut *out = calloc((size_t)nt + 1, sizeof *out);
	if (!keys || !vals || !out) {
		stride_set_err(err, "%s: out of memory", path);
		goto done;
	}
	for (int i = 0; i < N_GENERATED; i++, n_meta++) {
		keys[n_meta] = generated_keys[i];
		vals[n_meta] = gen[i];
	}
	for (int i = 0; i < model->n_meta; i++) {
		if (is_generated(model->meta_keys[i]))
			continue;
		keys[n_meta] = model->meta_keys[i];
		vals[n_meta++] = model->meta_values[i];
	}
	for (int i = 0; i < nt; i++) {
		StrideTensor t = stride_net_tensor(net, i);
		/* A diverged training must not leave a file that no loader accepts. */
		for (size_t j = 0; j < t.size; j++) {
			if (!isfinite(t.data[j])) {
				stride_set_err(err, "%s: tensor %s: value %zu is %s; not saving", path, t.name,
				               j, isnan(t.data[j]) ? "NaN" : "Inf");
				goto done;
			}
		}
		out[i].name = t.name;
		out[i].ndim = t.ndim;
		for (int d = 0; d < t.ndim; d++)
			out[i].shape[d] = t.shape[d];
		out[i].data = t.data;
	}
	rc = stride_tensorfile_write(path, out, nt, keys, vals, n_meta, err);
done:
	for (int i = 0; i < N_GENERATED; i++)
		free(gen[i]);
	free(keys);
	free(vals);
	free(out);
	return rc;
}

StrideModel *stride_model_new(StrideNet *net, StrideTask task, int sample_rate,
                              const char *const *labels, int n_labels, char err[STRIDE_ERR_LEN])
{
	const char *what = "new model";
	if (!net) {
		stride_set_err(err, "%s: no network", what);
		return NULL;
	}
	StrideModel *m = calloc(1, sizeof *m);
	if (!m) {
		stride_set_err(err, "%s: out of memory", what);
		stride_net_free(net);
		return NULL;
	}
	m->net = net;
	m->task = task;
	m->sample_rate = sample_rate;
	m->window = stride_net_receptive_field(net);
	m->hop = stride_net_total_stride(net);
	m->input_gain = 1.0f;
	if (n_labels < 0 || (n_labels > 0 && !labels)) {
		stride_set_err(err, "%s: invalid labels", what);
		goto fail;
	}
	m->labels = calloc((size_t)n_labels + 1, sizeof *m->labels);
	if (!m->labels)
		goto oom;
	for (int i = 0; i < n_labels; i++) {
		if (!labels[i]) {
			stride_set_err(err, "%s: label %d is NULL", what, i);
			goto fail;
		}
		m->labels[i] = stride_dup_string(labels[i]);
		if (!m->labels[i])
			goto oom;
		m->n_labels++;
	}
	if (check_fields(m, what, err) < 0)
		goto fail;
	/* The metadata a save would write, so stride_model_meta answers from the start. */
	char *gen[N_GENERATED];
	if (generated_values(m, gen) < 0)
		goto oom;
	int ok = 1;
	for (int i = 0; i < N_GENERATED; i++) {
		if (ok && stride_model_set_meta(m, generated_keys[i], gen[i]) < 0)
			ok = 0;
		free(gen[i]);
	}
	if (!ok)
		goto oom;
	return m;
oom:
	stride_set_err(err, "%s: out of memory", what);
fail:
	stride_model_free(m);
	return NULL;
}

const char *stride_model_meta(const StrideModel *model, const char *key)
{
	return model ? stride_find_pair(model->meta_keys, model->meta_values, model->n_meta, key)
	             : NULL;
}

bool stride_model_label_region(const StrideModel *model, int *start, int *end)
{
	*start = 0;
	*end = model->window;
	const char *region = stride_model_meta(model, "train.label_region");
	int s = 0, e = 0;
	char extra;
	if (!region || sscanf(region, "%d %d %c", &s, &e, &extra) != 2 || s < 0 || e <= s ||
	    e > model->window)
		return false;
	*start = s;
	*end = e;
	return true;
}

int stride_model_decision_offset(const StrideModel *model)
{
	int start, end;
	stride_model_label_region(model, &start, &end);
	const int offset = (start + end - model->hop) / 2;
	return offset > 0 ? offset : 0;
}

int stride_model_set_meta(StrideModel *model, const char *key, const char *value)
{
	if (!model || !key || !value)
		return -1;
	char *v = stride_dup_string(value);
	if (!v)
		return -1;
	for (int i = 0; i < model->n_meta; i++) {
		if (strcmp(model->meta_keys[i], key) == 0) {
			free(model->meta_values[i]);
			model->meta_values[i] = v;
			return 0;
		}
	}
	char *k = stride_dup_string(key);
	char **nk = realloc(model->meta_keys, ((size_t)model->n_meta + 1) * sizeof *nk);
	if (nk)
		model->meta_keys = nk;
	char **nv = nk ? realloc(model->meta_values, ((size_t)model->n_meta + 1) * sizeof *nv) : NULL;
	if (nv)
		model->meta_values = nv;
	if (!k || !nk || !nv) {
		free(k);
		free(v);
		return -1;
	}
	model->meta_keys[model->n_meta] = k;
	model->meta_values[model->n_meta] = v;
	model->n_meta++;
	return 0;
}

void stride_model_free(StrideModel *model)
{
	if (!model)
		return;
	stride_net_free(model->net);
	stride_free_strings(model->labels, model->n_labels);
	stride_free_strings(model->meta_keys, model->n_meta);
	stride_free_strings(model->meta_values, model->n_meta);
	free(model);
}
