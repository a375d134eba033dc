/* Element-wise activations, and softmax over the channels of each time step. */
#include <math.h>

#include "layers.h"

void stride_relu_forward(size_t count, const float *x, float *y)
{
	for (size_t i = 0; i < count; i++)
		y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void stride_relu_backward(size_t count, const float *x, const float *dy, float *dx)
{
	for (size_t i = 0; i < count; i++)
		dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

void stride_leaky_relu_forward(size_t count, float slope, const float *x, float *y)
{
	for (size_t i = 0; i < count; i++)
		y[i] = x[i] > 0.0f ? x[i] : x[i] * slope;
}

void stride_leaky_relu_backward(size_t count, float slope, const float *x, const float *dy,
                                float *dx)
{
	for (size_t i = 0; i < count; i++)
		dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * slope;
}

void stride_log_forward(size_t count, float eps, const float *x, float *y)
{
	/* x > 0 is false for NaN too: a NaN input gives ln(eps), never NaN */
	for (size_t i = 0; i < count; i++)
		y[i] = logf((x[i] > 0.0f ? x[i] : 0.0f) + eps);
}

void stride_log_backward(size_t count, float eps, const float *x, const float *dy, float *dx)
{
	for (size_t i = 0; i < count; i++)
		dx[i] = x[i] >= 0.0f ? dy[i] / (x[i] + eps) : 0.0f;
}

void stride_tanh_forward(size_t count, const float *x, float *y)
{
	for (size_t i = 0; i < count; i++)
		y[i] = tanhf(x[i]);
}

void stride_tanh_backward(size_t count, const float *y, const float *dy, float *dx)
{
	for (size_t i = 0; i < count; i++)
		dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void stride_sigmoid_forward(size_t count, const float *x, float *y)
{
	for (size_t i = 0; i < count; i++) {
		/* split by sign so exp never overflows */
		if (x[i] >= 0.0f) {
			y[i] = 1.0f / (1.0f + expf(-x[i]));
		} else {
			const float e = expf(x[i]);
			y[i] = e / (1.0f + e);
		}
	}
}

void stride_sigmoid_backward(size_t count, const float *y, const float *dy, float *dx)
{
	for (size_t i = 0; i < count; i++)
		dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void stride_softmax_forward(int n, int c, int t, const float *x, float *y)
{
	for (int i = 0; i < n; i++) {
		const float *xi = x + (size_t)i * c * t;
		float *yi = y + (size_t)i * c * t;
		for (int s = 0; s < t; s++) {
			float mx = xi[s];
			for (int k = 1; k < c; k++)
				if (xi[(size_t)k * t + s] > mx)
					mx = xi[(size_t)k * t + s];
			double sum = 0.0;
			for (int k = 0; k < c; k++) {
				const float e = expf(xi[(size_t)k * t + s] - mx);
				yi[(size_t)k * t + s] = e;
				sum += e;
			}
			const float inv = (float)(1.0 / sum);
			for (int k = 0; k < c; k++)
				yi[(size_t)k * t + s] *= inv;
		}
	}
}

void stride_softmax_backward(int n, int c, int t, const float *y, const float *dy, float *dx)
{
	for (int i = 0; i < n; i++) {
		const float *yi = y + (size_t)i * c * t;
		const float *di = dy + (size_t)i * c * t;
		float *dxi = dx + (size_t)i * c * t;
		for (int s = 0; s < t; s++) {
			double dot = 0.0;
			for (int k = 0; k < c; k++)
				dot += (double)di[(size_t)k * t + s] * yi[(size_t)k * t + s];
			for (int k = 0; k < c; k++) {
				const size_t j = (size_t)k * t + s;
				dxi[j] = (float)(yi[j] * (di[j] - dot));
			}
		}
	}
}
