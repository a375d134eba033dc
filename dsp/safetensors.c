/* The safetensors parser (dsp/safetensors.h) that the tensor files
 * (tensorfile.c) and the model files (model_file.c) share: it checks a whole
 * header against the data it describes before anything reads a tensor. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

/* cJSON spends ~64 bytes per item: a 100 MB header of "[0,0,0,..." would need
 * gigabytes. No real header comes near this many items. */
#define MAX_JSON_ITEMS 1000000

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
int stride_st_valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		uint32_t cp, min;
		if ((c & 0xE0) == 0xC0) {
			k = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* An upper bound on the JSON items in text: separators and openers outside strings. */
static size_t count_json_items(const char *s, size_t n)
{
	size_t items = 1;
	int in_string = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == ',' || c == '[' || c == '{' || c == ':') {
			items++;
		}
	}
	return items;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int json_uint(const cJSON *item, uint64_t *out)
{
	if (!cJSON_IsNumber(item))
		return 0;
	double d = item->valuedouble;
	if (!isfinite(d) || d < 0 || d > STRIDE_ST_MAX_JSON_INT || d != floor(d))
		return 0;
	*out = (uint64_t)d;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The entry's three keys, each exactly once and nothing else. */
static int find_entry_keys(const cJSON *obj, const char *fname, const char *tn,
                           const cJSON **dtype, const cJSON **shape, const cJSON **offsets,
                           char err[STRIDE_ERR_LEN])
{
	if (!cJSON_IsObject(obj)) {
		stride_set_err(err, "%s: tensor %.80s: entry is not a JSON object", fname, tn);
		return -1;
	}
	*dtype = *shape = *offsets = NULL;
	for (const cJSON *c = obj->child; c; c = c->next) {
		const cJSON **slot = NULL;
		if (strcmp(c->string, "dtype") == 0)
			slot = dtype;
		else if (strcmp(c->string, "shape") == 0)
			slot = shape;
		else if (strcmp(c->string, "data_offsets") == 0)
			slot = offsets;
		if (!slot) {
			stride_set_err(err, "%s: tensor %.80s: unknown key \"%.40s\"", fname, tn, c->string);
			return -1;
		}
		if (*slot) {
			stride_set_err(err, "%s: tensor %.80s: duplicate key \"%s\"", fname, tn, c->string);
			return -1;
		}
		*slot = c;
	}
	if (!*dtype || !*shape || !*offsets) {
		stride_set_err(err, "%s: tensor %.80s: missing \"%s\"", fname, tn,
		               !*dtype ? "dtype" : !*shape ? "shape" : "data_offsets");
		return -1;
	}
	return 0;
}

/* F32, or the I64 batch counter of a batchnorm layer, which is marked skipped. */
static int read_entry_dtype(const cJSON *dtype, const char *fname, StrideStEntry *e,
                            size_t *itemsize, char err[STRIDE_ERR_LEN])
{
	const char *tn = e->name;
	if (!cJSON_IsString(dtype)) {
		stride_set_err(err, "%s: tensor %.80s: dtype is not a string", fname, tn);
		return -1;
	}
	if (strcmp(dtype->valuestring, "F32") == 0) {
		*itemsize = 4;
	} else if (strcmp(dtype->valuestring, "I64") == 0 && ends_with(tn, ".num_batches_tracked")) {
		*itemsize = 8;
		e->skipped = 1;
	} else {
		stride_set_err(err, "%s: tensor %.80s: unsupported dtype %.20s (tensors must be F32)",
		               fname, tn, dtype->valuestring);
		return -1;
	}
	return 0;
}

/* The shape into e, and the bytes it needs at itemsize bytes an element. */
static int read_entry_shape(const cJSON *shape, const char *fname, size_t itemsize,
                            StrideStEntry *e, size_t *bytes, char err[STRIDE_ERR_LEN])
{
	const char *tn = e->name;
	if (!cJSON_IsArray(shape)) {
		stride_set_err(err, "%s: tensor %.80s: shape is not a list", fname, tn);
		return -1;
	}
	int ndim = cJSON_GetArraySize(shape);
	if (ndim > STRIDE_ST_MAX_RANK) {
		stride_set_err(err, "%s: tensor %.80s: shape has %d dimensions (at most %d)", fname,
		               tn, ndim, STRIDE_ST_MAX_RANK);
		return -1;
	}
	e->ndim = ndim;
	size_t numel = 1;
	int too_big = 0;
	int d = 0;
	for (const cJSON *c = shape->child; c; c = c->next, d++) {
		uint64_t v;
		if (!json_uint(c, &v)) {
			stride_set_err(err, "%s: tensor %.80s: shape must be a list of non-negative "
			               "integers", fname, tn);
			return -1;
		}
		e->shape[d] = (int64_t)v;
		if (v > SIZE_MAX || !stride_mul_size(numel, (size_t)v, &numel))
			too_big = 1;
	}
	*bytes = 0;
	if (too_big || !stride_mul_size(numel, itemsize, bytes)) {
		char sh[96];
		stride_format_shape(sh, sizeof sh, e->shape, ndim);
		stride_set_err(err, "%s: tensor %.80s: shape %s is too large", fname, tn, sh);
		return -1;
	}
	e->numel = numel;
	return 0;
}

/* data_offsets: inside the data and exactly as long as the shape needs. */
static int read_entry_offsets(const cJSON *offsets, const char *fname, size_t data_len,
                              size_t bytes, StrideStEntry *e, char err[STRIDE_ERR_LEN])
{
	const char *tn = e->name;
	uint64_t begin, end;
	if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
	    !json_uint(offsets->child, &begin) || !json_uint(offsets->child->next, &end)) {
		stride_set_err(err, "%s: tensor %.80s: data_offsets must be two non-negative integers",
		               fname, tn);
		return -1;
	}
	if (begin > end) {
		stride_set_err(err, "%s: tensor %.80s: data_offsets begin %" PRIu64 " is after end %"
		               PRIu64, fname, tn, begin, end);
		return -1;
	}
	if (end > data_len) {
		stride_set_err(err, "%s: tensor %.80s: data_offsets end %" PRIu64 " is beyond the "
		               "data (%zu bytes): file truncated?", fname, tn, end, data_len);
		return -1;
	}
	if (end - begin != bytes) {
		char sh[96];
		stride_format_shape(sh, sizeof sh, e->shape, e->ndim);
		stride_set_err(err, "%s: tensor %.80s: data size %" PRIu64 " bytes does not match "
		               "shape %s (%zu bytes)", fname, tn, end - begin, sh, bytes);
		return -1;
	}
	e->begin = (size_t)begin;
	e->end = (size_t)end;
	return 0;
}

