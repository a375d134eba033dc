/* Architecture JSON: {"layers": [{"type": "conv1d", "name": "conv1", ...}, ...]}.
 *
 * Parsing is strict on purpose: an unknown key or type, a fraction where an
 * integer is meant or an absurd size is an error naming the layer and the key,
 * so a typo in a hand-written architecture never turns silently into a default.
 * Whether the layers chain (channel counts and so on) is stride_net_new's job. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_LAYERS 256
#define MAX_CHANNELS 4096
#define MAX_DENSE_IN (1 << 22) /* a dense layer may take a flattened (C, T) input */
#define MAX_KERNEL 65536
#define MAX_STEP 65536 /* stride, dilation */
#define MAX_PADDING 65535

/* The keys a layer type accepts besides "type" and "name". */
enum {
	K_IN = 1 << 0,
	K_OUT = 1 << 1,
	K_KERNEL = 1 << 2,
	K_STRIDE = 1 << 3,
	K_DILATION = 1 << 4,
	K_PADDING = 1 << 5,
	K_GROUPS = 1 << 6,
	K_BIAS = 1 << 7,
	K_CHANNELS = 1 << 8,
	K_EPS = 1 << 9,
	K_MOMENTUM = 1 << 10,
	K_SLOPE = 1 << 11,
	K_NAME = 1 << 12,
	K_DC_ZEROS = 1 << 13,
};

static const struct {
	const char *key;
	int bit;
} key_bits[] = {
	{"in", K_IN},           {"out", K_OUT},         {"kernel", K_KERNEL},
	{"stride", K_STRIDE},   {"dilation", K_DILATION}, {"padding", K_PADDING},
	{"groups", K_GROUPS},   {"bias", K_BIAS},       {"channels", K_CHANNELS},
	{"eps", K_EPS},         {"momentum", K_MOMENTUM}, {"slope", K_SLOPE},
	{"name", K_NAME},       {"dc_zeros", K_DC_ZEROS},
};

static int allowed_keys(StrideLayerType t)
{
	switch (t) {
	case STRIDE_CONV1D:
		return K_NAME | K_IN | K_OUT | K_KERNEL | K_STRIDE | K_DILATION | K_PADDING | K_GROUPS |
		       K_BIAS | K_DC_ZEROS;
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D:
		return K_NAME | K_KERNEL | K_STRIDE | K_PADDING;
	case STRIDE_BATCHNORM1D:
		return K_NAME | K_CHANNELS | K_EPS | K_MOMENTUM;
	case STRIDE_DENSE:
		return K_NAME | K_IN | K_OUT | K_BIAS;
	case STRIDE_LEAKY_RELU:
		return K_NAME | K_SLOPE;
	case STRIDE_LOG:
		return K_NAME | K_EPS;
	default:
		return K_NAME;
	}
}

static int required_keys(StrideLayerType t)
{
	switch (t) {
	case STRIDE_CONV1D:
		return K_NAME | K_IN | K_OUT | K_KERNEL;
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D:
		return K_KERNEL;
	case STRIDE_BATCHNORM1D:
		return K_NAME | K_CHANNELS;
	case STRIDE_DENSE:
		return K_NAME | K_IN | K_OUT;
	default:
		return 0;
	}
}

static int key_bit(const char *key)
{
	for (size_t i = 0; i < sizeof key_bits / sizeof key_bits[0]; i++) {
		if (strcmp(key_bits[i].key, key) == 0)
			return key_bits[i].bit;
	}
	return 0;
}

static const char *bit_key(int bit)
{
	for (size_t i = 0; i < sizeof key_bits / sizeof key_bits[0]; i++) {
		if (key_bits[i].bit == bit)
			return key_bits[i].key;
	}
	return "?";
}

static int get_int(const cJSON *v, int lo, int hi, int *out, int i, const char *tn, char *err)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d)) {
		stride_set_err(err, "layer %d (%s): \"%s\" must be an integer", i, tn, v->string);
		return -1;
	}
	if (d < lo || d > hi) {
		stride_set_err(err, "layer %d (%s): \"%s\" is %.0f, must be %d..%d", i, tn, v->string,
		               d, lo, hi);
		return -1;
	}
	*out = (int)d;
	return 0;
}

