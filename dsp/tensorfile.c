/* Safetensors files of float32 tensors: the parser shared with the model loader,
 * the generic reader (test references, checkpoints) and the writer. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

/* Integers in JSON arrive as doubles: beyond 2^53 they are no longer exact. */
#define MAX_JSON_INT 9007199254740992.0
/* cJSON spends ~64 bytes per item: a 100 MB header of "[0,0,0,..." would need
 * gigabytes. No real header comes near this many items. */
#define MAX_JSON_ITEMS 1000000
/* Whole files above this are refused by stride_tensorfile_read. */
#define MAX_FILE_BYTES ((size_t)1 << 34)

static const char *display_name(const char *name)
{
	return name ? name : "(memory)";
}

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static int valid_utf8(const uint8_t *s, size_t n)
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
	if (!isfinite(d) || d < 0 || d > MAX_JSON_INT || d != floor(d))
		return 0;
	*out = (uint64_t)d;
	return 1;
}

/* "[16, 1, 64]" (cut short if it does not fit). */
static void format_shape(char *buf, size_t size, const int64_t *shape, int ndim)
{
	size_t at = 0;
	int w = snprintf(buf, size, "[");
	at = w > 0 ? (size_t)w : 0;
	for (int i = 0; i < ndim && at < size; i++) {
		w = snprintf(buf + at, size - at, "%s%" PRId64, i ? ", " : "", shape[i]);
		if (w < 0)
			return;
		at += (size_t)w;
	}
	if (at < size)
		snprintf(buf + at, size - at, "]");
}

