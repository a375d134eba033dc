/* Ardour's inline display extension (http://harrisonconsoles.com/lv2/inlinedisplay),
 * as its publisher specifies it: lv2-dev has no header for it, so the few
 * definitions are written here from the published URIs and struct layout.
 *
 *   - the host's feature (lv2:optionalFeature idpy:queue_draw) is a
 *     StrideInlineDisplay: the plugin calls queue_draw(handle), from run() if it
 *     likes, to ask for a redraw; the host later calls render on its GUI thread;
 *   - the plugin's extension data (idpy:interface) is a
 *     StrideInlineDisplayInterface: render(instance, width, max_height) returns
 *     an image of that width and at most that height, ARGB32 (cairo's
 *     CAIRO_FORMAT_ARGB32: premultiplied, native-endian 32-bit pixels), owned by
 *     the plugin and valid until the next render or cleanup; NULL draws nothing. */
#ifndef STRIDE_INLINE_DISPLAY_H
#define STRIDE_INLINE_DISPLAY_H

#include <stdint.h>

#include <lv2/core/lv2.h>

#define STRIDE_IDISP_URI "http://harrisonconsoles.com/lv2/inlinedisplay"
#define STRIDE_IDISP__interface STRIDE_IDISP_URI "#interface"
#define STRIDE_IDISP__queue_draw STRIDE_IDISP_URI "#queue_draw"

/* The image render returns (the layout hosts read). */
typedef struct {
	unsigned char *data;
	int width, height;
	int stride; /* bytes per row */
} StrideInlineDisplaySurface;

/* The plugin's extension data. */
typedef struct {
	StrideInlineDisplaySurface *(*render)(LV2_Handle instance, uint32_t width,
	                                      uint32_t max_height);
} StrideInlineDisplayInterface;

/* The host's feature data. */
typedef struct {
	void *handle;
	void (*queue_draw)(void *handle);
} StrideInlineDisplay;

#endif /* STRIDE_INLINE_DISPLAY_H */
