/* dense (fully connected): y[n,o] = b[o] + sum_i w[o,i] x[n,i], through GEMM. */
#include <string.h>

#include "gemm.h"
#include "layers.h"

void stride_dense_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                          float *y)
{
	for (int i = 0; i < n; i++)
		for (int o = 0; o < out; o++)
			y[(size_t)i * out + o] = b ? b[o] : 0.0f;
	stride_sgemm(false, true, n, out, in, 1.0f, x, in, w, in, 1.0f, y, out);
}

void stride_dense_backward(int n, int in, int out, const float *x, const float *w,
                           const float *dy, float *dx, float *dw, float *db)
{
	/* dW[out,in] = dY^T x X;  dX[n,in] = dY x W */
	stride_sgemm(true, false, out, in, n, 1.0f, dy, out, x, in, 0.0f, dw, in);
	if (dx)
		stride_sgemm(false, false, n, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
	if (db) {
		for (int o = 0; o < out; o++) {
			double sum = 0.0;
			for (int i = 0; i < n; i++)
				sum += dy[(size_t)i * out + o];
			db[o] = (float)sum;
		}
	}
}