static char *dup_string(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Parse one tensor entry {"dtype", "shape", "data_offsets"}. */
static int parse_entry(const cJSON *obj, const char *fname, size_t data_len, StrideStEntry *e,
                       char err[STRIDE_ERR_LEN])
{
	const char *tn = e->name;
	if (!cJSON_IsObject(obj)) {
		stride_set_err(err, "%s: tensor %.80s: entry is not a JSON object", fname, tn);
		return -1;
	}
	const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
	for (const cJSON *c = obj->child; c; c = c->next) {
		const cJSON **slot = NULL;
		if (strcmp(c->string, "dtype") == 0)
			slot = &dtype;
		else if (strcmp(c->string, "shape") == 0)
			slot = &shape;
		else if (strcmp(c->string, "data_offsets") == 0)
			slot = &offsets;
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
	if (!dtype || !shape || !offsets) {
		stride_set_err(err, "%s: tensor %.80s: missing \"%s\"", fname, tn,
		               !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
		return -1;
	}

	size_t itemsize;
	if (!cJSON_IsString(dtype)) {
		stride_set_err(err, "%s: tensor %.80s: dtype is not a string", fname, tn);
		return -1;
	}
	if (strcmp(dtype->valuestring, "F32") == 0) {
		itemsize = 4;
	} else if (strcmp(dtype->valuestring, "I64") == 0 && ends_with(tn, ".num_batches_tracked")) {
		itemsize = 8;
		e->skipped = 1;
	} else {
		stride_set_err(err, "%s: tensor %.80s: unsupported dtype %.20s (tensors must be F32)",
		               fname, tn, dtype->valuestring);
		return -1;
	}

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
	size_t bytes = 0;
	if (too_big || !stride_mul_size(numel, itemsize, &bytes)) {
		char sh[96];
		format_shape(sh, sizeof sh, e->shape, ndim);
		stride_set_err(err, "%s: tensor %.80s: shape %s is too large", fname, tn, sh);
		return -1;
	}
	e->numel = numel;

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
		format_shape(sh, sizeof sh, e->shape, ndim);
		stride_set_err(err, "%s: tensor %.80s: data size %" PRIu64 " bytes does not match "
		               "shape %s (%zu bytes)", fname, tn, end - begin, sh, bytes);
		return -1;
	}
	e->begin = (size_t)begin;
	e->end = (size_t)end;
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
		h->meta_keys[h->n_meta] = dup_string(c->string);
		h->meta_values[h->n_meta] = dup_string(c->valuestring);
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

int stride_st_parse(const uint8_t *buf, size_t len, const char *name, StrideStHeader *h,
                    char err[STRIDE_ERR_LEN])
{
	const char *fname = display_name(name);
	memset(h, 0, sizeof *h);
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
	size_t n = (size_t)hlen;
	const uint8_t *hdr = buf + 8;
	if (memchr(hdr, 0, n)) {
		stride_set_err(err, "%s: header contains a NUL byte", fname);
		return -1;
	}
	if (!valid_utf8(hdr, n)) {
		stride_set_err(err, "%s: header is not valid UTF-8", fname);
		return -1;
	}
	char *text = malloc(n + 1);
	if (!text) {
		stride_set_err(err, "%s: out of memory for a %zu-byte header", fname, n);
		return -1;
	}
	memcpy(text, hdr, n);
	text[n] = 0;
	if (count_json_items(text, n) > MAX_JSON_ITEMS) {
		stride_set_err(err, "%s: header has more than %d JSON items", fname, MAX_JSON_ITEMS);
		free(text);
		return -1;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (!root) {
		size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
		stride_set_err(err, "%s: header is not valid JSON (syntax error near byte %zu of "
		               "the header)", fname, at);
		free(text);
		return -1;
	}
	free(text);
	if (!cJSON_IsObject(root)) {
		stride_set_err(err, "%s: header is not a JSON object", fname);
		goto fail;
	}
	h->data = buf + 8 + n;
	h->data_len = len - 8 - n;

	int n_items = cJSON_GetArraySize(root);
	h->tensors = calloc((size_t)n_items + 1, sizeof *h->tensors);
	if (!h->tensors) {
		stride_set_err(err, "%s: out of memory", fname);
		goto fail;
	}
	int seen_meta = 0;
	for (const cJSON *c = root->child; c; c = c->next) {
		if (strcmp(c->string, "__metadata__") == 0) {
			if (seen_meta++) {
				stride_set_err(err, "%s: __metadata__ appears twice", fname);
				goto fail;
			}
			if (parse_metadata(c, fname, h, err) < 0)
				goto fail;
			continue;
		}
		if (c->string[0] == 0) {
			stride_set_err(err, "%s: a tensor has an empty name", fname);
			goto fail;
		}
		StrideStEntry *e = &h->tensors[h->n_tensors++];
		e->name = dup_string(c->string);
		if (!e->name) {
			stride_set_err(err, "%s: out of memory", fname);
			goto fail;
		}
		if (parse_entry(c, fname, h->data_len, e, err) < 0)
			goto fail;
	}
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
	for (int i = 0; i < h->n_meta; i++) {
		free(h->meta_keys[i]);
		free(h->meta_values[i]);
	}
	free(h->meta_keys);
	free(h->meta_values);
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
	for (int i = 0; key && i < h->n_meta; i++) {
		if (strcmp(h->meta_keys[i], key) == 0)
			return h->meta_values[i];
	}
	return NULL;
}

void stride_st_copy_f32(const StrideStHeader *h, int i, float *dst)
{
	const StrideStEntry *e = &h->tensors[i];
	const uint8_t *p = h->data + e->begin;
	for (size_t k = 0; k < e->numel; k++)
		dst[k] = stride_le_f32(p + 4 * k);
}

/* ------------------------------------------------------------------------ */
/* Generic reader                                                           */
/* ------------------------------------------------------------------------ */

struct StrideTensorFile {
	StrideStHeader h; /* names, shapes and metadata; h.data is not kept */
	int n;            /* F32 tensors */
	int *entry;       /* public index -> header entry */
	int *pub;         /* header entry -> public index, or -1 when skipped */
	float **data;
};

StrideTensorFile *stride_tensorfile_read_memory(const uint8_t *data, size_t len,
                                                const char *name, char err[STRIDE_ERR_LEN])
{
	const char *fname = display_name(name);
	StrideTensorFile *tf = calloc(1, sizeof *tf);
	if (!tf) {
		stride_set_err(err, "%s: out of memory", fname);
		return NULL;
	}
	if (stride_st_parse(data, len, name, &tf->h, err) < 0) {
		free(tf);
		return NULL;
	}
	int nt = tf->h.n_tensors;
	tf->entry = calloc((size_t)nt + 1, sizeof *tf->entry);
	tf->pub = calloc((size_t)nt + 1, sizeof *tf->pub);
	tf->data = calloc((size_t)nt + 1, sizeof *tf->data);
	if (!tf->entry || !tf->pub || !tf->data) {
		stride_set_err(err, "%s: out of memory", fname);
		goto fail;
	}
	for (int i = 0; i < nt; i++) {
		const StrideStEntry *e = &tf->h.tensors[i];
		if (e->skipped) {
			tf->pub[i] = -1;
			continue;
		}
		/* numel * 4 fits: it equals the entry's byte range inside the buffer. */
		float *d = stride_alloc_aligned(e->numel * sizeof(float));
		if (!d) {
			stride_set_err(err, "%s: tensor %.80s: out of memory", fname, e->name);
			goto fail;
		}
		stride_st_copy_f32(&tf->h, i, d);
		tf->pub[i] = tf->n;
		tf->entry[tf->n] = i;
		tf->data[tf->n] = d;
		tf->n++;
	}
	tf->h.data = NULL;
	tf->h.data_len = 0;
	return tf;
fail:
	stride_tensorfile_free(tf);
	return NULL;
}

StrideTensorFile *stride_tensorfile_read(const char *path, char err[STRIDE_ERR_LEN])
{
	uint8_t *buf;
	size_t len;
	if (stride_read_file(path, MAX_FILE_BYTES, &buf, &len, err) < 0)
		return NULL;
	StrideTensorFile *tf = stride_tensorfile_read_memory(buf, len, path, err);
	free(buf);
	return tf;
}

void stride_tensorfile_free(StrideTensorFile *tf)
{
	if (!tf)
		return;
	for (int i = 0; i < tf->n; i++)
		stride_free_aligned(tf->data[i]);
	free(tf->data);
	free(tf->entry);
	free(tf->pub);
	stride_st_free(&tf->h);
	free(tf);
}

int stride_tensorfile_count(const StrideTensorFile *tf)
{
	return tf ? tf->n : 0;
}

static const StrideStEntry *tf_entry(const StrideTensorFile *tf, int i)
{
	if (!tf || i < 0 || i >= tf->n)
		return NULL;
	return &tf->h.tensors[tf->entry[i]];
}

const char *stride_tensorfile_name(const StrideTensorFile *tf, int i)
{
	const StrideStEntry *e = tf_entry(tf, i);
	return e ? e->name : NULL;
}

int stride_tensorfile_find(const StrideTensorFile *tf, const char *name)
{
	if (!tf)
		return -1;
	int k = stride_st_find(&tf->h, name);
	return k < 0 ? -1 : tf->pub[k];
}

int stride_tensorfile_ndim(const StrideTensorFile *tf, int i)
{
	const StrideStEntry *e = tf_entry(tf, i);
	return e ? e->ndim : -1;
}

const int64_t *stride_tensorfile_shape(const StrideTensorFile *tf, int i)
{
	const StrideStEntry *e = tf_entry(tf, i);
	return e ? e->shape : NULL;
}

size_t stride_tensorfile_size(const StrideTensorFile *tf, int i)
{
	const StrideStEntry *e = tf_entry(tf, i);
	return e ? e->numel : 0;
}

const float *stride_tensorfile_data(const StrideTensorFile *tf, int i)
{
	return tf_entry(tf, i) ? tf->data[i] : NULL;
}

const char *stride_tensorfile_meta(const StrideTensorFile *tf, const char *key)
{
	return tf ? stride_st_meta(&tf->h, key) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

static int add_raw_uint(cJSON *arr, uint64_t v)
{
	char num[32];
	snprintf(num, sizeof num, "%" PRIu64, v);
	cJSON *item = cJSON_CreateRaw(num);
	return item && cJSON_AddItemToArray(arr, item);
}

/* The header JSON for tensors laid out one after another in the given order. */
static char *build_header(const StrideTensorOut *tensors, int n_tensors,
                          const char *const *meta_keys, const char *const *meta_values,
                          int n_meta, const size_t *bytes, const char *path,
                          char err[STRIDE_ERR_LEN])
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		goto oom;
	if (n_meta > 0) {
		cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
		if (!meta)
			goto oom;
		for (int i = 0; i < n_meta; i++) {
			if (!cJSON_AddStringToObject(meta, meta_keys[i], meta_values[i]))
				goto oom;
		}
	}
	size_t at = 0;
	for (int i = 0; i < n_tensors; i++) {
		cJSON *t = cJSON_CreateObject();
		if (!t || !cJSON_AddItemToObject(root, tensors[i].name, t)) {
			cJSON_Delete(t);
			goto oom;
		}
		cJSON *shape = cJSON_AddArrayToObject(t, "shape");
		cJSON *off = shape ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
		if (!cJSON_AddStringToObject(t, "dtype", "F32") || !off)
			goto oom;
		for (int d = 0; d < tensors[i].ndim; d++) {
			if (!add_raw_uint(shape, (uint64_t)tensors[i].shape[d]))
				goto oom;
		}
		if (!add_raw_uint(off, at) || !add_raw_uint(off, at + bytes[i]))
			goto oom;
		at += bytes[i];
	}
	char *json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!json)
		stride_set_err(err, "%s: out of memory", path);
	return json;
oom:
	cJSON_Delete(root);
	stride_set_err(err, "%s: out of memory", path);
	return NULL;
}

/* The arguments describe a file the reader accepts. */
static int check_write_args(const StrideTensorOut *tensors, int n_tensors,
                            const char *const *meta_keys, const char *const *meta_values,
                            int n_meta, size_t *bytes, const char *path,
                            char err[STRIDE_ERR_LEN])
{
	if (n_tensors < 0 || n_meta < 0 || (n_tensors > 0 && !tensors) ||
	    (n_meta > 0 && (!meta_keys || !meta_values))) {
		stride_set_err(err, "%s: invalid arguments", path);
		return -1;
	}
	size_t total = 0;
	for (int i = 0; i < n_tensors; i++) {
		const StrideTensorOut *t = &tensors[i];
		if (!t->name || !t->name[0] || strcmp(t->name, "__metadata__") == 0) {
			stride_set_err(err, "%s: tensor %d: invalid name", path, i);
			return -1;
		}
		if (!valid_utf8((const uint8_t *)t->name, strlen(t->name))) {
			stride_set_err(err, "%s: tensor %d: name is not valid UTF-8", path, i);
			return -1;
		}
		if (t->ndim < 0 || t->ndim > STRIDE_ST_MAX_RANK) {
			stride_set_err(err, "%s: tensor %.80s: rank %d (0 to %d allowed)", path, t->name,
			               t->ndim, STRIDE_ST_MAX_RANK);
			return -1;
		}
		size_t numel = 1;
		for (int d = 0; d < t->ndim; d++) {
			if (t->shape[d] < 0 || (double)t->shape[d] > MAX_JSON_INT ||
			    !stride_mul_size(numel, (size_t)t->shape[d], &numel)) {
				stride_set_err(err, "%s: tensor %.80s: invalid shape", path, t->name);
				return -1;
			}
		}
		if (!stride_mul_size(numel, 4, &bytes[i]) || total + bytes[i] < total ||
		    (double)(total + bytes[i]) > MAX_JSON_INT) {
			stride_set_err(err, "%s: tensor %.80s: too large", path, t->name);
			return -1;
		}
		total += bytes[i];
		if (numel > 0 && !t->data) {
			stride_set_err(err, "%s: tensor %.80s: no data", path, t->name);
			return -1;
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(tensors[j].name, t->name) == 0) {
				stride_set_err(err, "%s: tensor %.80s appears twice", path, t->name);
				return -1;
			}
		}
	}
	for (int i = 0; i < n_meta; i++) {
		if (!meta_keys[i] || !meta_values[i] ||
		    !valid_utf8((const uint8_t *)meta_keys[i], strlen(meta_keys[i])) ||
		    !valid_utf8((const uint8_t *)meta_values[i], strlen(meta_values[i]))) {
			stride_set_err(err, "%s: metadata pair %d: missing or not UTF-8", path, i);
			return -1;
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(meta_keys[j], meta_keys[i]) == 0) {
				stride_set_err(err, "%s: metadata key \"%.60s\" appears twice", path,
				               meta_keys[i]);
				return -1;
			}
		}
	}
	return 0;
}

int stride_tensorfile_write(const char *path, const StrideTensorOut *tensors, int n_tensors,
                            const char *const *meta_keys, const char *const *meta_values,
                            int n_meta, char err[STRIDE_ERR_LEN])
{
	if (!path) {
		stride_set_err(err, "stride_tensorfile_write: no path");
		return -1;
	}
	size_t *bytes = calloc((size_t)(n_tensors > 0 ? n_tensors : 0) + 1, sizeof *bytes);
	if (!bytes) {
		stride_set_err(err, "%s: out of memory", path);
		return -1;
	}
	if (check_write_args(tensors, n_tensors, meta_keys, meta_values, n_meta, bytes, path,
	                     err) < 0) {
		free(bytes);
		return -1;
	}
	char *json = build_header(tensors, n_tensors, meta_keys, meta_values, n_meta, bytes, path,
	                          err);
	if (!json) {
		free(bytes);
		return -1;
	}
	/* Spaces pad the header to a multiple of 8 so the data after it is aligned. */
	size_t jlen = strlen(json);
	size_t padded = (jlen + 7) & ~(size_t)7;
	StrideAtomicFile af;
	if (stride_atomic_open(&af, path, err) < 0) {
		free(json);
		free(bytes);
		return -1;
	}
	uint8_t lenbuf[8];
	stride_put_le_u64(lenbuf, padded);
	stride_atomic_write(&af, lenbuf, 8);
	stride_atomic_write(&af, json, jlen);
	stride_atomic_write(&af, "        ", padded - jlen);
	free(json);
	uint8_t chunk[4096];
	for (int i = 0; i < n_tensors; i++) {
		size_t numel = bytes[i] / 4;
		for (size_t k = 0; k < numel; k += sizeof chunk / 4) {
			size_t m = numel - k < sizeof chunk / 4 ? numel - k : sizeof chunk / 4;
			for (size_t j = 0; j < m; j++)
				stride_put_le_f32(chunk + 4 * j, tensors[i].data[k + j]);
			stride_atomic_write(&af, chunk, 4 * m);
		}
	}
	free(bytes);
	return stride_atomic_commit(&af, err);
}
