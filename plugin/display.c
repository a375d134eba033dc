/* The plugins' inline display: the ring run() fills and the pictures the
 * host's GUI thread renders from it (see display.h). */
#include "display.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <lv2/core/lv2_util.h>

int stride_display_init(StrideDisplay *d, const LV2_Feature *const *features, double rate,
                        int n_values)
{
	memset(d, 0, sizeof *d);
	atomic_init(&d->written, 0u);
	d->host = (StrideInlineDisplay *)lv2_features_data(features, STRIDE_IDISP__queue_draw);
	d->n_values = n_values;
	d->period = (uint32_t)(rate / STRIDE_DISPLAY_HZ);
	if (d->period < 1)
		d->period = 1;
	if (!d->host)
		return 0;
	const size_t n = (size_t)STRIDE_DISPLAY_FRAMES * (size_t)n_values;
	d->ring = malloc(n * sizeof *d->ring);
	d->scratch = malloc(n * sizeof *d->scratch);
	if (!d->ring || !d->scratch)
		return -1;
	for (size_t i = 0; i < n; i++)
		atomic_init(&d->ring[i], 0.0f);
	return 0;
}

void stride_display_cleanup(StrideDisplay *d)
{
	if (d->surface)
		cairo_surface_destroy((cairo_surface_t *)d->surface);
	d->surface = NULL;
	free(d->ring);
	free(d->scratch);
	d->ring = NULL;
	d->scratch = NULL;
}

/* ------------------------------------------------------------------------ */
/* Audio thread                                                              */
/* ------------------------------------------------------------------------ */

void stride_display_run(StrideDisplay *d, const float *values, uint32_t n_samples)
{
	if (!d->host)
		return;
	d->since += n_samples;
	if (d->since < d->period)
		return;
	d->since %= d->period; /* one frame per call at most: the rate stays bounded */
	const unsigned n = atomic_load_explicit(&d->written, memory_order_relaxed);
	_Atomic float *frame = d->ring + (size_t)(n % STRIDE_DISPLAY_FRAMES) * (size_t)d->n_values;
	for (int i = 0; i < d->n_values; i++)
		atomic_store_explicit(&frame[i], values[i], memory_order_relaxed);
	atomic_store_explicit(&d->written, n + 1u, memory_order_release);
	d->host->queue_draw(d->host->handle);
}

/* ------------------------------------------------------------------------ */
/* GUI thread                                                                */
/* ------------------------------------------------------------------------ */

int stride_display_history(StrideDisplay *d, float *out, int n)
{
	if (!d->ring)
		return 0;
	const unsigned written = atomic_load_explicit(&d->written, memory_order_acquire);
	unsigned k = (unsigned)n;
	if (k > written)
		k = written;
	if (k > STRIDE_DISPLAY_FRAMES)
		k = STRIDE_DISPLAY_FRAMES;
	for (unsigned i = 0; i < k; i++) {
		const unsigned f = written - k + i;
		const _Atomic float *frame =
		    d->ring + (size_t)(f % STRIDE_DISPLAY_FRAMES) * (size_t)d->n_values;
		for (int v = 0; v < d->n_values; v++)
			out[(size_t)i * (size_t)d->n_values + (size_t)v] =
			    atomic_load_explicit(&frame[v], memory_order_relaxed);
	}
	return (int)k;
}

static void colour(cairo_t *cr, uint32_t argb);
static void rect(cairo_t *cr, int x, int y, int w, int h);

/* A cairo context on a surface of width x height (kept while the size stays),
 * cleared to the background; NULL when cairo cannot make one. */
static cairo_t *begin(StrideDisplay *d, uint32_t width, uint32_t height)
{
	cairo_surface_t *s = (cairo_surface_t *)d->surface;
	if (!s || d->image.width != (int)width || d->image.height != (int)height) {
		if (s)
			cairo_surface_destroy(s);
		s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)width, (int)height);
		d->surface = s;
		if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
			cairo_surface_destroy(s);
			d->surface = NULL;
			return NULL;
		}
		d->image.width = (int)width;
		d->image.height = (int)height;
	}
	cairo_t *cr = cairo_create(s);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE); /* whole pixels: the tests read them */
	cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
	colour(cr, STRIDE_DISPLAY_BACKGROUND);
	rect(cr, 0, 0, (int)width, (int)height);
	return cr;
}

