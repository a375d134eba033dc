/* Ardour's inline display (plugin/display.h) in the lilv test host, which
 * offers the extension's queue_draw feature and calls render as a host's GUI
 * thread would:
 *
 *   - the gate's picture follows a known history: every run of one display
 *     period pushes one frame, so the probability and gain outputs after each
 *     run are the frames, and every pixel of the image is what the drawing rule
 *     (display.h) says for them: the probability filled from the bottom, the
 *     gain a pixel (0 dB at the top, -90 dB at the bottom), the threshold a line
 *     across, the newest frame at the right;
 *   - genre's picture: one bar per class, as high as its probability output;
 *   - queue_draw is asked for at most STRIDE_DISPLAY_HZ times a second of audio,
 *     whatever the block size;
 *   - without the feature the plugins put out the same audio and outputs, and
 *     draw nothing.
 * (tests/test_rt_safety.c checks that run() with the display allocates, locks
 * and calls nothing.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "display.h"
#include "lv2_host.h"
#include "ports.h"
#include "test_signals.h"
#include "test_support.h"

#define RATE 48000.0
#define PERIOD ((uint32_t)(RATE / STRIDE_DISPLAY_HZ)) /* samples per frame */

static char bundle[TS_PATH_LEN];
static LV2Host *host;

static int setup(void **state)
{
	(void)state;
	host = lv2host_new_built(bundle, sizeof bundle);
	return host ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	lv2host_free(host);
	return 0;
}

static LV2Instance *fresh(const char *uri, bool display)
{
	lv2host_set_inline_display(host, display);
	LV2Instance *inst = lv2inst_new(host, uri, RATE, PERIOD, true);
	lv2host_set_inline_display(host, true);
	if (!inst)
		fail_msg("%s did not instantiate:\n%s", uri, lv2host_log(host));
	return inst;
}

/* Content and silence in turns of 0.6 s (the gate opens and closes). */
static void fill(LV2Instance *inst, uint64_t t, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const uint64_t f = t + i;
		const float x = (f / 28800u) % 2u == 0 ? ts_content_sample(RATE, f) : 0.0f;
		for (int c = 0; c < inst->n_in; c++)
			inst->in[c][i] = x;
	}
}

static uint32_t pixel(const StrideInlineDisplaySurface *s, int x, int y)
{
	uint32_t v;
	memcpy(&v, s->data + (size_t)y * (size_t)s->stride + 4u * (size_t)x, sizeof v);
	return v;
}

/* Rows from the bottom a value fills (display.h's rule). */
static int rows_for(float v, int h)
{
	return !(v > 0.0f) ? 0 : v >= 1.0f ? h : (int)lrintf(v * (float)h);
}

#define FRAMES 150
#define WIDTH 120

/* Every pixel of column x is what display.h's rule draws for frame k. */
static void check_column(const StrideInlineDisplaySurface *s, int x, int k, const float *prob,
                         const float *gain, float threshold)
{
	const int h = s->height;
	int ty = h - rows_for(threshold, h);
	ty = ty > h - 1 ? h - 1 : ty;
	float g = -gain[k] / 90.0f;
	g = g > 0.0f ? (g < 1.0f ? g : 1.0f) : 0.0f;
	const int gy = (int)lrintf(g * (float)(h - 1));
	const int top = h - rows_for(prob[k], h);
	for (int y = 0; y < h; y++) {
		const uint32_t want = y == ty    ? STRIDE_DISPLAY_THRESHOLD
		                      : y == gy  ? STRIDE_DISPLAY_GAIN
		                      : y >= top ? STRIDE_DISPLAY_PROBABILITY
		                                 : STRIDE_DISPLAY_BACKGROUND;
		if (pixel(s, x, y) != want)
			fail_msg("%dx%d, column %d (frame %d: probability %.3f, gain %.1f dB), row %d: "
			         "0x%08x, want 0x%08x",
			         s->width, h, x, k, (double)prob[k], (double)gain[k], y, pixel(s, x, y),
			         want);
	}
}

static void test_gate_picture_follows_history(void **state)
{
	(void)state;
	LV2Instance *inst = fresh(STRIDE_URI_GATE, true);
	/* The content here is a lone 440 Hz sine, which a learned gate hears partly as a tone to
	 * close on: the threshold sits where the history still crosses it both ways. */
	const float threshold = 0.45f;
	lv2inst_set(inst, "threshold", threshold);
	lv2inst_set(inst, "range", -60.0f);
	float prob[FRAMES], gain[FRAMES];
	int opened = 0, closed = 0;
	for (int k = 0; k < FRAMES; k++) {
		fill(inst, (uint64_t)k * PERIOD, PERIOD);
		lv2inst_run(inst, PERIOD);
		prob[k] = lv2inst_get(inst, "probability");
		gain[k] = lv2inst_get(inst, "gain");
		opened += prob[k] > threshold + 0.1f;
		closed += prob[k] < threshold - 0.3f;
	}
	/* the history moves: the picture can show something wrong */
	if (opened < 10 || closed < 10)
		fail_msg("the probability was above the threshold in %d frames, well below in %d", opened,
		         closed);
	assert_int_equal(inst->queue_draws, FRAMES);

	const StrideInlineDisplaySurface *s = lv2inst_render(inst, WIDTH, 60);
	assert_non_null(s);
	assert_int_equal(s->width, WIDTH);
	assert_int_equal(s->height, WIDTH / 3); /* width / 3, under the 60 allowed */
	for (int x = 0; x < WIDTH; x++)
		check_column(s, x, FRAMES - WIDTH + x, prob, gain, threshold); /* newest right */
	/* a narrower, clipped picture: the newest frames, the rule at this height */
	s = lv2inst_render(inst, 30, 12);
	assert_non_null(s);
	assert_int_equal(s->width, 30);
	assert_int_equal(s->height, 12);
	for (int x = 0; x < 30; x++)
		check_column(s, x, FRAMES - 30 + x, prob, gain, threshold);
	lv2inst_free(inst);
}

