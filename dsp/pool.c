/* Max and average pooling over time windows, and global pooling over all of time. */
#include <float.h>
#include <string.h>

#include "layers.h"

void stride_maxpool_forward(const StrideGeom *g, const float *x, float *y, int *argmax)
{
	const size_t rows = (size_t)g->n * g->c_in;
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * g->t_in;
		float *yr = y + r * g->t_out;
		int *ar = argmax + r * g->t_out;
		for (int t = 0; t < g->t_out; t++) {
			const int start = t * g->stride - g->padding;
			float best = -FLT_MAX;
			int at = -1;
			for (int k = 0; k < g->kernel; k++) {
				const int i = start + k;
				if (i < 0 || i >= g->t_in)
					continue; /* padding is -inf: never wins */
				/* `!(v <= best)` lets a NaN win, as PyTorch propagates NaN */
				if (at < 0 || !(xr[i] <= best)) {
					best = xr[i];
					at = i;
				}
			}
			yr[t] = best;
			ar[t] = at;
		}
	}
}

void stride_maxpool_backward(const StrideGeom *g, const float *dy, const int *argmax, float *dx)
{
	const size_t rows = (size_t)g->n * g->c_in;
	memset(dx, 0, rows * g->t_in * sizeof(float));
	for (size_t r = 0; r < rows; r++) {
		const float *dr = dy + r * g->t_out;
		const int *ar = argmax + r * g->t_out;
		float *dxr = dx + r * g->t_in;
		for (int t = 0; t < g->t_out; t++)
			if (ar[t] >= 0)
				dxr[ar[t]] += dr[t];
	}
}

void stride_avgpool_forward(const StrideGeom *g, const float *x, float *y)
{
	const size_t rows = (size_t)g->n * g->c_in;
	const float inv = 1.0f / (float)g->kernel;
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * g->t_in;
		float *yr = y + r * g->t_out;
		for (int t = 0; t < g->t_out; t++) {
			const int start = t * g->stride - g->padding;
			float sum = 0.0f;
			for (int k = 0; k < g->kernel; k++) {
				const int i = start + k;
				if (i >= 0 && i < g->t_in)
					sum += xr[i];
			}
			yr[t] = sum * inv;
		}
	}
}

void stride_avgpool_backward(const StrideGeom *g, const float *dy, float *dx)
{
	const size_t rows = (size_t)g->n * g->c_in;
	const float inv = 1.0f / (float)g->kernel;
	memset(dx, 0, rows * g->t_in * sizeof(float));
	for (size_t r = 0; r < rows; r++) {
		const float *dr = dy + r * g->t_out;
		float *dxr = dx + r * g->t_in;
		for (int t = 0; t < g->t_out; t++) {
			const int start = t * g->stride - g->padding;
			const float share = dr[t] * inv;
			for (int k = 0; k < g->kernel; k++) {
				const int i = start + k;
				if (i >= 0 && i < g->t_in)
					dxr[i] += share;
			}
		}
	}
}

void stride_global_avg_forward(int n, int c, int t, const float *x, float *y)
{
	const size_t rows = (size_t)n * c;
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * t;
		double sum = 0.0;
		for (int i = 0; i < t; i++)
			sum += xr[i];
		y[r] = (float)(sum / t);
	}
}

void stride_global_avg_backward(int n, int c, int t, const float *dy, float *dx)
{
	const size_t rows = (size_t)n * c;
	for (size_t r = 0; r < rows; r++) {
		const float share = dy[r] / (float)t;
		float *dxr = dx + r * t;
		for (int i = 0; i < t; i++)
			dxr[i] = share;
	}
}

void stride_global_max_forward(int n, int c, int t, const float *x, float *y, int *argmax)
{
	const size_t rows = (size_t)n * c;
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * t;
		int at = 0;
		for (int i = 1; i < t; i++)
			if (!(xr[i] <= xr[at]))
				at = i;
		y[r] = xr[at];
		argmax[r] = at;
	}
}

void stride_global_max_backward(int n, int c, int t, const float *dy, const int *argmax, float *dx)
{
	const size_t rows = (size_t)n * c;
	memset(dx, 0, rows * t * sizeof(float));
	for (size_t r = 0; r < rows; r++)
		dx[r * t + argmax[r]] = dy[r];
}
