/* libFuzzer target: the .npy reader, from bytes (stride_npy_read reads the
 * whole file, then does exactly this; `stride forward` takes .npy input).
 *
 * Every input must either give an array whose element count is the product of
 * its shape, or be refused with a message. ASan, UBSan and LeakSanitizer turn
 * any overflow, undefined operation or leak into a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "stride.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	free(x);
	return 0;
}
