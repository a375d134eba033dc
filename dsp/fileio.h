/* Internal: whole-file reading and crash-safe writing for the file formats
 * (safetensors.c, tensorfile.c, model_file.c, npy.c). Not part of the public API. */
#ifndef STRIDE_FILEIO_H
#define STRIDE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stride.h"

/* Read all of `path` into a malloc'd buffer (*len bytes; one extra NUL byte
 * follows them, so a text file can be used as a C string). Files larger than
 * max_bytes are refused, so a device or a runaway file cannot eat the memory.
 * Returns 0, or -1 with err naming the file. */
int stride_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                     char err[STRIDE_ERR_LEN]);

/* The name messages give a file: `name`, or "(memory)" for a buffer given
 * without one. */
const char *stride_file_label(const char *name);

/* A file written under a temporary name and renamed into place when complete,
 * so a crash or a full disk never leaves a half-written file at `path`. */
typedef struct {
	FILE *f;
	char *path;
	char *tmp;
	int failed; /* a write failed: commit will refuse */
} StrideAtomicFile;

int stride_atomic_open(StrideAtomicFile *af, const char *path, char err[STRIDE_ERR_LEN]);
/* fwrite that remembers a failure for commit. */
void stride_atomic_write(StrideAtomicFile *af, const void *data, size_t len);
/* Flush, sync, close and rename. Returns 0, or -1 (the temporary is removed). */
int stride_atomic_commit(StrideAtomicFile *af, char err[STRIDE_ERR_LEN]);

/* Little-endian float32 and integer (de)coding that works at any alignment and
 * on any host byte order. */
float stride_le_f32(const uint8_t *p);
void stride_put_le_f32(uint8_t *p, float v);
uint64_t stride_le_u64(const uint8_t *p);
void stride_put_le_u64(uint8_t *p, uint64_t v);

#endif /* STRIDE_FILEIO_H */
