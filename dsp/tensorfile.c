/* Generic safetensors files of float32 tensors (dsp/stride.h): the reader
 * (test references, checkpoints) and the writer, which the model files use too.
 * The parsing and checking is safetensors.c's. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "safetensors.h"
#include "util.h"

/* Whole files above this are refused by stride_tensorfile_read. */
#define MAX_FILE_BYTES ((size_t)1 << 34)

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
	const char *fname = stride_file_label(name);
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

int stride_tensorfile_n_tensors(const StrideTensorFile *tf)
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
		if (!stride_st_valid_utf8((const uint8_t *)t->name, strlen(t->name))) {
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
			if (t->shape[d] < 0 || (double)t->shape[d] > STRIDE_ST_MAX_JSON_INT ||
			    !stride_mul_size(numel, (size_t)t->shape[d], &numel)) {
				stride_set_err(err, "%s: tensor %.80s: invalid shape", path, t->name);
				return -1;
			}
		}
		if (!stride_mul_size(numel, 4, &bytes[i]) || total + bytes[i] < total ||
		    (double)(total + bytes[i]) > STRIDE_ST_MAX_JSON_INT) {
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
		    !stride_st_valid_utf8((const uint8_t *)meta_keys[i], strlen(meta_keys[i])) ||
		    !stride_st_valid_utf8((const uint8_t *)meta_values[i], strlen(meta_values[i]))) {
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
