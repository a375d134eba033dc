/* Internal: the layer kernels the network runs. Each works on a batch (n, c, t) of
 * float32, row-major, time last. Forward functions write y; backward functions
 * write (overwrite) dx and parameter gradients. None of them allocates: scratch
 * space is passed in, sized by the *_scratch_size functions. */
#ifndef STRIDE_LAYERS_H
#define STRIDE_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

/* Geometry of a conv1d or pool over a batch. */
typedef struct {
	int n;
	int c_in, t_in;
	int c_out, t_out;
	int kernel, stride, dilation, padding, groups;
} StrideGeom;

/* conv1d: y[n,o,t] = b[o] + sum_{c in group} sum_i w[o,c,i] * x[n,c,t*s + i*d - p]. */
typedef enum { STRIDE_CONV_AUTO, STRIDE_CONV_GEMM, STRIDE_CONV_DIRECT } StrideConvPath;
/* Which path conv1d takes; tests and benchmarks force one, everything else leaves AUTO. */
extern StrideConvPath stride_conv_path_override;
bool stride_conv_uses_gemm(const StrideGeom *g);
size_t stride_conv_scratch_floats(const StrideGeom *g);
void stride_conv_forward(const StrideGeom *g, const float *x, const float *w, const float *b,
                         float *y, float *scratch);
/* dx may be NULL (first layer); db may be NULL (no bias). */
void stride_conv_backward(const StrideGeom *g, const float *x, const float *w, const float *dy,
                          float *dx, float *dw, float *db, float *scratch);

/* Pools. maxpool pads with -inf and records the winning input index per output;
 * avgpool counts the zero padding (PyTorch's count_include_pad=True). */
void stride_maxpool_forward(const StrideGeom *g, const float *x, float *y, int *argmax);
void stride_maxpool_backward(const StrideGeom *g, const float *dy, const int *argmax, float *dx);
void stride_avgpool_forward(const StrideGeom *g, const float *x, float *y);
void stride_avgpool_backward(const StrideGeom *g, const float *dy, float *dx);
/* Global pools reduce (n, c, t) to (n, c, 1). */
void stride_global_avg_forward(int n, int c, int t, const float *x, float *y);
void stride_global_avg_backward(int n, int c, int t, const float *dy, float *dx);
void stride_global_max_forward(int n, int c, int t, const float *x, float *y, int *argmax);
void stride_global_max_backward(int n, int c, int t, const float *dy, const int *argmax, float *dx);

/* batchnorm1d over (n, c, t): statistics per channel over n*t values. */
typedef struct {
	int n, c, t;
	float eps, momentum;
} StrideBnGeom;
/* Training: batch statistics; saves mean and 1/std per channel and updates the running
 * statistics (unbiased variance, as PyTorch). Returns -1 when n*t < 2. */
int stride_bn_forward_train(const StrideBnGeom *g, const float *x, const float *gamma,
                            const float *beta, float *running_mean, float *running_var,
                            float *y, float *save_mean, float *save_invstd);
void stride_bn_forward_eval(const StrideBnGeom *g, const float *x, const float *gamma,
                            const float *beta, const float *running_mean,
                            const float *running_var, float *y);
void stride_bn_backward_train(const StrideBnGeom *g, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, const float *dy,
                              float *dx, float *dgamma, float *dbeta);
void stride_bn_backward_eval(const StrideBnGeom *g, const float *x, const float *gamma,
                             const float *running_mean, const float *running_var,
                             const float *dy, float *dx, float *dgamma, float *dbeta);

/* dense: x is (n, in) (a flattened (n, c, t)), w is [out, in], y is (n, out). */
void stride_dense_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                          float *y);
void stride_dense_backward(int n, int in, int out, const float *x, const float *w,
                           const float *dy, float *dx, float *dw, float *db);

/* Element-wise activations over `count` values; softmax over channels per (n, t). */
void stride_relu_forward(size_t count, const float *x, float *y);
void stride_relu_backward(size_t count, const float *x, const float *dy, float *dx);
void stride_leaky_relu_forward(size_t count, float slope, const float *x, float *y);
void stride_leaky_relu_backward(size_t count, float slope, const float *x, const float *dy,
                                float *dx);
/* y = ln(max(x, 0) + eps): a compressive front end (log energy). The
 * gradient at x >= 0 is 1 / (x + eps) and 0 below, as for PyTorch's
 * torch.log(torch.clamp(x, min=0) + eps). */
void stride_log_forward(size_t count, float eps, const float *x, float *y);
void stride_log_backward(size_t count, float eps, const float *x, const float *dy, float *dx);
void stride_tanh_forward(size_t count, const float *x, float *y);
void stride_tanh_backward(size_t count, const float *y, const float *dy, float *dx);
void stride_sigmoid_forward(size_t count, const float *x, float *y);
void stride_sigmoid_backward(size_t count, const float *y, const float *dy, float *dx);
void stride_softmax_forward(int n, int c, int t, const float *x, float *y);
void stride_softmax_backward(int n, int c, int t, const float *y, const float *dy, float *dx);

#endif /* STRIDE_LAYERS_H */
