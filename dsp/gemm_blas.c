/* The matrix product through CBLAS (OpenBLAS). */
#include "gemm.h"

#include <cblas.h>

#include "stride.h"

void stride_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
	            trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
	            ldc);
}

/* Declared by OpenBLAS's cblas.h. */
void stride_blas_set_threads(int n)
{
	openblas_set_num_threads(n < 1 ? 1 : n);
}
