/* Internal: the one matrix product the library uses, so the backend can change:
 * gemm_blas.c (OpenBLAS) in the batch library, gemm_rt.c (plain C, no threads)
 * in the real-time build the plugins link. The wscript picks one. */
#ifndef STRIDE_GEMM_H
#define STRIDE_GEMM_H

#include <stdbool.h>

/* C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, row-major. */
void stride_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif /* STRIDE_GEMM_H */