static StrideInlineDisplaySurface *finish(StrideDisplay *d, cairo_t *cr)
{
	cairo_destroy(cr);
	cairo_surface_t *s = (cairo_surface_t *)d->surface;
	cairo_surface_flush(s);
	d->image.data = cairo_image_surface_get_data(s);
	d->image.stride = cairo_image_surface_get_stride(s);
	return &d->image;
}

static void colour(cairo_t *cr, uint32_t argb)
{
	cairo_set_source_rgba(cr, ((argb >> 16) & 0xffu) / 255.0, ((argb >> 8) & 0xffu) / 255.0,
	                      (argb & 0xffu) / 255.0, ((argb >> 24) & 0xffu) / 255.0);
}

static void rect(cairo_t *cr, int x, int y, int w, int h)
{
	cairo_rectangle(cr, x, y, w, h);
	cairo_fill(cr);
}

/* Rows from the bottom that value v (0 .. 1) fills in a picture h rows high. */
static int rows_for(float v, int h)
{
	if (!(v > 0.0f))
		return 0;
	if (v >= 1.0f)
		return h;
	return (int)lrintf(v * (float)h);
}

static uint32_t height_for(uint32_t width, uint32_t max_height)
{
	uint32_t h = width / 3 < 24 ? 24 : width / 3;
	return h < max_height ? h : max_height;
}

StrideInlineDisplaySurface *stride_display_render_gate(StrideDisplay *d, uint32_t width,
                                                       uint32_t max_height, float threshold)
{
	const uint32_t height = height_for(width, max_height);
	if (!d->host || width == 0 || height == 0 || d->n_values < 2)
		return NULL;
	cairo_t *cr = begin(d, width, height);
	if (!cr)
		return NULL;
	const int w = (int)width, h = (int)height;

	const float *frames = d->scratch; /* [n][2] */
	const int n = stride_display_history(d, d->scratch,
	                                     w < STRIDE_DISPLAY_FRAMES ? w : STRIDE_DISPLAY_FRAMES);
	for (int i = 0; i < n; i++) {
		const int x = w - n + i; /* the newest at the right */
		const int rows = rows_for(frames[2 * i], h);
		colour(cr, STRIDE_DISPLAY_PROBABILITY);
		rect(cr, x, h - rows, 1, rows);
		/* the gain: 0 dB on the top row, -90 dB on the bottom one */
		float g = -frames[2 * i + 1] / 90.0f;
		g = g > 0.0f ? (g < 1.0f ? g : 1.0f) : 0.0f;
		colour(cr, STRIDE_DISPLAY_GAIN);
		rect(cr, x, (int)lrintf(g * (float)(h - 1)), 1, 1);
	}
	int ty = h - rows_for(threshold, h);
	ty = ty < 0 ? 0 : ty > h - 1 ? h - 1 : ty;
	colour(cr, STRIDE_DISPLAY_THRESHOLD);
	rect(cr, 0, ty, w, 1);
	return finish(d, cr);
}

StrideInlineDisplaySurface *stride_display_render_classes(StrideDisplay *d, uint32_t width,
                                                          uint32_t max_height, int n_classes)
{
	const uint32_t height = height_for(width, max_height);
	if (!d->host || width == 0 || height == 0 || n_classes < 1 || n_classes > d->n_values)
		return NULL;
	cairo_t *cr = begin(d, width, height);
	if (!cr)
		return NULL;
	const int w = (int)width, h = (int)height;
	const float *latest = d->scratch;
	if (stride_display_history(d, d->scratch, 1) == 1) {
		colour(cr, STRIDE_DISPLAY_BAR);
		for (int c = 0; c < n_classes; c++) {
			const int x0 = c * w / n_classes, x1 = (c + 1) * w / n_classes;
			const int rows = rows_for(latest[c], h);
			if (x1 - x0 > 2)
				rect(cr, x0 + 1, h - rows, x1 - x0 - 2, rows); /* a pixel apart */
		}
	}
	return finish(d, cr);
}