static void test_genre_picture_shows_classes(void **state)
{
	(void)state;
	LV2Instance *inst = fresh(STRIDE_URI_GENRE, true);
	for (int k = 0; k < 150; k++) { /* 5 s: a few of the model's decisions */
		fill(inst, (uint64_t)k * PERIOD, PERIOD);
		lv2inst_run(inst, PERIOD);
	}
	int n = 0;
	float p[STRIDE_GENRE_MAX_PROBS];
	for (const LilvPlugin *pl = inst->plugin; n < STRIDE_GENRE_MAX_PROBS; n++) {
		const LilvPort *port = lilv_plugin_get_port_by_index(pl, GENRE_PROBS + (uint32_t)n);
		if (!port)
			break;
		p[n] = inst->controls[GENRE_PROBS + n];
	}
	assert_true(n >= 2);
	int tall = 0;
	const StrideInlineDisplaySurface *s = lv2inst_render(inst, 180, 100);
	assert_non_null(s);
	const int h = s->height, w = s->width;
	for (int c = 0; c < n; c++) {
		const int x = (c * w / n + (c + 1) * w / n) / 2; /* the bar's middle */
		int rows = 0;
		for (int y = 0; y < h; y++)
			rows += pixel(s, x, y) == STRIDE_DISPLAY_BAR;
		if (rows != rows_for(p[c], h))
			fail_msg("class %d: probability %.3f, bar of %d rows, want %d", c, (double)p[c],
			         rows, rows_for(p[c], h));
		tall += rows > 0;
		/* the gap between bars stays background */
		assert_int_equal(pixel(s, c * w / n, h - 1), STRIDE_DISPLAY_BACKGROUND);
	}
	assert_true(tall >= 1);
	lv2inst_free(inst);
}

/* At most STRIDE_DISPLAY_HZ redraws a second, for any block size. */
static void test_queue_draw_rate(void **state)
{
	(void)state;
	static const uint32_t blocks[] = {1, 64, 1000, PERIOD, 4096};
	for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
		LV2Instance *inst = lv2inst_new(host, STRIDE_URI_GATE, RATE, 4096, true);
		assert_non_null(inst);
		const uint32_t total = (uint32_t)RATE; /* one second */
		for (uint32_t t = 0; t < total; t += blocks[b]) {
			const uint32_t n = total - t < blocks[b] ? total - t : blocks[b];
			fill(inst, t, n);
			lv2inst_run(inst, n);
		}
		/* one frame per call at most: big blocks draw as often as they come */
		const int calls = (int)((total + blocks[b] - 1) / blocks[b]);
		const int least = (calls < STRIDE_DISPLAY_HZ ? calls : STRIDE_DISPLAY_HZ) - 1;
		if (inst->queue_draws > STRIDE_DISPLAY_HZ || inst->queue_draws < least)
			fail_msg("blocks of %u: %d redraws in a second", blocks[b], inst->queue_draws);
		lv2inst_free(inst);
	}
}

/* Without the host's feature: the same outputs, no picture, no redraw. */
static void test_without_the_extension(void **state)
{
	(void)state;
	static const char *const uris[] = {STRIDE_URI_GATE, STRIDE_URI_GATE_STEREO, STRIDE_URI_GENRE};
	for (int u = 0; u < 3; u++) {
		LV2Instance *a = fresh(uris[u], true), *b = fresh(uris[u], false);
		for (int k = 0; k < 60; k++) {
			fill(a, (uint64_t)k * PERIOD, PERIOD);
			fill(b, (uint64_t)k * PERIOD, PERIOD);
			lv2inst_run(a, PERIOD);
			lv2inst_run(b, PERIOD);
			for (int c = 0; c < a->n_out; c++)
				assert_memory_equal(a->out[c], b->out[c], PERIOD * sizeof(float));
			assert_memory_equal(a->controls, b->controls, a->n_ports * sizeof(float));
		}
		assert_int_equal(b->queue_draws, 0);
		assert_true(a->queue_draws > 0);
		assert_null(lv2inst_render(b, 100, 40));
		lv2inst_free(a);
		lv2inst_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_picture_follows_history),
		cmocka_unit_test(test_genre_picture_shows_classes),
		cmocka_unit_test(test_queue_draw_rate),
		cmocka_unit_test(test_without_the_extension),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