static int get_float(const cJSON *v, float *out, int i, const char *tn, char *err)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > FLT_MAX) {
		stride_set_err(err, "layer %d (%s): \"%s\" must be a finite number", i, tn, v->string);
		return -1;
	}
	*out = (float)v->valuedouble;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= STRIDE_NAME_LEN)
		return 0;
	for (size_t k = 0; k < n; k++) {
		char c = s[k];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* One key's value into the spec. */
static int set_field(StrideLayerSpec *s, int bit, const cJSON *v, int i, const char *tn, char *err)
{
	switch (bit) {
	case K_NAME:
		if (!cJSON_IsString(v) || !valid_name(v->valuestring)) {
			stride_set_err(err, "layer %d (%s): \"name\" must be 1..%d characters of letters, "
			               "digits, '_', '.' or '-'", i, tn, STRIDE_NAME_LEN - 1);
			return -1;
		}
		strcpy(s->name, v->valuestring);
		return 0;
	case K_IN:
		return get_int(v, 1, s->type == STRIDE_DENSE ? MAX_DENSE_IN : MAX_CHANNELS, &s->in, i,
		               tn, err);
	case K_OUT:
		return get_int(v, 1, MAX_CHANNELS, &s->out, i, tn, err);
	case K_KERNEL:
		return get_int(v, 1, MAX_KERNEL, &s->kernel, i, tn, err);
	case K_STRIDE:
		/* pools: 0 means "the kernel size", as PyTorch's stride=None */
		return get_int(v, s->type == STRIDE_CONV1D ? 1 : 0, MAX_STEP, &s->stride, i, tn, err);
	case K_DILATION:
		return get_int(v, 1, MAX_STEP, &s->dilation, i, tn, err);
	case K_PADDING:
		return get_int(v, 0, MAX_PADDING, &s->padding, i, tn, err);
	case K_GROUPS:
		return get_int(v, 1, MAX_CHANNELS, &s->groups, i, tn, err);
	case K_CHANNELS:
		return get_int(v, 1, MAX_CHANNELS, &s->channels, i, tn, err);
	case K_BIAS:
		if (!cJSON_IsBool(v)) {
			stride_set_err(err, "layer %d (%s): \"bias\" must be true or false", i, tn);
			return -1;
		}
		s->bias = cJSON_IsTrue(v);
		return 0;
	case K_EPS:
		if (get_float(v, &s->eps, i, tn, err) < 0)
			return -1;
		if (!(s->eps > 0.0f)) {
			stride_set_err(err, "layer %d (%s): \"eps\" must be positive", i, tn);
			return -1;
		}
		return 0;
	case K_MOMENTUM:
		if (get_float(v, &s->momentum, i, tn, err) < 0)
			return -1;
		if (!(s->momentum >= 0.0f && s->momentum <= 1.0f)) {
			stride_set_err(err, "layer %d (%s): \"momentum\" must be 0..1", i, tn);
			return -1;
		}
		return 0;
	case K_SLOPE:
		return get_float(v, &s->slope, i, tn, err);
	case K_DC_ZEROS:
		return get_int(v, 0, STRIDE_MAX_DC_ZEROS, &s->dc_zeros, i, tn, err);
	default:
		return -1;
	}
}

static int parse_layer(const cJSON *obj, int i, StrideLayerSpec *s, char *err)
{
	if (!cJSON_IsObject(obj)) {
		stride_set_err(err, "layer %d: not a JSON object", i);
		return -1;
	}
	const cJSON *type = NULL;
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (strcmp(c->string, "type") == 0) {
			if (type) {
				stride_set_err(err, "layer %d: key \"type\" appears twice", i);
				return -1;
			}
			type = c;
		}
	}
	if (!type) {
		stride_set_err(err, "layer %d: missing \"type\"", i);
		return -1;
	}
	if (!cJSON_IsString(type)) {
		stride_set_err(err, "layer %d: \"type\" must be a string", i);
		return -1;
	}
	int t = stride_layer_type_from_name(type->valuestring);
	if (t < 0) {
		stride_set_err(err, "layer %d: unknown type \"%.40s\"", i, type->valuestring);
		return -1;
	}
	*s = stride_layer_spec_defaults((StrideLayerType)t);
	const char *tn = stride_layer_type_name((StrideLayerType)t);
	int allowed = allowed_keys((StrideLayerType)t), seen = 0;
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (c == type)
			continue;
		int bit = key_bit(c->string);
		if (!(bit & allowed)) {
			stride_set_err(err, "layer %d (%s): unknown key \"%.40s\"", i, tn, c->string);
			return -1;
		}
		if (seen & bit) {
			stride_set_err(err, "layer %d (%s): key \"%s\" appears twice", i, tn, c->string);
			return -1;
		}
		seen |= bit;
		if (set_field(s, bit, c, i, tn, err) < 0)
			return -1;
	}
	int missing = required_keys((StrideLayerType)t) & ~seen;
	if (missing) {
		stride_set_err(err, "layer %d (%s): missing \"%s\"", i, tn, bit_key(missing & -missing));
		return -1;
	}
	return 0;
}

