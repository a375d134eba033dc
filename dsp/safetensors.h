/* Internal: the safetensors parser (safetensors.c) shared by the generic tensor
 * files (tensorfile.c, which also writes them) and the model files
 * (model_file.c). Not part of the public API.
 *
 * A safetensors file: an 8-byte little-endian header length N, N bytes of JSON
 * {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets"}, ...},
 * then the tensor bytes; offsets count from the end of the header. */
#ifndef STRIDE_SAFETENSORS_H
#define STRIDE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "stride.h"

#define STRIDE_ST_MAX_RANK 8
/* Larger headers are refused before parsing (safetensors' own limit). */
#define STRIDE_ST_MAX_HEADER ((uint64_t)100000000)
/* Integers in JSON arrive as doubles: beyond 2^53 they are no longer exact, so
 * shapes and offsets above it are refused (read) and never written. */
#define STRIDE_ST_MAX_JSON_INT 9007199254740992.0

/* One tensor entry of a parsed header; its bytes are data + begin .. data + end. */
typedef struct {
	char *name;
	int ndim;
	int64_t shape[STRIDE_ST_MAX_RANK];
	size_t numel;
	int skipped; /* an I64 `*.num_batches_tracked` PyTorch counter: ignored */
	size_t begin, end;
} StrideStEntry;

typedef struct {
	const uint8_t *data; /* the tensor data section (inside the caller's buffer) */
	size_t data_len;
	int n_tensors;       /* entries in header order, skipped ones included */
	StrideStEntry *tensors;
	int *by_name;        /* entry indices sorted by name (for lookups) */
	int n_meta;          /* __metadata__ pairs in header order */
	char **meta_keys;
	char **meta_values;
} StrideStHeader;

/* Parse and check the header of a safetensors file held in buf: sizes, JSON,
 * dtypes (F32; I64 only as `*.num_batches_tracked`), shapes, offsets inside the
 * data, sizes matching shapes, no overlaps, no duplicate names. Messages start
 * with `name`. Returns 0 (free *h with stride_st_free) or -1. */
int stride_st_parse(const uint8_t *buf, size_t len, const char *name, StrideStHeader *h,
                    char err[STRIDE_ERR_LEN]);
void stride_st_free(StrideStHeader *h);

/* Index of the entry called `key`, or -1. */
int stride_st_find(const StrideStHeader *h, const char *key);

/* A __metadata__ value, or NULL. */
const char *stride_st_meta(const StrideStHeader *h, const char *key);

/* RFC 3629 UTF-8 (names and metadata the writer is given must be). */
int stride_st_valid_utf8(const uint8_t *s, size_t n);

/* Decode entry i (an F32 one) into dst (numel floats, any alignment). */
void stride_st_copy_f32(const StrideStHeader *h, int i, float *dst);

#endif /* STRIDE_SAFETENSORS_H */