/* Parse one tensor entry {"dtype", "shape", "data_offsets"}. */
static int parse_entry(const cJSON *obj, const char *fname, size_t data_len, StrideStEntry *e,
                       char err[STRIDE_ERR_LEN])
{
	const cJSON *dtype, *shape, *offsets;
	size_t itemsize, bytes;
	if (find_entry_keys(obj, fname, e->name, &dtype, &shape, &offsets, err) < 0 ||
	    read_entry_dtype(dtype, fname, e, &itemsize, err) < 0 ||
	    read_entry_shape(shape, fname, itemsize, e, &bytes, err) < 0 ||
	    read_entry_offsets(offsets, fname, data_len, bytes, e, err) < 0)
		return -1;
	return 0;
}

typedef struct {
	const char *name;
	int idx;
} NameIdx;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const NameIdx *)a)->name, ((const NameIdx *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int parse_metadata(const cJSON *obj, const char *fname, StrideStHeader *h,
                          char err[STRIDE_ERR_LEN])
{
	if (!cJSON_IsObject(obj)) {
		stride_set_err(err, "%s: __metadata__ is not a JSON object", fname);
		return -1;
	}
	int n = cJSON_GetArraySize(obj);
	h->meta_keys = calloc((size_t)n + 1, sizeof *h->meta_keys);
	h->meta_values = calloc((size_t)n + 1, sizeof *h->meta_values);
	if (!h->meta_keys || !h->meta_values) {
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (!cJSON_IsString(c)) {
			stride_set_err(err, "%s: __metadata__ value of \"%.60s\" is not a string", fname,
			               c->string);
			return -1;
		}
		h->meta_keys[h->n_meta] = stride_dup_string(c->string);
		h->meta_values[h->n_meta] = stride_dup_string(c->valuestring);
		h->n_meta++;
		if (!h->meta_keys[h->n_meta - 1] || !h->meta_values[h->n_meta - 1]) {
			stride_set_err(err, "%s: out of memory", fname);
			return -1;
		}
	}
	/* Sorted, so that a header of a million keys is checked in n log n. */
	const char **sorted = malloc(((size_t)h->n_meta + 1) * sizeof *sorted);
	if (!sorted) {
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	memcpy(sorted, h->meta_keys, (size_t)h->n_meta * sizeof *sorted);
	qsort(sorted, (size_t)h->n_meta, sizeof *sorted, cmp_str);
	for (int i = 1; i < h->n_meta; i++) {
		if (strcmp(sorted[i], sorted[i - 1]) == 0) {
			stride_set_err(err, "%s: __metadata__ key \"%.60s\" appears twice", fname,
			               sorted[i]);
			free(sorted);
			return -1;
		}
	}
	free(sorted);
	return 0;
}

typedef struct {
	size_t begin, end;
	int idx;
} Span;

static int cmp_span(const void *a, const void *b)
{
	const Span *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Names must be unique; keeps the sorted order for lookups. */
static int index_names(StrideStHeader *h, const char *fname, char err[STRIDE_ERR_LEN])
{
	int n = h->n_tensors;
	NameIdx *ni = malloc(((size_t)n + 1) * sizeof *ni);
	h->by_name = malloc(((size_t)n + 1) * sizeof *h->by_name);
	if (!ni || !h->by_name) {
		free(ni);
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	for (int i = 0; i < n; i++)
		ni[i] = (NameIdx){h->tensors[i].name, i};
	qsort(ni, (size_t)n, sizeof *ni, cmp_name);
	for (int i = 0; i < n; i++) {
		if (i > 0 && strcmp(ni[i].name, ni[i - 1].name) == 0) {
			stride_set_err(err, "%s: tensor %.80s appears twice", fname, ni[i].name);
			free(ni);
			return -1;
		}
		h->by_name[i] = ni[i].idx;
	}
	free(ni);
	return 0;
}

/* Two tensors sharing bytes would make a write to one change the other. */
static int check_overlaps(const StrideStHeader *h, const char *fname, char err[STRIDE_ERR_LEN])
{
	int n = h->n_tensors, m = 0;
	Span *sp = malloc(((size_t)n + 1) * sizeof *sp);
	if (!sp) {
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (h->tensors[i].end > h->tensors[i].begin)
			sp[m++] = (Span){h->tensors[i].begin, h->tensors[i].end, i};
	}
	qsort(sp, (size_t)m, sizeof *sp, cmp_span);
	for (int i = 1; i < m; i++) {
		if (sp[i].begin < sp[i - 1].end) {
			stride_set_err(err, "%s: tensors %.60s [%zu, %zu) and %.60s [%zu, %zu) overlap in "
			               "data_offsets", fname, h->tensors[sp[i - 1].idx].name,
			               sp[i - 1].begin, sp[i - 1].end, h->tensors[sp[i].idx].name,
			               sp[i].begin, sp[i].end);
			free(sp);
			return -1;
		}
	}
	free(sp);
	return 0;
}

/* The 8-byte length and the header text it announces, checked as bytes: it
 * fits in the file and the limit, and is UTF-8 without NUL. Its length in *n. */
static int check_header_bytes(const uint8_t *buf, size_t len, const char *fname, size_t *n,
                              char err[STRIDE_ERR_LEN])
{
	if (!buf && len > 0) {
		stride_set_err(err, "%s: no data", fname);
		return -1;
	}
	if (len < 8) {
		stride_set_err(err, "%s: file is %zu bytes, too short for a safetensors header length "
		               "(8 bytes)", fname, len);
		return -1;
	}
	uint64_t hlen = stride_le_u64(buf);
	if (hlen > len - 8) {
		stride_set_err(err, "%s: header length %" PRIu64 " is larger than the file (%zu bytes "
		               "after the length): truncated or not a safetensors file", fname, hlen,
		               len - 8);
		return -1;
	}
	if (hlen > STRIDE_ST_MAX_HEADER) {
		stride_set_err(err, "%s: header length %" PRIu64 " exceeds the limit of %" PRIu64
		               " bytes", fname, hlen, STRIDE_ST_MAX_HEADER);
		return -1;
	}
	const uint8_t *hdr = buf + 8;
	if (memchr(hdr, 0, (size_t)hlen)) {
		stride_set_err(err, "%s: header contains a NUL byte", fname);
		return -1;
	}
	if (!stride_st_valid_utf8(hdr, (size_t)hlen)) {
		stride_set_err(err, "%s: header is not valid UTF-8", fname);
		return -1;
	}
	*n = (size_t)hlen;
	return 0;
}

/* The header's n bytes parsed as JSON (any value; the caller wants an object),
 * or NULL with err set. */
static cJSON *parse_header_json(const uint8_t *hdr, size_t n, const char *fname,
                                char err[STRIDE_ERR_LEN])
{
	char *text = malloc(n + 1);
	if (!text) {
		stride_set_err(err, "%s: out of memory for a %zu-byte header", fname, n);
		return NULL;
	}
	memcpy(text, hdr, n);
	text[n] = 0;
	if (count_json_items(text, n) > MAX_JSON_ITEMS) {
		stride_set_err(err, "%s: header has more than %d JSON items", fname, MAX_JSON_ITEMS);
		free(text);
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (!root) {
		size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
		stride_set_err(err, "%s: header is not valid JSON (syntax error near byte %zu of "
		               "the header)", fname, at);
		free(text);
		return NULL;
	}
	free(text);
	return root;
}

/* The header object's members into h: __metadata__ at most once, and tensors
 * with non-empty names, each entry checked against h->data_len. */
static int read_members(const cJSON *root, const char *fname, StrideStHeader *h,
                        char err[STRIDE_ERR_LEN])
{
	int n_items = cJSON_GetArraySize(root);
	h->tensors = calloc((size_t)n_items + 1, sizeof *h->tensors);
	if (!h->tensors) {
		stride_set_err(err, "%s: out of memory", fname);
		return -1;
	}
	int seen_meta = 0;
	for (const cJSON *c = root->child; c; c = c->next) {
		if (strcmp(c->string, "__metadata__") == 0) {
			if (seen_meta++) {
				stride_set_err(err, "%s: __metadata__ appears twice", fname);
				return -1;
			}
			if (parse_metadata(c, fname, h, err) < 0)
				return -1;
			continue;
		}
		if (c->string[0] == 0) {
			stride_set_err(err, "%s: a tensor has an empty name", fname);
			return -1;
		}
		StrideStEntry *e = &h->tensors[h->n_tensors++];
		e->name = stride_dup_string(c->string);
		if (!e->name) {
			stride_set_err(err, "%s: out of memory", fname);
			return -1;
		}
		if (parse_entry(c, fname, h->data_len, e, err) < 0)
			return -1;
	}
	return 0;
}

int stride_st_parse(const uint8_t *buf, size_t len, const char *name, StrideStHeader *h,
                    char err[STRIDE_ERR_LEN])
{
	const char *fname = stride_file_label(name);
	memset(h, 0, sizeof *h);
	size_t n;
	if (check_header_bytes(buf, len, fname, &n, err) < 0)
		return -1;
	cJSON *root = parse_header_json(buf + 8, n, fname, err);
	if (!root)
		return -1;
	if (!cJSON_IsObject(root)) {
		stride_set_err(err, "%s: header is not a JSON object", fname);
		goto fail;
	}
	h->data = buf + 8 + n;
	h->data_len = len - 8 - n;
	if (read_members(root, fname, h, err) < 0)
		goto fail;
	cJSON_Delete(root);
	root = NULL;
	if (index_names(h, fname, err) < 0 || check_overlaps(h, fname, err) < 0)
		goto fail;
	return 0;
fail:
	cJSON_Delete(root);
	stride_st_free(h);
	return -1;
}

void stride_st_free(StrideStHeader *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->n_tensors; i++)
		free(h->tensors[i].name);
	free(h->tensors);
	free(h->by_name);
	stride_free_strings(h->meta_keys, h->n_meta);
	stride_free_strings(h->meta_values, h->n_meta);
	memset(h, 0, sizeof *h);
}

int stride_st_find(const StrideStHeader *h, const char *key)
{
	if (!key || !h->by_name)
		return -1;
	int lo = 0, hi = h->n_tensors;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(h->tensors[h->by_name[mid]].name, key);
		if (c == 0)
			return h->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const char *stride_st_meta(const StrideStHeader *h, const char *key)
{
	return stride_find_pair(h->meta_keys, h->meta_values, h->n_meta, key);
}

void stride_st_copy_f32(const StrideStHeader *h, int i, float *dst)
{
	const StrideStEntry *e = &h->tensors[i];
	const uint8_t *p = h->data + e->begin;
	for (size_t k = 0; k < e->numel; k++)
		dst[k] = stride_le_f32(p + 4 * k);
}