StrideLayerSpec *stride_arch_parse(const char *json, int *n_specs, char err[STRIDE_ERR_LEN])
{
	*n_specs = 0;
	if (!json) {
		stride_set_err(err, "architecture: no document");
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(json, &end, 1);
	if (!root) {
		size_t at = end && end >= json ? (size_t)(end - json) : 0;
		stride_set_err(err, "architecture is not valid JSON (syntax error near byte %zu)", at);
		return NULL;
	}
	StrideLayerSpec *specs = NULL;
	const cJSON *layers = NULL;
	if (!cJSON_IsObject(root)) {
		stride_set_err(err, "architecture is not a JSON object");
		goto fail;
	}
	for (const cJSON *c = root->child; c; c = c->next) {
		if (strcmp(c->string, "layers") != 0) {
			stride_set_err(err, "architecture: unknown key \"%.40s\" (expected only \"layers\")",
			               c->string);
			goto fail;
		}
		if (layers) {
			stride_set_err(err, "architecture: key \"layers\" appears twice");
			goto fail;
		}
		layers = c;
	}
	if (!layers || !cJSON_IsArray(layers)) {
		stride_set_err(err, "architecture: \"layers\" must be a list of layer objects");
		goto fail;
	}
	int n = cJSON_GetArraySize(layers);
	if (n < 1 || n > MAX_LAYERS) {
		stride_set_err(err, "architecture: %d layers (1..%d allowed)", n, MAX_LAYERS);
		goto fail;
	}
	specs = calloc((size_t)n, sizeof *specs);
	if (!specs) {
		stride_set_err(err, "architecture: out of memory");
		goto fail;
	}
	int i = 0;
	for (const cJSON *c = layers->child; c; c = c->next, i++) {
		if (parse_layer(c, i, &specs[i], err) < 0)
			goto fail;
	}
	cJSON_Delete(root);
	*n_specs = n;
	return specs;
fail:
	cJSON_Delete(root);
	free(specs);
	return NULL;
}

/* The shortest decimal that reads back as exactly v ("1e-05", not "9.99999975e-06"). */
static void format_float(char *buf, size_t n, float v)
{
	if (!isfinite(v)) {
		snprintf(buf, n, "null"); /* not a number JSON can hold; parsing will refuse it */
		return;
	}
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, n, "%.*g", prec, (double)v);
		for (char *p = buf; *p; p++) {
			if (*p == ',') /* a locale's decimal comma */
				*p = '.';
		}
		if (strtof(buf, NULL) == v)
			return;
	}
}

static int add_float(cJSON *obj, const char *key, float v)
{
	char num[48];
	format_float(num, sizeof num, v);
	return cJSON_AddRawToObject(obj, key, num) != NULL;
}

static int add_layer(cJSON *arr, const StrideLayerSpec *s)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return 0;
	}
	const char *tn = stride_layer_type_name(s->type);
	int keys = allowed_keys(s->type);
	int ok = cJSON_AddStringToObject(o, "type", tn ? tn : "?") != NULL;
	if (ok && (keys & K_NAME) && (s->name[0] || required_keys(s->type) & K_NAME)) {
		char name[STRIDE_NAME_LEN];
		memcpy(name, s->name, STRIDE_NAME_LEN);
		name[STRIDE_NAME_LEN - 1] = 0;
		ok = cJSON_AddStringToObject(o, "name", name) != NULL;
	}
	if (ok && (keys & K_IN))
		ok = cJSON_AddNumberToObject(o, "in", s->in) != NULL;
	if (ok && (keys & K_OUT))
		ok = cJSON_AddNumberToObject(o, "out", s->out) != NULL;
	if (ok && (keys & K_CHANNELS))
		ok = cJSON_AddNumberToObject(o, "channels", s->channels) != NULL;
	if (ok && (keys & K_KERNEL))
		ok = cJSON_AddNumberToObject(o, "kernel", s->kernel) != NULL;
	if (ok && (keys & K_STRIDE))
		ok = cJSON_AddNumberToObject(o, "stride", s->stride) != NULL;
	if (ok && (keys & K_DILATION))
		ok = cJSON_AddNumberToObject(o, "dilation", s->dilation) != NULL;
	if (ok && (keys & K_PADDING))
		ok = cJSON_AddNumberToObject(o, "padding", s->padding) != NULL;
	if (ok && (keys & K_GROUPS))
		ok = cJSON_AddNumberToObject(o, "groups", s->groups) != NULL;
	if (ok && (keys & K_BIAS))
		ok = cJSON_AddBoolToObject(o, "bias", s->bias) != NULL;
	if (ok && (keys & K_EPS))
		ok = add_float(o, "eps", s->eps);
	if (ok && (keys & K_MOMENTUM))
		ok = add_float(o, "momentum", s->momentum);
	if (ok && (keys & K_SLOPE))
		ok = add_float(o, "slope", s->slope);
	/* only when set, so files of unconstrained models read as before */
	if (ok && (keys & K_DC_ZEROS) && s->dc_zeros)
		ok = cJSON_AddNumberToObject(o, "dc_zeros", s->dc_zeros) != NULL;
	return ok;
}

char *stride_arch_to_json(const StrideLayerSpec *specs, int n_specs)
{
	if (!specs || n_specs < 0)
		return NULL;
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = root ? cJSON_AddArrayToObject(root, "layers") : NULL;
	if (!arr) {
		cJSON_Delete(root);
		return NULL;
	}
	for (int i = 0; i < n_specs; i++) {
		if (!add_layer(arr, &specs[i])) {
			cJSON_Delete(root);
			return NULL;
		}
	}
	char *json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return json;
}
