/* libFuzzer target: the .npy reader, from bytes (stride_npy_read reads the
 * whole file, then does exactly this; `stride forward` takes .npy input).
 *
 * Every input must either give an array whose element count is the product of
 * its shape, and that stride_npy_write writes and the reader reads back bit
 * for bit, or be refused with a message. ASan, UBSan and LeakSanitizer turn
 * any overflow, undefined operation or leak into a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_scratch.h"
#include "stride.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the round trip writes (fuzz_scratch.h). */
static char save_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch_path(save_path, sizeof save_path, ".npy");
	return 0;
}

/* What the reader gave, written as float32 and read again: the same array. */
static void round_trip(const float *x, int ndim, const int64_t *shape, size_t n)
{
	char err[STRIDE_ERR_LEN] = "";
	if (stride_npy_write(save_path, x, ndim, shape, err) < 0) {
		fprintf(stderr, "an array that was read does not write: %s\n", err);
		abort();
	}
	float *y = NULL;
	int ndim2 = -1;
	int64_t shape2[8];
	int rc = stride_npy_read(save_path, &y, &ndim2, shape2, err);
	unlink(save_path);
	if (rc < 0) {
		fprintf(stderr, "a written array does not read back: %s\n", err);
		abort();
	}
	if (ndim2 != ndim || memcmp(shape2, shape, (size_t)ndim * sizeof *shape) != 0 ||
	    memcmp(x, y, n * sizeof *x) != 0)
		abort();
	free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[STRIDE_ERR_LEN] = "";
	float *x = NULL;
	int ndim = -1;
	int64_t shape[8];
	if (stride_npy_read_memory(data, size, "fuzz.npy", &x, &ndim, shape, err) < 0) {
		/* a refusal must say why and hand back nothing */
		if (!err[0] || x)
			abort();
		return 0;
	}
	if (!x || ndim < 0 || ndim > 8)
		abort();
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			abort();
		n *= (size_t)shape[i];
	}
	/* read every element: ASan catches a buffer shorter than the shape */
	volatile float sink = 0.0f;
	for (size_t i = 0; i < n; i++)
		sink += x[i];
	(void)sink;
	round_trip(x, ndim, shape, n);
	free(x);
	return 0;
}
