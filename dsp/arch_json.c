/* Architecture JSON: {"layers": [{"type": "conv1d", "name": "conv1", ...}, ...]}.
 *
 * Parsing is strict on purpose: an unknown key or type, a fraction where an
 * integer is meant or an absurd size is an error naming the layer and the key,
 * so a typo in a hand-written architecture never turns silently into a default.
 * Whether the layers chain (channel counts and so on) is stride_net_new's job.
 * Each layer type's keys are listed in its row of the layer table. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_table.h"

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

/* One key's value into the spec. */
static int set_key(StrideLayerSpec *s, const StrideLayerKey *k, const cJSON *v, int i,
                   const char *tn, char *err)
{
	void *field = (char *)s + k->offset;
	if (k->kind == STRIDE_KEY_INT)
		return get_int(v, k->lo, k->hi, field, i, tn, err);
	if (k->kind == STRIDE_KEY_BOOL) {
		if (!cJSON_IsBool(v)) {
			stride_set_err(err, "layer %d (%s): \"%s\" must be true or false", i, tn, k->key);
			return -1;
		}
		*(bool *)field = cJSON_IsTrue(v);
		return 0;
	}
	float *f = field;
	if (get_float(v, f, i, tn, err) < 0)
		return -1;
	if (k->kind == STRIDE_KEY_POSITIVE && !(*f > 0.0f)) {
		stride_set_err(err, "layer %d (%s): \"%s\" must be positive", i, tn, k->key);
		return -1;
	}
	if (k->kind == STRIDE_KEY_UNIT && !(*f >= 0.0f && *f <= 1.0f)) {
		stride_set_err(err, "layer %d (%s): \"%s\" must be 0..1", i, tn, k->key);
		return -1;
	}
	return 0;
}

static int set_name(StrideLayerSpec *s, const cJSON *v, int i, const char *tn, char *err)
{
	if (!cJSON_IsString(v) || !stride_layer_name_valid(v->valuestring)) {
		stride_set_err(err, "layer %d (%s): \"name\" must be 1..%d characters of letters, "
		               "digits, '_', '.' or '-'", i, tn, STRIDE_NAME_LEN - 1);
		return -1;
	}
	strcpy(s->name, v->valuestring);
	return 0;
}

/* The layer's key called `key`: its index in ops->keys, NAME_KEY for "name", or -1. */
#define NAME_KEY 31
static int find_key(const StrideLayerOps *ops, const char *key)
{
	if (strcmp(key, "name") == 0)
		return NAME_KEY;
	for (int k = 0; k < ops->n_keys; k++)
		if (strcmp(ops->keys[k].key, key) == 0)
			return k;
	return -1;
}

/* The "type" member of a layer object, or NULL with err set. */
static const cJSON *layer_type(const cJSON *obj, int i, char *err)
{
	if (!cJSON_IsObject(obj)) {
		stride_set_err(err, "layer %d: not a JSON object", i);
		return NULL;
	}
	const cJSON *type = NULL;
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (strcmp(c->string, "type") == 0) {
			if (type) {
				stride_set_err(err, "layer %d: key \"type\" appears twice", i);
				return NULL;
			}
			type = c;
		}
	}
	if (!type) {
		stride_set_err(err, "layer %d: missing \"type\"", i);
		return NULL;
	}
	if (!cJSON_IsString(type)) {
		stride_set_err(err, "layer %d: \"type\" must be a string", i);
		return NULL;
	}
	return type;
}

static int parse_layer(const cJSON *obj, int i, StrideLayerSpec *s, char *err)
{
	const cJSON *type = layer_type(obj, i, err);
	if (!type)
		return -1;
	int t = stride_layer_type_from_name(type->valuestring);
	if (t < 0) {
		stride_set_err(err, "layer %d: unknown type \"%.40s\"", i, type->valuestring);
		return -1;
	}
	*s = stride_layer_spec_defaults((StrideLayerType)t);
	const StrideLayerOps *ops = stride_layer_ops((StrideLayerType)t);
	const char *tn = ops->name;
	unsigned long seen = 0;
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (c == type)
			continue;
		const int k = find_key(ops, c->string);
		if (k < 0) {
			stride_set_err(err, "layer %d (%s): unknown key \"%.40s\"", i, tn, c->string);
			return -1;
		}
		if (seen & (1ul << k)) {
			stride_set_err(err, "layer %d (%s): key \"%s\" appears twice", i, tn, c->string);
			return -1;
		}
		seen |= 1ul << k;
		if ((k == NAME_KEY ? set_name(s, c, i, tn, err) : set_key(s, &ops->keys[k], c, i, tn, err)) < 0)
			return -1;
	}
	for (int k = 0; k < ops->n_keys; k++) {
		if (ops->keys[k].required && !(seen & (1ul << k))) {
			stride_set_err(err, "layer %d (%s): missing \"%s\"", i, tn, ops->keys[k].key);
			return -1;
		}
	}
	if (ops->needs_name && !(seen & (1ul << NAME_KEY))) {
		stride_set_err(err, "layer %d (%s): missing \"name\"", i, tn);
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
	if (n < 1 || n > STRIDE_MAX_LAYERS) {
		stride_set_err(err, "architecture: %d layers (1..%d allowed)", n, STRIDE_MAX_LAYERS);
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

static int add_key(cJSON *o, const StrideLayerKey *k, const StrideLayerSpec *s)
{
	const void *field = (const char *)s + k->offset;
	if (k->kind == STRIDE_KEY_INT) {
		const int v = *(const int *)field;
		return (k->omit_zero && v == 0) || cJSON_AddNumberToObject(o, k->key, v) != NULL;
	}
	if (k->kind == STRIDE_KEY_BOOL)
		return cJSON_AddBoolToObject(o, k->key, *(const bool *)field) != NULL;
	return add_float(o, k->key, *(const float *)field);
}

static int add_layer(cJSON *arr, const StrideLayerSpec *s)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return 0;
	}
	const StrideLayerOps *ops = stride_layer_ops(s->type);
	int ok = cJSON_AddStringToObject(o, "type", ops ? ops->name : "?") != NULL;
	if (ok && (s->name[0] || (ops && ops->needs_name))) {
		char name[STRIDE_NAME_LEN];
		memcpy(name, s->name, STRIDE_NAME_LEN);
		name[STRIDE_NAME_LEN - 1] = 0;
		ok = cJSON_AddStringToObject(o, "name", name) != NULL;
	}
	for (int k = 0; ok && ops && k < ops->n_keys; k++)
		ok = add_key(o, &ops->keys[k], s);
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
