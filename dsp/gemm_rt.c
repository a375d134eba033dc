/* The matrix product (dsp/gemm.h) for the real-time build of the dsp library
 * (the plugins and the fuzz targets), which must not link OpenBLAS (it starts
 * threads and takes locks). The streaming engine runs its own kernels; this
 * plain product only backs the batch forward that a model's loading may touch,
 * off the audio thread. The wscript builds the library with either this file or
 * gemm_blas.c, never both. */
#include "gemm.h"

#include "stride.h"

void stride_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
	for (int i = 0; i < m; i++) {
		for (int j = 0; j < n; j++) {
			float sum = 0.0f;
			for (int p = 0; p < k; p++) {
				const float x = trans_a ? a[p * lda + i] : a[i * lda + p];
				const float y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
				sum += x * y;
			}
			c[i * ldc + j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * c[i * ldc + j]);
		}
	}
}

/* No BLAS, no threads. */
void stride_blas_set_threads(int n)
{
	(void)n;
}
